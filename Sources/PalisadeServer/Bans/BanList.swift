import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The bans this instance enforces: checked at every handshake (addresses and networks: HTTP
/// 403) and every CONNECT (users: CONNECT_ERROR). Thread-safe; a check is a dictionary lookup,
/// plus one comparison per banned network. Expired bans are ignored at once and dropped at the
/// next `replace`.
public final class BanList: Sendable {
    private struct Entries {
        var addresses: [String: Ban] = [:]
        var networks: [(network: IPNetwork, ban: Ban)] = []
        var users: [String: Ban] = [:]
    }

    private let entries = NIOLockedValueBox(Entries())

    public init() {}

    /// Replaces every ban with `bans` (the shared store's list); answers those not enforced before.
    @discardableResult
    public func replace(with bans: [Ban], now: Double = UnixTime.now()) -> [Ban] {
        let before = Set(all(now: now).map(\.field))
        var fresh = Entries()
        for ban in bans where ban.until > now { Self.insert(ban, into: &fresh) }
        entries.withLockedValue { $0 = fresh }
        return bans.filter { $0.until > now && !before.contains($0.field) }
    }

    public func add(_ ban: Ban) {
        entries.withLockedValue { Self.insert(ban, into: &$0) }
    }

    /// True when a ban of `kind` on `value` was there.
    @discardableResult
    public func remove(kind: Ban.Kind, value: String) -> Bool {
        entries.withLockedValue { entries in
            switch kind {
            case .ip: return entries.addresses.removeValue(forKey: value) != nil
            case .user: return entries.users.removeValue(forKey: value) != nil
            case .cidr:
                let count = entries.networks.count
                entries.networks.removeAll { $0.ban.value == value }
                return entries.networks.count < count
            }
        }
    }

    /// The ban that refuses `ip` now, if any.
    public func ban(forIP ip: String, now: Double = UnixTime.now()) -> Ban? {
        entries.withLockedValue { entries in
            if let ban = entries.addresses[ip], ban.until > now { return ban }
            return entries.networks.first { $0.ban.until > now && $0.network.contains(ip) }?.ban
        }
    }

    /// The ban that refuses `userID` now, if any.
    public func ban(forUser userID: String, now: Double = UnixTime.now()) -> Ban? {
        entries.withLockedValue { entries in
            guard let ban = entries.users[userID], ban.until > now else { return nil }
            return ban
        }
    }

    public func all(now: Double = UnixTime.now()) -> [Ban] {
        entries.withLockedValue { entries in
            (Array(entries.addresses.values) + entries.networks.map(\.ban) + Array(entries.users.values)).filter { $0.until > now }
        }
    }

    private static func insert(_ ban: Ban, into entries: inout Entries) {
        switch ban.kind {
        case .ip: entries.addresses[ban.value] = ban
        case .user: entries.users[ban.value] = ban
        case .cidr:
            guard let network = IPNetwork(ban.value) else { return }
            entries.networks.removeAll { $0.ban.value == ban.value }
            entries.networks.append((network, ban))
        }
    }
}

extension SocketServer {
    /// Closes the live sessions that `bans` refuse (by address, network or user); how many.
    public func disconnectBanned(_ bans: [Ban], on loop: (any EventLoop)? = nil) -> EventLoopFuture<Int> {
        let list = BanList()
        for ban in bans { list.add(ban) }
        let loop = loop ?? MultiThreadedEventLoopGroup.singleton.next()
        guard !bans.isEmpty else { return loop.makeSucceededFuture(0) }
        return disconnect(
            where: { info in
                list.ban(forIP: info.ip) != nil || info.userID.map { list.ban(forUser: $0) != nil } == true
            }, on: loop)
    }
}

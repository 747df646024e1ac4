import NIOConcurrencyHelpers
import NIOCore

/// The responses of `px.http` calls that asked to be cached, each for the seconds its caller
/// chose, shared by every loop. Bounded in entries and bytes: when either is full, the expired
/// entries go, then those that expire first, down to seven eighths of the bounds, so a full
/// cache sorts once per eighth of its size and not at every new entry. The key is the caller's
/// (method, URL and the headers that decide the answer, such as `Authorization`), kept in
/// memory only.
public final class HTTPResponseCache: Sendable {
    private struct Entry {
        var response: HTTPClientResponse
        var expires: NIODeadline
        var url: String
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0

        mutating func remove(_ key: String) {
            guard let entry = entries.removeValue(forKey: key) else { return }
            bytes -= entry.response.size + key.utf8.count
        }
    }

    private let state = NIOLockedValueBox(State())
    public let maxEntries: Int
    public let maxBytes: Int

    public init(maxEntries: Int = 10_000, maxBytes: Int = 16 << 20) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    public func get(_ key: String, now: NIODeadline = .now()) -> HTTPClientResponse? {
        state.withLockedValue { state in
            guard let entry = state.entries[key] else { return nil }
            guard entry.expires > now else {
                state.remove(key)
                return nil
            }
            return entry.response
        }
    }

    public func put(_ key: String, url: String, _ response: HTTPClientResponse, for lifetime: TimeAmount, now: NIODeadline = .now()) {
        let size = response.size + key.utf8.count
        guard size <= maxBytes / 4 else { return }
        state.withLockedValue { state in
            state.remove(key)
            if state.entries.count >= maxEntries || state.bytes + size > maxBytes { Self.evict(&state, toFit: size, now: now, self) }
            state.entries[key] = Entry(response: response, expires: now + lifetime, url: url)
            state.bytes += size
        }
    }

    /// Forgets every entry whose URL starts with `prefix`; answers how many went.
    @discardableResult
    public func forget(urlPrefix prefix: String) -> Int {
        state.withLockedValue { state in
            let gone = state.entries.filter { $0.value.url.hasPrefix(prefix) }.keys
            for key in gone { state.remove(key) }
            return gone.count
        }
    }

    public var count: Int { state.withLockedValue { $0.entries.count } }

    /// Drops expired entries, then the soonest to expire, until `size` more bytes and one more
    /// entry fit within seven eighths of the bounds.
    private static func evict(_ state: inout State, toFit size: Int, now: NIODeadline, _ cache: HTTPResponseCache) {
        for (key, entry) in state.entries where entry.expires <= now { state.remove(key) }
        let (entryTarget, byteTarget) = (max(1, cache.maxEntries - cache.maxEntries / 8), cache.maxBytes - cache.maxBytes / 8)
        func fits() -> Bool { state.entries.count < entryTarget && state.bytes + size <= byteTarget }
        guard !fits() else { return }
        for (key, _) in state.entries.sorted(by: { $0.value.expires < $1.value.expires }) {
            state.remove(key)
            if fits() { return }
        }
    }
}

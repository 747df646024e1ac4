import Logging
import NIOCore
import PalisadeJSON
import PalisadeServer

/// Keeps this instance's `BanList` equal to the shared store's list (`Ban.storeKey`): bans made
/// by the admin API on any instance and by the stock policies (`px.store.hset`) are enforced here
/// within `interval`, and the live sessions they refuse are closed. A store that cannot be read
/// leaves the list as it was (bans keep working through a Redis outage).
struct BanSync {
    static let interval = TimeAmount.seconds(1)
    let backend: any AdminBackend
    let server: SocketServer
    let logger: Logger

    func start(on loop: any EventLoop) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                await syncOnce(on: loop)
                try? await Task.sleep(nanoseconds: UInt64(Self.interval.nanoseconds))
            }
        }
    }

    func syncOnce(on loop: any EventLoop) async {
        let bans: [Ban]
        do {
            bans = try await backend.loadBans()
        } catch {
            logger.warning("bans could not be read; the current list stays", metadata: ["error": "\(error)"])
            return
        }
        // Ended bans leave the shared list (any instance may do it: deleting twice is harmless).
        let now = UnixTime.now()
        for ended in bans where ended.until <= now { _ = try? await backend.deleteBan(field: ended.field) }
        let added = server.bans.replace(with: bans, now: now)
        guard !added.isEmpty else { return }
        for ban in added {
            server.audit?.record("ban.enforced", [JSONMember("ban", .string(ban.field)), JSONMember("reason", .string(ban.reason))])
        }
        let closed = (try? await server.disconnectBanned(added, on: loop).get()) ?? 0
        logger.notice("bans enforced", metadata: ["bans": "\(added.count)", "disconnected": "\(closed)"])
    }
}

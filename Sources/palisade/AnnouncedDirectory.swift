import NIOConcurrencyHelpers
import NIOCore
import PalisadeJSON
import PalisadePolicy
import PalisadeRedisState

/// The directory of a cluster: records in Redis (`RedisDirectoryStore`), shared by every
/// instance, and each write announced on the control channel once it landed, so the other
/// instances drop their cached copy at once (`ClusterControl`, `CachedPolicyDirectory.invalidate`)
/// instead of serving it for up to the cache's lifetime.
final class AnnouncedDirectory: PolicyDirectory {
    let store: RedisDirectoryStore
    /// Set once the control channel exists (it is made after the policy host).
    private let control = NIOLockedValueBox<ClusterControl?>(nil)

    init(_ store: RedisDirectoryStore) {
        self.store = store
    }

    func announce(through control: ClusterControl) {
        self.control.withLockedValue { $0 = control }
    }

    func get(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<JSONValue?> {
        store.get(kind: kind, id: id, on: loop)
    }

    func getMany(kind: String, ids: [String], on loop: any EventLoop) -> EventLoopFuture<[String: JSONValue]> {
        store.getMany(kind: kind, ids: ids, on: loop)
    }

    func put(kind: String, id: String, record: JSONValue, on loop: any EventLoop) -> EventLoopFuture<Void> {
        store.put(kind: kind, id: id, record: record, on: loop).map { self.announce(kind, id) }
    }

    func delete(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        store.delete(kind: kind, id: id, on: loop).map { existed in
            if existed { self.announce(kind, id) }
            return existed
        }
    }

    private func announce(_ kind: String, _ id: String) {
        control.withLockedValue { $0 }?.announceDirectoryWrite(kind: kind, id: id)
    }
}

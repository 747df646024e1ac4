import NIOCore
import PalisadeJSON

/// The directory as the policy engine and the admin API see it: JSON records by
/// (kind, id). The product plugs the SQLite store in; tests may use a memory one.
public protocol PolicyDirectory: Sendable {
    func get(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<JSONValue?>
    /// The records of `ids` that exist, by id, in one trip to the backend.
    func getMany(kind: String, ids: [String], on loop: any EventLoop) -> EventLoopFuture<[String: JSONValue]>
    func put(kind: String, id: String, record: JSONValue, on loop: any EventLoop) -> EventLoopFuture<Void>
    func delete(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<Bool>
    /// A number that changes whenever a record is written through this directory, so a policy
    /// may keep what it derived from records until then (`px.directory.version()`).
    var version: UInt64 { get }
}

extension PolicyDirectory {
    /// Directories that do not count their writes: always 0.
    public var version: UInt64 { 0 }
}

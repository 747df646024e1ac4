import NIOCore
import PalisadeProtocol

/// The directory as the policy engine and the admin API see it: JSON records by
/// (kind, id). The product plugs the SQLite store in; tests may use a memory one.
public protocol PolicyDirectory: Sendable {
    func get(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<JSONValue?>
    func put(kind: String, id: String, record: JSONValue, on loop: any EventLoop) -> EventLoopFuture<Void>
    func delete(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<Bool>
}

import NIOCore
import PalisadeJSON

/// The facts access rules need and the gateway does not own (users' roles and groups, notes'
/// owners and `access_control`, channel members): JSON objects keyed by `(kind, id)`.
///
/// Semantics every backend keeps, so one can replace another without a policy noticing:
/// - `kind` and `id` follow `DirectoryKey`; anything else fails with `invalidKind` or
///   `invalidID` before the backend is touched. Ids are compared byte for byte.
/// - A record is stored exactly as given and read back equal: key order, duplicate keys and
///   number text (`1.50` stays `1.50`) are kept. `DirectoryRecord` says what is refused.
/// - `put` replaces the whole record; there is no merge.
/// - Every operation completes on `loop`, so a Lua hook can yield on it whatever the backend,
///   and none blocks the loop.
/// - After `close()`, every operation fails with `closed`.
///
/// Errors are always `DirectoryError`.
public protocol DirectoryStore: Sendable {
    /// The record, or nil when there is none.
    func get(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<JSONValue?>

    /// The records of `ids` that exist, by id, read in one go (one trip to the backend for all).
    /// Fails with `invalidID` if any id is invalid or there are more than `maxIDsPerRead`.
    func getMany(kind: String, ids: [String], on loop: any EventLoop) -> EventLoopFuture<[String: JSONValue]>

    /// Stores `record` (a JSON object), replacing any record under the same key.
    func put(kind: String, id: String, record: JSONValue, on loop: any EventLoop) -> EventLoopFuture<Void>

    /// Removes the record; true when there was one.
    func delete(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<Bool>

    /// The ids of every record of `kind`, in ascending byte order.
    func list(kind: String, on loop: any EventLoop) -> EventLoopFuture<[String]>

    /// Finishes the work already asked for, then releases the backend. Later calls return at once.
    func close() async
}

extension DirectoryKey {
    /// The most ids one `getMany` reads.
    public static let maxIDsPerRead = 10_000

    /// Checks a `getMany`'s kind and ids.
    public static func validate(kind: String, ids: [String]) throws(DirectoryError) {
        guard ids.count <= maxIDsPerRead else { throw DirectoryError(.invalidID, "at most \(maxIDsPerRead) ids in one read") }
        try validate(kind: kind)
        for id in ids { try validate(id: id) }
    }
}

import NIOConcurrencyHelpers
import NIOCore
import PalisadeJSON

/// The `DirectoryStore` in process memory: for tests and for a gateway run without a data
/// directory, where the directory lives as long as the process.
///
/// One lock guards every record; it is held for one dictionary operation and never while
/// calling out, and futures are made after it is released, already complete. Directory reads
/// are per handshake or per join, not per message, so one lock does not contend.
public final class MemoryDirectoryStore: DirectoryStore {
    private struct State {
        var isOpen = true
        /// kind → id bytes → record. Ids are keyed by bytes, as SQLite compares them: Swift's
        /// `String` equality would merge `"caf\u{E9}"` and `"cafe\u{301}"`.
        var kinds: [String: [[UInt8]: JSONValue]] = [:]
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    public func get(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<JSONValue?> {
        loop.makeCompletedFuture(withResultOf: { () throws -> JSONValue? in
            try DirectoryKey.validate(kind: kind, id: id)
            return try state.withLockedValue { state in
                try Self.checkOpen(state)
                return state.kinds[kind]?[Array(id.utf8)]
            }
        })
    }

    public func getMany(kind: String, ids: [String], on loop: any EventLoop) -> EventLoopFuture<[String: JSONValue]> {
        loop.makeCompletedFuture(withResultOf: { () throws -> [String: JSONValue] in
            try DirectoryKey.validate(kind: kind, ids: ids)
            return try state.withLockedValue { state in
                try Self.checkOpen(state)
                var records: [String: JSONValue] = [:]
                for id in ids { if let record = state.kinds[kind]?[Array(id.utf8)] { records[id] = record } }
                return records
            }
        })
    }

    public func put(kind: String, id: String, record: JSONValue, on loop: any EventLoop) -> EventLoopFuture<Void> {
        loop.makeCompletedFuture(withResultOf: { () throws in
            try DirectoryKey.validate(kind: kind, id: id)
            _ = try DirectoryRecord.encode(record)
            try state.withLockedValue { state in
                try Self.checkOpen(state)
                state.kinds[kind, default: [:]][Array(id.utf8)] = record
            }
        })
    }

    public func delete(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        loop.makeCompletedFuture(withResultOf: { () throws -> Bool in
            try DirectoryKey.validate(kind: kind, id: id)
            return try state.withLockedValue { state in
                try Self.checkOpen(state)
                guard state.kinds[kind]?.removeValue(forKey: Array(id.utf8)) != nil else { return false }
                if state.kinds[kind]?.isEmpty == true { state.kinds[kind] = nil }
                return true
            }
        })
    }

    public func list(kind: String, on loop: any EventLoop) -> EventLoopFuture<[String]> {
        loop.makeCompletedFuture(withResultOf: { () throws -> [String] in
            try DirectoryKey.validate(kind: kind)
            let ids = try state.withLockedValue { state in
                try Self.checkOpen(state)
                return Array((state.kinds[kind] ?? [:]).keys)
            }
            return ids.sorted { $0.lexicographicallyPrecedes($1) }.map { String(decoding: $0, as: UTF8.self) }
        })
    }

    /// Drops every record; later operations fail with `closed`.
    public func close() async {
        state.withLockedValue { state in
            state.isOpen = false
            state.kinds = [:]
        }
    }

    private static func checkOpen(_ state: State) throws(DirectoryError) {
        guard state.isOpen else { throw DirectoryError(.closed, "the directory store is closed") }
    }
}

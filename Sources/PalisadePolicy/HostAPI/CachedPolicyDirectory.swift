import NIOConcurrencyHelpers
import NIOCore
import PalisadeJSON

/// A read-through cache in front of a directory. The stock policies read the same user
/// and group records on every connect and join, and each read of the SQLite store is a hop
/// to its thread and back (on a one-core server, that thread takes the loop's CPU).
///
/// A record is kept at most `lifetime` (2 s), and at most `capacity` records (the cache
/// starts over when full). Writes through this object drop their entry at once, so the
/// admin API and `px.directory.put` are seen by the next read; a write by another process
/// to the same store is seen within `lifetime`, or at once when that process announces it
/// (`invalidate`, which the product calls for writes on other instances). Failed reads are not kept.
public final class CachedPolicyDirectory: PolicyDirectory {
    private struct Key: Hashable {
        let kind: String
        let id: String
    }

    private struct Entry {
        let record: JSONValue?
        let expires: NIODeadline
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Bumped by every write: a read that overlapped one does not keep what it read.
        var writes: UInt64 = 0
    }

    private let base: any PolicyDirectory
    private let lifetime: TimeAmount
    private let capacity: Int
    private let state = NIOLockedValueBox(State())

    public init(_ base: any PolicyDirectory, lifetime: TimeAmount = .seconds(2), capacity: Int = 10_000) {
        self.base = base
        self.lifetime = lifetime
        self.capacity = capacity
    }

    public func get(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<JSONValue?> {
        let key = Key(kind: kind, id: id)
        let now = NIODeadline.now()
        let (cached, writes) = state.withLockedValue { state -> (Entry?, UInt64) in
            guard let entry = state.entries[key], entry.expires > now else { return (nil, state.writes) }
            return (entry, state.writes)
        }
        if let cached { return loop.makeSucceededFuture(cached.record) }
        return base.get(kind: kind, id: id, on: loop).map { record in
            self.state.withLockedValue { state in
                guard state.writes == writes else { return }
                if state.entries.count >= self.capacity { state.entries.removeAll(keepingCapacity: true) }
                state.entries[key] = Entry(record: record, expires: now + self.lifetime)
            }
            return record
        }
    }

    /// Answers what the cache holds and reads the rest in one `getMany`, keeping what it read
    /// (absent records too): the next `get` of any of them answers at once.
    public func getMany(kind: String, ids: [String], on loop: any EventLoop) -> EventLoopFuture<[String: JSONValue]> {
        let now = NIODeadline.now()
        let (cached, missing, writes) = state.withLockedValue { state -> ([String: JSONValue], [String], UInt64) in
            var records: [String: JSONValue] = [:]
            var missing: [String] = []
            for id in ids {
                guard let entry = state.entries[Key(kind: kind, id: id)], entry.expires > now else {
                    missing.append(id)
                    continue
                }
                if let record = entry.record { records[id] = record }
            }
            return (records, missing, state.writes)
        }
        guard !missing.isEmpty else { return loop.makeSucceededFuture(cached) }
        return base.getMany(kind: kind, ids: missing, on: loop).map { found in
            self.state.withLockedValue { state in
                guard state.writes == writes else { return }
                if state.entries.count + missing.count > self.capacity { state.entries.removeAll(keepingCapacity: true) }
                for id in missing { state.entries[Key(kind: kind, id: id)] = Entry(record: found[id], expires: now + self.lifetime) }
            }
            return cached.merging(found) { kept, _ in kept }
        }
    }

    public func put(kind: String, id: String, record: JSONValue, on loop: any EventLoop) -> EventLoopFuture<Void> {
        written(Key(kind: kind, id: id))
        return base.put(kind: kind, id: id, record: record, on: loop).always { _ in self.written(Key(kind: kind, id: id)) }
    }

    public func delete(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        written(Key(kind: kind, id: id))
        return base.delete(kind: kind, id: id, on: loop).always { _ in self.written(Key(kind: kind, id: id)) }
    }

    /// Forgets the record as a write through this object would: another instance wrote it to a
    /// shared directory. Reads under way keep nothing, and `version` changes.
    public func invalidate(kind: String, id: String) {
        written(Key(kind: kind, id: id))
    }

    /// Bumped when a write starts and when it ends.
    public var version: UInt64 { state.withLockedValue { $0.writes } }

    /// Called when a write starts and when it ends: reads in between keep nothing.
    private func written(_ key: Key) {
        state.withLockedValue { state in
            state.writes &+= 1
            state.entries.removeValue(forKey: key)
        }
    }
}

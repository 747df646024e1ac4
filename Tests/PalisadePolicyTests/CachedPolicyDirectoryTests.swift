import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PalisadeJSON
import Testing

@testable import PalisadePolicy

/// A directory that counts its reads, so the tests see which reads reached it.
final class CountingDirectory: PolicyDirectory {
    let records = NIOLockedValueBox<[String: JSONValue]>([:])
    let reads = NIOLockedValueBox(0)
    /// `getMany` calls; each counts as one read too.
    let batches = NIOLockedValueBox<[[String]]>([])

    func get(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<JSONValue?> {
        reads.withLockedValue { $0 += 1 }
        return loop.makeSucceededFuture(records.withLockedValue { $0["\(kind)/\(id)"] })
    }

    func getMany(kind: String, ids: [String], on loop: any EventLoop) -> EventLoopFuture<[String: JSONValue]> {
        reads.withLockedValue { $0 += 1 }
        batches.withLockedValue { $0.append(ids) }
        let found = records.withLockedValue { records in ids.compactMap { id in records["\(kind)/\(id)"].map { (id, $0) } } }
        return loop.makeSucceededFuture(Dictionary(found, uniquingKeysWith: { first, _ in first }))
    }

    func put(kind: String, id: String, record: JSONValue, on loop: any EventLoop) -> EventLoopFuture<Void> {
        records.withLockedValue { $0["\(kind)/\(id)"] = record }
        return loop.makeSucceededVoidFuture()
    }

    func delete(kind: String, id: String, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        loop.makeSucceededFuture(records.withLockedValue { $0.removeValue(forKey: "\(kind)/\(id)") } != nil)
    }
}

@Suite struct CachedPolicyDirectoryTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    @Test func repeatedReadsAreServedFromTheCacheMissingRecordsToo() throws {
        let base = CountingDirectory()
        base.records.withLockedValue { $0["user/u1"] = .object(["role": .string("user")]) }
        let cache = CachedPolicyDirectory(base)
        for _ in 0..<3 {
            #expect(try cache.get(kind: "user", id: "u1", on: loop).wait() == .object(["role": .string("user")]))
            #expect(try cache.get(kind: "user", id: "nobody", on: loop).wait() == nil)
        }
        #expect(base.reads.withLockedValue { $0 } == 2)
    }

    @Test func writesThroughTheCacheAreSeenByTheNextRead() throws {
        let base = CountingDirectory()
        let cache = CachedPolicyDirectory(base)
        #expect(try cache.get(kind: "user", id: "u1", on: loop).wait() == nil)
        try cache.put(kind: "user", id: "u1", record: .object(["role": .string("admin")]), on: loop).wait()
        #expect(try cache.get(kind: "user", id: "u1", on: loop).wait() == .object(["role": .string("admin")]))
        #expect(try cache.delete(kind: "user", id: "u1", on: loop).wait())
        #expect(try cache.get(kind: "user", id: "u1", on: loop).wait() == nil)
    }

    @Test func recordsExpireAndTheCacheIsBounded() throws {
        let base = CountingDirectory()
        let cache = CachedPolicyDirectory(base, lifetime: .milliseconds(500), capacity: 3)
        _ = try cache.get(kind: "user", id: "u1", on: loop).wait()
        base.records.withLockedValue { $0["user/u1"] = .string("changed elsewhere") }
        #expect(try cache.get(kind: "user", id: "u1", on: loop).wait() == nil, "within the lifetime: the cached answer")
        try loop.scheduleTask(in: .milliseconds(600)) {}.futureResult.wait()
        #expect(try cache.get(kind: "user", id: "u1", on: loop).wait() == .string("changed elsewhere"))
        for id in ["a", "b", "c", "d", "e"] { _ = try cache.get(kind: "user", id: id, on: loop).wait() }
        let readsBefore = base.reads.withLockedValue { $0 }
        _ = try cache.get(kind: "user", id: "a", on: loop).wait()
        #expect(base.reads.withLockedValue { $0 } == readsBefore + 1, "a full cache started over")
    }

    @Test func aBatchReadsOnlyWhatTheCacheLacksAndFillsIt() throws {
        let base = CountingDirectory()
        base.records.withLockedValue {
            $0["channel/c1"] = .object(["id": .string("c1")])
            $0["channel/c2"] = .object(["id": .string("c2")])
        }
        let cache = CachedPolicyDirectory(base)
        _ = try cache.get(kind: "channel", id: "c1", on: loop).wait()
        let found = try cache.getMany(kind: "channel", ids: ["c1", "c2", "c3"], on: loop).wait()
        #expect(found == ["c1": .object(["id": .string("c1")]), "c2": .object(["id": .string("c2")])])
        #expect(base.batches.withLockedValue { $0 } == [["c2", "c3"]])
        let readsBefore = base.reads.withLockedValue { $0 }
        #expect(try cache.get(kind: "channel", id: "c2", on: loop).wait() == .object(["id": .string("c2")]))
        #expect(try cache.get(kind: "channel", id: "c3", on: loop).wait() == nil)
        #expect(base.reads.withLockedValue { $0 } == readsBefore, "both answered from what the batch kept")
    }
}

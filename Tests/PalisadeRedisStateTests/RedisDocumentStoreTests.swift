import NIOCore
import PalisadeDocuments
import PalisadeRedis
import Testing

@testable import PalisadeRedisState

/// The Yjs documents shared through Redis: the store's semantics (the other stores'), its
/// scripts under races between instances, its budget, and its keys as Open WebUI reads them.
@Suite("RedisDocumentStore", .serialized)
struct RedisDocumentStoreTests {
    private static let doc = "note:abc"

    private func store(_ client: RedisClient, budget: Int = 1 << 20, retentionDays: Int = 0) -> RedisDocumentStore {
        RedisDocumentStore(client: client, prefix: "open-webui", maxDocumentBytes: budget, retentionDays: retentionDays)
    }

    /// A store on each of two clients of one server (two instances), and the caller's loop.
    private func withTwoInstances(
        _ body: (RedisFixture, RedisDocumentStore, RedisDocumentStore, any EventLoop) async throws -> Void
    ) async throws {
        try await RedisFixture.with { fixture async throws in
            let other = try fixture.makeClient()
            try await other.waitUntilUp(timeout: .seconds(10)).get()
            try await body(fixture, store(fixture.client), store(other), fixture.callerLoop)
            try await other.close().get()
        }
    }

    private func documentErrorCode(_ body: () async throws -> Void) async -> DocumentStoreError.Code? {
        do {
            try await body()
            return nil
        } catch let error as DocumentStoreError {
            return error.code
        } catch {
            return nil
        }
    }

    private func strings(_ fixture: RedisFixture, _ arguments: String...) async throws -> [String] {
        let reply = try await fixture.client.send(RedisCommand(arguments[0], arguments: Array(arguments.dropFirst()))).get()
        return (reply.array ?? []).compactMap(\.string)
    }

    private func value(_ fixture: RedisFixture, _ key: String) async throws -> String? {
        try await fixture.client.send("GET", key).get().string
    }

    @Test func appendsLoadBackInOrderWithTheirSequences() async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (store(fixture.client), fixture.callerLoop)
            #expect(try await store.load(Self.doc, on: loop).get() == nil)
            #expect(try await store.append(Self.doc, update: [1, 0, 3], on: loop).get() == 1)
            #expect(try await store.append(Self.doc, update: [200, 255, 0, 9, 10, 99, 100], on: loop).get() == 2)
            #expect(try await store.append(Self.doc, update: [], on: loop).get() == 3)
            let loaded = try #require(try await store.load(Self.doc, on: loop).get())
            #expect(
                loaded
                    == StoredDocument(
                        snapshot: nil, snapshotSequence: 0, updates: [(1, [1, 0, 3]), (2, [200, 255, 0, 9, 10, 99, 100]), (3, [])]))
            #expect(try await store.delete(Self.doc, on: loop).get())
            #expect(try await store.delete(Self.doc, on: loop).get() == false)
            #expect(try await store.load(Self.doc, on: loop).get() == nil)
            #expect(try await store.append(Self.doc, update: [7], on: loop).get() == 1, "a deleted document starts again at 1")
        }
    }

    @Test func sequenceNumbersSurviveCompaction() async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (store(fixture.client), fixture.callerLoop)
            for byte in UInt8(1)...3 { _ = try await store.append(Self.doc, update: [byte], on: loop).get() }
            try await store.compact(Self.doc, snapshot: [1, 2], through: 2, on: loop).get()
            #expect(try await store.append(Self.doc, update: [4], on: loop).get() == 4)
            #expect(
                try await store.load(Self.doc, on: loop).get()
                    == StoredDocument(snapshot: [1, 2], snapshotSequence: 2, updates: [(3, [3]), (4, [4])]))
            try await store.compact(Self.doc, snapshot: [9, 9, 9, 9], through: 4, on: loop).get()
            #expect(
                try await store.load(Self.doc, on: loop).get() == StoredDocument(snapshot: [9, 9, 9, 9], snapshotSequence: 4, updates: []))
            #expect(try await store.append(Self.doc, update: [5], on: loop).get() == 5)
            // An older snapshot changes nothing; one past the log is refused.
            try await store.compact(Self.doc, snapshot: [0], through: 3, on: loop).get()
            #expect(
                await documentErrorCode { try await store.compact(Self.doc, snapshot: [0], through: 6, on: loop).get() } == .invalidArgument
            )
            #expect(
                try await store.load(Self.doc, on: loop).get()
                    == StoredDocument(snapshot: [9, 9, 9, 9], snapshotSequence: 4, updates: [(5, [5])]))
            // The byte counters follow: 4 (snapshot) + 1; the log alone 1.
            #expect(try await value(fixture, "open-webui:ydoc:documents:note:abc:size") == "5")
            #expect(try await value(fixture, "open-webui:ydoc:documents:note:abc:log_size") == "1")
        }
    }

    /// Another instance appends while this one compacts what it read: nothing appended meanwhile is lost.
    @Test func aCompactionRacingAppendsLosesNothing() async throws {
        try await withTwoInstances { fixture, mine, theirs, loop async throws in
            var expected: [(sequence: Int64, bytes: [UInt8])] = []
            var next: Int64 = 1
            for round in 0..<5 {
                for _ in 0..<10 {
                    expected.append((next, [UInt8(next % 256), 1]))
                    _ = try await theirs.append(Self.doc, update: [UInt8(next % 256), 1], on: loop).get()
                    next += 1
                }
                let seen = try #require(try await mine.load(Self.doc, on: loop).get())
                let through = try #require(seen.updates.last?.sequence)
                let snapshot = [UInt8(round), UInt8(through)]
                // 20 appends from the other instance in flight around the compaction.
                var appends: [EventLoopFuture<Int64>] = []
                var compaction: EventLoopFuture<Void>?
                for _ in 0..<20 {
                    expected.append((next, [UInt8(next % 256), 2]))
                    appends.append(theirs.append(Self.doc, update: [UInt8(next % 256), 2], on: loop))
                    next += 1
                    if appends.count == 10 { compaction = mine.compact(Self.doc, snapshot: snapshot, through: through, on: loop) }
                }
                let sequences = try await EventLoopFuture.whenAllSucceed(appends, on: loop).get()
                #expect(sequences == Array(expected.suffix(20).map(\.sequence)))
                // (A script's first run on a server may be retried after NOSCRIPT: wait for it, not for the connection's order.)
                try await compaction?.get()
                let after = try #require(try await mine.load(Self.doc, on: loop).get())
                #expect(after.snapshot == snapshot && after.snapshotSequence == through)
                #expect(after.updates.map(\.sequence) == expected.filter { $0.sequence > through }.map(\.sequence))
                #expect(after.updates.map(\.bytes) == expected.filter { $0.sequence > through }.map(\.bytes))
            }
        }
    }

    /// Two instances compact at once: the snapshot covering more wins, whichever runs first.
    @Test func twoCompactionsRacingKeepTheOneThatCoversMore() async throws {
        try await withTwoInstances { fixture, mine, theirs, loop async throws in
            for (index, id) in ["note:a", "note:b"].enumerated() {
                for byte in UInt8(1)...10 { _ = try await mine.append(id, update: [byte], on: loop).get() }
                // Both orders, each landing after the other has read the document.
                let short = { mine.compact(id, snapshot: [6, 6], through: 6, on: loop) }
                let long = { theirs.compact(id, snapshot: [10, 10, 10], through: 10, on: loop) }
                let (first, second) = index == 0 ? (short, long) : (long, short)
                try await first().get()
                try await second().get()
                #expect(
                    try await mine.load(id, on: loop).get() == StoredDocument(snapshot: [10, 10, 10], snapshotSequence: 10, updates: []))
                #expect(try await value(fixture, "open-webui:ydoc:documents:\(id):size") == "3")
                #expect(try await mine.append(id, update: [11], on: loop).get() == 11)
            }
            // Interleaved with appends on both sides.
            for byte in UInt8(1)...10 { _ = try await mine.append("note:c", update: [byte], on: loop).get() }
            let racing = [
                mine.compact("note:c", snapshot: [1, 2, 3, 4], through: 4, on: loop),
                theirs.compact("note:c", snapshot: [1, 2, 3, 4, 5, 6, 7, 8], through: 8, on: loop),
            ]
            let appended = [mine.append("note:c", update: [11], on: loop), theirs.append("note:c", update: [12], on: loop)]
            try await EventLoopFuture.andAllSucceed(racing, on: loop).get()
            #expect(Set(try await EventLoopFuture.whenAllSucceed(appended, on: loop).get()) == [11, 12])
            let loaded = try #require(try await mine.load("note:c", on: loop).get())
            #expect(loaded.snapshotSequence == 8 && loaded.snapshot == [1, 2, 3, 4, 5, 6, 7, 8])
            #expect(loaded.updates.map(\.sequence) == [9, 10, 11, 12])
            #expect(Set(loaded.updates.suffix(2).map(\.bytes)) == [[11], [12]])
        }
    }

    /// The budget is the document's, across instances: a refused update stores nothing.
    @Test func theBudgetRefusesAcrossInstances() async throws {
        try await withTwoInstances { fixture, mine, theirs, loop async throws in
            let six = [UInt8](repeating: 6, count: 6)
            #expect(
                try await mine.append(Self.doc, update: six, values: 1, maxDocumentBytes: 10, maxDocumentValues: 100, on: loop).get()
                    .sequence == 1)
            #expect(
                await documentErrorCode {
                    _ = try await theirs.append(
                        Self.doc, update: [1, 2, 3, 4, 5], values: 1, maxDocumentBytes: 10, maxDocumentValues: 100, on: loop
                    ).get()
                } == .documentFull)
            let receipt = try await theirs.append(
                Self.doc, update: [1, 2, 3, 4], values: 1, maxDocumentBytes: 10, maxDocumentValues: 100, on: loop
            ).get()
            #expect(receipt == SharedAppendReceipt(sequence: 2, logUpdates: 2, logBytes: 10))
            #expect(
                await documentErrorCode {
                    _ = try await mine.append(Self.doc, update: [1], values: 1, maxDocumentBytes: 10, maxDocumentValues: 100, on: loop)
                        .get()
                }
                    == .documentFull)
            #expect(try await value(fixture, "open-webui:ydoc:documents:note:abc:size") == "10")
            #expect(try await mine.load(Self.doc, on: loop).get()?.updates.count == 2)
            // The store's own budget (`append` of DocumentStore) and the bound of a load.
            let small = store(fixture.client, budget: 4)
            #expect(
                await documentErrorCode { _ = try await small.append("note:x", update: [1, 2, 3, 4, 5], on: loop).get() } == .documentFull)
            #expect(await documentErrorCode { _ = try await small.load(Self.doc, on: loop).get() } == .tooLarge)
        }
    }

    /// Open WebUI's `initialize`: the first write wins, across instances, in one step.
    @Test func aFirstWriteIsStoredOnlyIntoAnEmptyDocument() async throws {
        try await withTwoInstances { fixture, mine, theirs, loop async throws in
            func seed(_ store: RedisDocumentStore, _ byte: UInt8) async throws -> SharedAppendReceipt {
                try await store.append(
                    Self.doc, update: [byte], values: 1, maxDocumentBytes: 1000, maxDocumentValues: 1000, onlyIfEmpty: true, on: loop
                ).get()
            }
            #expect(try await seed(mine, 1).sequence == 1)
            #expect(await documentErrorCode { _ = try await seed(theirs, 2) } == .notEmpty)
            #expect(try await mine.load(Self.doc, on: loop).get()?.updates.map(\.bytes) == [[1]], "the second seed stored nothing")
            // Ordinary appends go on.
            _ = try await theirs.append(Self.doc, update: [3], on: loop).get()
            #expect(try await mine.load(Self.doc, on: loop).get()?.updates.count == 2)
        }
    }

    /// The decoded values are budgeted too, across instances, and recounted by a compaction.
    @Test func theValueBudgetRefusesAcrossInstancesAndFollowsCompaction() async throws {
        try await withTwoInstances { fixture, mine, theirs, loop async throws in
            func append(_ store: RedisDocumentStore, values: Int) async throws -> SharedAppendReceipt {
                try await store.append(
                    Self.doc, update: [1, 2], values: values, maxDocumentBytes: 1 << 20, maxDocumentValues: 100, on: loop
                )
                .get()
            }
            _ = try await append(mine, values: 40)
            _ = try await append(theirs, values: 40)
            #expect(await documentErrorCode { _ = try await append(theirs, values: 21) } == .documentFull)
            #expect(try await append(mine, values: 20).sequence == 3)
            #expect(await documentErrorCode { _ = try await append(mine, values: 1) } == .documentFull)
            #expect(try await value(fixture, "open-webui:ydoc:documents:note:abc:values") == "100")
            // A compaction of the first two into a snapshot of 30 values frees 50.
            try await mine.compact(Self.doc, snapshot: [1, 2], values: 30, through: 2, on: loop).get()
            #expect(try await strings(fixture, "LRANGE", "open-webui:ydoc:documents:note:abc:value_counts", "0", "-1") == ["30", "20"])
            #expect(try await append(theirs, values: 50).sequence == 4)
            #expect(await documentErrorCode { _ = try await append(theirs, values: 1) } == .documentFull)
            // Elements someone else pushed count their bytes (a bound on their values).
            _ = try await fixture.client.send("RPUSH", "open-webui:ydoc:documents:note:abc:updates", "[9, 9, 9]").get()
            #expect(await documentErrorCode { _ = try await append(theirs, values: 0) } == .documentFull)
            #expect(try await value(fixture, "open-webui:ydoc:documents:note:abc:values") == "103")
        }
    }

    /// The keys Open WebUI 0.12.4 reads are where it reads them, in its format; what it writes is read.
    @Test func keysAreOpenWebUIsLayout() async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (store(fixture.client), fixture.callerLoop)
            let root = "open-webui:ydoc:documents:note:abc"
            _ = try await store.append(Self.doc, update: [1, 0, 3], on: loop).get()
            _ = try await store.append(Self.doc, update: [255, 16], on: loop).get()
            #expect(try await strings(fixture, "LRANGE", "\(root):updates", "0", "-1") == ["[1,0,3]", "[255,16]"])
            #expect(try await value(fixture, "\(root):size") == "5")
            // Open WebUI's own `json.dumps` has spaces: read as well.
            _ = try await fixture.client.send("RPUSH", "\(root):updates", "[4, 5, 6]").get()
            _ = try await fixture.client.send("INCRBY", "\(root):size", 3).get()
            #expect(try await store.load(Self.doc, on: loop).get()?.updates.map(\.bytes) == [[1, 0, 3], [255, 16], [4, 5, 6]])
            try await store.compact(Self.doc, snapshot: [7, 7], through: 2, on: loop).get()
            #expect(try await strings(fixture, "LRANGE", "\(root):updates", "0", "-1") == ["[7,7]", "[4, 5, 6]"])
            #expect(try await value(fixture, "\(root):size") == "5")
            #expect(try await value(fixture, "\(root):snapshot_sequence") == "2")
            // Editors: Open WebUI's users set and reverse index, and Palisade's writers.
            try await store.addEditor(Self.doc, socketID: "sid1", canWrite: true, on: loop).get()
            try await store.addEditor(Self.doc, socketID: "sid2", canWrite: false, on: loop).get()
            #expect(Set(try await strings(fixture, "SMEMBERS", "\(root):users")) == ["sid1", "sid2"])
            #expect(try await strings(fixture, "SMEMBERS", "open-webui:ydoc:documents:session:sid2:documents") == [Self.doc])
            #expect(try await store.writers(Self.doc, on: loop).get() == ["sid1"])
            try await store.removeEditor(Self.doc, socketID: "sid1", on: loop).get()
            #expect(try await strings(fixture, "SMEMBERS", "\(root):users") == ["sid2"])
            #expect(try await store.writers(Self.doc, on: loop).get() == [])
            #expect(try await strings(fixture, "SMEMBERS", "open-webui:ydoc:documents:session:sid1:documents") == [])
            // Nothing expires without retention.
            #expect(try await fixture.client.send("TTL", "\(root):updates").get().integer == -1)
            // Damaged elements are reported, not guessed.
            _ = try await fixture.client.send("RPUSH", "\(root):updates", "[1, 256]").get()
            #expect(await documentErrorCode { _ = try await store.load(Self.doc, on: loop).get() } == .corruptDocument)
        }
    }

    @Test func retentionIsAnExpiryRefreshedOnAppend() async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (store(fixture.client, retentionDays: 2), fixture.callerLoop)
            let root = "open-webui:ydoc:documents:note:abc"
            _ = try await store.append(Self.doc, update: [1], on: loop).get()
            _ = try await store.append(Self.doc, update: [2], on: loop).get()
            try await store.compact(Self.doc, snapshot: [1, 2], through: 1, on: loop).get()
            for key in ["updates", "size", "snapshot_sequence", "log_size"] {
                let ttl = try #require(try await fixture.client.send("TTL", "\(root):\(key)").get().integer)
                #expect(ttl > 2 * 86_400 - 60 && ttl <= 2 * 86_400, "\(key)")
            }
            _ = try await fixture.client.send("EXPIRE", "\(root):updates", 100).get()
            _ = try await store.append(Self.doc, update: [3], on: loop).get()
            #expect(try #require(try await fixture.client.send("TTL", "\(root):updates").get().integer) > 86_400)
            #expect(try await store.purge(untouchedFor: 0, on: loop).get() == 0)
            #expect(try await store.load(Self.doc, on: loop).get()?.updates.count == 2)
        }
    }

    @Test func elementTextsRoundTripAndDamagedOnesAreRefused() throws {
        let all = (0...255).map { UInt8($0) }
        #expect(try YjsUpdateText.decode(YjsUpdateText.encode(all)) == all)
        #expect(try YjsUpdateText.decode(ByteBuffer(string: " [ 1 , 2 ,3 ] ")) == [1, 2, 3])
        #expect(try YjsUpdateText.decode(ByteBuffer(string: "[]")) == [])
        for bad in ["", "[", "[1,]", "[,1]", "[1 2]", "[256]", "[-1]", "[1.5]", "{}", "[1]x", "[\"1\"]"] {
            #expect(throws: DocumentStoreError.self, "\(bad)") { try YjsUpdateText.decode(ByteBuffer(string: bad)) }
        }
    }
}

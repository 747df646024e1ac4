import NIOCore
import NIOPosix
import PalisadeDirectory
import PalisadeJSON
import Testing

/// What every `DirectoryStore` must do; each test runs against every backend.
@Suite("DirectoryStore behaviour")
struct DirectoryStoreBehaviourTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    @Test(arguments: StoreKind.allCases)
    func openWebUIRecordsRoundTripByteForByte(kind: StoreKind) async throws {
        try await kind.withStore { store in
            for record in OpenWebUIRecords.all {
                try await store.put(kind: record.kind, id: record.id, record: JSONParser.parse(record.text), on: loop).get()
            }
            for record in OpenWebUIRecords.all {
                let stored = try #require(try await store.get(kind: record.kind, id: record.id, on: loop).get())
                #expect(JSONWriter.string(stored) == record.text)
                #expect(stored == (try JSONParser.parse(record.text)))
            }
            let shared = try #require(try await store.get(kind: "note", id: "n-shared", on: loop).get())
            #expect(shared["access_control"]?["read"]?["group_ids"] == .array([.string("g-eng")]))
            #expect(try await store.get(kind: "note", id: "n-public", on: loop).get()?["access_control"] == .null)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func absentRecordIsNil(kind: StoreKind) async throws {
        try await kind.withStore { store in
            #expect(try await store.get(kind: "user", id: "nobody", on: loop).get() == nil)
            try await store.put(kind: "user", id: "u1", record: .object(["id": .string("u1")]), on: loop).get()
            #expect(try await store.get(kind: "group", id: "u1", on: loop).get() == nil, "kinds are separate")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func getManyAnswersTheRecordsThatExistByID(kind: StoreKind) async throws {
        try await kind.withStore { store in
            for id in ["c1", "c2"] {
                try await store.put(kind: "channel", id: id, record: .object(["id": .string(id)]), on: loop).get()
            }
            let found = try await store.getMany(kind: "channel", ids: ["c1", "nobody", "c2", "c1"], on: loop).get()
            #expect(found == ["c1": .object(["id": .string("c1")]), "c2": .object(["id": .string("c2")])])
            #expect(try await store.getMany(kind: "channel", ids: [], on: loop).get() == [:])
            await #expect(throws: DirectoryError.self) { try await store.getMany(kind: "channel", ids: ["ok", "a/b"], on: loop).get() }
            let tooMany = (0...DirectoryKey.maxIDsPerRead).map { "c\($0)" }
            await #expect(throws: DirectoryError.self) { try await store.getMany(kind: "channel", ids: tooMany, on: loop).get() }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func putReplacesTheWholeRecord(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.put(kind: "user", id: "u1", record: JSONParser.parse(#"{"id":"u1","role":"user","groups":["g1"]}"#), on: loop)
                .get()
            try await store.put(kind: "user", id: "u1", record: JSONParser.parse(#"{"role":"admin"}"#), on: loop).get()
            let stored = try await store.get(kind: "user", id: "u1", on: loop).get()
            #expect(stored.map(JSONWriter.string) == #"{"role":"admin"}"#)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func deleteSaysWhetherARecordWasRemoved(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.put(kind: "group", id: "g1", record: JSONParser.parse(OpenWebUIRecords.group), on: loop).get()
            #expect(try await store.delete(kind: "group", id: "g1", on: loop).get())
            #expect(try await store.get(kind: "group", id: "g1", on: loop).get() == nil)
            #expect(try await !store.delete(kind: "group", id: "g1", on: loop).get())
            #expect(try await !store.delete(kind: "group", id: "never", on: loop).get())
        }
    }

    @Test(arguments: StoreKind.allCases)
    func listGivesTheIdsOfOneKindInByteOrder(kind: StoreKind) async throws {
        try await kind.withStore { store in
            #expect(try await store.list(kind: "user", on: loop).get() == [])
            for id in ["b", "a", "B", "caf\u{E9}", "10", "9", "a b"] {
                try await store.put(kind: "user", id: id, record: .object(["id": .string(id)]), on: loop).get()
            }
            try await store.put(kind: "group", id: "g1", record: .object([:]), on: loop).get()
            #expect(try await store.list(kind: "user", on: loop).get() == ["10", "9", "B", "a", "a b", "b", "caf\u{E9}"])
            #expect(try await store.list(kind: "group", on: loop).get() == ["g1"])
            _ = try await store.delete(kind: "user", id: "a", on: loop).get()
            #expect(try await store.list(kind: "user", on: loop).get() == ["10", "9", "B", "a b", "b", "caf\u{E9}"])
        }
    }

    /// SQLite compares text by bytes; Swift's String equality would merge these two ids.
    @Test(arguments: StoreKind.allCases)
    func idsAreComparedByBytes(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.put(kind: "user", id: "caf\u{E9}", record: .object(["form": .string("composed")]), on: loop).get()
            try await store.put(kind: "user", id: "cafe\u{301}", record: .object(["form": .string("decomposed")]), on: loop).get()
            #expect(try await store.get(kind: "user", id: "caf\u{E9}", on: loop).get()?["form"] == .string("composed"))
            #expect(try await store.get(kind: "user", id: "cafe\u{301}", on: loop).get()?["form"] == .string("decomposed"))
            #expect(try await store.list(kind: "user", on: loop).get().count == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func invalidKindsAreRefused(kind: StoreKind) async throws {
        let record = JSONValue.object(["id": .string("x")])
        try await kind.withStore { store in
            for bad in ["", "User", "user/x", "us er", "usér", "user:", String(repeating: "k", count: 129)] {
                #expect(await code { _ = try await store.get(kind: bad, id: "x", on: loop).get() } == .invalidKind)
                #expect(await code { try await store.put(kind: bad, id: "x", record: record, on: loop).get() } == .invalidKind)
                #expect(await code { _ = try await store.delete(kind: bad, id: "x", on: loop).get() } == .invalidKind)
                #expect(await code { _ = try await store.list(kind: bad, on: loop).get() } == .invalidKind)
            }
            let longest = String(repeating: "k", count: 128)
            try await store.put(kind: longest, id: "x", record: record, on: loop).get()
            #expect(try await store.list(kind: longest, on: loop).get() == ["x"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func invalidIDsAreRefused(kind: StoreKind) async throws {
        let record = JSONValue.object([:])
        // 43 three-byte characters: 129 bytes though only 43 characters.
        let tooLong = String(repeating: "\u{20AC}", count: 43)
        try await kind.withStore { store in
            for bad in ["", "a/b", "/", "line\nbreak", "nul\u{0}", "tab\t", "del\u{7F}", "c1\u{85}", "nbsp\u{A0}", "ls\u{2028}", tooLong] {
                #expect(await code { _ = try await store.get(kind: "note", id: bad, on: loop).get() } == .invalidID)
                #expect(await code { try await store.put(kind: "note", id: bad, record: record, on: loop).get() } == .invalidID)
                #expect(await code { _ = try await store.delete(kind: "note", id: bad, on: loop).get() } == .invalidID)
            }
            #expect(try await store.list(kind: "note", on: loop).get() == [])
            let good = ["note:1", "a b", "caf\u{E9}", "👩‍💻", ".", "x?y#z%20", String(repeating: "i", count: 128)]
            for id in good {
                try await store.put(kind: "note", id: id, record: record, on: loop).get()
            }
            #expect(try await store.list(kind: "note", on: loop).get().count == good.count)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func recordsThatAreNotJSONObjectsAreRefused(kind: StoreKind) async throws {
        let refused: [JSONValue] = [
            .null, .bool(true), .number("1"), .string("{}"), .array([.object([:])]),
            .object(["avatar": .binary(ByteBuffer(bytes: [1, 2, 3]))]),
            .object(["n": .number("01")]),
            .object(["n": .number("NaN")]),
        ]
        try await kind.withStore { store in
            for record in refused {
                #expect(await code { try await store.put(kind: "user", id: "u1", record: record, on: loop).get() } == .invalidRecord)
            }
            #expect(try await store.get(kind: "user", id: "u1", on: loop).get() == nil)
            try await store.put(kind: "user", id: "u1", record: .object([:]), on: loop).get()
            #expect(try await store.get(kind: "user", id: "u1", on: loop).get() == .object([]))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func recordsLargerThanTheLimitAreRefused(kind: StoreKind) async throws {
        // {"t":"…"} is 8 bytes around the text.
        let fits = JSONValue.object(["t": .string(String(repeating: "a", count: DirectoryRecord.maxBytes - 8))])
        let tooBig = JSONValue.object(["t": .string(String(repeating: "a", count: DirectoryRecord.maxBytes - 7))])
        try await kind.withStore { store in
            #expect(await code { try await store.put(kind: "note", id: "big", record: tooBig, on: loop).get() } == .recordTooLarge)
            try await store.put(kind: "note", id: "big", record: fits, on: loop).get()
            #expect(try await store.get(kind: "note", id: "big", on: loop).get() == fits)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func futuresCompleteOnTheCallersLoop(kind: StoreKind) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = [group.next(), group.next()]
        try await kind.withStore { store async throws in
            for loop in loops {
                let put = store.put(kind: "user", id: "u1", record: .object([:]), on: loop)
                #expect(put.eventLoop === loop)
                #expect(try await put.map { loop.inEventLoop }.get())
                #expect(try await store.get(kind: "user", id: "u1", on: loop).map { _ in loop.inEventLoop }.get())
                #expect(try await store.list(kind: "user", on: loop).map { _ in loop.inEventLoop }.get())
                #expect(try await store.delete(kind: "user", id: "u1", on: loop).map { _ in loop.inEventLoop }.get())
                let refused = store.get(kind: "BAD", id: "u1", on: loop)
                #expect(refused.eventLoop === loop)
            }
        }
        try await group.shutdownGracefully()
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentPutsFromFourLoopsAllLand(kind: StoreKind) async throws {
        let perLoop = 50
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 4)
        let loops = (0..<4).map { _ in group.next() }
        try await kind.withStore { store in
            let puts = loops.enumerated().flatMap { index, loop in
                (0..<perLoop).map { n in
                    // Submitted from the loop itself, as a policy hook would.
                    loop.flatSubmit {
                        store.put(
                            kind: "user", id: "u\(index)-\(n)",
                            record: .object(["id": .string("u\(index)-\(n)"), "loop": JSONValue(index), "n": JSONValue(n)]),
                            on: loop)
                    }
                }
            }
            try await EventLoopFuture.andAllSucceed(puts, on: loop).get()
            let ids = try await store.list(kind: "user", on: loop).get()
            #expect(ids.count == 4 * perLoop)
            for index in 0..<4 {
                for n in [0, perLoop / 2, perLoop - 1] {
                    let record = try await store.get(kind: "user", id: "u\(index)-\(n)", on: loop).get()
                    #expect(record?["loop"]?.intValue == index)
                    #expect(record?["n"]?.intValue == n)
                }
            }
        }
        try await group.shutdownGracefully()
    }

    @Test(arguments: StoreKind.allCases)
    func operationsAfterCloseFail(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.put(kind: "user", id: "u1", record: .object([:]), on: loop).get()
            await store.close()
            await store.close()
            #expect(await code { _ = try await store.get(kind: "user", id: "u1", on: loop).get() } == .closed)
            #expect(await code { try await store.put(kind: "user", id: "u1", record: .object([:]), on: loop).get() } == .closed)
            #expect(await code { _ = try await store.delete(kind: "user", id: "u1", on: loop).get() } == .closed)
            #expect(await code { _ = try await store.list(kind: "user", on: loop).get() } == .closed)
        }
    }
}

/// The code of the `DirectoryError` that `body` throws; nil (and a recorded issue) otherwise.
func code(_ body: () async throws -> Void) async -> DirectoryError.Code? {
    do {
        try await body()
        Issue.record("expected a DirectoryError, got success")
        return nil
    } catch let error as DirectoryError {
        return error.code
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

import NIOCore
import NIOPosix
import PalisadeRedis
import PalisadeRedisState
import PalisadeRedisTestSupport
import PalisadeState
import Testing

/// The hash operations (`hset`, `hget`, `hdel`, `hgetall`, `hscan`) behave alike on every
/// backend: memory, Redis, and the fallback wrapper while Redis is up.
@Suite("State store hashes", .serialized)
struct HashBehaviourTests {
    @Test(arguments: StoreKind.allCases)
    func setGetDeleteFields(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            #expect(try await store.hget("h", field: "a", on: loop).get() == nil)
            #expect(try await store.hset("h", field: "a", to: "1", on: loop).get(), "a new field")
            #expect(try await !store.hset("h", field: "a", to: "2", on: loop).get(), "an existing field")
            #expect(try await store.hset("h", field: "b", to: "", on: loop).get())
            #expect(try await store.hget("h", field: "a", on: loop).get() == "2")
            #expect(try await store.hget("h", field: "b", on: loop).get() == "", "an empty value is a value")
            #expect(try await Set(store.hgetall("h", maxFields: 10, on: loop).get()) == [HashField("a", "2"), HashField("b", "")])
            #expect(try await store.hdel("h", fields: ["a", "missing", "a"], on: loop).get() == 1)
            #expect(try await store.hdel("nothing", fields: ["a"], on: loop).get() == 0)
            #expect(try await store.hdel("h", fields: ["b"], on: loop).get() == 1)
            #expect(try await store.hgetall("h", maxFields: 10, on: loop).get().isEmpty)
            #expect(try await !store.del("h", on: loop).get(), "a hash is gone with its last field")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func fieldsAreComparedByBytes(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            _ = try await store.hset("h", field: "caf\u{E9}", to: "composed", on: loop).get()
            _ = try await store.hset("h", field: "cafe\u{301}", to: "decomposed", on: loop).get()
            #expect(try await store.hget("h", field: "caf\u{E9}", on: loop).get() == "composed")
            #expect(try await store.hget("h", field: "cafe\u{301}", on: loop).get() == "decomposed")
            #expect(try await store.hgetall("h", maxFields: 10, on: loop).get().count == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func hgetallPastTheBoundIsRefused(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            for index in 0..<3 { _ = try await store.hset("h", field: "f\(index)", to: "v", on: loop).get() }
            #expect(try await store.hgetall("h", maxFields: 3, on: loop).get().count == 3)
            #expect(await stateErrorCode { _ = try await store.hgetall("h", maxFields: 2, on: loop).get() } == .tooLarge)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func stringsAndHashesDoNotMix(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            try await store.set("s", to: "1", on: loop).get()
            _ = try await store.hset("h", field: "f", to: "1", on: loop).get()
            #expect(await stateErrorCode { _ = try await store.hset("s", field: "f", to: "v", on: loop).get() } == .wrongType)
            #expect(await stateErrorCode { _ = try await store.hget("s", field: "f", on: loop).get() } == .wrongType)
            #expect(await stateErrorCode { _ = try await store.hdel("s", fields: ["f"], on: loop).get() } == .wrongType)
            #expect(await stateErrorCode { _ = try await store.hgetall("s", maxFields: 10, on: loop).get() } == .wrongType)
            #expect(await stateErrorCode { _ = try await store.get("h", on: loop).get() } == .wrongType)
            #expect(await stateErrorCode { _ = try await store.incr("h", on: loop).get() } == .wrongType)
            #expect(store.getNow("h") == nil, "a hash is never answered at once as a string")
            try await store.set("h", to: "replaced", on: loop).get()
            #expect(try await store.get("h", on: loop).get() == "replaced", "set replaces a hash, as in Redis")
            #expect(try await store.get("s", on: loop).get() == "1", "the refused calls left the string alone")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func scanVisitsEveryFieldOnce(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture), fixture.callerLoop)
            let count = 1_000
            for index in 0..<count { _ = try await store.hset("h", field: "f\(index)", to: "\(index)", on: loop).get() }
            var seen: [String: String] = [:]
            var cursor = "0"
            var pages = 0
            repeat {
                let page = try await store.hscan("h", cursor: cursor, count: 200, on: loop).get()
                for entry in page.fields { seen[entry.field] = entry.value }
                cursor = page.cursor
                pages += 1
            } while cursor != "0" && pages < 1_000
            #expect(seen.count == count && seen["f7"] == "7")
            #expect(try await store.hscan("absent", cursor: "0", count: 200, on: loop).get().fields.isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func fieldsLargerThanTheEntryBoundAreRefused(kind: StoreKind) async throws {
        try await RedisFixture.with { fixture async throws in
            let (store, loop) = (kind.makeStore(fixture, maxEntryBytes: 200), fixture.callerLoop)
            let big = String(repeating: "x", count: 200)
            #expect(await stateErrorCode { _ = try await store.hset("h", field: "f", to: big, on: loop).get() } == .entryTooLarge)
            #expect(try await store.hset("h", field: "f", to: "small", on: loop).get())
        }
    }

    /// Memory's accounting: fields count toward `maxBytes`, and deleting them gives the room back.
    @Test func memoryHashesCountTowardTheBound() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let store = MemoryStateStore(configuration: .init(maxKeys: 100, maxBytes: 1_000, shardCount: 1))
        let value = String(repeating: "v", count: 100)
        var refused = 0
        for index in 0..<20 {
            if await stateErrorCode({ _ = try await store.hset("h", field: "f\(index)", to: value, on: loop).get() }) == .full {
                refused += 1
            }
        }
        #expect(refused > 0, "a hash cannot grow past maxBytes")
        let held = try await store.hgetall("h", maxFields: 100, on: loop).get().map(\.field)
        #expect(try await store.hdel("h", fields: held, on: loop).get() == held.count)
        #expect(try await store.hset("h", field: "again", to: value, on: loop).get(), "deleting fields freed their room")
        #expect(store.count == 1)
    }
}

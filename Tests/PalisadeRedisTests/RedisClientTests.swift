import NIOCore
import NIOPosix
import PalisadeRedisTestSupport
import Testing

@testable import PalisadeRedis

/// The client against a real redis-server started by each test.
@Suite("Redis client", .serialized)
struct RedisClientTests {
    @Test func binarySafeValuesRoundTrip() async throws {
        let server = try RedisServerProcess()
        defer { server.stopAndRemove() }
        try await withLoop { loop in
            let client = RedisClient(configuration: try .test(server.url), eventLoop: loop)
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            let bytes: [UInt8] = Array(0...255) + [13, 10, 13, 10, 0]
            _ = try await client.send("SET", "bin", bytes).get()
            #expect(try await client.send("GET", "bin").get() == .bulkString(ByteBuffer(bytes: bytes)))
            #expect(try await client.send("GET", "missing").get() == .null)
            #expect(try await client.send("INCRBY", "n", 5).get() == .integer(5))
            _ = try await client.send("RPUSH", "list", "a", "b").get()
            let script = "return {1, {redis.call('LRANGE', KEYS[1], 0, -1), 'x'}, ARGV[1]}"
            let nested = try await client.send("EVAL", script, 1, "list", "z").get()
            func bulk(_ text: String) -> RedisValue { .bulkString(ByteBuffer(string: text)) }
            #expect(nested == .array([.integer(1), .array([.array([bulk("a"), bulk("b")]), bulk("x")]), bulk("z")]))
            try await client.close().get()
        }
    }

    @Test func anErrorReplyFailsOnlyItsCommand() async throws {
        let server = try RedisServerProcess()
        defer { server.stopAndRemove() }
        try await withLoop { loop in
            let client = RedisClient(configuration: try .test(server.url), eventLoop: loop)
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            _ = try await client.send("SET", "s", "text").get()
            let results = try await client.send(batch: [RedisCommand("INCR", "s"), RedisCommand("PING")]).get()
            guard case .failure(let error as RedisError) = results[0] else {
                Issue.record("INCR on text succeeded")
                return
            }
            #expect(error.code == .server && error.message.hasPrefix("ERR"))
            #expect(try results[1].get() == .simpleString("PONG"))
            #expect(client.state == .up)
            try await client.close().get()
        }
    }

    @Test func tenThousandPipelinedCommandsAnswerInOrder() async throws {
        let server = try RedisServerProcess()
        defer { server.stopAndRemove() }
        try await withLoop { loop in
            let client = RedisClient(configuration: try .test(server.url), eventLoop: loop)
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            let count = 10_000
            let commands = (0..<count).map { index in
                index.isMultiple(of: 2) ? RedisCommand("ECHO", "m\(index)") : RedisCommand("INCR", "counter")
            }
            let results = try await client.send(batch: commands).get()
            #expect(results.count == count)
            var increments: Int64 = 0
            for (index, result) in results.enumerated() {
                let value = try result.get()
                if index.isMultiple(of: 2) {
                    #expect(value == .bulkString(ByteBuffer(string: "m\(index)")))
                } else {
                    increments += 1
                    #expect(value == .integer(increments))
                }
            }
            // Many callers at once, from another thread: still one reply per command, in order per caller.
            let futures = (0..<1_000).map { client.send("ECHO", "c\($0)") }
            for (index, future) in futures.enumerated() { #expect(try await future.get().string == "c\(index)") }
            try await client.close().get()
        }
    }

    @Test func commandsBeyondTheInFlightBoundFailFast() async throws {
        let server = try RedisServerProcess()
        defer { server.stopAndRemove() }
        try await withLoop { loop in
            var configuration = try RedisConfiguration.test(server.url)
            configuration.maxPendingCommands = 10
            let client = RedisClient(configuration: configuration, eventLoop: loop)
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            let results = try await client.send(batch: (0..<25).map { RedisCommand("ECHO", "\($0)") }).get()
            let refused = results.filter { if case .failure(let error as RedisError) = $0 { error.code == .tooManyPending } else { false } }
            #expect(refused.count >= 15)
            #expect(try await client.send("PING").get() == .simpleString("PONG"), "the connection stays usable")
            try await client.close().get()
        }
    }

    @Test func aPasswordAndADatabaseFromTheURLAreUsed() async throws {
        let server = try RedisServerProcess(arguments: ["--requirepass", "p@ss:w/rd"])
        defer { server.stopAndRemove() }
        try await withLoop { loop in
            let client = RedisClient(configuration: try .test("redis://:p%40ss%3Aw%2Frd@127.0.0.1:\(server.port)/3"), eventLoop: loop)
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            let info = try await client.send("CLIENT", "INFO").get().string ?? ""
            #expect(info.contains(" db=3 "))
            #expect(info.contains("name=palisade"))
            try await client.close().get()

            let wrong = RedisClient(configuration: try .test("redis://:nope@127.0.0.1:\(server.port)"), eventLoop: loop)
            #expect(await eventually { wrong.status.failedAttempts >= 1 })
            #expect(wrong.status.lastError?.code == .handshakeFailed)
            #expect(wrong.status.lastError?.message.contains("AUTH") == true)
            await #expect(throws: RedisError.self) { try await wrong.send("PING").get() }
            try await wrong.close().get()
        }
    }

    @Test func anACLUserLogsInWithUserAndPassword() async throws {
        let server = try RedisServerProcess(arguments: [
            "--user", "alice", "on", ">wonder land", "~*", "&*", "+@all",
            "--user", "default", "off",
        ])
        defer { server.stopAndRemove() }
        try await withLoop { loop in
            let client = RedisClient(configuration: try .test("redis://alice:wonder%20land@127.0.0.1:\(server.port)/1"), eventLoop: loop)
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            #expect(try await client.send("ACL", "WHOAMI").get().string == "alice")
            try await client.close().get()
        }
    }

    @Test func aCommandWithoutAnswerTimesOutAndTheConnectionIsReplaced() async throws {
        let server = try RedisServerProcess(arguments: ["--enable-debug-command", "yes"])
        defer { server.stopAndRemove() }
        try await withLoop { loop in
            let client = RedisClient(configuration: try .test(server.url), eventLoop: loop)
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            let sleeping = client.send(RedisCommand("DEBUG", "SLEEP", 2), timeout: .milliseconds(300))
            let behind = client.send("PING")
            await #expect { try await sleeping.get() } throws: { ($0 as? RedisError)?.code == .commandTimeout }
            await #expect { try await behind.get() } throws: { ($0 as? RedisError)?.code == .commandTimeout }
            #expect(await eventually { client.status.connections >= 2 && client.state == .up })
            #expect(client.status.lastError?.code == .commandTimeout)
            #expect(try await client.send("PING").get() == .simpleString("PONG"))
            try await client.close().get()
        }
    }

    @Test func latencyIsMeasuredByThePeriodicPing() async throws {
        let server = try RedisServerProcess()
        defer { server.stopAndRemove() }
        try await withLoop { loop in
            let client = RedisClient(configuration: try .test(server.url), eventLoop: loop)
            #expect(await eventually { client.status.latency != nil })
            #expect(client.status.server == server.address)
            try await client.close().get()
            #expect(client.state == .closed)
            await #expect { try await client.send("PING").get() } throws: { ($0 as? RedisError)?.code == .closed }
        }
    }
}

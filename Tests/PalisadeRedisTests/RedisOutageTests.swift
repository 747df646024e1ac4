import NIOConcurrencyHelpers
import NIOCore
import PalisadeRedisTestSupport
import Testing

@testable import PalisadeRedis

/// Redis killed (SIGKILL) in the middle of traffic, then started again on the same port.
@Suite("Redis outage", .serialized)
struct RedisOutageTests {
    @Test func killedAndRestartedRedisIsSurvived() async throws {
        let server = try RedisServerProcess()
        defer { server.stopAndRemove() }
        try await withLoop { loop in
            let inbox = Inbox()
            let resubscribed = NIOLockedValueBox(0)
            let client = RedisClient(configuration: try .test(server.url), eventLoop: loop)
            let subscriber = RedisSubscriber(
                configuration: try .test(server.url), eventLoop: loop,
                onResubscribed: { resubscribed.withLockedValue { $0 += 1 } }
            ) { inbox.append($0) }
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            #expect(await eventually { subscriber.state == .up })
            try await subscriber.subscribe(["events"]).get()
            try await subscriber.psubscribe(["room:*"]).get()

            // Traffic in flight while Redis dies: every command completes, with a reply or an error.
            let inFlight = (0..<5_000).map { client.send("INCR", "n\($0 % 10)") }
            server.kill()
            for future in inFlight { _ = try? await future.get() }

            #expect(await eventually { client.state != .up && subscriber.state != .up })
            // Fails fast while down: no waiting for a timeout.
            await #expect { try await client.send("PING").get() } throws: { ($0 as? RedisError)?.code == .notConnected }
            await #expect { try await subscriber.subscribe(["later"]).get() } throws: { ($0 as? RedisError)?.code == .notConnected }
            #expect(await eventually { client.status.failedAttempts >= 2 }, "it keeps retrying with backoff")
            #expect(client.status.lastError != nil)

            try server.restart()
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            #expect(try await client.send("PING").get() == .simpleString("PONG"))
            #expect(await eventually { subscriber.state == .up })
            #expect(client.status.connections >= 2 && subscriber.status.connections >= 2)
            #expect(resubscribed.withLockedValue { $0 } >= 2)

            // Everything wanted is subscribed again, the channel asked for while down included.
            try await subscriber.fence().get()
            #expect(try await client.send("PUBLISH", "events", "e1").get() == .integer(1))
            #expect(try await client.send("PUBLISH", "room:9", "r1").get() == .integer(1))
            #expect(try await client.send("PUBLISH", "later", "l1").get() == .integer(1))
            #expect(await eventually { inbox.messages.count == 3 })
            #expect(inbox.payloads(on: "events") == ["e1"] && inbox.payloads(on: "room:9") == ["r1"])
            try await subscriber.close().get()
            try await client.close().get()
        }
    }

    @Test func redisDownAtStartIsReportedAndRetried() async throws {
        let port = try RedisServerProcess.freePort()
        try await withLoop { loop in
            let client = RedisClient(configuration: try .test("redis://127.0.0.1:\(port)"), eventLoop: loop)
            #expect(await eventually { client.status.failedAttempts >= 3 })
            #expect(client.state != .up)
            #expect(client.status.lastError?.code == .connectionClosed)
            await #expect { try await client.send("GET", "k").get() } throws: { ($0 as? RedisError)?.code == .notConnected }
            try await client.close().get()
            #expect(client.state == .closed)
        }
    }

    @Test func backoffGrowsToItsBoundWithJitter() {
        let backoff = RedisBackoff(initial: .milliseconds(100), maximum: .seconds(2), jitter: 0.5)
        #expect(backoff.delay(attempt: 0, random: 0) == .milliseconds(100))
        #expect(backoff.delay(attempt: 3, random: 0) == .milliseconds(800))
        #expect(backoff.delay(attempt: 3, random: 1) == .milliseconds(400))
        #expect(backoff.delay(attempt: 30, random: 0) == .seconds(2))
        #expect(backoff.delay(attempt: 1_000, random: 0.5) == .milliseconds(1_500))
    }
}

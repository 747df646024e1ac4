import NIOConcurrencyHelpers
import NIOCore
import PalisadeRedisTestSupport
import Testing

@testable import PalisadeRedis

/// Collects what a subscriber delivers, readable from the test.
final class Inbox: Sendable {
    private let box = NIOLockedValueBox<[RedisPubSubMessage]>([])
    var messages: [RedisPubSubMessage] { box.withLockedValue { $0 } }
    func append(_ message: RedisPubSubMessage) { box.withLockedValue { $0.append(message) } }
    func payloads(on channel: String) -> [String] { messages.filter { $0.channel == channel }.map { String(buffer: $0.payload) } }
}

@Suite("Redis subscriber", .serialized)
struct RedisSubscriberTests {
    @Test func aSubscriptionIsLiveWhenItsFenceCompletes() async throws {
        let server = try RedisServerProcess()
        defer { server.stopAndRemove() }
        try await withLoop { loop in
            let inbox = Inbox()
            let client = RedisClient(configuration: try .test(server.url), eventLoop: loop)
            let subscriber = RedisSubscriber(configuration: try .test(server.url), eventLoop: loop) { inbox.append($0) }
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            #expect(await eventually { subscriber.state == .up })

            // python-socketio's room channel: subscribed, fenced, and a publish right after reaches it.
            try await subscriber.subscribe(["socketio#/#room:1"]).get()
            #expect(try await client.send("PUBLISH", "socketio#/#room:1", "hello").get() == .integer(1))
            try await subscriber.psubscribe(["socketio#/#user:*"]).get()
            #expect(try await client.send("PUBLISH", "socketio#/#user:7", ByteBuffer(bytes: [0, 1, 2])).get() == .integer(1))
            #expect(await eventually { inbox.messages.count == 2 })
            #expect(inbox.messages[0] == RedisPubSubMessage(channel: "socketio#/#room:1", payload: ByteBuffer(string: "hello")))
            #expect(
                inbox.messages[1]
                    == RedisPubSubMessage(
                        channel: "socketio#/#user:7", pattern: "socketio#/#user:*",
                        payload: ByteBuffer(bytes: [0, 1, 2])))

            try await subscriber.unsubscribe(["socketio#/#room:1"]).get()
            #expect(try await client.send("PUBLISH", "socketio#/#room:1", "gone").get() == .integer(0))
            try await subscriber.punsubscribe(["socketio#/#user:*"]).get()
            try await subscriber.fence().get()  // also out of subscribe mode, where PING answers plainly
            let subscriptions = try await subscriber.subscriptions().get()
            #expect(subscriptions.channels.isEmpty && subscriptions.patterns.isEmpty)
            try await subscriber.close().get()
            try await client.close().get()
        }
    }

    /// A link that stops answering without closing (the server frozen here by DEBUG SLEEP, as a
    /// partition would leave it) is found by the subscriber's periodic fence and replaced.
    @Test func aLinkThatStopsAnsweringIsReplaced() async throws {
        let server = try RedisServerProcess(arguments: ["--enable-debug-command", "yes"])
        defer { server.stopAndRemove() }
        try await withLoop { loop in
            let inbox = Inbox()
            var configuration = try RedisConfiguration.test(server.url)
            configuration.commandTimeout = .seconds(1)
            let client = RedisClient(configuration: try .test(server.url), eventLoop: loop)
            let subscriber = RedisSubscriber(configuration: configuration, eventLoop: loop) { inbox.append($0) }
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            #expect(await eventually { subscriber.state == .up })
            try await subscriber.subscribe(["room"]).get()
            #expect(subscriber.status.connections == 1)

            let sleeping = client.send(RedisCommand("DEBUG", "SLEEP", 4))
            #expect(await eventually(15) { subscriber.status.connections >= 2 }, "the frozen link was replaced")
            #expect(try await sleeping.get() == .simpleString("OK"))
            // Subscribed again: a publish reaches it (tried again while a loaded machine may still
            // be reconnecting, its fences slowed by the server catching up).
            #expect(try await eventually(15) { try await client.send("PUBLISH", "room", "after").get() == .integer(1) })
            #expect(await eventually { inbox.payloads(on: "room").contains("after") })
            try await subscriber.close().get()
            try await client.close().get()
        }
    }

    @Test func messagesArriveInPublishOrder() async throws {
        let server = try RedisServerProcess()
        defer { server.stopAndRemove() }
        try await withLoop { loop in
            let inbox = Inbox()
            let client = RedisClient(configuration: try .test(server.url), eventLoop: loop)
            let subscriber = RedisSubscriber(configuration: try .test(server.url), eventLoop: loop) { inbox.append($0) }
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            #expect(await eventually { subscriber.state == .up })
            try await subscriber.subscribe(["a", "b"]).get()
            let count = 2_000
            _ = try await client.send(batch: (0..<count).map { RedisCommand("PUBLISH", $0.isMultiple(of: 2) ? "a" : "b", "\($0)") }).get()
            #expect(await eventually { inbox.messages.count == count })
            #expect(inbox.messages.map { String(buffer: $0.payload) } == (0..<count).map { "\($0)" })
            try await subscriber.close().get()
            try await client.close().get()
        }
    }
}

import NIOCore
import PalisadeRedisTestSupport
import Testing

@testable import PalisadeRedis

/// A master with a password, a replica, and a Sentinel (without a password) watching both as services.
@Suite("Redis Sentinel", .serialized)
struct RedisSentinelTests {
    @Test func theMasterIsFoundThroughTheSentinelsInOrder() async throws {
        let master = try RedisServerProcess(arguments: ["--requirepass", "mpw"])
        defer { master.stopAndRemove() }
        let replica = try RedisServerProcess(arguments: [
            "--requirepass", "mpw", "--masterauth", "mpw",
            "--replicaof", "127.0.0.1", "\(master.port)",
        ])
        defer { replica.stopAndRemove() }
        let sentinel = try RedisServerProcess(
            configFile: [
                "sentinel monitor mymaster 127.0.0.1 \(master.port) 1",
                "sentinel auth-pass mymaster mpw",
                "sentinel down-after-milliseconds mymaster 60000",
                // A "service" whose configured address is a replica: ROLE must catch it.
                "sentinel monitor stale 127.0.0.1 \(replica.port) 1",
                "sentinel auth-pass stale mpw",
                "sentinel down-after-milliseconds stale 60000",
            ], sentinel: true)
        defer { sentinel.stopAndRemove() }
        let dead = try RedisServerProcess.freePort()

        try await withLoop { loop in
            // The first sentinel is down; the second answers. The master's password is offered to the
            // sentinel too (Open WebUI's sentinel_kwargs) and its refusal is tolerated.
            let url = "redis+sentinel://:mpw@127.0.0.1:\(dead),127.0.0.1:\(sentinel.port)/2/mymaster"
            let client = RedisClient(configuration: try .test(url), eventLoop: loop)
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            #expect(client.status.server == master.address)
            #expect(try await client.send("CLIENT", "INFO").get().string?.contains(" db=2 ") == true)
            let subscriber = RedisSubscriber(configuration: try .test(url), eventLoop: loop) { _ in }
            #expect(await eventually { subscriber.state == .up })
            try await subscriber.close().get()
            try await client.close().get()

            // Open WebUI's separate settings lead to the same master.
            let separate = try RedisURL.openWebUI(
                url: "redis://:mpw@mymaster:6379/0", sentinelHosts: "127.0.0.1",
                sentinelPort: "\(sentinel.port)", sentinelMaxRetryCount: "0")
            var configuration = try RedisConfiguration.test("redis://unused")
            configuration.url = separate
            let viaSettings = RedisClient(configuration: configuration, eventLoop: loop)
            try await viaSettings.waitUntilUp(timeout: .seconds(30)).get()
            #expect(viaSettings.status.server == master.address)
            try await viaSettings.close().get()

            let stale = RedisClient(configuration: try .test("redis+sentinel://:mpw@127.0.0.1:\(sentinel.port)/0/stale"), eventLoop: loop)
            #expect(await eventually { stale.status.lastError != nil })
            #expect(stale.status.lastError?.code == .sentinel)
            #expect(stale.status.lastError?.message.contains("not a master") == true)
            try await stale.close().get()

            let unknown = RedisClient(configuration: try .test("redis+sentinel://127.0.0.1:\(sentinel.port)/0/nosuch"), eventLoop: loop)
            #expect(await eventually { unknown.status.lastError != nil })
            #expect(unknown.status.lastError?.message.contains("does not know 'nosuch'") == true)
            try await unknown.close().get()
        }
    }
}

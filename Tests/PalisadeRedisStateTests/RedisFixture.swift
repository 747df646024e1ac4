import NIOCore
import NIOPosix
import PalisadeRedis

/// A real redis-server for one test, a loop group of two threads (the client's loop and another,
/// so answers must hop to the loop a caller names), and a client that is up.
final class RedisFixture: Sendable {
    let server: RedisServerProcess
    let group: MultiThreadedEventLoopGroup
    let client: RedisClient
    /// Not the client's loop.
    let callerLoop: any EventLoop

    private init(server: RedisServerProcess, group: MultiThreadedEventLoopGroup, client: RedisClient, callerLoop: any EventLoop) {
        self.server = server
        self.group = group
        self.client = client
        self.callerLoop = callerLoop
    }

    /// Another client of the same server on its own loop: what a second Palisade instance holds.
    func makeClient(commandTimeout: TimeAmount = .seconds(20)) throws -> RedisClient {
        var configuration = try RedisConfiguration.test(server.url)
        configuration.commandTimeout = commandTimeout
        return RedisClient(configuration: configuration, eventLoop: group.next())
    }

    /// Runs `body` with a fresh server and client; stops both afterwards, whether `body` throws or not.
    static func with<Result>(
        commandTimeout: TimeAmount = .seconds(20), serverArguments: [String] = [], _ body: (RedisFixture) async throws -> Result
    ) async throws -> Result {
        let server = try RedisServerProcess(arguments: serverArguments)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let clientLoop = group.next()
        let callerLoop = group.next()
        var configuration = try RedisConfiguration.test(server.url)
        configuration.commandTimeout = commandTimeout
        let client = RedisClient(configuration: configuration, eventLoop: clientLoop)
        let fixture = RedisFixture(server: server, group: group, client: client, callerLoop: callerLoop)
        defer { server.stopAndRemove() }
        do {
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            let result = try await body(fixture)
            try await client.close().get()
            try await group.shutdownGracefully()
            return result
        } catch {
            _ = try? await client.close().get()
            try? await group.shutdownGracefully()
            throw error
        }
    }
}

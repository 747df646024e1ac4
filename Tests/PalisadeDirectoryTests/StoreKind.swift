import NIOCore
import NIOPosix
import PalisadeDirectory
import PalisadeRedis
import PalisadeRedisState
import PalisadeRedisTestSupport
import Testing

/// The backends the behavioural tests run against; each must pass the same tests.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case memory
    case sqlite
    /// A fresh redis-server for each test.
    case redis

    var testDescription: String { rawValue }

    /// Runs `body` with a fresh store (SQLite in a fresh temporary data directory), then closes
    /// it and removes the directory, whether `body` throws or not.
    func withStore<Result>(_ body: (any DirectoryStore) async throws -> Result) async throws -> Result {
        switch self {
        case .memory:
            return try await Self.closing(MemoryDirectoryStore(), body)
        case .sqlite:
            return try await withTemporaryDirectory { folder in
                try await Self.closing(SQLiteDirectoryStore(dataDirectory: folder), body)
            }
        case .redis:
            let server = try RedisServerProcess()
            defer { server.stopAndRemove() }
            let client = RedisClient(
                configuration: try RedisConfiguration.test(server.url), eventLoop: MultiThreadedEventLoopGroup.singleton.next())
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            defer { _ = client.close() }
            return try await Self.closing(RedisDirectoryStore(client: client, prefix: "test"), body)
        }
    }

    private static func closing<Result>(
        _ store: any DirectoryStore, _ body: (any DirectoryStore) async throws -> Result
    ) async throws -> Result {
        do {
            let result = try await body(store)
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }
}

import NIOCore
import PalisadeRedis
import PalisadeRedisState
import PalisadeState

/// The backends the store behaviour suite runs against: the memory store (on the real clock, as
/// the Redis one is), Redis, and the fallback wrapper while Redis is up.
enum StoreKind: String, CaseIterable, CustomStringConvertible {
    case memory, redis, fallback

    var description: String { rawValue }

    func makeStore(_ fixture: RedisFixture, maxEntryBytes: Int = 1 << 20) -> any StateStore {
        let memory = MemoryStateStore(configuration: .init(maxEntryBytes: maxEntryBytes))
        let redis = RedisStateStore(client: fixture.client, maxEntryBytes: maxEntryBytes)
        switch self {
        case .memory: return memory
        case .redis: return redis
        case .fallback: return FallbackStateStore(redis: redis, memory: memory)
        }
    }
}

/// The `StateError` code `body` fails with; nil when it succeeds or fails otherwise.
func stateErrorCode(_ body: () async throws -> Void) async -> StateError.Code? {
    do {
        try await body()
        return nil
    } catch let error as StateError {
        return error.code
    } catch {
        return nil
    }
}

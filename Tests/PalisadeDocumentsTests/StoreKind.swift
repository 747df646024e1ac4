import PalisadeDocuments
import Synchronization
import Testing

/// The backends the behaviour tests run against; each must pass the same tests.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case memory
    case sqlite

    var testDescription: String { rawValue }

    /// Runs `body` with a fresh store (SQLite in a fresh temporary data directory) reading time
    /// from `clock`, then closes it and removes the directory, whether `body` throws or not.
    func withStore<Result>(
        clock: TestClock = TestClock(), maxBlobBytes: Int? = nil,
        _ body: (any DocumentStore) async throws -> Result
    ) async throws -> Result {
        switch self {
        case .memory:
            let store =
                maxBlobBytes.map { MemoryDocumentStore(maxBlobBytes: $0, clock: clock.read) }
                ?? MemoryDocumentStore(clock: clock.read)
            return try await closing(store, body)
        case .sqlite:
            return try await withTemporaryDirectory { folder in
                let store = try SQLiteDocumentStore(
                    dataDirectory: folder, configuration: .init(maxBlobBytes: maxBlobBytes), clock: clock.read)
                return try await closing(store, body)
            }
        }
    }
}

func closing<Store: DocumentStore, Result>(
    _ store: Store, _ body: (Store) async throws -> Result
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

/// Wall-clock time that only moves when a test says so (milliseconds since 1970).
final class TestClock: Sendable {
    private let now = Mutex<Int64>(1_800_000_000_000)

    var read: @Sendable () -> Int64 { { [self] in now.withLock { $0 } } }

    func advance(seconds: Double) {
        now.withLock { $0 += Int64(seconds * 1000) }
    }
}

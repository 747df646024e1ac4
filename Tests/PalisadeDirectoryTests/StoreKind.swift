import NIOCore
import PalisadeDirectory
import Testing

/// The backends the behavioural tests run against; each must pass the same tests.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case memory
    case sqlite

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

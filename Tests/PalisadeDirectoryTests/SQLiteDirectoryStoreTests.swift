import NIOCore
import NIOPosix
import PalisadeDirectory
import PalisadeJSON
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What only the SQLite backend has: a file that outlives the process, and a disk that can fail.
@Suite("SQLiteDirectoryStore")
struct SQLiteDirectoryStoreTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    @Test func recordsSurviveClosingAndReopeningTheDataDirectory() async throws {
        try await withTemporaryDirectory { folder in
            let first = try SQLiteDirectoryStore(dataDirectory: folder)
            for record in OpenWebUIRecords.all {
                try await first.put(kind: record.kind, id: record.id, record: JSONParser.parse(record.text), on: loop).get()
            }
            _ = try await first.delete(kind: "user", id: "u2", on: loop).get()
            await first.close()

            let second = try await SQLiteDirectoryStore.open(dataDirectory: folder + "/")
            for record in OpenWebUIRecords.all where record.id != "u2" {
                let stored = try await second.get(kind: record.kind, id: record.id, on: loop).get()
                #expect(stored.map(JSONWriter.string) == record.text)
            }
            #expect(try await second.get(kind: "user", id: "u2", on: loop).get() == nil)
            #expect(try await second.list(kind: "note", on: loop).get() == ["n-private", "n-public", "n-shared"])
            await second.close()
        }
    }

    @Test func closeFinishesTheWorkAlreadyAskedFor() async throws {
        try await withTemporaryDirectory { folder in
            let store = try SQLiteDirectoryStore(dataDirectory: folder)
            let puts = (0..<200).map { n in
                store.put(kind: "note", id: "n\(n)", record: .object(["n": JSONValue(n)]), on: loop)
            }
            await store.close()
            try await EventLoopFuture.andAllSucceed(puts, on: loop).get()

            let reopened = try SQLiteDirectoryStore(dataDirectory: folder)
            #expect(try await reopened.list(kind: "note", on: loop).get().count == 200)
            await reopened.close()
        }
    }

    @Test func missingDataDirectoryAndParentsAreCreated() async throws {
        try await withTemporaryDirectory { folder in
            let dataDirectory = folder + "/var/lib/palisade"
            let store = try SQLiteDirectoryStore(dataDirectory: dataDirectory)
            #expect(store.path == dataDirectory + "/directory.sqlite3")
            try await store.put(kind: "user", id: "u1", record: .object([:]), on: loop).get()
            #expect(fileExists(store.path))
            // WAL mode: writes go to the -wal file while open; the last close folds it back.
            #expect(fileExists(store.path + "-wal"))
            await store.close()
            #expect(!fileExists(store.path + "-wal"))
            var status = stat()
            #expect(stat(dataDirectory, &status) == 0)
            #expect(status.st_mode & 0o777 == 0o700)
        }
    }

    @Test func aCorruptDatabaseFileIsAClearError() async throws {
        try await withTemporaryDirectory { folder in
            try writeFile(folder + "/directory.sqlite3", String(repeating: "this is not an SQLite database\n", count: 200))
            let error = try #require(throws: DirectoryError.self) { try SQLiteDirectoryStore(dataDirectory: folder) }
            #expect(error.code == .cannotOpen)
            #expect(error.message.contains(folder + "/directory.sqlite3"))
            #expect(error.message.contains("not a database"))
        }
    }

    @Test func aDataDirectoryThatIsAFileIsAClearError() async throws {
        try await withTemporaryDirectory { folder in
            try writeFile(folder + "/data", "a file, not a folder")
            let error = try #require(throws: DirectoryError.self) { try SQLiteDirectoryStore(dataDirectory: folder + "/data") }
            #expect(error.code == .cannotOpen)
            #expect(error.message == "data directory \(folder)/data exists and is not a directory")

            let below = try #require(throws: DirectoryError.self) { try SQLiteDirectoryStore(dataDirectory: folder + "/data/sub") }
            #expect(below.code == .cannotOpen)
            #expect(below.message == "data directory \(folder)/data exists and is not a directory")
        }
    }

    @Test func aDatabasePathThatIsAFolderIsAClearError() async throws {
        try await withTemporaryDirectory { folder in
            #expect(mkdir(folder + "/directory.sqlite3", 0o700) == 0)
            let error = try #require(throws: DirectoryError.self) { try SQLiteDirectoryStore(dataDirectory: folder) }
            #expect(error.code == .cannotOpen)
            #expect(error.message.hasPrefix("cannot open \(folder)/directory.sqlite3: "))
        }
    }

    /// Root ignores permission bits, so this can only be checked as another user.
    @Test(.enabled(if: getuid() != 0, "root ignores permission bits"))
    func anUnwritableDataDirectoryIsAClearError() async throws {
        try await withTemporaryDirectory { folder in
            #expect(chmod(folder, 0o500) == 0)
            defer { chmod(folder, 0o700) }
            let error = try #require(throws: DirectoryError.self) { try SQLiteDirectoryStore(dataDirectory: folder) }
            #expect(error.code == .cannotOpen)
            let nested = try #require(throws: DirectoryError.self) { try SQLiteDirectoryStore(dataDirectory: folder + "/sub") }
            #expect(nested.message.contains("Permission denied"))
        }
    }

    @Test func anEmptyDataDirectoryPathIsRefused() {
        let error = #expect(throws: DirectoryError.self) { try SQLiteDirectoryStore(dataDirectory: "") }
        #expect(error?.code == .cannotOpen)
    }
}

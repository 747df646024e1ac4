import NIOCore
import NIOPosix
import PalisadeDocuments
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What only the SQLite backend has: a file that outlives the process, group commit, SQLite's limits.
@Suite("SQLiteDocumentStore")
struct SQLiteDocumentStoreTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    @Test func reopeningTheDataDirectoryKeepsEverythingAndContinuesSequences() async throws {
        try await withTemporaryDirectory { folder in
            let first = try SQLiteDocumentStore(dataDirectory: folder)
            for n in 1...4 { _ = try await first.append("doc", update: [UInt8(n)], on: loop).get() }
            try await first.compact("doc", snapshot: [0xAA], through: 2, on: loop).get()
            for n in 1...3 { _ = try await first.append("all-compacted", update: [UInt8(n)], on: loop).get() }
            try await first.compact("all-compacted", snapshot: [0xBB], through: 3, on: loop).get()
            _ = try await first.append("deleted", update: [1], on: loop).get()
            _ = try await first.delete("deleted", on: loop).get()
            await first.close()

            let second = try await SQLiteDocumentStore.open(dataDirectory: folder + "/")
            #expect(second.path == folder + "/documents.sqlite3")
            #expect(
                try await second.load("doc", on: loop).get()
                    == StoredDocument(snapshot: [0xAA], snapshotSequence: 2, updates: [(3, [3]), (4, [4])]))
            #expect(try await second.load("deleted", on: loop).get() == nil)
            #expect(try await second.append("doc", update: [5], on: loop).get() == 5)
            // No update left, the counter still carries on after the snapshot.
            #expect(try await second.append("all-compacted", update: [4], on: loop).get() == 4)
            #expect(try await second.append("deleted", update: [1], on: loop).get() == 1)
            await second.close()
        }
    }

    @Test func closeFinishesTheWorkAlreadyAskedFor() async throws {
        try await withTemporaryDirectory { folder in
            let store = try SQLiteDocumentStore(dataDirectory: folder)
            let appends = (0..<500).map { n in store.append("doc-\(n % 7)", update: [UInt8(n & 0xFF)], on: loop) }
            await store.close()
            _ = try await EventLoopFuture.whenAllSucceed(appends, on: loop).get()

            let reopened = try SQLiteDocumentStore(dataDirectory: folder)
            var total = 0
            for n in 0..<7 { total += try await reopened.load("doc-\(n)", on: loop).get()?.updates.count ?? 0 }
            #expect(total == 500)
            await reopened.close()
        }
    }

    /// The store's thread is held while 2 000 appends queue up behind it: they must go to disk
    /// in two transactions (batches are capped at 1 024 updates), three if the drain caught the
    /// first few early, and in order.
    @Test func appendsQueuedWhileTheThreadIsBusyShareOneCommit() async throws {
        try await withTemporaryDirectory { folder in
            let store = try SQLiteDocumentStore(dataDirectory: folder)
            let before = store.transactionCount
            let release = store.holdThread()
            let appends = (0..<2000).map { n in store.append("doc", update: [UInt8(n & 0xFF), UInt8(n >> 8)], on: loop) }
            release()
            let sequences = try await EventLoopFuture.whenAllSucceed(appends, on: loop).get()
            #expect(sequences == Array(1...2000))
            #expect((2...3).contains(store.transactionCount - before))
            let document = try #require(try await store.load("doc", on: loop).get())
            #expect(document.updates.map(\.bytes) == (0..<2000).map { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
            await store.close()
        }
    }

    /// Without holding anything: 2 000 appends from 8 concurrent tasks, to 4 documents.
    /// Whatever arrives while a commit runs joins the next one, so far fewer commits than appends.
    @Test func concurrentAppendsTakeFarFewerCommitsThanAppends() async throws {
        try await withTemporaryDirectory { folder in
            let store = try SQLiteDocumentStore(dataDirectory: folder)
            let before = store.transactionCount
            let loop = self.loop
            try await withThrowingTaskGroup(of: [Int64].self) { group in
                for task in 0..<8 {
                    group.addTask {
                        let futures = (0..<250).map { n in
                            store.append("doc-\(task % 4)", update: [UInt8(task), UInt8(n & 0xFF)], on: loop)
                        }
                        return try await EventLoopFuture.whenAllSucceed(futures, on: loop).get()
                    }
                }
                for try await sequences in group {
                    // Each task's appends to one document come back in the order it asked.
                    #expect(sequences == sequences.sorted())
                }
            }
            let commits = store.transactionCount - before
            #expect(commits < 1000, "2 000 appends took \(commits) commits")
            for n in 0..<4 {
                let document = try #require(try await store.load("doc-\(n)", on: loop).get())
                #expect(document.updates.map(\.sequence) == Array(1...500))
            }
            await store.close()
        }
    }

    /// A row SQLite finds too big (the update fits the limit, the id pushes the row over) fails
    /// only its own append, not the others committed with it.
    @Test func aRowTooBigForSQLiteFailsOnlyItsOwnAppend() async throws {
        try await withTemporaryDirectory { folder in
            let store = try SQLiteDocumentStore(dataDirectory: folder, configuration: .init(maxBlobBytes: 4096))
            #expect(store.maxBlobBytes == 4096)
            let release = store.holdThread()
            let before = store.append("doc", update: [1], on: loop)
            let tooBig = store.append("doc", update: [UInt8](repeating: 7, count: 4096), on: loop)
            let after = store.append("doc", update: [3], on: loop)
            release()
            #expect(try await before.get() == 1)
            let error = await #expect(throws: DocumentStoreError.self) { try await tooBig.get() }
            #expect(error?.code == .tooLarge)
            #expect(try await after.get() == 2)
            #expect(try await store.load("doc", on: loop).get()?.updates.map(\.bytes) == [[1], [3]])
            await store.close()
        }
    }

    @Test func largeBlobsRoundTrip() async throws {
        try await withTemporaryDirectory { folder in
            let store = try SQLiteDocumentStore(dataDirectory: folder)
            let update = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            _ = try await store.append("big", update: update, on: loop).get()
            try await store.compact("big", snapshot: update.reversed(), through: 0, on: loop).get()
            let document = try #require(try await store.load("big", on: loop).get())
            #expect(document.snapshot == update.reversed())
            #expect(document.updates.first?.bytes == update)
            await store.close()
        }
    }

    @Test func theFileIsInWALModeAndTheLastCloseFoldsTheLogBack() async throws {
        try await withTemporaryDirectory { folder in
            let dataDirectory = folder + "/var/lib/palisade"
            let store = try SQLiteDocumentStore(dataDirectory: dataDirectory)
            #expect(store.path == dataDirectory + "/documents.sqlite3")
            _ = try await store.append("doc", update: [1], on: loop).get()
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
            try writeFile(folder + "/documents.sqlite3", String(repeating: "this is not an SQLite database\n", count: 200))
            let error = try #require(throws: DocumentStoreError.self) { try SQLiteDocumentStore(dataDirectory: folder) }
            #expect(error.code == .cannotOpen)
            #expect(error.message.contains(folder + "/documents.sqlite3"))
            #expect(error.message.contains("not a database"))
        }
    }

    @Test func aDataDirectoryThatIsAFileIsAClearError() async throws {
        try await withTemporaryDirectory { folder in
            try writeFile(folder + "/data", "a file, not a folder")
            let error = try #require(throws: DocumentStoreError.self) { try SQLiteDocumentStore(dataDirectory: folder + "/data") }
            #expect(error.code == .cannotOpen)
            #expect(error.message == "data directory \(folder)/data exists and is not a directory")
        }
    }

    @Test func aFileFromANewerSchemaIsRefused() async throws {
        try await withTemporaryDirectory { folder in
            let store = try SQLiteDocumentStore(dataDirectory: folder)
            await store.close()
            // `PRAGMA user_version` is the big-endian 32-bit number at offset 60 of the header.
            let file = open(folder + "/documents.sqlite3", O_WRONLY)
            #expect(file >= 0)
            var version: [UInt8] = [0, 0, 0, 2]
            #expect(pwrite(file, &version, 4, 60) == 4)
            close(file)
            let error = try #require(throws: DocumentStoreError.self) { try SQLiteDocumentStore(dataDirectory: folder) }
            #expect(error.code == .cannotOpen)
            #expect(error.message.contains("schema version 2"))
        }
    }
}

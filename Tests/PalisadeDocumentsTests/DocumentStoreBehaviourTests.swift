import NIOCore
import NIOPosix
import PalisadeDocuments
import Testing

/// What every `DocumentStore` must do, run against each backend.
@Suite("DocumentStore behaviour")
struct DocumentStoreBehaviourTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    @Test(arguments: StoreKind.allCases)
    func anUnknownDocumentLoadsAsNil(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            #expect(try await store.load("nothing-here", on: loop).get() == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func appendsGetIncreasingSequencesPerDocumentAndLoadInOrder(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            #expect(try await store.append("a", update: [1], on: loop).get() == 1)
            #expect(try await store.append("a", update: [2, 2], on: loop).get() == 2)
            #expect(try await store.append("b", update: [9], on: loop).get() == 1)
            #expect(try await store.append("a", update: [], on: loop).get() == 3)

            let a = try #require(try await store.load("a", on: loop).get())
            #expect(a == StoredDocument(snapshot: nil, snapshotSequence: 0, updates: [(1, [1]), (2, [2, 2]), (3, [])]))
            let b = try #require(try await store.load("b", on: loop).get())
            #expect(b == StoredDocument(snapshot: nil, snapshotSequence: 0, updates: [(1, [9])]))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func idsAreComparedByteForByte(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            // Canonically equivalent in Swift, different bytes: two documents.
            _ = try await store.append("caf\u{E9}", update: [1], on: loop).get()
            #expect(try await store.append("cafe\u{301}", update: [2], on: loop).get() == 1)
            #expect(try await store.load("caf\u{E9}", on: loop).get()?.updates.map(\.bytes) == [[1]])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func appendsAskedTogetherKeepTheirOrder(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            let futures = (0..<300).map { n in store.append("doc", update: [UInt8(n & 0xFF), UInt8(n >> 8)], on: loop) }
            let sequences = try await EventLoopFuture.whenAllSucceed(futures, on: loop).get()
            #expect(sequences == Array(1...300))
            let document = try #require(try await store.load("doc", on: loop).get())
            #expect(document.updates.map(\.sequence) == Array(1...300))
            #expect(document.updates.map(\.bytes) == (0..<300).map { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        }
    }

    @Test(arguments: StoreKind.allCases)
    func compactionReplacesUpdatesThroughItsSequenceAndKeepsLaterOnes(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            for n in 1...5 { _ = try await store.append("doc", update: [UInt8(n)], on: loop).get() }
            // The relay read the document through 3; 4 and 5 arrived meanwhile.
            try await store.compact("doc", snapshot: [0xAA, 3], through: 3, on: loop).get()
            let compacted = try #require(try await store.load("doc", on: loop).get())
            #expect(compacted == StoredDocument(snapshot: [0xAA, 3], snapshotSequence: 3, updates: [(4, [4]), (5, [5])]))

            // Sequences carry on after the snapshot, even when it covers every update.
            try await store.compact("doc", snapshot: [0xAA, 5], through: 5, on: loop).get()
            #expect(try await store.append("doc", update: [6], on: loop).get() == 6)
            let later = try #require(try await store.load("doc", on: loop).get())
            #expect(later == StoredDocument(snapshot: [0xAA, 5], snapshotSequence: 5, updates: [(6, [6])]))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aCompactionOlderThanTheStoredSnapshotIsIgnored(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            for n in 1...4 { _ = try await store.append("doc", update: [UInt8(n)], on: loop).get() }
            try await store.compact("doc", snapshot: [0xBB], through: 3, on: loop).get()
            try await store.compact("doc", snapshot: [0xCC], through: 2, on: loop).get()
            let document = try #require(try await store.load("doc", on: loop).get())
            #expect(document == StoredDocument(snapshot: [0xBB], snapshotSequence: 3, updates: [(4, [4])]))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func compactionOfAnUnknownDocumentChangesNothing(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            try await store.compact("gone", snapshot: [1], through: 0, on: loop).get()
            #expect(try await store.load("gone", on: loop).get() == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func compactionBeyondTheLastUpdateOrBelowZeroIsRefused(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            _ = try await store.append("doc", update: [1], on: loop).get()
            let future = await #expect(throws: DocumentStoreError.self) {
                try await store.compact("doc", snapshot: [1], through: 2, on: loop).get()
            }
            #expect(future?.code == .invalidArgument)
            let negative = await #expect(throws: DocumentStoreError.self) {
                try await store.compact("doc", snapshot: [1], through: -1, on: loop).get()
            }
            #expect(negative?.code == .invalidArgument)
            #expect(try await store.load("doc", on: loop).get() == StoredDocument(snapshot: nil, snapshotSequence: 0, updates: [(1, [1])]))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func deleteRemovesTheDocumentAndSaysWhetherThereWasOne(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            _ = try await store.append("doc", update: [1], on: loop).get()
            _ = try await store.append("doc", update: [2], on: loop).get()
            try await store.compact("doc", snapshot: [7], through: 1, on: loop).get()
            _ = try await store.append("other", update: [3], on: loop).get()

            #expect(try await store.delete("doc", on: loop).get())
            #expect(try await store.load("doc", on: loop).get() == nil)
            #expect(try await !store.delete("doc", on: loop).get())
            #expect(try await store.load("other", on: loop).get()?.updates.count == 1)
            // A deleted document starts again from sequence 1.
            #expect(try await store.append("doc", update: [4], on: loop).get() == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anAppendAskedAfterADeleteSurvivesIt(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            let first = store.append("doc", update: [1], on: loop)
            let deleted = store.delete("doc", on: loop)
            let second = store.append("doc", update: [2], on: loop)
            #expect(try await first.get() == 1)
            #expect(try await deleted.get())
            #expect(try await second.get() == 1)
            #expect(try await store.load("doc", on: loop).get() == StoredDocument(snapshot: nil, snapshotSequence: 0, updates: [(1, [2])]))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func purgeDeletesDocumentsNotAppendedToForTheGivenAge(kind: StoreKind) async throws {
        let clock = TestClock()
        try await kind.withStore(clock: clock) { store async throws in
            _ = try await store.append("old", update: [1], on: loop).get()
            _ = try await store.append("touched", update: [1], on: loop).get()
            clock.advance(seconds: 3600)
            _ = try await store.append("touched", update: [2], on: loop).get()
            _ = try await store.append("new", update: [1], on: loop).get()
            // Compaction is not a write for purge.
            try await store.compact("old", snapshot: [9], through: 1, on: loop).get()
            clock.advance(seconds: 60)

            #expect(try await store.purge(untouchedFor: 3600, on: loop).get() == 1)
            #expect(try await store.load("old", on: loop).get() == nil)
            #expect(try await store.load("touched", on: loop).get()?.updates.count == 2)
            #expect(try await store.load("new", on: loop).get() != nil)

            #expect(try await store.purge(untouchedFor: 1e300, on: loop).get() == 0)
            #expect(try await store.purge(untouchedFor: 59, on: loop).get() == 2)
            #expect(try await store.load("touched", on: loop).get() == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func purgeRefusesANegativeOrNonFiniteAge(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            _ = try await store.append("doc", update: [1], on: loop).get()
            for age in [-1, Double.nan, Double.infinity] {
                let error = await #expect(throws: DocumentStoreError.self) { try await store.purge(untouchedFor: age, on: loop).get() }
                #expect(error?.code == .invalidArgument)
            }
            #expect(try await store.load("doc", on: loop).get() != nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func badIdsAreRefusedByEveryCall(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            let longest = String(repeating: "é", count: DocumentID.maxBytes / 2)  // 512 bytes
            #expect(try await store.append(longest, update: [1], on: loop).get() == 1)
            #expect(try await store.load(longest, on: loop).get() != nil)

            for id in ["", longest + "x"] {
                let errors: [DocumentStoreError?] = [
                    await #expect(throws: DocumentStoreError.self) { try await store.load(id, on: loop).get() },
                    await #expect(throws: DocumentStoreError.self) { try await store.append(id, update: [1], on: loop).get() },
                    await #expect(throws: DocumentStoreError.self) {
                        try await store.compact(id, snapshot: [1], through: 0, on: loop).get()
                    },
                    await #expect(throws: DocumentStoreError.self) { try await store.delete(id, on: loop).get() },
                ]
                #expect(errors.map { $0?.code } == Array(repeating: .invalidID, count: 4))
                // The message describes the id and never echoes it.
                #expect(errors.allSatisfy { $0.map { !$0.message.contains("éx") } ?? false })
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func blobsOverTheLimitAreRefusedAndTheStoreCarriesOn(kind: StoreKind) async throws {
        try await kind.withStore(maxBlobBytes: 4096) { store async throws in
            let tooLarge = await #expect(throws: DocumentStoreError.self) {
                try await store.append("doc", update: [UInt8](repeating: 1, count: 4097), on: loop).get()
            }
            #expect(tooLarge?.code == .tooLarge)
            #expect(try await store.append("doc", update: [UInt8](repeating: 1, count: 100), on: loop).get() == 1)
            let snapshot = await #expect(throws: DocumentStoreError.self) {
                try await store.compact("doc", snapshot: [UInt8](repeating: 1, count: 4097), through: 1, on: loop).get()
            }
            #expect(snapshot?.code == .tooLarge)
            #expect(try await store.load("doc", on: loop).get()?.updates.map(\.sequence) == [1])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func callsAfterCloseFailWithClosed(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            _ = try await store.append("doc", update: [1], on: loop).get()
            await store.close()
            await store.close()
            let append = await #expect(throws: DocumentStoreError.self) { try await store.append("doc", update: [1], on: loop).get() }
            #expect(append?.code == .closed)
            let load = await #expect(throws: DocumentStoreError.self) { try await store.load("doc", on: loop).get() }
            #expect(load?.code == .closed)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func futuresCompleteOnTheCallersLoop(kind: StoreKind) async throws {
        try await kind.withStore { store async throws in
            let done = try await loop.submit {
                store.append("doc", update: [1], on: loop).map { _ in loop.inEventLoop }
            }.flatMap { $0 }.get()
            #expect(done)
            let other = MultiThreadedEventLoopGroup.singleton.any()
            #expect(try await store.load("doc", on: other).map { _ in other.inEventLoop }.get())
        }
    }
}

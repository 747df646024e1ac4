import Testing
@testable import PalisadeDocuments

@Suite struct DocumentStorePlaceholderTests {
    @Test func storedDocumentsCompare() {
        #expect(StoredDocument(snapshot: nil, snapshotSequence: 0, updates: []) == StoredDocument(snapshot: nil, snapshotSequence: 0, updates: []))
    }
}

/// The rule for document ids, shared by both stores so they refuse the same ids.
public enum DocumentID {
    /// 512 bytes of UTF-8: room for a namespaced id (`workspace/…/note-uuid`), small enough that
    /// an id never dominates a row or a log line.
    public static let maxBytes = 512

    /// Throws `invalidID` for an empty id or one longer than `maxBytes` bytes of UTF-8.
    /// Any other text is accepted: the store compares ids byte for byte.
    public static func validate(_ id: String) throws(DocumentStoreError) {
        let count = id.utf8.count
        guard count > 0 else { throw DocumentStoreError(.invalidID, "the document id is empty") }
        guard count <= maxBytes else {
            throw DocumentStoreError(.invalidID, "the document id is \(count) bytes of UTF-8; at most \(maxBytes) are allowed")
        }
    }
}

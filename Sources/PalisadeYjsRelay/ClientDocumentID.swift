import PalisadeJSON

/// Document ids as clients send them, normalised the way Open WebUI does.
enum ClientDocumentID {
    /// Longest accepted id, in UTF-8 bytes.
    static let maxBytes = 256

    /// The id in `payload.document_id`, with `note_x` turned into `note:x` so the old
    /// prefix cannot name a note past its access check; nil when missing or unusable.
    static func normalised(_ payload: JSONValue) -> String? {
        guard let raw = payload["document_id"]?.stringValue, !raw.isEmpty, raw.utf8.count <= maxBytes else { return nil }
        guard !raw.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return nil }
        if raw.hasPrefix("note_") { return "note:" + raw.dropFirst(5) }
        return raw
    }

    /// The Socket.IO room of a document's editors.
    static func room(_ id: String) -> String { "doc_" + id }
}

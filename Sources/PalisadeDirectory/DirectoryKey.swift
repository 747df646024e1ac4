/// The rules for a record's `(kind, id)`, shared by every store and by the admin API.
///
/// Both parts are path segments of `/admin/v1/directory/{kind}/{id}` and parts of the Redis key
/// `{prefix}:directory:{kind}:{id}`, hence the limits.
public enum DirectoryKey {
    /// Longest kind or id, in UTF-8 bytes. Open WebUI's ids are 36-byte UUIDs; 128 leaves room
    /// for other schemes while keeping keys, URLs and log lines short.
    public static let maxBytes = 128

    /// Refuses a kind that is not 1 to `maxBytes` bytes of `[a-z0-9_-]`: a closed, lower-case
    /// alphabet, so `User` and `user` cannot name two kinds and a kind never needs escaping.
    public static func validate(kind: String) throws(DirectoryError) {
        let utf8 = kind.utf8
        guard !utf8.isEmpty, utf8.count <= maxBytes else {
            throw DirectoryError(.invalidKind, "kind must be 1 to \(maxBytes) bytes")
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                throw DirectoryError(.invalidKind, "kind must use only a-z, 0-9, _ and -")
            }
        }
    }

    /// Refuses an id that is not 1 to `maxBytes` bytes, or holds `/` (it would split the URL
    /// path) or a character that is not printable: controls (which would forge log lines), line
    /// and paragraph separators, and spaces other than U+0020 (which look like nothing or like a
    /// plain space). Format characters stay allowed: emoji sequences need U+200D.
    ///
    /// Ids are compared byte for byte, never by Unicode equivalence.
    public static func validate(id: String) throws(DirectoryError) {
        let count = id.utf8.count
        guard count > 0, count <= maxBytes else {
            throw DirectoryError(.invalidID, "id must be 1 to \(maxBytes) bytes")
        }
        for scalar in id.unicodeScalars {
            if scalar == "/" { throw DirectoryError(.invalidID, "id must not contain /") }
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator:
                throw DirectoryError(.invalidID, "id must be printable")
            case .spaceSeparator where scalar != " ":
                throw DirectoryError(.invalidID, "id must be printable")
            default:
                continue
            }
        }
    }

    public static func validate(kind: String, id: String) throws(DirectoryError) {
        try validate(kind: kind)
        try validate(id: id)
    }
}

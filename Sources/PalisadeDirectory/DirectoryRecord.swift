import PalisadeJSON

/// The rules for a record's body, and its stored form: compact JSON text as `JSONWriter` writes
/// it, which `JSONParser` reads back to an equal value (same key order, same number text).
public enum DirectoryRecord {
    /// Longest JSON text of one record, in bytes. Default 1 MiB: a note shared with a few
    /// thousand users and groups is well under it, and it bounds what one admin call can make
    /// every policy read hold in memory.
    public static let maxBytes = 1 << 20

    /// The text to store for `record`, after checking that it is a JSON object without binary
    /// data, fits `maxBytes`, and parses back (so a hand-built `.number("01")` or an over-deep
    /// nesting is refused now rather than making the record unreadable later).
    public static func encode(_ record: JSONValue) throws(DirectoryError) -> String {
        guard record.isObject else {
            throw DirectoryError(.invalidRecord, "a record must be a JSON object")
        }
        guard !record.containsBinary else {
            throw DirectoryError(.invalidRecord, "a record must not hold binary data")
        }
        let text = JSONWriter.string(record)
        guard text.utf8.count <= maxBytes else {
            throw DirectoryError(.recordTooLarge, "a record's JSON must be at most \(maxBytes) bytes")
        }
        do {
            _ = try JSONParser.parse(text)
        } catch {
            throw DirectoryError(.invalidRecord, "record is not valid JSON: \(error)")
        }
        return text
    }

    /// The record stored as `bytes`; `corruptRecord` when they are not a JSON object.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(DirectoryError) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw DirectoryError(.corruptRecord, "stored record is not valid JSON: \(error)")
        }
        guard value.isObject else {
            throw DirectoryError(.corruptRecord, "stored record is not a JSON object")
        }
        return value
    }
}

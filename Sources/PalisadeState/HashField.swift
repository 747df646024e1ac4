/// One field of a hash and its value, as `StateStore.hgetall` and `hscan` answer them (a list,
/// not a dictionary: fields are compared byte for byte, as Redis does, and Swift's `String` keys
/// would merge two fields that are only canonically equivalent).
public struct HashField: Hashable, Sendable {
    public var field: String
    public var value: String

    public init(_ field: String, _ value: String) {
        self.field = field
        self.value = value
    }
}

/// One step of `StateStore.hscan`: the fields it found and the cursor to go on with ("0": done).
public struct HashScanPage: Sendable {
    public var cursor: String
    public var fields: [HashField]

    public init(cursor: String, fields: [HashField]) {
        self.cursor = cursor
        self.fields = fields
    }

    /// Whether the walk is over.
    public var isLast: Bool { cursor == "0" }
}

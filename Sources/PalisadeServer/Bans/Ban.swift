import PalisadeJSON

/// One ban: an address, a network or a user, until a time. Stored as JSON in the shared store's
/// hash `{prefix}:palisade:bans` under the field `"{kind}:{value}"`, so every instance, the admin
/// API and the stock policies' automatic bans (Lua, `px.store.hset`) share one list.
public struct Ban: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case ip, cidr, user
    }

    public var kind: Kind
    /// The address, the CIDR network or the user id, as given.
    public var value: String
    /// Unix seconds when the ban ends.
    public var until: Double
    public var reason: String

    public init(kind: Kind, value: String, until: Double, reason: String) {
        self.kind = kind
        self.value = value
        self.until = until
        self.reason = reason
    }

    /// The field of the shared hash.
    public var field: String { "\(kind.rawValue):\(value)" }
    /// The shared hash, under the store's prefix.
    public static let storeKey = "palisade:bans"
    /// The longest ban: a year.
    public static let maxDuration = 365.0 * 24 * 3600

    public var json: JSONValue {
        .object([
            JSONMember("kind", .string(kind.rawValue)), JSONMember("value", .string(value)),
            JSONMember("until", .number(String(until))), JSONMember("reason", .string(reason)),
        ])
    }

    /// A stored ban; nil for anything else (a bad network is dropped, not enforced wrongly).
    public init?(json: JSONValue) {
        guard let kind = json["kind"]?.stringValue.flatMap(Kind.init(rawValue:)), let value = json["value"]?.stringValue,
            let until = json["until"]?.doubleValue, Ban.isValid(kind, value)
        else { return nil }
        self.init(kind: kind, value: value, until: until, reason: json["reason"]?.stringValue ?? "")
    }

    /// Whether `value` is what `kind` names: an address, a CIDR network, a user id (1–256 bytes).
    public static func isValid(_ kind: Kind, _ value: String) -> Bool {
        switch kind {
        case .ip: IPNetwork(value) != nil && !value.contains("/")
        case .cidr: IPNetwork(value) != nil
        case .user: !value.isEmpty && value.utf8.count <= 256
        }
    }
}

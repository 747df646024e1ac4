import PalisadeJSON

/// What a hook answered, read from its first return value. `px.allow()`, `px.deny()` and
/// `px.drop()` return tables tagged `__px`; any other table is data (an identity).
enum HookAnswer: Equatable {
    case none
    case allow
    case drop
    case deny(reason: String, status: Int?, details: [JSONMember] = [])
    case table(JSONValue)

    init(_ results: [JSONValue]) {
        guard let first = results.first else {
            self = .none
            return
        }
        switch first {
        case .object:
            switch first["__px"]?.stringValue {
            case "allow": self = .allow
            case "drop": self = .drop
            case "deny":
                var details: [JSONMember] = []
                if case .object(let fields)? = first["details"] { details = fields }
                self = .deny(reason: first["reason"]?.stringValue ?? "denied", status: first["status"]?.intValue, details: details)
            default: self = .table(first)
            }
        case .null:
            self = .none
        default:
            self = .table(first)
        }
    }
}

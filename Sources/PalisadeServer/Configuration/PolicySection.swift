import PalisadeJSON
import Yams

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The free-form `policy` section that Lua reads as `px.config.policy`: taken from the
/// config file (YAML or JSON, key order kept), then overridden from the environment as
/// `PALISADE_POLICY_<PATH>` (`policy.ratelimit.events.limit` ← `PALISADE_POLICY_RATELIMIT_EVENTS_LIMIT`).
public enum PolicySection {
    static let environmentPrefix = "PALISADE_POLICY_"

    public static func load(configFile: String?, environment: [String: String]) throws -> JSONValue {
        var section = JSONValue.object([])
        if let configFile {
            let document = try readDocument(configFile)
            if let policy = document["policy"] {
                guard policy.isObject else {
                    throw ConfigurationError.policy("the policy section of \(configFile) must be a mapping")
                }
                section = policy
            }
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(environmentPrefix) {
            let words = name.dropFirst(environmentPrefix.count).lowercased().split(separator: "_").map(String.init)
            guard !words.isEmpty, !value.isEmpty else { continue }
            section = set(parseValue(value), at: words[...], in: section)
        }
        return section
    }

    /// The `PALISADE_POLICY_*` variables as they are, without the prefix: `{"AUTH_GRACE_S": 5}`
    /// (values parsed as `load` parses them). Lua's `00-settings` looks a setting up here by its
    /// exact name first, so a key with `_` works whether or not the config file has it
    /// (`px.config.policy_env`).
    public static func environmentOverrides(_ environment: [String: String]) -> JSONValue {
        .object(
            environment.sorted(by: { $0.key < $1.key }).compactMap { name, value in
                guard name.hasPrefix(environmentPrefix), name.count > environmentPrefix.count, !value.isEmpty else { return nil }
                return JSONMember(String(name.dropFirst(environmentPrefix.count)), parseValue(value))
            })
    }

    /// Puts `value` at the path spelled by `words`, matching the longest existing key at
    /// each level first (so `count_refused` is found whole), else one word per level. A key
    /// holding a value, not a table, is never made a level: `auth.anonymous = true` and
    /// `PALISADE_POLICY_AUTH_ANONYMOUS_PER_IP` give `auth.anonymous_per_ip`, and `anonymous` stays.
    static func set(_ value: JSONValue, at words: ArraySlice<String>, in node: JSONValue) -> JSONValue {
        guard case .object(var members) = node else {
            return set(value, at: words, in: .object([]))
        }
        for length in stride(from: words.count, through: 1, by: -1) {
            let key = words.prefix(length).joined(separator: "_")
            if let index = members.firstIndex(where: { $0.key == key }) {
                let rest = words.dropFirst(length)
                if rest.isEmpty {
                    members[index].value = value
                    return .object(members)
                }
                guard members[index].value.isObject else { continue }
                members[index].value = set(value, at: rest, in: members[index].value)
                return .object(members)
            }
        }
        let first = words.first!
        if members.contains(where: { $0.key == first }) {
            members.append(JSONMember(words.joined(separator: "_"), value))
            return .object(members)
        }
        let rest = words.dropFirst()
        members.append(JSONMember(first, rest.isEmpty ? value : set(value, at: rest, in: .object([]))))
        return .object(members)
    }

    /// `base` with `overrides` on top: objects merged key by key (recursively), anything else
    /// replaced. Key order: `base`'s, then the new keys of `overrides`.
    public static func merge(_ base: JSONValue, _ overrides: JSONValue) -> JSONValue {
        guard case .object(var members) = base, case .object(let changes) = overrides else { return overrides }
        for change in changes {
            if let index = members.firstIndex(where: { $0.key == change.key }) {
                members[index].value = merge(members[index].value, change.value)
            } else {
                members.append(change)
            }
        }
        return .object(members)
    }

    /// Environment text as JSON when it parses (`10`, `true`, `["a"]`), else as a string.
    static func parseValue(_ text: String) -> JSONValue {
        (try? JSONParser.parse(text)) ?? .string(text)
    }

    private static func readDocument(_ path: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError.policy("cannot read \(path)")
        }
        if path.lowercased().hasSuffix(".json") {
            do {
                return try JSONParser.parse(Array(data))
            } catch {
                throw ConfigurationError.policy("\(path): \(error)")
            }
        }
        do {
            guard let node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) else { return .object([]) }
            return json(node)
        } catch {
            throw ConfigurationError.policy("\(path): \(error)")
        }
    }

    /// YAML → JSON, keeping mapping order; plain scalars become numbers, booleans or null when they read as such.
    private static func json(_ node: Node) -> JSONValue {
        switch node {
        case .mapping(let mapping):
            return .object(mapping.map { JSONMember($0.key.string ?? "", json($0.value)) })
        case .sequence(let sequence):
            return .array(sequence.map(json))
        case .scalar(let scalar):
            guard scalar.style == .plain else { return .string(scalar.string) }
            switch scalar.string {
            case "~", "null", "Null", "NULL", "": return .null
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default:
                if case .number = (try? JSONParser.parse(scalar.string)) ?? .null { return .number(scalar.string) }
                return .string(scalar.string)
            }
        case .alias:
            return .null
        }
    }
}

extension ConfigurationError {
    static func policy(_ message: String) -> ConfigurationError {
        ConfigurationError(code: .configFileInvalid, key: "policy", message: message)
    }
}

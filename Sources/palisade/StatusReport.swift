import PalisadeJSON

/// What `palisade status` shows, built from the admin API's answers: pure, no I/O.
///
/// Documents are not in it: the admin API lists no Yjs documents, so the report says so
/// rather than guess.
struct StatusReport {
    /// How many entries the "top" lists (users, addresses, rooms) and the recent refusals keep.
    static let topCount = 5
    static let recentRefusals = 10

    var url: String
    var sessions: [JSONValue]
    var health: JSONValue
    var metrics: String
    var bans: [JSONValue]
    var refusals: [JSONValue]

    /// The report as one JSON object (`--json`).
    var json: JSONValue {
        .object([
            JSONMember("url", .string(url)),
            JSONMember("sessions", sessionSummary),
            JSONMember("rooms", roomSummary),
            JSONMember("documents", .string("not reported: the admin API does not list documents")),
            JSONMember("policy", policySummary),
            JSONMember("caps", .object(caps.map { JSONMember($0.cap, JSONValue($0.count)) })),
            JSONMember("bans", .array(bans)),
            JSONMember("refusals", refusalSummary),
        ])
    }

    var sessionSummary: JSONValue {
        let signedIn = sessions.filter { $0["user_id"]?.stringValue != nil }.count
        return .object([
            JSONMember("count", JSONValue(sessions.count)),
            JSONMember("by_transport", counted(sessions.compactMap { $0["transport"]?.stringValue })),
            JSONMember("signed_in", JSONValue(signedIn)),
            JSONMember("anonymous", JSONValue(sessions.count - signedIn)),
            JSONMember("top_users", top(sessions.compactMap { $0["user_id"]?.stringValue }, name: "user_id", of: "sessions")),
            JSONMember("top_ips", top(sessions.compactMap { $0["ip"]?.stringValue }, name: "ip", of: "sessions")),
        ])
    }

    /// Rooms from the sessions' room lists, leaving out each socket's own room (its sid).
    var roomSummary: JSONValue {
        let memberships = sessions.flatMap { session in
            (session["rooms"]?.arrayValue ?? []).compactMap(\.stringValue).filter { $0 != session["sid"]?.stringValue }
        }
        return .object([
            JSONMember("count", JSONValue(Set(memberships).count)),
            JSONMember("largest", top(memberships, name: "room", of: "members")),
        ])
    }

    var policySummary: JSONValue {
        .object(
            ["status", "generation", "policy_error", "redis"].map { JSONMember($0, health[$0] ?? .null) })
    }

    /// `palisade_caps_refused_total{…cap="…"…} n` lines of `/metrics`, summed by cap.
    var caps: [(cap: String, count: Int)] {
        let name = "palisade_caps_refused_total{"
        var totals: [String: Int] = [:]
        for line in metrics.split(separator: "\n") where line.hasPrefix(name) {
            guard let close = line.lastIndex(of: "}"), let start = line.firstRange(of: "cap=\"")?.upperBound, start < close,
                let end = line[start..<close].firstIndex(of: "\""),
                let value = Double(line[line.index(after: close)...].drop(while: { $0 == " " }).prefix { $0 != " " })
            else { continue }
            totals[String(line[start..<end]), default: 0] += Int(value)
        }
        return totals.sorted { $0.key < $1.key }.map { (cap: $0.key, count: $0.value) }
    }

    var refusalSummary: JSONValue {
        .object([
            JSONMember("kept", JSONValue(refusals.count)),
            JSONMember("by_kind", counted(refusals.compactMap { $0["audit"]?.stringValue })),
            JSONMember("top_ips", top(refusals.compactMap { $0["ip"]?.stringValue }, name: "ip", of: "refusals")),
            JSONMember("recent", .array(Array(refusals.prefix(Self.recentRefusals)))),
        ])
    }

    /// `{value: count}` in descending count order.
    private func counted(_ values: [String]) -> JSONValue {
        .object(ranked(values).map { JSONMember($0.value, JSONValue($0.count)) })
    }

    /// The `topCount` most frequent values as `[{name: value, of: count}]`.
    private func top(_ values: [String], name: String, of countName: String) -> JSONValue {
        .array(
            ranked(values).prefix(Self.topCount).map {
                .object([JSONMember(name, .string($0.value)), JSONMember(countName, JSONValue($0.count))])
            })
    }

    /// Values with their counts, most frequent first, ties by value.
    private func ranked(_ values: [String]) -> [(value: String, count: Int)] {
        var counts: [String: Int] = [:]
        for value in values { counts[value, default: 0] += 1 }
        return counts.map { (value: $0.key, count: $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
    }
}

import PalisadeJSON
import PalisadeServer

/// The report as a readable table, one section per line group.
extension StatusReport {
    /// Longer values (a user id, a reason) are cut in the table; `--json` has them whole.
    static let maxValueLength = 80

    var text: String {
        var lines: [String] = ["Palisade at \(url)"]
        let policy = policySummary
        lines.append(
            "policy     status \(plain(policy["status"])), generation \(plain(policy["generation"])), redis \(plain(policy["redis"]))"
                + (policy["policy_error"].map { $0 == .null ? "" : ", error \(plain($0))" } ?? ""))
        let sessions = sessionSummary
        lines.append(
            "sessions   \(plain(sessions["count"])) (signed in \(plain(sessions["signed_in"])), anonymous \(plain(sessions["anonymous"])))"
                + pairs(sessions["by_transport"], prefix: "; "))
        lines += rows("top users", sessions["top_users"], key: "user_id", count: "sessions")
        lines += rows("top IPs", sessions["top_ips"], key: "ip", count: "sessions")
        let rooms = roomSummary
        lines.append("rooms      \(plain(rooms["count"]))")
        lines += rows("largest", rooms["largest"], key: "room", count: "members")
        lines.append("documents  not reported (the admin API does not list documents)")
        lines.append("caps       refused: " + caps.map { "\($0.cap) \($0.count)" }.joined(separator: ", "))
        lines.append("bans       \(bans.count)")
        for ban in bans {
            let left = ban["until"]?.doubleValue.map { "\(Int(($0 - UnixTime.now()).rounded(.up))) s left" } ?? "-"
            lines.append("  \(plain(ban["kind"])) \(plain(ban["value"]))  \(left)  \(plain(ban["reason"]))")
        }
        let refusals = refusalSummary
        lines.append("refusals   \(plain(refusals["kept"])) kept" + pairs(refusals["by_kind"], prefix: "; "))
        lines += rows("top IPs", refusals["top_ips"], key: "ip", count: "refusals")
        for refusal in refusals["recent"]?.arrayValue ?? [] {
            let fields = members(refusal).filter { $0.key != "ts" && $0.key != "audit" }
            lines.append(
                "  \(plain(refusal["ts"])) \(plain(refusal["audit"])) "
                    + fields.map { "\($0.key)=\(plain($0.value))" }.joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `  label   value (count), value (count)` or nothing when the list is empty.
    private func rows(_ label: String, _ list: JSONValue?, key: String, count: String) -> [String] {
        let items = list?.arrayValue ?? []
        guard !items.isEmpty else { return [] }
        let text = items.map { "\(plain($0[key])) (\(plain($0[count])))" }.joined(separator: ", ")
        return ["  " + label.padding(to: 11) + text]
    }

    /// `{a: 1, b: 2}` as `prefix + "a 1, b 2"`, or nothing when empty.
    private func pairs(_ object: JSONValue?, prefix: String) -> String {
        let members = members(object)
        guard !members.isEmpty else { return "" }
        return prefix + members.map { "\($0.key) \(plain($0.value))" }.joined(separator: ", ")
    }

    private func members(_ value: JSONValue?) -> [JSONMember] {
        if case .object(let members) = value { return members }
        return []
    }

    /// A value as text: strings without quotes, everything else as JSON; at most `maxValueLength`
    /// characters, control characters escaped. Event names, reasons and ids come from clients: a
    /// terminal must not take them for escape sequences.
    private func plain(_ value: JSONValue?) -> String {
        guard let value else { return "-" }
        let text = value.stringValue ?? JSONWriter.string(value)
        let shown = text.count > Self.maxValueLength ? text.prefix(Self.maxValueLength) + "…" : Substring(text)
        return shown.unicodeScalars.map { scalar in
            scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }.joined()
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

import PalisadeYjs

/// The Yjs update decoder (v1) and what the relay runs on decoded updates. The first byte cuts
/// the rest in two updates `a` and `b`; `a + b` is also tried as one. What decodes must encode
/// to bytes that decode to the same encoding; a merged update must not change when merged again,
/// alone or with itself; an update diffed against its own state vector keeps nothing that vector
/// covers. (The order of a merge's inputs may matter: when two claim one id with different
/// content, which no honest client sends, the earlier input wins, as in Yjs.)
enum YjsTarget {
    static func run(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let rest = Array(bytes.dropFirst())
        let cut = rest.count * Int(first) / 255
        let a = Array(rest[..<cut])
        let b = Array(rest[cut...])
        for update in [rest, a, b] { checkOne(update) }
        guard let ab = try? YjsUpdates.merge([a, b]) else { return }
        checkOne(ab)
        check((try? YjsUpdates.merge([ab])) == ab, "a merged update changes when merged again")
        check((try? YjsUpdates.merge([ab, ab])) == ab, "a merged update merged with itself changes")
        if let compacted = try? YjsUpdates.compact([a, b]) {
            check(canonical(compacted) != nil, "a compacted update does not decode")
        } else {
            check(false, "two updates merge but do not compact")
        }
        if let vector = try? YjsUpdates.encodedStateVector(of: b) {
            _ = try? YjsUpdates.diff(ab, against: vector)
        }
    }

    /// The update's encoding after one decode; nil when it does not decode.
    static func canonical(_ update: [UInt8]) -> [UInt8]? {
        (try? YjsUpdate.decode(update))?.encoded()
    }

    static func checkOne(_ update: [UInt8]) {
        guard let decoded = try? YjsUpdate.decode(update) else { return }
        let encoded = decoded.encoded()
        check(canonical(encoded) == encoded, "an update's encoding decodes to a different encoding")
        check((try? YjsUpdates.merge([update])) != nil, "a valid update does not merge alone")
        let vector = decoded.encodedStateVector
        check((try? YjsUpdates.decodeStateVector(vector)) != nil, "an update's state vector does not decode")
        guard let diff = try? YjsUpdates.diff(update, against: vector), let remaining = try? YjsUpdate.decode(diff) else {
            return check(false, "an update cannot be diffed against its own state vector")
        }
        // The vector covers each client only from clock 0 to its first gap (as Yjs's); what it covers is left out.
        let known = decoded.stateVector
        for section in remaining.sections {
            for structure in section.structs {
                if case .skip = structure { continue }
                check(structure.id.clock >= known[section.client] ?? 0, "a diff against its own state vector keeps what it covers")
            }
        }
    }
}

import PalisadeJSON

/// Records shaped as Open WebUI's (DESIGN.md, "The directory"), as compact JSON text exactly as
/// `JSONWriter` writes it, so a round trip can be compared byte for byte. The numbers are there
/// to catch any store that would normalise them (`1.50`, a 20-digit integer, `-0`, `1E-7`).
enum OpenWebUIRecords {
    static let user =
        #"{"id":"7f1c2b9e-4d5a-4e7b-9c1d-2a3b4c5d6e7f","name":"Ada Lovelace","role":"admin","groups":["g-eng","g-ops"],"channels":["c-general"],"created_at":1718000000,"score":1.50,"big":12345678901234567890,"zero":-0,"tiny":1E-7}"#
    static let pendingUser = #"{"id":"u2","name":"Ben","role":"pending","groups":[],"channels":[]}"#
    static let group = #"{"id":"g-eng","name":"Engineering","user_ids":["7f1c2b9e-4d5a-4e7b-9c1d-2a3b4c5d6e7f","u2"]}"#
    static let publicNote = #"{"id":"n-public","user_id":"u2","access_control":null}"#
    static let privateNote = #"{"id":"n-private","user_id":"u2","access_control":{}}"#
    static let sharedNote =
        #"{"id":"n-shared","user_id":"u2","access_control":{"read":{"user_ids":["u3"],"group_ids":["g-eng"]},"write":{"user_ids":[],"group_ids":[]}}}"#
    /// Keys out of alphabetical order, one repeated, a string with escapes and non-ASCII text.
    static let oddlyOrdered =
        #"{"zeta":1,"alpha":{"b":2,"a":[3,{"y":null,"x":true}]},"zeta":"again","text":"line\nbreak \"quoted\" café 🙂"}"#

    /// (kind, id, JSON text) of every record above.
    static let all: [(kind: String, id: String, text: String)] = [
        ("user", "7f1c2b9e-4d5a-4e7b-9c1d-2a3b4c5d6e7f", user),
        ("user", "u2", pendingUser),
        ("group", "g-eng", group),
        ("note", "n-public", publicNote),
        ("note", "n-private", privateNote),
        ("note", "n-shared", sharedNote),
        ("misc", "odd", oddlyOrdered),
    ]
}

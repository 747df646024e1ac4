import PalisadeJSON

/// Where security decisions are recorded, apart from the log (`server.audit`): who was let in or
/// refused and why, each deny and drop with the hook and module that made it, caps, bans,
/// revocations, reloads and admin calls. The core and `px.audit` write to it.
public protocol AuditSink: Sendable {
    /// Records one decision of `kind` (`auth.refused`, `policy.deny`, …) with `fields`: never a
    /// token, a secret or a payload body.
    func record(_ kind: String, _ fields: [JSONMember])

    /// Records what a policy wrote with `px.audit`. A stream takes it like any record (the
    /// default); the log, when there is no stream, takes only these.
    func recordFromPolicy(_ kind: String, _ fields: [JSONMember])
}

extension AuditSink {
    public func recordFromPolicy(_ kind: String, _ fields: [JSONMember]) {
        record(kind, fields)
    }
}

import PalisadeJSON

/// Where security decisions are recorded, apart from the log (`server.audit`): who was let in or
/// refused and why, each deny and drop with the hook and module that made it, caps, bans,
/// revocations, reloads and admin calls. The core and `px.audit` write to it.
public protocol AuditSink: Sendable {
    /// Records one decision of `kind` (`auth.refused`, `policy.deny`, …) with `fields`: never a
    /// token, a secret or a payload body.
    func record(_ kind: String, _ fields: [JSONMember])
}

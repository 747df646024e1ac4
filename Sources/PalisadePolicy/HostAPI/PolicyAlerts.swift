import PalisadeJSON

/// Where `px.alert(kind, fields)` goes besides the log and the audit stream: the product sends it
/// to `alerts.webhook_url`. Must not block: called on an event loop.
public protocol PolicyAlerts: Sendable {
    func alert(_ kind: String, _ fields: [JSONMember])
}

import Logging
import PalisadeGateway
import PalisadeJSON

/// The audit sink when `server.audit` is not set: what the policies write with `px.audit` goes to
/// the log at notice level (as `px.audit` does with no sink at all). The core's own kinds are not
/// logged here: without a stream they never were, and they come through this sink only because
/// the refusal log (`RefusalLog`) always sits in front.
struct LogAuditSink: AuditSink {
    static let coreKinds: Set<String> = [
        "auth.accepted", "auth.refused", "policy.deny", "policy.drop", "policy.reload", "policy.reload_failed",
        "cap.refused", "ban.refused", "ban.added", "ban.lifted", "ban.enforced", "admin.call", "alert",
    ]
    let logger: Logger

    func record(_ kind: String, _ fields: [JSONMember]) {
        guard !Self.coreKinds.contains(kind) else { return }
        var metadata: Logger.Metadata = ["audit": "\(kind)"]
        for field in fields {
            metadata[field.key] = "\(field.value.stringValue ?? JSONWriter.string(field.value))"
        }
        logger.notice("audit: \(kind)", metadata: metadata)
    }
}

import Logging
import PalisadeGateway
import PalisadeJSON
import PalisadePolicy

/// The audit sink when `server.audit` is not set: what the policies write with `px.audit` goes to
/// the log at notice level, as `px.audit` does with no sink at all. The core's own records are
/// not logged: without a stream they never were (they reach this sink only because the refusal
/// log, `RefusalLog`, always sits in front of it).
struct LogAuditSink: AuditSink {
    let logger: Logger

    func record(_ kind: String, _ fields: [JSONMember]) {}

    func recordFromPolicy(_ kind: String, _ fields: [JSONMember]) {
        var metadata = Logger.Metadata(logging: fields)
        metadata["audit"] = "\(kind)"
        logger.notice("audit: \(kind)", metadata: metadata)
    }
}

import PalisadeGateway
import PalisadeJSON

/// Who a decision was about, as the audit stream names them: never a token or a payload.
struct AuditSubject {
    var sid: String?
    var ip: String
    var userID: String?

    init(_ socket: any GatewaySocket) {
        sid = socket.id
        ip = socket.ip
        userID = socket.userID
    }

    init(_ request: HandshakeRequest) {
        ip = request.ip
    }

    var fields: [JSONMember] {
        var fields = [JSONMember("ip", .string(ip))]
        if let sid { fields.append(JSONMember("sid", .string(sid))) }
        if let userID { fields.append(JSONMember("user_id", .string(userID))) }
        return fields
    }
}

extension LuaPolicyEngine {
    /// Records a deny or a drop in the audit stream (`policy.deny`, `policy.drop`) with the hook and
    /// the module that gave it; other answers are not decisions worth a line.
    func audit(_ answer: HookAnswer, hook: String, module: String, subject: AuditSubject?, event: String? = nil) {
        PolicyMetrics.shared.count(answer, hook: hook, module: module)
        guard let audit = host.audit else { return }
        var fields = [JSONMember("hook", .string(hook)), JSONMember("module", .string(module))]
        if let event { fields.append(JSONMember("event", .string(event))) }
        switch answer {
        case .deny(let reason, _, _):
            fields.append(JSONMember("reason", .string(reason)))
            audit.record("policy.deny", fields + (subject?.fields ?? []))
        case .drop:
            audit.record("policy.drop", fields + (subject?.fields ?? []))
        default:
            return
        }
    }
}

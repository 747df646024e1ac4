import NIOCore
import PalisadeJSON

/// `POST /admin/v1/bans` `{kind: ip|cidr|user, value, duration_s, reason?}` and
/// `DELETE /admin/v1/bans/{kind}/{value}` (a network's `/` as `%2F`). A ban is stored in the
/// shared store first (every instance enforces it within `BanSync`'s period), enforced here at
/// once, and the matching live sessions are closed.
extension AdminAPI {
    func ban(_ body: JSONValue?, on loop: any EventLoop) -> EventLoopFuture<Response> {
        guard let kind = body?["kind"]?.stringValue.flatMap(Ban.Kind.init(rawValue:)) else {
            return loop.makeSucceededFuture(Self.error(.badRequest, "kind is one of ip, cidr, user"))
        }
        guard let value = body?["value"]?.stringValue ?? body?["value"]?.intValue.map(String.init), Ban.isValid(kind, value) else {
            return loop.makeSucceededFuture(Self.error(.badRequest, "value is not a valid \(kind.rawValue)"))
        }
        guard let duration = body?["duration_s"]?.doubleValue, duration > 0, duration <= Ban.maxDuration else {
            return loop.makeSucceededFuture(Self.error(.badRequest, "duration_s is a number of seconds, 1 to \(Int(Ban.maxDuration))"))
        }
        let reason = body?["reason"]?.stringValue ?? "banned by the admin API"
        let ban = Ban(kind: kind, value: value, until: UnixTime.now() + duration, reason: String(reason.prefix(256)))
        return loop.makeFutureWithTask {
            try await self.backend.saveBan(ban)
        }.flatMap {
            self.server.bans.add(ban)
            self.server.audit?.record(
                "ban.added", [JSONMember("ban", .string(ban.field)), JSONMember("until", .number(String(ban.until)))])
            return self.server.disconnectBanned([ban], on: loop)
        }.map { closed in
            var answer = ban.json
            if case .object(var members) = answer {
                members.append(JSONMember("disconnected", JSONValue(closed)))
                answer = .object(members)
            }
            return Response(status: .created, body: answer)
        }.recover { error in
            Self.error(.serviceUnavailable, "the ban could not be stored: \(error)")
        }
    }

    func liftBan(kind: String, value: String, on loop: any EventLoop) -> EventLoopFuture<Response> {
        guard let kind = Ban.Kind(rawValue: kind) else {
            return loop.makeSucceededFuture(Self.error(.badRequest, "kind is one of ip, cidr, user"))
        }
        let field = "\(kind.rawValue):\(value)"
        return loop.makeFutureWithTask {
            try await self.backend.deleteBan(field: field)
        }.map { stored in
            let here = self.server.bans.remove(kind: kind, value: value)
            guard stored || here else { return Self.error(.notFound, "no such ban") }
            self.server.audit?.record("ban.lifted", [JSONMember("ban", .string(field))])
            return Self.ok(["lifted": .string(field)])
        }.recover { error in
            Self.error(.serviceUnavailable, "the ban could not be lifted: \(error)")
        }
    }
}

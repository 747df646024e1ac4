import Logging
import NIOCore
import NIOHTTP1
import PalisadeGateway
import PalisadeJSON

/// `/admin/v1/…` behind a bearer token (compared in constant time). Answers JSON.
final class AdminAPI: Sendable {
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var body: JSONValue
        /// The methods the path answers, sent as `Allow` with a 405.
        var allow: [HTTPMethod] = []
    }

    static let prefix = "/admin/v1/"
    private let token: [UInt8]
    let backend: any AdminBackend
    let server: SocketServer
    private let cluster: (any AdminCluster)?
    private let refusals: RefusalLog?
    private let logger: Logger

    init(_ configuration: AdminConfiguration, logger: Logger) {
        token = Array(configuration.token.utf8)
        backend = configuration.backend
        server = configuration.socketServer
        cluster = configuration.cluster
        refusals = configuration.refusals
        self.logger = logger
    }

    /// Every call is recorded in the audit stream (`admin.call`, with its answer's status).
    func handle(_ request: HandshakeRequest, body: ByteBuffer, on loop: any EventLoop) -> EventLoopFuture<Response> {
        let audit = server.audit
        return answer(request, body: body, on: loop).map { response in
            audit?.record(
                "admin.call",
                [
                    JSONMember("method", .string("\(request.method)")), JSONMember("path", .string(request.path)),
                    JSONMember("status", .number("\(response.status.code)")), JSONMember("ip", .string(request.ip)),
                ])
            return response
        }
    }

    private func answer(_ request: HandshakeRequest, body: ByteBuffer, on loop: any EventLoop) -> EventLoopFuture<Response> {
        guard isAuthorized(request) else {
            logger.notice("admin request refused: bad or missing token", metadata: ["ip": "\(request.ip)", "path": "\(request.path)"])
            return loop.makeSucceededFuture(Self.error(.unauthorized, "a valid bearer token is required"))
        }
        let parts = request.path.dropFirst(Self.prefix.count).split(separator: "/", omittingEmptySubsequences: false).map {
            URLQuery.percentDecode($0)
        }
        let json: JSONValue?
        if body.readableBytes > 0 {
            guard let parsed = try? JSONParser.parse(body.readableBytesView) else {
                return loop.makeSucceededFuture(Self.error(.badRequest, "the body is not JSON"))
            }
            json = parsed
        } else {
            json = nil
        }
        logger.info("admin request", metadata: ["method": "\(request.method)", "path": "\(request.path)", "ip": "\(request.ip)"])
        return route(request.method, parts, query: request.query, body: json, on: loop)
    }

    private func route(_ method: HTTPMethod, _ parts: [String], query: [String: String], body: JSONValue?, on loop: any EventLoop)
        -> EventLoopFuture<Response>
    {
        switch (method, parts.first ?? "", parts.count) {
        case (.GET, "sessions", 1):
            let filter = SessionFilter(userID: query["user_id"], ip: query["ip"], room: query["room"])
            return sessions(matching: filter, on: loop).map { Response(status: .ok, body: .array($0)) }
        case (.DELETE, "sessions", 2):
            return disconnect(matching: SessionFilter(sid: parts[1]), on: loop).map { count in
                count > 0 ? Self.ok(["disconnected": JSONValue(count)]) : Self.error(.notFound, "no such session")
            }
        case (.DELETE, "users", 3) where parts[2] == "sessions":
            return disconnect(matching: SessionFilter(userID: parts[1]), on: loop).map { Self.ok(["disconnected": JSONValue($0)]) }
        case (.POST, "revoke", 1):
            return revoke(body, on: loop)
        case (.POST, "emit", 1):
            guard let room = body?["room"]?.stringValue, let event = body?["event"]?.stringValue else {
                return loop.makeSucceededFuture(Self.error(.badRequest, "emit needs {room, event, data}"))
            }
            server.emit(to: room, event, body?["data"].map { [$0] } ?? [])
            return loop.makeSucceededFuture(Self.ok(["emitted": .bool(true)]))
        case (.POST, "reload", 1):
            return loop.makeFutureWithTask {
                do {
                    return Self.ok(["generation": JSONValue(try await self.backend.reload())])
                } catch {
                    return Response(status: .unprocessableEntity, body: .object(["error": .string("\(error)")]))
                }
            }
        case (.GET, "settings", 1):
            return loop.makeFutureWithTask {
                do {
                    return Response(status: .ok, body: try await self.backend.policySettings())
                } catch {
                    return Self.error(.serviceUnavailable, "\(error)")
                }
            }
        case (.PUT, "settings", 1):
            guard let body, body.isObject else {
                return loop.makeSucceededFuture(Self.error(.badRequest, "the overrides of the policy section are a JSON object"))
            }
            return loop.makeFutureWithTask {
                do {
                    return Self.ok(["generation": JSONValue(try await self.backend.replacePolicyOverrides(body))])
                } catch {
                    return Response(status: .unprocessableEntity, body: .object(["error": .string("\(error)")]))
                }
            }
        case (.GET, "transports", 1):
            return loop.makeSucceededFuture(Response(status: .ok, body: server.transports.json))
        case (.PUT, "transports", 1):
            guard case .bool(let polling)? = body?["polling"], case .bool(let websocket)? = body?["websocket"] else {
                return loop.makeSucceededFuture(Self.error(.badRequest, "transports needs {polling: bool, websocket: bool}"))
            }
            guard server.transports.set(polling: polling, websocket: websocket) else {
                return loop.makeSucceededFuture(Self.error(.badRequest, "one transport must stay on"))
            }
            logger.notice("transports changed", metadata: ["polling": "\(polling)", "websocket": "\(websocket)"])
            return loop.makeSucceededFuture(Response(status: .ok, body: server.transports.json))
        case (.GET, "bans", 1):
            let bans = server.bans.all().sorted { $0.field < $1.field }
            return loop.makeSucceededFuture(Response(status: .ok, body: .array(bans.map(\.json))))
        case (.POST, "bans", 1):
            return ban(body, on: loop)
        case (.DELETE, "bans", 3):
            return liftBan(kind: parts[1], value: parts[2], on: loop)
        case (.GET, "refusals", 1):
            return loop.makeSucceededFuture(recentRefusals(limit: query["limit"]))
        case (.GET, "directory", 3), (.PUT, "directory", 3), (.DELETE, "directory", 3):
            return directory(method, kind: parts[1], id: parts[2], body: body, on: loop)
        default:
            guard let allowed = Self.methods(of: parts) else {
                return loop.makeSucceededFuture(Self.error(.notFound, "no such admin endpoint"))
            }
            let names = allowed.map(\.rawValue).joined(separator: ", ")
            var response = Self.error(.methodNotAllowed, "use \(names)")
            response.allow = allowed
            return loop.makeSucceededFuture(response)
        }
    }

    /// The methods a known path answers (`route`'s cases, by path): a path the API has, asked
    /// with another method, is 405 with these in `Allow`; nil for a path it does not have.
    private static func methods(of parts: [String]) -> [HTTPMethod]? {
        switch (parts.first ?? "", parts.count) {
        case ("sessions", 1), ("refusals", 1): return [.GET]
        case ("sessions", 2), ("bans", 3): return [.DELETE]
        case ("users", 3) where parts[2] == "sessions": return [.DELETE]
        case ("revoke", 1), ("emit", 1), ("reload", 1): return [.POST]
        case ("settings", 1), ("transports", 1): return [.GET, .PUT]
        case ("bans", 1): return [.GET, .POST]
        case ("directory", 3): return [.GET, .PUT, .DELETE]
        default: return nil
        }
    }

    private func directory(_ method: HTTPMethod, kind: String, id: String, body: JSONValue?, on loop: any EventLoop) -> EventLoopFuture<
        Response
    > {
        loop.makeFutureWithTask {
            do {
                switch method {
                case .GET:
                    guard let record = try await self.backend.directoryGet(kind: kind, id: id) else {
                        return Self.error(.notFound, "no such record")
                    }
                    return Response(status: .ok, body: record)
                case .PUT:
                    guard let body, body.isObject else { return Self.error(.badRequest, "a record is a JSON object") }
                    try await self.backend.directoryPut(kind: kind, id: id, record: body)
                    return Response(status: .ok, body: body)
                default:  // DELETE: `route` passes no other method
                    let existed = try await self.backend.directoryDelete(kind: kind, id: id)
                    return existed ? Self.ok(["deleted": .bool(true)]) : Self.error(.notFound, "no such record")
                }
            } catch {
                return Self.error(.badRequest, "\(error)")
            }
        }
    }

    /// The longest `ttl_s` of a revocation: the shared store's longest TTL (about 31 years).
    static let maxRevocationTTL = 1_000_000_000

    /// `{jti}`, `{token}` or `{user_id}`: writes the keys, then closes the matching live sessions.
    private func revoke(_ body: JSONValue?, on loop: any EventLoop) -> EventLoopFuture<Response> {
        let tokenID = body?["jti"]?.stringValue ?? body?["token"]?.stringValue.flatMap(SocketInfo.unverifiedTokenID)
        let userID = body?["user_id"]?.stringValue ?? body?["user_id"]?.intValue.map(String.init)
        guard tokenID != nil || userID != nil else {
            return loop.makeSucceededFuture(Self.error(.badRequest, "revoke needs {jti}, {token} (with a jti claim) or {user_id}"))
        }
        let ttl: Double?
        if let value = body?["ttl_s"] {
            guard let seconds = value.intValue, (1...Self.maxRevocationTTL).contains(seconds) else {
                return loop.makeSucceededFuture(
                    Self.error(.badRequest, "ttl_s is a whole number of seconds, 1 to \(Self.maxRevocationTTL)"))
            }
            ttl = Double(seconds)
        } else {
            ttl = nil
        }
        return loop.makeFutureWithTask {
            try await self.backend.revoke(tokenID: tokenID, userID: userID, expiresIn: ttl)
        }.flatMap {
            self.server.disconnect(
                where: { info in
                    (tokenID != nil && info.tokenID == tokenID) || (userID != nil && info.userID == userID)
                }, on: loop)
        }.map { count in
            Self.ok(["revoked": .bool(true), "disconnected": JSONValue(count)])
        }.recover { error in
            Self.error(.serviceUnavailable, "the revocation could not be stored: \(error)")
        }
    }

    /// `GET /admin/v1/refusals[?limit=N]`: this instance's most recent refusals, newest first.
    private func recentRefusals(limit text: String?) -> Response {
        let limit = text.map { Int($0) } ?? RefusalLog.defaultCapacity
        guard let limit, limit >= 0 else { return Self.error(.badRequest, "limit is a number of refusals, 0 or more") }
        return Response(status: .ok, body: .array(refusals?.recent(limit: limit) ?? []))
    }

    /// Constant-time comparison of the bearer token with the configured one.
    private func isAuthorized(_ request: HandshakeRequest) -> Bool {
        // RFC 9110 §11.1: the scheme's name is case-insensitive.
        guard let header = request.headers.first(name: "authorization"), header.utf8.count > 7,
            header.prefix(7).lowercased() == "bearer "
        else { return false }
        let offered = Array(header.utf8.dropFirst(7))
        var difference = UInt8(offered.count == token.count ? 0 : 1)
        for index in 0..<max(offered.count, token.count) {
            let a = index < offered.count ? offered[index] : 0
            let b = index < token.count ? token[index] : 0
            difference |= a ^ b
        }
        return difference == 0 && !token.isEmpty
    }

    /// The matching sessions here and on the other instances, oldest first.
    private func sessions(matching filter: SessionFilter, on loop: any EventLoop) -> EventLoopFuture<[JSONValue]> {
        server.sessions(on: loop).flatMap { infos in
            let local = infos.filter(filter.matches).map(\.adminJSON)
            guard let cluster = self.cluster else { return loop.makeSucceededFuture(local) }
            return loop.makeFutureWithTask { local + (await cluster.sessions(matching: filter)) }
        }.map { sessions in
            sessions.sorted { ($0["connected_at"]?.doubleValue ?? 0) < ($1["connected_at"]?.doubleValue ?? 0) }
        }
    }

    /// Closes the matching sessions here and on the other instances; answers how many.
    private func disconnect(matching filter: SessionFilter, on loop: any EventLoop) -> EventLoopFuture<Int> {
        server.disconnect(matching: filter, on: loop).flatMap { local in
            guard let cluster = self.cluster else { return loop.makeSucceededFuture(local) }
            return loop.makeFutureWithTask { local + (await cluster.disconnect(matching: filter)) }
        }
    }

    static func ok(_ fields: KeyValuePairs<String, JSONValue>) -> Response {
        Response(status: .ok, body: .object(fields))
    }

    static func error(_ status: HTTPResponseStatus, _ message: String) -> Response {
        Response(status: status, body: .object(["error": .string(message)]))
    }
}

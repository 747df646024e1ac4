import NIOCore
import NIOHTTP1
import PalisadeGateway

/// What the HTTP layer serves: the Engine.IO mounts and the operational endpoints.
final class HTTPRouter: Sendable {
    let engines: [EngineServer]
    let requestTimeout: TimeAmount
    /// Whose word on the client's address is taken.
    let trustedProxies: TrustedProxies
    /// `GET /healthz`: whether the server can serve (503 when not) and the JSON body.
    let health: @Sendable () -> (healthy: Bool, body: String)
    /// The body of `GET /metrics` (Prometheus text format).
    let metrics: @Sendable () -> String
    /// The admin API; nil when no admin token is configured (then `/admin/` is 404).
    let admin: AdminAPI?

    /// Bodies of requests outside Engine.IO (none are expected yet) are kept small.
    static let maxPlainBodyBytes = 64 * 1024
    /// An idle keep-alive connection is closed after this long.
    static let keepAliveIdleTimeout = TimeAmount.seconds(75)

    init(
        engines: [EngineServer], requestTimeout: TimeAmount, trustedProxies: TrustedProxies = TrustedProxies(), admin: AdminAPI?,
        health: @escaping @Sendable () -> (healthy: Bool, body: String), metrics: @escaping @Sendable () -> String
    ) {
        self.metrics = metrics
        self.engines = engines
        self.admin = admin
        self.requestTimeout = requestTimeout
        self.trustedProxies = trustedProxies
        self.health = health
    }

    /// What is known of a request from `peer`, the client's address following the trusted proxies.
    func request(_ head: HTTPRequestHead, from peer: SocketAddress?) -> HandshakeRequest {
        var request = HandshakeRequest(head: head, remoteAddress: peer)
        if !trustedProxies.networks.isEmpty {
            request.ip = trustedProxies.clientAddress(peer: request.ip, headers: request.headers)
        }
        return request
    }

    func engine(for path: String) -> EngineServer? {
        engines.first { $0.matches(path) }
    }

    func maxBodyBytes(for request: HandshakeRequest) -> Int {
        engine(for: request.path)?.settings.maxPayload ?? Self.maxPlainBodyBytes
    }
}

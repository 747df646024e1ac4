import PalisadeGateway

/// Every setting of the running server, resolved from flags, environment and the config file.
///
/// Plain values with production defaults; `ConfigurationLoader` fills it, the server only reads it.
public struct ServerConfiguration: Sendable, Equatable {
    /// Which Engine.IO transports clients may use (Open WebUI's `ENABLE_WEBSOCKET_SUPPORT`).
    public enum Transports: String, Sendable, Equatable, CaseIterable {
        case both, websocket, polling

        public var allowsPolling: Bool { self != .websocket }
        public var allowsWebSocket: Bool { self != .polling }
    }

    /// Allowed `Origin` values for browser clients.
    public enum AllowedOrigins: Sendable, Equatable {
        /// Unset: only requests without `Origin`, or whose origin matches the `Host` they were sent to.
        case sameOrigin
        /// `*`: any origin (only when configured so explicitly).
        case any
        /// An explicit list such as `https://chat.example.com`.
        case list([String])
    }

    // server
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Threads of the event loop group; 0 = one per core.
    public var eventLoopThreads: Int = 0
    /// Largest request head (request line + headers), in bytes.
    public var maxHeaderBytes: Int = 16 * 1024
    /// A connection that has not sent a complete request this long after connecting
    /// (or after its last response, when idle on keep-alive) is closed.
    public var requestTimeoutSeconds: Double = 10
    /// On SIGTERM/SIGINT: how long to wait for sessions to close before exiting.
    public var drainTimeoutSeconds: Double = 10
    public var policiesDirectory: String = "./policies"
    public var pluginsDirectory: String = "./plugins"
    public var dataDirectory: String = "./data"
    /// Proxies (addresses or CIDR networks) whose `Forwarded` / `X-Forwarded-For` / `X-Real-IP`
    /// name the client; from any other peer those headers are ignored.
    public var trustedProxies: [String] = []
    /// PEM certificate chain and private key: both set = the listener speaks only TLS (https, wss).
    public var tlsCertificateFile: String? = nil
    public var tlsKeyFile: String? = nil
    /// A TLS connection that has not completed its handshake this long after connecting is closed.
    public var tlsHandshakeTimeoutSeconds: Double = 10

    // socketio
    /// The Engine.IO/Socket.IO path; Open WebUI's client uses `/ws/socket.io`.
    public var path: String = "/ws/socket.io"
    public var pingIntervalMs: Int = 25_000
    public var pingTimeoutMs: Int = 20_000
    /// Largest polling body or WebSocket message, in bytes (Engine.IO `maxPayload`).
    public var maxPayloadBytes: Int = 1_000_000
    /// Open WebUI 0.12.4's `maxPayload`, the default when `openWebUIURL` is set.
    public static let openWebUIMaxPayloadBytes = 16 << 20
    /// Bytes of incoming messages not yet whole that all connections together may hold.
    public var maxInboundBufferBytes: Int = 256 << 20
    public var transports: Transports = .both
    public var allowedOrigins: AllowedOrigins = .sameOrigin
    /// Namespaces besides `/` that clients may join.
    public var namespaces: [String] = []
    /// A connection that has joined no namespace this long after opening is closed.
    public var connectTimeoutMs: Int = 45_000
    /// How long a polling→WebSocket upgrade may take before the probe is dropped.
    public var upgradeTimeoutMs: Int = 10_000
    /// Outbound bytes buffered for one session before it is considered a slow reader and closed.
    public var maxOutboundBytes: Int = 8 * 1024 * 1024
    /// Server-initiated emits with an ack give up after this long.
    public var ackTimeoutMs: Int = 30_000

    // limits
    /// Engine.IO sessions open at once (0: no cap); past it a new one gets 503.
    public var maxConnections: Int = 50_000
    /// Sessions open at once from one client address (0: no cap); past it 429.
    public var maxConnectionsPerIP: Int = 1_000
    /// Sockets one user may have connected at once (0: no cap); past it CONNECT_ERROR.
    public var maxConnectionsPerUser: Int = 100
    /// Rooms one socket may be in at once besides its own (0: no cap); a join past it is refused.
    public var maxRoomsPerSocket: Int = 10_000
    /// Wall-clock deadline of one policy hook call, I/O waits included.
    public var hookDeadlineMs: Int = 250
    /// The default when `openWebUIURL` is set: the stock profile asks Open WebUI's API within its
    /// hooks (2 s per question at most), and a busy Open WebUI answers in more than 250 ms.
    public static let openWebUIHookDeadlineMs = 3_000
    /// Lua instructions one hook call may run.
    public var hookInstructions: Int = 10_000_000

    // yjs
    /// The Yjs relay's limits and storage knobs (the `yjs` section).
    public var yjs = YjsSettings()

    // log
    /// One of swift-log's level names (`trace` … `critical`); validated by `ConfigurationLoader`.
    public var logLevel: String = "info"
    /// `text` (swift-log's stream format) or `json` (one object per line).
    public var logFormat: String = "text"

    // jwt, redis, admin: parsed now, used by later layers.
    /// HS256 key for client tokens (`PALISADE_JWT_SECRET`, Open WebUI's `WEBUI_SECRET_KEY`).
    public var jwtSecret: String? = nil
    /// Redis for the distributed mode; nil = embedded mode (`PALISADE_REDIS_URL`, `WEBSOCKET_REDIS_URL`).
    public var redisURL: String? = nil
    /// Prefix of every Redis and store key; Open WebUI's `REDIS_KEY_PREFIX` so its revocation keys line up.
    /// Without one, `palisade`, or `openWebUIRedisPrefix` when `openWebUIURL` is set.
    public var redisPrefix: String = "palisade"
    /// Open WebUI's default `REDIS_KEY_PREFIX`.
    public static let openWebUIRedisPrefix = "open-webui"
    /// Where the audit stream goes (`server.audit`): `stdout` or a file path; nil = audit lines
    /// go to the log.
    public var auditDestination: String? = nil
    /// Bearer token of the admin API; nil = admin API off.
    public var adminToken: String? = nil

    /// Base URLs `px.http` may reach, besides `openWebUIURL`.
    public var httpAllowedURLs: [String] = []
    /// The largest response body `px.http` reads.
    public var httpMaxResponseBytes: Int = 8 << 20
    /// PEM roots for `px.http` over https; nil = the system's.
    public var httpCAFile: String? = nil
    /// Where `px.alert` POSTs (`alerts.webhook_url`); nil = nowhere.
    public var alertsWebhookURL: String? = nil
    /// Open WebUI's base URL as Palisade reaches it (`px.config.openwebui.url`).
    public var openWebUIURL: String? = nil

    public init() {}
}

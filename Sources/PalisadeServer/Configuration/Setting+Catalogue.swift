import Logging

extension Setting {
    /// Every setting, in the order they are resolved, validated and listed in `--help`.
    static let all: [Setting] = [
        // server
        Setting("server.host", "address to listen on", default: { $0.host }) { value, configuration in
            configuration.host = try value.word(expected: "a host name or IP address")
        },
        Setting("server.port", "TCP port (0 = any free port)", default: { "\($0.port)" }) { value, configuration in
            configuration.port = try value.integer(in: 0...65535, expected: "a port number 0...65535")
        },
        Setting("server.threads", "event loop threads (0 = one per core)", default: { "\($0.eventLoopThreads)" }) {
            value, configuration in
            // More loops than this is a typo, not a machine: each loop is a thread with its own Lua states.
            configuration.eventLoopThreads = try value.integer(in: 0...1024, expected: "a thread count 0...1024")
        },
        Setting("server.max_header_bytes", "largest request head, bytes", default: { "\($0.maxHeaderBytes)" }) {
            value, configuration in
            configuration.maxHeaderBytes = try value.byteCount()
        },
        Setting(
            "server.request_timeout_s",
            "seconds to wait for a complete request",
            default: { seconds($0.requestTimeoutSeconds) }
        ) { value, configuration in
            configuration.requestTimeoutSeconds = try value.seconds()
        },
        Setting(
            "server.drain_timeout_s",
            "seconds to let sessions close on SIGTERM/SIGINT (0 = exit at once)",
            default: { seconds($0.drainTimeoutSeconds) }
        ) { value, configuration in
            configuration.drainTimeoutSeconds = try value.seconds(allowZero: true)
        },
        Setting("server.policies", "folder of policy scripts", default: { $0.policiesDirectory }) {
            value, configuration in
            configuration.policiesDirectory = try value.nonEmpty(expected: "a directory path")
        },
        Setting("server.plugins", "folder of plugin scripts", default: { $0.pluginsDirectory }) {
            value, configuration in
            configuration.pluginsDirectory = try value.nonEmpty(expected: "a directory path")
        },
        Setting(
            "server.trusted_proxies", "comma list of proxy addresses or CIDR networks whose Forwarded headers are read",
            default: { _ in nil }
        ) { value, configuration in
            configuration.trustedProxies = try value.networks()
        },
        Setting(
            "server.audit", "where the audit stream goes: stdout or a file path (unset = audit lines go to the log)",
            default: { _ in nil }
        ) { value, configuration in
            configuration.auditDestination = try value.nonEmpty(expected: "stdout or a file path")
        },
        Setting(
            "server.tls_cert", "PEM certificate chain (leaf first); with server.tls_key, only TLS is served (re-read on reload)",
            default: { _ in nil }
        ) { value, configuration in
            configuration.tlsCertificateFile = try value.nonEmpty(expected: "a file path")
        },
        Setting("server.tls_key", "PEM private key (unencrypted) of server.tls_cert", default: { _ in nil }) { value, configuration in
            configuration.tlsKeyFile = try value.nonEmpty(expected: "a file path")
        },
        Setting(
            "server.tls_handshake_timeout_s", "seconds a TLS client has to complete its handshake",
            default: { seconds($0.tlsHandshakeTimeoutSeconds) }
        ) { value, configuration in
            configuration.tlsHandshakeTimeoutSeconds = try value.seconds()
        },
        Setting(
            "server.data_dir",
            environment: [.palisade("PALISADE_DATA_DIR")],
            "folder for SQLite data",
            default: { $0.dataDirectory }
        ) { value, configuration in
            configuration.dataDirectory = try value.nonEmpty(expected: "a directory path")
        },

        // socketio
        Setting("socketio.path", "Engine.IO/Socket.IO path", default: { $0.path }) { value, configuration in
            configuration.path = try value.urlPath()
        },
        Setting(
            "socketio.ping_interval",
            environment: [.palisade("PALISADE_PING_INTERVAL"), .openWebUI("WEBSOCKET_SERVER_PING_INTERVAL")],
            "seconds between server pings",
            default: { milliseconds($0.pingIntervalMs) }
        ) { value, configuration in
            configuration.pingIntervalMs = try value.milliseconds()
        },
        Setting(
            "socketio.ping_timeout",
            environment: [.palisade("PALISADE_PING_TIMEOUT"), .openWebUI("WEBSOCKET_SERVER_PING_TIMEOUT")],
            "seconds to wait for a pong",
            default: { milliseconds($0.pingTimeoutMs) }
        ) { value, configuration in
            configuration.pingTimeoutMs = try value.milliseconds()
        },
        Setting(
            "socketio.max_payload", "largest message or polling body, bytes (16 MiB when openwebui.url is set)",
            default: { "\($0.maxPayloadBytes)" }
        ) {
            value, configuration in
            configuration.maxPayloadBytes = try value.byteCount()
        },
        Setting(
            "socketio.transports",
            environment: [.openWebUI("ENABLE_WEBSOCKET_SUPPORT", conversion: .webSocketSupportFlag)],
            "both|websocket|polling",
            default: { $0.transports.rawValue }
        ) { value, configuration in
            configuration.transports = try value.transports()
        },
        Setting(
            "socketio.cors_allowed_origins",
            environment: [.palisade("PALISADE_CORS_ALLOWED_ORIGINS"), .openWebUI("CORS_ALLOW_ORIGIN")],
            "browser origins allowed: comma list of scheme://host[:port], or * (unset = same origin only)",
            default: { _ in nil }
        ) { value, configuration in
            configuration.allowedOrigins = try value.allowedOrigins()
        },
        Setting("socketio.namespaces", "comma list of namespaces besides /", default: { _ in nil }) {
            value, configuration in
            configuration.namespaces = try value.namespaces()
        },
        Setting(
            "socketio.connect_timeout_s",
            "seconds for a new connection to join a namespace",
            default: { milliseconds($0.connectTimeoutMs) }
        ) { value, configuration in
            configuration.connectTimeoutMs = try value.milliseconds()
        },
        Setting(
            "socketio.upgrade_timeout_s",
            "seconds a polling-to-WebSocket upgrade may take",
            default: { milliseconds($0.upgradeTimeoutMs) }
        ) { value, configuration in
            configuration.upgradeTimeoutMs = try value.milliseconds()
        },
        Setting(
            "socketio.max_outbound_bytes",
            "bytes queued for one slow client before it is closed",
            default: { "\($0.maxOutboundBytes)" }
        ) { value, configuration in
            configuration.maxOutboundBytes = try value.byteCount()
        },
        Setting(
            "socketio.ack_timeout_s",
            "seconds to wait for a client's ack",
            default: { milliseconds($0.ackTimeoutMs) }
        ) { value, configuration in
            configuration.ackTimeoutMs = try value.milliseconds()
        },

        // limits
        Setting(
            "limits.max_inbound_buffer_bytes",
            "bytes of incoming messages not yet whole that all connections together may hold (64 KiB each not counted); past it that connection closes",
            default: { "\($0.maxInboundBufferBytes)" }
        ) { value, configuration in
            configuration.maxInboundBufferBytes = try value.byteCount()
        },
        Setting("limits.max_connections", "Engine.IO sessions open at once (0 = no cap); past it 503", default: { "\($0.maxConnections)" })
        {
            value, configuration in
            configuration.maxConnections = try value.integer(in: 0...10_000_000, expected: "a count 0...10000000")
        },
        Setting(
            "limits.max_connections_per_ip", "sessions open at once from one client address (0 = no cap); past it 429",
            default: { "\($0.maxConnectionsPerIP)" }
        ) { value, configuration in
            configuration.maxConnectionsPerIP = try value.integer(in: 0...10_000_000, expected: "a count 0...10000000")
        },
        Setting(
            "limits.max_connections_per_user", "sockets one user may have connected at once (0 = no cap); past it CONNECT_ERROR",
            default: { "\($0.maxConnectionsPerUser)" }
        ) { value, configuration in
            configuration.maxConnectionsPerUser = try value.integer(in: 0...10_000_000, expected: "a count 0...10000000")
        },
        Setting(
            "limits.max_rooms_per_socket", "rooms one socket may be in at once besides its own (0 = no cap); a join past it is refused",
            default: { "\($0.maxRoomsPerSocket)" }
        ) { value, configuration in
            configuration.maxRoomsPerSocket = try value.integer(in: 0...10_000_000, expected: "a count 0...10000000")
        },
        Setting(
            "limits.hook_deadline_s",
            "seconds one policy hook call may take, I/O waits included (3 when openwebui.url is set)",
            default: { milliseconds($0.hookDeadlineMs) }
        ) { value, configuration in
            configuration.hookDeadlineMs = try value.milliseconds()
        },
        Setting("limits.hook_instructions", "Lua instructions one policy hook call may run", default: { "\($0.hookInstructions)" }) {
            value, configuration in
            configuration.hookInstructions = try value.integer(
                in: 10_000...1_000_000_000, expected: "an instruction count 10000...1000000000")
        },

        // yjs
        Setting("yjs.max_update_bytes", "largest Yjs update, bytes", default: { "\($0.yjs.maxUpdateBytes)" }) {
            value, configuration in
            configuration.yjs.maxUpdateBytes = try value.byteCount()
        },
        Setting("yjs.max_document_bytes", "largest stored Yjs document (snapshot + log), bytes", default: { "\($0.yjs.maxDocumentBytes)" })
        {
            value, configuration in
            configuration.yjs.maxDocumentBytes = try value.byteCount()
        },
        Setting(
            "yjs.max_document_values", "most decoded Yjs values (structs, elements, delete ranges) in one document",
            default: { "\($0.yjs.maxDocumentValues)" }
        ) {
            value, configuration in
            configuration.yjs.maxDocumentValues = try value.integer(in: 1...100_000_000, expected: "a count 1...100000000")
        },
        Setting(
            "yjs.max_documents_per_connection", "documents one connection may have joined at once",
            default: { "\($0.yjs.maxDocumentsPerConnection)" }
        ) {
            value, configuration in
            configuration.yjs.maxDocumentsPerConnection = try value.integer(in: 1...100_000, expected: "a count 1...100000")
        },
        Setting("yjs.max_awareness_bytes", "largest awareness message, bytes", default: { "\($0.yjs.maxAwarenessBytes)" }) {
            value, configuration in
            configuration.yjs.maxAwarenessBytes = try value.byteCount()
        },
        Setting(
            "yjs.awareness_rate", "awareness messages per second per connection (burst of the same size)",
            default: { "\($0.yjs.awarenessPerSecond)" }
        ) {
            value, configuration in
            configuration.yjs.awarenessPerSecond = try value.integer(in: 1...100_000, expected: "a rate 1...100000")
        },
        Setting(
            "yjs.compact_updates", "compact a document once its log holds this many updates", default: { "\($0.yjs.compactAfterUpdates)" }
        ) {
            value, configuration in
            configuration.yjs.compactAfterUpdates = try value.integer(in: 1...1_000_000, expected: "a count 1...1000000")
        },
        Setting("yjs.compact_bytes", "compact a document once its log holds this many bytes", default: { "\($0.yjs.compactAfterBytes)" }) {
            value, configuration in
            configuration.yjs.compactAfterBytes = try value.byteCount()
        },
        Setting(
            "yjs.retention_days", "delete documents nobody wrote for this many days (0 = keep forever)",
            default: { "\($0.yjs.retentionDays)" }
        ) {
            value, configuration in
            configuration.yjs.retentionDays = try value.integer(in: 0...36_500, expected: "a number of days 0...36500")
        },
        Setting(
            "yjs.content_debounce_s", "seconds between the last content snapshot and document_content",
            default: { milliseconds($0.yjs.contentDebounceMs) }
        ) {
            value, configuration in
            configuration.yjs.contentDebounceMs = try value.milliseconds()
        },

        // log
        Setting("log.level", "trace|debug|info|notice|warning|error|critical", default: { $0.logLevel }) {
            value, configuration in
            configuration.logLevel = try value.choice(Logger.Level.allCases.map(\.rawValue))
        },
        Setting("log.format", "text|json (json: one object per line)", default: { $0.logFormat }) {
            value, configuration in
            configuration.logFormat = try value.choice(["text", "json"])
        },

        // jwt, redis, admin
        Setting(
            "jwt.secret",
            environment: [.openWebUI("WEBUI_SECRET_KEY")],
            secret: true,
            "HS256 key for client tokens",
            default: { _ in nil }
        ) { value, configuration in
            configuration.jwtSecret = try value.nonEmpty(expected: "a non-empty key")
        },
        Setting(
            "redis.url",
            environment: [.openWebUI("WEBSOCKET_REDIS_URL")],
            secret: true,  // may carry a password
            "Redis for the distributed mode (unset = embedded)",
            default: { _ in nil }
        ) { value, configuration in
            configuration.redisURL = try value.word(expected: "a Redis URL such as redis://host:6379/0")
        },
        Setting(
            "redis.prefix",
            environment: [.openWebUI("REDIS_KEY_PREFIX")],
            "prefix of Redis and store keys (open-webui when openwebui.url is set)",
            default: { $0.redisPrefix }
        ) { value, configuration in
            configuration.redisPrefix = try value.word(expected: "a key prefix without spaces")
        },
        Setting(
            "http.allowed_urls", "comma list of base URLs px.http may reach (openwebui.url is always one)",
            default: { _ in nil }
        ) { value, configuration in
            configuration.httpAllowedURLs = try value.baseURLs()
        },
        Setting(
            "http.max_response_bytes", "largest response body px.http reads",
            default: { "\($0.httpMaxResponseBytes)" }
        ) { value, configuration in
            configuration.httpMaxResponseBytes = try value.byteCount()
        },
        Setting("http.ca_file", "PEM file of the roots px.http trusts for https (unset = the system's)", default: { _ in nil }) {
            value, configuration in
            configuration.httpCAFile = try value.nonEmpty(expected: "a file path")
        },
        Setting(
            "openwebui.url", "Open WebUI's base URL, as Palisade reaches it (px.config.openwebui.url; allowed for px.http)",
            default: { _ in nil }
        ) { value, configuration in
            configuration.openWebUIURL = try value.baseURLs().first
        },
        Setting(
            "alerts.webhook_url", "where px.alert's alerts are POSTed as JSON (unset = log and audit stream only)",
            default: { _ in nil }
        ) { value, configuration in
            configuration.alertsWebhookURL = try value.baseURLs().first
        },
        Setting("admin.token", secret: true, "bearer token of the admin API (unset = admin API off)", default: { _ in nil }) {
            value, configuration in
            configuration.adminToken = try value.word(expected: "a token without spaces")
        },
    ]

    static let byKey: [String: Setting] = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// `25.0` → `25`, `0.5` → `0.5`: seconds as an operator writes them.
    private static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
    }

    private static func milliseconds(_ value: Int) -> String {
        seconds(Double(value) / 1000)
    }
}

// A Palisade server with test-only handlers, for the interop tests and the official
// Engine.IO / Socket.IO conformance suites. Not part of the product.
import ArgumentParser
import Logging
import NIOCore
import PalisadeCluster
import PalisadeRedis
import PalisadeServer

#if canImport(Glibc)
    import Glibc
#endif

@main
struct PalisadeTestServer: AsyncParsableCommand {
    @Option var host = "127.0.0.1"
    @Option(help: "0 picks a free port.") var port = 0
    @Option(help: "Milliseconds.") var pingInterval = 25_000
    @Option(help: "Milliseconds.") var pingTimeout = 20_000
    @Option var maxPayload = 1_000_000
    @Option(help: "Bytes of incoming messages not yet whole, all connections together.") var maxInboundBuffer = 256 << 20
    @Option(help: "both, websocket or polling.") var transports = "both"
    @Option(help: "Comma list of allowed origins, or *.") var origins: String?
    @Option(help: "Milliseconds.") var connectTimeout = 45_000
    @Option var path = "/ws/socket.io"
    @Option(help: "Seconds a connection has to send a complete request.") var requestTimeout = 10.0
    @Option(help: "Outbound bytes buffered per session before it is closed as a slow reader.") var maxOutboundBytes = 8 * 1024 * 1024
    @Option(help: "Seconds to wait for sessions to close on SIGTERM.") var drainTimeout = 0.5
    @Option var logLevel = "warning"
    @Option(help: "Share rooms with other processes on this Redis (RedisRoomAdapter, python-socketio's pub/sub format).")
    var redisURL: String?
    @Option(help: "With --redis-url: one pub/sub channel per room (Open WebUI's WEBSOCKET_REDIS_ROOM_CHANNELS).")
    var redisRoomChannels = true
    @Option(help: "With --redis-url: seconds to wait for Redis before listening (then rooms stay local until it is up).")
    var redisWait = 15.0

    func run() async throws {
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.pingIntervalMs = pingInterval
        configuration.pingTimeoutMs = pingTimeout
        configuration.maxPayloadBytes = maxPayload
        configuration.maxInboundBufferBytes = maxInboundBuffer
        configuration.connectTimeoutMs = connectTimeout
        configuration.transports = ServerConfiguration.Transports(rawValue: transports) ?? .both
        configuration.namespaces = ["/custom"]
        configuration.drainTimeoutSeconds = drainTimeout
        configuration.requestTimeoutSeconds = requestTimeout
        configuration.maxOutboundBytes = maxOutboundBytes
        if let origins {
            configuration.allowedOrigins = origins == "*" ? .any : .list(origins.split(separator: ",").map(String.init))
        }
        var logger = Logger(label: "palisade-test-server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning

        let group = GatewayServer.makeEventLoopGroup(configuration)
        var adapter: ((SocketRegistry) -> any RoomAdapter)?
        let made = AdapterBox()
        if let redisURL {
            let redis = RedisConfiguration(url: try RedisURL(parsing: redisURL))
            let settings = RedisRoomAdapterSettings(roomChannels: redisRoomChannels)
            let loop = group.next()
            adapter = { registry in
                let adapter = RedisRoomAdapter(sockets: registry, redis: redis, eventLoop: loop, settings: settings, logger: logger)
                made.adapter = adapter
                return adapter
            }
        }
        let socketServer = TestApplication.makeSocketServer(configuration: configuration, adapter: adapter, logger: logger)
        if let redisAdapter = made.adapter, redisWait > 0 {
            // Tests start talking at once: both links up first, so no early broadcast stays local by accident.
            let up = try await redisAdapter.waitUntilUp(timeout: .milliseconds(Int64(redisWait * 1000))).get()
            if !up { logger.warning("redis is not up; serving with local rooms until it is") }
        }
        var mounts: [(path: String, application: any EngineApplication)] = [
            ("/engine.io", EchoApplication()), ("/autobahn", RawWebSocketEchoApplication()),
        ]
        mounts.append((path, socketServer))
        if path != "/socket.io" { mounts.append(("/socket.io", socketServer)) }

        let server = GatewayServer(configuration: configuration, applications: mounts, group: group, logger: logger)
        try await server.run { address in
            print("listening on \(address)")
            fflush(nil)
        }
    }
}

/// The Redis adapter, kept when the socket server makes it (before any connection), read once after.
final class AdapterBox: @unchecked Sendable {
    // Safe: written once while the server is made, on this thread, and read after on it.
    var adapter: RedisRoomAdapter?
}

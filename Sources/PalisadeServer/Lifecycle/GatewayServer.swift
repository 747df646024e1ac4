import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

#if canImport(Glibc)
    import Glibc
    import PalisadeGateway
    import PalisadeJSON
#endif

/// The running gateway: binds the listener, serves HTTP, WebSocket and Engine.IO mounts,
/// and shuts down gracefully on SIGTERM/SIGINT.
public final class GatewayServer: Sendable {
    public let configuration: ServerConfiguration
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let router: HTTPRouter
    private let tls: TLSTermination?

    /// The product server: Socket.IO on `configuration.path` with `policy`.
    public convenience init(configuration: ServerConfiguration, policy: any GatewayPolicy = AllowAllPolicy(), logger: Logger) {
        let socketServer = SocketServer(configuration: configuration, policy: policy, logger: logger)
        self.init(configuration: configuration, applications: [(configuration.path, socketServer)], logger: logger)
    }

    /// A server with explicit Engine.IO applications per path (the tests mount an echo app too).
    /// - Parameters:
    ///   - group: the event loops to serve on (from `makeEventLoopGroup`), when parts built
    ///     before the server need them; the server shuts them down when it stops.
    ///   - redisStatus: what `/healthz` says of Redis (`"up"` or `"down"`); nil: `"off"`.
    ///   - tls: with it, every connection speaks TLS (`TLSTermination.load`).
    ///   - metricsText: `/metrics`' body, the metrics backend's Prometheus text (the executable's
    ///     registry); nil: the body is empty (no backend was bootstrapped).
    public init(
        configuration: ServerConfiguration, applications: [(path: String, application: any EngineApplication)],
        policyStatus: (any PolicyStatusReporting)? = nil, admin: AdminConfiguration? = nil,
        group: MultiThreadedEventLoopGroup? = nil, redisStatus: (@Sendable () -> String)? = nil,
        tls: TLSTermination? = nil, metricsText: (@Sendable () -> String)? = nil, logger: Logger
    ) {
        self.configuration = configuration
        self.logger = logger
        self.group = group ?? Self.makeEventLoopGroup(configuration)
        self.tls = tls
        _ = ServerMetrics.shared  // every family of the core shows from the first scrape
        let settings = EngineSettings(configuration)
        let origins = OriginPolicy(allowed: configuration.allowedOrigins, scheme: tls == nil ? "http" : "https")
        let engines = applications.map {
            EngineServer(path: $0.path, settings: settings, origins: origins, application: $0.application, logger: logger)
        }
        router = HTTPRouter(
            engines: engines,
            requestTimeout: .milliseconds(Int64(configuration.requestTimeoutSeconds * 1000)),
            trustedProxies: TrustedProxies(configuration.trustedProxies.compactMap(IPNetwork.init)),
            admin: admin.map { AdminAPI($0, logger: logger) },
            health: {
                let sessions = engines.reduce(0) { $0 + $1.sessionCount }
                let generation = policyStatus?.policyGeneration ?? 0
                let error = policyStatus?.policyError.map(JSONWriter.quoted) ?? "null"
                // With a policy engine but no generation loaded, every connect is refused.
                let healthy = policyStatus == nil || generation > 0
                let status = healthy ? "ok" : "unhealthy"
                let body =
                    "{\"status\":\"\(status)\",\"generation\":\(generation),\"policy_error\":\(error),\"redis\":\"\(redisStatus?() ?? "off")\","
                    + "\"sessions\":\(sessions)}"
                return (healthy, body)
            },
            metrics: {
                Self.refreshGauges(engines: engines, policyStatus: policyStatus, redisStatus: redisStatus)
                return metricsText?() ?? ""
            }
        )
    }

    /// Sets the gauges that are read rather than counted, just before a scrape renders them.
    private static func refreshGauges(
        engines: [EngineServer], policyStatus: (any PolicyStatusReporting)?, redisStatus: (@Sendable () -> String)?
    ) {
        let metrics = ServerMetrics.shared
        metrics.sessions.record(engines.reduce(0) { $0 + $1.sessionCount })
        metrics.inboundBytes.record(engines.reduce(0) { $0 + $1.inbound.usage.used })
        // Made here, not once: a server without a policy engine or Redis shows none of these.
        if let policyStatus {
            Gauge(label: "palisade_policy_generation").record(policyStatus.policyGeneration)
            Gauge(label: "palisade_policy_error").record(policyStatus.policyError == nil ? 0 : 1)
            Gauge(label: "palisade_policy_sockets").record(policyStatus.heldSockets)
        }
        if let redis = redisStatus?() { Gauge(label: "palisade_redis_up").record(redis == "up" ? 1 : 0) }
    }

    /// The event loops `configuration.eventLoopThreads` asks for (0: one per core).
    public static func makeEventLoopGroup(_ configuration: ServerConfiguration) -> MultiThreadedEventLoopGroup {
        let threads = configuration.eventLoopThreads > 0 ? configuration.eventLoopThreads : System.coreCount
        return MultiThreadedEventLoopGroup(numberOfThreads: threads)
    }

    /// The event loops; the policy engine validates reloads on one of them.
    public var eventLoopGroup: any EventLoopGroup { group }

    /// Serves until SIGTERM or SIGINT, then drains and returns. `onListening` gets the
    /// bound `host:port` (useful with port 0); `onStopping` runs when the signal came,
    /// before the loops stop (to cancel timers scheduled on them).
    public func run(onListening: (String) -> Void = { _ in }, onStopping: () -> Void = {}) async throws {
        // Signals are caught before anyone can learn the address, so an early SIGTERM drains too.
        let signals = TerminationSignals()
        let listener = try await start()
        let address = describe(listener.localAddress)
        if let tls { logger.info("TLS only", metadata: ["certificate": "\(tls.certificateFile)"]) }
        logger.info("listening on \(address)")
        onListening(address)
        await signals.wait()
        onStopping()
        try await stop(listener)
    }

    /// Binds and starts serving; returns the listening channel.
    public func start() async throws -> any Channel {
        let router = router
        let tls = tls
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = configuration.maxHeaderBytes
        limits.maxHeaderFieldSize = configuration.maxHeaderBytes
        let decoderLimits = limits
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            // Each connection keeps its receive buffer between reads. NIO's default starts
            // at 2 KiB, a fifth of an idle connection's memory; the buffer still doubles
            // whenever a read fills it, so busy connections read as much per call.
            .childChannelOption(ChannelOptions.recvAllocator, value: Self.receiveBuffers)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandlers(tls.makeHandlers()) }
                    try Self.configureConnection(channel, router: router, decoderLimits: decoderLimits)
                }
            }
        return try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
    }

    private static let httpHandlerName = "palisade.http"

    /// Receive buffers of 512 B to start with (a WebSocket upgrade request or a few frames),
    /// growing up to 64 KiB for connections that read more.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536)

    private static func configureConnection(_ channel: any Channel, router: HTTPRouter, decoderLimits: NIOHTTPDecoderLimitConfiguration)
        throws
    {
        let upgrader = WebSocketUpgrader(router: router, channel: channel)
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: true,
            withServerUpgrade: (
                upgraders: [upgrader],
                completionHandler: { context in
                    context.pipeline.removeHandler(name: httpHandlerName, promise: nil)
                }
            ),
            withErrorHandling: true,
            withOutboundHeaderValidation: true,
            withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: decoderLimits
        )
        try channel.pipeline.syncOperations.addHandler(HTTPRequestHandler(router: router), name: httpHandlerName)
    }

    /// Stops accepting, closes every session, waits up to the drain timeout, stops the loops.
    public func stop(_ listener: any Channel) async throws {
        logger.info("shutting down: closing sessions")
        try? await listener.close()
        for engine in router.engines { engine.closeAllSessions(reason: .serverShutdown) }
        let deadline = NIODeadline.now() + .milliseconds(Int64(configuration.drainTimeoutSeconds * 1000))
        while router.engines.contains(where: { $0.sessionCount > 0 }), NIODeadline.now() < deadline {
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        try await group.shutdownGracefully()
        logger.info("stopped")
    }

    private func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "?" }
        return "\(address.ipAddress ?? configuration.host):\(address.port ?? configuration.port)"
    }
}

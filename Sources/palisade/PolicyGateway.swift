import Dispatch
import Logging
import NIOCore
import NIOPosix
import PalisadeDirectory
import PalisadeDocuments
import PalisadeGateway
import PalisadeJSON
import PalisadePolicy
import PalisadeRedis
import PalisadeRedisState
import PalisadeServer
import PalisadeState
import PalisadeYjsRelay

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The product wiring: the Lua policy engine behind the Socket.IO server, loaded at
/// start, reloaded on SIGHUP and when a file in the policies or plugins folder changes.
/// SIGHUP (and the admin reload) also re-reads the TLS certificate and key.
struct PolicyGateway {
    let configuration: ServerConfiguration
    /// Where `px.config.policy` comes from (read again at every reload).
    let settings: PolicySettings
    let jwtSecret: String
    /// `/metrics`' body (`MetricsBootstrap`).
    let metricsText: @Sendable () -> String
    let logger: Logger

    /// How often the folders are compared when nothing signalled a change.
    static let watchInterval: UInt64 = 1_000_000_000
    /// After an inotify event, editors often write in several steps: wait this long first.
    static let settleDelay: UInt64 = 100_000_000

    func run() async throws {
        // First: a certificate or key that cannot be used stops the start before anything else.
        let tls = try await TLSTermination.load(configuration, logger: logger)
        let group = GatewayServer.makeEventLoopGroup(configuration)
        // Redis's connections and timers live on loops of their own, which outlive the server's:
        // they are closed after the server's loops have stopped, then these stop too.
        let redisGroup = configuration.redisURL.map { _ in MultiThreadedEventLoopGroup(numberOfThreads: 2) }
        let redis = try configuration.redisURL.map {
            try RedisLink(urlText: $0, environment: ProcessInfo.processInfo.environment, loop: redisGroup!.next(), logger: logger)
        }
        // One instance: SQLite in the data directory. A cluster: Redis, shared, writes announced.
        let shared = redis.map { AnnouncedDirectory(RedisDirectoryStore(client: $0.client, prefix: configuration.redisPrefix)) }
        let directory: any PolicyDirectory & Sendable
        if let shared {
            directory = shared
        } else {
            directory = try await SQLiteDirectoryStore.open(dataDirectory: configuration.dataDirectory)
        }
        let cachedDirectory = CachedPolicyDirectory(directory)
        // Refusals are kept for `GET /admin/v1/refusals`; every record goes on to `server.audit`.
        let stream: any AuditSink =
            try configuration.auditDestination.map { try AuditStream(destination: $0) } ?? LogAuditSink(logger: logger)
        let audit = RefusalLog(forwardingTo: stream)
        let host = PolicyHost(
            logger: logger, config: try settings.pxConfig(),
            store: redis?.store ?? MemoryStateStore(), rateLimiter: redis?.rateLimiter ?? MemoryRateLimiter(),
            keyPrefix: configuration.redisPrefix, jwtSecret: jwtSecret,
            directory: cachedDirectory, http: try PolicyHTTPSetup.make(configuration),
            publisher: redis.map { RedisPublisher(client: $0.client) }, audit: audit,
            alerts: try PolicyHTTPSetup.alerts(configuration, loop: group.next(), logger: logger))
        let directories = [configuration.policiesDirectory, configuration.pluginsDirectory]
        var engineSettings = LuaPolicyEngine.Settings(directories: directories)
        engineSettings.limits.deadline = .milliseconds(Int64(configuration.hookDeadlineMs))
        engineSettings.limits.instructions = Int64(configuration.hookInstructions)
        let engine = LuaPolicyEngine(settings: engineSettings, host: host)
        let documentStore: any DocumentStore
        if let redis {
            documentStore = redis.documentStore(prefix: configuration.redisPrefix, settings: configuration.yjs)
        } else {
            documentStore = try await SQLiteDocumentStore.open(dataDirectory: configuration.dataDirectory)
        }
        let relay = YjsRelay(
            settings: configuration.yjs, store: documentStore, policy: engine,
            loops: Array(group.makeIterator()), maxMessageBytes: configuration.maxOutboundBytes, logger: logger)
        let socketServer = SocketServer(
            configuration: configuration, policy: engine, handlers: relay.handlers,
            onDisconnect: relay.disconnected, adapter: redis.map { link in { link.roomAdapter(for: $0, on: redisGroup!.next()) } },
            audit: audit, logger: logger)
        host.attach(socketServer)
        relay.attach(socketServer)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let sweepLoop = redisGroup?.next() ?? group.next()
        let sweep = redis.map {
            RevocationSweep(server: socketServer, client: $0.client, prefix: configuration.redisPrefix, logger: logger)
        }
        let control = redis.map { link in
            ClusterControl(
                link: link, prefix: configuration.redisPrefix, server: socketServer, loop: sweepLoop, logger: logger,
                onSweep: { _ = sweep?.sweep(on: sweepLoop) },
                onDirectoryWrite: { kind, id in cachedDirectory.invalidate(kind: kind, id: id) })
        }
        if let control { shared?.announce(through: control) }
        var backend = GatewayAdminBackend(engine: engine, host: host, loop: loop)
        backend.afterRevoke = control.map(Self.announcer)
        backend.tls = tls
        backend.settings = settings
        let reloader = backend
        let admin = configuration.adminToken.map {
            AdminConfiguration(token: $0, backend: backend, socketServer: socketServer, cluster: control, refusals: audit)
        }
        let server = GatewayServer(
            configuration: configuration, applications: [(configuration.path, socketServer)],
            policyStatus: engine, admin: admin, group: group, redisStatus: redis.map(Self.healthOf), tls: tls,
            metricsText: metricsText, logger: logger)
        await redis?.reportStart(timeout: .seconds(2), logger: logger)
        _ = try? await engine.reload(on: loop)

        let hangup = ReloadSignal {
            Task {
                do {
                    _ = try await reloader.reload()
                } catch {
                    logger.error("reload after SIGHUP failed", metadata: ["error": "\(error)"])
                }
            }
        }
        // inotify wakes the comparison at once; without it, it runs every `watchInterval`.
        let changes = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let inotify = FolderWatcher(folders: directories) { changes.continuation.yield() }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: Self.watchInterval)
                changes.continuation.yield()
            }
        }
        let watcher = Task {
            var fingerprint = Self.fingerprint(directories)
            for await _ in changes.stream {
                if inotify != nil { try? await Task.sleep(nanoseconds: Self.settleDelay) }
                let next = Self.fingerprint(directories)
                if next != fingerprint {
                    fingerprint = next
                    logger.info("policy files changed: reloading")
                    _ = try? await reloader.reloadPolicies()
                }
            }
        }
        let tickLoop = server.eventLoopGroup.next()
        let ticks = engine.startTicking(on: tickLoop, mayTick: redis.map { $0.tickGate(prefix: configuration.redisPrefix, on: tickLoop) })
        let revocations = sweep?.start(on: sweepLoop)
        let bans = BanSync(backend: backend, server: socketServer, logger: logger).start(on: sweepLoop)
        let retention = relay.startRetention(on: server.eventLoopGroup.next())
        let pools = PoolCleanup.start(
            store: host.store, link: redis, prefix: configuration.redisPrefix, environment: ProcessInfo.processInfo.environment,
            loop: sweepLoop, logger: logger)
        defer {
            ticker.cancel()
            watcher.cancel()
            changes.continuation.finish()
            _ = hangup
        }
        // Cancelled before the loops stop: cancelling schedules work on the task's loop.
        try await server.run(onStopping: {
            ticks.cancel()
            retention?.cancel()
            revocations?.cancel()
            bans.cancel()
            pools.stop()
        })
        await documentStore.close()
        if let sqlite = directory as? SQLiteDirectoryStore { await sqlite.close() }
        await control?.close()
        await redis?.close()
        try? await redisGroup?.shutdownGracefully()
    }

    /// Tells the other instances of a revocation through `control`.
    private static func announcer(_ control: ClusterControl) -> @Sendable () -> Void {
        { control.announceRevocation() }
    }

    /// What `/healthz` says of Redis through `link`.
    private static func healthOf(_ link: RedisLink) -> @Sendable () -> String {
        { link.health }
    }

    /// Names and contents of every module: any edit, addition or removal changes it.
    static func fingerprint(_ directories: [String]) -> [PolicySource] {
        (try? PolicyLoader.read(directories: directories)) ?? []
    }
}

/// Runs `action` on every SIGHUP while it is alive.
final class ReloadSignal: @unchecked Sendable {
    // Safe: `source` is set once in init and only cancelled in deinit.
    private let source: any DispatchSourceSignal

    init(action: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler(handler: action)
        source.resume()
    }

    deinit {
        source.cancel()
    }
}

/// The SQLite directory already has the shape the policy engine reads.
extension SQLiteDirectoryStore: PolicyDirectory {}

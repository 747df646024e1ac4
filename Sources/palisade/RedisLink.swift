import Logging
import NIOConcurrencyHelpers
import NIOCore
import PalisadeCluster
import PalisadeGateway
import PalisadeRedis
import PalisadeRedisState
import PalisadeServer
import PalisadeState

/// The distributed mode's link to Redis, made when `redis.url` is set: one command connection
/// (the store, the rate limiter, publishing) that reconnects by itself. Redis down at start
/// is no reason not to serve: the gateway serves in memory mode, and says so in the log and
/// in `/healthz` (`"redis": "down"`) until the link is up.
final class RedisLink: Sendable {
    let client: RedisClient
    let url: RedisURL
    /// `px.store` on Redis, in memory while Redis is down (`FallbackStateStore` says what that keeps).
    let store: any StateStore
    /// `px.ratelimit` on Redis (one script per hit, on Redis's clock), in memory while it is down.
    let rateLimiter: any RateLimiter
    /// Rooms on Redis pub/sub in python-socketio's format, once the server made it.
    private let adapter = NIOLockedValueBox<RedisRoomAdapter?>(nil)
    private let environment: [String: String]
    private let logger: Logger

    /// The link for `urlText`; fails when the URL cannot be read (a configuration error).
    init(urlText: String, environment: [String: String], loop: any EventLoop, logger: Logger) throws {
        url = try Self.url(urlText, environment: environment)
        self.environment = environment
        self.logger = logger
        client = RedisClient(configuration: RedisConfiguration(url: url), eventLoop: loop, logger: logger)
        store = FallbackStateStore(redis: RedisStateStore(client: client), memory: MemoryStateStore())
        rateLimiter = FallbackRateLimiter(redis: RedisRateLimiter(client: client), memory: MemoryRateLimiter())
    }

    /// Open WebUI's Sentinel settings (`WEBSOCKET_SENTINEL_HOSTS`, `WEBSOCKET_SENTINEL_PORT`,
    /// `REDIS_SENTINEL_MAX_RETRY_COUNT`) turn a plain URL into a Sentinel one, as there.
    private static func url(_ text: String, environment: [String: String]) throws -> RedisURL {
        try RedisURL.openWebUI(
            url: text, sentinelHosts: environment["WEBSOCKET_SENTINEL_HOSTS"], sentinelPort: environment["WEBSOCKET_SENTINEL_PORT"],
            sentinelMaxRetryCount: environment["REDIS_SENTINEL_MAX_RETRY_COUNT"])
    }

    /// The room adapter for `SocketServer(adapter:)`: local members as before, and every
    /// broadcast also on Redis in python-socketio's format, so other instances and the app's own
    /// python-socketio process (Open WebUI's backend) emit to and receive from these sockets.
    /// `WEBSOCKET_REDIS_ROOM_CHANNELS` (default true) chooses per-room channels as Open WebUI does.
    func roomAdapter(for registry: SocketRegistry, on loop: any EventLoop) -> any RoomAdapter {
        let settings = RedisRoomAdapterSettings(
            roomChannels: RedisRoomAdapterSettings.roomChannels(fromEnvironmentValue: environment["WEBSOCKET_REDIS_ROOM_CHANNELS"]))
        let made = RedisRoomAdapter(
            sockets: registry, redis: client.configuration, eventLoop: loop, settings: settings, publisher: client, logger: logger)
        adapter.withLockedValue { $0 = made }
        return made
    }

    /// The policies' `tick` runs on one instance at a time: the holder of `{prefix}:palisade:tick_lock`,
    /// renewed every tick (its TTL, 3 s, lets another take over soon after the holder dies).
    /// While Redis is down every instance ticks by itself, as in memory mode; an error while
    /// Redis is up skips the tick (no two at once).
    func tickGate(prefix: String, on loop: any EventLoop) -> @Sendable () -> EventLoopFuture<Bool> {
        let lock = self.lock(name: "\(prefix):palisade:tick_lock", ttl: .seconds(3))
        let client = client
        return {
            guard client.state == .up else { return loop.makeSucceededFuture(true) }
            return lock.hold(on: loop).recover { _ in false }
        }
    }

    /// A lock held by this instance (its owner token), e.g. a cleanup's.
    func lock(name: String, ttl: TimeAmount) -> RedisLock {
        RedisLock(client: client, name: name, owner: instanceID, ttl: ttl)
    }

    /// Yjs documents in Redis, shared by every instance (`RedisDocumentStore`): every update
    /// relayed to any editor is in Redis; while Redis is down updates and joins are refused.
    func documentStore(prefix: String, settings: YjsSettings) -> RedisDocumentStore {
        RedisDocumentStore(
            client: client, prefix: prefix, maxDocumentBytes: settings.maxDocumentBytes, maxDocumentValues: settings.maxDocumentValues,
            retentionDays: settings.retentionDays)
    }

    /// This instance's token for the locks it takes.
    let instanceID = RedisRoomAdapter.makeHostID()

    /// `"up"` or `"down"` for `/healthz`: up when commands and the subscription both are.
    var health: String {
        let subscribed = adapter.withLockedValue { $0 }.map { $0.status.subscriber.state == .up } ?? true
        return client.state == .up && subscribed ? "up" : "down"
    }

    /// Logs whether Redis could be reached within `timeout` of start.
    func reportStart(timeout: TimeAmount, logger: Logger) async {
        do {
            try await client.waitUntilUp(timeout: timeout).get()
            logger.info("connected to Redis", metadata: ["redis": "\(url)"])
        } catch {
            logger.warning(
                "Redis is not reachable: serving in memory mode until it is",
                metadata: ["redis": "\(url)", "error": "\(error)"])
        }
    }

    func close() async {
        if let adapter = adapter.withLockedValue({ $0 }) { try? await adapter.close().get() }
        try? await client.close().get()
    }
}

import Logging
import NIOCore
import PalisadeRedis

/// The distributed mode's link to Redis, made when `redis.url` is set: one command connection
/// (the store, the rate limiter, publishing) that reconnects by itself. Redis down at start
/// is no reason not to serve: the gateway serves in memory mode, and says so in the log and
/// in `/healthz` (`"redis": "down"`) until the link is up.
final class RedisLink: Sendable {
    let client: RedisClient
    let url: RedisURL

    /// The link for `urlText`; fails when the URL cannot be read (a configuration error).
    init(urlText: String, environment: [String: String], loop: any EventLoop, logger: Logger) throws {
        url = try Self.url(urlText, environment: environment)
        client = RedisClient(configuration: RedisConfiguration(url: url), eventLoop: loop, logger: logger)
    }

    /// Open WebUI's Sentinel settings (`WEBSOCKET_SENTINEL_HOSTS`, `WEBSOCKET_SENTINEL_PORT`,
    /// `REDIS_SENTINEL_MAX_RETRY_COUNT`) turn a plain URL into a Sentinel one, as there.
    private static func url(_ text: String, environment: [String: String]) throws -> RedisURL {
        try RedisURL.openWebUI(
            url: text, sentinelHosts: environment["WEBSOCKET_SENTINEL_HOSTS"], sentinelPort: environment["WEBSOCKET_SENTINEL_PORT"],
            sentinelMaxRetryCount: environment["REDIS_SENTINEL_MAX_RETRY_COUNT"])
    }

    /// `"up"` or `"down"` for `/healthz`.
    var health: String { client.state == .up ? "up" : "down" }

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
        try? await client.close().get()
    }
}

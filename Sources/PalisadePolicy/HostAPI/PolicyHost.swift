import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PalisadeGateway
import PalisadeJSON
import PalisadeJWT
import PalisadeState

/// What the host API reaches outside Lua: settings, logging, and the server's rooms
/// (attached after the server is built, since it is built with the policy).
public final class PolicyHost: Sendable {
    public let logger: Logger
    /// `px.config`: the settings Lua may read (with the free-form `policy` section). Read when a
    /// generation is built, so a new value (`replaceConfig`) applies from the next reload on.
    public var config: JSONValue { configBox.withLockedValue { $0 } }
    private let configBox: NIOLockedValueBox<JSONValue>
    /// Shared state behind `px.store` (keys get `keyPrefix` + ":").
    public let store: any StateStore
    public let rateLimiter: any RateLimiter
    /// Prefix of every store and rate-limit key (`palisade` by default, as in Redis).
    public let keyPrefix: String
    /// `{prefix}:ratelimit:`, the start of every `px.ratelimit.hit` key (made once).
    let rateLimitKeyPrefix: [UInt8]
    /// The key `px.jwt.verify` uses when a policy names none (the configured JWT secret).
    public let defaultJWTKey: JWTKey?
    /// Behind `px.directory.get`; nil = no directory (every record unknown).
    public let directory: (any PolicyDirectory)?
    /// Behind `px.http`; nil = no URL allowed (every call answers `nil, err`).
    public let http: PolicyHTTP?
    /// Behind `px.publish`; nil = nobody to publish to (it answers 0).
    public let publisher: (any PolicyPublisher)?
    /// The audit stream (`server.audit`): `px.audit` and the engine's denies go there; nil: to the log.
    public let audit: (any AuditSink)?
    /// `px.alert`'s destination besides the log and the audit stream (a webhook); nil: none.
    public let alerts: (any PolicyAlerts)?
    private let socketServer = NIOLockedValueBox<(any GatewayRooms)?>(nil)
    /// JWKS files read for `px.jwt.verify(…, {jwks_file = …})`, by path, with when they were read.
    private let keySets = NIOLockedValueBox<[String: CachedKeySet]>([:])
    /// A JWKS file is read again after this long, so rotated keys are picked up.
    static let keySetLifetime = TimeAmount.seconds(60)

    private struct CachedKeySet: Sendable {
        var keys: JWTKeySet
        var readAt: NIODeadline
    }

    public init(
        logger: Logger, config: JSONValue, store: any StateStore = MemoryStateStore(),
        rateLimiter: any RateLimiter = MemoryRateLimiter(), keyPrefix: String = "palisade", jwtSecret: String? = nil,
        directory: (any PolicyDirectory)? = nil, http: PolicyHTTP? = nil, publisher: (any PolicyPublisher)? = nil,
        audit: (any AuditSink)? = nil, alerts: (any PolicyAlerts)? = nil
    ) {
        self.alerts = alerts
        self.publisher = publisher
        self.audit = audit
        self.directory = directory
        self.http = http
        self.logger = logger
        configBox = NIOLockedValueBox(config)
        self.store = store
        self.rateLimiter = rateLimiter
        self.keyPrefix = keyPrefix
        rateLimitKeyPrefix = Array("\(keyPrefix):ratelimit:".utf8)
        defaultJWTKey = jwtSecret.flatMap { try? JWTKey(secret: $0) }
    }

    /// Replaces `px.config` for the generations built from now on.
    public func replaceConfig(_ config: JSONValue) {
        configBox.withLockedValue { $0 = config }
    }

    /// The shared-store key for a policy's key: `{prefix}:{key}`, as in Redis.
    /// The key set of a JWKS file: cached, or read on a thread pool (never on a loop).
    func keySet(path: String, on loop: any EventLoop) -> EventLoopFuture<JWTKeySet> {
        if let cached = keySets.withLockedValue({ $0[path] }), NIODeadline.now() - cached.readAt < Self.keySetLifetime {
            return loop.makeSucceededFuture(cached.keys)
        }
        return NIOThreadPool.singleton.runIfActive(eventLoop: loop) {
            try JWTKeySet(contentsOfFile: path)
        }.map { keys in
            self.keySets.withLockedValue { $0[path] = CachedKeySet(keys: keys, readAt: .now()) }
            return keys
        }
    }

    public func storeKey(_ key: String) -> String { keyPrefix + ":" + key }

    public func attach(_ server: any GatewayRooms) {
        socketServer.withLockedValue { $0 = server }
    }

    var server: (any GatewayRooms)? { socketServer.withLockedValue { $0 } }
}

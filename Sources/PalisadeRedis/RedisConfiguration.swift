import NIOCore

/// How a client or subscriber connects, times out and retries. Defaults suit a gateway on a LAN
/// Redis: fail within seconds, so callers fall back to memory instead of waiting.
public struct RedisConfiguration: Sendable {
    public var url: RedisURL
    /// TCP connect plus handshake (AUTH, SELECT, ROLE) per attempt; also each Sentinel's answer.
    public var connectTimeout: TimeAmount
    /// A command not answered within this closes the connection (later replies would be misaligned).
    /// nil: no limit (only for blocking commands; the periodic PING still detects a dead peer).
    public var commandTimeout: TimeAmount?
    /// How often an idle client PINGs, for the latency in `/healthz` and to notice a dead peer. nil: never.
    public var pingInterval: TimeAmount?
    public var backoff: RedisBackoff
    /// Commands in flight on one connection before `send` fails fast with `.tooManyPending`.
    public var maxPendingCommands: Int
    /// The largest reply accepted (Redis's own bulk limit is 512 MB; we want far less).
    public var maxReplyBytes: Int
    /// The longest array accepted in a reply (HGETALL, SCAN pages, MGET).
    public var maxArrayElements: Int
    /// Sent as `CLIENT SETNAME` so `CLIENT LIST` shows who is who; nil: not sent.
    public var clientName: String?
    /// Credentials for Sentinels (Open WebUI passes the master's to them too: `sentinel_kwargs`).
    /// nil: use the URL's; a Sentinel without a password that refuses AUTH is then asked without.
    public var sentinelUsername: String?
    public var sentinelPassword: String?
    /// `rediss://`: verify the server's certificate and name (redis-py's `ssl_cert_reqs=none` in the URL turns it off).
    public var tlsVerifyPeer: Bool
    /// `rediss://`: a PEM file of CAs to trust instead of the system's (the URL's `ssl_ca_certs`).
    public var tlsCAFile: String?

    public init(
        url: RedisURL, connectTimeout: TimeAmount = .seconds(5), commandTimeout: TimeAmount? = .seconds(5),
        pingInterval: TimeAmount? = .seconds(5), backoff: RedisBackoff = RedisBackoff(),
        maxPendingCommands: Int = 100_000, maxReplyBytes: Int = 64 << 20, maxArrayElements: Int = 1 << 22,
        clientName: String? = "palisade", sentinelUsername: String? = nil, sentinelPassword: String? = nil,
        tlsVerifyPeer: Bool? = nil, tlsCAFile: String? = nil
    ) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.pingInterval = pingInterval
        self.backoff = backoff
        self.maxPendingCommands = maxPendingCommands
        self.maxReplyBytes = maxReplyBytes
        self.maxArrayElements = maxArrayElements
        self.clientName = clientName
        self.sentinelUsername = sentinelUsername
        self.sentinelPassword = sentinelPassword
        self.tlsVerifyPeer = tlsVerifyPeer ?? (url.options["ssl_cert_reqs"]?.lowercased() != "none")
        self.tlsCAFile = tlsCAFile ?? url.options["ssl_ca_certs"]
    }

    var readerLimits: RedisReplyReader.Limits {
        RedisReplyReader.Limits(maxReplyBytes: maxReplyBytes, maxArrayElements: maxArrayElements)
    }
}

/// Exponential backoff with jitter between reconnect attempts: attempt n waits a random time in
/// `[(1 - jitter) * d, d]` with `d = min(maximum, initial * 2^n)`, so a fleet that lost Redis at the
/// same moment does not come back in step.
public struct RedisBackoff: Sendable, Equatable {
    public var initial: TimeAmount
    public var maximum: TimeAmount
    /// 0 (fixed delays) … 1 (anywhere between 0 and the delay).
    public var jitter: Double

    public init(initial: TimeAmount = .milliseconds(100), maximum: TimeAmount = .seconds(10), jitter: Double = 0.5) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The wait before attempt `attempt` (0 = the first retry).
    public func delay(attempt: Int, random: Double = Double.random(in: 0...1)) -> TimeAmount {
        let ceiling = Double(maximum.nanoseconds)
        let exponential = Double(initial.nanoseconds) * Double(1 << UInt64(min(max(attempt, 0), 40)))
        let full = min(ceiling, exponential)
        return .nanoseconds(Int64(full * (1 - jitter * random)))
    }
}

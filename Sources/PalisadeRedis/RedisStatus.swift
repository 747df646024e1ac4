import NIOCore

public enum RedisState: String, Sendable, Equatable {
    /// The first connect attempt, or a reconnect attempt, is under way.
    case connecting
    /// Connected and logged in (and, for a subscriber, subscriptions restored): commands are sent.
    case up
    /// Not connected; the next attempt waits for its backoff. Commands fail fast.
    case down
    /// Closed by its owner; no more attempts.
    case closed
}

/// What `/healthz` and the log say about a Redis link. A snapshot: readable from any thread.
public struct RedisStatus: Sendable, Equatable {
    public var state: RedisState
    /// Why the last connection or attempt failed; kept while up, for the log.
    public var lastError: RedisError?
    /// Round trip of the last periodic PING on the current connection (nil until the first one).
    public var latency: TimeAmount?
    /// The server connected to (the master Sentinel named); nil while not up.
    public var server: RedisURL.HostPort?
    /// Connections made, the first included: more than one means it reconnected.
    public var connections: Int
    /// Failed attempts since the last success, which sets the next backoff.
    public var failedAttempts: Int

    public init(
        state: RedisState = .connecting, lastError: RedisError? = nil, latency: TimeAmount? = nil,
        server: RedisURL.HostPort? = nil, connections: Int = 0, failedAttempts: Int = 0
    ) {
        self.state = state
        self.lastError = lastError
        self.latency = latency
        self.server = server
        self.connections = connections
        self.failedAttempts = failedAttempts
    }
}

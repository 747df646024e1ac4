import PalisadeRedis

/// When the fallback wrappers use Redis and when memory: one rule for both.
enum RedisAvailability {
    /// Redis is asked only while its client is up; otherwise the command would fail at once
    /// with `.notConnected` anyway.
    static func isUp(_ client: RedisClient) -> Bool {
        client.state == .up
    }

    /// Whether a failed Redis call is an outage (answer from memory instead) rather than an answer
    /// (`StateError`, or an error reply from a Redis that is up: passed on to the caller).
    static func isOutage(_ error: any Error) -> Bool {
        guard let error = error as? RedisError else { return false }
        return error.code != .server
    }
}

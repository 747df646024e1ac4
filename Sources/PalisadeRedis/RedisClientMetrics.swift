import Metrics
import NIOCore

/// What every Redis connection reports through swift-metrics (a no-op until the executable
/// bootstraps a backend): how long commands take, which fail and why, and links lost. Labels
/// are the error codes only: never a key, a command's arguments or a server address.
final class RedisClientMetrics: Sendable {
    static let shared = RedisClientMetrics()

    /// Every command's time from sending to its reply or failure.
    private let duration = Metrics.Timer(label: "palisade_redis_command_duration_seconds")
    /// Failed commands by `RedisError.Code`, each series there from the start.
    private let failures: [RedisError.Code: Counter]
    /// Links (command or subscriber connections) that went down while in use.
    let linksLost = Counter(label: "palisade_redis_links_lost_total")

    private init() {
        let codes: [RedisError.Code] = [
            .notConnected, .commandTimeout, .connectionClosed, .server, .protocolError, .tooManyPending, .closed,
        ]
        failures = Dictionary(
            uniqueKeysWithValues: codes.map {
                ($0, Counter(label: "palisade_redis_command_errors_total", dimensions: [("code", $0.rawValue)]))
            })
    }

    /// Records a command that got its reply, or failed after it was sent, `sentAt`.
    func finished(sentAt: NIODeadline, failure: RedisError?) {
        duration.recordNanoseconds((NIODeadline.now() - sentAt).nanoseconds)
        if let failure { failed(failure) }
    }

    /// Counts a command that failed: before it was sent, or after.
    func failed(_ error: RedisError) {
        failures[error.code]?.increment()
    }
}

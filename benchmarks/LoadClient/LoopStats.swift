import NIOCore

/// Counters of one event loop, touched only on that loop (no locks, no atomics on the
/// message path). The driver resets and reads them with `loop.submit`.
final class LoopStats {
    var latency = LatencyHistogram()
    /// Acks (echo) or deliveries (fanout, yjs) received.
    var completed: UInt64 = 0
    /// Events sent (fanout and yjs senders).
    var sent: UInt64 = 0
    /// `error` events from the server, undecodable replies.
    var errors: UInt64 = 0
    /// Connections that closed after they were ready.
    var dropped: UInt64 = 0
    /// The part of `completed` and `latency` received from the second server (fanout with
    /// `--second-url`: deliveries that crossed from one instance to the other).
    var secondLatency = LatencyHistogram()
    var secondCompleted: UInt64 = 0

    func reset() {
        latency = LatencyHistogram()
        completed = 0
        sent = 0
        errors = 0
        secondLatency = LatencyHistogram()
        secondCompleted = 0
    }

    var snapshot: StatsSnapshot {
        StatsSnapshot(
            latency: latency, completed: completed, sent: sent, errors: errors, dropped: dropped, secondLatency: secondLatency,
            secondCompleted: secondCompleted)
    }
}

@available(*, unavailable) extension LoopStats: Sendable {}

/// What a loop's counters held at one moment; summed over loops for the report.
struct StatsSnapshot: Sendable {
    var latency = LatencyHistogram()
    var completed: UInt64 = 0
    var sent: UInt64 = 0
    var errors: UInt64 = 0
    var dropped: UInt64 = 0
    var secondLatency = LatencyHistogram()
    var secondCompleted: UInt64 = 0

    mutating func add(_ other: StatsSnapshot) {
        latency.merge(other.latency)
        completed += other.completed
        sent += other.sent
        errors += other.errors
        dropped += other.dropped
        secondLatency.merge(other.secondLatency)
        secondCompleted += other.secondCompleted
    }
}

import Metrics
import NIOCore

/// What the fallback wrappers report through swift-metrics (a no-op until the executable
/// bootstraps a backend): how long Redis took to answer, and calls answered from memory
/// instead. By store (`state`: px.store, `ratelimit`: px.ratelimit); never by key.
final class RedisMetrics: Sendable {
    static let shared = RedisMetrics()

    struct Store: Sendable {
        let duration: Metrics.Timer
        let fallbacks: Counter

        init(_ name: String) {
            duration = Metrics.Timer(label: "palisade_redis_duration_seconds", dimensions: [("store", name)])
            fallbacks = Counter(label: "palisade_redis_fallbacks_total", dimensions: [("store", name)])
        }

        /// Records how long `call` takes to answer, success or failure.
        func timed<Value>(_ call: () -> EventLoopFuture<Value>) -> EventLoopFuture<Value> {
            let start = NIODeadline.now()
            let future = call()
            future.whenComplete { [duration] _ in duration.recordNanoseconds((NIODeadline.now() - start).nanoseconds) }
            return future
        }
    }

    let state = Store("state")
    let rateLimit = Store("ratelimit")
}

import Metrics
import Prometheus

/// Installs Prometheus as swift-metrics' backend; `/metrics` renders its registry. Call once, before
/// the first metric is made (the libraries make theirs when the server is built).
enum MetricsBootstrap {
    /// Returns the renderer of the registry's Prometheus text.
    static func bootstrap() -> @Sendable () -> String {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // A hook decides in microseconds; Redis answers in a millisecond or so. Prometheus'
        // default buckets start at 5 ms and would put nearly every call in the first.
        let fast: [Duration] = [
            .microseconds(10), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .seconds(1),
        ]
        factory.durationHistogramBuckets = ["palisade_hook_duration_seconds": fast, "palisade_redis_duration_seconds": fast]
        MetricsSystem.bootstrap(factory)
        return { registry.emitToString() }
    }
}

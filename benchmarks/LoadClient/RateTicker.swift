import NIOCore

/// Calls `tick` at `rate` times per second on one event loop, against absolute deadlines:
/// a late wake-up sends the missed ticks at once (up to a cap), so the achieved rate does
/// not drift below the asked one when the loop is busy.
final class RateTicker {
    private let loop: EventLoop
    private let interval: Int64
    private let tick: () -> Void
    private var begin = NIODeadline.now()
    private var ticks: Int64 = 0
    private var scheduled: Scheduled<Void>?
    /// Most catch-up ticks per wake-up: beyond this the loop is overloaded anyway.
    private static let maxBurst: Int64 = 64

    init(loop: EventLoop, rate: Double, tick: @escaping () -> Void) {
        self.loop = loop
        interval = Int64(max(1, 1e9 / max(rate, 1e-6)))
        self.tick = tick
    }

    /// Starts after a random phase within one interval, so many tickers do not fire together.
    func start() {
        begin = .now() + .nanoseconds(Int64.random(in: 0..<interval))
        schedule()
    }

    func stop() {
        scheduled?.cancel()
        scheduled = nil
    }

    private func schedule() {
        let deadline = begin + .nanoseconds(ticks * interval)
        scheduled = loop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in self?.fire() }
    }

    private func fire() {
        let due = (NIODeadline.now() - begin).nanoseconds / interval + 1
        var burst: Int64 = 0
        while ticks < due, burst < Self.maxBurst {
            tick()
            ticks += 1
            burst += 1
        }
        if ticks < due { ticks = due }  // overloaded: skip what could not be sent
        schedule()
    }
}

@available(*, unavailable) extension RateTicker: Sendable {}

import NIOCore

/// Opens a run's connections from one event loop: at most `concurrency` handshakes at a time
/// and, given a rate, no faster than `rate` starts per second. Each finished handshake starts
/// the next from its callback, so a connect costs no `Task` and no hop through Swift's
/// concurrency pool (which cost the client more per connect than its own handshake code).
/// Confined to `loop`; `run` answers once every connection has succeeded or failed.
final class ConnectionOpener {
    /// What opening the connections gave.
    struct Outcome: Sendable {
        var opened = 0
        var failures: [String: Int] = [:]
        var handshake = LatencyHistogram()
        var seconds = 0.0
        var channels: [Channel] = []
        var failed: Int { failures.values.reduce(0, +) }
    }

    typealias Start = @Sendable (_ index: Int) -> EventLoopFuture<Channel>

    private let loop: EventLoop
    private let count: Int
    private let concurrency: Int
    private let rate: Double?
    private let start: Start
    private let done: EventLoopPromise<Outcome>
    private var outcome = Outcome()
    private var next = 0
    private var inFlight = 0
    private var began: UInt64 = 0
    /// A start waiting for its moment (rate-limited runs only).
    private var waiting = false

    private init(loop: EventLoop, count: Int, concurrency: Int, rate: Double?, start: @escaping Start) {
        self.loop = loop
        self.count = count
        self.concurrency = max(1, concurrency)
        self.rate = rate.flatMap { $0 > 0 ? $0 : nil }
        self.start = start
        done = loop.makePromise()
    }

    /// Opens `count` connections; `start(i)` begins connection `i` (on any loop).
    static func run(
        on loop: EventLoop, count: Int, concurrency: Int, rate: Double?,
        start: @escaping Start
    ) -> EventLoopFuture<Outcome> {
        loop.flatSubmit {
            let opener = ConnectionOpener(loop: loop, count: count, concurrency: concurrency, rate: rate, start: start)
            opener.began = MonotonicClock.now()
            opener.startMore()
            return opener.done.futureResult
        }
    }

    private func startMore() {
        while next < count, inFlight < concurrency, !waiting {
            if let rate {
                let due = began + UInt64(Double(next) / rate * 1e9)
                let now = MonotonicClock.now()
                if now < due {
                    waiting = true
                    loop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(due - now))) {
                        self.waiting = false
                        self.startMore()
                    }
                    return
                }
            }
            let index = next
            next += 1
            inFlight += 1
            let started = MonotonicClock.now()
            start(index).hop(to: loop).assumeIsolated().whenComplete { result in
                self.finished(result, nanoseconds: MonotonicClock.now() - started)
            }
        }
        if next == count, inFlight == 0 {
            outcome.seconds = Double(MonotonicClock.now() - began) / 1e9
            done.succeed(outcome)
        }
    }

    private func finished(_ result: Result<Channel, Error>, nanoseconds: UInt64) {
        inFlight -= 1
        switch result {
        case .success(let channel):
            outcome.channels.append(channel)
            outcome.opened += 1
            outcome.handshake.record(nanoseconds)
        case .failure(let error):
            let kind = (error as? SocketIOConnection.Failure)?.kind ?? SocketIOConnection.describe(error)
            outcome.failures[kind, default: 0] += 1
        }
        startMore()
    }
}

@available(*, unavailable) extension ConnectionOpener: Sendable {}

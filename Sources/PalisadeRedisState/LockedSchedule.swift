import Logging
import NIOConcurrencyHelpers
import NIOCore
import PalisadeRedis

/// Runs a job every `interval` on one loop, and, with a lock, only while holding it: the way
/// Open WebUI's backend and any number of Palisade instances take turns at a cleanup named by
/// the same lock. The lock (owner-checked `RedisLock`) is renewed at every step, at least every
/// half of its TTL, so a holder keeps it and one that dies loses it within its TTL.
///
/// - Lock held by someone else: try again next step.
/// - Redis down (its client not up): the job runs without the lock, on the store's memory side,
///   as the policies' tick does: each instance cleans what it holds itself.
/// - Any error (of the lock or the job): logged, the lock released if held, the next step after
///   a random delay in [ttl/2, ttl], as Open WebUI does.
/// - `stop()`: no further step; the lock is released if held.
///
/// Nothing waits: each step is a chain of futures, the next one scheduled when it completes.
public final class LockedSchedule: Sendable {
    private struct State {
        var stopped = false
        var next: Scheduled<Void>?
        var held = false
        var lastRun: NIODeadline?
    }

    public let name: String
    private let lock: RedisLock?
    private let client: RedisClient?
    private let interval: TimeAmount
    private let loop: any EventLoop
    private let logger: Logger
    private let job: @Sendable () -> EventLoopFuture<Int>
    private let state = NIOLockedValueBox(State())

    /// `lock` nil (memory mode): the job runs every `interval` on its own.
    public init(
        name: String, lock: RedisLock?, client: RedisClient?, interval: TimeAmount, loop: any EventLoop, logger: Logger,
        job: @escaping @Sendable () -> EventLoopFuture<Int>
    ) {
        self.name = name
        self.lock = lock
        self.client = client
        self.interval = interval
        self.loop = loop
        self.logger = logger
        self.job = job
    }

    /// Time between steps: `interval`, and at most half the lock's TTL so the lock is renewed in time.
    public var stepInterval: TimeAmount {
        guard let lock else { return interval }
        return min(interval, max(TimeAmount.nanoseconds(lock.ttl.nanoseconds / 2), .milliseconds(500)))
    }

    public func start() {
        schedule(after: .zero)
    }

    public func stop() {
        let (next, held) = state.withLockedValue { state in
            state.stopped = true
            defer { state.held = false }
            return (state.next, state.held)
        }
        next?.cancel()
        if held, let lock { _ = lock.release(on: loop) }
    }

    /// Schedules the next step; once stopped, gives up a lock a step in flight took meanwhile.
    private func schedule(after delay: TimeAmount) {
        let stopped = state.withLockedValue { state in
            if !state.stopped { state.next = loop.scheduleTask(in: delay) { self.step() } }
            return state.stopped
        }
        if stopped { giveUpLock() }
    }

    private func step() {
        mayRun().flatMap { allowed -> EventLoopFuture<Void> in
            guard allowed, self.isDue() else { return self.loop.makeSucceededVoidFuture() }
            return self.job().map { count in
                if count > 0 { self.logger.debug("pool cleanup", metadata: ["cleanup": "\(self.name)", "count": "\(count)"]) }
            }
        }.whenComplete { result in
            switch result {
            case .success:
                self.schedule(after: self.stepInterval)
            case .failure(let error):
                self.logger.warning(
                    "pool cleanup failed: retrying later", metadata: ["cleanup": "\(self.name)", "error": "\(error)"])
                self.giveUpLock()
                self.schedule(after: self.retryDelay)
            }
        }
    }

    /// Whether this instance may run the job now: no lock, Redis down, or the lock held (taken
    /// or renewed by this very call).
    private func mayRun() -> EventLoopFuture<Bool> {
        guard let lock, let client, client.state == .up else { return loop.makeSucceededFuture(true) }
        return lock.hold(on: loop).map { held in
            self.state.withLockedValue { $0.held = held }
            return held
        }
    }

    /// True once per `interval` (the steps between only renew the lock); records the run.
    private func isDue() -> Bool {
        let now = NIODeadline.now()
        return state.withLockedValue { state in
            if let last = state.lastRun, now - last < interval - .milliseconds(50) { return false }
            state.lastRun = now
            return true
        }
    }

    private func giveUpLock() {
        let held = state.withLockedValue { state in
            defer { state.held = false }
            return state.held
        }
        if held, let lock {
            lock.release(on: loop).whenFailure { error in
                self.logger.debug("could not release a cleanup lock", metadata: ["lock": "\(lock.name)", "error": "\(error)"])
            }
        }
    }

    /// A random delay in [ttl/2, ttl] (Open WebUI's), or `interval` without a lock.
    private var retryDelay: TimeAmount {
        guard let lock else { return interval }
        let ttl = lock.ttl.nanoseconds
        return .nanoseconds(Int64.random(in: (ttl / 2)...max(ttl, ttl / 2 + 1)))
    }
}

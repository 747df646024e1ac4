import NIOCore
import NIOPosix

/// A timer of a `TimerWheel`. Armed by `TimerWheel.schedule`, disarmed by `cancel` or by
/// firing; may be armed again. Loop-confined, like its wheel.
final class WheelTimer {
    fileprivate var deadline = NIODeadline.uptimeNanoseconds(0)
    /// Set while armed; cleared on cancel, so what it captures is released at once.
    fileprivate var action: (() -> Void)?
    /// Counts schedules: a slot entry of an earlier arming is stale and dropped when visited.
    fileprivate var arming: UInt32 = 0

    var isArmed: Bool { action != nil }

    init() {}
}

/// Coarse timers for the long ones every connection keeps (heartbeats, the connect
/// deadline). Scheduling and cancelling are O(1). NIO's own scheduled tasks keep one heap
/// per loop whose cancellation walks the whole heap (with 10 000 connections, 10 000
/// entries per cancel, and a connect cancels one), and each task costs a promise.
///
/// A timer fires within about one tick after its deadline, never before. Slots cover
/// `slotCount` ticks; a later deadline waits in its slot for more rounds. The wheel
/// ticks only while a timer is armed (then 100 times a second: a loop with one live
/// connection wakes that often, where NIO's heap woke it once per heartbeat). A cancelled
/// timer's entry stays in its slot, holding only the timer object, until the wheel passes
/// it. One wheel per event loop (`TimerWheel.on(_:)`), used only on that loop.
final class TimerWheel {
    /// The wheels' resolution and span (one round: 41 s).
    static let defaultTick = TimeAmount.milliseconds(10)
    static let defaultSlotCount = 4096

    let loop: any EventLoop
    private let tickNanoseconds: UInt64
    private var slots: [[Entry]]
    /// The next tick (a count of `tick`s of uptime) not yet processed.
    private var cursor: Int64
    private var armed = 0
    /// The next tick's task, while the wheel is driven.
    private var driver: Scheduled<Void>?

    init(loop: any EventLoop, tick: TimeAmount = defaultTick, slotCount: Int = defaultSlotCount) {
        self.loop = loop
        tickNanoseconds = UInt64(tick.nanoseconds)
        slots = Array(repeating: [], count: slotCount)
        cursor = Int64(NIODeadline.now().uptimeNanoseconds / UInt64(tick.nanoseconds))
    }

    /// Arms `timer` to run `action` on this loop once `delay` has passed (re-arms it if armed).
    func schedule(_ timer: WheelTimer, in delay: TimeAmount, _ action: @escaping () -> Void) {
        if timer.isArmed { cancel(timer) }
        if armed == 0 {
            cursor = tickNumber(of: .now())  // nothing waits in the slots behind an idle wheel
        }
        timer.deadline = .now() + delay
        timer.action = action
        timer.arming &+= 1
        armed += 1
        place(timer)
        startDriving()
    }

    /// Disarms `timer`; it stays in its slot until the wheel passes it, holding nothing.
    func cancel(_ timer: WheelTimer) {
        guard timer.isArmed else { return }
        timer.action = nil
        armed -= 1
    }

    /// Timers armed now.
    var armedCount: Int { armed }

    private struct Entry {
        let timer: WheelTimer
        let arming: UInt32
    }

    private func place(_ timer: WheelTimer) {
        let tick = max(tickNumber(of: timer.deadline), cursor)
        slots[slot(of: tick)].append(Entry(timer: timer, arming: timer.arming))
    }

    private func startDriving() {
        guard driver == nil else { return }
        driver = loop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(tickNanoseconds))) { [self] in
            driver = nil
            advance()
            if armed > 0 { startDriving() }
        }
    }

    /// Processes every tick up to now: fires due timers, moves later ones on.
    private func advance() {
        let now = NIODeadline.now()
        let last = tickNumber(of: now)
        while cursor <= last, armed > 0 {
            let index = slot(of: cursor)
            cursor += 1
            let visited = slots[index]
            slots[index] = []
            for entry in visited where entry.timer.isArmed && entry.arming == entry.timer.arming {
                let timer = entry.timer
                if timer.deadline > now {
                    place(timer)  // a later round, or later in this tick
                } else if let action = timer.action {
                    timer.action = nil
                    armed -= 1
                    action()
                }
            }
        }
    }

    private func tickNumber(of deadline: NIODeadline) -> Int64 {
        Int64(deadline.uptimeNanoseconds / tickNanoseconds)
    }

    private func slot(of tick: Int64) -> Int {
        Int(tick % Int64(slots.count))
    }

    // MARK: One per loop

    /// The wheel of `loop` (made on first use). Call on `loop`.
    static func on(_ loop: any EventLoop) -> TimerWheel {
        loop.preconditionInEventLoop()
        return threadWheels.currentValue(orMake: ThreadWheels.init).wheel(of: loop)
    }

    /// The wheels of the loops running on this thread: one for a `MultiThreadedEventLoopGroup`
    /// loop, which has a thread of its own for its lifetime; a few for tests, whose embedded
    /// loops all run on the test's thread. Not a process-wide table of loops: it would need
    /// weak references to tell a loop that is gone from a new one at its address, and a weak
    /// reference gives the loop a side table, which sends every retain and release of the
    /// loop (each future holds one) down the runtime's slow path.
    private static let threadWheels = ThreadSpecificVariable<ThreadWheels>()
}

/// Unchecked: the value of a thread-specific variable is only used on its own thread, and
/// a wheel only on its loop's thread.
private final class ThreadWheels: @unchecked Sendable {
    /// Most wheels kept per thread; the oldest is let go past that (with its loop).
    private static let limit = 8
    private var wheels: [TimerWheel] = []

    func wheel(of loop: any EventLoop) -> TimerWheel {
        if let known = wheels.first(where: { $0.loop === loop }) { return known }
        let wheel = TimerWheel(loop: loop)
        if wheels.count == Self.limit { wheels.removeFirst() }
        wheels.append(wheel)
        return wheel
    }
}

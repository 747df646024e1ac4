import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import PalisadeServer

/// The per-loop timer wheel, on a real event loop with real time: timers fire after their
/// delay (never before), once; cancelled and re-armed timers do not fire for the old arming;
/// deadlines beyond one round of the wheel wait their rounds.
@Suite struct TimerWheelTests {
    private let loop = MultiThreadedEventLoopGroup.singleton.next()

    /// Runs `body` on the loop with a new wheel of 1 ms ticks and `slots` slots; after `wait`
    /// returns what the timers recorded (everything stays on the loop).
    private func run(
        slots: Int = 8, wait: TimeAmount,
        _ body: @escaping @Sendable (TimerWheel, Recorder) -> Void
    ) async throws -> [String: TimeAmount] {
        try await loop.flatSubmit { [loop] in
            let recorder = Recorder()
            body(TimerWheel(loop: loop, tick: .milliseconds(1), slotCount: slots), recorder)
            return loop.assumeIsolated().scheduleTask(in: wait) { recorder.fired }.futureResult
        }.get()
    }

    @Test func aTimerFiresOnceAfterItsDelay() async throws {
        let fired = try await run(wait: .milliseconds(200)) { wheel, recorder in
            let timer = WheelTimer()
            wheel.schedule(timer, in: .milliseconds(30)) { recorder.record("a") }
            wheel.schedule(WheelTimer(), in: .milliseconds(5)) { recorder.record("b") }
        }
        #expect(Set(fired.keys) == ["a", "b"])
        #expect(fired["a"]! >= .milliseconds(30), "never early")
        #expect(fired["b"]! >= .milliseconds(5))
        #expect(fired["b"]! < fired["a"]!)
    }

    @Test func aDeadlineBeyondOneRoundWaitsItsRounds() async throws {
        // 8 slots of 1 ms: a 50 ms timer passes its slot six times before it is due
        let fired = try await run(slots: 8, wait: .milliseconds(250)) { wheel, recorder in
            wheel.schedule(WheelTimer(), in: .milliseconds(50)) { recorder.record("late") }
        }
        #expect(fired["late"].map { $0 >= .milliseconds(50) } == true)
    }

    @Test func cancelledAndReArmedTimersFireOnlyForTheirLatestArming() async throws {
        let fired = try await run(wait: .milliseconds(250)) { wheel, recorder in
            let cancelled = WheelTimer()
            wheel.schedule(cancelled, in: .milliseconds(10)) { recorder.record("cancelled") }
            wheel.cancel(cancelled)
            #expect(!cancelled.isArmed)
            let rearmed = WheelTimer()
            wheel.schedule(rearmed, in: .milliseconds(10)) { recorder.record("first arming") }
            wheel.schedule(rearmed, in: .milliseconds(40)) { recorder.record("second arming") }
            #expect(wheel.armedCount == 1)
        }
        #expect(Array(fired.keys) == ["second arming"])
        #expect(fired["second arming"]! >= .milliseconds(40))
    }

    @Test func aTimerCanBeArmedAgainFromItsOwnAction() async throws {
        let fired = try await run(wait: .milliseconds(250)) { wheel, recorder in
            let heartbeat = WheelTimer()
            wheel.schedule(heartbeat, in: .milliseconds(10)) {
                recorder.record("ping")
                wheel.schedule(heartbeat, in: .milliseconds(10)) { recorder.record("pong deadline") }
            }
        }
        #expect(Set(fired.keys) == ["ping", "pong deadline"])
        #expect(fired["pong deadline"]! >= fired["ping"]! + .milliseconds(10))
    }

    @Test func anIdleWheelArmedAgainCountsFromNow() async throws {
        let fired = try await run(wait: .milliseconds(150)) { wheel, recorder in
            let timer = WheelTimer()
            wheel.schedule(timer, in: .milliseconds(5)) { recorder.record("cancelled") }
            wheel.cancel(timer)
            #expect(wheel.armedCount == 0)
            // 50 ms idle (the wheel stopped ticking), then armed again
            _ = self.loop.assumeIsolated().scheduleTask(in: .milliseconds(50)) {
                recorder.record("idle")
                wheel.schedule(timer, in: .milliseconds(5)) { recorder.record("again") }
            }
        }
        #expect(fired["cancelled"] == nil)
        let idle = try #require(fired["idle"]), again = try #require(fired["again"])
        #expect(again >= idle + .milliseconds(5))
    }

    /// One wheel per loop, found without a table of weak loop references: a loop gets the same
    /// wheel every time, and loops sharing a thread (embedded loops in tests) get one each.
    @Test func eachLoopHasOneWheel() throws {
        let onLoop = try loop.submit { [loop] in TimerWheel.on(loop) === TimerWheel.on(loop) }.wait()
        #expect(onLoop)
        let first = EmbeddedEventLoop(), second = EmbeddedEventLoop()
        let wheel = TimerWheel.on(first)
        #expect(TimerWheel.on(second) !== wheel)
        #expect(TimerWheel.on(first) === wheel)
        #expect(wheel.loop === first)
    }
}

/// When each timer fired, relative to when the recorder was made (loop-confined).
private final class Recorder {
    private let start = NIODeadline.now()
    private(set) var fired: [String: TimeAmount] = [:]

    func record(_ name: String) {
        #expect(fired[name] == nil, "\(name) fired twice")
        fired[name] = NIODeadline.now() - start
    }
}

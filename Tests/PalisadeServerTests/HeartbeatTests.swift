import NIOCore
import Testing

@testable import PalisadeServer

/// The heartbeat's rules, driven by explicit times (a manual clock): no sockets, no waiting.
@Suite struct HeartbeatTests {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private func at(_ milliseconds: Int64) -> NIODeadline { start + .milliseconds(milliseconds) }

    private func heartbeat() -> Heartbeat {
        Heartbeat(startingAt: start, interval: .milliseconds(300), timeout: .milliseconds(200))
    }

    @Test func pingsOneIntervalAfterTheStartAndClosesOneTimeoutAfterThePingWasDue() {
        var machine = heartbeat()
        #expect(machine.nextDeadline == at(300))
        #expect(machine.timerFired(at: at(299)) == .none, "a timer never fires early, but if it did: nothing")
        #expect(machine.timerFired(at: at(300)) == .sendPing)
        #expect(machine.nextDeadline == at(500))
        #expect(!machine.hasTimedOut(at: at(499)))
        #expect(machine.hasTimedOut(at: at(500)))
        #expect(machine.timerFired(at: at(500)) == .close)
        #expect(machine.nextDeadline == nil)
    }

    /// The regression the official suite caught: a ping sent a wheel tick late (10 ms) must
    /// not move the pong's deadline; a poll at exactly interval + timeout finds it passed.
    @Test func aLatePingKeepsTheDeadlineOfItsSchedule() {
        var machine = heartbeat()
        #expect(machine.timerFired(at: at(310)) == .sendPing)
        #expect(machine.hasTimedOut(at: at(500)))
        #expect(machine.nextDeadline == at(500))
        #expect(machine.timerFired(at: at(509)) == .close)
    }

    @Test func aPongPostponesTheNextPingByOneIntervalFromThePong() {
        var machine = heartbeat()
        #expect(machine.timerFired(at: at(300)) == .sendPing)
        machine.pongReceived(at: at(350))
        #expect(machine.phase == .waitingToPing(due: at(650)))
        #expect(!machine.hasTimedOut(at: at(10_000)), "no ping outstanding: nothing is overdue")
        #expect(machine.timerFired(at: at(650)) == .sendPing)
        #expect(machine.nextDeadline == at(850))
    }

    @Test func aPongNobodyAskedForChangesNothing() {
        var machine = heartbeat()
        machine.pongReceived(at: at(100))
        #expect(machine.phase == .waitingToPing(due: at(300)))
    }

    @Test func aStoppedHeartbeatDoesNothing() {
        var machine = heartbeat()
        machine.stop()
        #expect(machine.nextDeadline == nil)
        #expect(machine.timerFired(at: at(10_000)) == .none)
        #expect(!machine.hasTimedOut(at: at(10_000)))
    }
}

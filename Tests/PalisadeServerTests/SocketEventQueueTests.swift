import PalisadeJSON
import PalisadeProtocol
import Testing

@testable import PalisadeServer

/// The event queue's rules, without a socket: order, the flood limit, one decision at a time,
/// and when reading pauses and resumes.
@Suite struct SocketEventQueueTests {
    private func event(_ number: Int) -> SocketPacket {
        .event("e", [JSONValue(number)])
    }

    @Test func eventsLeaveInOrderAndOneDecisionAtATime() {
        var queue = SocketEventQueue()
        let first = queue.append(event(1))
        let second = queue.append(event(2))
        #expect(first && second)
        let taken = queue.next()
        #expect(taken == event(1))
        queue.awaitingDecision = true
        let held = queue.next()
        #expect(held == nil, "the next waits for the outstanding decision")
        queue.awaitingDecision = false
        let second2 = queue.next()
        let none = queue.next()
        #expect(second2 == event(2) && none == nil)
    }

    @Test func aFloodPastTheLimitIsRefused() {
        var queue = SocketEventQueue()
        let accepted = (0..<SocketEventQueue.maxQueued).filter { queue.append(event($0)) }.count
        #expect(accepted == SocketEventQueue.maxQueued)
        let overflow = queue.append(event(-1))
        #expect(!overflow)
        #expect(queue.count == SocketEventQueue.maxQueued)
    }

    @Test func readingPausesAtTheMarkAndResumesWhenFewWait() {
        var queue = SocketEventQueue()
        for number in 0..<(SocketEventQueue.pauseAt - 1) { _ = queue.append(event(number)) }
        var changes = [queue.readingChange()]
        _ = queue.append(event(0))
        changes += [queue.readingChange(), queue.readingChange()]
        while queue.count > SocketEventQueue.perTurn + 1 { _ = queue.next() }
        changes.append(queue.readingChange())
        _ = queue.next()
        changes += [queue.readingChange(), queue.readingChange()]
        #expect(changes == [nil, .pause, nil, nil, .resume, nil])
    }
}

import NIOCore
import PalisadeProtocol
import Testing

@testable import PalisadeServer

/// The polling outbox's rules: order, at most 16 frames a response, the byte limit.
@Suite struct PollingOutboxTests {
    private func frame(_ text: String) -> EngineFrame {
        EngineFrame(EnginePacket(.message, .text(text)))
    }

    @Test func framesLeaveInOrderSixteenAtMost() {
        var outbox = PollingOutbox()
        let accepted = outbox.append((0..<20).map { frame("m\($0)") }, limit: .max)
        #expect(accepted)
        let first = String(buffer: outbox.takeBody())
        #expect(first == (0..<16).map { "4m\($0)" }.joined(separator: "\u{1e}"))
        let second = String(buffer: outbox.takeBody())
        #expect(second == (16..<20).map { "4m\($0)" }.joined(separator: "\u{1e}"))
        #expect(outbox.isEmpty && outbox.bytes == 0)
    }

    @Test func passingTheLimitIsReported() {
        var outbox = PollingOutbox()
        let small = outbox.append([frame("12345")], limit: 6)
        let over = outbox.append([frame("x")], limit: 6)
        #expect(small && !over)
        #expect(outbox.takeAll().count == 2)
        #expect(outbox.isEmpty && outbox.bytes == 0)
    }
}

import NIOConcurrencyHelpers
import PalisadeGateway
import PalisadeJSON
import Testing

@testable import PalisadeServer

/// The ring of recent refusals behind `GET /admin/v1/refusals`.
@Suite struct RefusalLogTests {
    /// Records what it is given, to see that everything is passed on.
    final class Recorder: AuditSink {
        let kinds = NIOLockedValueBox<[String]>([])
        func record(_ kind: String, _ fields: [JSONMember]) { kinds.withLockedValue { $0.append(kind) } }
    }

    @Test func keepsOnlyRefusalsButPassesEverythingOn() {
        let next = Recorder()
        let log = RefusalLog(forwardingTo: next)
        for kind in ["auth.accepted", "auth.refused", "policy.drop", "policy.deny", "cap.refused", "ban.refused", "admin.call"] {
            log.record(kind, [JSONMember("ip", .string("192.0.2.1"))])
        }
        #expect(next.kinds.withLockedValue { $0 }.count == 7)
        #expect(log.recent().map { $0["audit"]?.stringValue } == ["ban.refused", "cap.refused", "policy.deny", "auth.refused"])
        #expect(log.recent()[0]["ip"] == .string("192.0.2.1") && log.recent()[0]["ts"]?.stringValue?.hasSuffix("Z") == true)
    }

    @Test func keepsTheLastCapacityEntriesNewestFirst() {
        let log = RefusalLog(forwardingTo: nil, capacity: 3)
        #expect(log.recent().isEmpty)
        for index in 0..<7 {
            log.record("policy.deny", [JSONMember("n", JSONValue(index))])
        }
        #expect(log.recent().map { $0["n"] } == [JSONValue(6), JSONValue(5), JSONValue(4)])
        #expect(log.recent(limit: 1).map { $0["n"] } == [JSONValue(6)])
        #expect(log.recent(limit: 0).isEmpty)
    }
}

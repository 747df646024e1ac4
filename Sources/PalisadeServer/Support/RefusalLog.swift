import NIOConcurrencyHelpers
import NIOCore
import PalisadeGateway
import PalisadeJSON

#if canImport(Glibc)
    import Glibc
#endif

/// The most recent refusals (`auth.refused`, `policy.deny`, `cap.refused`, `ban.refused`) in a
/// ring of `capacity` entries, for `GET /admin/v1/refusals` and `palisade status`. Every record
/// is passed on to `next` (the `server.audit` stream, when there is one) unchanged.
public final class RefusalLog: AuditSink {
    /// The kinds kept: what an operator looks at to find who is being turned away.
    public static let kinds: Set<String> = ["auth.refused", "policy.deny", "cap.refused", "ban.refused"]
    /// 100 lines are enough to see a pattern and cost a few kilobytes, whatever the refusal rate.
    public static let defaultCapacity = 100
    private let next: (any AuditSink)?
    private let capacity: Int
    /// Oldest first.
    private let ring: NIOLockedValueBox<CircularBuffer<Entry>>

    /// A refusal as recorded; its JSON is built only when it is read, so a flood of refusals
    /// costs a clock read and an append each.
    private struct Entry {
        var time: timespec
        var kind: String
        var fields: [JSONMember]

        var json: JSONValue {
            .object([JSONMember("ts", .string(UnixTime.timestamp(of: time))), JSONMember("audit", .string(kind))] + fields)
        }
    }

    public init(forwardingTo next: (any AuditSink)?, capacity: Int = RefusalLog.defaultCapacity) {
        self.next = next
        self.capacity = max(1, capacity)
        ring = NIOLockedValueBox(CircularBuffer(initialCapacity: self.capacity))
    }

    /// A policy's record is not a refusal of the core's: it goes on to `next` only.
    public func recordFromPolicy(_ kind: String, _ fields: [JSONMember]) {
        next?.recordFromPolicy(kind, fields)
    }

    public func record(_ kind: String, _ fields: [JSONMember]) {
        next?.record(kind, fields)
        guard Self.kinds.contains(kind) else { return }
        let entry = Entry(time: UnixTime.wallClock(), kind: kind, fields: fields)
        ring.withLockedValue { ring in
            if ring.count == capacity { ring.removeFirst() }
            ring.append(entry)
        }
    }

    /// The kept refusals, newest first, at most `limit` of them.
    public func recent(limit: Int = .max) -> [JSONValue] {
        ring.withLockedValue { $0 }.reversed().prefix(max(0, limit)).map(\.json)
    }
}

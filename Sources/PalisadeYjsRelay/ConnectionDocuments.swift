import NIOCore
import PalisadeGateway
import PalisadeJSON

/// What the relay keeps per socket (a `Socket` attachment, on the socket's loop): the
/// documents it joined, its pending content snapshots, its awareness budget, and the
/// queue that keeps its Yjs events in order while checks wait on the policy.
final class ConnectionDocuments {
    /// A joined document and the socket's last write decision for it.
    struct Joined {
        var canWrite: Bool
        var writeCheckedAt: NIODeadline
        /// A background re-check of the write permission is under way.
        var recheckRunning = false
    }

    /// A content snapshot waiting for its debounce.
    struct PendingContent {
        var content: JSONValue
        var token: UInt64
        var timer: Scheduled<Void>?
    }

    var joined: [String: Joined] = [:]
    /// Documents whose join is under way (they count against the per-connection limit).
    var joining: Set<String> = []
    var pendingContent: [String: PendingContent] = [:]
    var awareness: TokenBucket
    /// Updates handed to the store and not yet stored; past `maxAppendsInFlight` the
    /// client's reading pauses until they are down to `resumeAppendsAt`.
    var appendsInFlight = 0
    var readingPausedForAppends = false
    static let maxAppendsInFlight = 64
    static let resumeAppendsAt = 16
    private var tail: EventLoopFuture<Void>?

    init(awarenessPerSecond: Int) {
        awareness = TokenBucket(perSecond: awarenessPerSecond)
    }

    /// Keeps a write decision for `id` (if the socket is still in it): an allowance is
    /// reused for a while, a refusal never.
    func recordWrite(_ allowed: Bool, for id: String) {
        guard joined[id] != nil else { return }
        joined[id]?.canWrite = allowed
        if allowed { joined[id]?.writeCheckedAt = .now() }
    }

    /// Runs `operation` after the operations queued before it have finished (failures included).
    func serially(on loop: any EventLoop, _ operation: @escaping () -> EventLoopFuture<Void>) {
        let previous = tail ?? loop.makeSucceededVoidFuture()
        let next = previous.assumeIsolated().flatMap { operation() }.recover { _ in }.nonisolated()
        tail = next
    }
}

/// A budget of `perSecond` events per second that refills continuously, with bursts up to `perSecond`.
struct TokenBucket {
    let perSecond: Double
    private var tokens: Double
    private var updatedAt: NIODeadline

    init(perSecond: Int) {
        self.perSecond = Double(perSecond)
        tokens = Double(perSecond)
        updatedAt = .now()
    }

    /// Takes one token; false when none is left.
    mutating func take(now: NIODeadline = .now()) -> Bool {
        let elapsed = Double((now - updatedAt).nanoseconds) / 1e9
        tokens = min(perSecond, tokens + max(0, elapsed) * perSecond)
        updatedAt = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

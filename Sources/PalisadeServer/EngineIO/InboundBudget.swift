import NIOConcurrencyHelpers

/// The memory all connections together may hold in incoming messages not yet whole: WebSocket
/// frames and fragmented messages being received, polling bodies being read
/// (`limits.max_inbound_buffer_bytes`). With a large `socketio.max_payload` (Open WebUI's 16 MiB),
/// one connection may send a message that large, but ten thousand may not all do so at once:
/// past the budget, the connection whose message would pass it is closed (WebSocket 1013 "try
/// again later", HTTP 503), and every other connection goes on.
///
/// Each connection's first `freePerConnection` bytes are not counted, so ordinary traffic never
/// touches the shared counter.
final class InboundBudget: Sendable {
    let limit: Int
    static let freePerConnection = 64 << 10
    private let state = NIOLockedValueBox((used: 0, refused: 0))

    init(limit: Int) {
        self.limit = limit
    }

    /// Moves a connection's share from `held` to `wanted` bytes; false (and no change) when growing
    /// would pass the budget.
    func resize(from held: Int, to wanted: Int) -> Bool {
        guard wanted != held else { return true }
        return state.withLockedValue { state in
            if wanted > held, state.used + wanted - held > limit {
                state.refused += 1
                return false
            }
            state.used += wanted - held
            return true
        }
    }

    /// The counted bytes of a connection holding `bytes`.
    static func counted(_ bytes: Int) -> Int { max(0, bytes - freePerConnection) }

    /// Bytes counted now, and refusals since start.
    var usage: (used: Int, refused: Int) { state.withLockedValue { ($0.used, $0.refused) } }
}

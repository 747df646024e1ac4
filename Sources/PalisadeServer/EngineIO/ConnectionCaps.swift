import NIOConcurrencyHelpers

/// How many Engine.IO sessions may be open at once, in total and from one client address
/// (`limits.max_connections`, `limits.max_connections_per_ip`; 0: no cap), and the count of
/// those open now. A new session is refused past a cap: 503 for the total, 429 for one
/// address. Counted when a session opens and when it closes, so closing one frees its place.
/// Behind a proxy, set `server.trusted_proxies`, or the proxy counts as one client.
final class ConnectionCaps: Sendable {
    let maxTotal: Int
    let maxPerIP: Int

    private struct Counts {
        var total = 0
        var byIP: [String: Int] = [:]
        /// Refusals since start, by cap.
        var refusedTotal = 0
        var refusedPerIP = 0
    }

    private let counts = NIOLockedValueBox(Counts())

    init(maxTotal: Int, maxPerIP: Int) {
        self.maxTotal = maxTotal
        self.maxPerIP = maxPerIP
    }

    /// Nil when a session from `ip` may open now, else the refusal: the check made before the
    /// handshake's policy runs, so an obvious refusal costs no hook.
    func refusal(for ip: String) -> EngineRequestError? {
        counts.withLockedValue { Self.refusal(for: ip, in: &$0, maxTotal: maxTotal, maxPerIP: maxPerIP) }
    }

    /// Counts a session from `ip` as open, unless a cap refuses it (then nothing is counted): the
    /// check and the count are one step, so handshakes that passed `refusal(for:)` together and
    /// finished their policy together cannot open past a cap.
    func open(ip: String) -> EngineRequestError? {
        counts.withLockedValue { counts in
            if let refusal = Self.refusal(for: ip, in: &counts, maxTotal: maxTotal, maxPerIP: maxPerIP) { return refusal }
            counts.total += 1
            counts.byIP[ip, default: 0] += 1
            return nil
        }
    }

    private static func refusal(for ip: String, in counts: inout Counts, maxTotal: Int, maxPerIP: Int) -> EngineRequestError? {
        if maxTotal > 0, counts.total >= maxTotal {
            counts.refusedTotal += 1
            return EngineRequestError(code: 4, message: "the server has too many connections", status: .serviceUnavailable)
        }
        if maxPerIP > 0, counts.byIP[ip, default: 0] >= maxPerIP {
            counts.refusedPerIP += 1
            return EngineRequestError(code: 4, message: "too many connections from this address", status: .tooManyRequests)
        }
        return nil
    }

    func closed(ip: String) {
        counts.withLockedValue { counts in
            counts.total -= 1
            let left = counts.byIP[ip, default: 1] - 1
            counts.byIP[ip] = left > 0 ? left : nil
        }
    }

    /// Refusals since start: (total cap, per-address cap).
    var refused: (total: Int, perIP: Int) { counts.withLockedValue { ($0.refusedTotal, $0.refusedPerIP) } }
}

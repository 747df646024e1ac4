import Metrics
import PalisadeGateway

/// The core's metrics, through swift-metrics: the executable bootstraps the backend (Prometheus);
/// without a bootstrap (tests, the test server) every call is swift-metrics' no-op.
///
/// Made once, on first use (`shared`), so the hot path only increments: no lookup by label, no
/// allocation. Labels are bounded: transports, close reasons, cap names, stock event names.
final class ServerMetrics: Sendable {
    static let shared = ServerMetrics()

    /// Engine.IO sessions open now, by transport (`polling`, `websocket`).
    let pollingConnections = Meter(label: "palisade_connections", dimensions: [("transport", "polling")])
    let webSocketConnections = Meter(label: "palisade_connections", dimensions: [("transport", "websocket")])
    let pollingOpened = Counter(label: "palisade_connections_opened_total", dimensions: [("transport", "polling")])
    let webSocketOpened = Counter(label: "palisade_connections_opened_total", dimensions: [("transport", "websocket")])
    /// Polling sessions that moved to a WebSocket.
    let upgraded = Counter(label: "palisade_connections_upgraded_total")
    /// Sessions ended, by reason; `slow_consumer` is a client closed because it did not read.
    private let closed: [EngineCloseReason: Counter]

    /// Socket.IO sockets connected now, with an identity or without.
    let authenticatedSockets = Meter(label: "palisade_sockets", dimensions: [("auth", "authenticated")])
    let anonymousSockets = Meter(label: "palisade_sockets", dimensions: [("auth", "anonymous")])

    /// Events received, by stock event name or `other`.
    private let eventsIn: NameTable<Counter>
    private let otherEventsIn = Counter(label: "palisade_events_received_total", dimensions: [("event", "other")])
    /// Event packets written to clients (a broadcast counts once per recipient).
    let eventsOut = Counter(label: "palisade_events_sent_total")

    /// Refusals by cap (the names of `cap.refused` in the audit stream).
    private let caps: [String: Counter]
    /// Handshakes and CONNECTs refused for a ban, by the ban's kind (never its value).
    private let bans: [Ban.Kind: Counter]

    /// Read at each scrape: what the server knows now.
    let sessions = Gauge(label: "palisade_sessions")
    let inboundBytes = Gauge(label: "palisade_inbound_buffer_bytes")

    /// The names counted as themselves: Open WebUI's events and the core's Yjs events. Any
    /// other name is `other`, so a client cannot make new series.
    static let stockEvents = [
        "user-join", "heartbeat", "join-channels", "join-note", "events:channel", "events:chat", "usage",
        "ydoc:document:join", "ydoc:document:update", "ydoc:document:state", "ydoc:document:leave", "ydoc:awareness:update",
    ]

    static let capNames = ["connections", "connections_per_ip", "connections_per_user", "rooms_per_socket", "inbound_buffer"]

    private init() {
        let reasons: [EngineCloseReason] = [
            .transportClose, .transportError, .pingTimeout, .parseError, .clientClose, .forcedClose, .slowConsumer, .serverShutdown,
        ]
        closed = Dictionary(
            uniqueKeysWithValues: reasons.map { reason in
                let label = reason.rawValue.split(separator: " ").joined(separator: "_")
                return (reason, Counter(label: "palisade_connections_closed_total", dimensions: [("reason", label)]))
            })
        eventsIn = NameTable(
            Dictionary(
                uniqueKeysWithValues: Self.stockEvents.map {
                    ($0, Counter(label: "palisade_events_received_total", dimensions: [("event", $0)]))
                }))
        caps = Dictionary(
            uniqueKeysWithValues: Self.capNames.map { ($0, Counter(label: "palisade_caps_refused_total", dimensions: [("cap", $0)])) })
        bans = Dictionary(
            uniqueKeysWithValues: Ban.Kind.allCases.map {
                ($0, Counter(label: "palisade_bans_refused_total", dimensions: [("kind", $0.rawValue)]))
            })
    }

    func opened(websocket: Bool) {
        (websocket ? webSocketOpened : pollingOpened).increment()
        (websocket ? webSocketConnections : pollingConnections).increment()
    }

    func upgradedToWebSocket() {
        upgraded.increment()
        pollingConnections.decrement()
        webSocketConnections.increment()
    }

    func closed(websocket: Bool, reason: EngineCloseReason) {
        (websocket ? webSocketConnections : pollingConnections).decrement()
        closed[reason]?.increment()
    }

    func received(event name: String) {
        (eventsIn[name] ?? otherEventsIn).increment()
    }

    /// A socket connected (`+1`) or left (`-1`), or changed between anonymous and authenticated.
    func socket(authenticated: Bool, by change: Double) {
        let meter = authenticated ? authenticatedSockets : anonymousSockets
        if change > 0 { meter.increment(by: change) } else { meter.decrement(by: -change) }
    }

    func refused(cap: String) {
        caps[cap]?.increment()
    }

    func refused(ban: Ban) {
        bans[ban.kind]?.increment()
    }
}

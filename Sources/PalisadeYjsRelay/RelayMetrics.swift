import Metrics

/// The relay's metrics, through swift-metrics (a no-op until the executable bootstraps a
/// backend). Made once; labels are the relay's own event names, never a document id.
final class RelayMetrics: Sendable {
    static let shared = RelayMetrics()

    /// Documents held in memory on this instance now (loaded, or with editors here).
    let documents = Meter(label: "palisade_yjs_documents")
    /// Joins that got the document's state.
    let joins = Counter(label: "palisade_yjs_joins_total")
    /// Updates stored and relayed, and their bytes.
    let updates = Counter(label: "palisade_yjs_updates_total")
    let updateBytes = Counter(label: "palisade_yjs_update_bytes_total")
    /// Refusals sent to clients (`error` events), by the event refused.
    private let refusals: [String: Counter]

    private init() {
        let events = [YjsEvent.join, YjsEvent.state, YjsEvent.update, YjsEvent.leave, YjsEvent.awareness]
        refusals = Dictionary(
            uniqueKeysWithValues: events.map { ($0, Counter(label: "palisade_yjs_refusals_total", dimensions: [("event", $0)])) })
    }

    func refused(_ event: String) {
        refusals[event]?.increment()
    }
}

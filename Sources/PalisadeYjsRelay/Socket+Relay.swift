import NIOCore
import PalisadeGateway
import PalisadeJSON

extension GatewaySocket {
    /// The relay's refusal: an `error` event `{message, event}` (what the stock policies send too).
    func refuse(_ event: String, _ message: String) {
        RelayMetrics.shared.refused(event)
        emit("error", [.object([JSONMember("message", .string(message)), JSONMember("event", .string(event))])])
    }

    /// The identity's `name`, if any.
    var userName: String? { identity?["name"]?.stringValue }
}

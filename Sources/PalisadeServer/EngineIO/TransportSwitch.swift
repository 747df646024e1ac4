import NIOConcurrencyHelpers
import PalisadeJSON

/// Which Engine.IO transports are on, changeable while the server runs (`PUT /admin/v1/transports`):
/// an operator can turn polling off during a flood of polling requests. A transport turned off
/// refuses new handshakes and the requests of its sessions; one transport always stays on.
public final class TransportSwitch: Sendable {
    private let state: NIOLockedValueBox<(polling: Bool, websocket: Bool)>

    init(polling: Bool, websocket: Bool) {
        state = NIOLockedValueBox((polling, websocket))
    }

    public var polling: Bool { state.withLockedValue { $0.polling } }
    public var websocket: Bool { state.withLockedValue { $0.websocket } }

    func allows(_ transport: String?) -> Bool {
        state.withLockedValue { state in
            switch transport {
            case "polling": state.polling
            case "websocket": state.websocket
            default: false
            }
        }
    }

    /// Sets them; false (and nothing changed) when both would be off.
    @discardableResult
    public func set(polling: Bool, websocket: Bool) -> Bool {
        guard polling || websocket else { return false }
        state.withLockedValue { $0 = (polling, websocket) }
        return true
    }

    public var json: JSONValue { .object([JSONMember("polling", .bool(polling)), JSONMember("websocket", .bool(websocket))]) }
}

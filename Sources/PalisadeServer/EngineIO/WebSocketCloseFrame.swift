import NIOCore
import NIOWebSocket

/// The rules for a close frame a client sends (RFC 6455 §5.5.1, §7.4): no payload, or a
/// status code a peer may send followed by a UTF-8 reason.
enum WebSocketCloseFrame {
    /// nil when `payload` is a valid close frame's; otherwise the code to close with.
    static func problem(in payload: ByteBuffer) -> WebSocketErrorCode? {
        guard payload.readableBytes > 0 else { return nil }
        guard let code = payload.getInteger(at: payload.readerIndex, as: UInt16.self) else { return .protocolError }
        guard isSendable(code) else { return .protocolError }
        let reason = payload.getSlice(at: payload.readerIndex + 2, length: payload.readableBytes - 2) ?? ByteBuffer()
        let valid = reason.withUnsafeReadableBytes { String(validating: $0, as: UTF8.self) != nil }
        return valid ? nil : .dataInconsistentWithMessage
    }

    /// Codes a peer may put in a close frame: the defined ones except those reserved for
    /// reporting (1004, 1005, 1006, 1015), and the ranges for libraries and applications.
    static func isSendable(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}

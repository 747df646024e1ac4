import NIOHTTP1
import PalisadeJSON

/// The Engine.IO HTTP errors, with the reference server's exact codes and messages
/// (clients and the conformance suite read them).
public struct EngineRequestError: Error, Sendable, Equatable {
    public var code: Int
    public var message: String
    public var status: HTTPResponseStatus

    public static let unknownTransport = EngineRequestError(code: 0, message: "Transport unknown", status: .badRequest)
    /// A banned address or network (`BanList`).
    public static let banned = EngineRequestError(code: 4, message: "banned", status: .forbidden)
    public static let unknownSession = EngineRequestError(code: 1, message: "Session ID unknown", status: .badRequest)
    public static let badHandshakeMethod = EngineRequestError(code: 2, message: "Bad handshake method", status: .badRequest)
    public static let badRequest = EngineRequestError(code: 3, message: "Bad request", status: .badRequest)
    public static let forbidden = EngineRequestError(code: 4, message: "Forbidden", status: .forbidden)
    public static let unsupportedProtocolVersion = EngineRequestError(code: 5, message: "Unsupported protocol version", status: .badRequest)

    public static func forbidden(_ reason: String) -> EngineRequestError {
        EngineRequestError(code: 4, message: reason, status: .forbidden)
    }

    /// `{"code":N,"message":"..."}`, code first, as the reference writes it.
    var jsonBody: String {
        var body = "{\"code\":\(code),\"message\":"
        body += JSONWriter.quoted(message)
        body += "}"
        return body
    }
}

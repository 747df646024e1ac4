import NIOCore
import NIOHTTP1

/// The answer to a polling GET or POST, produced on the session's loop and written
/// by the HTTP handler on the connection's loop.
struct PollingResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String?
    var body: ByteBuffer

    static func payload(_ body: ByteBuffer) -> PollingResponse {
        PollingResponse(status: .ok, contentType: "text/plain; charset=UTF-8", body: body)
    }

    /// The POST answer: exactly `ok`, lowercase (the conformance suite checks it).
    static let ok = PollingResponse(status: .ok, contentType: "text/html", body: ByteBuffer(string: "ok"))

    static func error(_ error: EngineRequestError) -> PollingResponse {
        PollingResponse(status: error.status, contentType: "application/json", body: ByteBuffer(string: error.jsonBody))
    }

    /// A bare status with an empty body (overlapping requests, oversized bodies).
    static func empty(_ status: HTTPResponseStatus) -> PollingResponse {
        PollingResponse(status: status, contentType: nil, body: ByteBuffer())
    }
}

/// Why a `px.http` request did not produce a response. Messages never hold headers or bodies.
public struct HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidURL = "invalid url"
        case notAllowed = "not allowed"
        case timeout
        case tooLarge = "response too large"
        case connectionFailed = "connection failed"
        case protocolError = "protocol error"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// The one error type of the Redis client: a code to branch on and a message for logs and `/healthz`.
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The URL or the settings cannot be used.
        case badURL
        /// The client is not connected (down or still connecting): the command was not sent.
        case notConnected
        /// No TCP connection, handshake or Sentinel answer within the connect timeout.
        case connectTimeout
        /// No reply within the command timeout; the connection is closed, since later replies would be misaligned.
        case commandTimeout
        /// The connection closed before the reply came.
        case connectionClosed
        /// Redis answered with an error reply (`-ERR …`, `-NOAUTH …`, …); the message is its text.
        case server
        /// The bytes from Redis are not RESP, or a reply exceeds the configured bounds.
        case protocolError
        /// AUTH or SELECT failed during the handshake.
        case handshakeFailed
        /// No Sentinel named a master that answered `ROLE` as master.
        case sentinel
        /// Too many commands in flight on one connection (`maxPendingCommands`).
        case tooManyPending
        /// `rediss://`: the TLS settings cannot be used (a CA file that does not load).
        case tls
        /// The client or subscriber was closed by its owner.
        case closed
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "redis \(code.rawValue): \(message)" }
}

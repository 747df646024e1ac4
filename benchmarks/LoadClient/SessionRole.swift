import NIOCore

/// What one connection does once Socket.IO is connected: the mode-specific part.
/// Called on the connection's event loop only. Packets arrive as the whole Engine.IO
/// text frame (`43…`, `42…`), so a role reads only the bytes it needs.
protocol SessionRole: AnyObject {
    /// The CONNECT reply `40{"sid":…}` arrived. Call `connection.markReady()` once the
    /// connection is ready for the measured phase (at once, or after a join).
    func connected(_ connection: SocketIOConnection)
    /// An ACK `43<id>[…]`, with its id already parsed.
    func ack(_ connection: SocketIOConnection, id: UInt64, frame: ByteBuffer)
    /// An EVENT `42[…]`.
    func event(_ connection: SocketIOConnection, frame: ByteBuffer)
    /// The driver's start signal: begin sending.
    func start(_ connection: SocketIOConnection)
    /// The connection is going away: cancel timers.
    func stop()
}

extension SessionRole {
    func ack(_ connection: SocketIOConnection, id: UInt64, frame: ByteBuffer) {}
    func event(_ connection: SocketIOConnection, frame: ByteBuffer) {}
    func start(_ connection: SocketIOConnection) {}
    func stop() {}
}

/// A role for connections that only connect and stay idle (connect mode).
final class IdleRole: SessionRole {
    func connected(_ connection: SocketIOConnection) { connection.markReady() }
}

/// Signals the driver sends down every pipeline (`fireUserInboundEventTriggered` is thread-safe).
enum BenchSignal: Sendable {
    case start
    case stop
}

@available(*, unavailable) extension IdleRole: Sendable {}

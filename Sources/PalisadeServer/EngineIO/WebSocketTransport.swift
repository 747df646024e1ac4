import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import PalisadeProtocol

/// The WebSocket of a session (or of an upgrade probe). Writes may come from any loop;
/// they are performed on the channel's loop, and flushed once per loop turn: the acks and
/// broadcasts of one burst of reads leave in one `writev`, not one system call each.
final class WebSocketTransport: Sendable {
    let channel: any Channel
    private let onLoop: NIOLoopBoundBox<LoopState>

    /// What only the channel's loop touches.
    private struct LoopState {
        /// A flush is scheduled for the end of this loop turn.
        var flushPending = false
    }

    /// Made on the channel's loop, once the WebSocket handler is in the pipeline.
    init(channel: any Channel) {
        self.channel = channel
        onLoop = .makeBoxSendingValue(LoopState(), eventLoop: channel.eventLoop)
    }

    func write(_ frames: [EngineFrame]) {
        if channel.eventLoop.inEventLoop {
            writeOnLoop(frames)
        } else {
            channel.eventLoop.execute { self.writeOnLoop(frames) }
        }
    }

    /// One frame, passed on without a copy being kept (see `Socket.sendPacket`).
    func write(_ frame: consuming EngineFrame) {
        guard channel.eventLoop.inEventLoop else { return write([frame]) }
        writeFrameOnLoop(consume frame)
        scheduleFlush()
    }

    /// Writes `frames` and schedules the flush of this loop turn. On the channel's loop.
    private func writeOnLoop(_ frames: [EngineFrame]) {
        for frame in frames { writeFrameOnLoop(frame) }
        scheduleFlush()
    }

    /// Each frame goes out as one buffer, header and payload: a buffer with room in front
    /// (`SocketPacketEncoder.frames`) gets its header there, in place when the buffer has no
    /// other owner; any other is copied once behind a header.
    private func writeFrameOnLoop(_ frame: consuming EngineFrame) {
        switch consume frame {
        case .text(let bytes): channel.write(Self.frame(opcode: 0x1, bytes), promise: nil)
        case .binary(let bytes): channel.write(Self.frame(opcode: 0x2, bytes), promise: nil)
        }
    }

    /// A final server frame (unmasked) carrying `payload`.
    static func frame(opcode: UInt8, _ payload: consuming ByteBuffer) -> ByteBuffer {
        var bytes = payload
        if PreparedFrames.prependHeader(opcode: opcode, to: &bytes) { return bytes }
        var framed = ByteBuffer()
        framed.reserveCapacity(PreparedFrames.headerSize(of: bytes.readableBytes) + bytes.readableBytes)
        PreparedFrames.writeHeader(opcode: opcode, length: bytes.readableBytes, into: &framed)
        framed.writeBuffer(&bytes)
        return framed
    }

    /// Writes complete WebSocket frames (`PreparedFrames`). On the channel's loop.
    func writeEncoded(_ bytes: ByteBuffer) {
        channel.write(bytes, promise: nil)
        scheduleFlush()
    }

    /// Answers a ping (RFC 6455 §5.5.3). On the channel's loop.
    func pong(_ payload: ByteBuffer) {
        channel.writeAndFlush(Self.frame(opcode: 0xA, payload), promise: nil)
    }

    private func scheduleFlush() {
        guard !onLoop.value.flushPending else { return }
        onLoop.value.flushPending = true
        channel.eventLoop.assumeIsolated().execute {
            self.onLoop.value.flushPending = false
            self.channel.flush()
        }
    }

    /// Stops or restarts reading from the client (backpressure while its messages wait).
    func setReading(_ reading: Bool) {
        let channel = channel
        let apply: @Sendable () -> Void = {
            channel.setOption(ChannelOptions.autoRead, value: reading).whenSuccess {
                if reading { channel.read() }
            }
        }
        if channel.eventLoop.inEventLoop { apply() } else { channel.eventLoop.execute(apply) }
    }

    /// A client that does not read gets this long to take the close frame before the
    /// connection is cut.
    static let closeGracePeriod = TimeAmount.seconds(1)

    private let closing = NIOLockedValueBox(false)

    /// Sends a close frame, then closes the connection. Only the first call counts.
    func close(code: WebSocketErrorCode = .normalClosure) {
        let alreadyClosing = closing.withLockedValue { closing in
            defer { closing = true }
            return closing
        }
        guard !alreadyClosing else { return }
        let channel = channel
        let closeFrame: @Sendable () -> Void = {
            guard channel.isWritable else {
                // Backed up: the close frame would wait behind data the client never reads.
                channel.close(promise: nil)
                return
            }
            var data = channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: code)
            channel.writeAndFlush(Self.frame(opcode: 0x8, data)).whenComplete { _ in channel.close(promise: nil) }
            channel.eventLoop.scheduleTask(in: Self.closeGracePeriod) { channel.close(promise: nil) }
        }
        if channel.eventLoop.inEventLoop { closeFrame() } else { channel.eventLoop.execute(closeFrame) }
    }
}

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
        /// The frame encoder's place in the pipeline: `writeEncoded` writes below it.
        var encoder: ChannelHandlerContext?
    }

    /// Made on the channel's loop, once the WebSocket handlers are in the pipeline.
    init(channel: any Channel) {
        self.channel = channel
        let encoder = try? channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        onLoop = .makeBoxSendingValue(LoopState(encoder: encoder), eventLoop: channel.eventLoop)
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

    /// A frame whose buffer has room in front (`SocketPacketEncoder.frames`) gets its WebSocket
    /// header there and goes below the frame encoder as one buffer: in place when the buffer
    /// has no other owner, else one copy. (NIO's encoder can never prepend in place: the frame
    /// it is handed still holds the buffer, so it sent each header as a buffer of its own.)
    private func writeFrameOnLoop(_ frame: consuming EngineFrame) {
        switch consume frame {
        case .text(var bytes):
            if let encoder = onLoop.value.encoder, PreparedFrames.prependHeader(opcode: 0x1, to: &bytes) {
                encoder.write(NIOAny(bytes), promise: nil)
            } else {
                channel.write(WebSocketFrame(fin: true, opcode: .text, data: bytes), promise: nil)
            }
        case .binary(let bytes):
            channel.write(WebSocketFrame(fin: true, opcode: .binary, data: bytes), promise: nil)
        }
    }

    /// Writes complete WebSocket frames (`PreparedFrames`) below the frame encoder, in order
    /// with the frames written through it. On the channel's loop.
    func writeEncoded(_ bytes: ByteBuffer) {
        guard let encoder = onLoop.value.encoder else {
            return channel.close(promise: nil)  // no frame encoder: not a WebSocket pipeline
        }
        encoder.write(NIOAny(bytes), promise: nil)
        scheduleFlush()
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
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
            channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
            channel.eventLoop.scheduleTask(in: Self.closeGracePeriod) { channel.close(promise: nil) }
        }
        if channel.eventLoop.inEventLoop { closeFrame() } else { channel.eventLoop.execute(closeFrame) }
    }
}

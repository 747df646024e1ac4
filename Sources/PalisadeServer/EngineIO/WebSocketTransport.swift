import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import PalisadeProtocol

/// The WebSocket of a session (or of an upgrade probe). Writes may come from any loop;
/// they are performed on the channel's loop, and flushed once per loop turn: the acks and
/// broadcasts of one burst of reads leave in one `writev`, not one system call each.
final class WebSocketTransport: Sendable {
    let channel: any Channel
    /// A flush is scheduled for the end of this loop turn.
    private let flushPending: NIOLoopBoundBox<Bool>

    init(channel: any Channel) {
        self.channel = channel
        flushPending = .makeBoxSendingValue(false, eventLoop: channel.eventLoop)
    }

    func write(_ frames: [EngineFrame]) {
        if channel.eventLoop.inEventLoop {
            writeOnLoop(frames)
        } else {
            channel.eventLoop.execute { self.writeOnLoop(frames) }
        }
    }

    /// Writes `frames` and schedules the flush of this loop turn. On the channel's loop.
    private func writeOnLoop(_ frames: [EngineFrame]) {
        for frame in frames {
            switch frame {
            case .text(let bytes): channel.write(WebSocketFrame(fin: true, opcode: .text, data: bytes), promise: nil)
            case .binary(let bytes): channel.write(WebSocketFrame(fin: true, opcode: .binary, data: bytes), promise: nil)
            }
        }
        guard !flushPending.value else { return }
        flushPending.value = true
        channel.eventLoop.assumeIsolated().execute {
            self.flushPending.value = false
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

import NIOCore
import PalisadeProtocol

/// Frames waiting for a polling client's next GET: kept in order, counted in bytes so a
/// client that stops polling is noticed (`append` answers false past the limit), and handed
/// out at most `EngineSettings.maxPacketsPerPoll` per response. Pure: the session decides.
struct PollingOutbox {
    /// Starts small, since WebSocket sessions never use it.
    private var frames = CircularBuffer<EngineFrame>(initialCapacity: 2)
    private(set) var bytes = 0

    var isEmpty: Bool { frames.isEmpty }

    /// Queues `frames`; false when the queue now holds more than `limit` bytes.
    mutating func append(_ new: [EngineFrame], limit: Int) -> Bool {
        for frame in new {
            frames.append(frame)
            bytes += frame.byteCount
        }
        return bytes <= limit
    }

    /// Up to `EngineSettings.maxPacketsPerPoll` frames, oldest first, as one polling body.
    mutating func takeBody() -> ByteBuffer {
        let count = min(frames.count, EngineSettings.maxPacketsPerPoll)
        let taken = frames.prefix(count)
        frames.removeFirst(count)
        for frame in taken { bytes -= frame.byteCount }
        return EngineCodec.encodePayload(frames: taken)
    }

    /// Every queued frame (for the WebSocket an upgrade switches to); the outbox is left empty.
    mutating func takeAll() -> [EngineFrame] {
        defer { removeAll() }
        return Array(frames)
    }

    mutating func removeAll() {
        frames.removeAll()
        bytes = 0
    }
}

import NIOCore
import PalisadeProtocol

/// A socket's incoming events while the policy decides on earlier ones, and the rules of its
/// backpressure: order is kept, at most `maxQueued` wait (past that the client is flooding),
/// `perTurn` are handled before the loop runs other work, and reading from the client pauses
/// while `pauseAt` wait and resumes once they are down to `perTurn`. Pure: the socket
/// (`Socket+Events.swift`) performs what it answers.
struct SocketEventQueue {
    /// Events a client may have queued before the policy catches up.
    static let maxQueued = 1024
    /// Events handled in one go: a burst of thousands cannot starve the loop.
    static let perTurn = 32
    /// Reading pauses at this many waiting events, so a fast sender is slowed, not disconnected.
    static let pauseAt = 256

    /// Starts small (NIO's default of 16 slots was 1 KiB per idle socket) and grows on demand.
    private var packets = CircularBuffer<SocketPacket>(initialCapacity: 2)
    /// A decision that answers later is outstanding: nothing else is taken until it comes.
    var awaitingDecision = false
    /// A drain is running (a handler that emits must not start another inside it).
    var draining = false
    /// The rest of a long queue waits for a later loop turn.
    var continuationScheduled = false
    private(set) var readingPaused = false

    var count: Int { packets.count }

    /// Queues `packet`; false when the client is flooding (the socket closes it).
    mutating func append(_ packet: SocketPacket) -> Bool {
        guard packets.count < Self.maxQueued else { return false }
        packets.append(packet)
        return true
    }

    /// The next event to decide, if one may be taken now.
    mutating func next() -> SocketPacket? {
        guard !awaitingDecision, !packets.isEmpty else { return nil }
        return packets.removeFirst()
    }

    mutating func removeAll() {
        packets.removeAll()
    }

    enum ReadingChange: Equatable {
        case pause
        case resume
    }

    /// Whether reading from the client should pause or resume now.
    mutating func readingChange() -> ReadingChange? {
        if !readingPaused, packets.count >= Self.pauseAt {
            readingPaused = true
            return .pause
        }
        if readingPaused, packets.count <= Self.perTurn {
            readingPaused = false
            return .resume
        }
        return nil
    }
}

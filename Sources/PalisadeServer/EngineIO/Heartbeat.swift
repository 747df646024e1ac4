import NIOCore

/// Engine.IO v4's heartbeat as a state machine (the session's I/O shell performs its actions):
/// the server pings `interval` after the session opened or after the last pong, and the client
/// must answer within `timeout` of when that ping was due. Pure: every input carries the time,
/// so tests drive it with any clock.
///
/// The deadline runs from when the ping was due, not from when a coarse timer got round to
/// sending it: a client that stays silent finds the session gone exactly
/// `interval + timeout` after its last pong, as with the reference server (the official
/// suite polls at that instant and expects the session closed).
struct Heartbeat {
    enum Action: Equatable {
        case none
        case sendPing
        case close
    }

    enum Phase: Equatable {
        /// The next ping is due at `due`.
        case waitingToPing(due: NIODeadline)
        /// A ping was due at `pingDue`; its pong has not come.
        case awaitingPong(pingDue: NIODeadline)
        case stopped
    }

    private(set) var phase: Phase
    let interval: TimeAmount
    let timeout: TimeAmount

    init(startingAt now: NIODeadline, interval: TimeAmount, timeout: TimeAmount) {
        self.interval = interval
        self.timeout = timeout
        phase = .waitingToPing(due: now + interval)
    }

    /// When the shell's timer should next call `timerFired`; nil once stopped.
    var nextDeadline: NIODeadline? {
        switch phase {
        case .waitingToPing(let due): due
        case .awaitingPong(let pingDue): pingDue + timeout
        case .stopped: nil
        }
    }

    /// The timer fired at `now` (never before `nextDeadline`, perhaps after it).
    mutating func timerFired(at now: NIODeadline) -> Action {
        switch phase {
        case .waitingToPing(let due) where now >= due:
            phase = .awaitingPong(pingDue: due)
            return .sendPing
        case .awaitingPong(let pingDue) where now >= pingDue + timeout:
            phase = .stopped
            return .close
        default:
            return .none
        }
    }

    /// The client's pong: the next ping is due `interval` from now. A pong nobody asked for
    /// changes nothing.
    mutating func pongReceived(at now: NIODeadline) {
        guard case .awaitingPong = phase else { return }
        phase = .waitingToPing(due: now + interval)
    }

    /// Whether the pong is overdue at `now`: checked on each request too, so a timer that
    /// fires late never lets a dead session answer.
    func hasTimedOut(at now: NIODeadline) -> Bool {
        guard case .awaitingPong(let pingDue) = phase else { return false }
        return now >= pingDue + timeout
    }

    mutating func stop() {
        phase = .stopped
    }
}

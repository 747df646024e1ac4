/// The polling → WebSocket upgrade of Engine.IO v4 as a state machine (the session performs
/// its actions): a WebSocket that arrives with the session's sid becomes the probe; the
/// client sends `2probe` on it and gets `3probe`; from then a pending GET is answered with a
/// noop so the client pauses polling, and `5` completes the upgrade. Anything else on the
/// probe, its close, or the upgrade deadline abandons it and polling goes on.
///
/// Generic over the transport so that tests drive it with plain objects.
struct UpgradeProbe<Transport: AnyObject> {
    enum Phase {
        case idle
        /// `probe` is the candidate; `answered` once `3probe` was sent on it.
        case probing(Transport, answered: Bool)
    }

    enum Action {
        /// Not taken as a probe: close it.
        case refuse(Transport)
        /// Taken: arm the upgrade deadline.
        case armDeadline
        /// Answer `3probe` on it, and let a pending GET have its noop.
        case answerProbe(Transport)
        /// Switch the session to it (queued frames follow it; a pending GET is refused).
        case complete(Transport)
        /// Close it and go on polling (answer a pending GET with what is queued).
        case abandon(Transport)
    }

    private(set) var phase = Phase.idle

    /// The probe answered `3probe`: pending GETs get a noop, queued frames wait for the switch.
    var isAnswered: Bool {
        if case .probing(_, answered: true) = phase { return true }
        return false
    }

    /// A WebSocket arrived with the session's sid; `canUpgrade`: the session is open, on
    /// polling, and WebSocket is allowed.
    mutating func arrived(_ transport: Transport, canUpgrade: Bool) -> Action {
        guard canUpgrade, case .idle = phase else { return .refuse(transport) }
        phase = .probing(transport, answered: false)
        return .armDeadline
    }

    /// Whether `transport` is the probe.
    func isProbe(_ transport: Transport) -> Bool {
        if case .probing(let probe, _) = phase { return probe === transport }
        return false
    }

    /// A packet on the probe: `isProbePing` for `2probe`, `isUpgrade` for `5`.
    mutating func received(isProbePing: Bool, isUpgrade: Bool) -> Action? {
        guard case .probing(let probe, let answered) = phase else { return nil }
        if isProbePing, !answered {
            phase = .probing(probe, answered: true)
            return .answerProbe(probe)
        }
        phase = .idle
        return isUpgrade && answered ? .complete(probe) : .abandon(probe)
    }

    /// The upgrade deadline passed.
    mutating func deadlinePassed() -> Action? {
        guard case .probing(let probe, _) = phase else { return nil }
        phase = .idle
        return .abandon(probe)
    }

    /// The probe's connection closed: true when it was the probe (polling goes on).
    mutating func closed(_ transport: Transport) -> Bool {
        guard isProbe(transport) else { return false }
        phase = .idle
        return true
    }

    /// The session ended: the probe to close, if any.
    mutating func end() -> Transport? {
        guard case .probing(let probe, _) = phase else { return nil }
        phase = .idle
        return probe
    }
}

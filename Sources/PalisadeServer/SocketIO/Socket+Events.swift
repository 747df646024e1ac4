import NIOCore
import PalisadeGateway
import PalisadeJSON
import PalisadeProtocol

/// A socket's incoming events: queued in order (`SocketEventQueue`), decided by the policy one
/// at a time, then handled by a built-in handler or by the policy itself; reading from the
/// client pauses while too many wait.
extension Socket {
    func receivedEvent(_ packet: SocketPacket) {
        guard events.append(packet) else {
            connection.session.close(reason: .forcedClose)
            return
        }
        drainEvents()
        updateReading()
    }

    /// Runs the policy on queued events one at a time; a decision that answers at once
    /// is handled in this loop, one that answers later resumes the drain. After
    /// `SocketEventQueue.perTurn` events the rest waits for a later loop turn.
    private func drainEvents() {
        guard !events.draining, !events.continuationScheduled else { return }
        events.draining = true
        defer { events.draining = false }
        var handled = 0
        while isConnected, events.count > 0, !events.awaitingDecision {
            guard handled < SocketEventQueue.perTurn else {
                events.continuationScheduled = true
                loop.assumeIsolated().execute {
                    self.events.continuationScheduled = false
                    self.drainEvents()
                }
                break
            }
            guard let packet = events.next() else { break }
            handled += 1
            guard let (name, arguments) = packet.eventNameAndArguments else { continue }
            ServerMetrics.shared.received(event: name)
            let args = Array(arguments)
            // A built-in handler takes its events; the policy may handle the others itself,
            // in the call that decides them (one Lua call and one conversion of the arguments).
            let builtIn = server.handler(for: name)
            let ack = packet.ackId.map { Ack(socket: self, id: $0) }
            let handling: EventHandling = builtIn == nil ? .decideAndHandle(ack: ack) : .decideOnly
            switch server.policy.decideEvent(self, name: name, arguments: args, handling: handling) {
            case .now(let decision):
                apply(.success(decision), name: name, arguments: args, builtIn: builtIn, ack: ack)
            case .later(let future):
                events.awaitingDecision = true
                future.assumeIsolated().whenComplete { result in
                    self.events.awaitingDecision = false
                    self.apply(result, name: name, arguments: args, builtIn: builtIn, ack: ack)
                    self.drainEvents()
                }
            }
        }
        updateReading()
    }

    /// Pauses the client's reads while too many events wait; resumes when they are few.
    private func updateReading() {
        switch events.readingChange() {
        case .pause?: connection.session.pauseReading()
        case .resume?: connection.session.resumeReading()
        case nil: break
        }
    }

    private func apply(
        _ result: Result<EventDecision, any Error>, name: String, arguments: [JSONValue],
        builtIn: EventHandler?, ack: Ack?
    ) {
        guard isConnected else { return }
        switch result {
        case .success(.allow):
            // Without a built-in handler the policy was asked to handle the event too; `.allow`
            // then means that nothing handles it.
            builtIn?(self, arguments, ack)
        case .success(.handled), .success(.drop):
            break
        case .success(.deny(let reason, let details)):
            let reserved: Set = ["message", "event"]
            let extra = details.filter { !reserved.contains($0.key) }
            emit("error", [.object([JSONMember("message", .string(reason)), JSONMember("event", .string(name))] + extra)])
        case .failure:
            // A policy that fails has decided nothing: fail closed.
            emit("error", [.object(["message": .string("internal error"), "event": .string(name)])])
        }
    }
}

import Logging
import NIOConcurrencyHelpers
import NIOCore
import PalisadeJSON
import PalisadeProtocol
import PalisadeRedis
import PalisadeServer

/// Rooms shared by every process on one Redis, in python-socketio's pub/sub format, so that other
/// Palisade instances and python-socketio processes (Open WebUI's backend with its `write_only` manager,
/// or an `AsyncServer` whose `sio.call` needs the client's answer) emit through each other.
///
/// Local members live in an `InProcessRoomAdapter`. A broadcast is delivered locally first, then
/// published (as python-socketio's manager does): an emit to one room on that room's channel when
/// `settings.roomChannels` is on, everything else on `settings.channel`. It listens on `settings.channel`
/// and on the channel of every room with a local member, a socket's own room (its sid) included, so a
/// room emit is decoded only where the room has members. Receiving is in `RedisRoomAdapter+Receiving.swift`.
///
/// Membership lookups (`socketIDs`, `rooms`) and `disconnect` are local: cluster-wide ones are not part
/// of python-socketio's wire.
///
/// The PING fence: a CONNECT reply, a policy-checked `Socket.join` and `Socket.joinAuthorized` (the Yjs
/// relay reads a document only after it) wait for `fence(on:)`, so their channels are live before the
/// client (or the Lua hook, or the relay) goes on. `RoomAdapter.join` itself returns nothing, so a join
/// that does not wait (a remote `enter_room`) may miss a message published to the room within its
/// SUBSCRIBE's round trip.
///
/// While Redis is down broadcasts stay local, nothing waits (publishes are skipped, subscription
/// changes are remembered), and the subscriber resubscribes to everything when Redis is back.
public final class RedisRoomAdapter: RoomAdapter {
    /// This process's id on the wire (`host_id`): 32 hex digits, as python-socketio's `uuid4().hex`.
    public let hostID: String
    public let settings: RedisRoomAdapterSettings
    let local: InProcessRoomAdapter
    let sockets: SocketRegistry
    let publisher: RedisClient
    let subscriber: RedisSubscriber
    let logger: Logger
    private let ownsPublisher: Bool
    private let subscriptions = NIOLockedValueBox(ChannelSubscriptions())

    /// - Parameters:
    ///   - sockets: the server's registry (what `SocketServer`'s `adapter` closure is given).
    ///   - redis: the Redis to use; the adapter opens its own subscriber connection on `eventLoop`.
    ///   - publisher: a client to PUBLISH with; nil: the adapter opens one of its own on `eventLoop`.
    public init(
        sockets: SocketRegistry, redis: RedisConfiguration, eventLoop: any EventLoop, settings: RedisRoomAdapterSettings = .init(),
        publisher: RedisClient? = nil, logger: Logger = Logger(label: "palisade.cluster")
    ) {
        hostID = Self.makeHostID()
        self.settings = settings
        self.sockets = sockets
        self.logger = logger
        local = InProcessRoomAdapter(sockets: sockets)
        ownsPublisher = publisher == nil
        self.publisher = publisher ?? RedisClient(configuration: redis, eventLoop: eventLoop, logger: logger)
        // The subscriber needs its message handler before `self` exists: it reaches the adapter through this box.
        let inbox = Inbox()
        subscriber = RedisSubscriber(configuration: redis, eventLoop: eventLoop, logger: logger) { inbox.deliver($0) }
        inbox.set { [weak self] message in self?.received(message) }
        change(.subscribe(settings.channel))
    }

    /// Completes on `loop` once every subscription change asked for before it is live in Redis (a PING
    /// sent after them is answered), or at once while the subscriber is down (the changes are applied when
    /// it is back); a PING never answered gives up after the command timeout. Never fails.
    public func fence(on loop: any EventLoop) -> EventLoopFuture<Void> {
        let subscriber = self.subscriber
        // Queued behind the changes, which `change` queues on the same loop.
        return subscriber.eventLoop.flatSubmit { subscriber.fence() }.hop(to: loop).recover { _ in }
    }

    /// True once both links are up (the subscriber with its subscriptions live), false if they are not
    /// within `timeout`. For start-up and tests: a server may serve before, with rooms local meanwhile.
    public func waitUntilUp(timeout: TimeAmount) -> EventLoopFuture<Bool> {
        let loop = subscriber.eventLoop
        let promise = loop.makePromise(of: Bool.self)
        let deadline = NIODeadline.now() + timeout
        @Sendable func check() {
            if publisher.state == .up, subscriber.state == .up { return promise.succeed(true) }
            if NIODeadline.now() >= deadline { return promise.succeed(false) }
            loop.scheduleTask(in: .milliseconds(20)) { check() }
        }
        loop.execute { check() }
        return promise.futureResult
    }

    /// The two links, for `/healthz`: while either is not up, broadcasts (publisher) or remote emits
    /// (subscriber) stay local.
    public var status: (publisher: RedisStatus, subscriber: RedisStatus) { (publisher.status, subscriber.status) }

    /// The channels subscribed to, or to be once Redis is reachable.
    public func subscribedChannels() -> EventLoopFuture<Set<String>> {
        let subscriber = self.subscriber
        return subscriber.eventLoop.flatSubmit { subscriber.subscriptions().map(\.channels) }
    }

    /// Closes the subscriber (and the publisher if the adapter opened it). Call before the loops shut down.
    public func close() -> EventLoopFuture<Void> {
        let closing = [subscriber.close()] + (ownsPublisher ? [publisher.close()] : [])
        return EventLoopFuture.andAllComplete(closing, on: subscriber.eventLoop)
    }

    // MARK: RoomAdapter

    public func join(_ room: String, socket: SocketHandle) {
        local.join(room, socket: socket)
        entered(room, namespace: socket.namespace)
    }

    public func connected(_ socket: SocketHandle) {
        entered(socket.id, namespace: socket.namespace)
    }

    public func leave(_ room: String, socketID: String, namespace: String) {
        local.leave(room, socketID: socketID, namespace: namespace)
        left(room, namespace: namespace)
    }

    public func leaveAll(socketID: String, rooms: Set<String>, namespace: String) {
        local.leaveAll(socketID: socketID, rooms: rooms, namespace: namespace)
        for room in rooms { left(room, namespace: namespace) }
        left(socketID, namespace: namespace)
    }

    public func broadcast(_ packet: SocketPacket, to target: BroadcastTarget) {
        local.broadcast(packet, to: target)
        // Only events cross: acks answer one client, and other packets are not emitted to rooms.
        guard packet.kind == .event || packet.kind == .binaryEvent, packet.ackId == nil,
            let (event, arguments) = packet.eventNameAndArguments
        else { return }
        let room: PubSubMessage.Room =
            switch target.rooms.count {
            case 0: .everyone
            case 1: .one(target.rooms.first!)
            default: .many(target.rooms.sorted())
            }
        let emit = PubSubMessage.Emit(
            event: event, arguments: Array(arguments), namespace: target.namespace, room: room, skip: target.except.sorted(),
            hostID: hostID)
        publish(.emit(emit))
    }

    public func socketIDs(in target: BroadcastTarget) -> Set<String> { local.socketIDs(in: target) }

    public func rooms(of socketID: String, namespace: String) -> Set<String> { local.rooms(of: socketID, namespace: namespace) }

    public func disconnect(_ target: BroadcastTarget) -> Int { local.disconnect(target) }

    // MARK: Publishing

    /// Publishes `message` on its channel, unless Redis is not up (then it is dropped: broadcasts stay local).
    func publish(_ message: PubSubMessage) {
        guard publisher.state == .up else {
            logger.debug("redis is not up; a pub/sub message stays local", metadata: ["host": "\(hostID)"])
            return
        }
        let channel = self.channel(for: message)
        let logger = self.logger
        publisher.send(RedisCommand("PUBLISH", channel, message.encoded()), timeout: settings.publishTimeout).whenFailure { error in
            logger.warning("redis PUBLISH failed", metadata: ["channel": "\(channel)", "error": "\(error)"])
        }
    }

    /// An emit to one room goes on that room's channel (with room channels on); everything else on the base channel.
    func channel(for message: PubSubMessage) -> String {
        if settings.roomChannels, case .emit(let emit) = message, case .one(let room) = emit.room {
            return settings.roomChannel(room, namespace: emit.namespace)
        }
        return settings.channel
    }

    // MARK: Subscriptions

    private func entered(_ room: String, namespace: String) {
        guard settings.roomChannels else { return }
        let channel = settings.roomChannel(room, namespace: namespace)
        subscriptions.withLockedValue { subscriptions in
            if let change = subscriptions.add(channel) { self.change(change) }
        }
    }

    private func left(_ room: String, namespace: String) {
        guard settings.roomChannels else { return }
        let channel = settings.roomChannel(room, namespace: namespace)
        subscriptions.withLockedValue { subscriptions in
            if let change = subscriptions.remove(channel) { self.change(change) }
        }
    }

    /// Queues `change` on the subscriber's loop. Called under the subscriptions' lock, so changes reach
    /// the subscriber in the order the counts changed (a subscribe never overtakes the unsubscribe before it).
    private func change(_ change: ChannelSubscriptions.Change) {
        let subscriber = self.subscriber
        let logger = self.logger
        subscriber.eventLoop.execute {
            let future: EventLoopFuture<Void>
            let channel: String
            switch change {
            case .subscribe(let name):
                channel = name
                future = subscriber.subscribe([name])
            case .unsubscribe(let name):
                channel = name
                future = subscriber.unsubscribe([name])
            }
            // While down the change is remembered and applied on reconnect; nothing to do but say so.
            future.whenFailure { error in
                logger.debug("redis subscription change deferred", metadata: ["channel": "\(channel)", "error": "\(error)"])
            }
        }
    }

    /// 32 random hex digits, as python-socketio's `uuid4().hex`: this instance's `host_id`, and
    /// the product's other tokens (lock owners, request ids).
    public static func makeHostID() -> String {
        let digits = Array("0123456789abcdef")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in digits[Int.random(in: 0..<16, using: &generator)] })
    }
}

/// Passes the subscriber's messages to the adapter, which does not exist yet when the subscriber is made.
private final class Inbox: Sendable {
    private let handler = NIOLockedValueBox<(@Sendable (RedisPubSubMessage) -> Void)?>(nil)

    func set(_ body: @escaping @Sendable (RedisPubSubMessage) -> Void) { handler.withLockedValue { $0 = body } }

    func deliver(_ message: RedisPubSubMessage) { handler.withLockedValue { $0 }?(message) }
}

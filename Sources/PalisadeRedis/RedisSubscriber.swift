import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Pub/sub on a connection of its own. It remembers what it should be subscribed to and, after a
/// reconnect, subscribes to all of it again and fences before it reports `up` (and calls
/// `onResubscribed`, for owners that must resync, as python-socketio's room-channel manager does).
///
/// `subscribe`, `unsubscribe` and `fence` complete when a `PING` sent after them is answered: Redis
/// handles a connection's commands in order, so by then the subscriptions are live. This is the
/// fence python-socketio 5.16 / Open WebUI 0.12.4 wait for before a connect or a room join proceeds.
/// While down they fail fast with `.notConnected`, but the change to the set is kept and applied on
/// reconnect. Messages reach `onMessage` on `eventLoop`, in the order Redis sent them.
///
/// A subscriber only reads, so a connection that died without a FIN or RST (a partition, a host
/// gone, a NAT that forgot it) would look idle for ever: every `pingInterval` it fences, and a
/// fence unanswered within the command timeout closes the connection, which reconnects.
public final class RedisSubscriber: Sendable {
    public let eventLoop: any EventLoop
    private let core: NIOLoopBoundBox<Core>
    private let statusBox: NIOLockedValueBox<RedisStatus>

    public init(
        configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger = Logger(label: "palisade.redis.subscriber"),
        onResubscribed: (@Sendable () -> Void)? = nil, onMessage: @escaping @Sendable (RedisPubSubMessage) -> Void
    ) {
        self.eventLoop = eventLoop
        let statusBox = NIOLockedValueBox(RedisStatus())
        self.statusBox = statusBox
        var configuration = configuration
        // Subscribe mode answers PING in its own form: the subscriber fences every ping interval
        // instead of the reconnector's PING (a fence waits at most the command timeout).
        let livenessInterval = configuration.pingInterval
        configuration.pingInterval = nil
        core = NIOLoopBoundBox.makeBoxSendingValue(
            Core(
                configuration: configuration, livenessInterval: livenessInterval, eventLoop: eventLoop, statusBox: statusBox,
                logger: logger, onMessage: onMessage, onResubscribed: onResubscribed),
            eventLoop: eventLoop
        )
        let core = self.core
        eventLoop.execute { core.value.reconnector.start() }
    }

    public var status: RedisStatus { statusBox.withLockedValue { $0 } }
    public var state: RedisState { status.state }

    public func subscribe(_ channels: [String]) -> EventLoopFuture<Void> { change(.subscribe, channels) }
    public func unsubscribe(_ channels: [String]) -> EventLoopFuture<Void> { change(.unsubscribe, channels) }
    public func psubscribe(_ patterns: [String]) -> EventLoopFuture<Void> { change(.psubscribe, patterns) }
    public func punsubscribe(_ patterns: [String]) -> EventLoopFuture<Void> { change(.punsubscribe, patterns) }

    /// Completes when Redis has handled everything sent on the subscriber connection before it.
    public func fence() -> EventLoopFuture<Void> { change(.fence, []) }

    /// The channels and patterns it is (or, while down, will be) subscribed to.
    public func subscriptions() -> EventLoopFuture<(channels: Set<String>, patterns: Set<String>)> {
        let core = self.core
        return eventLoop.submit { (core.value.channels, core.value.patterns) }
    }

    public func close() -> EventLoopFuture<Void> {
        let core = self.core
        return eventLoop.flatSubmit { core.value.reconnector.close() }
    }

    private func change(_ kind: Core.Change, _ names: [String]) -> EventLoopFuture<Void> {
        if eventLoop.inEventLoop { return core.value.apply(kind, names) }
        let core = self.core
        return eventLoop.flatSubmit { core.value.apply(kind, names) }
    }
}

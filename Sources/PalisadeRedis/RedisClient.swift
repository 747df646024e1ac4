import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A Redis client for the gateway's backends: one pipelined connection on one event loop, kept up
/// by reconnecting with backoff. While it is not up, commands fail at once with `.notConnected`
/// rather than queueing, so a caller can fall back to memory without waiting.
///
/// Thread-safe. Futures complete on `eventLoop`; callers on that loop pay no hop.
public final class RedisClient: Sendable {
    public let eventLoop: any EventLoop
    public let configuration: RedisConfiguration
    private let core: NIOLoopBoundBox<Core>
    private let statusBox: NIOLockedValueBox<RedisStatus>

    /// Creates the client; it starts connecting at once. Call `close()` before the loop shuts down.
    public init(configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger = Logger(label: "palisade.redis")) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        let statusBox = NIOLockedValueBox(RedisStatus())
        self.statusBox = statusBox
        core = NIOLoopBoundBox.makeBoxSendingValue(
            Core(configuration: configuration, eventLoop: eventLoop, statusBox: statusBox, logger: logger),
            eventLoop: eventLoop
        )
        let core = self.core
        eventLoop.execute { core.value.reconnector.start() }
    }

    /// A snapshot for `/healthz`: state, last error, PING latency, server.
    public var status: RedisStatus { statusBox.withLockedValue { $0 } }
    public var state: RedisState { status.state }

    /// Sends one command; an error reply fails with `RedisError(.server, …)`, a missing connection
    /// with `.notConnected`, a late reply with `.commandTimeout` (and the connection is replaced).
    public func send(_ command: RedisCommand, timeout: TimeAmount? = nil) -> EventLoopFuture<RedisValue> {
        if eventLoop.inEventLoop { return core.value.send(command, timeout: timeout) }
        let core = self.core
        return eventLoop.flatSubmit { core.value.send(command, timeout: timeout) }
    }

    public func send(_ name: String, _ arguments: any RedisArgument...) -> EventLoopFuture<RedisValue> {
        send(RedisCommand(name, arguments: arguments))
    }

    /// Sends `commands` back to back on the same connection (one write); results in order.
    public func send(batch commands: [RedisCommand]) -> EventLoopFuture<[Result<RedisValue, any Error>]> {
        let core = self.core
        let loop = eventLoop
        return eventLoop.flatSubmit {
            EventLoopFuture.whenAllComplete(commands.map { core.value.send($0, timeout: nil) }, on: loop)
        }
    }

    /// Resolves once the client is up, or fails with the last error after `timeout`. For start-up
    /// and tests: request paths should not wait but use `state`.
    public func waitUntilUp(timeout: TimeAmount) -> EventLoopFuture<Void> {
        let core = self.core
        return eventLoop.flatSubmit { core.value.waitUntilUp(timeout: timeout) }
    }

    /// Stops reconnecting and closes the connection; commands in flight fail.
    public func close() -> EventLoopFuture<Void> {
        let core = self.core
        return eventLoop.flatSubmit { core.value.reconnector.close() }
    }
}

extension RedisClient {
    /// The loop-confined part: the reconnect loop and the current connection.
    final class Core: RedisLinkDelegate {
        let reconnector: RedisReconnector
        private var upWaiters: [EventLoopPromise<Void>] = []

        init(configuration: RedisConfiguration, eventLoop: any EventLoop, statusBox: NIOLockedValueBox<RedisStatus>, logger: Logger) {
            reconnector = RedisReconnector(configuration: configuration, eventLoop: eventLoop, statusBox: statusBox, logger: logger)
            reconnector.delegate = self
        }

        func send(_ command: RedisCommand, timeout: TimeAmount?) -> EventLoopFuture<RedisValue> {
            guard let connection = reconnector.connection else {
                let status = reconnector.statusBox.withLockedValue { $0 }
                let reason = status.lastError.map { ": \($0.message)" } ?? ""
                let error =
                    status.state == .closed
                    ? RedisError(.closed, "the Redis client is closed")
                    : RedisError(.notConnected, "Redis is \(status.state.rawValue)\(reason)")
                RedisClientMetrics.shared.failed(error)
                return reconnector.eventLoop.makeFailedFuture(error)
            }
            let promise = reconnector.eventLoop.makePromise(of: RedisValue.self)
            connection.commandHandler.send(command, promise: promise, timeout: timeout)
            return promise.futureResult
        }

        func waitUntilUp(timeout: TimeAmount) -> EventLoopFuture<Void> {
            if reconnector.connection != nil { return reconnector.eventLoop.makeSucceededVoidFuture() }
            let promise = reconnector.eventLoop.makePromise(of: Void.self)
            upWaiters.append(promise)
            let statusBox = reconnector.statusBox
            reconnector.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                let error = statusBox.withLockedValue { $0.lastError } ?? RedisError(.connectTimeout, "not up in time")
                promise.fail(error)
            }
            return promise.futureResult
        }

        func prepare(_ connection: RedisConnection) -> EventLoopFuture<Void> { connection.eventLoop.makeSucceededVoidFuture() }

        func linkUp(_ connection: RedisConnection) {
            let waiters = upWaiters
            upWaiters.removeAll()
            for waiter in waiters { waiter.succeed() }
        }

        func linkDown(_ connection: RedisConnection) {}

        func failure(of connection: RedisConnection) -> RedisError? { connection.commandHandler.failure }
    }
}

@available(*, unavailable)
extension RedisClient.Core: Sendable {}

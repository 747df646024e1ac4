import Logging
import NIOConcurrencyHelpers
import NIOCore

/// What the client and the subscriber add to a bare reconnect loop. Loop-confined.
protocol RedisLinkDelegate: AnyObject {
    /// Runs after the handshake, before the link counts as up (the subscriber resubscribes here).
    func prepare(_ connection: RedisConnection) -> EventLoopFuture<Void>
    func linkUp(_ connection: RedisConnection)
    func linkDown(_ connection: RedisConnection)
    /// Why `connection` ended, if its handler knows.
    func failure(of connection: RedisConnection) -> RedisError?
}

/// Keeps one connection alive: connect, and after any failure or loss wait a backoff with jitter
/// and try again, until `close()`. Publishes the state in `status`; PINGs at the configured interval
/// to measure latency. Lives on one event loop; every method must be called there.
final class RedisReconnector {
    let eventLoop: any EventLoop
    let configuration: RedisConfiguration
    let statusBox: NIOLockedValueBox<RedisStatus>
    let logger: Logger
    weak var delegate: (any RedisLinkDelegate)?

    private(set) var connection: RedisConnection?
    private var started = false
    private var closed = false
    private var retry: Scheduled<Void>?
    private var ping: Scheduled<Void>?
    private var closePromise: EventLoopPromise<Void>?
    private var connecting = false

    init(configuration: RedisConfiguration, eventLoop: any EventLoop, statusBox: NIOLockedValueBox<RedisStatus>, logger: Logger) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.statusBox = statusBox
        self.logger = logger
    }

    func start() {
        guard !started, !closed else { return }
        started = true
        connectNow()
    }

    private func connectNow() {
        retry = nil
        guard !closed else { return }
        connecting = true
        update { $0.state = .connecting }
        RedisConnector.connect(configuration, on: eventLoop).assumeIsolated().flatMap { connection in
            let prepared = self.delegate?.prepare(connection) ?? self.eventLoop.makeSucceededVoidFuture()
            return prepared.assumeIsolated().map { connection }.flatMapError { error in
                connection.close().assumeIsolated().flatMapThrowing { _ in throw error }.nonisolated()
            }.nonisolated()
        }.whenComplete { result in
            self.connecting = false
            switch result {
            case .success(let connection): self.connected(connection)
            case .failure(let error): self.attemptFailed(error as? RedisError ?? RedisError(.connectionClosed, "\(error)"))
            }
        }
    }

    private func connected(_ connection: RedisConnection) {
        guard !closed else {
            connection.close()
            finishClose()
            return
        }
        self.connection = connection
        let address = connection.channel.remoteAddress.map { RedisURL.HostPort(host: $0.ipAddress ?? "?", port: $0.port ?? 0) }
        update {
            $0.state = .up
            $0.server = address
            $0.connections += 1
            $0.failedAttempts = 0
            $0.latency = nil
        }
        logger.info("redis up", metadata: ["redis.url": "\(configuration.url)", "redis.server": "\(address.map(\.description) ?? "?")"])
        connection.closeFuture.assumeIsolated().whenComplete { _ in self.lost(connection) }
        delegate?.linkUp(connection)
        schedulePing()
    }

    private func lost(_ connection: RedisConnection) {
        guard self.connection === connection else { return }
        self.connection = nil
        ping?.cancel()
        ping = nil
        let error = delegate?.failure(of: connection) ?? RedisError(.connectionClosed, "connection closed")
        delegate?.linkDown(connection)
        if closed { return finishClose() }
        RedisClientMetrics.shared.linksLost.increment()
        logger.warning("redis down", metadata: ["redis.url": "\(configuration.url)", "redis.error": "\(error)"])
        update {
            $0.state = .down
            $0.lastError = error
            $0.server = nil
            $0.latency = nil
        }
        scheduleRetry()
    }

    private func attemptFailed(_ error: RedisError) {
        if closed { return finishClose() }
        let failures = statusBox.withLockedValue { $0.failedAttempts }
        // The first failure of a streak is a warning; the rest would repeat it every backoff.
        if failures == 0 {
            logger.warning("redis connect failed", metadata: ["redis.url": "\(configuration.url)", "redis.error": "\(error)"])
        } else {
            logger.debug("redis connect failed", metadata: ["redis.url": "\(configuration.url)", "redis.error": "\(error)"])
        }
        update {
            $0.state = .down
            $0.lastError = error
            $0.failedAttempts += 1
        }
        scheduleRetry()
    }

    private func scheduleRetry() {
        let attempt = statusBox.withLockedValue { $0.failedAttempts }
        let delay = configuration.backoff.delay(attempt: max(0, attempt - 1))
        retry = eventLoop.assumeIsolated().scheduleTask(in: delay) { self.connectNow() }
    }

    private func schedulePing() {
        guard let interval = configuration.pingInterval, let connection else { return }
        ping = eventLoop.assumeIsolated().scheduleTask(in: interval) {
            guard self.connection === connection else { return }
            let sent = NIODeadline.now()
            connection.send(RedisCommand("PING")).assumeIsolated().whenComplete { result in
                guard self.connection === connection else { return }
                // A failed PING (an error reply such as LOADING) does not end the pinging.
                if case .success = result { self.update { $0.latency = NIODeadline.now() - sent } }
                self.schedulePing()
            }
        }
    }

    /// Stops retrying and closes the connection; the future completes once nothing is left running.
    func close() -> EventLoopFuture<Void> {
        if let closePromise { return closePromise.futureResult }
        closed = true
        let promise = eventLoop.makePromise(of: Void.self)
        closePromise = promise
        retry?.cancel()
        retry = nil
        ping?.cancel()
        ping = nil
        if let connection {
            connection.close()
        } else if !connecting {
            finishClose()
        }
        return promise.futureResult
    }

    private func finishClose() {
        connection = nil
        update {
            $0.state = .closed
            $0.server = nil
        }
        closePromise?.succeed()
    }

    private func update(_ change: (inout RedisStatus) -> Void) {
        statusBox.withLockedValue { change(&$0) }
    }
}

@available(*, unavailable)
extension RedisReconnector: Sendable {}

import NIOCore
import NIOPosix
import PalisadeTLS

/// One TCP connection to one Redis server, pipelined: any number of commands may be in flight,
/// their replies complete their futures in order. Thread-safe: `send` from any thread hops to the
/// connection's loop; futures complete on that loop. It does not reconnect — `RedisClient` does.
public final class RedisConnection: Sendable {
    public let channel: any Channel
    private let handler: NIOLoopBound<RedisCommandHandler>

    public var eventLoop: any EventLoop { channel.eventLoop }
    /// Completes when the connection is closed, by either side or by a failure.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
    public var isActive: Bool { channel.isActive }

    private init(channel: any Channel, handler: RedisCommandHandler) {
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
    }

    /// Sends one command. An error reply fails the future with `RedisError(.server, text)`.
    /// `timeout` overrides the configured command timeout for this command.
    public func send(_ command: RedisCommand, timeout: TimeAmount? = nil) -> EventLoopFuture<RedisValue> {
        let promise = channel.eventLoop.makePromise(of: RedisValue.self)
        if channel.eventLoop.inEventLoop {
            handler.value.send(command, promise: promise, timeout: timeout)
        } else {
            let handler = self.handler
            channel.eventLoop.execute { handler.value.send(command, promise: promise, timeout: timeout) }
        }
        return promise.futureResult
    }

    public func send(_ name: String, _ arguments: any RedisArgument...) -> EventLoopFuture<RedisValue> {
        send(RedisCommand(name, arguments: arguments))
    }

    /// Closes the connection; commands in flight fail with `.connectionClosed`.
    @discardableResult
    public func close() -> EventLoopFuture<Void> {
        channel.close().recover { _ in }
    }
}

extension RedisConnection {
    /// Opens a TCP connection to `address` on `eventLoop` with the configured connect timeout.
    /// The handshake is separate (`handshake`), so Sentinels and subscribers can use their own.
    public static func connect(
        to address: RedisURL.HostPort, configuration: RedisConfiguration,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<RedisConnection> {
        let limits = configuration.readerLimits
        let commandTimeout = configuration.commandTimeout
        let maxPending = configuration.maxPendingCommands
        let tls: TLSContext?
        do {
            tls =
                configuration.url.tls
                ? try TLSContext.client(verifyPeer: configuration.tlsVerifyPeer, caFile: configuration.tlsCAFile)
                : nil
        } catch {
            return eventLoop.makeFailedFuture(RedisError(.tls, error.message))
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tls, serverName: address.host)) }
                    let handler = RedisCommandHandler(limits: limits, commandTimeout: commandTimeout, maxPending: maxPending)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        return bootstrap.connect(host: address.host, port: address.port)
            .flatMapErrorThrowing { error in
                if case ChannelError.connectTimeout = error {
                    throw RedisError(.connectTimeout, "no connection to \(address) within \(configuration.connectTimeout)")
                }
                throw RedisError(.connectionClosed, "cannot connect to \(address): \(error)")
            }
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: RedisCommandHandler.self)
                return RedisConnection(channel: channel, handler: handler)
            }
    }

    /// AUTH (user and password, or password only), SELECT, PING, CLIENT SETNAME, pipelined; fails with
    /// `.handshakeFailed` naming the step. A failed CLIENT SETNAME is ignored (ACLs may forbid it).
    /// Each step must answer within `timeout` (the connect timeout when called by the client).
    public func handshake(
        username: String?, password: String?, database: Int, clientName: String?,
        timeout: TimeAmount? = nil
    ) -> EventLoopFuture<Void> {
        var steps: [(String, EventLoopFuture<RedisValue>)] = []
        if let password {
            let auth = username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password)
            steps.append(("AUTH", send(auth, timeout: timeout)))
        }
        if database != 0 { steps.append(("SELECT \(database)", send(RedisCommand("SELECT", database), timeout: timeout))) }
        // Also proves the link works end to end (a TLS handshake that fails surfaces here).
        steps.append(("PING", send(RedisCommand("PING"), timeout: timeout)))
        let named =
            clientName.map { send(RedisCommand("CLIENT", "SETNAME", $0), timeout: timeout).map { _ in () }.recover { _ in } }
            ?? eventLoop.makeSucceededVoidFuture()
        let checked = steps.map { step, future in
            future.flatMapErrorThrowing { error in
                let reason = (error as? RedisError)?.message ?? "\(error)"
                throw RedisError(.handshakeFailed, "\(step) failed: \(reason)")
            }
        }
        return EventLoopFuture.andAllSucceed(checked + [named.map { .null }], on: eventLoop)
    }

    /// The connection's pipeline handler, for the subscriber to swap it out. On the loop only.
    var commandHandler: RedisCommandHandler { handler.value }
}

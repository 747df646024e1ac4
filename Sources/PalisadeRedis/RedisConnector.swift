import NIOCore

/// One connect attempt as the URL says: straight to the server, or through Sentinel; then the
/// handshake. Each step is bounded by the connect timeout. Used by the client and the subscriber.
enum RedisConnector {
    static func connect(_ configuration: RedisConfiguration, on eventLoop: any EventLoop) -> EventLoopFuture<RedisConnection> {
        let url = configuration.url
        switch url.endpoint {
        case .server(let address):
            return connectAndLogIn(address, configuration, on: eventLoop)
        case .sentinel(let sentinels, let service):
            let rounds = 1 + max(0, url.sentinelMaxRetries)
            let candidates = Array(repeating: sentinels, count: rounds).flatMap { $0 }
            return RedisSentinel.connectToMaster(service: service, sentinels: candidates, configuration: configuration, on: eventLoop)
        }
    }

    /// TCP, then AUTH/SELECT/CLIENT SETNAME; the connection is closed if the handshake fails.
    static func connectAndLogIn(
        _ address: RedisURL.HostPort, _ configuration: RedisConfiguration,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<RedisConnection> {
        let url = configuration.url
        return RedisConnection.connect(to: address, configuration: configuration, on: eventLoop).flatMap { connection in
            connection.handshake(
                username: url.username, password: url.password, database: url.database,
                clientName: configuration.clientName, timeout: configuration.connectTimeout
            )
            .map { connection }
            .flatMapError { error in connection.close().flatMapThrowing { throw error } }
        }
    }
}

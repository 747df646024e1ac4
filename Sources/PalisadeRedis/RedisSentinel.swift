import NIOCore

/// Sentinel discovery, as redis-py's `SentinelConnectionPool` does it: ask each Sentinel in order
/// for `SENTINEL get-master-addr-by-name <service>`, connect to the address it names, and keep
/// the connection only if `ROLE` says master (a Sentinel may lag a failover). Each reconnect asks again.
enum RedisSentinel {
    static func connectToMaster(
        service: String, sentinels: [RedisURL.HostPort], configuration: RedisConfiguration,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<RedisConnection> {
        attempt(0, errors: [], service: service, sentinels: sentinels, configuration: configuration, on: eventLoop)
    }

    private static func attempt(
        _ index: Int, errors: [String], service: String, sentinels: [RedisURL.HostPort],
        configuration: RedisConfiguration,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<RedisConnection> {
        guard index < sentinels.count else {
            let detail = errors.isEmpty ? "no sentinels configured" : errors.joined(separator: "; ")
            return eventLoop.makeFailedFuture(RedisError(.sentinel, "no master for '\(service)': \(detail)"))
        }
        let sentinel = sentinels[index]
        return askMaster(service: service, sentinel: sentinel, configuration: configuration, on: eventLoop)
            .flatMap { master in
                RedisConnector.connectAndLogIn(master, configuration, on: eventLoop).flatMap { connection in
                    verifyMaster(connection, address: master, timeout: configuration.connectTimeout)
                }
            }
            .flatMapError { error in
                let reason = "\(sentinel): \((error as? RedisError)?.message ?? "\(error)")"
                let known = errors.contains(reason) ? errors : errors + [reason]
                return attempt(
                    index + 1, errors: known, service: service, sentinels: sentinels,
                    configuration: configuration, on: eventLoop)
            }
    }

    /// The master's address as one Sentinel knows it.
    static func askMaster(
        service: String, sentinel: RedisURL.HostPort, configuration: RedisConfiguration,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<RedisURL.HostPort> {
        var sentinelConfiguration = configuration
        sentinelConfiguration.clientName = nil
        let username = configuration.sentinelUsername ?? configuration.url.username
        let password = configuration.sentinelPassword ?? configuration.url.password
        let timeout = configuration.connectTimeout
        return RedisConnection.connect(to: sentinel, configuration: sentinelConfiguration, on: eventLoop).flatMap { connection in
            logIn(connection, username: username, password: password, timeout: timeout)
                .flatMap { connection.send(RedisCommand("SENTINEL", "get-master-addr-by-name", service), timeout: timeout) }
                .flatMapThrowing { reply -> RedisURL.HostPort in
                    guard let pair = reply.array, pair.count == 2, let host = pair[0].string,
                        let port = pair[1].integer, (1...65_535).contains(port)
                    else {
                        throw RedisError(.sentinel, reply.isNull ? "does not know '\(service)'" : "unexpected answer \(reply)")
                    }
                    return RedisURL.HostPort(host: host, port: Int(port))
                }
                .always { _ in connection.close() }
        }
    }

    /// AUTH on a Sentinel with the master's credentials (Open WebUI's `sentinel_kwargs`); a Sentinel
    /// that has no password refuses AUTH, and is then simply asked without.
    private static func logIn(
        _ connection: RedisConnection, username: String?, password: String?,
        timeout: TimeAmount
    ) -> EventLoopFuture<Void> {
        guard let password else { return connection.eventLoop.makeSucceededVoidFuture() }
        let auth = username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password)
        return connection.send(auth, timeout: timeout).map { _ in () }.flatMapErrorThrowing { error in
            if let error = error as? RedisError, error.code == .server, error.message.contains("without any password configured") {
                return
            }
            throw error
        }
    }

    private static func verifyMaster(
        _ connection: RedisConnection, address: RedisURL.HostPort,
        timeout: TimeAmount
    ) -> EventLoopFuture<RedisConnection> {
        connection.send(RedisCommand("ROLE"), timeout: timeout).flatMapThrowing { reply in
            guard let role = reply.array?.first?.string, role == "master" else {
                throw RedisError(.sentinel, "\(address) is not a master (ROLE: \(reply.array?.first?.string ?? "?"))")
            }
            return connection
        }
        .flatMapError { error in connection.close().flatMapThrowing { throw error } }
    }
}

import Logging
import NIOCore
import PalisadeRedis
import PalisadeServer

/// Closes live sockets whose token was revoked in Redis, idle ones too, as Open WebUI's
/// sign-out revokes (`{prefix}:auth:token:{jti}:revoked`) and its "sign out everywhere"
/// (`{prefix}:auth:user:{id}:revoked_at`: tokens issued at or before it, or without `iat`).
/// Every instance sweeps its own sockets every `interval`, reading the keys of a batch of
/// sockets with one MGET, so a revocation reaches every instance within one interval. A
/// Redis error skips that sweep: the next one tries again, and the policy still checks tokens
/// on connect and on events.
final class RevocationSweep: Sendable {
    private let server: SocketServer
    private let client: RedisClient
    private let prefix: String
    private let logger: Logger
    /// Sockets whose keys one MGET reads.
    static let batchSize = 500

    init(server: SocketServer, client: RedisClient, prefix: String, logger: Logger) {
        self.server = server
        self.client = client
        self.prefix = prefix
        self.logger = logger
    }

    /// Sweeps every `interval` on `loop` until the task is cancelled.
    func start(on loop: any EventLoop, interval: TimeAmount = .seconds(2)) -> RepeatedTask {
        loop.scheduleRepeatedAsyncTask(initialDelay: interval, delay: interval) { _ in
            self.sweep(on: loop).map { _ in }.recover { _ in }
        }
    }

    /// One sweep; the future says how many sockets it closed.
    @discardableResult
    func sweep(on loop: any EventLoop) -> EventLoopFuture<Int> {
        guard client.state == .up else { return loop.makeSucceededFuture(0) }
        return server.credentials(on: loop).flatMap { sockets in
            let batches = stride(from: 0, to: sockets.count, by: Self.batchSize).map {
                Array(sockets[$0..<min($0 + Self.batchSize, sockets.count)])
            }
            let checks = batches.map { batch in self.revoked(in: batch).map { self.close($0) } }
            return EventLoopFuture.whenAllComplete(checks, on: loop).map { results in
                results.reduce(0) { total, result in total + ((try? result.get()) ?? 0) }
            }
        }
    }

    /// The sockets of `batch` whose token is revoked.
    private func revoked(in batch: [SocketCredentials]) -> EventLoopFuture<[SocketCredentials]> {
        let keys = batch.flatMap { socket in
            ["\(prefix):auth:token:\(socket.tokenID ?? "-"):revoked", "\(prefix):auth:user:\(socket.userID):revoked_at"]
        }
        return client.send(RedisCommand("MGET", arguments: keys)).flatMapThrowing { reply in
            guard let values = reply.array, values.count == keys.count else { throw RedisError(.protocolError, "MGET") }
            return batch.indices.compactMap { index in
                let socket = batch[index]
                let tokenRevoked = socket.tokenID != nil && !values[2 * index].isNull
                let revokedAt = values[2 * index + 1].string.flatMap(Double.init)
                let revokedByTime = revokedAt.map { time in (socket.issuedAt ?? -.infinity) <= time } ?? false
                return tokenRevoked || revokedByTime ? socket : nil
            }
        }
    }

    private func close(_ sockets: [SocketCredentials]) -> Int {
        for socket in sockets where server.disconnect(sid: socket.sid) {
            logger.info("closing a socket whose token was revoked", metadata: ["sid": "\(socket.sid)", "user_id": "\(socket.userID)"])
        }
        return sockets.count
    }
}

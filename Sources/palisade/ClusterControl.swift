import Logging
import NIOCore
import PalisadeRedis

/// Palisade's own messages between instances, on the channel `{prefix}:palisade:control`
/// (JSON objects with an `action`). `{"action":"sweep"}` asks every instance to look for
/// revoked tokens among its sockets now, not at its next sweep: an admin revoke closes the
/// matching sessions on every instance well within a second.
final class ClusterControl: Sendable {
    private let client: RedisClient
    private let subscriber: RedisSubscriber
    private let channel: String
    private let logger: Logger

    init(link: RedisLink, prefix: String, loop: any EventLoop, logger: Logger, onSweep: @escaping @Sendable () -> Void) {
        client = link.client
        channel = "\(prefix):palisade:control"
        self.logger = logger
        subscriber = RedisSubscriber(configuration: link.client.configuration, eventLoop: loop, logger: logger) { message in
            let text = String(buffer: message.payload)
            if text == #"{"action":"sweep"}"# { onSweep() }
        }
        _ = subscriber.subscribe([channel])
    }

    /// Tells every instance (this one too) to sweep revocations now.
    func announceRevocation() {
        client.send(RedisCommand("PUBLISH", channel, #"{"action":"sweep"}"#)).whenFailure { error in
            self.logger.warning("could not announce a revocation; instances sweep within 2 s anyway", metadata: ["error": "\(error)"])
        }
    }

    func close() async {
        try? await subscriber.close().get()
    }
}

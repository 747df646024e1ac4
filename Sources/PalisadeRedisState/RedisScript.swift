import NIOConcurrencyHelpers
import NIOCore
import PalisadeRedis

/// A Lua script run on the Redis server in one round trip: `EVALSHA` once its SHA1 is known,
/// `EVAL` (which sends the source) before that and whenever the server answers `NOSCRIPT` (a
/// restarted Redis or `SCRIPT FLUSH` forgets cached scripts).
///
/// The SHA1 is learnt from the server (`SCRIPT LOAD`, sent once, beside the first `EVAL`) rather
/// than computed here, so the target needs no hash code and the digest can never disagree with
/// the server's. After a `NOSCRIPT` the script costs one `EVAL` (the source once more); that
/// `EVAL` caches it again, so the next call's `EVALSHA` finds it.
///
/// Thread-safe; futures complete on the client's loop.
public final class RedisScript: Sendable {
    public let source: String
    private let sha: NIOLockedValueBox<Digest> = NIOLockedValueBox(.unknown)

    private enum Digest {
        case unknown
        case loading
        case known(String)
    }

    public init(_ source: String) {
        self.source = source
    }

    /// The SHA1 the server named for the source, once known.
    public var digest: String? {
        sha.withLockedValue { if case .known(let digest) = $0 { digest } else { nil } }
    }

    /// Runs the script with `keys` and `arguments`. Server errors fail as `RedisError(.server, …)`
    /// whose message is the server's text.
    public func run(on client: RedisClient, keys: [String], arguments: [any RedisArgument]) -> EventLoopFuture<RedisValue> {
        let tail: [any RedisArgument] = [keys.count] + keys + arguments
        let state = sha.withLockedValue { digest -> Digest in
            let seen = digest
            if case .unknown = digest { digest = .loading }
            return seen
        }
        switch state {
        case .known(let digest):
            return client.send(RedisCommand("EVALSHA", arguments: [digest] + tail)).flatMapError { error in
                guard let error = error as? RedisError, error.code == .server, error.message.hasPrefix("NOSCRIPT") else {
                    return client.eventLoop.makeFailedFuture(error)
                }
                return client.send(RedisCommand("EVAL", arguments: [self.source] + tail))
            }
        case .unknown:
            load(on: client)
            return client.send(RedisCommand("EVAL", arguments: [source] + tail))
        case .loading:
            return client.send(RedisCommand("EVAL", arguments: [source] + tail))
        }
    }

    /// Asks the server for the digest (`SCRIPT LOAD`); on failure the next call tries again.
    private func load(on client: RedisClient) {
        client.send(RedisCommand("SCRIPT", "LOAD", source)).whenComplete { result in
            let loaded = (try? result.get())?.string
            self.sha.withLockedValue { $0 = loaded.map(Digest.known) ?? .unknown }
        }
    }
}

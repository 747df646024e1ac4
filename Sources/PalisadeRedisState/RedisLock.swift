import NIOCore
import PalisadeRedis

/// An owner-checked, renewable lock in Redis, as Open WebUI's `RedisLock`: `SET name owner NX PX`
/// takes it, a script renews it only while `owner` still holds it, and another deletes it only
/// then. A holder that dies loses the lock when its TTL runs out, and a holder whose TTL ran
/// out cannot renew or release what someone else took meanwhile.
///
/// Every answer is a future on `loop`; a Redis error fails it, and callers treat a failure as
/// "not held" (fail safe: no two holders, at worst none for a while).
public final class RedisLock: Sendable {
    public let name: String
    /// This holder's token (one per instance).
    public let owner: String
    public let ttl: TimeAmount
    private let client: RedisClient

    private static let renewScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 0
        """)
    private static let releaseScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)

    public init(client: RedisClient, name: String, owner: String, ttl: TimeAmount) {
        self.client = client
        self.name = name
        self.owner = owner
        self.ttl = ttl
    }

    private var milliseconds: Int64 { max(ttl.nanoseconds / 1_000_000, 1) }

    /// Takes the lock if nobody holds it; true when this holder has it now.
    public func acquire(on loop: any EventLoop) -> EventLoopFuture<Bool> {
        client.send(RedisCommand("SET", name, owner, "NX", "PX", milliseconds)).hop(to: loop).map { !$0.isNull }
    }

    /// Extends the lock by `ttl` if this holder still has it; false when it does not.
    public func renew(on loop: any EventLoop) -> EventLoopFuture<Bool> {
        Self.renewScript.run(on: client, keys: [name], arguments: [owner, milliseconds]).hop(to: loop).map { $0.integer == 1 }
    }

    /// Gives the lock up if this holder has it; false when it did not.
    public func release(on loop: any EventLoop) -> EventLoopFuture<Bool> {
        Self.releaseScript.run(on: client, keys: [name], arguments: [owner]).hop(to: loop).map { $0.integer == 1 }
    }

    /// Renews the lock when held, else tries to take it: true when this holder has it now.
    public func hold(on loop: any EventLoop) -> EventLoopFuture<Bool> {
        renew(on: loop).flatMap { renewed in renewed ? loop.makeSucceededFuture(true) : self.acquire(on: loop) }
    }
}

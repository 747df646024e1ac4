import NIOCore
import PalisadeRedis
import PalisadeState

/// The lock primitives on Redis: `SET NX PX` to take, and one script that checks the guard key
/// and writes or deletes, so a holder whose lock expired cannot write (the fence redis-py's
/// `Lock` and Open WebUI's encryption registry use).
extension RedisStateStore {
    static let writeIfHeldScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        if ARGV[2] == 'del' then
          redis.call('DEL', KEYS[2])
        elseif ARGV[4] == '' then
          redis.call('SET', KEYS[2], ARGV[3])
        else
          redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
        end
        return 1
        """)

    public func setIfAbsent(_ key: String, to value: String, ttl: Double, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        let command: RedisCommand
        do {
            try checkEntry(key, value)
            command = RedisCommand("SET", key, value, "NX", "PX", try Seconds.milliseconds(ttl, "ttl"))
        } catch {
            return loop.makeFailedFuture(error)
        }
        return client.send(command).hop(to: loop).map { !$0.isNull }
    }

    public func writeIfHeld(
        guardKey: String, expected: String, key: String, value: String?, ttl: Double?, on loop: any EventLoop
    ) -> EventLoopFuture<Bool> {
        let ttlArgument: String
        do {
            if let value { try checkEntry(key, value) }
            ttlArgument = try ttl.map { try String(Seconds.milliseconds($0, "ttl")) } ?? ""
        } catch {
            return loop.makeFailedFuture(error)
        }
        let arguments = [expected, value == nil ? "del" : "set", value ?? "", ttlArgument]
        return Self.writeIfHeldScript.run(on: client, keys: [guardKey, key], arguments: arguments)
            .flatMapErrorThrowing { error in throw Self.mapTypeError(error) }
            .hop(to: loop)
            .map { $0.integer == 1 }
    }
}

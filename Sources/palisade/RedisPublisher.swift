import NIOCore
import PalisadePolicy
import PalisadeRedis

/// `px.publish` on Redis: one PUBLISH on the link's connection (so one socket's messages keep
/// their order).
struct RedisPublisher: PolicyPublisher {
    let client: RedisClient

    func publish(channel: String, message: String, on loop: any EventLoop) -> EventLoopFuture<Int> {
        client.send(RedisCommand("PUBLISH", channel, message)).hop(to: loop).map { Int($0.integer ?? 0) }
    }
}

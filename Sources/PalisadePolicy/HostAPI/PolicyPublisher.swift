import NIOCore

/// Behind `px.publish`: messages to other processes on a shared bus (Redis pub/sub in the
/// product). Without one (a single instance), nothing can listen and `px.publish` answers 0.
public protocol PolicyPublisher: Sendable {
    /// Publishes `message` on `channel` (already prefixed); answers how many subscribers got it.
    func publish(channel: String, message: String, on loop: any EventLoop) -> EventLoopFuture<Int>
}

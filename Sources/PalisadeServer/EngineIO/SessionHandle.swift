import NIOCore

/// A reference to an `EngineSession` that may cross event loops: work for the session
/// is always run on the session's own loop.
struct SessionHandle: Sendable {
    let id: String
    let loop: any EventLoop
    private let bound: NIOLoopBound<EngineSession>

    init(_ session: EngineSession) {
        id = session.id
        loop = session.loop
        bound = NIOLoopBound(session, eventLoop: session.loop)
    }

    /// Runs `body` with the session on its loop: at once when already there, else queued.
    /// Calls queued from one thread run in the order they were made.
    func execute(_ body: @escaping @Sendable (EngineSession) -> Void) {
        if loop.inEventLoop {
            body(bound.value)
        } else {
            let bound = bound
            loop.execute { body(bound.value) }
        }
    }
}

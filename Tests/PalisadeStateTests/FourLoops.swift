import NIOCore
import NIOPosix

/// Runs `body` with the four loops of a fresh four-thread group (real threads contending for
/// the same locks), then shuts the group down, whether `body` throws or not.
func withFourLoops<Result>(_ body: ([any EventLoop]) async throws -> Result) async throws -> Result {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 4)
    let loops = (0..<4).map { _ in group.next() }
    do {
        let result = try await body(loops)
        try await group.shutdownGracefully()
        return result
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
}

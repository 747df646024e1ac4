import NIOCore
import NIOPosix
import PalisadeDocuments
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A measurement, not a check: appends per second with one caller awaiting each append (one
/// commit each) against 10 000 appends asked at once (group commit). Enabled by
/// `PALISADE_DOCUMENTS_BENCH=1`, so the normal run stays fast and timing-free:
///
///     PALISADE_DOCUMENTS_BENCH=1 swift test --skip-build --filter AppendThroughput
@Suite("Append throughput")
struct AppendThroughputTests {
    static let appends = 10_000

    @Test(.enabled(if: getenv("PALISADE_DOCUMENTS_BENCH") != nil, "set PALISADE_DOCUMENTS_BENCH=1 to measure"))
    func sequentialAgainstConcurrentAppends() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let update = [UInt8](repeating: 0x5A, count: 64)
        try await withTemporaryDirectory { folder in
            let store = try SQLiteDocumentStore(dataDirectory: folder)
            let clock = ContinuousClock()

            var commits = store.transactionCount
            let sequential = try await clock.measure {
                for _ in 0..<Self.appends { _ = try await store.append("sequential", update: update, on: loop).get() }
            }
            let sequentialCommits = store.transactionCount - commits

            commits = store.transactionCount
            let concurrent = try await clock.measure {
                let futures = (0..<Self.appends).map { _ in store.append("concurrent", update: update, on: loop) }
                _ = try await EventLoopFuture.whenAllSucceed(futures, on: loop).get()
            }
            let concurrentCommits = store.transactionCount - commits
            await store.close()

            func rate(_ duration: Duration) -> Int {
                let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
                return Int(Double(Self.appends) / seconds)
            }
            print(
                "appends of 64 bytes: sequential await \(rate(sequential))/s (\(sequentialCommits) commits, \(sequential)); "
                    + "concurrent \(rate(concurrent))/s (\(concurrentCommits) commits, \(concurrent))")
        }
    }
}

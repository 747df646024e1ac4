import NIOCore
import NIOPosix

/// Runs one benchmark: opens connections with bounded concurrency, signals them, resets and
/// collects the per-loop counters, and closes everything. Orchestration is async; the
/// message path stays on the event loops.
final class BenchDriver {
    let options: CommonOptions
    let target: BenchTarget
    let group: MultiThreadedEventLoopGroup
    let connector: Connector
    private(set) var channels: [Channel] = []

    typealias OpenOutcome = ConnectionOpener.Outcome

    /// `otherURLs`: more servers (instances of one cluster) that `open` can send connections to.
    init(options: CommonOptions, connections: Int, otherURLs: [String] = []) async throws {
        SystemProbe.raiseDescriptorLimit()
        self.options = options
        target = try BenchTarget(url: options.url)
        let others = try otherURLs.map(BenchTarget.init(url:))
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.threads))
        connector = try await Connector(
            targets: [target] + others, group: group, tokens: try options.tokens(),
            sources: try options.sourceAddresses(target: target, connections: connections),
            handshakeTimeout: .seconds(Int64(options.handshakeTimeout)))
    }

    var threads: Int { connector.loops.count }

    /// Opens `count` connections, at most `options.concurrency` handshakes at a time and,
    /// with `rate`, no faster than `rate` starts per second. Connection `i` runs on loop
    /// `loopIndex(i)` with the role `makeRole(i, loop)`, to the server `targetIndex(i)` (0: `--url`).
    func open(
        count: Int, rate: Double? = nil, loopIndex: @escaping @Sendable (Int) -> Int,
        targetIndex: @escaping @Sendable (Int) -> Int = { _ in 0 },
        makeRole: @escaping @Sendable (Int, EventLoop) -> any SessionRole
    ) async -> OpenOutcome {
        let connector = self.connector
        let opened = try? await ConnectionOpener.run(
            on: connector.loops[0], count: count, concurrency: options.concurrency, rate: rate
        ) { index in
            connector.connect(index: index, loopIndex: loopIndex(index), targetIndex: targetIndex(index)) { loop in
                makeRole(index, loop)
            }
        }.get()
        guard let opened else { return OpenOutcome() }  // only if the loop was shut down
        channels.append(contentsOf: opened.channels)
        return opened
    }

    /// Sends `signal` down every open connection's pipeline.
    func signal(_ signal: BenchSignal) {
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(signal) }
    }

    func resetStats() async throws {
        for (loop, stats) in zip(connector.loops, connector.stats) {
            try await loop.submit { stats.value.reset() }.get()
        }
    }

    func collectStats() async throws -> StatsSnapshot {
        var total = StatsSnapshot()
        for (loop, stats) in zip(connector.loops, connector.stats) {
            total.add(try await loop.submit { stats.value.snapshot }.get())
        }
        return total
    }

    /// Stops every connection (`41` then EIO close) and the loops.
    func shutdown() async {
        signal(.stop)
        for channel in channels { try? await channel.closeFuture.get() }
        channels.removeAll()
        try? await group.shutdownGracefully()
    }

    /// Measures `seconds` of traffic after `warmUp` seconds: counters and both processes' CPU.
    /// `window` is told when the measured window opens and closes (other counters to read then).
    func measure(warmUp: Double, seconds: Double, window: (any MeasuredWindow)? = nil) async throws -> Measurement {
        try await Task.sleep(for: .milliseconds(Int(warmUp * 1000)))
        try await resetStats()
        await window?.opened()
        let clock = ContinuousClock()
        let begin = clock.now
        let selfCPU = SystemProbe.selfCPUSeconds()
        let serverCPU = options.serverPid.flatMap(SystemProbe.cpuSeconds(pid:))
        try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        let stats = try await collectStats()
        let wall = Self.seconds(clock.now - begin)
        await window?.closed(seconds: wall)
        var measurement = Measurement(stats: stats, seconds: wall)
        measurement.clientCPU = (SystemProbe.selfCPUSeconds() - selfCPU) / wall
        if let serverCPU, let pid = options.serverPid, let after = SystemProbe.cpuSeconds(pid: pid) {
            measurement.serverCPU = (after - serverCPU) / wall
        }
        return measurement
    }
}

extension BenchDriver {
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

@available(*, unavailable) extension BenchDriver: Sendable {}

/// Counters outside the client (other processes, Redis) read at the edges of the measured window.
protocol MeasuredWindow: AnyObject {
    func opened() async
    func closed(seconds: Double) async
}

/// One measured window.
struct Measurement {
    var stats: StatsSnapshot
    var seconds: Double
    /// CPU cores used on average (1.0 = one core busy all the time).
    var clientCPU = 0.0
    var serverCPU: Double?

    var completedPerSecond: Double { Double(stats.completed) / seconds }
    var sentPerSecond: Double { Double(stats.sent) / seconds }
}

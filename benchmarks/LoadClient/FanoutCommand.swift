import ArgumentParser
import NIOCore
import PalisadeJSON

/// `fanout`: rooms of members, one sender per room; delivery latency from the sent timestamp.
struct FanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "Rooms × members, one sender per room at a set rate; deliveries/s and delivery latency.",
        discussion: """
            Member 0 of each room also sends; servers skip the sender, so each send is expected \
            to reach members - 1 connections. In the argument templates $ROOM is the room name and $T \
            the send time in ns (monotonic clock of this machine). For PalisadeTestServer use \
            --join-args '"$ROOM"' --args '"$ROOM","tick",{"t":$T}'. With --second-url (two instances of \
            one cluster) members 1, 3, 5, … of each room connect to the second server and every sender \
            stays on the first, so their deliveries crossed between the instances (reported as second_*).
            """)

    @OptionGroup var common: CommonOptions
    @Option var rooms = 10
    @Option(help: "Connections per room (the sender included).") var members = 50
    @Option(help: "Events per second each room's sender emits.") var rate = 10.0
    @Option(help: "Measured seconds.") var duration = 10.0
    @Option(help: "Seconds of traffic before measuring.") var warmup = 2.0
    @Option(help: "The event that joins a room (acked).") var joinEvent = "join"
    @Option(help: "The join event's arguments (JSON, comma-separated), with $ROOM.") var joinArgs = #"{"room":"$ROOM"}"#
    @Option(help: "The event the sender emits.") var event = "broadcast"
    @Option(help: "The sent event's arguments (JSON, comma-separated), with $ROOM and $T.") var args = #"{"room":"$ROOM","t":$T}"#
    @Option(help: "Prefix of the room names.") var roomPrefix = "bench-room-"
    @Option(help: "A second server on the same Redis: odd members connect there, senders stay on --url.") var secondUrl: String?
    @Option(help: "The second server's pid: its CPU goes into the report.") var secondServerPid: Int32?
    @Option(help: "The servers' Redis (redis://host:port): its commands and bytes per sent event.") var redisUrl: String?
    @Option(help: "The Redis server's pid: its CPU goes into the report.") var redisPid: Int32?

    func validate() throws {
        guard args.contains("$T") else { throw ValidationError("--args needs $T, the send time") }
        for template in [joinArgs, args] {
            let sample = template.replacingAll("$ROOM", with: "r").replacingAll("$T", with: "1")
            do { _ = try JSONParser.parse("[" + sample + "]") } catch {
                throw ValidationError("not JSON arguments: \(template)")
            }
        }
    }

    func run() async throws {
        let total = rooms * members
        let driver = try await BenchDriver(options: common, connections: total, otherURLs: secondUrl.map { [$0] } ?? [])
        let threads = driver.threads
        let window = try await makeWindow(loop: driver.connector.loops[0])
        var plans: [FanoutRole.Plan] = []
        for room in 0..<rooms {
            let name = roomPrefix + String(room)
            let join = "420[" + JSONWriter.string(.string(joinEvent)) + "," + joinArgs.replacingAll("$ROOM", with: name) + "]"
            let send = "42[" + JSONWriter.string(.string(event)) + "," + args.replacingAll("$ROOM", with: name) + "]"
            let parts = send.splitOnce("$T")
            plans.append(
                FanoutRole.Plan(
                    join: ClientFrame.text(join), prefix: Array(parts.0.utf8),
                    suffix: Array(parts.1.utf8), rate: rate))
        }
        let roomPlans = plans
        let memberCount = members
        let split = secondUrl != nil
        let opened = await driver.open(
            count: total, loopIndex: { $0 % threads }, targetIndex: { split ? $0 % memberCount % 2 : 0 }
        ) { index, loop in
            FanoutRole(
                plan: roomPlans[index / memberCount], sends: index % memberCount == 0,
                second: split && index % memberCount % 2 == 1, loop: loop)
        }
        guard opened.opened > 0 else {
            await window?.close()
            await driver.shutdown()
            throw BenchError("no connection opened: \(opened.failures)")
        }
        driver.signal(.start)
        let measurement = try await driver.measure(warmUp: warmup, seconds: duration, window: window)
        await window?.close()
        await driver.shutdown()

        let expected = measurement.sentPerSecond * Double(members - 1)
        var report = Report(mode: "fanout", options: common, threads: threads)
        report.add("rooms", rooms)
        report.add("members", members)
        report.add("connections", opened.opened)
        report.add("failed_connections", opened.failed)
        report.add("rate_per_sender", rate, places: 2)
        report.add("duration_s", measurement.seconds, places: 2)
        report.add("sent_per_s", measurement.sentPerSecond, places: 1)
        report.add("deliveries", measurement.stats.completed)
        report.add("deliveries_per_s", measurement.completedPerSecond, places: 0)
        report.add("expected_deliveries_per_s", expected, places: 0)
        report.addLatency(measurement.stats.latency)
        report.add("dropped", measurement.stats.dropped)
        report.addCPU(measurement)
        if split {
            report.add("second_deliveries_per_s", Double(measurement.stats.secondCompleted) / measurement.seconds, places: 0)
            report.addLatency(measurement.stats.secondLatency, prefix: "second_")
        }
        // Relayed: the events that reached the second server (each reaches its members there);
        // without one, the events sent. A saturated server relays fewer than it is sent.
        let relayed =
            split
            ? Double(measurement.stats.secondCompleted) / Double(max(members / 2, 1)) : Double(measurement.stats.sent)
        window?.add(to: &report, events: relayed)
        report.emit(
            human: "fanout: \(rooms) rooms × \(members) members, \(Report.rate(measurement.sentPerSecond)) sends/s → "
                + "\(Report.rate(measurement.completedPerSecond)) deliveries/s (expected \(Report.rate(expected))), "
                + "\(Report.latencies(measurement.stats.latency)); \(measurement.stats.dropped) dropped; \(Report.cpu(measurement))"
                + (split ? "; on the second server \(Report.latencies(measurement.stats.secondLatency))" : ""))
    }

    /// The counters read at the window's edges when another process or Redis is given.
    private func makeWindow(loop: any EventLoop) async throws -> ClusterWindow? {
        var processes: [(name: String, pid: Int32)] = []
        if let secondServerPid { processes.append(("second_server", secondServerPid)) }
        if let redisPid { processes.append(("redis", redisPid)) }
        var redis: RedisCounters?
        if let redisUrl { redis = try await RedisCounters(url: redisUrl, loop: loop) }
        guard !processes.isEmpty || redis != nil else { return nil }
        return ClusterWindow(processes: processes, redis: redis)
    }
}

/// A room member: joins (ack id 0), then records the latency of every event carrying `"t":`;
/// the room's sender also emits at the plan's rate.
final class FanoutRole: SessionRole {
    struct Plan: Sendable {
        /// `420["join",…]`, pre-encoded.
        var join: ByteBuffer
        /// The sent frame's text before and after the timestamp.
        var prefix: [UInt8]
        var suffix: [UInt8]
        var rate: Double
    }

    private static let timeKey = Array(#""t":"#.utf8)
    private let plan: Plan
    private let sends: Bool
    /// Connected to the second server: its deliveries also count as `second*`.
    private let second: Bool
    private let loop: EventLoop
    private var joined = false
    private var ticker: RateTicker?

    init(plan: Plan, sends: Bool, second: Bool = false, loop: EventLoop) {
        self.plan = plan
        self.sends = sends
        self.second = second
        self.loop = loop
    }

    func connected(_ connection: SocketIOConnection) {
        connection.outbound.writeImmutableBuffer(plan.join)
        connection.flushSoon()
    }

    func ack(_ connection: SocketIOConnection, id: UInt64, frame: ByteBuffer) {
        guard id == 0, !joined else { return }
        joined = true
        connection.markReady()
    }

    func event(_ connection: SocketIOConnection, frame: ByteBuffer) {
        guard let sent = FrameScan.integer(after: Self.timeKey, in: frame) else { return }
        let now = MonotonicClock.now()
        let latency = now >= sent ? now - sent : nil
        if let latency { connection.stats.latency.record(latency) }
        connection.stats.completed &+= 1
        if second {
            if let latency { connection.stats.secondLatency.record(latency) }
            connection.stats.secondCompleted &+= 1
        }
    }

    func start(_ connection: SocketIOConnection) {
        guard sends else { return }
        ticker = RateTicker(loop: loop, rate: plan.rate) { [unowned connection, unowned self] in
            self.send(connection)
        }
        ticker?.start()
    }

    func stop() {
        ticker?.stop()
        ticker = nil
    }

    private func send(_ connection: SocketIOConnection) {
        let now = MonotonicClock.now()
        let length = plan.prefix.count + ClientFrame.digitCount(now) + plan.suffix.count
        ClientFrame.writeHeader(length: length, into: &connection.outbound)
        connection.outbound.writeBytes(plan.prefix)
        ClientFrame.writeDecimal(now, into: &connection.outbound)
        connection.outbound.writeBytes(plan.suffix)
        connection.stats.sent &+= 1
        connection.flushSoon()
    }
}

@available(*, unavailable) extension FanoutRole: Sendable {}

extension String {
    /// Every occurrence of `target` replaced (no Foundation).
    func replacingAll(_ target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }

    /// The text before and after the first `separator` (all of it and "" when absent).
    func splitOnce(_ separator: String) -> (Substring, Substring) {
        guard let range = firstRange(of: separator) else { return (Substring(self), "") }
        return (self[..<range.lowerBound], self[range.upperBound...])
    }
}

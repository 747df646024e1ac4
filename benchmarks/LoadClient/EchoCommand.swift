import ArgumentParser
import NIOCore
import PalisadeJSON

/// `echo`: every connection keeps `--inflight` events with acks in flight.
struct EchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Events with acks: C connections × W in flight; events/s and round-trip percentiles.")

    @OptionGroup var common: CommonOptions
    @Option var connections = 50
    @Option(help: "Events with acks each connection keeps in flight.") var inflight = 20
    @Option(help: "Measured seconds.") var duration = 10.0
    @Option(help: "Seconds of traffic before measuring.") var warmup = 2.0
    @Option(help: "The event the server acks (PalisadeTestServer: message-with-ack).") var event = "echo"
    @Option(help: "The event's one argument, as JSON.") var payload = #"{"n":1}"#

    func run() async throws {
        let argument = try JSONParser.parse(payload)
        var body = ByteBuffer()
        JSONWriter.write(.array([.string(event), argument]), into: &body)
        let bodyBytes = Array(body.readableBytesView)
        let window = max(1, inflight)

        let driver = try await BenchDriver(options: common, connections: connections)
        let threads = driver.threads
        let opened = await driver.open(count: connections, loopIndex: { $0 % threads }) { _, _ in
            EchoRole(window: window, body: bodyBytes)
        }
        guard opened.opened > 0 else {
            await driver.shutdown()
            throw BenchError("no connection opened: \(opened.failures)")
        }
        driver.signal(.start)
        let measurement = try await driver.measure(warmUp: warmup, seconds: duration)
        await driver.shutdown()

        var report = Report(mode: "echo", options: common, threads: threads)
        report.add("event", event)
        report.add("connections", opened.opened)
        report.add("failed_connections", opened.failed)
        report.add("inflight", window)
        report.add("duration_s", measurement.seconds, places: 2)
        report.add("events", measurement.stats.completed)
        report.add("events_per_s", measurement.completedPerSecond, places: 0)
        report.addLatency(measurement.stats.latency)
        report.add("errors", measurement.stats.errors)
        report.add("dropped", measurement.stats.dropped)
        report.addCPU(measurement)
        report.emit(
            human: "echo \(event): \(opened.opened) connections × \(window) in flight, "
                + "\(Report.rate(measurement.completedPerSecond)) events/s, \(Report.latencies(measurement.stats.latency)); "
                + "\(measurement.stats.errors) errors, \(measurement.stats.dropped) dropped; \(Report.cpu(measurement))")
    }
}

/// Keeps `window` events in flight: each ack records its round trip and sends the next event.
/// Frames are `42<id>` + the pre-encoded `["event",payload]`; an ack's slot is `id % window`.
final class EchoRole: SessionRole {
    private let window: UInt64
    private let body: [UInt8]
    private var sentAt: [UInt64]
    private var nextID: UInt64 = 0

    init(window: Int, body: [UInt8]) {
        self.window = UInt64(window)
        self.body = body
        sentAt = [UInt64](repeating: 0, count: window)
    }

    func connected(_ connection: SocketIOConnection) { connection.markReady() }

    func start(_ connection: SocketIOConnection) {
        for _ in 0..<window { send(connection) }
    }

    func ack(_ connection: SocketIOConnection, id: UInt64, frame: ByteBuffer) {
        let now = MonotonicClock.now()
        let sent = sentAt[Int(id % window)]
        if now >= sent { connection.stats.latency.record(now - sent) }
        connection.stats.completed &+= 1
        send(connection)
    }

    private static let errorPrefix = Array(#"42["error""#.utf8)

    func event(_ connection: SocketIOConnection, frame: ByteBuffer) {
        // A refusal (`42["error",…]`) answers instead of the ack: keep the window full.
        guard frame.readableBytesView.starts(with: Self.errorPrefix) else { return }
        connection.stats.errors &+= 1
        send(connection)
    }

    @inline(__always)
    private func send(_ connection: SocketIOConnection) {
        let id = nextID
        nextID &+= 1
        sentAt[Int(id % window)] = MonotonicClock.now()
        ClientFrame.writeHeader(length: 2 + ClientFrame.digitCount(id) + body.count, into: &connection.outbound)
        connection.outbound.writeInteger(UInt16(0x3432))  // "42"
        ClientFrame.writeDecimal(id, into: &connection.outbound)
        connection.outbound.writeBytes(body)
        connection.flushSoon()
    }
}

@available(*, unavailable) extension EchoRole: Sendable {}

import ArgumentParser
import NIOCore
import PalisadeJSON

/// `yjs`: editors on shared documents sending one-character Yjs updates (Open WebUI's `ydoc:*` events).
struct YjsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yjs",
        abstract: "Editors per document send small Yjs updates; relayed updates/s and relay latency.",
        discussion: """
            Each editor joins with ydoc:document:join, waits for ydoc:document:state, then sends \
            ydoc:document:update at --rate. A relayed update is matched to its send time by the client \
            id and clock inside it; the editors of one document share an event loop for that.
            """)

    @OptionGroup var common: CommonOptions
    @Option(help: "Editors per document.") var editors = 5
    @Option var documents = 10
    @Option(help: "Updates per second each editor sends.") var rate = 5.0
    @Option(help: "Measured seconds.") var duration = 10.0
    @Option(help: "Seconds of traffic before measuring.") var warmup = 2.0
    @Option(help: "Prefix of the document ids: <prefix><run id>-<n>.") var documentPrefix = "bench:"
    @Option(help: "The run id in document ids (default random, so runs never share a document).") var runID: UInt64?

    func run() async throws {
        let total = editors * documents
        let driver = try await BenchDriver(options: common, connections: total)
        let threads = driver.threads
        let run = runID ?? UInt64.random(in: 0..<(1 << 32))
        let clientBase = UInt64.random(in: (1 << 24)..<(1 << 30))
        let books = try await driver.connector.loops.asyncMap { loop in
            try await loop.submit { NIOLoopBound(YjsClockBook(editors: total, base: clientBase), eventLoop: loop) }.get()
        }
        let perDocument = editors
        let prefix = documentPrefix
        let rate = self.rate
        // Editors of one document share a loop, so their send times sit in one loop-confined book.
        let opened = await driver.open(count: total, loopIndex: { ($0 / perDocument) % threads }) { index, loop in
            let document = index / perDocument
            return YjsRole(
                documentID: "\(prefix)\(run)-\(document)", editor: index, client: clientBase + UInt64(index),
                rate: rate, book: books[document % threads].value, loop: loop)
        }
        guard opened.opened > 0 else {
            await driver.shutdown()
            throw BenchError("no connection opened: \(opened.failures)")
        }
        driver.signal(.start)
        let measurement = try await driver.measure(warmUp: warmup, seconds: duration)
        await driver.shutdown()

        let expected = measurement.sentPerSecond * Double(editors - 1)
        var report = Report(mode: "yjs", options: common, threads: threads)
        report.add("documents", documents)
        report.add("document_ids", "\(prefix)\(run)-0…\(documents - 1)")
        report.add("editors_per_document", editors)
        report.add("connections", opened.opened)
        report.add("failed_connections", opened.failed)
        report.add("rate_per_editor", rate, places: 2)
        report.add("duration_s", measurement.seconds, places: 2)
        report.add("updates_per_s", measurement.sentPerSecond, places: 1)
        report.add("deliveries", measurement.stats.completed)
        report.add("deliveries_per_s", measurement.completedPerSecond, places: 0)
        report.add("expected_deliveries_per_s", expected, places: 0)
        report.addLatency(measurement.stats.latency)
        report.add("errors", measurement.stats.errors)
        report.add("dropped", measurement.stats.dropped)
        report.addCPU(measurement)
        report.emit(
            human: "yjs: \(documents) documents × \(editors) editors, \(Report.rate(measurement.sentPerSecond)) updates/s → "
                + "\(Report.rate(measurement.completedPerSecond)) relayed/s (expected \(Report.rate(expected))), "
                + "\(Report.latencies(measurement.stats.latency)); \(measurement.stats.dropped) dropped; \(Report.cpu(measurement))")
    }
}

/// Send times of every editor's recent updates, by clock (a ring per editor). One per loop.
final class YjsClockBook {
    static let ring = 1024
    private var times: [UInt64]
    let base: UInt64
    let editors: Int

    init(editors: Int, base: UInt64) {
        self.editors = editors
        self.base = base
        times = [UInt64](repeating: 0, count: editors * Self.ring)
    }

    func record(editor: Int, clock: UInt64, at time: UInt64) {
        times[editor * Self.ring + Int(clock % UInt64(Self.ring))] = time
    }

    func sentTime(client: UInt64, clock: UInt64) -> UInt64? {
        guard client >= base, client - base < UInt64(editors) else { return nil }
        let time = times[Int(client - base) * Self.ring + Int(clock % UInt64(Self.ring))]
        return time == 0 ? nil : time
    }
}

@available(*, unavailable) extension YjsClockBook: Sendable {}

/// One editor: joins its document, waits for the state, then sends an insert per tick and
/// times the other editors' relayed inserts.
final class YjsRole: SessionRole {
    private static let eventPrefix = Array(#"42["ydoc:document:"#.utf8)
    private static let stateName = Array(#"state""#.utf8)
    private static let updateName = Array(#"update""#.utf8)
    private static let updateKey = Array(#""update":["#.utf8)

    private let joinFrame: ByteBuffer
    private let updatePrefix: [UInt8]
    private let editor: Int
    private let client: UInt64
    private let rate: Double
    private let book: YjsClockBook
    private let loop: EventLoop
    private var clock: UInt64 = 0
    private var ready = false
    private var ticker: RateTicker?

    init(documentID: String, editor: Int, client: UInt64, rate: Double, book: YjsClockBook, loop: EventLoop) {
        let join: JSONValue = .array([
            .string("ydoc:document:join"),
            .object([
                // No user_id: the stock policies refuse one that is not the token's own.
                "document_id": .string(documentID), "user_name": .string("Bench \(editor)"), "user_color": .string("#3366ff"),
            ]),
        ])
        joinFrame = ClientFrame.text("42" + JSONWriter.string(join))
        updatePrefix = Array(
            (#"42["ydoc:document:update",{"document_id":"# + JSONWriter.string(.string(documentID)) + #","update":["#).utf8)
        self.editor = editor
        self.client = client
        self.rate = rate
        self.book = book
        self.loop = loop
    }

    func connected(_ connection: SocketIOConnection) {
        connection.outbound.writeImmutableBuffer(joinFrame)
        connection.flushSoon()
    }

    func event(_ connection: SocketIOConnection, frame: ByteBuffer) {
        let view = frame.readableBytesView
        guard view.starts(with: Self.eventPrefix) else { return }
        let name = view.dropFirst(Self.eventPrefix.count)
        if name.starts(with: Self.updateName) {
            let values = FrameScan.integers(after: Self.updateKey, in: frame, limit: 14)
            guard let (client, clock) = YjsUpdateBuilder.clientAndClock(values),
                let sent = book.sentTime(client: client, clock: clock)
            else {
                connection.stats.errors &+= 1
                return
            }
            let now = MonotonicClock.now()
            if now >= sent { connection.stats.latency.record(now - sent) }
            connection.stats.completed &+= 1
        } else if name.starts(with: Self.stateName), !ready {
            ready = true
            connection.markReady()
        }
    }

    func start(_ connection: SocketIOConnection) {
        ticker = RateTicker(loop: loop, rate: rate) { [unowned connection, unowned self] in
            self.send(connection)
        }
        ticker?.start()
    }

    func stop() {
        ticker?.stop()
        ticker = nil
    }

    private func send(_ connection: SocketIOConnection) {
        let update = YjsUpdateBuilder.insert(client: client, clock: clock)
        var payload = updatePrefix
        for (position, byte) in update.enumerated() {
            if position > 0 { payload.append(UInt8(ascii: ",")) }
            if byte >= 100 { payload.append(UInt8(ascii: "0") + byte / 100) }
            if byte >= 10 { payload.append(UInt8(ascii: "0") + byte / 10 % 10) }
            payload.append(UInt8(ascii: "0") + byte % 10)
        }
        payload += Array("]}]".utf8)
        book.record(editor: editor, clock: clock, at: MonotonicClock.now())
        clock += 1
        ClientFrame.writeHeader(length: payload.count, into: &connection.outbound)
        connection.outbound.writeBytes(payload)
        connection.stats.sent &+= 1
        connection.flushSoon()
    }
}

@available(*, unavailable) extension YjsRole: Sendable {}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        result.reserveCapacity(count)
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

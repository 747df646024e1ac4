import NIOCore
import PalisadeJSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One run's result: a JSON line on stdout (for scripts) and a sentence on stderr (for people).
struct Report {
    private(set) var members: [JSONMember] = []

    init(mode: String, options: CommonOptions, threads: Int) {
        add("mode", mode)
        add("url", options.url)
        add("threads", threads)
    }

    mutating func add(_ key: String, _ value: String) { members.append(JSONMember(key, .string(value))) }
    mutating func add(_ key: String, _ value: Int) { members.append(JSONMember(key, JSONValue(value))) }
    mutating func add(_ key: String, _ value: UInt64) { members.append(JSONMember(key, .number(String(value)))) }

    /// A number rounded to `places` decimals (JSON has no NaN or infinity: those become null).
    mutating func add(_ key: String, _ value: Double, places: Int = 1) {
        members.append(JSONMember(key, Self.number(value, places: places)))
    }

    mutating func add(_ key: String, _ value: JSONValue) { members.append(JSONMember(key, value)) }

    /// p50/p99/p999/max in microseconds under `prefix` (`p50_us`, or `connect_p50_us`).
    mutating func addLatency(_ histogram: LatencyHistogram, prefix: String = "") {
        add(prefix + "p50_us", Double(histogram.percentile(0.50)) / 1000)
        add(prefix + "p99_us", Double(histogram.percentile(0.99)) / 1000)
        add(prefix + "p999_us", Double(histogram.percentile(0.999)) / 1000)
        add(prefix + "max_us", Double(histogram.maximum) / 1000)
    }

    mutating func addCPU(_ measurement: Measurement) {
        add("client_cpu_cores", measurement.clientCPU, places: 2)
        if let server = measurement.serverCPU { add("server_cpu_cores", server, places: 2) }
    }

    static func number(_ value: Double, places: Int) -> JSONValue {
        guard value.isFinite else { return .null }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return .number(String(Int64(rounded))) }
        return .number(String(rounded))
    }

    /// Prints the JSON line to stdout and `human` to stderr.
    func emit(human: String) {
        Self.write(JSONWriter.string(.object(members)) + "\n", to: STDOUT_FILENO)
        Self.write(human + "\n", to: STDERR_FILENO)
    }

    /// The whole text with write(2): no stdio buffers shared between threads.
    private static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                #if canImport(Glibc)
                    let written = Glibc.write(descriptor, base + offset, bytes.count - offset)
                #else
                    let written = Darwin.write(descriptor, base + offset, bytes.count - offset)
                #endif
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    /// A latency in the unit that reads best.
    static func duration(_ nanoseconds: UInt64) -> String {
        if nanoseconds < 10_000 { return "\(Double(nanoseconds / 100) / 10) µs" }
        if nanoseconds < 10_000_000 { return "\(nanoseconds / 1000) µs" }
        return "\(Double(nanoseconds / 100_000) / 10) ms"
    }

    static func latencies(_ histogram: LatencyHistogram) -> String {
        "p50 \(duration(histogram.percentile(0.5))), p99 \(duration(histogram.percentile(0.99))), p999 \(duration(histogram.percentile(0.999)))"
    }

    static func rate(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        return String(Int64(value.rounded()))
    }

    static func cpu(_ measurement: Measurement) -> String {
        var text = "client CPU \(Int((measurement.clientCPU * 100).rounded())) %"
        if let server = measurement.serverCPU { text += ", server CPU \(Int((server * 100).rounded())) %" }
        return text
    }

    static func failures(_ failures: [String: Int]) -> JSONValue {
        .object(failures.sorted { $0.key < $1.key }.map { JSONMember($0.key, JSONValue($0.value)) })
    }
}

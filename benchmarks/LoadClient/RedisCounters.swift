import Logging
import NIOCore
import PalisadeRedis

/// Redis's own counters, read with `INFO all` on a command connection of the client's: calls by
/// command (`commandstats`) and bytes in and out (`stats`). Two readings around a window give what
/// the servers sharing that Redis asked of it meanwhile.
final class RedisCounters {
    struct Reading: Sendable {
        /// Calls by command name, lower case (`publish`, `subscribe`, `evalsha`, …).
        var calls: [String: UInt64] = [:]
        var inputBytes: UInt64 = 0
        var outputBytes: UInt64 = 0

        /// What happened between `earlier` and this reading.
        func since(_ earlier: Reading) -> Reading {
            var delta = Reading(
                inputBytes: inputBytes &- earlier.inputBytes, outputBytes: outputBytes &- earlier.outputBytes)
            for (name, count) in calls where count > earlier.calls[name, default: 0] {
                delta.calls[name] = count - earlier.calls[name, default: 0]
            }
            return delta
        }
    }

    private let client: RedisClient

    /// Connects to `url` (`redis://host:port`) on `loop`; no PINGs of its own, so they do not count.
    init(url: String, loop: any EventLoop) async throws {
        let configuration = RedisConfiguration(url: try RedisURL(parsing: url), pingInterval: nil, clientName: "palisade-bench")
        var logger = Logger(label: "palisade-bench.redis")
        logger.logLevel = .warning  // not "redis up" on every run's output
        client = RedisClient(configuration: configuration, eventLoop: loop, logger: logger)
        try await client.waitUntilUp(timeout: .seconds(5)).get()
    }

    func read() async throws -> Reading {
        guard let text = try await client.send("INFO", "all").get().string else { throw BenchError("INFO gave no text") }
        return Self.parse(text)
    }

    func close() async { try? await client.close().get() }

    /// `cmdstat_publish:calls=12,usec=…` and `total_net_input_bytes:345` lines of an INFO reply.
    static func parse(_ text: String) -> Reading {
        var reading = Reading()
        for line in text.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("cmdstat_"), let colon = line.firstIndex(of: ":") {
                let name = String(line[line.index(line.startIndex, offsetBy: 8)..<colon])
                let fields = line[line.index(after: colon)...].split(separator: ",")
                if let calls = fields.first(where: { $0.hasPrefix("calls=") }).flatMap({ UInt64($0.dropFirst(6)) }) {
                    reading.calls[name] = calls
                }
            } else if line.hasPrefix("total_net_input_bytes:") {
                reading.inputBytes = UInt64(line.dropFirst(22)) ?? 0
            } else if line.hasPrefix("total_net_output_bytes:") {
                reading.outputBytes = UInt64(line.dropFirst(23)) ?? 0
            }
        }
        return reading
    }
}

@available(*, unavailable) extension RedisCounters: Sendable {}

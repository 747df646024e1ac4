import PalisadeJSON

/// What a fanout across instances reads at the edges of its measured window besides the client's
/// own counters: the CPU of the other processes (the second server, Redis) and Redis's command
/// and byte counters (`RedisCounters`).
final class ClusterWindow: MeasuredWindow {
    /// Report name (`second_server`, `redis`) and pid of each process whose CPU counts.
    private let processes: [(name: String, pid: Int32)]
    private let redis: RedisCounters?
    private var cpuAtOpen: [Double?] = []
    private var redisAtOpen: RedisCounters.Reading?
    private(set) var cpu: [(name: String, cores: Double)] = []
    /// Redis's counters over the window; nil without `redis` or when a reading failed.
    private(set) var redisDelta: RedisCounters.Reading?

    init(processes: [(name: String, pid: Int32)], redis: RedisCounters?) {
        self.processes = processes
        self.redis = redis
    }

    func opened() async {
        redisAtOpen = try? await redis?.read()
        cpuAtOpen = processes.map { SystemProbe.cpuSeconds(pid: $0.pid) }
    }

    func closed(seconds: Double) async {
        for (process, before) in zip(processes, cpuAtOpen) {
            if let before, let after = SystemProbe.cpuSeconds(pid: process.pid) {
                cpu.append((process.name, (after - before) / seconds))
            }
        }
        if let redisAtOpen, let after = try? await redis?.read() { redisDelta = after.since(redisAtOpen) }
    }

    /// Closes the Redis connection (before the client's event loops stop).
    func close() async { await redis?.close() }

    /// `<name>_cpu_cores`, and with Redis: its commands by name over the window, and per relayed
    /// event (`events`: what the window relayed, e.g. the events that reached the second server)
    /// the commands (the client's own INFO left out), PUBLISHes and bytes in and out.
    func add(to report: inout Report, events: Double) {
        for (name, cores) in cpu { report.add(name + "_cpu_cores", cores, places: 2) }
        guard var delta = redisDelta else { return }
        delta.calls["info"] = nil
        let events = max(events, 1)
        let commands = delta.calls.values.reduce(0, +)
        report.add(
            "redis_commands", .object(delta.calls.sorted { $0.key < $1.key }.map { JSONMember($0.key, .number(String($0.value))) }))
        report.add("relayed_events", events, places: 0)
        report.add("redis_commands_per_event", Double(commands) / events, places: 3)
        report.add("redis_publish_per_event", Double(delta.calls["publish", default: 0]) / events, places: 3)
        report.add("redis_in_bytes_per_event", Double(delta.inputBytes) / events, places: 0)
        report.add("redis_out_bytes_per_event", Double(delta.outputBytes) / events, places: 0)
    }
}

@available(*, unavailable) extension ClusterWindow: Sendable {}

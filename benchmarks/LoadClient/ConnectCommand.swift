import ArgumentParser
import NIOCore

/// `connect`: opens N authenticated connections, holds them idle, and reports the connect rate,
/// the failures by kind and, given the server's pid, its resident memory per connection.
struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "N connections with tokens: connects/s, failures by kind, server RSS per idle connection.")

    @OptionGroup var common: CommonOptions
    @Option var connections = 1000
    @Option(help: "Connection starts per second (default: as fast as --concurrency allows).") var rate: Double?
    @Option(help: "Seconds all connections are held idle before the server's RSS is read.") var hold = 5.0

    func run() async throws {
        let driver = try await BenchDriver(options: common, connections: connections)
        let threads = driver.threads
        let rssBefore = common.serverPid.flatMap(SystemProbe.residentBytes(pid:))
        let cpuBefore = common.serverPid.flatMap(SystemProbe.cpuSeconds(pid:))
        let selfCPU = SystemProbe.selfCPUSeconds()
        let opened = await driver.open(count: connections, rate: rate, loopIndex: { $0 % threads }) { _, _ in IdleRole() }
        let clientCPU = (SystemProbe.selfCPUSeconds() - selfCPU) / opened.seconds
        let serverCPU = cpuBefore.flatMap { before in
            common.serverPid.flatMap(SystemProbe.cpuSeconds(pid:)).map { ($0 - before) / opened.seconds }
        }
        try await Task.sleep(for: .milliseconds(Int(hold * 1000)))
        let rssAfter = common.serverPid.flatMap(SystemProbe.residentBytes(pid:))
        let stats = try await driver.collectStats()
        let held = opened.opened - Int(stats.dropped)
        await driver.shutdown()

        let rate = Double(opened.opened) / opened.seconds
        var report = Report(mode: "connect", options: common, threads: threads)
        report.add("connections", connections)
        report.add("connected", opened.opened)
        report.add("failed", opened.failed)
        report.add("failures", Report.failures(opened.failures))
        report.add("held", held)
        report.add("elapsed_s", opened.seconds, places: 3)
        report.add("connects_per_s", rate, places: 0)
        report.addLatency(opened.handshake, prefix: "handshake_")
        report.add("client_cpu_cores", clientCPU, places: 2)
        if let serverCPU { report.add("server_cpu_cores", serverCPU, places: 2) }
        var memory = ""
        if let rssBefore, let rssAfter {
            report.add("server_rss_before_kb", rssBefore / 1024)
            report.add("server_rss_after_kb", rssAfter / 1024)
            let perConnection = held > 0 ? Double(rssAfter - rssBefore) / Double(held) : 0
            report.add("bytes_per_connection", perConnection, places: 0)
            memory = "; server RSS \(rssBefore / 1024) → \(rssAfter / 1024) KiB, \(Int(perConnection)) B per connection"
        }
        let failures = opened.failures.isEmpty ? "" : " \(opened.failures.sorted { $0.key < $1.key })"
        report.emit(
            human: "connect: \(opened.opened)/\(connections) in \(Int(opened.seconds * 1000)) ms = \(Report.rate(rate)) connects/s, "
                + "handshake \(Report.latencies(opened.handshake)); \(opened.failed) failed\(failures); \(held) held\(memory); "
                + "client CPU \(Int(clientCPU * 100)) %" + (serverCPU.map { ", server CPU \(Int($0 * 100)) %" } ?? ""))
    }
}

// Serves the benchmark's Socket.IO server in this process for a set time, then exits, so
// callgrind can count the server's instructions per event. valgrind cannot run `palisade
// serve`: its async main parks the main thread in libdispatch, where valgrind 3.19 crashes.
//
//   palisade-serverbench PORT SECONDS empty|stock
//
// `empty` is Palisade with benchmarks/policies-minimal and the benchmark's plugin; `stock` the
// stock policies and plugins with benchmarks/bench-config.json, as `make bench` runs them.
// The Yjs relay's handlers are registered as `palisade serve` registers them (every event is
// looked up among them), with its documents in a temporary folder removed at exit.
// One event loop, as in `make bench`. Run from the repository root. benchmarks/server-instructions.sh
// drives it with palisade-bench. Metrics go to a Prometheus registry as in `palisade serve`;
// PALISADE_BENCH_METRICS=off leaves swift-metrics' no-op in place, to count what the backend costs.
import Dispatch
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import PalisadeDocuments
import PalisadePolicy
import PalisadeServer
import PalisadeYjsRelay
import Prometheus

let arguments = CommandLine.arguments
guard arguments.count == 4, let seconds = Double(arguments[2]), ["empty", "stock"].contains(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: palisade-serverbench PORT SECONDS empty|stock\n".utf8))
    exit(2)
}
let stock = arguments[3] == "stock"
let directories = stock ? ["policies", "plugins", "benchmarks/plugins"] : ["benchmarks/policies-minimal", "benchmarks/plugins"]
let configFile = stock ? "benchmarks/bench-config.json" : nil
var environment = ProcessInfo.processInfo.environment
environment["PALISADE_JWT_SECRET"] = environment["PALISADE_JWT_SECRET"] ?? "bench-secret-0123456789abcdef0123456789abcdef"
let configuration = try ConfigurationLoader(
    commandLine: ["server.host": "127.0.0.1", "server.port": arguments[1], "server.threads": "1"],
    environment: environment, configFile: configFile
).load()
let policySettings = try PolicySection.load(configFile: configFile, environment: environment)
if environment["PALISADE_BENCH_METRICS"] != "off" {
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()))
}

let logger = {
    var logger = Logger(label: "serverbench")
    logger.logLevel = .error
    return logger
}()
let host = PolicyHost(logger: logger, config: .object(["policy": policySettings]), jwtSecret: configuration.jwtSecret)
// A hook's deadline of 5 s, not 250 ms: under callgrind Lua runs ~50 times slower, and the stock
// selftests (30-ratelimit fills its 4 096-key memo) came near 250 ms and sometimes failed the load.
var engineSettings = LuaPolicyEngine.Settings(directories: directories)
engineSettings.limits.deadline = .seconds(5)
let engine = LuaPolicyEngine(settings: engineSettings, host: host)
let group = GatewayServer.makeEventLoopGroup(configuration)
let dataDirectory = NSTemporaryDirectory() + "palisade-serverbench-\(getpid())"
/// The server, kept alive while it serves.
nonisolated(unsafe) var serving: GatewayServer?

/// Runs `body` on Swift's executors and waits for it here (this main thread never parks in libdispatch).
func wait(_ body: @escaping @Sendable () async throws -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await body() } catch {
            FileHandle.standardError.write(Data("serverbench: \(error)\n".utf8))
            exit(1)
        }
        done.signal()
    }
    done.wait()
}

wait {
    try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
    let documents = try await SQLiteDocumentStore.open(dataDirectory: dataDirectory)
    let relay = YjsRelay(
        settings: configuration.yjs, store: documents, policy: engine,
        loops: Array(group.makeIterator()), logger: logger)
    let socketServer = SocketServer(
        configuration: configuration, policy: engine, handlers: relay.handlers,
        onDisconnect: relay.disconnected, logger: logger)
    host.attach(socketServer)
    relay.attach(socketServer)
    let server = GatewayServer(
        configuration: configuration, applications: [(configuration.path, socketServer)],
        policyStatus: engine, group: group, logger: logger)
    let generation = try await engine.reload(on: group.next())
    guard generation >= 1 else { throw PolicyLoadFailure() }
    _ = try await server.start()
    serving = server
}
FileHandle.standardOutput.write(Data("listening on 127.0.0.1:\(arguments[1])\n".utf8))
Thread.sleep(forTimeInterval: seconds)
try? FileManager.default.removeItem(atPath: dataDirectory)
exit(0)

struct PolicyLoadFailure: Error {}

// A copy of Tests/PalisadeRedisTests/RedisServerProcess.swift (test targets cannot share sources without a
// support target of their own); keep the two in step.
import Foundation
import NIOCore
import NIOPosix
import PalisadeRedis

/// A real `redis-server` on a free loopback port for one test, with its own empty directory. `stop()`
/// (or `kill()`) must be called; `restart()` starts it again on the same port with the same arguments.
final class RedisServerProcess: @unchecked Sendable {
    // @unchecked: a test drives one server from one task at a time.
    static let binary = "/usr/bin/redis-server"

    let port: Int
    let directory: URL
    private let arguments: [String]
    private var pid: pid_t?

    /// `configFile` lines are written to `redis.conf` (Sentinel needs a writable config file).
    init(arguments extra: [String] = [], configFile: [String]? = nil, sentinel: Bool = false) throws {
        port = try Self.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var arguments: [String] = []
        if let configFile {
            let path = directory.appendingPathComponent("redis.conf").path
            try (configFile.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            arguments.append(path)
            if sentinel { arguments.append("--sentinel") }
        }
        arguments += ["--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory.path, "--logfile", "redis.log"]
        if !sentinel { arguments += ["--save", "", "--appendonly", "no"] }
        self.arguments = arguments + extra
        try start()
    }

    var address: RedisURL.HostPort { RedisURL.HostPort(host: "127.0.0.1", port: port) }
    var url: String { "redis://127.0.0.1:\(port)" }

    /// posix_spawn and waitpid: Foundation's `Process.waitUntilExit` can hang off the main thread on Linux.
    func start() throws {
        let argv = ([Self.binary] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Dispatch's threads block most signals and a child inherits the mask: unblock all, or SIGTERM never lands.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let status = posix_spawn(&pid, Self.binary, &actions, &attributes, argv, environ)
        guard status == 0 else { throw ServerError.exited("posix_spawn failed: \(status)") }
        self.pid = pid
        try waitUntilListening()
    }

    func restart() throws { try start() }

    /// SIGKILL: Redis vanishes without closing anything politely.
    func kill() { end(SIGKILL) }

    func stop() { end(SIGTERM) }

    private func end(_ signal: Int32) {
        guard let pid else { return }
        Foundation.kill(pid, signal)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        self.pid = nil
    }

    func stopAndRemove() {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    private var isRunning: Bool {
        guard let pid else { return false }
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Polls a TCP connect until the server accepts (a loaded machine may take seconds to start it).
    private func waitUntilListening() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if Self.canConnect(port: port) { return }
            if !isRunning {
                pid = nil
                let log = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
                throw ServerError.exited(log)
            }
            usleep(50_000)
        }
        throw ServerError.notListening(port)
    }

    enum ServerError: Error {
        case notListening(Int)
        case exited(String)
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port the kernel just handed out and nobody listens on.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw ServerError.notListening(0) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// One event-loop group per test; `body` runs with its first loop, the group shuts down after.
func withLoop<Result>(_ body: (any EventLoop) async throws -> Result) async throws -> Result {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    do {
        let result = try await body(group.next())
        try await group.shutdownGracefully()
        return result
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; generous by default for a loaded machine.
func eventually(_ seconds: Double = 30, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return try await condition()
}

extension RedisConfiguration {
    /// Test settings: quick retries, timeouts long enough for a loaded machine.
    static func test(_ url: String) throws -> RedisConfiguration {
        RedisConfiguration(
            url: try RedisURL(parsing: url), connectTimeout: .seconds(10), commandTimeout: .seconds(20),
            pingInterval: .milliseconds(200), backoff: RedisBackoff(initial: .milliseconds(50), maximum: .milliseconds(500)))
    }
}

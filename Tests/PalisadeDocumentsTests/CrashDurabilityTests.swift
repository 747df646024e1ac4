import NIOCore
import NIOPosix
import PalisadeDocuments
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `append` succeeds only once the update survives the process being killed: a real process
/// appends, says so, and is killed with SIGKILL at once; then the data directory is reopened.
///
/// The child is this test binary run again with a filter that selects `childAppendsThenWaits`
/// and an environment variable that enables it (posix_spawn, so a fresh process image).
/// fork() without exec would be simpler, but the test runner is multithreaded (parallel tests,
/// NIO's threads): a forked child may inherit a lock another thread held (Swift runtime, NIO)
/// and hang, and POSIX allows only async-signal-safe calls until exec.
@Suite("Crash durability")
struct CrashDurabilityTests {
    /// Set in the child's environment to the data directory it should write.
    static let childVariable = "PALISADE_DOCUMENTS_CRASH_CHILD"
    /// The child's end of the pipe: it writes one byte there once every append has succeeded.
    static let readyDescriptor: Int32 = 3
    static let sequentialAppends = 20
    static let burstAppends = 100

    static var childDataDirectory: String? { getenv(childVariable).map { String(cString: $0) } }

    static func update(_ n: Int) -> [UInt8] { [0xC0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(repeating: UInt8(n & 0xFF), count: n) }

    #if os(Linux)
        @Test(.timeLimit(.minutes(2)))
        func appendsThatSucceededSurviveKillMinusNine() async throws {
            try await withTemporaryDirectory { folder in
                let dataDirectory = folder + "/data"
                let child = try spawnChild(dataDirectory: dataDirectory, log: folder + "/child.log")
                let ready = waitForByte(child.readEnd, timeoutMilliseconds: 90_000)
                // SIGKILL right away: no close(), no checkpoint, no atexit.
                kill(child.pid, SIGKILL)
                var status: Int32 = 0
                waitpid(child.pid, &status, 0)
                close(child.readEnd)
                guard ready else {
                    Issue.record("the child did not report its appends: \(readLog(folder + "/child.log"))")
                    return
                }
                #expect(status & 0x7F == SIGKILL, "the child was not killed by SIGKILL (status \(status))")
                // The commits are still in the WAL file only: reopening must replay them.
                #expect(fileExists(dataDirectory + "/documents.sqlite3-wal"))

                let loop = MultiThreadedEventLoopGroup.singleton.next()
                let store = try SQLiteDocumentStore(dataDirectory: dataDirectory)
                let count = Self.sequentialAppends + Self.burstAppends
                let document = try #require(try await store.load("crash", on: loop).get())
                #expect(document.updates.map(\.sequence) == (1...count).map(Int64.init))
                #expect(document.updates.map(\.bytes) == (0..<count).map(Self.update))
                #expect(try await store.append("crash", update: [1], on: loop).get() == Int64(count + 1))
                await store.close()
            }
        }
    #endif

    /// The child's half; skipped unless run by `appendsThatSucceededSurviveKillMinusNine`.
    @Test(.enabled(if: childDataDirectory != nil, "runs only as the child process of the crash test"))
    func childAppendsThenWaits() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let store = try SQLiteDocumentStore(dataDirectory: try #require(Self.childDataDirectory))
        for n in 0..<Self.sequentialAppends {
            _ = try await store.append("crash", update: Self.update(n), on: loop).get()
        }
        let burst = (Self.sequentialAppends..<Self.sequentialAppends + Self.burstAppends).map {
            store.append("crash", update: Self.update($0), on: loop)
        }
        _ = try await EventLoopFuture.whenAllSucceed(burst, on: loop).get()
        var byte: UInt8 = 1
        _ = write(Self.readyDescriptor, &byte, 1)
        while true { pause() }
    }

    #if os(Linux)
        private struct Child {
            let pid: pid_t
            let readEnd: Int32
        }

        /// Runs this test binary again, selecting only `childAppendsThenWaits`, with the pipe's write
        /// end as descriptor 3 and stdout/stderr in `log`.
        private func spawnChild(dataDirectory: String, log: String) throws -> Child {
            var executable = [CChar](repeating: 0, count: 4096)
            let length = readlink("/proc/self/exe", &executable, executable.count - 1)
            guard length > 0 else { throw TestFailure("cannot read /proc/self/exe: errno \(errno)") }
            let path = String(decoding: executable.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)

            var pipeEnds: [Int32] = [0, 0]
            guard pipe(&pipeEnds) == 0 else { throw TestFailure("pipe failed: errno \(errno)") }
            // Close-on-exec, so no other process the test runner starts keeps the pipe open.
            for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }

            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            // dup2 clears close-on-exec on the copy (glibc does so even when the numbers match).
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], Self.readyDescriptor)
            posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)

            let arguments = [
                path, "--testing-library", "swift-testing",
                "--filter", "PalisadeDocumentsTests.CrashDurabilityTests/childAppendsThenWaits",
            ]
            var environment: [String] = []
            var entry = environ
            while let variable = entry.pointee {
                environment.append(String(cString: variable))
                entry += 1
            }
            environment.append("\(Self.childVariable)=\(dataDirectory)")

            let argv = arguments.map { strdup($0) } + [nil]
            let envp = environment.map { strdup($0) } + [nil]
            defer {
                for pointer in argv + envp { free(pointer) }
            }
            var pid: pid_t = 0
            let status = posix_spawn(&pid, path, &actions, nil, argv, envp)
            close(pipeEnds[1])
            guard status == 0 else {
                close(pipeEnds[0])
                throw TestFailure("posix_spawn failed: \(status)")
            }
            return Child(pid: pid, readEnd: pipeEnds[0])
        }

        /// True when one byte arrived on `descriptor` in time; false on timeout or end of file.
        private func waitForByte(_ descriptor: Int32, timeoutMilliseconds: Int32) -> Bool {
            var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&request, 1, timeoutMilliseconds) == 1 else { return false }
            var byte: UInt8 = 0
            return read(descriptor, &byte, 1) == 1
        }

        private func readLog(_ path: String) -> String {
            guard let file = fopen(path, "r") else { return "(no log)" }
            defer { fclose(file) }
            var text = ""
            var buffer = [CChar](repeating: 0, count: 4096)
            while fgets(&buffer, Int32(buffer.count), file) != nil {
                text += buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            }
            return text
        }
    #endif
}

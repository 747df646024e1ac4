import Dispatch
import NIOConcurrencyHelpers
import PalisadeGateway
import PalisadeJSON

#if canImport(Glibc)
    import Glibc
#endif

/// `server.audit`: decisions as JSON lines, `{"ts":…,"audit":kind,…fields}`, on standard output
/// or appended to a file. Lines are written on a queue of their own, never on an event loop; at
/// most `maxPending` wait, past that a line is dropped and counted (`dropped`), so a flood of
/// refusals cannot grow memory without bound.
public final class AuditStream: AuditSink {
    public static let maxPending = 10_000
    private let descriptor: Int32
    private let closesDescriptor: Bool
    private let queue = DispatchQueue(label: "palisade.audit")
    private let counts = NIOLockedValueBox((pending: 0, dropped: 0, written: 0))

    /// `destination` is `stdout` or a file path (created if absent, appended to).
    public init(destination: String) throws(ConfigurationError) {
        if destination == "stdout" {
            descriptor = STDOUT_FILENO
            closesDescriptor = false
            return
        }
        let opened = open(destination, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard opened >= 0 else {
            throw ConfigurationError(
                code: .invalidValue, key: "server.audit", message: "server.audit: cannot open \(destination) (errno \(errno))")
        }
        descriptor = opened
        closesDescriptor = true
    }

    deinit {
        if closesDescriptor { close(descriptor) }
    }

    public func record(_ kind: String, _ fields: [JSONMember]) {
        let line =
            JSONWriter.string(.object([JSONMember("ts", .string(UnixTime.timestamp())), JSONMember("audit", .string(kind))] + fields))
            + "\n"
        let accepted = counts.withLockedValue { counts in
            guard counts.pending < Self.maxPending else {
                counts.dropped += 1
                return false
            }
            counts.pending += 1
            return true
        }
        guard accepted else { return }
        queue.async { [descriptor, counts] in
            let bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { break }
                offset += written
            }
            counts.withLockedValue {
                $0.pending -= 1
                $0.written += 1
            }
        }
    }

    /// Lines written and dropped since start.
    public var totals: (written: Int, dropped: Int) { counts.withLockedValue { ($0.written, $0.dropped) } }

    /// Waits until every accepted line is written (for tests and shutdown).
    public func flush() { queue.sync {} }
}

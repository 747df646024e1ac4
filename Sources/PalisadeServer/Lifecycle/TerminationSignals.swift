import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// The write end of the pipe the signal handler writes to: a plain global with a constant
/// initial value, so the handler runs no lazy initialisation.
private nonisolated(unsafe) var terminationPipeWriteEnd: Int32 = -1

/// Catches SIGTERM and SIGINT from creation on; `wait()` returns once one has arrived
/// (at once if one already did).
///
/// The handler is installed with `sigaction` before `init` returns, and only writes a byte to
/// a pipe, which a thread of its own reads. A dispatch signal source, used before, is armed
/// asynchronously after `resume()`; with the signal set to be ignored meanwhile, a SIGTERM in
/// that window was lost and the server ran on until it was killed (seen under load as the
/// flaky interop test `test_sigterm_with_no_clients_exits_at_once`). One instance per process:
/// a second one takes the signals over.
final class TerminationSignals: @unchecked Sendable {
    // Safe: `fired` and `waiter` are only touched under `lock`.
    private let lock = NIOLock()
    private var fired = false
    private var waiter: CheckedContinuation<Void, Never>?

    init() {
        var ends: [Int32] = [-1, -1]
        precondition(pipe(&ends) == 0, "cannot make the signal pipe: errno \(errno)")
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let readEnd = ends[0]
        // Non-blocking: a burst of signals that fills the pipe must not block the handler.
        _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
        terminationPipeWriteEnd = ends[1]
        for number in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in
                let saved = errno  // the interrupted code may be about to read it
                var byte: UInt8 = 1
                _ = write(terminationPipeWriteEnd, &byte, 1)
                errno = saved
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
        let thread = Thread { [weak self] in
            var byte: UInt8 = 0
            while read(readEnd, &byte, 1) < 0, errno == EINTR {}
            self?.fire()
        }
        thread.name = "palisade-signals"
        thread.start()
    }

    private func fire() {
        let waiting = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            fired = true
            defer { waiter = nil }
            return waiter
        }
        waiting?.resume()
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = lock.withLock { () -> Bool in
                if fired { return true }
                waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}

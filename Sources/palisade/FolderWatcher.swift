#if canImport(Glibc)
    import Glibc
#endif

/// Tells when a file in the watched folders may have changed: inotify where the kernel
/// has it (a blocking read on a thread of its own, never on an event loop), otherwise
/// nothing, and the caller's periodic comparison is the only signal.
final class FolderWatcher: @unchecked Sendable {
    // Safe: `descriptor` is written once in init and read by the watcher thread and `stop`;
    // closing it is what ends the thread's blocking read.
    private let descriptor: Int32
    private var thread: pthread_t?

    /// nil when inotify is unavailable (the caller keeps polling).
    init?(folders: [String], onChange: @escaping @Sendable () -> Void) {
        descriptor = inotify_init1(Int32(IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE)
        var watched = 0
        for folder in folders where inotify_add_watch(descriptor, folder, mask) >= 0 { watched += 1 }
        guard watched > 0 else {
            close(descriptor)
            return nil
        }
        let box = Unmanaged.passRetained(Reader(descriptor: descriptor, onChange: onChange))
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { argument in
                let reader = Unmanaged<Reader>.fromOpaque(argument!).takeRetainedValue()
                reader.run()
                return nil
            }, box.toOpaque())
        guard created == 0 else {
            box.release()
            close(descriptor)
            return nil
        }
        self.thread = thread
    }

    deinit {
        close(descriptor)
    }

    /// Reads inotify events until the descriptor is closed.
    private final class Reader {
        let descriptor: Int32
        let onChange: @Sendable () -> Void

        init(descriptor: Int32, onChange: @escaping @Sendable () -> Void) {
            self.descriptor = descriptor
            self.onChange = onChange
        }

        func run() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count <= 0 { return }
                onChange()
            }
        }
    }
}

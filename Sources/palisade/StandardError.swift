import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-line writes to standard error, for error messages and JSON log lines.
enum StandardError {
    /// One text at a time, so lines from concurrent loggers never interleave.
    private static let lock = Mutex(())

    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            lock.withLock { _ in
                var offset = 0
                while offset < bytes.count {
                    let written = writeToFileDescriptor(STDERR_FILENO, base + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return  // stderr is gone: nowhere left to report it
                    }
                    offset += written
                }
            }
        }
    }
}

private func writeToFileDescriptor(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(descriptor, bytes, count)
    #elseif canImport(Musl)
        Musl.write(descriptor, bytes, count)
    #else
        Darwin.write(descriptor, bytes, count)
    #endif
}

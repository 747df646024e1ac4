import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Random identifiers: 15 random bytes as URL-safe base64, 20 characters of `[A-Za-z0-9_-]`
/// (the python client puts the sid into URLs without percent-encoding it).
///
/// The bytes come from the kernel's CSPRNG (`getentropy`), read a pool at a time per thread:
/// `SystemRandomNumberGenerator` makes one system call per 8 bytes, and a connect needs two
/// ids (the session's and the socket's), which was ten system calls per connect.
enum RandomID {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let byteCount = 15

    static func make() -> String {
        let pool = threadPool.currentValue(orMake: RandomPool.init)
        return String(unsafeUninitializedCapacity: byteCount / 3 * 4) { characters in
            pool.take(byteCount) { bytes in
                var out = 0
                for group in stride(from: 0, to: byteCount, by: 3) {
                    let chunk = UInt32(bytes[group]) << 16 | UInt32(bytes[group + 1]) << 8 | UInt32(bytes[group + 2])
                    for shift in stride(from: 18, through: 0, by: -6) {
                        characters[out] = alphabet[Int(chunk >> UInt32(shift) & 63)]
                        out += 1
                    }
                }
            }
            return byteCount / 3 * 4
        }
    }

    private static let threadPool = ThreadSpecificVariable<RandomPool>()
}

/// Random bytes read ahead from the kernel, for one thread. Each byte is handed out once
/// and wiped when taken.
private final class RandomPool: @unchecked Sendable {
    // Unchecked: a thread-specific variable's value is only used on its own thread.
    private static let capacity = 240  // 16 ids per refill; getentropy gives at most 256 bytes a call
    private let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 1)
    private var next = capacity

    deinit {
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
        bytes.deallocate()
    }

    /// Calls `body` with `count` fresh random bytes (`count` ≤ capacity).
    func take(_ count: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        precondition(count <= Self.capacity)
        if next + count > Self.capacity { refill() }
        let slice = UnsafeMutableRawBufferPointer(rebasing: bytes[next..<next + count])
        body(UnsafeRawBufferPointer(slice))
        slice.initializeMemory(as: UInt8.self, repeating: 0)
        next += count
    }

    /// Fills the pool from `getentropy`; falls back to `SystemRandomNumberGenerator` (which
    /// traps if the system has no randomness) should the call fail.
    private func refill() {
        if getentropy(bytes.baseAddress!, Self.capacity) != 0 {
            var generator = SystemRandomNumberGenerator()
            for index in 0..<Self.capacity { bytes[index] = generator.next() }
        }
        next = 0
    }
}

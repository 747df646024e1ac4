/// The one error type of this module: a code a caller can branch on and a message for the log.
///
/// The Lua host API turns it into `nil, message`, as a Redis error reply would be.
public struct StateError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// A TTL, window, bucket or limit out of range (not finite, not positive, too large).
        case invalidArgument
        /// `incr` on a key whose value is not a decimal 64-bit integer (Redis: "not an integer").
        case notAnInteger
        /// `incr` would leave the 64-bit range.
        case overflow
        /// One key and value larger than `MemoryStateStore.Configuration.maxEntryBytes`.
        case entryTooLarge
        /// The store is at its bound and holds no key with a TTL that could be evicted.
        case full
        /// A hash operation on a string key, or a string operation on a hash key (Redis `WRONGTYPE`).
        case wrongType
        /// An answer larger than the caller's bound (`hgetall`'s `maxFields`).
        case tooLarge
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

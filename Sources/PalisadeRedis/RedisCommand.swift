import CHiredis
import NIOCore

/// A command as its arguments, binary-safe: `RedisCommand("SET", key, bytes, "EX", 60)`.
public struct RedisCommand: Sendable, Equatable, CustomStringConvertible {
    public var arguments: [ByteBuffer]

    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments: arguments)
    }

    public init(_ name: String, arguments: [any RedisArgument]) {
        self.arguments = [ByteBuffer(string: name)] + arguments.map(\.redisArgument)
    }

    public init(arguments: [ByteBuffer]) {
        precondition(!arguments.isEmpty, "a Redis command has at least its name")
        self.arguments = arguments
    }

    /// The command's name, upper-cased, for logs. Arguments are left out: they may hold passwords.
    public var description: String { String(buffer: arguments[0]).uppercased() }
}

/// What can be a command argument: strings as UTF-8, integers and doubles as decimal text, bytes as they are.
public protocol RedisArgument: Sendable {
    var redisArgument: ByteBuffer { get }
}

extension String: RedisArgument {
    public var redisArgument: ByteBuffer { ByteBuffer(string: self) }
}

extension Substring: RedisArgument {
    public var redisArgument: ByteBuffer { ByteBuffer(substring: self) }
}

extension ByteBuffer: RedisArgument {
    public var redisArgument: ByteBuffer { self }
}

extension Array: RedisArgument where Element == UInt8 {
    public var redisArgument: ByteBuffer { ByteBuffer(bytes: self) }
}

extension Int: RedisArgument {
    public var redisArgument: ByteBuffer { ByteBuffer(string: String(self)) }
}

extension Int64: RedisArgument {
    public var redisArgument: ByteBuffer { ByteBuffer(string: String(self)) }
}

extension Double: RedisArgument {
    public var redisArgument: ByteBuffer { ByteBuffer(string: String(self)) }
}

extension RedisCommand {
    /// Appends the command in RESP (`*N\r\n$len\r\narg\r\n…`), formatted by hiredis's `redisFormatCommandArgv`.
    public func encode(into buffer: inout ByteBuffer) {
        let count = arguments.count
        // One contiguous copy of the arguments, so hiredis gets stable pointers to all of them at once.
        var joined: [UInt8] = []
        joined.reserveCapacity(arguments.reduce(0) { $0 + $1.readableBytes })
        var lengths: [Int] = []
        lengths.reserveCapacity(count)
        for argument in arguments {
            argument.withUnsafeReadableBytes { joined.append(contentsOf: $0) }
            lengths.append(argument.readableBytes)
        }
        var target: UnsafeMutablePointer<CChar>?
        let written: Int32 = joined.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            var offset = 0
            var pointers: [UnsafePointer<CChar>?] = lengths.map { length in
                defer { offset += length }
                return (base + offset).assumingMemoryBound(to: CChar.self)
            }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    redisFormatCommandArgv(&target, Int32(count), argv.baseAddress, argvlen.baseAddress)
                }
            }
        }
        guard written >= 0, let target else { fatalError("redisFormatCommandArgv could not allocate") }
        defer { redisFreeCommand(target) }
        buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(written)))
    }
}

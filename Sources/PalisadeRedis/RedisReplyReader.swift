import CHiredis
import NIOCore

/// hiredis's `redisReader` with reply functions that build Swift values, so array lengths can be
/// bounded before anything is allocated. Feed bytes as they arrive, then take replies until nil.
///
/// Bounds: nesting is hiredis's own (arrays deeper than 7 are a protocol error); an array longer
/// than `maxArrayElements` and a reply that would buffer more than `maxReplyBytes` are errors too,
/// since a lying or broken server could otherwise make us allocate without limit.
/// Not thread-safe: a reader belongs to one channel handler on one loop.
final class RedisReplyReader {
    struct Limits: Sendable {
        var maxReplyBytes: Int
        var maxArrayElements: Int
    }

    private let reader: UnsafeMutablePointer<redisReader>
    private let functions: UnsafeMutablePointer<redisReplyObjectFunctions>
    private let context: UnsafeMutablePointer<Limits>
    let limits: Limits

    init(limits: Limits) {
        self.limits = limits
        functions = .allocate(capacity: 1)
        functions.initialize(
            to: redisReplyObjectFunctions(
                createString: replyCreateString,
                createArray: replyCreateArray,
                createInteger: replyCreateInteger,
                createNil: replyCreateNil,
                freeObject: replyFree
            ))
        context = .allocate(capacity: 1)
        context.initialize(to: limits)
        guard let created = redisReaderCreateWithFunctions(functions) else { fatalError("redisReaderCreateWithFunctions: out of memory") }
        reader = created
        reader.pointee.privdata = UnsafeMutableRawPointer(context)
    }

    deinit {
        redisReaderFree(reader)
        functions.deallocate()
        context.deallocate()
    }

    func feed(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            // Fails only when hiredis cannot allocate; the error then surfaces from `next()`.
            _ = redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
        }
    }

    /// The next complete reply, or nil when more bytes are needed.
    func next() throws(RedisError) -> RedisValue? {
        var object: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &object) == REDIS_OK else {
            let message = withUnsafeBytes(of: reader.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw RedisError(.protocolError, message.isEmpty ? "unreadable reply" : message)
        }
        guard let object else {
            let buffered = reader.pointee.len - reader.pointee.pos
            if buffered > limits.maxReplyBytes {
                throw RedisError(.protocolError, "a reply exceeds \(limits.maxReplyBytes) bytes")
            }
            return nil
        }
        return Unmanaged<ReplyNode>.fromOpaque(object).takeRetainedValue().value()
    }
}

@available(*, unavailable)
extension RedisReplyReader: Sendable {}

/// A reply under construction. hiredis builds depth-first and links children through `task.parent.obj`:
/// a root node is handed to hiredis retained (released by `next()` or `freeObject`, which hiredis calls
/// on the root only), a child is owned by its parent's `children` and handed over unretained.
final class ReplyNode {
    enum Leaf {
        case simpleString(String)
        case error(String)
        case integer(Int64)
        case bulkString(ByteBuffer)
        case null
        case array
    }

    let leaf: Leaf
    var children: [ReplyNode?] = []

    init(_ leaf: Leaf) { self.leaf = leaf }

    func value() -> RedisValue {
        switch leaf {
        case .simpleString(let text): .simpleString(text)
        case .error(let text): .error(text)
        case .integer(let value): .integer(value)
        case .bulkString(let bytes): .bulkString(bytes)
        case .null: .null
        case .array: .array(children.map { $0?.value() ?? .null })
        }
    }
}

@available(*, unavailable)
extension ReplyNode: Sendable {}

/// Links `node` into its parent, or retains it as the root; returns what hiredis should hold.
private func attach(_ node: ReplyNode, _ task: UnsafePointer<redisReadTask>?) -> UnsafeMutableRawPointer? {
    guard let task, let parent = task.pointee.parent, let parentObject = parent.pointee.obj else {
        return Unmanaged.passRetained(node).toOpaque()
    }
    let parentNode = Unmanaged<ReplyNode>.fromOpaque(parentObject).takeUnretainedValue()
    let index = Int(task.pointee.idx)
    guard index >= 0, index < parentNode.children.count else { return nil }
    parentNode.children[index] = node
    return Unmanaged.passUnretained(node).toOpaque()
}

private func limits(_ task: UnsafePointer<redisReadTask>?) -> RedisReplyReader.Limits? {
    task?.pointee.privdata?.assumingMemoryBound(to: RedisReplyReader.Limits.self).pointee
}

private let replyCreateString:
    @convention(c) (UnsafePointer<redisReadTask>?, UnsafeMutablePointer<CChar>?, Int)
        -> UnsafeMutableRawPointer? = { task, bytes, length in
            let raw = UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : length)
            let leaf: ReplyNode.Leaf
            switch task?.pointee.type {
            case REDIS_REPLY_STATUS: leaf = .simpleString(String(decoding: raw, as: UTF8.self))
            case REDIS_REPLY_ERROR: leaf = .error(String(decoding: raw, as: UTF8.self))
            default: leaf = .bulkString(ByteBuffer(bytes: raw))
            }
            return attach(ReplyNode(leaf), task)
        }

private let replyCreateArray: @convention(c) (UnsafePointer<redisReadTask>?, Int32) -> UnsafeMutableRawPointer? = { task, count in
    // Returning nil makes hiredis stop with an out-of-memory error, which `next()` reports.
    guard count >= 0, count <= limits(task)?.maxArrayElements ?? Int(Int32.max) else { return nil }
    let node = ReplyNode(.array)
    node.children = Array(repeating: nil, count: Int(count))
    return attach(node, task)
}

private let replyCreateInteger: @convention(c) (UnsafePointer<redisReadTask>?, Int64) -> UnsafeMutableRawPointer? = { task, value in
    attach(ReplyNode(.integer(value)), task)
}

private let replyCreateNil: @convention(c) (UnsafePointer<redisReadTask>?) -> UnsafeMutableRawPointer? = { task in
    attach(ReplyNode(.null), task)
}

private let replyFree: @convention(c) (UnsafeMutableRawPointer?) -> Void = { object in
    guard let object else { return }
    Unmanaged<ReplyNode>.fromOpaque(object).release()
}

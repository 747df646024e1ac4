import NIOCore
import Testing

@testable import PalisadeRedis

@Suite("RESP encoding and reading (hiredis)")
struct RedisCodecTests {
    static let limits = RedisReplyReader.Limits(maxReplyBytes: 1 << 20, maxArrayElements: 1_000)

    private func encoded(_ command: RedisCommand) -> String {
        var buffer = ByteBuffer()
        command.encode(into: &buffer)
        return String(buffer: buffer)
    }

    @Test func commandsAreFormattedByHiredis() {
        #expect(encoded(RedisCommand("SET", "k", "v", "EX", 60)) == "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$2\r\n60\r\n")
        #expect(encoded(RedisCommand("PING")) == "*1\r\n$4\r\nPING\r\n")
        #expect(encoded(RedisCommand("SET", "k", "")) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n")
    }

    @Test func binaryArgumentsAreSentAsTheyAre() {
        let bytes: [UInt8] = [0, 13, 10, 255, 36, 42]
        var buffer = ByteBuffer()
        RedisCommand("SET", "k", bytes).encode(into: &buffer)
        let expected = Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\n".utf8) + bytes + Array("\r\n".utf8)
        #expect(buffer.readableBytesView.elementsEqual(expected))
    }

    /// Feeds `wire` to a fresh reader in pieces of `chunk` bytes and collects every reply.
    private func read(_ wire: [UInt8], chunk: Int, limits: RedisReplyReader.Limits = limits) throws(RedisError) -> [RedisValue] {
        let reader = RedisReplyReader(limits: limits)
        var replies: [RedisValue] = []
        var offset = 0
        while offset < wire.count {
            let end = min(wire.count, offset + chunk)
            reader.feed(ByteBuffer(bytes: wire[offset..<end]))
            offset = end
            while let reply = try reader.next() { replies.append(reply) }
        }
        return replies
    }

    static let wire =
        Array("+OK\r\n-ERR bad thing\r\n:-42\r\n$5\r\nhe\r\no\r\n$-1\r\n*-1\r\n*0\r\n$0\r\n\r\n".utf8)
        + Array("*3\r\n:1\r\n*2\r\n$1\r\na\r\n*1\r\n-E inner\r\n$-1\r\n".utf8)
        + Array("$4\r\n".utf8) + [0, 255, 13, 10] + Array("\r\n".utf8)

    static let expected: [RedisValue] = [
        .simpleString("OK"), .error("ERR bad thing"), .integer(-42), .bulkString(ByteBuffer(string: "he\r\no")), .null, .null,
        .array([]), .bulkString(ByteBuffer()),
        .array([.integer(1), .array([.bulkString(ByteBuffer(string: "a")), .array([.error("E inner")])]), .null]),
        .bulkString(ByteBuffer(bytes: [0, 255, 13, 10])),
    ]

    @Test(arguments: [1, 2, 3, 7, 1_000])
    func everyReplyKindIsReadWhateverTheChunking(_ chunk: Int) throws {
        #expect(try read(Self.wire, chunk: chunk) == Self.expected)
    }

    @Test func nestingDeeperThanHiredisAllowsIsAnError() throws {
        let deep = Array(String(repeating: "*1\r\n", count: 9).utf8) + Array(":1\r\n".utf8)
        #expect(throws: RedisError.self) { try read(deep, chunk: 100) }
        let fine = Array(String(repeating: "*1\r\n", count: 7).utf8) + Array(":1\r\n".utf8)
        #expect(try read(fine, chunk: 100).count == 1)
    }

    @Test func anArrayLongerThanTheLimitIsRefusedBeforeItIsAllocated() {
        #expect(throws: RedisError.self) { try read(Array("*2147483647\r\n".utf8), chunk: 100) }
        let limits = RedisReplyReader.Limits(maxReplyBytes: 1 << 20, maxArrayElements: 2)
        #expect(throws: RedisError.self) { try read(Array("*3\r\n:1\r\n:2\r\n:3\r\n".utf8), chunk: 100, limits: limits) }
        #expect(throws: RedisError.self) { try read(Array("*1\r\n*3\r\n:1\r\n:2\r\n:3\r\n".utf8), chunk: 100, limits: limits) }
    }

    @Test func aReplyLargerThanTheLimitIsRefusedWhileItArrives() {
        let limits = RedisReplyReader.Limits(maxReplyBytes: 64, maxArrayElements: 10)
        let wire = Array("$1000\r\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 200)
        #expect(throws: RedisError.self) { try read(wire, chunk: 50, limits: limits) }
    }

    @Test func garbageIsAProtocolError() {
        do {
            _ = try read(Array("?what\r\n".utf8), chunk: 100)
            Issue.record("garbage was accepted")
        } catch {
            #expect(error.code == .protocolError)
        }
    }
}

import NIOCore
import NIOHTTP1
import Testing

@testable import PalisadeServer

/// RFC 6455's rules for the upgrade request's key and `Connection` header, and for the close
/// frames a client sends.
@Suite struct WebSocketHandshakeRulesTests {
    @Test(arguments: ["dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAA==", "/////////////////////w=="])
    func keysOfSixteenBytesAreAccepted(key: String) {
        #expect(WebSocketUpgrader.isValidKey(key))
    }

    @Test(arguments: [
        "", "dGhlIHNhbXBsZQ==", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBsZSBub2*jZQ==",
        "dGhlIHNhbXBsZSBub25jZQ=a", " dGhlIHNhbXBsZSBub25jZQ=", String(repeating: "a", count: 1024),
    ])
    func otherKeysAreRefused(key: String) {
        #expect(!WebSocketUpgrader.isValidKey(key))
    }

    @Test func connectionTokensAreMatchedInAnyCaseAndList() {
        let listed = HTTPHeaders([("Connection", "keep-alive, Upgrade"), ("Connection", "x")])
        #expect(HTTPTokenList.header("connection", of: listed, lists: "upgrade"))
        #expect(HTTPTokenList.header("connection", of: HTTPHeaders([("connection", " UPGRADE\t")]), lists: "upgrade"))
        #expect(!HTTPTokenList.header("connection", of: HTTPHeaders([("Connection", "keep-alive")]), lists: "upgrade"))
        #expect(!HTTPTokenList.header("connection", of: HTTPHeaders([("Connection", "upgrades")]), lists: "upgrade"))
        #expect(!HTTPTokenList.header("connection", of: HTTPHeaders(), lists: "upgrade"))
    }

    private func problem(_ bytes: [UInt8]) -> UInt16? {
        WebSocketCloseFrame.problem(in: ByteBuffer(bytes: bytes)).map { code in
            var buffer = ByteBuffer()
            buffer.write(webSocketErrorCode: code)
            return buffer.readInteger(as: UInt16.self)!
        }
    }

    @Test func closeFramesPeersMaySendPass() {
        #expect(problem([]) == nil)
        #expect(problem([0x03, 0xE8]) == nil)
        #expect(problem([0x03, 0xE8] + Array("bye é".utf8)) == nil)
        #expect(problem([0x0F, 0xA0]) == nil)  // 4000
        #expect(problem([0x0B, 0xB8]) == nil)  // 3000
    }

    @Test func otherCloseFramesGet1002Or1007() {
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535] {
            #expect(problem([UInt8(code >> 8), UInt8(code & 0xFF)]) == 1002, "code \(code)")
        }
        #expect(problem([0x03]) == 1002)
        #expect(problem([0x03, 0xE8, 0xFF, 0xFE]) == 1007)
    }
}

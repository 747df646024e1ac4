import CLua
import COpenSSL
import CPalisadeShims
import NIOCore
import PalisadeProtocol

/// `px.sha256(s)`, `px.base64.encode/decode(s)` and `px.uuid()`: what a plugin needs to key
/// shared state by a digest (Open WebUI's `encryption:{sha256(channel)}`) and to check opaque
/// binary it only relays. Strings are taken as their bytes.
extension PalisadeModule {
    static func installCrypto(_ vm: LuaVM) {
        // px.sha256(s) → lowercase hex of the digest of s's bytes
        vm.setFunction("sha256", inTableAt: -1) { state in
            guard let bytes = rawBytes(state, at: 1) else { return LuaStack.raise(state, "px.sha256(s) needs a string") }
            var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            guard EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, EVP_sha256(), nil) == 1 else {
                return LuaStack.raise(state, "px.sha256: the digest failed")
            }
            LuaBridge.pushString(RandomToken.hexString(digest.prefix(Int(length))), state)
            return 1
        }
        // px.uuid() → a random (version 4) UUID in its 36-character form
        vm.setFunction("uuid", inTableAt: -1) { state in
            LuaBridge.pushString(RandomToken.uuid(), state)
            return 1
        }
        px_newtable(vm.L)
        // px.base64.encode(s) → standard padded base64 of s's bytes
        vm.setFunction("encode", inTableAt: -1) { state in
            guard let bytes = rawBytes(state, at: 1) else { return LuaStack.raise(state, "px.base64.encode(s) needs a string") }
            var output = ByteBuffer()
            Base64.encode(ByteBuffer(bytes: bytes), into: &output)
            LuaBridge.pushString(String(buffer: output), state)
            return 1
        }
        // px.base64.decode(s) → the bytes as a string, or nil for anything but strict padded base64
        vm.setFunction("decode", inTableAt: -1) { state in
            guard let bytes = rawBytes(state, at: 1) else { return LuaStack.raise(state, "px.base64.decode(s) needs a string") }
            guard let decoded = Base64.decode(bytes) else {
                lua_pushnil(state)
                return 1
            }
            decoded.withUnsafeReadableBytes { raw in
                _ = lua_pushlstring(state, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
            }
            return 1
        }
        lua_setfield(vm.L, -2, "base64")
    }

    /// The bytes of the string at `index` (Lua's own memory: valid while it stays on the stack).
    private static func rawBytes(_ state: OpaquePointer, at index: Int32) -> UnsafeRawBufferPointer? {
        var length = 0
        guard lua_type(state, index) == LUA_TSTRING, let pointer = lua_tolstring(state, index, &length) else { return nil }
        return UnsafeRawBufferPointer(start: pointer, count: length)
    }
}

/// Random tokens for locks and ids handed to scripts.
enum RandomToken {
    static func hex(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return hexString((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func hexString(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// RFC 9562 version 4: 122 random bits, the version nibble 4, the variant bits 10.
    static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = hexString(bytes)
        let parts = [(0, 8), (8, 12), (12, 16), (16, 20), (20, 32)].map { start, end in
            hex.utf8.dropFirst(start).prefix(end - start)
        }
        return parts.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "-")
    }
}

// palisade-yjs-tool: one Yjs operation per run, for the interop tests (Tests/interop/test_yjs_vectors.py).
//
// stdin, one JSON object:
//   {"op": "merge" | "compact", "updates": [hex, …]}
//   {"op": "diff", "update": hex, "state_vector": hex}
//   {"op": "state_vector", "update": hex}
// stdout: {"ok": true, "result": hex} or {"ok": false, "error": "…"}, exit 0.
// Exit 2 when stdin is not such an object (a broken test, not a refused update).
import Foundation  // A test tool: JSONSerialization keeps the parsing short.
import PalisadeYjs

func unreadable(_ why: String) -> Never {
    FileHandle.standardError.write(Data("palisade-yjs-tool: \(why)\n".utf8))
    exit(2)
}

func reply(_ object: [String: Any]) -> Never {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    FileHandle.standardOutput.write(data + Data("\n".utf8))
    exit(0)
}

struct InvalidHex: Error {}

func bytes(fromHex text: String) throws -> [UInt8] {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { throw InvalidHex() }
    func nibble(_ digit: UInt8) throws -> UInt8 {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: throw InvalidHex()
        }
    }
    var result: [UInt8] = []
    result.reserveCapacity(digits.count / 2)
    for index in stride(from: 0, to: digits.count, by: 2) {
        result.append(try nibble(digits[index]) << 4 | nibble(digits[index + 1]))
    }
    return result
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

let input = FileHandle.standardInput.readDataToEndOfFile()
guard let request = (try? JSONSerialization.jsonObject(with: input)) as? [String: Any] else {
    unreadable("stdin is not a JSON object")
}
guard let op = request["op"] as? String else { unreadable("missing \"op\"") }

func field(_ name: String) -> String {
    guard let value = request[name] as? String else { unreadable("missing string field \"\(name)\"") }
    return value
}

do {
    let result: [UInt8]
    switch op {
    case "merge", "compact":
        guard let list = request["updates"] as? [String] else { unreadable("missing \"updates\" list of hex") }
        let updates = try list.map(bytes(fromHex:))
        result = op == "merge" ? try YjsUpdates.merge(updates) : try YjsUpdates.compact(updates)
    case "diff":
        result = try YjsUpdates.diff(bytes(fromHex: field("update")), against: bytes(fromHex: field("state_vector")))
    case "state_vector":
        result = try YjsUpdates.encodedStateVector(of: bytes(fromHex: field("update")))
    default:
        unreadable("unknown op \(op)")
    }
    reply(["ok": true, "result": hex(result)])
} catch is InvalidHex {
    reply(["ok": false, "error": "invalid hex"])
} catch {
    reply(["ok": false, "error": "\(error)"])
}

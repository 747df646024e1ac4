import Foundation  // Tests only: reading the fixture file.

/// One sequence of incremental pycrdt updates (`Fixtures/make_fixtures.py`, sequences.json) with the
/// state vector of the document they build.
struct YjsSequenceFixture: Sendable, CustomStringConvertible {
    let name: String
    let updates: [[UInt8]]
    let stateVector: [UInt64: UInt64]

    var description: String { name }

    static let all: [YjsSequenceFixture] = {
        let path = YjsFixture.directory + "/sequences.json"
        let data = try! Data(contentsOf: URL(fileURLWithPath: path))
        let list = try! JSONSerialization.jsonObject(with: data) as! [[String: Any]]
        return list.map { entry in
            var vector: [UInt64: UInt64] = [:]
            for (client, clock) in entry["state_vector"] as! [String: NSNumber] {
                vector[UInt64(client)!] = clock.uint64Value
            }
            return YjsSequenceFixture(
                name: entry["name"] as! String, updates: (entry["updates"] as! [String]).map(bytes(fromHex:)),
                stateVector: vector)
        }
    }()
}

func bytes(fromHex text: String) -> [UInt8] {
    let digits = Array(text.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// A small deterministic generator (SplitMix64), so random tests replay exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

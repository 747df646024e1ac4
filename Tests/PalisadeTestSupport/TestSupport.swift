import NIOCore

/// Shared by the test targets (a library no product links).
/// SplitMix64: a tiny seeded generator, so every fuzz loop replays the same inputs.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Up to `maxCount` bytes, mostly from `alphabet` (so the input gets past the first
    /// checks) with an occasional arbitrary byte.
    public mutating func bytes(maxCount: Int, alphabet: [UInt8]) -> [UInt8] {
        let count = Int.random(in: 0...maxCount, using: &self)
        return (0..<count).map { _ in
            Int.random(in: 0..<10, using: &self) == 0 ? UInt8.random(in: 0...255, using: &self) : alphabet.randomElement(using: &self)!
        }
    }

    /// `input` with a few random edits: replace, insert, delete or duplicate a byte.
    public mutating func mutate(_ input: [UInt8], alphabet: [UInt8]) -> [UInt8] {
        var output = input
        for _ in 0..<Int.random(in: 1...3, using: &self) {
            let pick = Bool.random(using: &self) ? alphabet.randomElement(using: &self)! : UInt8.random(in: 0...255, using: &self)
            switch Int.random(in: 0..<4, using: &self) {
            case 0 where !output.isEmpty: output[Int.random(in: output.indices, using: &self)] = pick
            case 1: output.insert(pick, at: Int.random(in: 0...output.count, using: &self))
            case 2 where !output.isEmpty: output.remove(at: Int.random(in: output.indices, using: &self))
            case 3 where !output.isEmpty:
                let position = Int.random(in: output.indices, using: &self)
                output.insert(output[position], at: position)
            default: output.append(pick)
            }
        }
        return output
    }
}

extension ByteBuffer {
    /// The readable bytes, for comparisons.
    public var bytes: [UInt8] { Array(readableBytesView) }
}

import Testing

@testable import PalisadeJWT

/// `ThreadHMAC` reuses one context per digest per thread and re-keys it on every call: each
/// answer must depend on its own key only, whatever the thread computed before.
@Suite struct ThreadHMACTests {
    /// RFC 4231 §4.2 (test case 1) and §4.3 (test case 2).
    static let vectors: [(JWTAlgorithm, key: [UInt8], data: String, mac: String)] = [
        (
            .hs256, Array("Jefe".utf8), "what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
        (
            .hs384, Array("Jefe".utf8), "what do ya want for nothing?",
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"
        ),
        (
            .hs512, Array("Jefe".utf8), "what do ya want for nothing?",
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        ),
        (
            .hs256, [UInt8](repeating: 0x0b, count: 20), "Hi There",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        ),
    ]

    static func hex(_ bytes: [UInt8]?) -> String? {
        bytes.map { $0.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
    }

    @Test func rfc4231VectorsInAnyOrderOnOneThread() {
        // Twice over, interleaving keys and digests: a context keeping an earlier key fails.
        for vector in Self.vectors + Self.vectors.reversed() {
            #expect(Self.hex(ThreadHMAC.mac(vector.0, secret: vector.key, message: Array(vector.data.utf8))) == vector.mac)
        }
    }

    @Test func anEmptySecretGetsNoMACRatherThanTheLastKeys() {
        _ = ThreadHMAC.mac(.hs256, secret: Array("Jefe".utf8), message: [1, 2, 3])
        #expect(ThreadHMAC.mac(.hs256, secret: [], message: [1, 2, 3]) == nil)
    }

    @Test func asymmetricAlgorithmsGetNoMAC() {
        #expect(ThreadHMAC.mac(.rs256, secret: [1], message: [1]) == nil)
    }

    @Test func threadsComputeWithTheirOwnKeysAtOnce() async {
        await withTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for round in 0..<200 {
                        let vector = Self.vectors[(task + round) % Self.vectors.count]
                        let mac = ThreadHMAC.mac(vector.0, secret: vector.key, message: Array(vector.data.utf8))
                        if Self.hex(mac) != vector.mac { return false }
                    }
                    return true
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}

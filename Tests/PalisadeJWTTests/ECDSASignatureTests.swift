import Testing

@testable import PalisadeJWT

@Suite struct ECDSASignatureTests {
    @Test func rawSignatureRoundTripsThroughDER() {
        let raw = [UInt8](repeating: 0, count: 31) + [1] + [0x80] + [UInt8](repeating: 0xFF, count: 31)
        let der = ECDSASignature.der(fromRaw: raw, coordinateSize: 32)
        #expect(der != nil)
        #expect(der.flatMap { ECDSASignature.raw(fromDER: $0, coordinateSize: 32) } == raw)
    }

    @Test(arguments: [0, 63, 65, 96])
    func rawSignatureOfTheWrongLengthIsRefused(length: Int) {
        #expect(ECDSASignature.der(fromRaw: [UInt8](repeating: 1, count: length), coordinateSize: 32) == nil)
    }
}

/// Decoding of lib0 state vectors: `varUint count`, then `count` pairs of `varUint client, varUint clock`.
enum YjsStateVector {
    /// Strict: every integer at most 2^53 − 1, each client once, no trailing bytes, and the count checked
    /// against `limits.maxClients` and the bytes left (a pair takes at least 2) before anything is allocated.
    static func decode(_ bytes: [UInt8], limits: YjsDecodingLimits) throws(YjsDecodingError) -> [UInt64: UInt64] {
        guard bytes.count <= limits.maxUpdateBytes else { throw .limitExceeded(.updateBytes, offset: 0) }
        var reader = YjsByteReader(bytes)
        let count = try reader.readCount(max: limits.maxClients, minBytesEach: 2, .clients)
        var vector: [UInt64: UInt64] = [:]
        vector.reserveCapacity(count)
        for _ in 0..<count {
            let clientOffset = reader.offset
            let client = try reader.readVarUInt()
            let clock = try reader.readVarUInt()
            guard vector.updateValue(clock, forKey: client) == nil else {
                throw .duplicateClient(client, offset: clientOffset)
            }
        }
        guard reader.isAtEnd else { throw .trailingBytes(offset: reader.offset) }
        return vector
    }
}

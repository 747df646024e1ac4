/// Small valid Yjs v1 updates: one character inserted into the root Text "t" by one client,
/// each after that client's previous character (see shared/reference/yjs-update-format.md).
///
///     01 01 <client> <clock>            one client section with one struct, starting at clock
///     first:  04 01 01 74               Item, ContentString, parent = root type "t"
///     later:  84 <client> <clock - 1>   Item, ContentString, origin = the previous character
///     01 <char>                         the string: one ASCII byte (one UTF-16 unit = one clock)
///     00                                empty delete set
enum YjsUpdateBuilder {
    static func insert(client: UInt64, clock: UInt64) -> [UInt8] {
        var bytes: [UInt8] = [0x01, 0x01]
        writeVarUInt(client, into: &bytes)
        writeVarUInt(clock, into: &bytes)
        if clock == 0 {
            bytes += [0x04, 0x01, 0x01, UInt8(ascii: "t")]
        } else {
            bytes.append(0x84)
            writeVarUInt(client, into: &bytes)
            writeVarUInt(clock - 1, into: &bytes)
        }
        bytes += [0x01, UInt8(ascii: "a") + UInt8(clock % 26), 0x00]
        return bytes
    }

    static func writeVarUInt(_ value: UInt64, into bytes: inout [UInt8]) {
        var rest = value
        while rest > 0x7F {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Client id and clock of an update built here, from its first byte values
    /// (`[1, 1, client…, clock…]`); nil for anything else.
    static func clientAndClock(_ values: [UInt64]) -> (client: UInt64, clock: UInt64)? {
        guard values.count >= 4, values[0] == 1, values[1] == 1 else { return nil }
        var index = 2
        func readVarUInt() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while index < values.count, shift < 64 {
                let byte = values[index]
                index += 1
                result |= (byte & 0x7F) << shift
                if byte < 0x80 { return result }
                shift += 7
            }
            return nil
        }
        guard let client = readVarUInt(), let clock = readVarUInt() else { return nil }
        return (client, clock)
    }
}

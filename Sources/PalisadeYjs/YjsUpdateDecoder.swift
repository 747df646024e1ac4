extension YjsUpdate {
    /// Decodes and validates a whole update (v1): struct sections, then the delete set, then nothing.
    /// Every count is checked against the remaining bytes and the limits before anything is allocated,
    /// so time and memory stay linear in the input size.
    public static func decode(
        _ bytes: [UInt8], limits: YjsDecodingLimits = .default
    ) throws(YjsDecodingError) -> YjsUpdate {
        guard bytes.count <= limits.maxUpdateBytes else { throw .limitExceeded(.updateBytes, offset: 0) }
        var decoder = Decoder(reader: YjsByteReader(bytes), limits: limits)
        return try decoder.update()
    }
}

private struct Decoder {
    var reader: YjsByteReader
    let limits: YjsDecodingLimits
    var structCount = 0

    mutating func update() throws(YjsDecodingError) -> YjsUpdate {
        let sections = try structSections()
        let deleteSet = try deleteSet()
        guard reader.isAtEnd else { throw .trailingBytes(offset: reader.offset) }
        return YjsUpdate(sections: sections, deleteSet: deleteSet)
    }

    // MARK: Struct sections

    mutating func structSections() throws(YjsDecodingError) -> [YjsClientSection] {
        let count = try reader.readCount(max: limits.maxClients, minBytesEach: 3, .clients)
        var sections: [YjsClientSection] = []
        sections.reserveCapacity(count)
        var seen = Set<UInt64>(minimumCapacity: count)
        for _ in 0..<count {
            let structsOffset = reader.offset
            let structs = try reader.readCount(max: Int.max, minBytesEach: 0, .structs)
            // The struct budget first; the bytes left are checked once client and clock are read.
            guard structs <= limits.maxStructs - structCount else {
                throw .limitExceeded(.structs, offset: structsOffset)
            }
            let clientOffset = reader.offset
            let client = try reader.readVarUInt()
            let firstClock = try reader.readVarUInt()
            guard structs <= reader.remaining / 2 else { throw .limitExceeded(.count, offset: structsOffset) }
            guard seen.insert(client).inserted else { throw .duplicateClient(client, offset: clientOffset) }
            guard firstClock <= limits.maxClock else { throw .clockOverflow(offset: clientOffset) }
            structCount += structs
            var list: [YjsStruct] = []
            list.reserveCapacity(structs)
            var clock = firstClock
            for _ in 0..<structs {
                let start = reader.offset
                let structure = try self.structure(YjsID(client: client, clock: clock))
                let length = structure.length
                guard length > 0 else { throw .zeroLength(offset: start) }
                guard length <= limits.maxClock - clock else { throw .clockOverflow(offset: start) }
                clock += length
                list.append(structure)
            }
            sections.append(YjsClientSection(client: client, firstClock: firstClock, structs: list))
        }
        return sections
    }

    mutating func structure(_ id: YjsID) throws(YjsDecodingError) -> YjsStruct {
        let infoOffset = reader.offset
        let info = try reader.readUInt8()
        switch info {
        case 0: return .gc(id, length: try reader.readVarUInt())
        case 10: return .skip(id, length: try reader.readVarUInt())
        default: break
        }
        let ref = info & 0x1F
        guard (1...9).contains(ref) else { throw .invalidInfo(info, offset: infoOffset) }
        var origin: YjsID?
        var rightOrigin: YjsID?
        var parent: YjsParent?
        var parentSub: String?
        if info & 0x80 != 0 { origin = try backwardID(of: id) }
        if info & 0x40 != 0 { rightOrigin = try backwardID(of: id) }
        if info & 0xC0 == 0 {
            let parentOffset = reader.offset
            switch try reader.readVarUInt() {
            case 1: parent = .root(try string())
            case 0: parent = .item(try backwardID(of: id))
            case let other: throw .invalidParentInfo(other, offset: parentOffset)
            }
            if info & 0x20 != 0 { parentSub = try string() }
        }
        let content = try content(ref: ref)
        return .item(
            YjsItem(
                id: id, origin: origin, rightOrigin: rightOrigin, parent: parent, parentSub: parentSub, content: content))
    }

    /// An ID that, if of the same client, must name an earlier clock.
    mutating func backwardID(of id: YjsID) throws(YjsDecodingError) -> YjsID {
        let start = reader.offset
        let client = try reader.readVarUInt()
        let clock = try reader.readVarUInt()
        guard client != id.client || clock < id.clock else { throw .forwardReference(offset: start) }
        return YjsID(client: client, clock: clock)
    }

    // MARK: Content

    mutating func content(ref: UInt8) throws(YjsDecodingError) -> YjsContent {
        switch ref {
        case 1:
            return .deleted(length: try reader.readVarUInt())
        case 2:
            guard !limits.refusesYrsIncompatibleContent else { throw .yrsIncompatibleContent(offset: reader.offset) }
            let count = try reader.readCount(max: limits.maxStructs, minBytesEach: 1, .count)
            var elements: [String?] = []
            elements.reserveCapacity(count)
            for _ in 0..<count {
                let text = try jsonText(allowUndefined: true)
                elements.append(text)
            }
            return .json(elements)
        case 3:
            return .binary(try reader.readVarBytes(maxLength: limits.maxBinaryBytes))
        case 4:
            let (text, units) = try reader.readVarStringWithUTF16Length(maxLength: limits.maxStringBytes)
            return .string(text, utf16Length: UInt64(units))
        case 5:
            guard let text = try jsonText(allowUndefined: false) else { throw .invalidJSON(offset: reader.offset) }
            return .embed(json: text)
        case 6:
            let key = try string()
            guard let value = try jsonText(allowUndefined: false) else { throw .invalidJSON(offset: reader.offset) }
            return .format(key: key, valueJSON: value)
        case 7:
            let refOffset = reader.offset
            switch try reader.readVarUInt() {
            case 0: return .type(.array)
            case 1: return .type(.map)
            case 2: return .type(.text)
            case 3: return .type(.xmlElement(name: try string()))
            case 4: return .type(.xmlFragment)
            case 5:
                guard !limits.refusesYrsIncompatibleContent else { throw .yrsIncompatibleContent(offset: refOffset) }
                return .type(.xmlHook(name: try string()))
            case 6: return .type(.xmlText)
            case let other: throw .unknownTypeRef(other, offset: refOffset)
            }
        case 8:
            let count = try reader.readCount(max: limits.maxStructs, minBytesEach: 1, .count)
            var elements: [YjsAny] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try any(depth: 0)) }
            return .any(elements)
        default:  // 9; refs were checked by the caller
            let guid = try string()
            return .doc(guid: guid, options: try any(depth: 0))
        }
    }

    mutating func string() throws(YjsDecodingError) -> String {
        try reader.readVarString(maxLength: limits.maxStringBytes)
    }

    /// A varString holding JSON text, validated; nil for the literal `undefined` when allowed.
    mutating func jsonText(allowUndefined: Bool) throws(YjsDecodingError) -> String? {
        let start = reader.offset
        let text = try string()
        if allowUndefined && text == "undefined" { return nil }
        guard YjsJSONValidation.isValid(bytes: Array(text.utf8), maxDepth: limits.maxAnyDepth) else {
            throw .invalidJSON(offset: start)
        }
        return text
    }

    mutating func any(depth: Int) throws(YjsDecodingError) -> YjsAny {
        let tagOffset = reader.offset
        let tag = try reader.readUInt8()
        switch tag {
        case 127: return .undefined
        case 126: return .null
        case 125:
            let (magnitude, negative) = try reader.readVarInt()
            let value = Int64(magnitude)  // ≤ 2^53 − 1
            return .integer(negative ? -value : value)
        case 124: return .float32(Float(bitPattern: UInt32(try reader.readBigEndian(4))))
        case 123: return .float64(Double(bitPattern: try reader.readBigEndian(8)))
        case 122: return .bigint(Int64(bitPattern: try reader.readBigEndian(8)))
        case 121: return .bool(false)
        case 120: return .bool(true)
        case 119: return .string(try string())
        case 118:
            guard depth < limits.maxAnyDepth else { throw .limitExceeded(.anyDepth, offset: tagOffset) }
            let count = try reader.readCount(max: Int.max, minBytesEach: 2, .count)
            var entries: [YjsAnyEntry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let key = try string()
                entries.append(YjsAnyEntry(key: key, value: try any(depth: depth + 1)))
            }
            return .object(entries)
        case 117:
            guard depth < limits.maxAnyDepth else { throw .limitExceeded(.anyDepth, offset: tagOffset) }
            let count = try reader.readCount(max: Int.max, minBytesEach: 1, .count)
            var elements: [YjsAny] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try any(depth: depth + 1)) }
            return .array(elements)
        case 116: return .bytes(try reader.readVarBytes(maxLength: limits.maxBinaryBytes))
        default: throw .unknownAnyTag(tag, offset: tagOffset)
        }
    }

    // MARK: Delete set

    mutating func deleteSet() throws(YjsDecodingError) -> [YjsDeleteSetEntry] {
        let count = try reader.readCount(max: limits.maxClients, minBytesEach: 2, .clients)
        var entries: [YjsDeleteSetEntry] = []
        entries.reserveCapacity(count)
        var rangeCount = 0
        for _ in 0..<count {
            let client = try reader.readVarUInt()
            let rangesOffset = reader.offset
            let ranges = try reader.readCount(max: Int.max, minBytesEach: 2, .count)
            guard ranges <= limits.maxDeleteRanges - rangeCount else {
                throw .limitExceeded(.deleteRanges, offset: rangesOffset)
            }
            rangeCount += ranges
            var list: [YjsDeleteRange] = []
            list.reserveCapacity(ranges)
            for _ in 0..<ranges {
                let start = reader.offset
                let clock = try reader.readVarUInt()
                let length = try reader.readVarUInt()
                guard length > 0 else { throw .zeroLength(offset: start) }
                guard clock <= limits.maxClock, length <= limits.maxClock - clock else {
                    throw .clockOverflow(offset: start)
                }
                list.append(YjsDeleteRange(clock: clock, length: length))
            }
            entries.append(YjsDeleteSetEntry(client: client, ranges: list))
        }
        return entries
    }
}

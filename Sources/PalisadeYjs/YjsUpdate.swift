/// The ID of one clock unit: `(client, clock)`.
public struct YjsID: Hashable, Sendable, CustomStringConvertible {
    public var client: UInt64
    public var clock: UInt64

    public init(client: UInt64, clock: UInt64) {
        self.client = client
        self.clock = clock
    }

    public var description: String { "\(client):\(clock)" }
}

/// Where an item without origins lives.
public enum YjsParent: Hashable, Sendable {
    /// A root type, by name.
    case root(String)
    /// A nested type: the ID of the item holding its ContentType.
    case item(YjsID)
}

/// The type of a ContentType (type refs 0–6).
public enum YjsTypeRef: Hashable, Sendable {
    case array, map, text
    case xmlElement(name: String)
    case xmlFragment
    case xmlHook(name: String)
    case xmlText
}

/// A value of lib0's *any* encoding.
public indirect enum YjsAny: Equatable, Sendable {
    case undefined
    case null
    /// Tag 125 (varInt). lib0's negative zero decodes as 0.
    case integer(Int64)
    case float32(Float)
    case float64(Double)
    case bigint(Int64)
    case bool(Bool)
    case string(String)
    /// Entries in wire order; duplicate keys are kept as they came.
    case object([YjsAnyEntry])
    case array([YjsAny])
    case bytes([UInt8])
}

public struct YjsAnyEntry: Equatable, Sendable {
    public var key: String
    public var value: YjsAny

    public init(key: String, value: YjsAny) {
        self.key = key
        self.value = value
    }
}

/// The content of an Item (content refs 1–9).
public enum YjsContent: Equatable, Sendable {
    /// 1: a collected range that keeps its position.
    case deleted(length: UInt64)
    /// 2: legacy JSON elements; nil is the literal `undefined`. Each text is validated JSON.
    case json([String?])
    /// 3
    case binary([UInt8])
    /// 4: the text and its length in UTF-16 units (its clock length).
    case string(String, utf16Length: UInt64)
    /// 5: validated JSON text.
    case embed(json: String)
    /// 6: key and validated JSON text of the value.
    case format(key: String, valueJSON: String)
    /// 7
    case type(YjsTypeRef)
    /// 8
    case any([YjsAny])
    /// 9: a sub-document: guid and options.
    case doc(guid: String, options: YjsAny)

    /// The number of clock units this content covers.
    public var length: UInt64 {
        switch self {
        case .deleted(let length): length
        case .json(let elements): UInt64(elements.count)
        case .string(_, let units): units
        case .any(let elements): UInt64(elements.count)
        case .binary, .embed, .format, .type, .doc: 1
        }
    }
}

public struct YjsItem: Equatable, Sendable {
    public var id: YjsID
    /// The left origin (`0x80`).
    public var origin: YjsID?
    /// The right origin (`0x40`).
    public var rightOrigin: YjsID?
    /// Present only when neither origin is.
    public var parent: YjsParent?
    /// The map key; present only when neither origin is.
    public var parentSub: String?
    public var content: YjsContent

    public init(
        id: YjsID, origin: YjsID?, rightOrigin: YjsID?, parent: YjsParent?, parentSub: String?, content: YjsContent
    ) {
        self.id = id
        self.origin = origin
        self.rightOrigin = rightOrigin
        self.parent = parent
        self.parentSub = parentSub
        self.content = content
    }

    public var length: UInt64 { content.length }
}

/// One struct of a client section.
public enum YjsStruct: Equatable, Sendable {
    case gc(YjsID, length: UInt64)
    case skip(YjsID, length: UInt64)
    case item(YjsItem)

    public var id: YjsID {
        switch self {
        case .gc(let id, _), .skip(let id, _): id
        case .item(let item): item.id
        }
    }

    public var length: UInt64 {
        switch self {
        case .gc(_, let length), .skip(_, let length): length
        case .item(let item): item.length
        }
    }
}

/// The structs of one client, gap-free from `firstClock`.
public struct YjsClientSection: Equatable, Sendable {
    public var client: UInt64
    public var firstClock: UInt64
    public var structs: [YjsStruct]

    public init(client: UInt64, firstClock: UInt64, structs: [YjsStruct]) {
        self.client = client
        self.firstClock = firstClock
        self.structs = structs
    }

    /// The clock after the last struct.
    public var endClock: UInt64 { structs.last.map { $0.id.clock + $0.length } ?? firstClock }
}

public struct YjsDeleteRange: Equatable, Sendable {
    public var clock: UInt64
    public var length: UInt64

    public init(clock: UInt64, length: UInt64) {
        self.clock = clock
        self.length = length
    }
}

/// One client's entry of the delete set, in wire order.
public struct YjsDeleteSetEntry: Equatable, Sendable {
    public var client: UInt64
    public var ranges: [YjsDeleteRange]

    public init(client: UInt64, ranges: [YjsDeleteRange]) {
        self.client = client
        self.ranges = ranges
    }
}

/// A decoded and validated Yjs update (v1).
public struct YjsUpdate: Equatable, Sendable {
    /// Client sections in wire order; each client at most once.
    public var sections: [YjsClientSection]
    /// Delete-set entries in wire order.
    public var deleteSet: [YjsDeleteSetEntry]

    public init(sections: [YjsClientSection], deleteSet: [YjsDeleteSetEntry]) {
        self.sections = sections
        self.deleteSet = deleteSet
    }

    /// Client → next clock this update holds without gaps from 0 (Skips stop the run; GC counts).
    /// Clients whose first section does not start at clock 0 are absent.
    public var stateVector: [UInt64: UInt64] {
        var vector: [UInt64: UInt64] = [:]
        for section in sections where section.firstClock == 0 {
            var end: UInt64 = 0
            for structure in section.structs {
                if case .skip = structure { break }
                end = structure.id.clock + structure.length
            }
            if end > 0 { vector[section.client] = end }
        }
        return vector
    }

    /// The state vector in lib0 encoding, clients in descending order (as `Y.encodeStateVector`).
    public var encodedStateVector: [UInt8] {
        let vector = stateVector.sorted { $0.key > $1.key }
        var out: [UInt8] = []
        YjsWriter.writeVarUInt(UInt64(vector.count), to: &out)
        for (client, clock) in vector {
            YjsWriter.writeVarUInt(client, to: &out)
            YjsWriter.writeVarUInt(clock, to: &out)
        }
        return out
    }
}

enum YjsWriter {
    static func writeVarUInt(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        while value > 0x7F {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }
}

/// Why a Yjs update (v1) was refused. Every case carries the byte offset where decoding stopped.
public enum YjsDecodingError: Error, Equatable, Sendable {
    /// The input ended in the middle of a value.
    case truncated(offset: Int)
    /// A varUint or varInt above 2^53 − 1 or longer than 8 bytes.
    case integerOverflow(offset: Int)
    /// A varString that is not strict UTF-8.
    case invalidUTF8(offset: Int)
    /// A JSON text (ContentJSON element, Embed, Format value) that is not a JSON value.
    case invalidJSON(offset: Int)
    /// A configured limit of `YjsDecodingLimits` was passed, or a count cannot fit the remaining bytes.
    case limitExceeded(YjsLimit, offset: Int)
    /// An info byte that is neither exactly GC (`00`), exactly Skip (`0a`), nor an Item with ref 1–9.
    case invalidInfo(UInt8, offset: Int)
    /// A type ref other than 0–6 inside ContentType.
    case unknownTypeRef(UInt64, offset: Int)
    /// An *any* tag other than 116–127.
    case unknownAnyTag(UInt8, offset: Int)
    /// Parent info other than 0 (ID) or 1 (root name).
    case invalidParentInfo(UInt64, offset: Int)
    /// A struct or delete range of length 0.
    case zeroLength(offset: Int)
    /// A clock range ending past the clock limit.
    case clockOverflow(offset: Int)
    /// The same client has two struct sections.
    case duplicateClient(UInt64, offset: Int)
    /// An item refers to its own client at its own or a later clock.
    case forwardReference(offset: Int)
    /// Bytes after the delete set.
    case trailingBytes(offset: Int)
    /// Content that Yjs reads but yrs-based peers (pycrdt) cannot: ContentJSON or a YXmlHook type (reference §5.3.9).
    case yrsIncompatibleContent(offset: Int)
}

/// The limit that `YjsDecodingError.limitExceeded` names.
public enum YjsLimit: String, Sendable {
    case updateBytes, clients, structs, clock, stringBytes, binaryBytes, anyDepth, deleteRanges, count
}

/// Caps applied while decoding; all are checked before any allocation.
public struct YjsDecodingLimits: Sendable, Equatable {
    /// Largest accepted update, in bytes.
    public var maxUpdateBytes: Int
    /// Most client sections (struct section) and most delete-set clients.
    public var maxClients: Int
    /// Most structs over all sections.
    public var maxStructs: Int
    /// Largest `clock + length` of any struct or delete range. The default, 2^32 − 1, is what yrs (pycrdt) can hold.
    public var maxClock: UInt64
    /// Longest varString, in bytes.
    public var maxStringBytes: Int
    /// Longest varUint8Array (ContentBinary, *any* bytes), in bytes.
    public var maxBinaryBytes: Int
    /// Deepest nesting of *any* arrays and objects, and of JSON texts.
    public var maxAnyDepth: Int
    /// Most delete ranges over all delete-set clients.
    public var maxDeleteRanges: Int
    /// Refuses ContentJSON and YXmlHook: Yjs reads them, but a document holding one cannot be loaded by
    /// yrs-based peers (pycrdt) in the same room (reference §5.3.9), and Yjs itself no longer creates them.
    public var refusesYrsIncompatibleContent: Bool

    public init(
        maxUpdateBytes: Int = 16 << 20, maxClients: Int = 10_000, maxStructs: Int = 1_000_000,
        maxClock: UInt64 = UInt64(UInt32.max), maxStringBytes: Int = 8 << 20, maxBinaryBytes: Int = 8 << 20,
        maxAnyDepth: Int = 128, maxDeleteRanges: Int = 1_000_000, refusesYrsIncompatibleContent: Bool = true
    ) {
        self.maxUpdateBytes = maxUpdateBytes
        self.maxClients = maxClients
        self.maxStructs = maxStructs
        self.maxClock = min(maxClock, YjsByteReader.maxSafeInteger)
        self.maxStringBytes = maxStringBytes
        self.maxBinaryBytes = maxBinaryBytes
        self.maxAnyDepth = maxAnyDepth
        self.maxDeleteRanges = maxDeleteRanges
        self.refusesYrsIncompatibleContent = refusesYrsIncompatibleContent
    }

    public static let `default` = YjsDecodingLimits()

    /// The limits for reading back what was accepted under `accepted` and then stored, merged and compacted.
    /// Only the rules a merge keeps stay (clock range, nesting depth); counts and sizes are bounded by the bytes
    /// alone, because a merge of accepted updates may hold more clients, structs or longer strings than any one
    /// of them, and content refused only since a later version may be stored. What was stored always loads.
    public static func stored(acceptedWith accepted: YjsDecodingLimits) -> YjsDecodingLimits {
        YjsDecodingLimits(
            maxUpdateBytes: .max, maxClients: .max, maxStructs: .max, maxClock: accepted.maxClock,
            maxStringBytes: .max, maxBinaryBytes: .max, maxAnyDepth: accepted.maxAnyDepth, maxDeleteRanges: .max,
            refusesYrsIncompatibleContent: false
        )
    }
}

extension YjsStruct {
    /// The right part of this struct from `offset` clock units in (0 < offset < length), as Yjs's
    /// `sliceStruct`: GC and Skip shrink; an Item gets the ID `clock + offset`, the origin
    /// `(client, clock + offset − 1)` (the unit to its left), the same right origin, and its content sliced.
    /// With an origin, the parent and key are implied, so they are dropped.
    ///
    /// Only String, Any, JSON and Deleted contents are longer than one unit, so only they are ever sliced;
    /// an offset of 0 or one outside the struct returns it unchanged.
    func sliced(from offset: UInt64) -> YjsStruct {
        guard offset > 0, offset < length else { return self }
        switch self {
        case .gc(let id, let length):
            return .gc(YjsID(client: id.client, clock: id.clock + offset), length: length - offset)
        case .skip(let id, let length):
            return .skip(YjsID(client: id.client, clock: id.clock + offset), length: length - offset)
        case .item(let item):
            let clock = item.id.clock + offset
            return .item(
                YjsItem(
                    id: YjsID(client: item.id.client, clock: clock),
                    origin: YjsID(client: item.id.client, clock: clock - 1),
                    rightOrigin: item.rightOrigin, parent: nil, parentSub: nil,
                    content: item.content.sliced(from: offset)))
        }
    }

    /// The clock after this struct.
    var endClock: UInt64 { id.clock + length }
}

extension YjsContent {
    /// The content minus its first `offset` units. Strings are cut at UTF-16 offsets; a cut between the
    /// halves of a surrogate pair leaves a lone surrogate, which becomes U+FFFD (one unit, so the length
    /// holds), as Yjs's `ContentString.splice` and `TextEncoder` do.
    func sliced(from offset: UInt64) -> YjsContent {
        guard offset > 0, offset < length else { return self }
        switch self {
        case .deleted(let length):
            return .deleted(length: length - offset)
        case .json(let elements):
            return .json(Array(elements[Int(offset)...]))
        case .any(let elements):
            return .any(Array(elements[Int(offset)...]))
        case .string(let text, let units):
            let utf16 = Array(text.utf16)
            return .string(String(decoding: utf16[Int(offset)...], as: UTF16.self), utf16Length: units - offset)
        case .binary, .embed, .format, .type, .doc:
            return self  // length 1: unreachable, see the guard
        }
    }
}

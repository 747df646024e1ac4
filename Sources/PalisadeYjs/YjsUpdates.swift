/// Doc-less algorithms on encoded Yjs updates (v1), as Yjs runs them on bytes: merge, compact, diff and
/// state vectors. Every input is decoded and validated first (`YjsUpdate.decode`), so a hostile input is
/// refused before any work, and time and memory stay bounded by the inputs' sizes and `limits`.
/// Outputs are canonical: struct sections and delete-set clients in descending client order.
/// Errors carry the offset within the input that failed; limits over all inputs together report offset 0.
public enum YjsUpdates {
    /// Like `Y.mergeUpdates`: one update with the effect of all `updates`, in any order. Duplicates are
    /// dropped, overlaps sliced, holes within a client filled with one Skip each, delete sets unioned.
    /// Unlike Yjs, a single input is validated and normalised too; no inputs give the empty update `00 00`.
    public static func merge(
        _ updates: [[UInt8]], limits: YjsDecodingLimits = .default
    ) throws(YjsDecodingError) -> [UInt8] {
        try mergedUpdate(updates, limits: limits).encoded()
    }

    /// `merge`, then shrunk without changing the document: content of wholly deleted items becomes
    /// ContentDeleted (except types and sub-documents) and adjacent items of one client typed in sequence
    /// are squashed into one (see `YjsCompactor`).
    public static func compact(
        _ updates: [[UInt8]], limits: YjsDecodingLimits = .default
    ) throws(YjsDecodingError) -> [UInt8] {
        YjsCompactor.compact(try mergedUpdate(updates, limits: limits)).encoded()
    }

    /// `compact`, with the result's `YjsUpdate.valueCount` (at most the inputs' together).
    public static func compactCountingValues(
        _ updates: [[UInt8]], limits: YjsDecodingLimits = .default
    ) throws(YjsDecodingError) -> (update: [UInt8], valueCount: Int) {
        let compacted = YjsCompactor.compact(try mergedUpdate(updates, limits: limits))
        return (compacted.encoded(), compacted.valueCount)
    }

    /// Like `Y.diffUpdate`: the part of `update` that the holder of `stateVector` lacks, plus the whole
    /// delete set.
    public static func diff(
        _ update: [UInt8], against stateVector: [UInt8], limits: YjsDecodingLimits = .default
    ) throws(YjsDecodingError) -> [UInt8] {
        let vector = try decodeStateVector(stateVector, limits: limits)
        return YjsDiffer.diff(try YjsUpdate.decode(update, limits: limits), against: vector).encoded()
    }

    /// A lib0 state vector as a map client → next clock. Refuses duplicate clients and trailing bytes.
    public static func decodeStateVector(
        _ bytes: [UInt8], limits: YjsDecodingLimits = .default
    ) throws(YjsDecodingError) -> [UInt64: UInt64] {
        try YjsStateVector.decode(bytes, limits: limits)
    }

    /// Like `Y.encodeStateVectorFromUpdate`, with clients in descending order.
    public static func encodedStateVector(
        of update: [UInt8], limits: YjsDecodingLimits = .default
    ) throws(YjsDecodingError) -> [UInt8] {
        try YjsUpdate.decode(update, limits: limits).encodedStateVector
    }

    /// Decodes every input, then merges. `limits.maxStructs` and `limits.maxDeleteRanges` cap the inputs
    /// *together* (checked after each decode, before the merge allocates), so one merge's work is bounded
    /// whatever the number of inputs; the output then holds at most twice as many structs (one Skip per hole).
    static func mergedUpdate(_ updates: [[UInt8]], limits: YjsDecodingLimits) throws(YjsDecodingError) -> YjsUpdate {
        var decoded: [YjsUpdate] = []
        var structs = 0
        var ranges = 0
        for update in updates {
            let next = try YjsUpdate.decode(update, limits: limits)
            structs += next.sections.reduce(0) { $0 + $1.structs.count }
            ranges += next.deleteSet.reduce(0) { $0 + $1.ranges.count }
            guard structs <= limits.maxStructs else { throw .limitExceeded(.structs, offset: 0) }
            guard ranges <= limits.maxDeleteRanges else { throw .limitExceeded(.deleteRanges, offset: 0) }
            decoded.append(next)
        }
        return YjsMerger.merge(decoded)
    }
}

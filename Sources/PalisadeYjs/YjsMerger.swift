/// `Y.mergeUpdates` on decoded updates, run per client (which is what makes input section order
/// irrelevant, see the format reference §4.4.5).
///
/// Per client: every input's structs except Skips, sorted by clock; a sweep keeps what it has written and
/// drops or slices what overlaps it; holes between available clocks become one Skip each (whatever
/// their length); adjacent GCs are joined. Ties at one clock go to the longer struct, then to an Item over
/// a GC, then to the earlier input: all choices describe the same operation (reference §4.4.4).
/// Time O(n log n) and memory O(n) in the number of structs of the inputs.
enum YjsMerger {
    static func merge(_ updates: [YjsUpdate]) -> YjsUpdate {
        var byClient: [UInt64: [Candidate]] = [:]
        for (input, update) in updates.enumerated() {
            for section in update.sections {
                for structure in section.structs {
                    if case .skip = structure { continue }
                    byClient[section.client, default: []].append(Candidate(structure: structure, input: input))
                }
            }
        }
        var sections: [YjsClientSection] = []
        sections.reserveCapacity(byClient.count)
        for client in byClient.keys.sorted(by: >) {
            let structs = sweep(byClient[client]!.sorted(by: Candidate.precedes), client: client)
            if let first = structs.first {
                sections.append(YjsClientSection(client: client, firstClock: first.id.clock, structs: structs))
            }
        }
        return YjsUpdate(sections: sections, deleteSet: YjsDeleteSets.union(updates.map(\.deleteSet)))
    }

    private struct Candidate {
        let structure: YjsStruct
        let input: Int

        var isGC: Bool {
            if case .gc = structure { return true }
            return false
        }

        static func precedes(_ a: Candidate, _ b: Candidate) -> Bool {
            if a.structure.id.clock != b.structure.id.clock { return a.structure.id.clock < b.structure.id.clock }
            if a.structure.length != b.structure.length { return a.structure.length > b.structure.length }
            if a.isGC != b.isGC { return !a.isGC }
            return a.input < b.input
        }
    }

    /// One client's structs, sorted by `Candidate.precedes`, made gap-free (Skips) and overlap-free.
    private static func sweep(_ sorted: [Candidate], client: UInt64) -> [YjsStruct] {
        var out: [YjsStruct] = []
        var end: UInt64?
        for candidate in sorted {
            let structure = candidate.structure
            let clock = structure.id.clock
            if let written = end {
                if structure.endClock <= written { continue }  // already covered
                if clock > written {
                    out.append(.skip(YjsID(client: client, clock: written), length: clock - written))
                    append(structure, to: &out)
                } else {
                    append(structure.sliced(from: written - clock), to: &out)
                }
            } else {
                out.append(structure)
            }
            end = structure.endClock
        }
        return out
    }

    /// Appends, joining a GC onto a GC right before it (the only join Yjs's merge makes).
    private static func append(_ structure: YjsStruct, to out: inout [YjsStruct]) {
        if case .gc(_, let length) = structure, case .gc(let id, let previous)? = out.last {
            out[out.count - 1] = .gc(id, length: previous + length)
        } else {
            out.append(structure)
        }
    }
}

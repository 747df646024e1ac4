/// `Y.diffUpdate` on a decoded update: what the holder of a state vector lacks.
///
/// Per client (descending): leading Skips and structs that end at or below the vector's clock are dropped;
/// the first struct kept is cut at that clock (an Item then gets the origin `(client, clock − 1)`); the rest
/// of the client follows unchanged, Skips included. The whole delete set is kept, because a state vector
/// says nothing about which deletions its holder has seen; clients go in descending order, ranges as they
/// came. Linear in the number of structs.
enum YjsDiffer {
    static func diff(_ update: YjsUpdate, against vector: [UInt64: UInt64]) -> YjsUpdate {
        var sections: [YjsClientSection] = []
        for section in update.sections.sorted(by: { $0.client > $1.client }) {
            let known = vector[section.client] ?? 0
            var structs: [YjsStruct] = []
            for structure in section.structs {
                if structs.isEmpty {
                    if case .skip = structure { continue }
                    if structure.endClock <= known { continue }
                    let clock = structure.id.clock
                    structs.append(known > clock ? structure.sliced(from: known - clock) : structure)
                } else {
                    structs.append(structure)
                }
            }
            if let first = structs.first {
                sections.append(YjsClientSection(client: section.client, firstClock: first.id.clock, structs: structs))
            }
        }
        let deleteSet = update.deleteSet.filter { !$0.ranges.isEmpty }.sorted { $0.client > $1.client }
        return YjsUpdate(sections: sections, deleteSet: deleteSet)
    }
}

import Testing

@testable import PalisadeYjs

/// Seeded random and mutated inputs: merge, compact and diff either refuse them or return updates that
/// decode again; nothing traps, and each case is fast.
@Suite struct YjsRobustnessTests {
    static let seeds: [[UInt8]] = YjsFixture.all.map(\.update) + YjsSequenceFixture.all.flatMap(\.updates)

    @Test func mutatedUpdatesNeverCrash() throws {
        var generator = SeededGenerator(seed: 7)
        var accepted = 0
        for round in 0..<3_000 {
            var bytes = Self.seeds.randomElement(using: &generator)!
            mutate(&bytes, using: &generator)
            let other = Self.seeds.randomElement(using: &generator)!
            let vector: [UInt8] = round % 3 == 0 ? bytes.suffix(5).map { $0 } : [1, bytes.first ?? 0, UInt8(round % 200)]
            if let merged = try? YjsUpdates.merge([bytes, other]) {
                accepted += 1
                _ = try YjsUpdate.decode(merged)
                _ = try YjsUpdate.decode(YjsUpdates.compact([merged, bytes]))
            }
            if let diff = try? YjsUpdates.diff(bytes, against: vector) { _ = try YjsUpdate.decode(diff) }
            _ = try? YjsUpdates.decodeStateVector(vector)
        }
        #expect(accepted > 0)
    }

    /// Random well-formed updates of a few clients whose structs overlap in every way.
    @Test func randomOverlappingUpdatesMergeConsistently() throws {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<1_000 {
            let inputs = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
                randomUpdate(using: &generator).encoded()
            }
            let merged = try YjsUpdate.decode(YjsUpdates.merge(inputs))
            for section in merged.sections {
                var clock = section.firstClock
                for structure in section.structs {
                    #expect(structure.id.clock == clock, "gap-free and overlap-free")
                    clock += structure.length
                }
            }
            let shuffled = try YjsUpdate.decode(YjsUpdates.merge(inputs.shuffled(using: &generator)))
            #expect(shuffled.stateVector == merged.stateVector)
            #expect(shuffled.deleteSet == merged.deleteSet)
            let compacted = try YjsUpdate.decode(YjsUpdates.compact(inputs))
            #expect(compacted.stateVector == merged.stateVector)
            let vector = merged.stateVector
            let diff = try YjsUpdate.decode(YjsUpdates.diff(merged.encoded(), against: merged.encodedStateVector))
            for section in diff.sections {
                #expect(section.firstClock >= vector[section.client] ?? 0)
            }
        }
    }

    @Test func limitsCapTheInputsTogether() throws {
        var limits = YjsDecodingLimits()
        limits.maxStructs = 2
        let one = hexBytes("01 01 05 00 04 01 01 74 01 61 00")
        _ = try YjsUpdates.merge([one, one], limits: limits)
        #expect(throws: YjsDecodingError.limitExceeded(.structs, offset: 0)) {
            try YjsUpdates.compact([one, one, one], limits: limits)
        }
        limits = YjsDecodingLimits()
        limits.maxDeleteRanges = 1
        #expect(throws: YjsDecodingError.limitExceeded(.deleteRanges, offset: 0)) {
            try YjsUpdates.merge([hexBytes("00 01 05 01 00 01"), hexBytes("00 01 05 01 03 01")], limits: limits)
        }
    }

    @Test func hostileCountsAreRefusedBeforeAllocation() {
        // A state vector claiming 2^53 − 1 pairs, and an update claiming as many sections.
        let huge: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]
        #expect(throws: YjsDecodingError.self) { try YjsUpdates.decodeStateVector(huge) }
        #expect(throws: YjsDecodingError.self) { try YjsUpdates.merge([huge + [0]]) }
        #expect(throws: YjsDecodingError.self) { try YjsUpdates.diff([0, 0], against: huge) }
    }
}

private func mutate(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
    for _ in 0..<Int.random(in: 1...4, using: &generator) {
        switch Int.random(in: 0..<5, using: &generator) {
        case 0 where !bytes.isEmpty:
            bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
        case 1 where !bytes.isEmpty:
            bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator))
        case 2:
            bytes.insert(UInt8.random(in: 0...255, using: &generator), at: Int.random(in: 0...bytes.count, using: &generator))
        case 3 where !bytes.isEmpty:
            bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
        default:
            bytes.append(contentsOf: [0x0A, 0xFF, 0xFF, 0xFF, 0x0F])
        }
    }
}

/// Clients 1–3, each with a run of structs at a random start: strings (some with emoji), Any, Deleted, GC,
/// Skip and length-1 contents; plus a random delete set.
private func randomUpdate(using generator: inout SeededGenerator) -> YjsUpdate {
    var sections: [YjsClientSection] = []
    for client in UInt64(1)...3 where Bool.random(using: &generator) {
        var clock = UInt64.random(in: 0..<12, using: &generator)
        let first = clock
        var structs: [YjsStruct] = []
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            let id = YjsID(client: client, clock: clock)
            let origin = clock > 0 && Bool.random(using: &generator) ? YjsID(client: client, clock: clock - 1) : nil
            let content: YjsContent
            switch Int.random(in: 0..<6, using: &generator) {
            case 0: content = .string(["ab", "😀x", "a😀😀"].randomElement(using: &generator)!, utf16Length: 0)
            case 1: content = .any((0..<Int.random(in: 1...3, using: &generator)).map { .integer(Int64($0)) })
            case 2: content = .deleted(length: UInt64.random(in: 1...3, using: &generator))
            case 3: content = .embed(json: "{}")
            case 4:
                let length = UInt64.random(in: 1...3, using: &generator)
                structs.append(Bool.random(using: &generator) ? .gc(id, length: length) : .skip(id, length: length))
                clock += length
                continue
            default: content = .type(.text)
            }
            let fixed: YjsContent
            if case .string(let text, _) = content { fixed = .string(text, utf16Length: UInt64(text.utf16.count)) } else { fixed = content }
            let item = YjsItem(
                id: id, origin: origin, rightOrigin: nil, parent: origin == nil ? .root("t") : nil, parentSub: nil,
                content: fixed)
            structs.append(.item(item))
            clock += fixed.length
        }
        sections.append(YjsClientSection(client: client, firstClock: first, structs: structs))
    }
    var deleteSet: [YjsDeleteSetEntry] = []
    if Bool.random(using: &generator) {
        deleteSet.append(
            YjsDeleteSetEntry(
                client: UInt64.random(in: 1...3, using: &generator),
                ranges: [
                    YjsDeleteRange(clock: UInt64.random(in: 0..<20, using: &generator), length: UInt64.random(in: 1...5, using: &generator))
                ]))
    }
    return YjsUpdate(sections: sections, deleteSet: deleteSet)
}

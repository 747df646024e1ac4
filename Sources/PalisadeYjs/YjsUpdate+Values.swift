extension YjsUpdate {
    /// How many decoded values the update holds: client sections, structs, content elements (an *any* value
    /// with everything it nests, a JSON element) and delete-set clients and ranges.
    ///
    /// This, not the encoded size, is what the decoded form and every merge of it cost in memory: a struct
    /// of two bytes decodes to well over a hundred. Each value takes at least one encoded byte, and a merge
    /// or compaction never holds more values than its inputs together (a Skip it adds stands for a section
    /// or Skip of an input), so a budget on the sum over a document's parts bounds its compactions too.
    public var valueCount: Int {
        var count = sections.count + deleteSet.count
        for section in sections {
            count += section.structs.count
            for structure in section.structs {
                guard case .item(let item) = structure else { continue }
                count += Self.valueCount(of: item.content)
            }
        }
        for entry in deleteSet { count += entry.ranges.count }
        return count
    }

    private static func valueCount(of content: YjsContent) -> Int {
        switch content {
        case .json(let elements): elements.count
        case .any(let elements): elements.reduce(0) { $0 + valueCount(of: $1) }
        case .doc(_, let options): valueCount(of: options)
        case .deleted, .binary, .string, .embed, .format, .type: 0
        }
    }

    private static func valueCount(of value: YjsAny) -> Int {
        switch value {
        case .object(let entries): 1 + entries.reduce(0) { $0 + valueCount(of: $1.value) }
        case .array(let elements): 1 + elements.reduce(0) { $0 + valueCount(of: $1) }
        default: 1
        }
    }
}

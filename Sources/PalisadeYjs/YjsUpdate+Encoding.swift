extension YjsUpdate {
    /// The update in v1 encoding, as Yjs writes it: struct sections in descending client order, then the
    /// delete set in the order this value holds it (merge, diff and compact hold it in descending client
    /// order, as Yjs writes it; a decoded update keeps its wire order, so re-encoding reproduces the input).
    ///
    /// The parentSub bit (0x20) is written only on items without origins, where a key follows; Yjs's
    /// readers ignore it elsewhere. An item without origins must have a parent: one without is written
    /// under the root named "" (the decoder never produces such an item, nor do merge, diff and compact).
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        let ordered = sections.sorted { $0.client > $1.client }
        YjsWriter.writeVarUInt(UInt64(ordered.count), to: &out)
        for section in ordered {
            YjsWriter.writeVarUInt(UInt64(section.structs.count), to: &out)
            YjsWriter.writeVarUInt(section.client, to: &out)
            YjsWriter.writeVarUInt(section.firstClock, to: &out)
            for structure in section.structs { YjsWriter.writeStruct(structure, to: &out) }
        }
        YjsWriter.writeDeleteSet(deleteSet, to: &out)
        return out
    }
}

extension YjsWriter {
    static func writeDeleteSet(_ entries: [YjsDeleteSetEntry], to out: inout [UInt8]) {
        writeVarUInt(UInt64(entries.count), to: &out)
        for entry in entries {
            writeVarUInt(entry.client, to: &out)
            writeVarUInt(UInt64(entry.ranges.count), to: &out)
            for range in entry.ranges {
                writeVarUInt(range.clock, to: &out)
                writeVarUInt(range.length, to: &out)
            }
        }
    }

    static func writeStruct(_ structure: YjsStruct, to out: inout [UInt8]) {
        switch structure {
        case .gc(_, let length):
            out.append(0)
            writeVarUInt(length, to: &out)
        case .skip(_, let length):
            out.append(10)
            writeVarUInt(length, to: &out)
        case .item(let item):
            writeItem(item, to: &out)
        }
    }

    static func writeItem(_ item: YjsItem, to out: inout [UInt8]) {
        let hasOrigins = item.origin != nil || item.rightOrigin != nil
        var info = item.content.ref
        if item.origin != nil { info |= 0x80 }
        if item.rightOrigin != nil { info |= 0x40 }
        if !hasOrigins && item.parentSub != nil { info |= 0x20 }
        out.append(info)
        if let origin = item.origin { writeID(origin, to: &out) }
        if let rightOrigin = item.rightOrigin { writeID(rightOrigin, to: &out) }
        if !hasOrigins {
            switch item.parent ?? .root("") {
            case .root(let name):
                writeVarUInt(1, to: &out)
                writeString(name, to: &out)
            case .item(let id):
                writeVarUInt(0, to: &out)
                writeID(id, to: &out)
            }
            if let key = item.parentSub { writeString(key, to: &out) }
        }
        writeContent(item.content, to: &out)
    }

    static func writeID(_ id: YjsID, to out: inout [UInt8]) {
        writeVarUInt(id.client, to: &out)
        writeVarUInt(id.clock, to: &out)
    }

    static func writeContent(_ content: YjsContent, to out: inout [UInt8]) {
        switch content {
        case .deleted(let length):
            writeVarUInt(length, to: &out)
        case .json(let elements):
            writeVarUInt(UInt64(elements.count), to: &out)
            for element in elements { writeString(element ?? "undefined", to: &out) }
        case .binary(let bytes):
            writeBytes(bytes, to: &out)
        case .string(let text, _):
            writeString(text, to: &out)
        case .embed(let json):
            writeString(json, to: &out)
        case .format(let key, let valueJSON):
            writeString(key, to: &out)
            writeString(valueJSON, to: &out)
        case .type(let type):
            writeTypeRef(type, to: &out)
        case .any(let elements):
            writeVarUInt(UInt64(elements.count), to: &out)
            for element in elements { writeAny(element, to: &out) }
        case .doc(let guid, let options):
            writeString(guid, to: &out)
            writeAny(options, to: &out)
        }
    }

    static func writeTypeRef(_ type: YjsTypeRef, to out: inout [UInt8]) {
        switch type {
        case .array: writeVarUInt(0, to: &out)
        case .map: writeVarUInt(1, to: &out)
        case .text: writeVarUInt(2, to: &out)
        case .xmlElement(let name):
            writeVarUInt(3, to: &out)
            writeString(name, to: &out)
        case .xmlFragment: writeVarUInt(4, to: &out)
        case .xmlHook(let name):
            writeVarUInt(5, to: &out)
            writeString(name, to: &out)
        case .xmlText: writeVarUInt(6, to: &out)
        }
    }
}

extension YjsContent {
    /// The content ref of the info byte (1–9).
    var ref: UInt8 {
        switch self {
        case .deleted: 1
        case .json: 2
        case .binary: 3
        case .string: 4
        case .embed: 5
        case .format: 6
        case .type: 7
        case .any: 8
        case .doc: 9
        }
    }
}

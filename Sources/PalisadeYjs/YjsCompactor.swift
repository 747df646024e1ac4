/// Shrinks a merged update without changing the document it describes.
///
/// 1. An Item whose whole range is in the delete set keeps its position but loses its content:
///    `.deleted(length)`, as Yjs's garbage collection does in a live document. ContentType and ContentDoc
///    keep their content, so the children of a deleted type still find their parent.
/// 2. Adjacent structs of one client are squashed where Yjs's `Item.mergeWith` would: B starts where A
///    ends, B's origin is A's last unit, both have the same right origin, and both contents are String,
///    Any, JSON or Deleted of the same kind. This is the inverse of slicing, so the squashed item reads as
///    the two did. Adjacent GCs become one GC.
///
/// Linear in the number of structs (plus a logarithmic delete-set lookup per Item).
enum YjsCompactor {
    static func compact(_ merged: YjsUpdate) -> YjsUpdate {
        let deleted = YjsDeleteSets.Index(joined: merged.deleteSet)
        var result = merged
        for index in result.sections.indices {
            var squasher = Squasher()
            for structure in result.sections[index].structs {
                squasher.append(emptied(structure, deleted: deleted))
            }
            result.sections[index].structs = squasher.finish()
        }
        return result
    }

    private static func emptied(_ structure: YjsStruct, deleted: YjsDeleteSets.Index) -> YjsStruct {
        guard case .item(var item) = structure else { return structure }
        switch item.content {
        case .type, .doc, .deleted: return structure
        default: break
        }
        guard deleted.covers(client: item.id.client, clock: item.id.clock, length: item.length) else {
            return structure
        }
        item.content = .deleted(length: item.length)
        return .item(item)
    }

    /// Accumulates a run of joinable structs; contents grow in place, so a run of n keystrokes costs O(n).
    private struct Squasher {
        var out: [YjsStruct] = []
        /// The first item of the current run of items (its header is the squashed item's header).
        var head: YjsItem?
        var run: Run?
        /// The clock after the current run of items.
        var runEnd: UInt64 = 0

        enum Run {
            case string(String, UInt64)
            case any([YjsAny])
            case json([String?])
            case deleted(UInt64)
            case gc(YjsID, UInt64)

            init?(_ content: YjsContent) {
                switch content {
                case .string(let text, let units): self = .string(text, units)
                case .any(let elements): self = .any(elements)
                case .json(let elements): self = .json(elements)
                case .deleted(let length): self = .deleted(length)
                default: return nil
                }
            }

            var content: YjsContent? {
                switch self {
                case .string(let text, let units): .string(text, utf16Length: units)
                case .any(let elements): .any(elements)
                case .json(let elements): .json(elements)
                case .deleted(let length): .deleted(length: length)
                case .gc: nil
                }
            }

            /// Appends `content` if it is of this run's kind.
            mutating func absorb(_ content: YjsContent) -> Bool {
                switch (self, content) {
                case (.string(var text, let units), .string(let more, let moreUnits)):
                    self = .deleted(0)  // release the buffer so the append below does not copy it
                    text += more
                    self = .string(text, units + moreUnits)
                case (.any(var elements), .any(let more)):
                    self = .deleted(0)
                    elements += more
                    self = .any(elements)
                case (.json(var elements), .json(let more)):
                    self = .deleted(0)
                    elements += more
                    self = .json(elements)
                case (.deleted(let length), .deleted(let more)):
                    self = .deleted(length + more)
                default:
                    return false
                }
                return true
            }
        }

        mutating func append(_ structure: YjsStruct) {
            switch structure {
            case .gc(let id, let length):
                if case .gc(let start, let previous)? = run, start.clock + previous == id.clock {
                    run = .gc(start, previous + length)
                    return
                }
                flush()
                run = .gc(id, length)
            case .item(let item):
                if let head, item.id.clock == runEnd, item.id.clock > 0,
                    item.origin == YjsID(client: item.id.client, clock: runEnd - 1),
                    item.rightOrigin == head.rightOrigin, var current = run
                {
                    run = nil  // hold the accumulated buffer once, so appending does not copy it
                    let absorbed = current.absorb(item.content)
                    run = current
                    if absorbed {
                        runEnd += item.length
                        return
                    }
                }
                flush()
                if let start = Run(item.content) {
                    head = item
                    run = start
                    runEnd = item.id.clock + item.length
                } else {
                    out.append(structure)
                }
            case .skip:
                flush()
                out.append(structure)
            }
        }

        mutating func flush() {
            switch run {
            case .gc(let id, let length):
                out.append(.gc(id, length: length))
            case .some(let current):
                if var item = head, let content = current.content {
                    item.content = content
                    out.append(.item(item))
                }
            case nil:
                break
            }
            run = nil
            head = nil
        }

        mutating func finish() -> [YjsStruct] {
            flush()
            return out
        }
    }
}

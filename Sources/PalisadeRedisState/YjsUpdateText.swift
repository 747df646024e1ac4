import NIOCore
import PalisadeDocuments

/// A Yjs update as Open WebUI keeps it in Redis: the JSON text of an array of ints 0…255
/// (`json.dumps(list(update))`), one list element per update.
enum YjsUpdateText {
    /// `[1,0,3]`: compact JSON, which `json.loads` reads as Open WebUI's own `[1, 0, 3]`.
    static func encode(_ bytes: [UInt8]) -> ByteBuffer {
        var text = ByteBuffer()
        text.reserveCapacity(bytes.count * 4 + 2)
        text.writeInteger(UInt8(ascii: "["))
        for (index, byte) in bytes.enumerated() {
            if index > 0 { text.writeInteger(UInt8(ascii: ",")) }
            if byte >= 100 { text.writeInteger(UInt8(ascii: "0") + byte / 100) }
            if byte >= 10 { text.writeInteger(UInt8(ascii: "0") + byte / 10 % 10) }
            text.writeInteger(UInt8(ascii: "0") + byte % 10)
        }
        text.writeInteger(UInt8(ascii: "]"))
        return text
    }

    /// The bytes of such a text (spaces around the numbers allowed, as Python writes them);
    /// anything else is a damaged document (`corruptDocument`).
    static func decode(_ text: ByteBuffer) throws(DocumentStoreError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.readableBytes / 2)
        var expectingValue = true
        var current: Int?
        var closed = false
        let ok = text.readableBytesView.withContiguousStorageIfAvailable { view -> Bool in
            var index = view.startIndex
            while index < view.endIndex, view[index] == UInt8(ascii: " ") { index += 1 }
            guard index < view.endIndex, view[index] == UInt8(ascii: "[") else { return false }
            index += 1
            while index < view.endIndex {
                let character = view[index]
                index += 1
                switch character {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    guard expectingValue || current != nil else { return false }
                    let value = (current ?? 0) * 10 + Int(character - UInt8(ascii: "0"))
                    guard value <= 255 else { return false }
                    current = value
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                    if let value = current {
                        bytes.append(UInt8(value))
                        current = nil
                        expectingValue = false
                    }
                case UInt8(ascii: ","):
                    if let value = current {
                        bytes.append(UInt8(value))
                        current = nil
                    } else if expectingValue {
                        return false
                    }
                    expectingValue = true
                case UInt8(ascii: "]"):
                    if let value = current {
                        bytes.append(UInt8(value))
                        current = nil
                    } else if expectingValue && !bytes.isEmpty {
                        return false
                    }
                    closed = true
                    while index < view.endIndex, view[index] == UInt8(ascii: " ") { index += 1 }
                    return index == view.endIndex
                default:
                    return false
                }
            }
            return false
        }
        guard ok == true, closed else {
            throw DocumentStoreError(.corruptDocument, "a stored update is not a JSON array of bytes")
        }
        return bytes
    }
}

import NIOCore
import PalisadeJSON
import PalisadeProtocol

/// Binary attachments in a pub/sub `emit`, as python-socketio 5.16.2 carries them
/// (`async_pubsub_manager.py` 83-88 and 167-169): with `binary: true`, `data` is
/// `[args, base64(attachment 0), base64(attachment 1), …]`, where `args` is the argument list with each
/// bytes value replaced by `{"_placeholder": true, "num": n}` (`packet.py` `deconstruct_binary`).
enum PubSubBinary {
    /// The wire `data` for `arguments`, and whether it is in the binary form.
    static func deconstruct(_ arguments: [JSONValue]) -> (data: [JSONValue], binary: Bool) {
        guard arguments.contains(where: \.containsBinary) else { return (arguments, false) }
        var attachments: [JSONValue] = []
        let placed = arguments.map { replaceBinary($0, attachments: &attachments) }
        return ([.array(placed)] + attachments, true)
    }

    private static func replaceBinary(_ value: JSONValue, attachments: inout [JSONValue]) -> JSONValue {
        switch value {
        case .binary(let bytes):
            var text = ByteBuffer()
            Base64.encode(bytes, into: &text)
            attachments.append(.string(String(buffer: text)))
            return .object(["_placeholder": .bool(true), "num": JSONValue(attachments.count - 1)])
        case .array(let items):
            return .array(items.map { replaceBinary($0, attachments: &attachments) })
        case .object(let members):
            return .object(members.map { JSONMember($0.key, replaceBinary($0.value, attachments: &attachments)) })
        default:
            return value
        }
    }

    /// The arguments of a binary `data`; nil when it is malformed (an attachment that is not base64,
    /// a placeholder without its attachment).
    static func reconstruct(_ data: JSONValue) -> [JSONValue]? {
        guard case .array(let parts) = data, let first = parts.first else { return nil }
        var attachments: [ByteBuffer] = []
        for part in parts.dropFirst() {
            guard let text = part.stringValue, let bytes = Base64.decode(text.utf8) else { return nil }
            attachments.append(bytes)
        }
        guard let rebuilt = insertBinary(first, attachments: attachments) else { return nil }
        // python-socketio hands a non-list on as one argument.
        return rebuilt.arrayValue ?? [rebuilt]
    }

    private static func insertBinary(_ value: JSONValue, attachments: [ByteBuffer]) -> JSONValue? {
        switch value {
        case .object(let members):
            if value["_placeholder"] == .bool(true), let number = value["num"]?.intValue {
                return attachments.indices.contains(number) ? .binary(attachments[number]) : nil
            }
            var rebuilt: [JSONMember] = []
            for member in members {
                guard let inner = insertBinary(member.value, attachments: attachments) else { return nil }
                rebuilt.append(JSONMember(member.key, inner))
            }
            return .object(rebuilt)
        case .array(let items):
            var rebuilt: [JSONValue] = []
            for item in items {
                guard let inner = insertBinary(item, attachments: attachments) else { return nil }
                rebuilt.append(inner)
            }
            return .array(rebuilt)
        default:
            return value
        }
    }
}

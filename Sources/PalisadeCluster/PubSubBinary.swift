import NIOCore
import PalisadeJSON
import PalisadeProtocol

/// Binary attachments in a pub/sub `emit`, as python-socketio 5.16.2 carries them
/// (`async_pubsub_manager.py` 83-88 and 167-169): with `binary: true`, `data` is
/// `[args, base64(attachment 0), base64(attachment 1), …]`, where `args` is the argument list with each
/// bytes value replaced by `{"_placeholder": true, "num": n}` (`packet.py` `deconstruct_binary`):
/// the Socket.IO codec's placeholders, with the attachments in base64 text.
enum PubSubBinary {
    /// The wire `data` for `arguments`, and whether it is in the binary form.
    static func deconstruct(_ arguments: [JSONValue]) -> (data: [JSONValue], binary: Bool) {
        guard arguments.contains(where: \.containsBinary) else { return (arguments, false) }
        var attachments: [ByteBuffer] = []
        let placed = SocketPacketEncoder.extractBinary(from: .array(arguments), into: &attachments)
        let texts = attachments.map { bytes -> JSONValue in
            var text = ByteBuffer()
            Base64.encode(bytes, into: &text)
            return .string(String(buffer: text))
        }
        return ([placed] + texts, true)
    }

    /// The arguments of a binary `data`; nil when it is malformed (an attachment that is not base64,
    /// a placeholder without its attachment, one attachment named twice).
    static func reconstruct(_ data: JSONValue) -> [JSONValue]? {
        guard case .array(let parts) = data, let first = parts.first else { return nil }
        var attachments: [ByteBuffer] = []
        for part in parts.dropFirst() {
            guard let text = part.stringValue, let bytes = Base64.decode(text.utf8) else { return nil }
            attachments.append(bytes)
        }
        var used: UInt16 = 0
        guard let rebuilt = try? SocketPacketDecoder.replacePlaceholders(in: first, with: attachments, used: &used) else { return nil }
        // python-socketio hands a non-list on as one argument.
        return rebuilt.arrayValue ?? [rebuilt]
    }
}

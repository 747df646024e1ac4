import NIOCore
import PalisadeProtocol

/// Small JSON helpers for the server's own responses.
enum PalisadeJSON {
    /// A JSON string literal for `text`, quotes included.
    static func quoted(_ text: String) -> String {
        var buffer = ByteBuffer()
        JSONWriter.write(.string(text), into: &buffer)
        return String(buffer: buffer)
    }
}

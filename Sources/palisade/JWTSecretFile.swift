import PalisadeServer

#if canImport(Glibc)
    import Glibc
#endif

/// The JWT secret: the configured one, or (as Open WebUI does with its key file) a random
/// one created once in the data directory and reused by `serve` and `token`.
enum JWTSecretFile {
    static let fileName = "jwt-secret"

    /// Returns the secret and whether it was just created.
    static func resolve(configured: String?, dataDirectory: String) throws -> (secret: String, created: Bool) {
        if let configured, !configured.isEmpty { return (configured, false) }
        let path = dataDirectory + "/" + fileName
        if let existing = read(path), !existing.isEmpty { return (existing, false) }
        mkdir(dataDirectory, 0o700)
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        let secret = String((0..<48).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            // Another process created it first: use theirs.
            if let existing = read(path), !existing.isEmpty { return (existing, false) }
            throw Failure(message: "cannot create \(path)")
        }
        defer { close(descriptor) }
        _ = secret.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count - 1) }
        return (secret, true)
    }

    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(text.drop { $0 == " " }.reversed().drop { $0 == "\n" || $0 == " " || $0 == "\r" }.reversed())
    }
}

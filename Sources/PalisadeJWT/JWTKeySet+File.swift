import PalisadeJSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension JWTKeySet {
    /// Largest key file read; real JWKS documents are a few KiB.
    public static let maximumFileSize = 1024 * 1024

    /// Reads a key file: a JWKS (`{"keys": [...]}`), a single JWK, or PEM text (one key,
    /// without a `kid`).
    ///
    /// This blocks on file I/O: call it at start-up or reload time, never on an event loop.
    public init(contentsOfFile path: String) throws(JWTError) {
        let bytes = try Self.readFile(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .keyFileUnreadable(path: path, reason: "not UTF-8 text")
        }
        let start = text.drop { $0.isWhitespace }
        if start.hasPrefix("{") {
            let value: JSONValue
            do {
                value = try JSONParser.parse(text)
            } catch {
                throw .keyFileUnreadable(path: path, reason: "not valid JSON (\(error))")
            }
            if value["keys"] != nil {
                try self.init(jwks: value)
            } else {
                self.init(try JWTKey(jwk: value))
            }
        } else if start.hasPrefix("-----BEGIN ") {
            self.init(try JWTKey(pem: text))
        } else {
            throw .keyFileUnreadable(path: path, reason: "neither a JWKS, a JWK nor PEM")
        }
    }

    private static func readFile(_ path: String) throws(JWTError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .keyFileUnreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .keyFileUnreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            guard bytes.count <= maximumFileSize else {
                throw .keyFileUnreadable(path: path, reason: "larger than \(maximumFileSize) bytes")
            }
        }
    }
}

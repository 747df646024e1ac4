import Foundation

/// Certificates made at test time by the `openssl` CLI, in a temporary folder of their own.
public struct TestCertificates: Sendable {
    public let folder: URL

    public init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-certs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// A self-signed certificate for 127.0.0.1 named `name` and its unencrypted key (EC P-256, or
    /// RSA 2048); returns both paths.
    public func make(_ name: String, rsa: Bool = false) throws -> (certificate: String, key: String) {
        let newKey = rsa ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        try openssl(
            ["req", "-x509"] + newKey + [
                "-nodes", "-keyout", "\(name).key", "-out", "\(name).crt", "-days", "1", "-subj", "/CN=\(name)",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ])
        return (path(name + ".crt"), path(name + ".key"))
    }

    /// The full path of `file` in the folder.
    public func path(_ file: String) -> String { folder.appendingPathComponent(file).path }

    /// Writes `text` to `file` in the folder; returns its path.
    @discardableResult
    public func write(_ text: String, to file: String) throws -> String {
        try text.write(toFile: path(file), atomically: true, encoding: .utf8)
        return path(file)
    }

    /// Copies `source` over `file` in the folder (write aside, then rename, as deploy tools do).
    public func install(_ source: String, as file: String) throws {
        try write(try String(contentsOfFile: source, encoding: .utf8), to: file)
    }

    /// Runs `openssl` with `arguments` in the folder; throws if it fails.
    public func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Polled, not waitUntilExit: that can hang off the main thread on Linux.
        while process.isRunning { usleep(10_000) }
        guard process.terminationStatus == 0 else { throw Failure(command: arguments.joined(separator: " ")) }
    }

    public func remove() { try? FileManager.default.removeItem(at: folder) }

    public struct Failure: Error { public var command: String }
}

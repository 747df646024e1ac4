import Foundation
import NIOCore
import PalisadeRedisTestSupport
import Testing

@testable import PalisadeRedis

/// `rediss://` against `redis-server --tls-port`, with a CA and a server certificate made by the
/// `openssl` CLI for this test (SAN IP 127.0.0.1).
@Suite("Redis over TLS", .serialized)
struct RedisTLSTests {
    /// Runs `openssl` with `arguments` in `directory`; throws if it fails.
    private func openssl(_ arguments: [String], in directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Polled, not waitUntilExit: that can hang off the main thread on Linux.
        while process.isRunning { usleep(10_000) }
        guard process.terminationStatus == 0 else { throw TLSTestError.openssl(arguments.joined(separator: " ")) }
    }

    enum TLSTestError: Error { case openssl(String) }

    private func makeCertificates() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(
            to: directory.appendingPathComponent("san.ext"), atomically: true, encoding: .utf8)
        try openssl(
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                "-subj", "/CN=Palisade Test CA",
            ], in: directory)
        try openssl(
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
            in: directory)
        try openssl(
            [
                "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
                "-days", "2", "-extfile", "san.ext",
            ], in: directory)
        return directory
    }

    @Test func aRedissURLConnectsVerifiesAndRefusesAnUnknownCA() async throws {
        let certificates = try makeCertificates()
        defer { try? FileManager.default.removeItem(at: certificates) }
        let tlsPort = try RedisServerProcess.freePort()
        let server = try RedisServerProcess(arguments: [
            "--tls-port", "\(tlsPort)", "--tls-cert-file", certificates.appendingPathComponent("server.crt").path,
            "--tls-key-file", certificates.appendingPathComponent("server.key").path,
            "--tls-ca-cert-file", certificates.appendingPathComponent("ca.crt").path, "--tls-auth-clients", "no",
            "--requirepass", "tlspw",
        ])
        defer { server.stopAndRemove() }
        let caFile = certificates.appendingPathComponent("ca.crt").path
        try await withLoop { loop in
            let url = "rediss://:tlspw@127.0.0.1:\(tlsPort)/1?ssl_ca_certs=\(caFile)"
            let client = RedisClient(configuration: try .test(url), eventLoop: loop)
            try await client.waitUntilUp(timeout: .seconds(30)).get()
            let big = ByteBuffer(repeating: 0x5A, count: 200_000)
            _ = try await client.send("SET", "big", big).get()
            #expect(try await client.send("GET", "big").get() == .bulkString(big))
            let results = try await client.send(batch: (0..<2_000).map { RedisCommand("ECHO", "\($0)") }).get()
            #expect(try results.map { try $0.get().string } == (0..<2_000).map { "\($0)" })
            try await client.close().get()

            // The system's roots do not know the test CA: the handshake fails, and says why.
            let untrusted = RedisClient(configuration: try .test("rediss://:tlspw@127.0.0.1:\(tlsPort)"), eventLoop: loop)
            #expect(await eventually { untrusted.status.lastError != nil })
            #expect(untrusted.state != .up)
            #expect(untrusted.status.lastError?.message.contains("certificate verify failed") == true)
            try await untrusted.close().get()

            // redis-py's ssl_cert_reqs=none turns verification off.
            let unverified = RedisClient(
                configuration: try .test("rediss://:tlspw@127.0.0.1:\(tlsPort)?ssl_cert_reqs=none"), eventLoop: loop)
            try await unverified.waitUntilUp(timeout: .seconds(30)).get()
            try await unverified.close().get()

            let missingCA = RedisClient(
                configuration: try .test("rediss://127.0.0.1:\(tlsPort)?ssl_ca_certs=/nonexistent.pem"), eventLoop: loop)
            #expect(await eventually { missingCA.status.lastError != nil })
            #expect(missingCA.status.lastError?.code == .tls)
            try await missingCA.close().get()
        }
    }
}

import Foundation
import NIOCore
import PalisadeRedisTestSupport
import PalisadeTestSupport
import Testing

@testable import PalisadeRedis

/// `rediss://` against `redis-server --tls-port`, with a CA and a server certificate made by the
/// `openssl` CLI for this test (SAN IP 127.0.0.1).
@Suite("Redis over TLS", .serialized)
struct RedisTLSTests {
    private func makeCertificates() throws -> URL {
        let certificates = try TestCertificates()
        try certificates.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n", to: "san.ext")
        try certificates.openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=Palisade Test CA",
        ])
        try certificates.openssl([
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
        ])
        try certificates.openssl([
            "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
            "-days", "2", "-extfile", "san.ext",
        ])
        return certificates.folder
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

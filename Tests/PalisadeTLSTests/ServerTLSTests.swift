import NIOCore
import NIOPosix
import PalisadeTestSupport
import Testing

@testable import PalisadeTLS

/// The accept side against OpenSSL's own connect side, on loopback, with certificates made by the
/// `openssl` CLI for each test.
@Suite("TLS server side")
struct ServerTLSTests {
    @Test func aServerContextFromPEMFilesServesTLS13AndEchoes() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try certificates.make("a")
        let other = try certificates.make("b", rsa: true)
        try await withLoopback { loopback in
            let server = try await loopback.echoServer(try TLSContext.server(certificateFile: pair.certificate, keyFile: pair.key))
            defer { server.close(promise: nil) }
            let answer = try await loopback.roundTrip("hello over TLS", to: server, caFile: pair.certificate)
            #expect(answer.echo == "hello over TLS")
            #expect(answer.version == "TLSv1.3")
            // A client that trusts another certificate refuses this one (a TLSError, or the closed
            // channel, depending on whether its write got in before the handshake failed).
            await #expect(throws: (any Error).self) { _ = try await loopback.roundTrip("x", to: server, caFile: other.certificate) }
        }
    }

    @Test func unusableFilesAreErrorsNamingTheFile() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try certificates.make("a")
        let other = try certificates.make("b")
        let garbage = try certificates.write("not PEM\n", to: "garbage.pem")
        try certificates.openssl(["pkey", "-in", "a.key", "-aes256", "-passout", "pass:secret", "-out", "encrypted.key"])
        let encrypted = certificates.path("encrypted.key")
        let missing = certificates.path("missing.crt")
        let cases: [(certificate: String, key: String, named: String)] = [
            (missing, pair.key, missing), (garbage, pair.key, garbage), (pair.certificate, garbage, garbage),
            (pair.certificate, other.key, other.key), (pair.certificate, encrypted, encrypted),
        ]
        for (certificate, key, named) in cases {
            let error = #expect(throws: TLSError.self) { try TLSContext.server(certificateFile: certificate, keyFile: key) }
            #expect(error?.message.contains(named) == true, "\(error?.message ?? "no error")")
        }
    }

    @Test func aSilentOrGarbledPeerIsClosedAndTheNextOneServed() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try certificates.make("a")
        try await withLoopback { loopback in
            let context = try TLSContext.server(certificateFile: pair.certificate, keyFile: pair.key)
            // A short deadline for the silent peer only: a loaded machine may take that long to handshake.
            let impatient = try await loopback.echoServer(context, handshakeTimeout: .milliseconds(300))
            defer { impatient.close(promise: nil) }
            let silent = try await loopback.plainConnection(to: impatient, sending: [])
            // Upper bounds well under the 10 s default deadline leave a loaded machine its pauses.
            #expect(silent >= 0.25 && silent < 9, "closed after \(silent) s")
            let server = try await loopback.echoServer(context)
            defer { server.close(promise: nil) }
            let garbled = try await loopback.plainConnection(to: server, sending: Array("GET / HTTP/1.1\r\n\r\n".utf8))
            #expect(garbled < 9, "closed after \(garbled) s")  // at once, not at the 10 s deadline
            #expect(try await loopback.roundTrip("still serving", to: server, caFile: pair.certificate).echo == "still serving")
        }
    }

    @Test func alpnFindsHTTP11AmongTheOfferedNames() {
        func range(_ names: [String]) -> Range<Int>? {
            let list = names.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            return list.withUnsafeBufferPointer { TLSContext.http1Range(inALPNList: $0) }
        }
        #expect(range(["h2", "http/1.1"]) == 4..<12)
        #expect(range(["http/1.1"]) == 1..<9)
        #expect(range(["h2"]) == nil)
        #expect(range(["http/1.10"]) == nil)
        #expect(range([]) == nil)
        // A length byte that runs past the end is not read past it.
        #expect([UInt8(20), 0x68].withUnsafeBufferPointer { TLSContext.http1Range(inALPNList: $0) } == nil)
    }

    private func withLoopback(_ body: (LoopbackTLS) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try await body(LoopbackTLS(group: group))
        } catch {
            try await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }
}

import Logging
import NIOCore
import PalisadeTLS
import PalisadeTestSupport
import Testing

@testable import PalisadeServer

/// `server.tls_cert` and `server.tls_key`: loading at start, and reloading.
@Suite("TLS termination")
struct TLSTerminationTests {
    let logger = Logger(label: "test")

    @Test func aReloadSwapsTheContextAndABadFileKeepsTheOldOne() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let first = try certificates.make("a")
        let second = try certificates.make("b", rsa: true)
        try certificates.install(first.certificate, as: "served.crt")
        try certificates.install(first.key, as: "served.key")
        var configuration = ServerConfiguration()
        configuration.tlsCertificateFile = certificates.path("served.crt")
        configuration.tlsKeyFile = certificates.path("served.key")
        configuration.tlsHandshakeTimeoutSeconds = 2.5
        let tls = try #require(try await TLSTermination.load(configuration, logger: logger))
        #expect(tls.handshakeTimeout == .milliseconds(2500))
        let original = tls.context

        // Unchanged files still make a new context: a reload always reads them.
        try certificates.install(second.certificate, as: "served.crt")
        try certificates.install(second.key, as: "served.key")
        try await tls.reload()
        let swapped = tls.context
        #expect(swapped !== original)

        try certificates.write("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n", to: "served.crt")
        await #expect(throws: TLSError.self) { try await tls.reload() }
        #expect(tls.context === swapped)
        // A key that is not the certificate's is refused too, and changes nothing.
        try certificates.install(first.certificate, as: "served.crt")
        await #expect(throws: TLSError.self) { try await tls.reload() }
        #expect(tls.context === swapped)
    }

    @Test func withoutACertificateThereIsNoTLS() async throws {
        #expect(try await TLSTermination.load(ServerConfiguration(), logger: logger) == nil)
    }

    @Test func anUnusableFileAtStartIsAnErrorNamingIt() async throws {
        var configuration = ServerConfiguration()
        configuration.tlsCertificateFile = "/nonexistent/palisade.crt"
        configuration.tlsKeyFile = "/nonexistent/palisade.key"
        let error = await #expect(throws: TLSError.self) { try await TLSTermination.load(configuration, logger: logger) }
        #expect(error?.message.contains("/nonexistent/palisade.crt") == true)
    }

}

import NIOHTTP1
import Testing

@testable import PalisadeServer

/// Networks in CIDR notation, and the client's address behind trusted proxies.
@Suite struct TrustedProxiesTests {
    @Test func networksContainTheirAddresses() throws {
        let private10 = try #require(IPNetwork("10.0.0.0/8"))
        #expect(private10.contains("10.200.3.4") && !private10.contains("11.0.0.1"))
        #expect(private10.contains("::ffff:10.1.2.3"), "an IPv4-mapped address counts as IPv4")
        let host = try #require(IPNetwork("127.0.0.1"))
        #expect(host.contains("127.0.0.1") && !host.contains("127.0.0.2"))
        let v6 = try #require(IPNetwork("fd00::/8"))
        #expect(v6.contains("fd12::1") && !v6.contains("fe80::1") && !v6.contains("10.0.0.1"))
        #expect(IPNetwork("0.0.0.0/0")?.contains("203.0.113.9") == true)
        for bad in ["", "10.0.0.0/33", "::1/129", "10.0.0", "example.com", "10.0.0.0/x"] { #expect(IPNetwork(bad) == nil, "\(bad)") }
    }

    private let proxies = TrustedProxies([IPNetwork("127.0.0.1")!, IPNetwork("10.0.0.0/8")!])

    @Test func anUntrustedPeerIsTheClientWhateverItClaims() {
        let headers = HTTPHeaders([("X-Forwarded-For", "1.2.3.4"), ("Forwarded", "for=5.6.7.8"), ("X-Real-IP", "9.9.9.9")])
        #expect(proxies.clientAddress(peer: "203.0.113.7", headers: headers) == "203.0.113.7")
        #expect(TrustedProxies().clientAddress(peer: "127.0.0.1", headers: headers) == "127.0.0.1", "none trusted: the peer")
    }

    @Test func theRightMostUntrustedHopIsTheClient() {
        let chain = HTTPHeaders([("X-Forwarded-For", "6.6.6.6, 198.51.100.2, 10.1.1.1")])
        #expect(proxies.clientAddress(peer: "127.0.0.1", headers: chain) == "198.51.100.2", "6.6.6.6 is what the client claimed")
        let split = HTTPHeaders([("X-Forwarded-For", "198.51.100.2"), ("X-Forwarded-For", "10.1.1.1")])
        #expect(proxies.clientAddress(peer: "127.0.0.1", headers: split) == "198.51.100.2")
        let allTrusted = HTTPHeaders([("X-Forwarded-For", "10.2.2.2, 10.1.1.1")])
        #expect(proxies.clientAddress(peer: "127.0.0.1", headers: allTrusted) == "10.2.2.2")
    }

    @Test func forwardedComesFirstThenXForwardedForThenXRealIP() {
        let forwarded = HTTPHeaders([
            ("Forwarded", "for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.9"), ("X-Forwarded-For", "1.1.1.1"),
        ])
        #expect(proxies.clientAddress(peer: "127.0.0.1", headers: forwarded) == "2001:db8::7")
        let port = HTTPHeaders([("Forwarded", "for=192.0.2.60:8080")])
        #expect(proxies.clientAddress(peer: "127.0.0.1", headers: port) == "192.0.2.60")
        #expect(proxies.clientAddress(peer: "127.0.0.1", headers: HTTPHeaders([("X-Real-IP", "192.0.2.61")])) == "192.0.2.61")
        #expect(proxies.clientAddress(peer: "127.0.0.1", headers: HTTPHeaders()) == "127.0.0.1")
    }

    @Test func aHopThatIsNoAddressEndsTheChain() {
        let unknown = HTTPHeaders([("X-Forwarded-For", "1.2.3.4, unknown, 10.0.0.5")])
        #expect(proxies.clientAddress(peer: "127.0.0.1", headers: unknown) == "10.0.0.5")
        let garbage = HTTPHeaders([("X-Forwarded-For", "not-an-ip")])
        #expect(proxies.clientAddress(peer: "127.0.0.1", headers: garbage) == "127.0.0.1")
    }
}

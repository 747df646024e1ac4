import NIOCore
import NIOHTTP1
import PalisadeGateway
import Testing

@testable import PalisadeServer

@Suite struct EngineRequestTests {
    private func request(_ uri: String, method: HTTPMethod = .GET, headers: [(String, String)] = []) -> HandshakeRequest {
        HandshakeRequest(
            head: HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers)), remoteAddress: nil)
    }

    @Test func aWebSocketUpgradeIsRecognisedInAnyCaseAndList() {
        for values in [["websocket"], ["WebSocket"], ["h2c, websocket"], [" websocket\t"], ["h2c", "WEBSOCKET"], ["websocket,h2c"]] {
            #expect(request("/", headers: values.map { ("Upgrade", $0) }).isWebSocketUpgrade, "\(values)")
        }
        for values in [[], ["websockets"], ["web socket"], ["h2c"], ["websocket2"], [""], ["wEbsocke"], ["websocket;"]] {
            #expect(!request("/", headers: values.map { ("Upgrade", $0) }).isWebSocketUpgrade, "\(values)")
        }
        #expect(!request("/", headers: [("Connection", "websocket")]).isWebSocketUpgrade)
    }

    @Test func queryIsSplitAndPercentDecoded() {
        let parsed = request("/ws/socket.io/?EIO=4&transport=polling&t=a%2Fb&name=a+b&flag")
        #expect(parsed.path == "/ws/socket.io/")
        #expect(parsed.query["EIO"] == "4")
        #expect(parsed.transport == "polling")
        #expect(parsed.query["t"] == "a/b")
        #expect(parsed.query["name"] == "a b")
        #expect(parsed.query["flag"] == "")
        #expect(parsed.sid == nil)
    }

    @Test func firstOccurrenceOfARepeatedQueryKeyWins() {
        #expect(request("/x?sid=one&sid=two").sid == "one")
    }

    @Test func encodedUTF8EmptyPairsAndSecondEqualsSigns() {
        #expect(request("/x?&&a=%C3%A9&=v&b=x=y&c=%e2%82%ac").query == ["a": "é", "": "v", "b": "x=y", "c": "€"])
        #expect(request("/caf%C3%A9?q=1").path == "/caf%C3%A9", "the path is not decoded here")
    }

    @Test func malformedPercentEscapesAreKeptAsText() {
        #expect(request("/x?a=%zz&b=%4").query == ["a": "%zz", "b": "%4"])
    }

    @Test func errorBodiesUseTheReferenceCodesAndMessages() {
        #expect(EngineRequestError.unknownTransport.jsonBody == #"{"code":0,"message":"Transport unknown"}"#)
        #expect(EngineRequestError.unknownSession.jsonBody == #"{"code":1,"message":"Session ID unknown"}"#)
        #expect(EngineRequestError.badHandshakeMethod.jsonBody == #"{"code":2,"message":"Bad handshake method"}"#)
        #expect(EngineRequestError.badRequest.jsonBody == #"{"code":3,"message":"Bad request"}"#)
        #expect(EngineRequestError.forbidden.status == .forbidden)
        #expect(EngineRequestError.unsupportedProtocolVersion.jsonBody == #"{"code":5,"message":"Unsupported protocol version"}"#)
        #expect(EngineRequestError.forbidden("say \"no\"").jsonBody == #"{"code":4,"message":"say \"no\""}"#)
    }

    @Test func openPacketHasExactlyTheFiveKeysInOrder() {
        var configuration = ServerConfiguration()
        configuration.pingIntervalMs = 300
        configuration.pingTimeoutMs = 200
        let settings = EngineSettings(configuration)
        #expect(
            settings.openPayload(sid: "abc", upgrades: true)
                == #"{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#)
        #expect(settings.openPayload(sid: "abc", upgrades: false).contains(#""upgrades":[]"#))
    }

    @Test func sessionIDsAreTwentyURLSafeCharacters() {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = RandomID.make()
            #expect(id.count == 20)
            #expect(id.allSatisfy { allowed.contains($0) })
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }

    /// Each thread reads its own pool of random bytes: ids made on several threads at once never repeat.
    @Test func idsMadeOnManyThreadsAreDistinct() async {
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask { (0..<2000).map { _ in RandomID.make() } }
            }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(ids.count == 8000)
        #expect(Set(ids).count == 8000)
    }
}

@Suite struct OriginPolicyTests {
    private func request(origin: String?, host: String = "gw.example:8080", forwardedProto: String? = nil) -> HandshakeRequest {
        var headers = [("Host", host)]
        if let origin { headers.append(("Origin", origin)) }
        if let forwardedProto { headers.append(("X-Forwarded-Proto", forwardedProto)) }
        return HandshakeRequest(
            head: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ws/socket.io/", headers: HTTPHeaders(headers)), remoteAddress: nil
        )
    }

    @Test func sameOriginAllowsNoOriginAndTheHostItself() {
        let policy = OriginPolicy(allowed: .sameOrigin)
        #expect(policy.allows(request(origin: nil)))
        #expect(policy.allows(request(origin: "http://gw.example:8080")))
        #expect(policy.allows(request(origin: "HTTP://GW.example:8080")))
        #expect(!policy.allows(request(origin: "https://gw.example:8080")))
        #expect(!policy.allows(request(origin: "http://evil.example")))
        #expect(!policy.allows(request(origin: "null")))
    }

    @Test func sameOriginFollowsAForwardedScheme() {
        let policy = OriginPolicy(allowed: .sameOrigin)
        #expect(policy.allows(request(origin: "https://gw.example:8080", forwardedProto: "https")))
        #expect(!policy.allows(request(origin: "http://gw.example:8080", forwardedProto: "https")))
    }

    @Test func sameOriginMeansHTTPSOnATLSListener() {
        let policy = OriginPolicy(allowed: .sameOrigin, scheme: "https")
        #expect(policy.allows(request(origin: "https://gw.example:8080")))
        #expect(!policy.allows(request(origin: "http://gw.example:8080")))
    }

    @Test func listAllowsOnlyItsOrigins() {
        let policy = OriginPolicy(allowed: .list(["https://chat.example"]))
        #expect(policy.allows(request(origin: "https://chat.example")))
        #expect(!policy.allows(request(origin: "https://chat.example.evil")))
        #expect(
            policy.corsHeaders(for: request(origin: "https://chat.example")).contains {
                $0 == ("Access-Control-Allow-Origin", "https://chat.example")
            })
        #expect(policy.corsHeaders(for: request(origin: "https://evil.example")).isEmpty)
    }

    @Test func wildcardReflectsAnyOrigin() {
        let policy = OriginPolicy(allowed: .any)
        #expect(policy.allows(request(origin: "https://anything.example")))
        let preflight = policy.preflightHeaders(for: request(origin: "https://anything.example"))
        #expect(preflight.contains { $0.0 == "Access-Control-Allow-Methods" })
    }
}

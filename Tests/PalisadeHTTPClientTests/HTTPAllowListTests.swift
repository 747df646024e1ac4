import NIOCore
import PalisadeHTTPClient
import Testing

@Suite struct HTTPClientURLTests {
    @Test func partsOfAnAbsoluteURL() throws {
        let url = try #require(HTTPClientURL("HTTPS://Open-WebUI.example:8443/api/v1/notes?x=1#frag"))
        #expect(url.isTLS && url.host == "open-webui.example" && url.port == 8443)
        #expect(url.target == "/api/v1/notes?x=1" && url.path == "/api/v1/notes")
        #expect(url.hostHeader == "open-webui.example:8443")
        let bare = try #require(HTTPClientURL("http://127.0.0.1"))
        #expect(bare.port == 80 && bare.target == "/" && bare.hostHeader == "127.0.0.1")
        let v6 = try #require(HTTPClientURL("http://[::1]:8080/x"))
        #expect(v6.host == "::1" && v6.port == 8080 && v6.hostHeader == "[::1]:8080")
    }

    @Test(arguments: [
        "ftp://host/", "file:///etc/passwd", "http://", "http://user:pw@host/", "http://host:0/", "http://host:99999/",
        "http://host:x/", "http://ho st/", "http://host/a\nb", "http://host\\@evil/", "//host/x", "http://[::1/",
    ])
    func refused(text: String) {
        #expect(HTTPClientURL(text) == nil)
    }
}

@Suite struct HTTPAllowListTests {
    let list = try! HTTPAllowList(["http://127.0.0.1:8080/api/", "https://ow.example/"])

    @Test(arguments: [
        "http://127.0.0.1:8080/api/", "http://127.0.0.1:8080/api/v1/notes/1", "http://127.0.0.1:8080/api/v1?x=../../y",
        "https://ow.example/anything", "https://OW.example:443/x",
    ])
    func allowed(text: String) throws {
        #expect(list.allows(try #require(HTTPClientURL(text))))
    }

    @Test(arguments: [
        "http://127.0.0.1:8080/apix", "http://127.0.0.1:8080/admin", "http://127.0.0.1:8081/api/x", "https://127.0.0.1:8080/api/x",
        "http://localhost:8080/api/x", "http://127.0.0.1:8080/api/../admin", "http://127.0.0.1:8080/api/./x",
        "http://127.0.0.1:8080/api/%2e%2e/admin", "http://127.0.0.1:8080/api/%2E%2E/admin", "http://127.0.0.1:8080/api/..%2Fadmin",
        "http://127.0.0.1:8080/api/%5c..", "http://ow.example/x", "https://ow.example.evil/x",
    ])
    func refused(text: String) throws {
        #expect(!list.allows(try #require(HTTPClientURL(text))))
    }

    @Test func aBaseThatIsNotAnHTTPURLIsAConfigurationError() {
        #expect(throws: HTTPClientError.self) { try HTTPAllowList(["ftp://x/"]) }
        #expect(throws: HTTPClientError.self) { try HTTPAllowList(["http://x/?q=1"]) }
    }
}

@Suite struct HTTPResponseCacheTests {
    let response = HTTPClientResponse(status: 200, headers: [("content-type", "application/json")], body: Array("{}".utf8))

    @Test func entriesLiveAsLongAsTheirCallerSaid() {
        let cache = HTTPResponseCache()
        let now = NIODeadline.now()
        cache.put("k", url: "http://h/a", response, for: .seconds(5), now: now)
        #expect(cache.get("k", now: now + .seconds(4)) == response)
        #expect(cache.get("k", now: now + .seconds(6)) == nil)
        #expect(cache.count == 0)
    }

    @Test func forgetDropsTheEntriesUnderAPrefix() {
        let cache = HTTPResponseCache()
        cache.put("1", url: "http://h/api/notes/1", response, for: .seconds(60))
        cache.put("2", url: "http://h/api/notes/2", response, for: .seconds(60))
        cache.put("3", url: "http://h/api/users/1", response, for: .seconds(60))
        #expect(cache.forget(urlPrefix: "http://h/api/notes/") == 2)
        #expect(cache.get("3") != nil && cache.get("1") == nil)
    }

    @Test func fullCachesDropWhatExpiresFirst() {
        let cache = HTTPResponseCache(maxEntries: 2)
        let now = NIODeadline.now()
        cache.put("soon", url: "u", response, for: .seconds(1), now: now)
        cache.put("late", url: "u", response, for: .seconds(100), now: now)
        cache.put("new", url: "u", response, for: .seconds(50), now: now)
        #expect(cache.count == 2 && cache.get("soon", now: now) == nil && cache.get("late", now: now) != nil)
    }

    /// A full cache makes room for an eighth of its size at once, so it does not sort its
    /// entries again at every new one.
    @Test func aFullCacheMakesRoomForAnEighthAtOnce() {
        let cache = HTTPResponseCache(maxEntries: 80)
        let now = NIODeadline.now()
        for index in 0..<80 { cache.put("k\(index)", url: "u", response, for: .seconds(Int64(100 + index)), now: now) }
        #expect(cache.count == 80)
        cache.put("new", url: "u", response, for: .seconds(1_000), now: now)
        #expect(cache.count == 70, "eleven went, the soonest to expire, so that with the new one it holds seven eighths")
        #expect(cache.get("k10", now: now) == nil && cache.get("k11", now: now) != nil && cache.get("new", now: now) != nil)
        for index in 0..<9 { cache.put("more\(index)", url: "u", response, for: .seconds(1_000), now: now) }
        #expect(cache.count == 79, "no eviction until it is full again")
    }

    @Test func theByteBudgetHolds() {
        let big = HTTPClientResponse(status: 200, headers: [], body: Array(repeating: 1, count: 1000))
        let cache = HTTPResponseCache(maxBytes: 4000)
        for index in 0..<20 { cache.put("k\(index)", url: "u", big, for: .seconds(Int64(60 + index))) }
        #expect(cache.count <= 3)
        // A response over a quarter of the budget is not kept at all.
        cache.put("huge", url: "u", HTTPClientResponse(status: 200, headers: [], body: Array(repeating: 1, count: 1500)), for: .seconds(60))
        #expect(cache.get("huge") == nil)
    }
}

import Testing

@testable import PalisadeRedis

@Suite("Redis URLs")
struct RedisURLTests {
    @Test func aPlainURLTakesDefaults() throws {
        let url = try RedisURL(parsing: "redis://localhost")
        #expect(url.endpoint == .server(.init(host: "localhost", port: 6379)))
        #expect(url.database == 0 && url.username == nil && url.password == nil && !url.tls)
    }

    @Test func userPasswordPortAndDatabaseAreRead() throws {
        let url = try RedisURL(parsing: "redis://alice:s3cret@10.0.0.5:6380/3")
        #expect(url.endpoint == .server(.init(host: "10.0.0.5", port: 6380)))
        #expect(url.username == "alice" && url.password == "s3cret" && url.database == 3)
    }

    @Test func passwordOnlyFormsAreAccepted() throws {
        #expect(try RedisURL(parsing: "redis://:pw@h").password == "pw")
        #expect(try RedisURL(parsing: "redis://:pw@h").username == nil)
        #expect(try RedisURL(parsing: "redis://pw@h").password == "pw", "a lone user-info is the password, as redis-cli reads it")
    }

    @Test func userAndPasswordArePercentDecoded() throws {
        let url = try RedisURL(parsing: "redis://us%65r:p%40ss%3Aw%2Frd%25@h:1/0")
        #expect(url.username == "user" && url.password == "p@ss:w/rd%")
    }

    @Test func theDatabaseMayComeFromTheQuery() throws {
        let url = try RedisURL(parsing: "redis://h?db=5&ssl_cert_reqs=none")
        #expect(url.database == 5 && url.options == ["ssl_cert_reqs": "none"])
    }

    @Test func ipv6HostsAreBracketed() throws {
        #expect(try RedisURL(parsing: "redis://[::1]:7000").endpoint == .server(.init(host: "::1", port: 7000)))
        #expect(try RedisURL(parsing: "redis://[::1]").endpoint == .server(.init(host: "::1", port: 6379)))
    }

    @Test func redissMeansTLS() throws {
        #expect(try RedisURL(parsing: "rediss://h:6390").tls)
    }

    @Test func sentinelURLsInPythonSocketIOsOrder() throws {
        let url = try RedisURL(parsing: "redis+sentinel://user:pw@s1:26379,s2:26380,s3/2/mymaster")
        #expect(
            url.endpoint
                == .sentinel(
                    hosts: [
                        .init(host: "s1", port: 26379), .init(host: "s2", port: 26380),
                        .init(host: "s3", port: 26379),
                    ], service: "mymaster"))
        #expect(url.database == 2 && url.username == "user" && url.password == "pw")
    }

    @Test func sentinelURLsWithTheServiceFirst() throws {
        let url = try RedisURL(parsing: "redis+sentinel://pw@s1:26379/svc/4")
        #expect(url.endpoint == .sentinel(hosts: [.init(host: "s1", port: 26379)], service: "svc"))
        #expect(url.database == 4 && url.password == "pw")
        #expect(try RedisURL(parsing: "redis+sentinel://s1/svc").database == 0)
    }

    @Test func openWebUIsSeparateSentinelSettings() throws {
        let url = try RedisURL.openWebUI(
            url: "redis://:pw@mymaster:6379/1", sentinelHosts: "sa, sb", sentinelPort: "26390",
            sentinelMaxRetryCount: "5")
        #expect(url.endpoint == .sentinel(hosts: [.init(host: "sa", port: 26390), .init(host: "sb", port: 26390)], service: "mymaster"))
        #expect(url.password == "pw" && url.database == 1 && url.sentinelMaxRetries == 5)
        let defaults = try RedisURL.openWebUI(url: "redis://svc", sentinelHosts: "sa", sentinelPort: nil)
        #expect(defaults.endpoint == .sentinel(hosts: [.init(host: "sa", port: 26379)], service: "svc"))
        #expect(defaults.sentinelMaxRetries == 2)
        let plain = try RedisURL.openWebUI(url: "redis://h:1", sentinelHosts: "", sentinelPort: "26379")
        #expect(plain.endpoint == .server(.init(host: "h", port: 1)))
    }

    @Test(arguments: [
        "localhost:6379", "http://h", "redis://", "redis://h:0", "redis://h:70000", "redis://h:abc", "redis://h/x",
        "redis://h/-1", "redis://h/1/2", "redis://:p%zz@h", "redis://[::1", "redis+sentinel://s1:26379",
        "redis+sentinel://s1:26379,:1/0/m", "redis+sentinel://s1/0/m/x",
    ])
    func badURLsAreRefusedWithAReason(_ text: String) {
        #expect(throws: RedisError.self) { try RedisURL(parsing: text) }
        do { _ = try RedisURL(parsing: text) } catch let error as RedisError {
            #expect(error.code == .badURL && !error.message.isEmpty)
        } catch {}
    }

    @Test func badSentinelSettingsAreRefused() {
        #expect(throws: RedisError.self) { try RedisURL.openWebUI(url: "redis://m", sentinelHosts: "a", sentinelPort: "x") }
        #expect(throws: RedisError.self) { try RedisURL.openWebUI(url: "redis://m", sentinelHosts: "a,,b", sentinelPort: nil) }
        #expect(throws: RedisError.self) { try RedisURL.openWebUI(url: "redis://m", sentinelHosts: nil, sentinelMaxRetryCount: "-1") }
    }

    @Test func theDescriptionHidesThePassword() throws {
        let url = try RedisURL(parsing: "redis://alice:topsecret@h:1/2")
        #expect(!url.description.contains("topsecret") && url.description.contains("alice"))
        #expect(!RedisURL.redact("redis://:topsecret@h").contains("topsecret"))
    }
}

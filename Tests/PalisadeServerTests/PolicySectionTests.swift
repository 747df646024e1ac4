import PalisadeJSON
import Testing

@testable import PalisadeServer

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

@Suite struct PolicySectionTests {
    private func file(_ name: String, _ text: String) throws -> String {
        let path = "/tmp/palisade-policy-\(UInt32.random(in: 0...UInt32.max))-" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func yamlSectionKeepsOrderAndTypes() throws {
        let path = try file(
            "c.yaml",
            """
            server: {port: 9000}
            policy:
              ratelimit:
                events: {limit: 20, window_s: 10.5}
                count_refused: true
              auth: {require_known_user: false, name: "x", nothing: ~}
            """)
        let section = try PolicySection.load(configFile: path, environment: [:])
        #expect(
            JSONWriter.string(section)
                == #"{"ratelimit":{"events":{"limit":20,"window_s":10.5},"count_refused":true},"auth":{"require_known_user":false,"name":"x","nothing":null}}"#
        )
    }

    @Test func environmentOverridesByPathAndFindsKeysWithUnderscores() throws {
        let path = try file("c.json", #"{"policy":{"ratelimit":{"events":{"limit":20},"count_refused":false}}}"#)
        let section = try PolicySection.load(
            configFile: path,
            environment: [
                "PALISADE_POLICY_RATELIMIT_EVENTS_LIMIT": "5",
                "PALISADE_POLICY_RATELIMIT_COUNT_REFUSED": "true",
                "PALISADE_POLICY_AUTH_GRACE": "30",
                "PALISADE_POLICY_VALIDATE_EXTRA": #"["a","b"]"#,
                "OTHER": "x",
            ])
        #expect(section["ratelimit"]?["events"]?["limit"] == .number("5"))
        #expect(section["ratelimit"]?["count_refused"] == .bool(true))
        #expect(section["auth"]?["grace"] == .number("30"))
        #expect(section["validate"]?["extra"] == .array([.string("a"), .string("b")]))
    }

    @Test func aValueIsNeverMadeALevel() throws {
        let path = try file("c.json", #"{"policy":{"auth":{"anonymous":true}}}"#)
        let section = try PolicySection.load(configFile: path, environment: ["PALISADE_POLICY_AUTH_ANONYMOUS_PER_IP": "3"])
        #expect(section["auth"]?["anonymous"] == .bool(true), "the flag is kept")
        #expect(section["auth"]?["anonymous_per_ip"] == .number("3"))
    }

    @Test func theVariablesAreAlsoGivenByTheirExactNames() {
        let overrides = PolicySection.environmentOverrides([
            "PALISADE_POLICY_AUTH_GRACE_S": "5", "PALISADE_POLICY_VALIDATE_EXTRA_EVENTS": #"["a"]"#, "PALISADE_POLICY_": "x",
            "PALISADE_POLICY_EMPTY": "", "OTHER": "y",
        ])
        #expect(
            overrides == .object([JSONMember("AUTH_GRACE_S", .number("5")), JSONMember("VALIDATE_EXTRA_EVENTS", .array([.string("a")]))]))
    }

    @Test func noFileAndNoEnvironmentGiveAnEmptySection() throws {
        #expect(try PolicySection.load(configFile: nil, environment: [:]) == .object([]))
    }

    @Test func aPolicySectionThatIsNotAMappingIsRefused() throws {
        let path = try file("c.yaml", "policy: [1, 2]\n")
        #expect(throws: ConfigurationError.self) { try PolicySection.load(configFile: path, environment: [:]) }
    }
}

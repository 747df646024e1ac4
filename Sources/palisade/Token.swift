import ArgumentParser
import PalisadeJSON
import PalisadeJWT
import PalisadeServer

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `palisade token`: mints an HS256 test token with the secret `serve` uses.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Mint an HS256 test token signed with the JWT secret serve uses (PALISADE_JWT_SECRET, WEBUI_SECRET_KEY, or the one in the data directory)."
    )

    @Option(help: ArgumentHelp("User id, written to both the id and sub claims.", valueName: "id"))
    var sub: String

    @Option(help: ArgumentHelp("Role claim.", valueName: "role"))
    var role: String?

    @Option(help: ArgumentHelp("Lifetime in seconds (default 3600).", valueName: "seconds"))
    var ttl: Int = 3600

    @Option(help: ArgumentHelp("Data directory holding the generated secret (default ./data).", valueName: "dir"))
    var dataDir: String?

    @Option(help: ArgumentHelp("Config file (YAML or JSON), the one serve reads: its jwt and server sections apply.", valueName: "file"))
    var config: String?

    func run() async throws {
        let configuration: ServerConfiguration
        do {
            var flags: [String: String] = [:]
            if let dataDir { flags["server.data_dir"] = dataDir }
            configuration = try ConfigurationLoader(
                commandLine: flags, environment: ProcessInfo.processInfo.environment, configFile: config
            )
            .load()
        } catch {
            StandardError.write("palisade: \(error)\n")
            throw ExitCode(2)
        }
        guard ttl > 0 else {
            StandardError.write("palisade: token: --ttl must be positive\n")
            throw ExitCode(2)
        }
        let secret = try JWTSecretFile.resolve(configured: configuration.jwtSecret, dataDirectory: configuration.dataDirectory).secret
        let now = Int(JWTVerifier.currentTime())
        var claims: [JSONMember] = [
            JSONMember("id", .string(sub)), JSONMember("sub", .string(sub)),
            JSONMember("iat", JSONValue(now)), JSONMember("exp", JSONValue(now + ttl)),
            JSONMember("jti", .string(Self.randomID())),
        ]
        if let role { claims.append(JSONMember("role", .string(role))) }
        let token = try JWTSigner.sign(claims: .object(claims), key: JWTKey(secret: secret), algorithm: "HS256")
        print(token)
    }

    private static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(generator.next() as UInt32, radix: 16) }.joined(separator: "-")
    }
}

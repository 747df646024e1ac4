import ArgumentParser

/// `palisade token`: mint an HS256 test token. A later issue implements it.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mint an HS256 test token signed with PALISADE_JWT_SECRET."
    )

    @Option(help: ArgumentHelp("User id, written to both the id and sub claims.", valueName: "id"))
    var sub: String

    @Option(help: ArgumentHelp("Role claim.", valueName: "role"))
    var role: String?

    @Option(help: ArgumentHelp("Lifetime in seconds.", valueName: "seconds"))
    var ttl: Int?

    func run() async throws {
        StandardError.write("palisade: token: not implemented yet\n")
        throw ExitCode.failure
    }
}

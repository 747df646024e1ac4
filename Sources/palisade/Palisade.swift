import ArgumentParser

/// `palisade`: the gateway's command line. Each subcommand is one file; this one only lists them.
@main
struct Palisade: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "palisade",
        abstract: "A Socket.IO gateway whose security decisions are Lua policies.",
        subcommands: [Serve.self, Check.self, Token.self, Status.self]
    )
}

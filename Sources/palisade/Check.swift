import ArgumentParser

/// `palisade check`: load every script as a reload would and run the selftests. A later issue implements it.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load every policy and plugin as a reload would, run their selftests, report errors with file:line."
    )

    @Option(help: ArgumentHelp("Folder of policy scripts.", valueName: "dir"))
    var policies: String = "./policies"

    @Option(help: ArgumentHelp("Folder of plugin scripts.", valueName: "dir"))
    var plugins: String = "./plugins"

    func run() async throws {
        StandardError.write("palisade: check: not implemented yet\n")
        throw ExitCode.failure
    }
}

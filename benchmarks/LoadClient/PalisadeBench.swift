import ArgumentParser

/// The load client: connects to a Socket.IO v5 server over a direct Engine.IO v4 WebSocket and
/// drives one of four workloads. Prints one JSON line (stdout) and one sentence (stderr) per run.
@main
struct PalisadeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "palisade-bench",
        abstract: "Socket.IO load client: connect, echo, fanout and yjs workloads.",
        subcommands: [ConnectCommand.self, EchoCommand.self, FanoutCommand.self, YjsCommand.self])
}

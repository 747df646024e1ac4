import ArgumentParser
import NIOCore

/// Options every mode takes.
struct CommonOptions: ParsableArguments {
    @Option(help: "The server's Socket.IO URL (plain http:// or ws://).")
    var url = "http://127.0.0.1:8080/ws/socket.io/"

    @Option(help: "A JWT sent as the CONNECT auth {\"token\": …}.")
    var token: String?

    @Option(help: "A file with one JWT per line, used round-robin over the connections.")
    var tokenFile: String?

    @Option(help: "Event loops (threads) of the client.")
    var threads = 1

    @Option(help: "The server's pid: its CPU time (and RSS in connect mode) go into the report.")
    var serverPid: Int32?

    @Option(help: "Loopback source addresses to connect from (127.0.0.1…127.0.0.K); 0 picks one per 25 000 connections.")
    var sources = 0

    @Option(help: "Handshakes in flight at once while connecting.")
    var concurrency = 200

    @Option(help: "Seconds a connection may take to connect (TCP, upgrade, open, CONNECT and join).")
    var handshakeTimeout = 30

    func tokens() throws -> [String] {
        if let tokenFile {
            guard let text = SystemProbe.readFile(tokenFile) else { throw BenchError("cannot read \(tokenFile)") }
            let lines = text.split(whereSeparator: \.isNewline).map { String($0.filter { !$0.isWhitespace }) }.filter { !$0.isEmpty }
            guard !lines.isEmpty else { throw BenchError("\(tokenFile) holds no token") }
            return lines
        }
        return token.map { [$0] } ?? []
    }

    func sourceAddresses(target: BenchTarget, connections: Int) throws -> [SocketAddress] {
        let count = sources > 0 ? sources : (target.isLoopback ? (connections + 24_999) / 25_000 : 1)
        guard count > 1 else { return [] }
        guard target.isLoopback else { throw BenchError("--sources needs a loopback server address") }
        return try (1...min(count, 254)).map { try SocketAddress(ipAddress: "127.0.0.\($0)", port: 0) }
    }
}

import ArgumentParser
import NIOCore
import NIOPosix
import PalisadeHTTPClient
import PalisadeJSON
import PalisadeServer

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `palisade status`: asks a running instance through its admin API (and `/healthz`, `/metrics`)
/// and prints who is connected, what is refused and what is banned.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a running gateway's sessions, rooms, policy generation, caps, bans and recent refusals."
    )

    @Option(
        help: ArgumentHelp("The gateway's base URL (default: http://host:port of the configuration, 127.0.0.1:8080).", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("Admin token (default: PALISADE_ADMIN_TOKEN, or admin.token of --config).", valueName: "token"))
    var token: String?

    @Option(
        help: ArgumentHelp("Config file (YAML or JSON), the one serve reads: its admin.token and server port apply.", valueName: "file"))
    var config: String?

    @Option(
        help: ArgumentHelp(
            "PEM roots to check an https gateway's certificate with (default: http.ca_file of the configuration, else the system's).",
            valueName: "file"))
    var caFile: String?

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    /// Each answer is small; a larger one means something other than Palisade answered.
    static let maxResponseBytes = 16 << 20
    static let timeout = TimeAmount.seconds(10)

    func run() async throws {
        let configuration: ServerConfiguration
        do {
            configuration = try ConfigurationLoader(
                commandLine: [:], environment: ProcessInfo.processInfo.environment, configFile: config
            ).load()
        } catch {
            StandardError.write("palisade: \(error)\n")
            throw ExitCode(2)
        }
        let host = configuration.host == "0.0.0.0" || configuration.host == "::" ? "127.0.0.1" : configuration.host
        // A listener with TLS (server.tls_cert) speaks only https.
        let scheme = configuration.tlsCertificateFile == nil ? "http" : "https"
        let base = url ?? "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(configuration.port)"
        guard let adminToken = token ?? configuration.adminToken else {
            StandardError.write("palisade: status: no admin token (--token, PALISADE_ADMIN_TOKEN or admin.token)\n")
            throw ExitCode(2)
        }
        let report: StatusReport
        do {
            let fetcher = try StatusFetcher(base: base, token: adminToken, caFile: caFile ?? configuration.httpCAFile)
            report = StatusReport(
                url: base,
                sessions: try await fetcher.json("/admin/v1/sessions").arrayValue ?? [],
                health: try await fetcher.json("/healthz", admin: false, accepting: [200, 503]),
                metrics: try await fetcher.text("/metrics", admin: false),
                bans: try await fetcher.json("/admin/v1/bans").arrayValue ?? [],
                refusals: try await fetcher.json("/admin/v1/refusals").arrayValue ?? [])
        } catch {
            StandardError.write("palisade: status: \(error)\n")
            throw ExitCode(1)
        }
        print(json ? JSONWriter.string(report.json) : report.text, terminator: json ? "\n" : "")
    }
}

/// GETs against one gateway with the project's own HTTP client.
struct StatusFetcher {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let base: String
    let token: String
    let client: HTTPClient

    init(base: String, token: String, caFile: String? = nil) throws {
        guard HTTPClientURL(base) != nil else { throw Failure(description: "\(base) is not an http:// or https:// URL") }
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.token = token
        client = try HTTPClient(caFile: caFile)
    }

    func text(_ path: String, admin: Bool = true, accepting statuses: Set<Int> = [200]) async throws -> String {
        guard let url = HTTPClientURL(base + path) else { throw Failure(description: "\(base + path) is not a URL") }
        let headers: [(name: String, value: String)] = admin ? [(name: "Authorization", value: "Bearer \(token)")] : []
        let response = try await client.execute(
            HTTPClientRequest(url: url, headers: headers), timeout: Status.timeout, maxResponseBytes: Status.maxResponseBytes,
            on: MultiThreadedEventLoopGroup.singleton.next()
        ).get()
        let body = String(decoding: response.body, as: UTF8.self)
        guard statuses.contains(response.status) else {
            let hint =
                response.status == 401 ? " (wrong admin token?)" : response.status == 404 ? " (admin API off or an older server?)" : ""
            throw Failure(description: "GET \(path): HTTP \(response.status)\(hint): \(body.prefix(200))")
        }
        return body
    }

    func json(_ path: String, admin: Bool = true, accepting statuses: Set<Int> = [200]) async throws -> JSONValue {
        let body = try await text(path, admin: admin, accepting: statuses)
        do {
            return try JSONParser.parse(body)
        } catch {
            throw Failure(description: "GET \(path): the answer is not JSON")
        }
    }
}

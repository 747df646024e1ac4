import ArgumentParser
import Logging
import PalisadeJSON
import PalisadeServer

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `palisade serve`: resolve the configuration, set up logging, run the gateway until SIGTERM/SIGINT.
///
/// Every flag is taken as text and handed to `ConfigurationLoader` by key path, so a bad flag,
/// variable or file entry is reported the same way: `palisade: <message>`, exit code 2.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway until SIGTERM or SIGINT, then drain and exit.",
        discussion: ConfigurationLoader.settingsHelp
    )

    private static let defaults = ServerConfiguration()

    @Option(help: ArgumentHelp("Config file: .yaml, .yml or .json.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Address to listen on (default \(Serve.defaults.host)).", valueName: "host"))
    var host: String?

    @Option(help: ArgumentHelp("TCP port, 0 = any free port (default \(Serve.defaults.port)).", valueName: "port"))
    var port: String?

    @Option(help: ArgumentHelp("Folder of policy scripts (default \(Serve.defaults.policiesDirectory)).", valueName: "dir"))
    var policies: String?

    @Option(help: ArgumentHelp("Folder of plugin scripts (default \(Serve.defaults.pluginsDirectory)).", valueName: "dir"))
    var plugins: String?

    @Option(help: ArgumentHelp("Folder for SQLite data (default \(Serve.defaults.dataDirectory)).", valueName: "dir"))
    var dataDir: String?

    @Option(help: ArgumentHelp("Seconds between server pings (default \(Serve.defaults.pingIntervalMs / 1000)).", valueName: "seconds"))
    var pingInterval: String?

    @Option(help: ArgumentHelp("Seconds to wait for a pong (default \(Serve.defaults.pingTimeoutMs / 1000)).", valueName: "seconds"))
    var pingTimeout: String?

    @Option(help: ArgumentHelp("Largest message or polling body in bytes (default \(Serve.defaults.maxPayloadBytes)).", valueName: "bytes"))
    var maxPayload: String?

    @Option(help: ArgumentHelp("both, websocket or polling (default \(Serve.defaults.transports.rawValue)).", valueName: "transports"))
    var transports: String?

    @Option(
        help: ArgumentHelp(
            "Allowed browser origins: comma list of scheme://host[:port], or * (default: same origin only).",
            valueName: "origins"
        )
    )
    var corsAllowedOrigins: String?

    @Option(
        help: ArgumentHelp(
            "trace, debug, info, notice, warning, error or critical (default \(Serve.defaults.logLevel)).", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("text or json, one object per line (default \(Serve.defaults.logFormat)).", valueName: "format"))
    var logFormat: String?

    /// The flags given, by the key path of the setting each one sets.
    var settings: [String: String] {
        let flags: [(key: String, value: String?)] = [
            ("server.host", host),
            ("server.port", port),
            ("server.policies", policies),
            ("server.plugins", plugins),
            ("server.data_dir", dataDir),
            ("socketio.ping_interval", pingInterval),
            ("socketio.ping_timeout", pingTimeout),
            ("socketio.max_payload", maxPayload),
            ("socketio.transports", transports),
            ("socketio.cors_allowed_origins", corsAllowedOrigins),
            ("log.level", logLevel),
            ("log.format", logFormat),
        ]
        return Dictionary(uniqueKeysWithValues: flags.compactMap { flag in flag.value.map { (flag.key, $0) } })
    }

    func run() async throws {
        let configuration: ServerConfiguration
        do {
            configuration = try ConfigurationLoader(
                commandLine: settings,
                environment: ProcessInfo.processInfo.environment,
                configFile: config
            ).load()
        } catch let error as ConfigurationError {
            StandardError.write("palisade: \(error)\n")
            throw ExitCode(2)
        }

        let settings = PolicySettings(configuration: configuration, configFile: config, environment: ProcessInfo.processInfo.environment)
        do {
            _ = try settings.pxConfig()
        } catch {
            StandardError.write("palisade: \(error)\n")
            throw ExitCode(2)
        }
        LoggingBootstrap.bootstrap(configuration)
        let metricsText = MetricsBootstrap.bootstrap()
        let logger = Logger(label: "palisade")
        logger.debug("configuration loaded", metadata: ["config_file": "\(config ?? "none")"])
        do {
            let secret = try JWTSecretFile.resolve(configured: configuration.jwtSecret, dataDirectory: configuration.dataDirectory)
            if secret.created {
                logger.notice(
                    "no JWT secret configured: created a random one in the data directory",
                    metadata: ["file": "\(configuration.dataDirectory)/\(JWTSecretFile.fileName)"])
            }
            let gateway = PolicyGateway(
                configuration: configuration, settings: settings, jwtSecret: secret.secret, metricsText: metricsText, logger: logger)
            try await gateway.run()
        } catch {
            logger.critical("server failed", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }
}

import Foundation
import Testing

@testable import PalisadeServer

@Suite("ConfigurationLoader")
struct ConfigurationLoaderTests {
    // MARK: precedence

    @Test func nothingSetGivesTheDefaults() throws {
        let configuration = try ConfigurationLoader(environment: [:]).load()
        #expect(configuration == ServerConfiguration())
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.policiesDirectory == "./policies")
        #expect(configuration.pluginsDirectory == "./plugins")
        #expect(configuration.dataDirectory == "./data")
        #expect(configuration.pingIntervalMs == 25_000)
        #expect(configuration.pingTimeoutMs == 20_000)
        #expect(configuration.allowedOrigins == .sameOrigin)
        #expect(configuration.transports == .both)
        #expect(configuration.redisPrefix == "palisade")
        #expect(configuration.jwtSecret == nil && configuration.redisURL == nil && configuration.adminToken == nil)
    }

    @Test func inFrontOfOpenWebUITheKeyPrefixIsOpenWebUIsUnlessSet() throws {
        let alone = try ConfigurationLoader(environment: [:]).load()
        #expect(alone.redisPrefix == "palisade")
        let front = try ConfigurationLoader(environment: ["PALISADE_OPENWEBUI_URL": "http://127.0.0.1:8080"]).load()
        #expect(front.redisPrefix == "open-webui")
        let chosen = try ConfigurationLoader(environment: ["PALISADE_OPENWEBUI_URL": "http://127.0.0.1:8080", "REDIS_KEY_PREFIX": "ow"])
            .load()
        #expect(chosen.redisPrefix == "ow")
        let same = try ConfigurationLoader(
            environment: ["PALISADE_OPENWEBUI_URL": "http://127.0.0.1:8080", "PALISADE_REDIS_PREFIX": "palisade"]
        ).load()
        #expect(same.redisPrefix == "palisade")
    }

    @Test func environmentOverridesConfigFile() throws {
        try withConfigFile("palisade.yaml", "server:\n  host: 0.0.0.0\n  port: 7000\n") { path in
            let configuration = try ConfigurationLoader(
                environment: ["PALISADE_SERVER_PORT": "7100"],
                configFile: path
            ).load()
            #expect(configuration.port == 7100)
            #expect(configuration.host == "0.0.0.0")  // not in the environment: the file still counts
        }
    }

    @Test func flagOverridesEnvironment() throws {
        try withConfigFile("palisade.json", #"{"server": {"port": 7000}}"#) { path in
            let configuration = try ConfigurationLoader(
                commandLine: ["server.port": "9000"],
                environment: ["PALISADE_SERVER_PORT": "7100"],
                configFile: path
            ).load()
            #expect(configuration.port == 9000)
        }
    }

    @Test func palisadeNameBeatsOpenWebUIAlias() throws {
        let configuration = try ConfigurationLoader(environment: [
            "PALISADE_PING_INTERVAL": "10",
            "WEBSOCKET_SERVER_PING_INTERVAL": "30",
            "PALISADE_CORS_ALLOWED_ORIGINS": "https://a.example.com",
            "CORS_ALLOW_ORIGIN": "*",
            "PALISADE_JWT_SECRET": "palisade-key",
            "WEBUI_SECRET_KEY": "webui-key",
        ]).load()
        #expect(configuration.pingIntervalMs == 10_000)
        #expect(configuration.allowedOrigins == .list(["https://a.example.com"]))
        #expect(configuration.jwtSecret == "palisade-key")
    }

    @Test func fullPalisadeNameBeatsShortName() throws {
        let configuration = try ConfigurationLoader(environment: [
            "PALISADE_SOCKETIO_PING_INTERVAL": "5",
            "PALISADE_PING_INTERVAL": "10",
        ]).load()
        #expect(configuration.pingIntervalMs == 5_000)
    }

    @Test func openWebUIAliasesWorkAlone() throws {
        let configuration = try ConfigurationLoader(environment: [
            "WEBSOCKET_SERVER_PING_INTERVAL": "30",
            "WEBSOCKET_SERVER_PING_TIMEOUT": "2.5",
            "CORS_ALLOW_ORIGIN": "https://chat.example.com;http://localhost:5173",
            "WEBUI_SECRET_KEY": "t0p-secret",
            "WEBSOCKET_REDIS_URL": "redis://redis:6379/0",
            "REDIS_KEY_PREFIX": "open-webui",
        ]).load()
        #expect(configuration.pingIntervalMs == 30_000)
        #expect(configuration.pingTimeoutMs == 2_500)
        #expect(configuration.allowedOrigins == .list(["https://chat.example.com", "http://localhost:5173"]))
        #expect(configuration.jwtSecret == "t0p-secret")
        #expect(configuration.redisURL == "redis://redis:6379/0")
        #expect(configuration.redisPrefix == "open-webui")
    }

    @Test func designShortNamesApply() throws {
        let configuration = try ConfigurationLoader(environment: [
            "PALISADE_PING_TIMEOUT": "7",
            "PALISADE_DATA_DIR": "/var/lib/palisade",
            "PALISADE_LOG_LEVEL": "DEBUG",
            "PALISADE_LOG_FORMAT": "json",
            "PALISADE_REDIS_URL": "redis://localhost:6379",
            "PALISADE_REDIS_PREFIX": "px",
            "PALISADE_ADMIN_TOKEN": "admin-token",
        ]).load()
        #expect(configuration.pingTimeoutMs == 7_000)
        #expect(configuration.dataDirectory == "/var/lib/palisade")
        #expect(configuration.logLevel == "debug")
        #expect(configuration.logFormat == "json")
        #expect(configuration.redisURL == "redis://localhost:6379")
        #expect(configuration.redisPrefix == "px")
        #expect(configuration.adminToken == "admin-token")
    }

    @Test func disablingWebSocketSupportLeavesPollingOnly() throws {
        let disabled = try ConfigurationLoader(environment: ["ENABLE_WEBSOCKET_SUPPORT": "false"]).load()
        #expect(disabled.transports == .polling)
        let enabled = try ConfigurationLoader(environment: ["ENABLE_WEBSOCKET_SUPPORT": "True"]).load()
        #expect(enabled.transports == .both)
        let explicit = try ConfigurationLoader(environment: [
            "ENABLE_WEBSOCKET_SUPPORT": "false",
            "PALISADE_SOCKETIO_TRANSPORTS": "websocket",
        ]).load()
        #expect(explicit.transports == .websocket)
    }

    @Test func emptyEnvironmentVariableCountsAsUnset() throws {
        let configuration = try ConfigurationLoader(environment: [
            "PALISADE_SERVER_PORT": "",
            "PALISADE_JWT_SECRET": " ",
            "WEBUI_SECRET_KEY": "from-alias",
        ]).load()
        #expect(configuration.port == 8080)
        #expect(configuration.jwtSecret == "from-alias")
    }

    // MARK: files

    @Test func yamlFileLoads() throws {
        let yaml = """
            # Palisade, staging
            server:
              host: 0.0.0.0
              port: 9100
              threads: 4
              max_header_bytes: 32768
              request_timeout_s: 5
              drain_timeout_s: 0
              policies: /etc/palisade/policies
              plugins: /etc/palisade/plugins
              data_dir: /var/lib/palisade
            socketio:
              path: /ws/socket.io/
              ping_interval: 12.5
              ping_timeout: 10
              max_payload: 2000000
              transports: websocket
              cors_allowed_origins:
                - https://chat.example.com
                - HTTP://LOCALHOST:3000
              namespaces: /admin, /chat
              connect_timeout_s: 30
              upgrade_timeout_s: 5
              max_outbound_bytes: 1048576
              ack_timeout_s: 15
            log:
              level: warning
              format: json
            jwt:
              secret: s3cret
            redis:
              url:
              prefix: staging
            """
        try withConfigFile("palisade.yml", yaml) { path in
            let configuration = try ConfigurationLoader(environment: [:], configFile: path).load()
            var expected = ServerConfiguration()
            expected.host = "0.0.0.0"
            expected.port = 9100
            expected.eventLoopThreads = 4
            expected.maxHeaderBytes = 32768
            expected.requestTimeoutSeconds = 5
            expected.drainTimeoutSeconds = 0
            expected.policiesDirectory = "/etc/palisade/policies"
            expected.pluginsDirectory = "/etc/palisade/plugins"
            expected.dataDirectory = "/var/lib/palisade"
            expected.path = "/ws/socket.io"
            expected.pingIntervalMs = 12_500
            expected.pingTimeoutMs = 10_000
            expected.maxPayloadBytes = 2_000_000
            expected.transports = .websocket
            expected.allowedOrigins = .list(["https://chat.example.com", "http://localhost:3000"])
            expected.namespaces = ["/admin", "/chat"]
            expected.connectTimeoutMs = 30_000
            expected.upgradeTimeoutMs = 5_000
            expected.maxOutboundBytes = 1_048_576
            expected.ackTimeoutMs = 15_000
            expected.logLevel = "warning"
            expected.logFormat = "json"
            expected.jwtSecret = "s3cret"
            expected.redisURL = nil  // `url:` with no value is unset
            expected.redisPrefix = "staging"
            #expect(configuration == expected)
        }
    }

    @Test func jsonFileLoads() throws {
        let json = """
            {
              "server": {"host": "::", "port": 8443, "request_timeout_s": 2.5},
              "socketio": {
                "ping_interval": 20,
                "ping_timeout": 0.75,
                "transports": ["polling"],
                "cors_allowed_origins": "*",
                "namespaces": ["/", "/yjs", "/yjs"]
              },
              "log": {"level": "error"},
              "admin": {"token": "abc123"}
            }
            """
        try withConfigFile("palisade.json", json) { path in
            let configuration = try ConfigurationLoader(environment: [:], configFile: path).load()
            #expect(configuration.host == "::")
            #expect(configuration.port == 8443)
            #expect(configuration.requestTimeoutSeconds == 2.5)
            #expect(configuration.pingIntervalMs == 20_000)
            #expect(configuration.pingTimeoutMs == 750)
            #expect(configuration.transports == .polling)
            #expect(configuration.allowedOrigins == .any)
            #expect(configuration.namespaces == ["/yjs"])
            #expect(configuration.logLevel == "error")
            #expect(configuration.adminToken == "abc123")
        }
    }

    @Test func commentedOutYAMLFileIsEmpty() throws {
        try withConfigFile("palisade.yaml", "# server:\n#   port: 9000\n\n") { path in
            let configuration = try ConfigurationLoader(environment: [:], configFile: path).load()
            #expect(configuration == ServerConfiguration())
        }
    }

    // MARK: errors

    @Test func badEnvironmentValueNamesSettingAndVariable() throws {
        let error = try loadError(environment: ["PALISADE_PING_INTERVAL": "abc"])
        #expect(error.code == .invalidValue)
        #expect(error.key == "socketio.ping_interval")
        #expect(error.source == "PALISADE_PING_INTERVAL")
        #expect(
            error.description
                == #"invalid value "abc" for socketio.ping_interval (from PALISADE_PING_INTERVAL): expected a number of seconds > 0"#
        )
    }

    @Test func badFlagValueNamesTheCommandLine() throws {
        let error = try loadError(commandLine: ["server.port": "70000"])
        #expect(
            error.description
                == #"invalid value "70000" for server.port (from the command line): expected a port number 0...65535"#
        )
    }

    @Test func badFileValueNamesTheFile() throws {
        try withConfigFile("palisade.yaml", "socketio:\n  transports: carrier-pigeon\n") { path in
            let error = try loadError(configFile: path)
            #expect(error.key == "socketio.transports")
            #expect(error.source == "config file \(path)")
            #expect(error.description.contains("(from config file \(path))"))
            #expect(error.description.contains(#""carrier-pigeon""#))
        }
    }

    @Test(arguments: [
        ("PALISADE_SERVER_PORT", "-1", "server.port"),
        ("PALISADE_SERVER_PORT", "8080.5", "server.port"),
        ("PALISADE_SOCKETIO_MAX_PAYLOAD", "0", "socketio.max_payload"),
        ("PALISADE_SERVER_REQUEST_TIMEOUT_S", "-3", "server.request_timeout_s"),
        ("PALISADE_PING_TIMEOUT", "inf", "socketio.ping_timeout"),
        ("PALISADE_PING_TIMEOUT", "100000", "socketio.ping_timeout"),
        ("PALISADE_SOCKETIO_TRANSPORTS", "tcp", "socketio.transports"),
        ("PALISADE_LOG_LEVEL", "loud", "log.level"),
        ("PALISADE_LOG_FORMAT", "xml", "log.format"),
        ("PALISADE_SOCKETIO_PATH", "ws/socket.io", "socketio.path"),
        ("PALISADE_SOCKETIO_NAMESPACES", "chat", "socketio.namespaces"),
        ("PALISADE_CORS_ALLOWED_ORIGINS", "chat.example.com", "socketio.cors_allowed_origins"),
        ("CORS_ALLOW_ORIGIN", "https://chat.example.com/app", "socketio.cors_allowed_origins"),
        ("PALISADE_CORS_ALLOWED_ORIGINS", "*,https://chat.example.com", "socketio.cors_allowed_origins"),
        ("PALISADE_CORS_ALLOWED_ORIGINS", "http://localhost:0", "socketio.cors_allowed_origins"),
        ("ENABLE_WEBSOCKET_SUPPORT", "maybe", "socketio.transports"),
        ("PALISADE_SERVER_THREADS", "100000", "server.threads"),
        ("PALISADE_SERVER_HOST", "my host", "server.host"),
    ])
    func invalidValueIsRefused(variable: String, value: String, key: String) throws {
        let error = try loadError(environment: [variable: value])
        #expect(error.code == .invalidValue)
        #expect(error.key == key)
        #expect(error.source == variable)
        #expect(error.description.hasPrefix("invalid value \"\(value)\" for \(key) (from \(variable)): expected "))
    }

    @Test func secretValueIsNotEchoedInErrors() throws {
        let error = try loadError(environment: ["PALISADE_REDIS_URL": "redis://:hunter2@redis 6379"])
        #expect(error.key == "redis.url")
        #expect(!error.description.contains("hunter2"))
        #expect(error.description.hasPrefix("invalid value for redis.url (from PALISADE_REDIS_URL): expected "))
    }

    @Test func missingConfigFileIsAnErrorNamingTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-\(UUID()).yaml").path
        let error = try loadError(configFile: path)
        #expect(error.code == .configFileNotFound)
        #expect(error.source == path)
        #expect(error.description == "config file \(path) not found")
    }

    @Test func unparsableConfigFileIsAnErrorNamingTheFile() throws {
        try withConfigFile("palisade.json", #"{"server": {"port": 80"#) { path in
            let error = try loadError(configFile: path)
            #expect(error.code == .configFileInvalid)
            #expect(error.description.hasPrefix("cannot parse config file \(path): "))
        }
        try withConfigFile("palisade.yaml", "server: [unclosed\n") { path in
            let error = try loadError(configFile: path)
            #expect(error.code == .configFileInvalid)
            #expect(error.description.hasPrefix("cannot parse config file \(path): "))
        }
    }

    @Test func configFileOfUnknownTypeIsRefused() throws {
        try withConfigFile("palisade.toml", "[server]\nport = 1\n") { path in
            let error = try loadError(configFile: path)
            #expect(error.code == .configFileUnsupported)
            #expect(error.description.contains(path))
        }
    }

    @Test func tlsNeedsBothACertificateAndAKey() throws {
        let pair = try ConfigurationLoader(
            environment: ["PALISADE_SERVER_TLS_CERT": "/etc/p/cert.pem", "PALISADE_SERVER_TLS_KEY": "/etc/p/key.pem"]
        ).load()
        #expect(pair.tlsCertificateFile == "/etc/p/cert.pem" && pair.tlsKeyFile == "/etc/p/key.pem")
        #expect(pair.tlsHandshakeTimeoutSeconds == 10)
        let noKey = try loadError(environment: ["PALISADE_SERVER_TLS_CERT": "/etc/p/cert.pem"])
        #expect(noKey.key == "server.tls_key" && noKey.description.contains("server.tls_cert"))
        let noCertificate = try loadError(commandLine: ["server.tls_key": "/etc/p/key.pem"])
        #expect(noCertificate.key == "server.tls_cert")
        let timeout = try ConfigurationLoader(environment: ["PALISADE_SERVER_TLS_HANDSHAKE_TIMEOUT_S": "2.5"]).load()
        #expect(timeout.tlsHandshakeTimeoutSeconds == 2.5)
    }

    @Test func unknownCommandLineKeyIsRefused() throws {
        let error = try loadError(commandLine: ["server.prot": "9000"])
        #expect(error.code == .unknownSetting)
        #expect(error.key == "server.prot")
    }

    // MARK: names and help

    @Test func everySettingHasItsCanonicalEnvironmentName() {
        for key in ConfigurationLoader.settingKeys {
            let expected = "PALISADE_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
            #expect(ConfigurationLoader.environmentNames(for: key).first == expected)
        }
        #expect(
            ConfigurationLoader.environmentNames(for: "socketio.ping_interval")
                == ["PALISADE_SOCKETIO_PING_INTERVAL", "PALISADE_PING_INTERVAL", "WEBSOCKET_SERVER_PING_INTERVAL"]
        )
    }

    @Test func settingsHelpListsEveryKeyAndEnvironmentName() {
        let help = ConfigurationLoader.settingsHelp
        for key in ConfigurationLoader.settingKeys {
            #expect(help.contains(key))
            for name in ConfigurationLoader.environmentNames(for: key) {
                #expect(help.contains(name))
            }
        }
    }

    @Test func originsAreNormalised() {
        #expect(SettingValue.normalizedOrigin("HTTPS://Chat.Example.com") == "https://chat.example.com")
        #expect(SettingValue.normalizedOrigin("http://[::1]:8080") == "http://[::1]:8080")
        #expect(SettingValue.normalizedOrigin("http://open_webui:8080") == "http://open_webui:8080")
        #expect(SettingValue.normalizedOrigin("https://chat.example.com:443") == "https://chat.example.com")
        #expect(SettingValue.normalizedOrigin("http://localhost:80") == "http://localhost")
        #expect(SettingValue.normalizedOrigin("http://localhost:443") == "http://localhost:443")
        #expect(SettingValue.normalizedOrigin("https://chat.example.com/") == nil)
        #expect(SettingValue.normalizedOrigin("https://user@chat.example.com") == nil)
        #expect(SettingValue.normalizedOrigin("https://chat.example.com:+80") == nil)
        #expect(SettingValue.normalizedOrigin("://chat.example.com") == nil)
    }
}

// MARK: helpers

/// The error `load()` throws; fails the test when it succeeds or throws something else.
private func loadError(
    commandLine: [String: String] = [:],
    environment: [String: String] = [:],
    configFile: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> ConfigurationError {
    let loader = ConfigurationLoader(commandLine: commandLine, environment: environment, configFile: configFile)
    return try #require(throws: ConfigurationError.self, sourceLocation: sourceLocation) { try loader.load() }
}

/// Writes `contents` to `name` in a fresh temporary folder, runs `body` with its path, removes the folder.
private func withConfigFile(_ name: String, _ contents: String, _ body: (String) throws -> Void) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-config-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent(name)
    try Data(contents.utf8).write(to: file)
    try body(file.path)
}

/// Builds a `ServerConfiguration` from, highest precedence first: command-line flags,
/// environment variables, the config file, defaults.
///
/// Each setting is taken whole from the first layer that has it and validated there; a bad value
/// is a `ConfigurationError` naming the setting and its origin. A value overridden by a higher
/// layer is not looked at.
///
/// ```swift
/// let configuration = try ConfigurationLoader(
///     commandLine: ["server.port": "9000"],
///     environment: ProcessInfo.processInfo.environment,
///     configFile: "palisade.yaml"
/// ).load()
/// ```
public struct ConfigurationLoader: Sendable {
    /// Flag values by key path (`"socketio.ping_interval": "25"`), as the executable maps its flags.
    public var commandLine: [String: String]
    /// The process environment; injected so tests never read the real one.
    public var environment: [String: String]
    /// Path of a `.yaml`, `.yml` or `.json` file; nil = no file.
    public var configFile: String?

    public init(commandLine: [String: String] = [:], environment: [String: String], configFile: String? = nil) {
        self.commandLine = commandLine
        self.environment = environment
        self.configFile = configFile
    }

    /// Resolves and validates every setting.
    ///
    /// - Throws: `ConfigurationError` for an unknown command-line key, an unusable config file,
    ///   or the first invalid value (settings are checked in `settingKeys` order).
    public func load() throws -> ServerConfiguration {
        if let unknown = commandLine.keys.sorted().first(where: { Setting.byKey[$0] == nil }) {
            throw ConfigurationError(
                code: .unknownSetting,
                key: unknown,
                source: CommandLineSource.origin,
                message: "unknown setting \(unknown) (from \(CommandLineSource.origin))"
            )
        }
        var sources: [any SettingSource] = [
            CommandLineSource(values: commandLine),
            EnvironmentSource(environment: environment),
        ]
        if let configFile {
            sources.append(try FileSource(path: configFile))
        }

        var configuration = ServerConfiguration()
        var given: Set<String> = []
        for setting in Setting.all {
            for source in sources {
                guard let value = try source.value(for: setting) else { continue }
                try setting.apply(value, &configuration)
                given.insert(setting.key)
                break
            }
        }
        // In front of Open WebUI, its defaults: keys under Open WebUI's own default prefix, so the
        // revocation keys, the pools and the documents line up with its backend's.
        if configuration.openWebUIURL != nil, !given.contains("redis.prefix") {
            configuration.redisPrefix = ServerConfiguration.openWebUIRedisPrefix
        }
        // …and the largest message its client may send (16 MiB), within the inbound budget.
        if configuration.openWebUIURL != nil, !given.contains("socketio.max_payload") {
            configuration.maxPayloadBytes = ServerConfiguration.openWebUIMaxPayloadBytes
        }
        // …and time for its API to answer within a hook (the waits never block a loop).
        if configuration.openWebUIURL != nil, !given.contains("limits.hook_deadline_s") {
            configuration.hookDeadlineMs = ServerConfiguration.openWebUIHookDeadlineMs
        }
        try Self.checkTLSPair(configuration)
        return configuration
    }

    /// A certificate without its key, or the reverse, is a mistake: serving plain HTTP instead would hide it.
    private static func checkTLSPair(_ configuration: ServerConfiguration) throws {
        let (given, missing): (String, String)
        switch (configuration.tlsCertificateFile, configuration.tlsKeyFile) {
        case (nil, nil), (.some, .some): return
        case (.some, nil): (given, missing) = ("server.tls_cert", "server.tls_key")
        case (nil, .some): (given, missing) = ("server.tls_key", "server.tls_cert")
        }
        throw ConfigurationError(
            code: .invalidValue, key: missing, message: "\(given) is set but \(missing) is not: TLS needs both (or neither)")
    }

    /// Every setting's key path, in resolution order.
    public static var settingKeys: [String] { Setting.all.map(\.key) }

    /// Environment variable names of a setting, highest precedence first (canonical one first).
    public static func environmentNames(for key: String) -> [String] {
        guard let setting = Setting.byKey[key] else { return [] }
        return [EnvironmentSource.canonicalName(for: setting)] + setting.environmentNames.map(\.name)
    }

    /// Reference text for `--help`: every setting with its default, meaning and environment names.
    ///
    /// Wrapped here at 78 columns with a hanging indent; the argument parser would wrap long lines
    /// flush left and lose the layout.
    public static var settingsHelp: String {
        var lines = wrapped(
            "Settings come from, highest precedence first: command-line flags, environment variables, "
                + "the --config file (YAML or JSON; sections nest, as in socketio: {ping_interval: 25}), "
                + "defaults. Times are in seconds, fractions allowed. An empty environment variable counts "
                + "as unset.",
            indent: ""
        )
        lines.append("")
        lines += wrapped(
            "Config keys and their environment variables, highest precedence first "
                + "(* = Open WebUI's name):",
            indent: ""
        )
        let defaults = ServerConfiguration()
        for setting in Setting.all {
            var head = "  \(setting.key)"
            if let value = setting.defaultValue(defaults) { head += " (default \(value))" }
            lines += wrapped(head + ": " + setting.summary, indent: "      ")
            let names =
                [EnvironmentSource.canonicalName(for: setting)]
                + setting.environmentNames.map { $0.isOpenWebUIAlias ? $0.name + "*" : $0.name }
            lines += wrapped("      " + names.joined(separator: ", "), indent: "      ")
        }
        return lines.joined(separator: "\n")
    }

    /// `text` broken at spaces into lines of at most `width` columns, continuation lines indented.
    private static func wrapped(_ text: String, indent: String, width: Int = 78) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if line.isEmpty || line.allSatisfy({ $0 == " " }) {
                line += word.isEmpty ? " " : word
            } else if line.count + 1 + word.count <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = indent + word
            }
        }
        lines.append(line)
        return lines
    }
}

import Configuration

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One layer of settings. The loader asks the layers in precedence order and takes the first answer.
protocol SettingSource: Sendable {
    /// The value this layer holds for `setting`, or nil when it has none.
    func value(for setting: Setting) throws -> SettingValue?
}

/// Flags, already mapped by the executable to key paths (`"server.port": "9000"`).
struct CommandLineSource: SettingSource {
    static let origin = "the command line"
    var values: [String: String]

    func value(for setting: Setting) -> SettingValue? {
        values[setting.key].map {
            SettingValue(key: setting.key, raw: .text($0), origin: Self.origin, isSecret: setting.isSecret)
        }
    }
}

/// The environment: first the canonical `PALISADE_` + key path name, then the setting's
/// extra names in order (DESIGN's short `PALISADE_` names, then Open WebUI's).
///
/// The canonical name comes from swift-configuration's own environment provider behind a key
/// mapping that prepends `palisade` (`socketio.ping_interval` → `PALISADE_SOCKETIO_PING_INTERVAL`),
/// so it is the same rule a `ConfigReader` over the environment uses for any other key
/// (the free-form `policy` section included). The extra names are a fixed table read directly.
/// An empty variable counts as unset (`FOO=` in a compose file means "not configured").
struct EnvironmentSource: SettingSource {
    var environment: [String: String]
    private let canonical: KeyMappingProvider<EnvironmentVariablesProvider>

    init(environment: [String: String]) {
        self.environment = environment
        self.canonical = Self.canonicalProvider(environment)
    }

    private static func canonicalProvider(_ environment: [String: String]) -> KeyMappingProvider<EnvironmentVariablesProvider> {
        KeyMappingProvider(upstream: EnvironmentVariablesProvider(environmentVariables: environment)) {
            $0.prepending(["palisade"])
        }
    }

    /// `PALISADE_SOCKETIO_PING_INTERVAL` for `socketio.ping_interval`, as the provider encodes it.
    static func canonicalName(for setting: Setting) -> String {
        let lookup = try? canonicalProvider([:]).value(forKey: AbsoluteConfigKey(setting.keyComponents), type: .string)
        return lookup?.encodedKey ?? "PALISADE_" + setting.key.uppercased().replacing(".", with: "_")
    }

    func value(for setting: Setting) throws -> SettingValue? {
        let canonicalResult = try canonical.value(forKey: AbsoluteConfigKey(setting.keyComponents), type: .string)
        if case .string(let text)? = canonicalResult.value?.content, !SettingValue.trim(text).isEmpty {
            return SettingValue(key: setting.key, raw: .text(text), origin: canonicalResult.encodedKey, isSecret: setting.isSecret)
        }
        for name in setting.environmentNames {
            guard let text = environment[name.name], !SettingValue.trim(text).isEmpty else { continue }
            var value = SettingValue(key: setting.key, raw: .text(text), origin: name.name, isSecret: setting.isSecret)
            switch name.conversion {
            case .none:
                break
            case .webSocketSupportFlag:
                value.raw = .text(try value.webSocketSupportTransports())
            }
            return value
        }
        return nil
    }
}

extension SettingValue {
    /// Open WebUI's `ENABLE_WEBSOCKET_SUPPORT` as a transports value: true → `both`, false → `polling`.
    /// (Open WebUI reads anything but `true` as false; a typo here is refused instead.)
    func webSocketSupportTransports() throws -> String {
        switch try text(expected: "true or false").lowercased() {
        case "true", "1", "yes", "on": return ServerConfiguration.Transports.both.rawValue
        case "false", "0", "no", "off": return ServerConfiguration.Transports.polling.rawValue
        default: throw invalid("true or false")
        }
    }
}

/// The `--config` file, YAML (`.yaml`, `.yml`) or JSON (`.json`), parsed by swift-configuration's
/// snapshots. Sections nest: `socketio: {ping_interval: 25}` is `socketio.ping_interval`.
/// An empty or null value counts as unset, as in the environment.
struct FileSource: SettingSource {
    var path: String
    private var isYAML: Bool
    /// nil for a YAML file with nothing but comments and blank lines.
    private var snapshot: (any ConfigSnapshot)?

    var origin: String { "config file \(path)" }

    init(path: String) throws {
        self.path = path
        let lowercasedPath = path.lowercased()
        isYAML = lowercasedPath.hasSuffix(".yaml") || lowercasedPath.hasSuffix(".yml")
        guard isYAML || lowercasedPath.hasSuffix(".json") else {
            throw ConfigurationError(
                code: .configFileUnsupported,
                source: path,
                message: "config file \(path): unsupported file type, expected .yaml, .yml or .json"
            )
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError(code: .configFileNotFound, source: path, message: "config file \(path) not found")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(filePath: path))
        } catch {
            throw ConfigurationError(
                code: .configFileUnreadable,
                source: path,
                message: "cannot read config file \(path): \(error)"
            )
        }
        do {
            if isYAML {
                snapshot =
                    Self.isBlankYAML(data)
                    ? nil : try YAMLSnapshot(data: data.bytes, providerName: path, parsingOptions: .default)
            } else {
                snapshot = try JSONSnapshot(data: data.bytes, providerName: path, parsingOptions: .default)
            }
        } catch {
            throw ConfigurationError(
                code: .configFileInvalid,
                source: path,
                message: "cannot parse config file \(path): \(Self.parseErrorDetail(error))"
            )
        }
    }

    /// Yams' errors say line, column and context; JSONSerialization's description is a generic
    /// Cocoa sentence whose useful part ("Unexpected end of file …") hides in `NSDebugDescription`.
    private static func parseErrorDetail(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError, let detail = cocoa.userInfo["NSDebugDescription"] as? String {
            return detail
        }
        return "\(error)"
    }

    func value(for setting: Setting) throws -> SettingValue? {
        guard let snapshot else { return nil }
        let key = AbsoluteConfigKey(setting.keyComponents)
        // The snapshots convert on request and refuse a mismatched type, so ask for each shape in
        // turn: YAML answers every scalar as a string; JSON numbers answer only as numbers.
        for type in [ConfigType.string, .stringArray, .int, .double] {
            guard let result = try? snapshot.value(forKey: key, type: type) else { continue }
            guard let content = result.value?.content else { return nil }
            let raw: SettingValue.Raw
            switch content {
            case .string(let text):
                let trimmed = SettingValue.trim(text)
                if trimmed.isEmpty || (isYAML && (trimmed == "~" || trimmed == "null")) { return nil }
                raw = .text(text)
            case .stringArray(let items): raw = .list(items)
            case .int(let number): raw = .text("\(number)")
            case .double(let number): raw = .text("\(number)")
            default: continue
            }
            return SettingValue(key: setting.key, raw: raw, origin: origin, isSecret: setting.isSecret)
        }
        throw SettingValue(key: setting.key, raw: .text(""), origin: origin, isSecret: true)
            .invalid("a string, a number or a list of strings")
    }

    /// Yams refuses a document without a root node; a config file whose every line is blank or a
    /// comment (a template with everything commented out) is simply empty.
    private static func isBlankYAML(_ data: Data) -> Bool {
        String(decoding: data, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .allSatisfy { line in
                let trimmed = SettingValue.trim(line)
                return trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed == "---"
            }
    }
}

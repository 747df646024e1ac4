import PalisadeJSON
import PalisadeServer

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where `px.config` comes from, read again at every reload: the config file's `policy` section,
/// the `PALISADE_POLICY_*` variables, and the overrides the admin API writes
/// (`PUT /admin/v1/settings`, kept in `{data_dir}/policy-overrides.json`, deep-merged on top).
struct PolicySettings: Sendable {
    let configuration: ServerConfiguration
    let configFile: String?
    let environment: [String: String]

    var overridesPath: String { configuration.dataDirectory + "/policy-overrides.json" }

    /// The policy section in force: file and environment, then the overrides.
    func policySection() throws -> JSONValue {
        PolicySection.merge(try PolicySection.load(configFile: configFile, environment: environment), overrides())
    }

    /// `px.config` for a new generation.
    func pxConfig() throws -> JSONValue {
        PolicyHTTPSetup.config(configuration, policySettings: try policySection(), environment: environment)
    }

    /// The overrides written through the admin API (`{}` when none, or when the file is unreadable).
    func overrides() -> JSONValue {
        guard let data = FileManager.default.contents(atPath: overridesPath),
            let value = try? JSONParser.parse(Array(data)), value.isObject
        else { return .object([]) }
        return value
    }

    /// Replaces the overrides (written to a temporary file, then renamed: never half a file).
    func writeOverrides(_ overrides: JSONValue) throws {
        let temporary = overridesPath + ".tmp"
        try Data(JSONWriter.string(overrides).utf8).write(to: URL(fileURLWithPath: temporary))
        if FileManager.default.fileExists(atPath: overridesPath) { try FileManager.default.removeItem(atPath: overridesPath) }
        try FileManager.default.moveItem(atPath: temporary, toPath: overridesPath)
    }
}

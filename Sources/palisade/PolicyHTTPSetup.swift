import PalisadeHTTPClient
import PalisadeJSON
import PalisadePolicy
import PalisadeServer

/// `px.http` as the configuration sets it up: nil (every call refused) unless `http.allowed_urls`
/// or `openwebui.url` names at least one base URL.
enum PolicyHTTPSetup {
    static func make(_ configuration: ServerConfiguration) throws -> PolicyHTTP? {
        let bases = configuration.httpAllowedURLs + (configuration.openWebUIURL.map { [$0] } ?? [])
        guard !bases.isEmpty else { return nil }
        return PolicyHTTP(
            client: try HTTPClient(caFile: configuration.httpCAFile), allowList: try HTTPAllowList(bases),
            maxResponseBytes: configuration.httpMaxResponseBytes)
    }

    /// `px.config`: the free-form `policy` section, and `openwebui.url` when set.
    static func config(_ configuration: ServerConfiguration, policySettings: JSONValue) -> JSONValue {
        var members = [JSONMember("policy", policySettings)]
        if let url = configuration.openWebUIURL {
            members.append(JSONMember("openwebui", .object([JSONMember("url", .string(url))])))
        }
        return .object(members)
    }
}

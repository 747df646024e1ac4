import Logging
import NIOCore
import PalisadeHTTPClient
import PalisadeJSON
import PalisadePolicy
import PalisadeServer

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

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

    /// `px.alert`'s webhook (`alerts.webhook_url`), or nil.
    static func alerts(_ configuration: ServerConfiguration, loop: any EventLoop, logger: Logger) throws -> WebhookAlerts? {
        guard let text = configuration.alertsWebhookURL else { return nil }
        guard let url = HTTPClientURL(text) else { throw HTTPClientError(.invalidURL, "alerts.webhook_url: \(text)") }
        return WebhookAlerts(url: url, client: try HTTPClient(caFile: configuration.httpCAFile), loop: loop, logger: logger)
    }

    /// `px.config`: the free-form `policy` section, the `PALISADE_POLICY_*` variables by their
    /// exact names (`policy_env`), and `openwebui.url` when set.
    static func config(
        _ configuration: ServerConfiguration, policySettings: JSONValue,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> JSONValue {
        var members = [
            JSONMember("policy", policySettings), JSONMember("policy_env", PolicySection.environmentOverrides(environment)),
        ]
        if let url = configuration.openWebUIURL {
            members.append(JSONMember("openwebui", .object([JSONMember("url", .string(url))])))
        }
        return .object(members)
    }
}

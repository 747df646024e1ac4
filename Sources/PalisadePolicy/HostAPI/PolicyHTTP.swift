import NIOCore
import PalisadeHTTPClient

/// What `px.http` reaches: the client, the base URLs the configuration allows (a script
/// cannot widen them), the shared response cache, and the limits.
public struct PolicyHTTP: Sendable {
    public let client: HTTPClient
    public let allowList: HTTPAllowList
    public let cache: HTTPResponseCache
    /// The largest response body a call may read, and the default cap of each call.
    public let maxResponseBytes: Int
    /// A call's timeout when it names none; never past the hook's deadline.
    public let defaultTimeout: TimeAmount

    public init(
        client: HTTPClient, allowList: HTTPAllowList, cache: HTTPResponseCache = HTTPResponseCache(),
        maxResponseBytes: Int = 1 << 20, defaultTimeout: TimeAmount = .seconds(5)
    ) {
        self.client = client
        self.allowList = allowList
        self.cache = cache
        self.maxResponseBytes = maxResponseBytes
        self.defaultTimeout = defaultTimeout
    }
}

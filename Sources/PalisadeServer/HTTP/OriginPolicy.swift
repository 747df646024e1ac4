import NIOHTTP1
import PalisadeGateway

/// Which browser origins may open sessions, and the CORS headers polling responses carry.
struct OriginPolicy: Sendable {
    let allowed: ServerConfiguration.AllowedOrigins
    /// This listener's own scheme: `https` when it terminates TLS.
    var scheme = "http"

    /// Requests without `Origin` (non-browser clients) are always allowed; browsers send it.
    func allows(_ request: HandshakeRequest) -> Bool {
        guard let origin = request.origin else { return true }
        switch allowed {
        case .any:
            return true
        case .list(let origins):
            return origins.contains { $0.caseInsensitiveCompare(origin) }
        case .sameOrigin:
            // The scheme is this listener's unless a TLS-terminating proxy says otherwise;
            // browsers cannot set X-Forwarded-Proto themselves.
            guard let host = request.headers.first(name: "host") else { return false }
            let scheme = request.headers.first(name: "x-forwarded-proto")?.split(separator: ",").first.map(String.init) ?? scheme
            return origin.caseInsensitiveCompare(scheme.trimmingSpaces + "://" + host)
        }
    }

    /// CORS headers for a response to `request`: the origin reflected (with credentials)
    /// when it is allowed, nothing otherwise.
    func corsHeaders(for request: HandshakeRequest) -> [(String, String)] {
        guard let origin = request.origin, allows(request) else { return [] }
        return [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Credentials", "true"),
            ("Vary", "Origin"),
        ]
    }

    /// Extra headers of a preflight (OPTIONS) answer.
    func preflightHeaders(for request: HandshakeRequest) -> [(String, String)] {
        var headers = corsHeaders(for: request)
        guard !headers.isEmpty else { return [] }
        headers.append(("Access-Control-Allow-Methods", "GET,POST,OPTIONS"))
        if let asked = request.headers.first(name: "access-control-request-headers") {
            headers.append(("Access-Control-Allow-Headers", asked))
        }
        headers.append(("Access-Control-Max-Age", "600"))
        return headers
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }

    fileprivate func caseInsensitiveCompare(_ other: String) -> Bool {
        lowercased() == other.lowercased()
    }
}

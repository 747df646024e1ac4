/// Where Redis is and how to log in, parsed from the URL forms redis-py and Open WebUI accept:
///
/// - `redis://[user[:password]@]host[:port][/db]` (port 6379, db 0 by default; `?db=N` also works);
/// - `rediss://…` the same over TLS;
/// - `redis+sentinel://[user[:password]@]host1:port1,host2:port2/db/service` (python-socketio's
///   order, what Open WebUI builds from `WEBSOCKET_SENTINEL_HOSTS`), and `/service[/db]` as well:
///   a first path segment that is a number is the db.
///
/// The separate form Open WebUI configures (a base URL whose host is the service name, plus
/// `WEBSOCKET_SENTINEL_HOSTS`, `WEBSOCKET_SENTINEL_PORT`, `REDIS_SENTINEL_MAX_RETRY_COUNT`) is
/// `RedisURL.openWebUI(url:sentinelHosts:sentinelPort:sentinelMaxRetryCount:)`.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public struct HostPort: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public enum Endpoint: Sendable, Equatable {
        /// One server at a fixed address.
        case server(HostPort)
        /// Ask these Sentinels, in order, for the master of `service`.
        case sentinel(hosts: [HostPort], service: String)
    }

    public static let defaultPort = 6379
    public static let defaultSentinelPort = 26379
    /// Open WebUI's service name when its base URL has no host.
    public static let defaultSentinelService = "mymaster"

    public var endpoint: Endpoint
    /// `rediss://`: connect with TLS.
    public var tls: Bool
    /// ACL user (Redis 6+); nil logs in with the password only.
    public var username: String?
    public var password: String?
    public var database: Int
    /// Extra rounds over the Sentinel list within one connect attempt (Open WebUI's
    /// `REDIS_SENTINEL_MAX_RETRY_COUNT`, default 2).
    public var sentinelMaxRetries: Int
    /// Query parameters other than `db` (e.g. redis-py's `ssl_cert_reqs`), kept for the caller; not interpreted.
    public var options: [String: String]

    public init(
        endpoint: Endpoint, tls: Bool = false, username: String? = nil, password: String? = nil,
        database: Int = 0, sentinelMaxRetries: Int = 2, options: [String: String] = [:]
    ) {
        self.endpoint = endpoint
        self.tls = tls
        self.username = username
        self.password = password
        self.database = database
        self.sentinelMaxRetries = sentinelMaxRetries
        self.options = options
    }

    /// The URL without its password, for logs and `/healthz`.
    public var description: String {
        let scheme: String
        let hosts: String
        var path = ""
        switch endpoint {
        case .server(let address):
            scheme = tls ? "rediss" : "redis"
            hosts = address.description
            path = "/\(database)"
        case .sentinel(let list, let service):
            scheme = "redis+sentinel"
            hosts = list.map(\.description).joined(separator: ",")
            path = "/\(database)/\(service)"
        }
        let user = username.map { "\($0)\(password == nil ? "" : ":***")@" } ?? (password == nil ? "" : ":***@")
        return "\(scheme)://\(user)\(hosts)\(path)"
    }
}

extension RedisURL {
    /// Parses one of the URL forms above; the error names what is wrong.
    public init(parsing text: String) throws {
        guard let schemeEnd = text.firstRange(of: "://") else {
            throw RedisError(.badURL, "'\(Self.redact(text))' has no scheme (expected redis://, rediss:// or redis+sentinel://)")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(text[schemeEnd.upperBound...])
        let sentinel: Bool
        switch scheme {
        case "redis": (tls, sentinel) = (false, false)
        case "rediss": (tls, sentinel) = (true, false)
        case "redis+sentinel": (tls, sentinel) = (false, true)
        default: throw RedisError(.badURL, "unsupported scheme '\(scheme)' (expected redis://, rediss:// or redis+sentinel://)")
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...].dropFirst()

        username = nil
        password = nil
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = try Self.percentDecoded(userInfo[..<colon], what: "user name")
                username = user.isEmpty ? nil : user
                password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...], what: "password")
            } else if !userInfo.isEmpty {
                // redis-py reads a lone user-info as the user name (`redis://user@host`); with no
                // password AUTH would fail, so as Redis's own CLI does, take it as the password.
                password = try Self.percentDecoded(userInfo, what: "password")
            }
            if password?.isEmpty == true { password = nil }
        }

        options = [:]
        var queryDatabase: Int?
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try Self.percentDecoded(parts[0], what: "query key")
            let value = try Self.percentDecoded(parts.count > 1 ? parts[1] : "", what: "query value")
            if key == "db" { queryDatabase = try Self.database(value) } else { options[key] = value }
        }

        sentinelMaxRetries = 2
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        if sentinel {
            let hosts = try authority.split(separator: ",", omittingEmptySubsequences: false).map {
                try Self.hostPort($0, defaultPort: Self.defaultSentinelPort)
            }
            var service: String?
            var database = 0
            switch segments.count {
            case 0: break
            case 1:
                if let number = Int(segments[0]) { database = try Self.database(String(number)) } else { service = String(segments[0]) }
            case 2:
                if Int(segments[0]) != nil {
                    database = try Self.database(String(segments[0]))
                    service = String(segments[1])
                } else {
                    service = String(segments[0])
                    database = try Self.database(String(segments[1]))
                }
            default: throw RedisError(.badURL, "a Sentinel URL's path is /db/service, got '/\(path)'")
            }
            guard let service = service.map({ try? Self.percentDecoded($0[...], what: "service") }) ?? nil, !service.isEmpty else {
                throw RedisError(.badURL, "a Sentinel URL needs the master's service name: redis+sentinel://host:port/db/service")
            }
            endpoint = .sentinel(hosts: hosts, service: service)
            self.database = queryDatabase ?? database
        } else {
            endpoint = .server(try Self.hostPort(authority, defaultPort: Self.defaultPort))
            guard segments.count <= 1 else { throw RedisError(.badURL, "a Redis URL's path is /db, got '/\(path)'") }
            self.database = try queryDatabase ?? segments.first.map { try Self.database(String($0)) } ?? 0
        }
    }

    /// Open WebUI's separate Sentinel settings: `url`'s host is the service name (`mymaster` when
    /// empty), its credentials and db apply to the master, and each of the comma-separated
    /// `sentinelHosts` listens on `sentinelPort` (26379). Without sentinel hosts this is `RedisURL(parsing: url)`.
    public static func openWebUI(
        url: String, sentinelHosts: String?, sentinelPort: String? = nil,
        sentinelMaxRetryCount: String? = nil
    ) throws -> RedisURL {
        var parsed = try RedisURL(parsing: url)
        if let count = sentinelMaxRetryCount?.trimmingSpaces, !count.isEmpty {
            guard let retries = Int(count), retries >= 0 else {
                throw RedisError(.badURL, "REDIS_SENTINEL_MAX_RETRY_COUNT '\(count)' is not a count")
            }
            parsed.sentinelMaxRetries = retries
        }
        guard let hostList = sentinelHosts?.trimmingSpaces, !hostList.isEmpty else { return parsed }
        let portText = sentinelPort?.trimmingSpaces ?? ""
        let port = portText.isEmpty ? defaultSentinelPort : Int(portText) ?? -1
        guard (1...65_535).contains(port) else { throw RedisError(.badURL, "sentinel port '\(portText)' is not a port number") }
        guard case .server(let base) = parsed.endpoint else {
            throw RedisError(.badURL, "with sentinel hosts the base URL must be redis:// (its host names the service)")
        }
        let hosts = try hostList.split(separator: ",", omittingEmptySubsequences: false).map { item -> HostPort in
            let host = String(item).trimmingSpaces
            guard !host.isEmpty else { throw RedisError(.badURL, "empty host in sentinel hosts '\(hostList)'") }
            return HostPort(host: host, port: port)
        }
        parsed.endpoint = .sentinel(hosts: hosts, service: base.host.isEmpty ? defaultSentinelService : base.host)
        parsed.tls = false
        return parsed
    }
}

extension RedisURL {
    static func hostPort(_ text: Substring, defaultPort: Int) throws -> HostPort {
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw RedisError(.badURL, "unclosed '[' in host '\(text)'") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw RedisError(.badURL, "unexpected '\(after)' after host '\(host)'") }
                portText = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw RedisError(.badURL, "missing host in '\(text)'") }
        var port = defaultPort
        if let portText {
            guard let number = Int(portText), (1...65_535).contains(number) else {
                throw RedisError(.badURL, "port '\(portText)' is not a port number")
            }
            port = number
        }
        return HostPort(host: String(host), port: port)
    }

    static func database(_ text: String) throws -> Int {
        guard let number = Int(text), number >= 0 else { throw RedisError(.badURL, "database '\(text)' is not a number ≥ 0") }
        return number
    }

    /// `%XX` decoding of user, password and query parts; malformed escapes and non-UTF-8 results are errors.
    static func percentDecoded(_ text: Substring, what: String) throws -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw RedisError(.badURL, "bad percent escape in the \(what)")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw RedisError(.badURL, "the \(what) is not UTF-8 after percent-decoding")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The URL with any user-info replaced, for error messages.
    static func redact(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        let start = text.firstRange(of: "://")?.upperBound ?? text.startIndex
        return start < at ? text[..<start] + "***" + text[at...] : text
    }
}

extension String {
    var trimmingSpaces: String {
        let scalars = unicodeScalars.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        return String(String.UnicodeScalarView(scalars))
    }
}

import NIOHTTP1

/// The proxies whose word on the client's address is taken (`server.trusted_proxies`), and
/// the client address of a request. Only a request from one of them has its `Forwarded`
/// (RFC 7239 `for=`), else `X-Forwarded-For`, else `X-Real-IP` read; the chain is walked from
/// the right, past the trusted hops, and the first untrusted one is the client. From any other
/// peer those headers are ignored: a client cannot claim another address. With none
/// configured, the TCP peer is the client.
struct TrustedProxies: Sendable {
    let networks: [IPNetwork]

    init(_ networks: [IPNetwork] = []) {
        self.networks = networks
    }

    func trusts(_ address: String) -> Bool {
        networks.contains { $0.contains(address) }
    }

    /// The client's address for a request from `peer` with `headers`.
    func clientAddress(peer: String, headers: HTTPHeaders) -> String {
        guard !networks.isEmpty, trusts(peer) else { return peer }
        let chain = Self.forwardedChain(headers)
        guard !chain.isEmpty else { return peer }
        for hop in chain.reversed() where !trusts(hop) {
            return hop
        }
        return chain.first ?? peer
    }

    /// The addresses a request passed through, the client first, as the proxies said; entries
    /// that are not addresses (`unknown`, an obfuscated `_id`) end the chain there.
    static func forwardedChain(_ headers: HTTPHeaders) -> [String] {
        let forwarded = headers["forwarded"]
        if !forwarded.isEmpty {
            var chain: [String] = []
            for element in forwarded.joined(separator: ",").split(separator: ",") {
                for pair in element.split(separator: ";") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, parts[0].trimmed().lowercased() == "for" else { continue }
                    chain.append(Self.address(fromNode: parts[1].trimmed()))
                }
            }
            return Self.validPrefix(chain)
        }
        let forwardedFor = headers["x-forwarded-for"]
        if !forwardedFor.isEmpty {
            return Self.validPrefix(forwardedFor.joined(separator: ",").split(separator: ",").map { String($0.trimmed()) })
        }
        if let real = headers.first(name: "x-real-ip") { return Self.validPrefix([String(Substring(real).trimmed())]) }
        return []
    }

    /// `"[2001:db8::1]:4711"`, `192.0.2.1:80` or `"192.0.2.1"` → the address alone.
    private static func address(fromNode node: Substring) -> String {
        var node = node
        if node.hasPrefix("\""), node.hasSuffix("\""), node.count >= 2 { node = node.dropFirst().dropLast() }
        if node.hasPrefix("["), let close = node.firstIndex(of: "]") { return String(node[node.index(after: node.startIndex)..<close]) }
        if node.filter({ $0 == ":" }).count == 1, let colon = node.firstIndex(of: ":") { return String(node[..<colon]) }
        return String(node)
    }

    /// The chain from its end back to the first entry that is not an address: a hop the
    /// proxies could not name makes everything left of it unknowable.
    private static func validPrefix(_ chain: [String]) -> [String] {
        var kept: [String] = []
        for hop in chain.reversed() {
            guard IPNetwork.parse(hop) != nil else { break }
            kept.append(hop)
        }
        return kept.reversed()
    }
}

extension Substring {
    fileprivate func trimmed() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}

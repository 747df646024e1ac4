import NIOHTTP1
import PalisadeProtocol
import PalisadeServer
import Testing

@testable import PalisadePolicy

/// `req.headers` of the handshake hook: names lowercased, the first of names that differ
/// only in case kept.
@Suite struct RequestTableTests {
    @Test func headerNamesAreLowercasedAndTheFirstOfADuplicateWins() {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ws/socket.io/?EIO=4", headers: HTTPHeaders([
            ("Host", "gw.example"), ("user-agent", "test"), ("X-Custom", "first"), ("x-custom", "second"),
            ("ÄNDERUNG", "kept"), ("Sec-WebSocket-Key", "abc"),
        ]))
        let table = LuaPolicyEngine.requestTable(HandshakeRequest(head: head, remoteAddress: nil))
        guard case .object(let members) = table, let headers = members.first(where: { $0.key == "headers" })?.value,
              case .object(let fields) = headers else {
            Issue.record("no headers in \(table)")
            return
        }
        #expect(fields.map(\.key) == ["host", "user-agent", "x-custom", "änderung", "sec-websocket-key"])
        #expect(fields.first { $0.key == "x-custom" }?.value == .string("first"))
        #expect(fields.first { $0.key == "änderung" }?.value == .string("kept"))
    }
}

import CPalisadeShims
import NIOHTTP1
import PalisadeGateway
import PalisadeJSON
import Testing

@testable import PalisadePolicy

/// The handshake hook's `req` table, as `pushRequest` puts it on a Lua stack.
@Suite struct RequestTableTests {
    private func requestTable(uri: String, headers: [(String, String)]) throws -> [String: JSONValue] {
        let vm = try LuaVM(memoryCap: 16 << 20)
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: HTTPHeaders(headers))
        LuaPolicyEngine.pushRequest(HandshakeRequest(head: head, remoteAddress: nil), on: vm.L)
        defer { px_pop(vm.L, 1) }
        guard case .object(let members) = try LuaBridge.value(vm.L, at: -1) else { return [:] }
        return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    private func fields(_ value: JSONValue?) -> [String: JSONValue] {
        guard case .object(let members)? = value else { return [:] }
        return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func headerNamesAreLowercasedAndTheFirstOfADuplicateWins() throws {
        let table = try requestTable(
            uri: "/ws/socket.io/?EIO=4",
            headers: [
                ("Host", "gw.example"), ("user-agent", "test"), ("X-Custom", "first"), ("x-custom", "second"),
                ("ÄNDERUNG", "kept"), ("Sec-WebSocket-Key", "abc"),
            ])
        let headers = fields(table["headers"])
        #expect(Set(headers.keys) == ["host", "user-agent", "x-custom", "änderung", "sec-websocket-key"])
        #expect(headers["x-custom"] == .string("first"))
        #expect(headers["änderung"] == .string("kept"))
        #expect(headers["host"] == .string("gw.example"))
    }

    @Test func pathQueryOriginAndTransportAreFields() throws {
        let table = try requestTable(
            uri: "/ws/socket.io/?EIO=4&transport=websocket&t=a%20b",
            headers: [("Origin", "https://app.example")])
        #expect(table["path"] == .string("/ws/socket.io/"))
        #expect(table["transport"] == .string("websocket"))
        #expect(table["origin"] == .string("https://app.example"))
        #expect(table["ip"] == .string(""))
        #expect(fields(table["query"]) == ["EIO": .string("4"), "transport": .string("websocket"), "t": .string("a b")])
    }

    @Test func aMissingOriginIsNull() throws {
        let table = try requestTable(uri: "/socket.io/?EIO=4&transport=polling", headers: [])
        #expect(table["origin"] == .null)
        #expect(fields(table["headers"]).isEmpty)
    }
}

import NIOCore
import PalisadeJSON

/// Which sessions an admin call is about: every field that is set must match.
public struct SessionFilter: Sendable, Equatable {
    public var sid: String?
    public var userID: String?
    public var ip: String?
    /// A room the session is in.
    public var room: String?

    public init(sid: String? = nil, userID: String? = nil, ip: String? = nil, room: String? = nil) {
        self.sid = sid
        self.userID = userID
        self.ip = ip
        self.room = room
    }

    public func matches(_ info: SocketInfo) -> Bool {
        (sid.map { $0 == info.sid } ?? true) && (userID.map { $0 == info.userID } ?? true)
            && (ip.map { $0 == info.ip } ?? true) && (room.map { info.rooms.contains($0) } ?? true)
    }

    /// The filter as a JSON object (what travels between instances).
    public var json: JSONValue {
        let fields: [(String, String?)] = [("sid", sid), ("user_id", userID), ("ip", ip), ("room", room)]
        return .object(fields.compactMap { name, value in value.map { JSONMember(name, .string($0)) } })
    }

    /// The filter `json` describes; fields that are not strings are left out.
    public init(json: JSONValue) {
        self.init(
            sid: json["sid"]?.stringValue, userID: json["user_id"]?.stringValue, ip: json["ip"]?.stringValue,
            room: json["room"]?.stringValue)
    }
}

extension SocketServer {
    /// Disconnects this instance's sessions that match; answers how many. A filter on a sid
    /// alone looks that socket up rather than reading every session.
    public func disconnect(matching filter: SessionFilter, on loop: any EventLoop) -> EventLoopFuture<Int> {
        if let sid = filter.sid, filter.userID == nil, filter.ip == nil, filter.room == nil {
            return loop.makeSucceededFuture(disconnect(sid: sid) ? 1 : 0)
        }
        return disconnect(where: filter.matches, on: loop)
    }
}

extension SocketInfo {
    /// A session as the admin API lists it.
    public var adminJSON: JSONValue {
        .object([
            JSONMember("sid", .string(sid)),
            JSONMember("user_id", userID.map { .string($0) } ?? .null),
            JSONMember("ip", .string(ip)),
            JSONMember("transport", .string(transport)),
            JSONMember("rooms", .array(rooms.map { .string($0) })),
            JSONMember("connected_at", .number(String(format: "%.3f", connectedAt))),
        ])
    }
}

/// The other instances of a cluster, for the admin calls that span it: listing and closing
/// sessions. Without one (a single instance) those calls see this instance only.
public protocol AdminCluster: Sendable {
    /// The sessions matching `filter` on the other instances that answer in time, as `adminJSON`.
    func sessions(matching filter: SessionFilter) async -> [JSONValue]
    /// Closes the sessions matching `filter` on the other instances; answers how many closed.
    func disconnect(matching filter: SessionFilter) async -> Int
}

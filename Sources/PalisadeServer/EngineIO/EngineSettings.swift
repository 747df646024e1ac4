import NIOCore

/// The Engine.IO part of the configuration, in the units the session code uses.
struct EngineSettings: Sendable {
    var pingInterval: TimeAmount
    var pingTimeout: TimeAmount
    var maxPayload: Int
    var upgradeTimeout: TimeAmount
    var maxOutboundBytes: Int
    var allowsPolling: Bool
    var allowsWebSocket: Bool
    var maxConnections: Int
    var maxConnectionsPerIP: Int
    var maxInboundBufferBytes: Int
    /// The python client refuses a polling payload of more than 16 packets.
    static let maxPacketsPerPoll = 16

    init(_ configuration: ServerConfiguration) {
        pingInterval = .milliseconds(Int64(configuration.pingIntervalMs))
        pingTimeout = .milliseconds(Int64(configuration.pingTimeoutMs))
        maxPayload = configuration.maxPayloadBytes
        upgradeTimeout = .milliseconds(Int64(configuration.upgradeTimeoutMs))
        maxOutboundBytes = configuration.maxOutboundBytes
        allowsPolling = configuration.transports.allowsPolling
        allowsWebSocket = configuration.transports.allowsWebSocket
        maxConnections = configuration.maxConnections
        maxConnectionsPerIP = configuration.maxConnectionsPerIP
        maxInboundBufferBytes = configuration.maxInboundBufferBytes
    }

    /// The open packet's JSON: exactly these five keys, in the reference's order.
    func openPayload(sid: String, upgrades: Bool) -> String {
        let upgradeList = upgrades ? "[\"websocket\"]" : "[]"
        return "{\"sid\":\"\(sid)\",\"upgrades\":\(upgradeList),\"pingInterval\":\(pingInterval.nanoseconds / 1_000_000),"
            + "\"pingTimeout\":\(pingTimeout.nanoseconds / 1_000_000),\"maxPayload\":\(maxPayload)}"
    }
}

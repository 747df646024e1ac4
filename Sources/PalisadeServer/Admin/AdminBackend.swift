import PalisadeJSON

/// What the admin API needs from outside the core (the policy engine, the directory,
/// the shared store). The product wires it; every call may do I/O.
public protocol AdminBackend: Sendable {
    /// Reloads policies and plugins; returns the new generation or throws the error (file:line).
    func reload() async throws -> Int
    func directoryGet(kind: String, id: String) async throws -> JSONValue?
    func directoryPut(kind: String, id: String, record: JSONValue) async throws
    func directoryDelete(kind: String, id: String) async throws -> Bool
    /// Writes Open WebUI's revocation keys: `auth:token:{jti}:revoked` and/or
    /// `auth:user:{id}:revoked_at`.
    func revoke(tokenID: String?, userID: String?, expiresIn: Double?) async throws
    /// `{policy, overrides}`: the `policy` section in force and the overrides written through the API.
    func policySettings() async throws -> JSONValue
    /// Replaces the overrides of the `policy` section and reloads; the new generation, or the
    /// reload's error (then nothing changed).
    func replacePolicyOverrides(_ overrides: JSONValue) async throws -> Int
    /// The bans in the shared store (`Ban.storeKey`): every instance's and the policies' own.
    func loadBans() async throws -> [Ban]
    func saveBan(_ ban: Ban) async throws
    /// True when the ban was there.
    func deleteBan(field: String) async throws -> Bool
}

/// The admin API's settings: off unless a token is configured.
public struct AdminConfiguration: Sendable {
    public var token: String
    public var backend: any AdminBackend
    public var socketServer: SocketServer
    /// The other instances, when there are any: session listing and closing span them.
    public var cluster: (any AdminCluster)?
    /// The most recent refusals, for `GET /admin/v1/refusals` (nil: it answers an empty list).
    public var refusals: RefusalLog?

    public init(
        token: String, backend: any AdminBackend, socketServer: SocketServer, cluster: (any AdminCluster)? = nil,
        refusals: RefusalLog? = nil
    ) {
        self.token = token
        self.backend = backend
        self.socketServer = socketServer
        self.cluster = cluster
        self.refusals = refusals
    }
}

import NIOCore
import PalisadeJSON
import PalisadeJWT
import PalisadePolicy
import PalisadeServer

/// The admin API's backend in the product: reloads go to the policy engine, revocations
/// to the shared store (the keys Open WebUI writes), directory records to the directory.
struct GatewayAdminBackend: AdminBackend {
    let engine: LuaPolicyEngine
    let host: PolicyHost
    let loop: any EventLoop
    /// Tells the other instances that tokens were revoked (nil: one instance).
    var afterRevoke: (@Sendable () -> Void)? = nil
    /// The listener's TLS, whose files a reload reads again (nil: plain HTTP).
    var tls: TLSTermination? = nil
    /// Where `px.config` is read from again at each reload (nil: it stays as it started).
    var settings: PolicySettings? = nil
    /// How long a revoked token's marker is kept when the request names no `ttl_s`
    /// (Open WebUI's tokens live at most this long by default).
    static let defaultRevocationTTL = 7.0 * 24 * 3600

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The TLS certificate, then policies and plugins. A certificate that cannot be used keeps
    /// the old one; the policies are reloaded all the same, and the reload fails naming both.
    func reload() async throws -> Int {
        var tlsFailure: (any Error)?
        do { try await tls?.reload() } catch { tlsFailure = error }
        let generation = try await reloadPolicies()
        if let tlsFailure {
            throw Failure(
                description: "policies reloaded (generation \(generation)), but the TLS certificate was not, "
                    + "and the old one stays in force: \(tlsFailure)")
        }
        return generation
    }

    /// Reads the policy section again (config file, environment, overrides), then builds a new
    /// generation with it; a section that cannot be read fails the reload and keeps everything.
    func reloadPolicies() async throws -> Int {
        if let settings {
            do {
                host.replaceConfig(try settings.pxConfig())
            } catch {
                throw Failure(description: "the policy section could not be read: \(error)")
            }
        }
        return try await engine.reload(on: loop)
    }

    func policySettings() async throws -> JSONValue {
        guard let settings else { throw Failure(description: "live settings are not available") }
        return .object([JSONMember("policy", try settings.policySection()), JSONMember("overrides", settings.overrides())])
    }

    /// Writes `overrides` and reloads with them; when the new generation does not load, the
    /// previous overrides come back (the next reload reads them into `px.config` again) and the
    /// error is thrown.
    func replacePolicyOverrides(_ overrides: JSONValue) async throws -> Int {
        guard let settings else { throw Failure(description: "live settings are not available") }
        let previousOverrides = settings.overrides()
        try settings.writeOverrides(overrides)
        do {
            return try await reloadPolicies()
        } catch {
            try? settings.writeOverrides(previousOverrides)
            throw error
        }
    }

    func directoryGet(kind: String, id: String) async throws -> JSONValue? {
        guard let directory = host.directory else { throw Failure(description: "no directory is configured") }
        return try await directory.get(kind: kind, id: id, on: loop).get()
    }

    func directoryPut(kind: String, id: String, record: JSONValue) async throws {
        guard let directory = host.directory else { throw Failure(description: "no directory is configured") }
        try await directory.put(kind: kind, id: id, record: record, on: loop).get()
    }

    func directoryDelete(kind: String, id: String) async throws -> Bool {
        guard let directory = host.directory else { throw Failure(description: "no directory is configured") }
        return try await directory.delete(kind: kind, id: id, on: loop).get()
    }

    func revoke(tokenID: String?, userID: String?, expiresIn: Double?) async throws {
        if let tokenID {
            try await host.store.set(
                host.storeKey("auth:token:\(tokenID):revoked"), to: "1",
                ttl: expiresIn ?? Self.defaultRevocationTTL, on: loop
            ).get()
        }
        if let userID {
            let now = JWTVerifier.currentTime()
            try await host.store.set(host.storeKey("auth:user:\(userID):revoked_at"), to: String(now), ttl: nil, on: loop).get()
        }
        afterRevoke?()
    }

    func loadBans() async throws -> [Ban] {
        let fields = try await host.store.hgetall(host.storeKey(Ban.storeKey), maxFields: 100_000, on: loop).get()
        return fields.compactMap { entry in (try? JSONParser.parse(Array(entry.value.utf8))).flatMap(Ban.init(json:)) }
    }

    func saveBan(_ ban: Ban) async throws {
        _ = try await host.store.hset(host.storeKey(Ban.storeKey), field: ban.field, to: JSONWriter.string(ban.json), on: loop).get()
    }

    func deleteBan(field: String) async throws -> Bool {
        try await host.store.hdel(host.storeKey(Ban.storeKey), fields: [field], on: loop).get() > 0
    }
}

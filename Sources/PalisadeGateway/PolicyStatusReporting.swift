/// What `/healthz` reports of the policy engine.
public protocol PolicyStatusReporting: Sendable {
    /// The generation in force (0 = none loaded).
    var policyGeneration: Int { get }
    /// The last reload's error as `file:line: message`, or nil.
    var policyError: String? { get }
    /// Hook calls that failed (error, overrun, out of memory) since start; each was a deny.
    var hookFailures: Int { get }
    /// Reloads that were refused since start.
    var reloadFailures: Int { get }
    /// Sockets the policy keeps state for now (the Lua engine's conn tables): at most one per
    /// connected socket (after a reload, a socket counts again once the new generation has
    /// seen it), so a figure above the session count is a leak.
    var heldSockets: Int { get }
}

extension PolicyStatusReporting {
    public var heldSockets: Int { 0 }
}

/// What `/healthz` reports of the policy engine.
public protocol PolicyStatusReporting: Sendable {
    /// The generation in force (0 = none loaded).
    var policyGeneration: Int { get }
    /// The last reload's error as `file:line: message`, or nil.
    var policyError: String? { get }
}

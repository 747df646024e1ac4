import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// The policy engine's metrics, through swift-metrics (a no-op until the executable bootstraps a
/// backend). Labels are hook names, module file names and fixed words: never who or what a
/// decision was about.
final class PolicyMetrics: Sendable {
    static let shared = PolicyMetrics()

    /// Hook calls that failed (error, overrun, out of memory); each was a deny.
    let hookFailures = Counter(label: "palisade_hook_failures_total")
    /// The failures that were a budget running out, by budget.
    private let overruns: [HookError.Kind: Counter]
    /// How long each hook point took to decide, waits for I/O included, by hook.
    private let durations: [Metrics.Timer]
    let reloaded = Counter(label: "palisade_policy_reloads_total", dimensions: [("result", "ok")])
    let reloadFailed = Counter(label: "palisade_policy_reloads_total", dimensions: [("result", "failed")])
    /// Allows by hook: no one module gives those (every module let the call pass), so their
    /// `module` label is empty, which Prometheus reads as no label.
    private let allows: [Counter]
    /// Denies by hook that no module gave (none authenticated, none allowed), also without a module.
    private let defaultDenies: [Counter]
    /// Denies and drops by hook, module and outcome, made on a module's first such answer.
    /// Module names come from the policy folders, so the set stays small.
    private let decisions = NIOLockedValueBox<[DecisionKey: Counter]>([:])

    private struct DecisionKey: Hashable {
        var hook: String
        var module: String
        var outcome: String
    }

    private init() {
        overruns = [
            .instructionBudget: Counter(label: "palisade_hook_budget_overruns_total", dimensions: [("budget", "instructions")]),
            .deadline: Counter(label: "palisade_hook_budget_overruns_total", dimensions: [("budget", "deadline")]),
            .memory: Counter(label: "palisade_hook_budget_overruns_total", dimensions: [("budget", "memory")]),
        ]
        durations = HookName.allCases.map { Metrics.Timer(label: "palisade_hook_duration_seconds", dimensions: [("hook", $0.rawValue)]) }
        allows = HookName.allCases.map {
            Counter(label: "palisade_policy_decisions_total", dimensions: [("hook", $0.rawValue), ("module", ""), ("outcome", "allow")])
        }
        defaultDenies = HookName.allCases.map {
            Counter(label: "palisade_policy_decisions_total", dimensions: [("hook", $0.rawValue), ("module", ""), ("outcome", "deny")])
        }
    }

    /// Counts a call of `hook` refused because no module allowed it.
    func deniedByDefault(_ hook: HookName) {
        defaultDenies[hook.index].increment()
    }

    /// Counts a call of `hook` that the policy let through.
    func allowed(_ hook: HookName) {
        allows[hook.index].increment()
    }

    func failed(_ kind: HookError.Kind?) {
        hookFailures.increment()
        if let kind { overruns[kind]?.increment() }
    }

    /// Counts `answer` when it is a deny or a drop by `module`'s `hook`; other answers are not counted.
    func count(_ answer: HookAnswer, hook: String, module: String) {
        let outcome: String
        switch answer {
        case .deny: outcome = "deny"
        case .drop: outcome = "drop"
        default: return
        }
        let key = DecisionKey(hook: hook, module: module, outcome: outcome)
        let counter = decisions.withLockedValue { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "palisade_policy_decisions_total", dimensions: [("hook", hook), ("module", module), ("outcome", outcome)])
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    /// Records the time since `start` for `hook`.
    func recordDuration(of hook: HookName, since start: NIODeadline) {
        durations[hook.index].recordNanoseconds((NIODeadline.now() - start).nanoseconds)
    }
}

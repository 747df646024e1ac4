import CLua
import CPalisadeShims
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PalisadeGateway
import PalisadeJSON
import Synchronization

/// The Lua policy engine: implements `GatewayPolicy` by calling the modules' hooks.
///
/// Generations: a reload reads every module, compiles it into a fresh VM and runs the
/// `selftest`s; only then does the new generation become current. Each event loop
/// builds its own runtime of the current generation on first use and carries the live
/// sockets' `conn.data` over; hook calls already running finish in their own runtime.
public final class LuaPolicyEngine: GatewayPolicy, PolicyStatusReporting {
    public struct Settings: Sendable {
        public var directories: [String]
        public var limits = HookLimits()
        /// Memory cap of each VM.
        public var memoryCap = 64 * 1024 * 1024

        public init(directories: [String]) {
            self.directories = directories
        }
    }

    /// The engine's state for `/healthz` and the admin API.
    public struct Status: Sendable, Equatable {
        public var generation: Int
        /// The last reload's error (`file:line: message`), nil when it succeeded.
        public var error: String?
    }

    private struct Current: Sendable {
        var generation = 0
        var sources: [PolicySource] = []
        var error: String?
    }

    let settings: Settings
    let host: PolicyHost
    let logger: Logger
    private let current = NIOLockedValueBox(Current())
    /// `current.generation`, readable without the lock: the per-call check that a loop's
    /// runtime is still current.
    private let currentGeneration = Atomic<Int>(0)
    private let slots = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<RuntimeSlot>]>([:])
    /// The calling loop's slot, found without a lock (each loop is one thread).
    private let threadSlot = ThreadSpecificVariable<RuntimeSlot>()
    /// Hook calls that failed (error, overrun, out of memory), for metrics.
    let hookFailureCount = NIOLockedValueBox(0)
    /// Conn tables held by the loops' current runtimes.
    private let heldSocketCount = HeldSocketCount()
    private let reloadFailureCount = NIOLockedValueBox(0)

    /// One event loop's runtime of the latest generation it has seen.
    /// Unchecked: a slot is only ever used on its own loop's thread (it is reached through
    /// that thread's thread-specific variable, or through a `NIOLoopBound`).
    final class RuntimeSlot: @unchecked Sendable {
        var runtime: LuaRuntime?
    }

    public init(settings: Settings, host: PolicyHost) {
        self.settings = settings
        self.host = host
        logger = host.logger
        _ = PolicyMetrics.shared  // the engine's families show from the first scrape
    }

    public var status: Status {
        current.withLockedValue { Status(generation: $0.generation, error: $0.error) }
    }

    public var policyGeneration: Int { status.generation }
    public var policyError: String? { status.error }
    public var hookFailures: Int { hookFailureCount.withLockedValue { $0 } }
    public var reloadFailures: Int { reloadFailureCount.withLockedValue { $0 } }
    public var heldSockets: Int { heldSocketCount.value }

    // MARK: Reload

    /// Reads, compiles and self-tests every module on `loop`; makes them current when all
    /// succeed. Returns the new generation, or throws the error (the old one stays).
    @discardableResult
    public func reload(on loop: any EventLoop) async throws -> Int {
        let sources: [PolicySource]
        do {
            sources = try PolicyLoader.read(directories: settings.directories)
        } catch {
            return try fail("\(error)")
        }
        let next = current.withLockedValue { $0.generation } + 1
        do {
            try await loop.flatSubmit { self.validate(sources, generation: next, on: loop) }.get()
        } catch {
            return try fail("\(error)")
        }
        let generation = current.withLockedValue { state -> Int in
            state.generation += 1
            state.sources = sources
            state.error = nil
            currentGeneration.store(state.generation, ordering: .releasing)
            return state.generation
        }
        PolicyMetrics.shared.reloaded.increment()
        logger.info(
            "policies loaded", metadata: ["generation": "\(generation)", "modules": "\(sources.map(\.name).joined(separator: ","))"])
        host.audit?.record(
            "policy.reload",
            [JSONMember("generation", .number("\(generation)")), JSONMember("modules", .array(sources.map { .string($0.name) }))])
        return generation
    }

    private func fail(_ message: String) throws -> Int {
        current.withLockedValue { $0.error = message }
        reloadFailureCount.withLockedValue { $0 += 1 }
        PolicyMetrics.shared.reloadFailed.increment()
        logger.error("policy reload failed; the previous generation stays", metadata: ["error": "\(message)"])
        host.audit?.record("policy.reload_failed", [JSONMember("error", .string(message))])
        throw LuaVM.Failure(description: message)
    }

    /// Compiles `sources` into a throwaway runtime and runs every `selftest` in it.
    private func validate(_ sources: [PolicySource], generation: Int, on loop: any EventLoop) -> EventLoopFuture<Void> {
        let runtime: LuaRuntime
        do {
            runtime = try makeRuntime(sources, generation: generation, on: loop)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return runSelftests(runtime, remaining: runtime.hooks[.selftest] ?? [])
    }

    /// Runs the selftests one after another on the runtime's loop; the first failure fails all.
    private func runSelftests(_ runtime: LuaRuntime, remaining: [(module: String, function: Int32)]) -> EventLoopFuture<Void> {
        guard let (module, function) = remaining.first else { return runtime.loop.makeSucceededVoidFuture() }
        let rest = Array(remaining.dropFirst())
        return runtime.call(function) { _ in 0 }.assumeIsolated().flatMap { _ in
            self.runSelftests(runtime, remaining: rest)
        }.flatMapErrorThrowing { error in
            throw (error as? LuaVM.Failure) ?? LuaVM.Failure(description: "selftest of \(module) failed: \(error)")
        }.nonisolated()
    }

    private func makeRuntime(_ sources: [PolicySource], generation: Int, on loop: any EventLoop) throws -> LuaRuntime {
        try LuaRuntime(
            sources: sources, loop: loop, generation: generation, limits: settings.limits,
            memoryCap: settings.memoryCap, logger: logger
        ) { runtime in
            PalisadeModule.install(in: runtime, host: self.host)
        }
    }

    /// This loop's runtime of the current generation, built on first use. Called on
    /// `loop` (every hook is); the common case takes no lock.
    func runtime(on loop: any EventLoop) -> LuaRuntime? {
        let slot = self.slot(of: loop)
        let generation = currentGeneration.load(ordering: .acquiring)
        guard generation > 0 else { return nil }
        if let runtime = slot.runtime, runtime.generation == generation { return runtime }
        let (latest, sources) = current.withLockedValue { ($0.generation, $0.sources) }
        do {
            let runtime = try makeRuntime(sources, generation: latest, on: loop)
            if let previous = slot.runtime {
                runtime.migratedData = previous.exportConnData()
                previous.retire()
            }
            runtime.heldSockets = heldSocketCount
            slot.runtime = runtime
            return runtime
        } catch {
            logger.error("cannot build the policy runtime on a loop; keeping the previous one", metadata: ["error": "\(error)"])
            return slot.runtime
        }
    }

    private func slot(of loop: any EventLoop) -> RuntimeSlot {
        let onLoop = loop.inEventLoop
        if onLoop, let slot = threadSlot.currentValue { return slot }
        let key = ObjectIdentifier(loop)
        let slot: RuntimeSlot
        if let bound = slots.withLockedValue({ $0[key] }) {
            slot = bound.value
        } else {
            slot = RuntimeSlot()
            let bound = NIOLoopBound(slot, eventLoop: loop)
            slots.withLockedValue { $0[key] = bound }
        }
        if onLoop { threadSlot.currentValue = slot }
        return slot
    }
}

import CLua
import CPalisadeShims
import NIOCore
import PalisadeGateway
import PalisadeJSON

/// Limits of one hook call.
public struct HookLimits: Sendable {
    /// Lua VM instructions (checked every `PX_HOOK_STEP`).
    public var instructions: Int64 = 10_000_000
    /// Wall-clock time, including time spent waiting for host I/O.
    public var deadline: TimeAmount = .milliseconds(250)
    /// How long a call runs before its budgets are enforced (`px_watch_begin`): counting
    /// instructions slows Lua down by half, and nearly every call ends sooner. Zero counts
    /// from the first instruction. Instructions run before that are not counted.
    public var watchAfter: TimeAmount = .milliseconds(2)

    public init(
        instructions: Int64 = 10_000_000, deadline: TimeAmount = .milliseconds(250),
        watchAfter: TimeAmount = .milliseconds(2)
    ) {
        self.instructions = instructions
        self.deadline = deadline
        self.watchAfter = watchAfter
    }
}

/// Why a hook call gave no answer; the caller turns each into a deny.
public struct HookError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case error
        case instructionBudget = "instruction budget"
        case deadline
        case memory = "out of memory"
    }

    public var kind: Kind
    /// The Lua message, usually `file:line: text`.
    public var message: String
    /// In a chain run as one call (`EventChain.swift`), the 1-based module that failed; 0 otherwise.
    public var module: Int = 0

    public var description: String { message }
}

/// How a hook call ended.
package enum HookOutcome {
    case done(Result<[JSONValue], HookError>)
    case pending(EventLoopFuture<[JSONValue]>)
}

/// A coroutine of a VM that runs hook calls, one at a time. Host functions that need
/// I/O suspend the call (`suspend`); the reply resumes it on the VM's loop. Budgets apply
/// across resumes.
///
/// The object, its coroutine and its budget block are reused: a runtime keeps the ones
/// whose last call returned normally (`LuaRuntime.idleCalls`), so a call that finishes at
/// once allocates nothing. The budget block points back at the object (`px_budget.call`),
/// which is how a host function finds the call it runs in (`LuaRuntime.activeCall`).
final class HookCall {
    /// Not retained: the runtime keeps its idle calls. A running call is reached from its
    /// runtime's caller, and one waiting for I/O keeps the runtime alive through the
    /// closures it registered, so the runtime outlives every use.
    private unowned(unsafe) let runtime: LuaRuntime
    let thread: OpaquePointer
    /// Keeps the thread alive in the registry.
    private let reference: Int32
    private let budget: UnsafeMutablePointer<px_budget>
    /// Made only when the call waits for host I/O: most calls finish at once, and a
    /// promise per call was a visible part of their cost.
    private var promise: EventLoopPromise<[JSONValue]>?
    private var deadlineTask: Scheduled<Void>?
    private(set) var running = false
    /// Set while a host function's I/O is outstanding (so a bare `coroutine.yield` is told apart).
    private var awaitingHost = false
    /// `HookLimits.watchAfter` in nanoseconds; 0: the count hook is on from the start.
    private var watchAfter: Int64 = 0
    /// Counts the calls run here, so a late reply or timer of an earlier call does nothing.
    private var serial = 0
    /// The result of a call that finished without waiting, until `run` hands it over.
    private var immediateResult: Result<[JSONValue], HookError>?
    /// The socket whose event this call decides and then handles, for the event chain's
    /// `is_open` (EventChain.swift); nil in other calls.
    var eventSocket: (any GatewaySocket)?

    /// The answer of a hook that returned a single `nil`, the usual case: shared, so that
    /// it costs no allocation.
    private static let nilResult: [JSONValue] = [.null]

    init(runtime: LuaRuntime) {
        self.runtime = runtime
        let L = runtime.vm.L
        thread = lua_newthread(L)!
        reference = luaL_ref(L, px_registryindex())
        budget = UnsafeMutablePointer<px_budget>.allocate(capacity: 1)
        budget.initialize(to: px_budget())
    }

    deinit {
        budget.deallocate()
    }

    /// Runs `functionReference` with the arguments `pushArguments` pushes on the coroutine's
    /// stack (returning their count): at once (`done`) or later (`pending`, on the runtime's loop).
    func run(_ functionReference: Int32, limits: HookLimits, pushArguments: (OpaquePointer) -> Int32) -> HookOutcome {
        serial &+= 1
        running = true
        budget.pointee = px_budget(starting: limits, call: Unmanaged.passUnretained(self).toOpaque())
        lua_rawgeti(thread, px_registryindex(), lua_Integer(functionReference))
        px_recheck_cap(thread)
        let count = pushArguments(thread)
        // The cap is not enforced while Swift pushes (a refusal there would abort the process):
        // arguments that passed it fail the call before any Lua runs.
        if px_over_cap(thread) != 0 {
            lua_settop(thread, 0)
            let failure = HookError(kind: .memory, message: "not enough memory for the hook's arguments")
            finish(.failure(failure))
            immediateResult = nil
            return .done(.failure(failure))
        }
        watchAfter = limits.watchAfter.nanoseconds
        if watchAfter > 0 { px_attach_budget(thread, budget) } else { px_set_budget(thread, budget) }
        resume(arguments: count)
        if let result = immediateResult {
            immediateResult = nil
            return .done(result)
        }
        return .pending(promise!.futureResult)
    }

    /// Runs the coroutine until it returns, fails or waits for host I/O.
    private func resume(arguments: Int32) {
        var results: Int32 = 0
        let status: Int32
        if watchAfter > 0 {
            let previous = px_watch_begin(thread, watchAfter)
            status = px_resume(thread, arguments, &results)
            px_watch_end(thread, previous)
        } else {
            status = px_resume(thread, arguments, &results)
        }
        switch status {
        case LUA_OK:
            finish(returnedValues(count: results))
        case LUA_YIELD where awaitingHost:
            break
        case LUA_YIELD:
            finish(
                .failure(
                    HookError(
                        kind: .error, message: "a hook may not yield (coroutine.yield outside a coroutine of its own)",
                        module: Int(budget.pointee.module))))
        default:
            let message = LuaVM.string(thread, at: -1) ?? "error object is not a string"
            let kind: HookError.Kind
            if runtime.vm.takeMemoryRefusal() || status == LUA_ERRMEM {
                kind = .memory
            } else {
                switch budget.pointee.exceeded {
                case 1: kind = .instructionBudget
                case 2: kind = .deadline
                default: kind = .error
                }
            }
            finish(.failure(HookError(kind: kind, message: message, module: Int(budget.pointee.module))))
        }
    }

    /// The `count` values the function returned, on top of the coroutine's stack.
    private func returnedValues(count: Int32) -> Result<[JSONValue], HookError> {
        if count == 1, lua_type(thread, -1) == LUA_TNIL { return .success(Self.nilResult) }
        var values: [JSONValue] = []
        let base = lua_gettop(thread) - count
        for index in 0..<count {
            do {
                values.append(try LuaBridge.value(thread, at: base + 1 + index))
            } catch {
                return .failure(HookError(kind: .error, message: "hook returned an unconvertible value: \(error)"))
            }
        }
        return .success(values)
    }

    /// Called by a host function running in this call: suspends the coroutine until
    /// `operation` completes, then pushes its results with `push` and resumes.
    /// When the operation has already completed (the memory store answers at once), its
    /// results are returned directly and the coroutine never yields.
    func suspend<Value: Sendable>(on operation: EventLoopFuture<Value>, push: @escaping (OpaquePointer, Result<Value, any Error>) -> Int32)
        -> Int32
    {
        var answeredAtOnce: Result<Value, any Error>?
        var returned = false
        let serial = self.serial
        let runtime = self.runtime  // kept alive while the call waits
        operation.hop(to: runtime.loop).assumeIsolated().whenComplete { result in
            guard returned else {
                answeredAtOnce = result
                return
            }
            guard self.running, self.serial == serial else { return }
            self.awaitingHost = false
            withExtendedLifetime(runtime) {
                let count = push(self.thread, result)
                guard px_over_cap(self.thread) == 0 else {
                    return self.finish(
                        .failure(
                            HookError(
                                kind: .memory, message: "not enough memory for a host function's result",
                                module: Int(self.budget.pointee.module))))
                }
                self.resume(arguments: count)
            }
        }
        returned = true
        if let answeredAtOnce { return push(thread, answeredAtOnce) }
        awaitingHost = true
        if promise == nil { promise = runtime.loop.makePromise() }
        armDeadline()
        return PX_YIELD
    }

    /// Time left before the hook's deadline: a host function's I/O should give up before it.
    var remainingTime: TimeAmount {
        .nanoseconds(max(0, budget.pointee.deadline_ns - px_monotonic_ns()))
    }

    /// While the coroutine runs, the count hook enforces the deadline; while it waits for
    /// host I/O nothing runs, so a timer does. It is armed at the first wait only: most
    /// calls never wait, and a timer per call was a measurable part of their cost.
    private func armDeadline() {
        guard deadlineTask == nil else { return }
        let left = max(0, budget.pointee.deadline_ns - px_monotonic_ns())
        let serial = self.serial
        let runtime = self.runtime
        deadlineTask = runtime.loop.assumeIsolated().scheduleTask(in: .nanoseconds(left)) {
            guard self.running, self.serial == serial else { return }
            withExtendedLifetime(runtime) {
                self.finish(
                    .failure(
                        HookError(
                            kind: .deadline, message: "deadline exceeded (while waiting for I/O)",
                            module: Int(self.budget.pointee.module))))
            }
        }
    }

    private func finish(_ result: Result<[JSONValue], HookError>) {
        guard running else { return }
        running = false
        awaitingHost = false
        deadlineTask?.cancel()
        deadlineTask = nil
        px_set_budget(thread, nil)
        budget.pointee.call = nil
        eventSocket = nil
        let promise = self.promise
        self.promise = nil
        if promise == nil { immediateResult = result }
        recycle(reusable: lua_status(thread) == LUA_OK)
        switch result {
        case .success(let values): promise?.succeed(values)
        case .failure(let error): promise?.fail(error)
        }
    }

    /// A coroutine whose function returned is clean once its stack is emptied and goes back
    /// to the runtime's idle calls; one that failed or is still suspended (a deadline while
    /// waiting) is dropped.
    private func recycle(reusable: Bool) {
        if reusable, runtime.idleCalls.count < LuaRuntime.maxIdleCalls {
            lua_settop(thread, 0)
            runtime.idleCalls.append(self)
        } else {
            luaL_unref(runtime.vm.L, px_registryindex(), reference)
        }
    }
}

@available(*, unavailable)
extension HookCall: Sendable {}

extension px_budget {
    /// A budget of `limits` from now; a chain's `step` gives each module the same again.
    init(starting limits: HookLimits, call: UnsafeMutableRawPointer? = nil) {
        self.init(
            instructions_left: limits.instructions, deadline_ns: px_monotonic_ns() + limits.deadline.nanoseconds,
            exceeded: 0, module_instructions: limits.instructions, module_span_ns: limits.deadline.nanoseconds, module: 0,
            call: call)
    }
}

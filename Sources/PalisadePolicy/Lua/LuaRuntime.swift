import CLua
import CPalisadeShims
import Logging
import NIOCore
import PalisadeGateway
import PalisadeJSON
import Synchronization

/// The modules of one policy generation loaded into one VM, on one event loop:
/// the hook functions by hook point (in module order) and the plugins' event handlers.
/// `package` parts are for the benchmarks in this package, not for users.
package final class LuaRuntime {
    let vm: LuaVM
    let loop: any EventLoop
    let generation: Int
    /// This runtime's own number, never reused (`ConnEntry.owner`).
    let serial = LuaRuntime.serials.add(1, ordering: .relaxed).newValue
    private static let serials = Atomic<Int>(0)
    let limits: HookLimits
    let logger: Logger
    /// Hook calls (each a coroutine with its budget block) whose last call returned
    /// normally, kept for the next calls: creating one per hook call was a large part of
    /// a call's cost.
    var idleCalls: [HookCall] = []
    static let maxIdleCalls = 64
    /// Conn tables by socket id.
    var connections: [String: ConnEntry] = [:]
    /// The engine's count of conn tables, kept up to date while this runtime is current.
    var heldSockets: HeldSocketCount?
    /// `conn.data` carried over from the previous generation, by socket id.
    var migratedData: [String: JSONValue] = [:]
    /// Acks of plugin event handlers in progress.
    var pendingAcks = SlotTable<Ack>()

    /// Hook point → (module name, function reference), in module order.
    package private(set) var hooks = HookTable()
    /// Event name → handler reference (the first module that defines it wins).
    private(set) var eventHandlers = NameTable<Int32>()
    /// The same while the modules load.
    private var loadingHandlers: [String: Int32] = [:]
    /// Every module's `event` hook as one function (`EventChain.swift`); nil when none has one.
    package private(set) var eventChain: Int32?
    private var moduleTables: [String: Int32] = [:]
    private let sources: [String: PolicySource]
    private var loading: Set<String> = []

    /// Budget of a module's top-level code at load time.
    static let loadLimits = HookLimits(instructions: 50_000_000, deadline: .seconds(2))

    /// Compiles and runs every module in order. Throws `file:line: message` on the first failure.
    package init(
        sources: [PolicySource], loop: any EventLoop, generation: Int, limits: HookLimits, memoryCap: Int,
        logger: Logger, installHostAPI: (LuaRuntime) -> Void
    ) throws {
        vm = try LuaVM(memoryCap: memoryCap)
        self.loop = loop
        self.generation = generation
        self.limits = limits
        self.logger = logger
        self.sources = Dictionary(sources.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        LuaBridge.install(vm.L)
        installHostAPI(self)
        try installConnMethods()
        installAckMetatable()
        installRequire()
        for source in sources {
            let table = try loadModule(source)
            indexHooks(of: source.name, table: table)
        }
        eventHandlers = NameTable(loadingHandlers)
        loadingHandlers = [:]
        eventChain = try makeEventChain()
    }

    deinit {
        idleCalls.removeAll()
        vm.close()
    }

    // MARK: Modules

    /// Runs a module file (once) and returns the registry reference of its table.
    private func loadModule(_ source: PolicySource) throws -> Int32 {
        if let table = moduleTables[source.name] { return table }
        guard loading.insert(source.name).inserted else {
            throw LuaVM.Failure(description: "\(source.path): require loop through \(source.name)")
        }
        defer { loading.remove(source.name) }
        let budget = UnsafeMutablePointer<px_budget>.allocate(capacity: 1)
        budget.initialize(to: px_budget(starting: Self.loadLimits))
        px_set_budget(vm.L, budget)
        defer {
            px_set_budget(vm.L, nil)
            budget.deallocate()
        }
        try vm.load(code: source.code, chunkName: source.path)
        try vm.protectedCall(arguments: 0, results: 1)
        guard px_istable(vm.L, -1) != 0 else {
            px_pop(vm.L, 1)
            throw LuaVM.Failure(description: "\(source.path): a module must return a table")
        }
        let table = vm.reference()
        moduleTables[source.name] = table
        return table
    }

    private func indexHooks(of module: String, table: Int32) {
        let L = vm.L
        vm.push(reference: table)
        for hook in HookName.allCases {
            lua_getfield(L, -1, hook.rawValue)
            if px_isfunction(L, -1) != 0 {
                hooks.append((module, vm.reference()), to: hook)
            } else {
                px_pop(L, 1)
            }
        }
        lua_getfield(L, -1, "events")
        if px_istable(L, -1) != 0 {
            lua_pushnil(L)
            while lua_next(L, -2) != 0 {
                if lua_type(L, -2) == LUA_TSTRING, px_isfunction(L, -1) != 0, let name = LuaVM.string(L, at: -2),
                    loadingHandlers[name] == nil
                {
                    loadingHandlers[name] = vm.reference()
                } else {
                    px_pop(L, 1)
                }
            }
        }
        px_pop(L, 2)
    }

    /// `require(name)`: "palisade" is the host API; other names are modules of the two folders.
    private func installRequire() {
        let L = vm.L
        vm.pushHostFunction { [unowned self] state in
            guard let name = LuaVM.string(state, at: 1) else {
                LuaBridge.pushString("require expects a module name", state)
                return PX_RAISE
            }
            if name == "palisade" {
                lua_getfield(state, px_registryindex(), "palisade.px")
                return 1
            }
            guard let source = self.sources[name] else {
                LuaBridge.pushString("module '\(name)' not found in the policies or plugins folder", state)
                return PX_RAISE
            }
            do {
                let table = try self.loadModule(source)
                lua_rawgeti(state, px_registryindex(), lua_Integer(table))
                return 1
            } catch {
                LuaBridge.pushString("\(error)", state)
                return PX_RAISE
            }
        }
        lua_setglobal(L, "require")
    }

    // MARK: Calls

    /// Calls `function` as a coroutine with the arguments `pushArguments` pushes.
    package func call(_ function: Int32, pushArguments: (OpaquePointer) -> Int32) -> EventLoopFuture<[JSONValue]> {
        switch callNow(function, pushArguments: pushArguments) {
        case .done(.success(let values)): loop.makeSucceededFuture(values)
        case .done(.failure(let error)): loop.makeFailedFuture(error)
        case .pending(let future): future
        }
    }

    /// `call` without a future when the call finishes at once (most do).
    /// `eventSocket`: the socket whose event the call decides and handles (the event chain).
    package func callNow(_ function: Int32, eventSocket: (any GatewaySocket)? = nil, pushArguments: (OpaquePointer) -> Int32) -> HookOutcome
    {
        let call = idleCalls.popLast() ?? HookCall(runtime: self)
        call.eventSocket = eventSocket
        return call.run(function, limits: limits, pushArguments: pushArguments)
    }

    /// The hook call running in coroutine `state`, for host functions that suspend it;
    /// nil outside a hook call (module load time, a coroutine a script made).
    func activeCall(_ state: OpaquePointer) -> HookCall? {
        guard let budget = px_get_budget(state), let owner = budget.pointee.call else { return nil }
        let call = Unmanaged<HookCall>.fromOpaque(owner).takeUnretainedValue()
        return call.thread == state && call.running ? call : nil
    }

    func hasHook(_ hook: HookName) -> Bool { !(hooks[hook]?.isEmpty ?? true) }
}

@available(*, unavailable)
extension LuaRuntime: Sendable {}

/// How many conn tables the current runtimes of an engine hold, readable from any thread
/// (for the metrics). Changed on connects and disconnects, never per event.
final class HeldSocketCount: Sendable {
    private let count = Atomic<Int>(0)

    func add(_ delta: Int) { count.wrappingAdd(delta, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

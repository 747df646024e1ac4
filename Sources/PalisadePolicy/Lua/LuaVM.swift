import CLua
import CPalisadeShims

/// One sandboxed Lua 5.4 state with a memory cap. Confined to one event loop (the
/// policy engine makes one per loop per generation); never touched from elsewhere.
final class LuaVM {
    /// A Swift function callable from Lua. It reads its arguments from `L` (the calling
    /// coroutine), pushes its results and returns their count, or `PX_RAISE` with an
    /// error message pushed, or `PX_YIELD` after arranging a later `resume`.
    typealias HostFunction = (OpaquePointer) -> Int32

    let L: OpaquePointer
    private let memory: UnsafeMutablePointer<px_memory>
    private var hostFunctions: [HostFunction] = []
    private var isClosed = false

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(memoryCap: Int) throws {
        memory = .allocate(capacity: 1)
        var empty = px_memory()
        empty.cap = memoryCap
        memory.initialize(to: empty)
        guard let state = px_newstate(memory) else {
            memory.deallocate()
            throw Failure(description: "cannot create a Lua state")
        }
        L = state
        Self.installDispatcher
        openSandboxedLibraries()
    }

    deinit {
        if !isClosed { lua_close(L) }
        px_memory_release(memory)
        memory.deallocate()
    }

    var memoryUsed: Int { memory.pointee.used }

    /// True (and reset) when an allocation was refused for the memory cap since the last check.
    func takeMemoryRefusal() -> Bool {
        defer { memory.pointee.refused = 0 }
        return memory.pointee.refused != 0
    }

    // MARK: Host functions

    /// The one C-callable entry point; finds the VM and the function by the closure's upvalues.
    private static let installDispatcher: Void = {
        px_set_dispatch { state, vm, id in
            guard let state, let vm else { return PX_RAISE }
            // Safe: the pointer is the VM that pushed the closure; closures live in its state,
            // which the VM owns, so the VM outlives every call.
            let owner = Unmanaged<LuaVM>.fromOpaque(vm).takeUnretainedValue()
            return owner.hostFunctions[Int(id)](state)
        }
    }()

    /// Registers `function` and pushes a Lua closure for it. Stack: → +1.
    func pushHostFunction(_ function: @escaping HostFunction) {
        hostFunctions.append(function)
        px_push_host_function(L, Unmanaged.passUnretained(self).toOpaque(), Int32(hostFunctions.count - 1))
    }

    /// Sets `table[name] = function` for the table at `index`. Stack: unchanged.
    func setFunction(_ name: String, inTableAt index: Int32, _ function: @escaping HostFunction) {
        let table = lua_absindex(L, index)
        pushHostFunction(function)
        lua_setfield(L, table, name)
    }

    // MARK: Sandbox

    /// Only string, table, math, utf8, coroutine and a trimmed base library; `os` with
    /// `time` and `clock` only. No io, debug, package, load of binary chunks or files.
    private func openSandboxedLibraries() {
        let libraries: [(String, lua_CFunction)] = [
            ("_G", luaopen_base), ("string", luaopen_string), ("table", luaopen_table),
            ("math", luaopen_math), ("utf8", luaopen_utf8), ("coroutine", luaopen_coroutine),
            ("os", luaopen_os),
        ]
        for (name, open) in libraries {
            luaL_requiref(L, name, open, 1)
            px_pop(L, 1)
        }
        // os: keep time and clock only.
        lua_getglobal(L, "os")
        px_newtable(L)
        for name in ["time", "clock", "date"] {
            lua_getfield(L, -2, name)
            lua_setfield(L, -2, name)
        }
        lua_setglobal(L, "os")
        px_pop(L, 1)
        for name in ["dofile", "loadfile", "load", "collectgarbage"] {
            lua_pushnil(L)
            lua_setglobal(L, name)
        }
        // A script's own coroutines run under the budget of the call that resumes them.
        precondition(px_guard_coroutines(L) == 1, "coroutine guard")
        precondition(px_install_fast_type(L) == 1, "type")
    }

    // MARK: Loading

    /// Compiles a text chunk (binary chunks are refused). Stack: → +1 function.
    func load(code: String, chunkName: String) throws {
        var code = code
        let status = code.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                px_load_text(L, chars.baseAddress, chars.count, "@" + chunkName)
            }
        }
        if status != LUA_OK {
            let message = popString()
            throw Failure(description: message)
        }
    }

    /// Runs the function on top with `arguments` already pushed, outside any coroutine
    /// (module bodies, selftests are run as hooks). Stack: function, args → results.
    func protectedCall(arguments: Int32, results: Int32) throws {
        let status = px_pcall(L, arguments, results, 0)
        if status != LUA_OK {
            throw Failure(description: popString())
        }
    }

    /// Pops the top value as text (error messages). Stack: -1.
    func popString() -> String {
        defer { px_pop(L, 1) }
        return Self.string(L, at: -1) ?? "(error object is not a string)"
    }

    static func string(_ L: OpaquePointer, at index: Int32) -> String? {
        var length = 0
        guard lua_type(L, index) == LUA_TSTRING, let pointer = lua_tolstring(L, index, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// A registry reference to the value on top (popped). Stack: -1.
    func reference() -> Int32 {
        luaL_ref(L, px_registryindex())
    }

    func release(_ reference: Int32) {
        luaL_unref(L, px_registryindex(), reference)
    }

    /// Pushes the value of a registry reference. Stack: +1.
    func push(reference: Int32) {
        lua_rawgeti(L, px_registryindex(), lua_Integer(reference))
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        lua_close(L)
        px_memory_release(memory)
    }
}

@available(*, unavailable)
extension LuaVM: Sendable {}

import Logging
import NIOCore
import NIOPosix
import PalisadeJSON
import PalisadeState

@testable import PalisadePolicy

/// Builds a runtime from inline modules on a real event loop, for bridge and hook tests.
struct LuaHarness {
    /// One loop shared by every test (never shut down, so tests can run in any order and in parallel).
    let loop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()

    func runtime(
        _ modules: [(String, String)], limits: HookLimits = HookLimits(), memoryCap: Int = 16 * 1024 * 1024,
        store: (any StateStore)? = nil
    ) throws -> NIOLoopBound<LuaRuntime> {
        let loop = loop
        let host = PolicyHost(
            logger: Logger(label: "test"), config: .object(["policy": .object([])]),
            store: store ?? MemoryStateStore())
        return try loop.submit {
            let runtime = try LuaRuntime(
                sources: modules.map { PolicySource(name: $0.0, path: "test/\($0.0).lua", code: $0.1) },
                loop: loop, generation: 1, limits: limits, memoryCap: memoryCap, logger: Logger(label: "test")
            ) { PalisadeModule.install(in: $0, host: host) }
            return NIOLoopBound(runtime, eventLoop: loop)
        }.wait()
    }

    /// Calls hook `hook` of the first module that has it with `arguments`; returns its results.
    func call(_ bound: NIOLoopBound<LuaRuntime>, _ hook: HookName, _ arguments: [JSONValue]) throws -> [JSONValue] {
        try loop.flatSubmit {
            let runtime = bound.value
            guard let function = runtime.hooks[hook]?.first?.function else {
                return loop.makeFailedFuture(HookError(kind: .error, message: "no \(hook) hook"))
            }
            return runtime.call(function) { state in
                for argument in arguments { LuaBridge.push(argument, state) }
                return Int32(arguments.count)
            }
        }.wait()
    }

    /// Nothing to release: the shared loop lives as long as the test process.
    func shutdown() {}
}

// Nanoseconds per hook call: an empty `event` hook, and the stock policies' `event`
// chain for an authenticated `heartbeat`. Run by `make bench`; prints one JSON line each.
import Logging
import NIOCore
import NIOPosix
import PalisadePolicy
import PalisadeProtocol

let iterations = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 200_000
let loop = MultiThreadedEventLoopGroup.singleton.next()
let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    return logger
}()
let host = PolicyHost(logger: logger, config: .object(["policy": .object([])]), jwtSecret: "bench-secret")

/// A conn-shaped table (the benchmark has no sockets): what the stock hooks read.
let conn = JSONValue.object([
    "id": .string("s1"), "ip": .string("127.0.0.1"), "transport": .string("websocket"),
    "user": .object(["id": .string("u1"), "name": .string("Ada"), "role": .string("user")]),
    "data": .object([:]),
])

func measure(_ name: String, sources: [PolicySource]) throws {
    let result = try loop.submit { () -> (Double, Int) in
        let runtime = try LuaRuntime(sources: sources, loop: loop, generation: 1, limits: .init(), memoryCap: 64 << 20,
                                     logger: logger) { PalisadeModule.install(in: $0, host: host) }
        let functions = (runtime.hooks[.event] ?? []).map(\.function)
        let start = NIODeadline.now()
        for _ in 0..<iterations {
            for function in functions {
                runtime.call(function) { state in
                    LuaBridge.push(conn, state)
                    LuaBridge.push(.string("heartbeat"), state)
                    LuaBridge.push(.array([.object([:])]), state)
                    return 3
                }.whenFailure { error in fatalError("a hook failed: \(error)") }
            }
        }
        let elapsed = NIODeadline.now() - start
        return (Double(elapsed.nanoseconds) / Double(iterations), functions.count)
    }.wait()
    print("{\"bench\":\"\(name)\",\"iterations\":\(iterations),\"hooks_per_call\":\(result.1),\"ns_per_event\":\(Int(result.0))}")
}

let empty = [PolicySource(name: "empty", path: "bench/empty.lua", code: "return { event = function(conn, name, args) end }")]
try measure("empty_event_hook", sources: empty)
let stock = try PolicyLoader.read(directories: ["policies", "plugins"])
try measure("stock_event_chain_heartbeat", sources: stock)

// Nanoseconds per event: an empty `event` hook, and the stock policies' `event` hooks for an
// authenticated `heartbeat`, called one by one and as the server calls them (the event chain:
// one call runs every module's hook), and the chain for a typing indicator (`events:channel`).
// Run by `make bench`; prints one JSON line each. HOOKBENCH_ONLY=<name> runs one (for callgrind).
import CLua
import CPalisadeShims
import Foundation
import Logging
import NIOCore
import NIOPosix
import PalisadeJSON
import PalisadePolicy

let iterations = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 200_000
let loop = MultiThreadedEventLoopGroup.singleton.next()
let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    return logger
}()
/// The benchmark's settings (rate limits raised so a million events from one user pass).
let benchConfig = try JSONParser.parse(try String(contentsOfFile: "benchmarks/bench-config.json", encoding: .utf8))
let host = PolicyHost(logger: logger, config: benchConfig, jwtSecret: "bench-secret")

/// A conn-shaped table (the benchmark has no sockets): what the stock hooks read. Made once
/// per runtime and reused, as the server keeps one per socket (so `conn.data` persists).
let conn = JSONValue.object([
    "id": .string("s1"), "ip": .string("127.0.0.1"), "transport": .string("websocket"),
    "user": .object(["id": .string("u1"), "name": .string("Ada"), "role": .string("user")]),
    "data": .object([:]),
])

/// Open WebUI's typing indicator, its most frequent event, as the client sends it.
let typing = JSONValue.object([
    "channel_id": .string("c-1"), "message_id": .null,
    "data": .object(["type": .string("typing"), "data": .object(["typing": .bool(true)])]),
])

func measure(
    _ name: String, sources: [PolicySource], asChain: Bool = false,
    event: String = "heartbeat", payload: JSONValue = .object([:])
) throws {
    if let only = ProcessInfo.processInfo.environment["HOOKBENCH_ONLY"], only != name { return }
    let result = try loop.submit { () -> (Double, Int) in
        let runtime = try LuaRuntime(
            sources: sources, loop: loop, generation: 1, limits: .init(), memoryCap: 64 << 20,
            logger: logger
        ) { PalisadeModule.install(in: $0, host: host) }
        let hooks = (runtime.hooks[.event] ?? []).map(\.function)
        let functions = asChain ? [runtime.eventChain!] : hooks
        var connTable: Int32?
        let start = NIODeadline.now()
        for _ in 0..<iterations {
            for function in functions {
                // As the server calls event hooks: `callNow`, no future when the call ends at once.
                let outcome = runtime.callNow(function) { state in
                    if let connTable {
                        lua_rawgeti(state, px_registryindex(), lua_Integer(connTable))
                    } else {
                        LuaBridge.push(conn, state)
                        lua_pushvalue(state, -1)
                        connTable = luaL_ref(state, px_registryindex())
                    }
                    LuaBridge.push(.string(event), state)
                    LuaBridge.push(.array([payload]), state)
                    return 3
                }
                guard case .done(.success) = outcome else { fatalError("a hook failed or waited: \(outcome)") }
            }
        }
        let elapsed = NIODeadline.now() - start
        return (Double(elapsed.nanoseconds) / Double(iterations), hooks.count)
    }.wait()
    print("{\"bench\":\"\(name)\",\"iterations\":\(iterations),\"hooks_per_call\":\(result.1),\"ns_per_event\":\(Int(result.0))}")
}

let empty = [PolicySource(name: "empty", path: "bench/empty.lua", code: "return { event = function(conn, name, args) end }")]
try measure("empty_event_hook", sources: empty)
let stock = try PolicyLoader.read(directories: ["policies", "plugins"])
try measure("stock_event_hooks_one_by_one", sources: stock)
try measure("stock_event_chain", sources: stock, asChain: true)
try measure("stock_event_chain_echo", sources: stock, asChain: true, event: "echo", payload: .object([JSONMember("n", .number("1"))]))
try measure("stock_event_chain_typing", sources: stock, asChain: true, event: "events:channel", payload: typing)

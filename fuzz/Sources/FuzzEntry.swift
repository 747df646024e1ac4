#if canImport(Glibc)
    import Glibc
#endif

/// libFuzzer's entry point. One binary holds every target; `PALISADE_FUZZ_TARGET` picks the one
/// a run exercises (`make fuzz` sets it), so the build is done once for all of them.
/// A target traps (crash, ASan report or failed `check`) when it finds a bug; an input that is
/// merely invalid must be refused with an error, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    selectedTarget(bytes)
    return 0
}

/// Every target by the name its corpus folder has (`fuzz/corpus/<name>/`).
let fuzzTargets: [String: @Sendable ([UInt8]) -> Void] = [
    "http-head": HTTPHeadTarget.run,
    "websocket-frames": WebSocketFramesTarget.run,
    "engineio": EngineIOTarget.run,
    "socketio": SocketIOTarget.run,
    "json": JSONTarget.run,
    "yjs": YjsTarget.run,
    "jwt": JWTTarget.run,
    "lua-bridge": LuaBridgeTarget.run,
]

/// Looked up once: the environment does not change during a run.
let selectedTarget: @Sendable ([UInt8]) -> Void = {
    let name = getenv("PALISADE_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = fuzzTargets[name] else {
        let names = fuzzTargets.keys.sorted().joined(separator: ", ")
        printError("set PALISADE_FUZZ_TARGET to one of: \(names)")
        exit(2)
    }
    return target
}()

/// A property every input must keep; stops the run (libFuzzer records the input) when it does not.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        printError("fuzz check failed: \(message())")
        abort()
    }
}

/// `text` and a newline on standard error, unbuffered (the process may abort next).
func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

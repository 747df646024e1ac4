import CLua
import CPalisadeShims
import NIOConcurrencyHelpers
import NIOCore
import PalisadeGateway
import PalisadeJSON

/// The hook points of DESIGN.md on top of the runtimes. Every call runs on the socket's
/// loop; a hook that errors, overruns or runs out of memory counts as a deny.
extension LuaPolicyEngine {
    public func handshake(_ request: HandshakeRequest, on loop: any EventLoop) -> EventLoopFuture<HandshakeDecision> {
        guard let runtime = runtime(on: loop), runtime.hasHook(.handshake) else {
            PolicyMetrics.shared.allowed(.handshake)
            return loop.makeSucceededFuture(.allow)
        }
        return chain(
            runtime, .handshake, subject: AuditSubject(request),
            push: { state in
                Self.pushRequest(request, on: state)
                return 1
            }, stopAt: { if case .deny = $0 { return true } else { return false } }
        ).map { answer in
            if case .deny(let reason, let status, _)? = answer { return .deny(reason: reason, status: status) }
            PolicyMetrics.shared.allowed(.handshake)
            return .allow
        }
    }

    public func authenticate(_ socket: any GatewaySocket, auth: JSONValue) -> EventLoopFuture<ConnectDecision> {
        guard let runtime = runtime(on: socket.loop) else {
            return socket.loop.makeSucceededFuture(.refuse(message: "no policy is loaded", data: nil))
        }
        return chain(
            runtime, .authenticate, subject: AuditSubject(socket),
            push: { state in
                runtime.pushConn(socket, on: state)
                LuaBridge.push(auth, state)
                return 2
            },
            stopAt: { answer in
                switch answer {
                case .none, .allow: return false
                default: return true
                }
            }
        ).assumeIsolated().map { answer -> ConnectDecision in
            switch answer {
            case .table(let identity)?:
                if identity["anonymous"] == .bool(true) {
                    PolicyMetrics.shared.allowed(.authenticate)
                    return .accept(identity: nil)
                }
                runtime.setUser(identity, of: socket.id)
                PolicyMetrics.shared.allowed(.authenticate)
                return .accept(identity: identity)
            case .deny(let reason, _, let details)?:
                return .refuse(message: reason, data: details.isEmpty ? nil : .object(details))
            default:
                PolicyMetrics.shared.deniedByDefault(.authenticate)
                return .refuse(message: "unauthorized", data: nil)
            }
        }.nonisolated()
    }

    public func connected(_ socket: any GatewaySocket) {
        guard let runtime = runtime(on: socket.loop), runtime.hasHook(.connect) else { return }
        _ = chain(
            runtime, .connect,
            push: { state in
                runtime.pushConn(socket, on: state)
                return 1
            }, stopAt: { _ in false })
    }

    /// The name of a plugin's catch-all handler: events no handler names go to it.
    static let catchAllEvent = "*"

    public func decideEvent(
        _ socket: any GatewaySocket, name: String, arguments: [JSONValue],
        handling: EventHandling
    ) -> PolicyAnswer<EventDecision> {
        guard let runtime = runtime(on: socket.loop) else { return .now(.deny(reason: "no policy is loaded")) }
        var handler: Int32?
        var ack: Ack?
        // A plugin's handler of this name, or its catch-all `events["*"]`, which gets the name first.
        var named = false
        if case .decideAndHandle(let given) = handling {
            if let function = runtime.eventHandlers[name] {
                handler = function
            } else if let function = runtime.eventHandlers[Self.catchAllEvent] {
                handler = function
                named = true
            }
            ack = given
        }
        guard let eventChain = runtime.eventChain else {
            guard let handler else { return .now(.allow) }
            let given = named ? [JSONValue.string(name)] + arguments : arguments
            runHandler(handler, of: name, in: runtime, socket: socket, arguments: given, ack: ack)
            return .now(.handled)
        }
        // One call runs every module's hook and then the handler (EventChain.swift), with
        // one conversion of the arguments.
        let ackID = handler == nil ? nil : ack.map { runtime.registerAck($0) }
        let start = NIODeadline.now()
        let outcome = runtime.callNow(eventChain, eventSocket: socket) { state in
            runtime.pushConn(socket, on: state)
            LuaBridge.pushString(name, state)
            LuaBridge.push(.array(arguments), state)
            guard let handler else { return 3 }
            lua_rawgeti(state, px_registryindex(), lua_Integer(handler))
            if let ackID { runtime.pushAck(ackID, on: state) } else { lua_pushnil(state) }
            guard named else { return 5 }
            lua_pushboolean(state, 1)
            return 6
        }
        let handled = handler != nil
        switch outcome {
        case .done(let result):
            PolicyMetrics.shared.recordDuration(of: .event, since: start)
            if let ackID { runtime.releaseAck(ackID) }
            let decision = eventDecision(result.mapError { $0 }, event: name, handled: handled, runtime: runtime, socket: socket)
            Self.answerFailedHandler(decision, result.mapError { $0 }, ack: ack)
            return .now(decision)
        case .pending(let future):
            return .later(
                future.assumeIsolated().map { .success($0) }.recover { .failure($0) }.map { result in
                    PolicyMetrics.shared.recordDuration(of: .event, since: start)
                    if let ackID { runtime.releaseAck(ackID) }
                    let decision = self.eventDecision(result, event: name, handled: handled, runtime: runtime, socket: socket)
                    Self.answerFailedHandler(decision, result, ack: ack)
                    return decision
                }.nonisolated())
        }
    }

    /// A handler that failed (an error, its deadline, its memory) before answering the client's
    /// ack: the ack is answered with nothing, so the client does not wait for ever. An ack the
    /// handler answered already is not sent again (`Ack` sends once).
    private static func answerFailedHandler(_ decision: EventDecision, _ result: Result<[JSONValue], any Error>, ack: Ack?) {
        guard decision == .handled, case .failure = result else { return }
        ack?([])
    }

    /// The event chain's answer as a decision. A failed module is reported and denies; a
    /// failed handler is reported, and the event counts as handled (it was allowed).
    private func eventDecision(
        _ result: Result<[JSONValue], any Error>, event: String, handled: Bool,
        runtime: LuaRuntime, socket: any GatewaySocket
    ) -> EventDecision {
        switch result {
        case .success(let values):
            let answer = HookAnswer(values)
            // The chain answers a deny or a drop with the position of the module that gave it.
            if values.count > 1, let position = values[1].intValue, let hooks = runtime.hooks[.event], hooks.indices.contains(position - 1)
            {
                audit(answer, hook: "event", module: hooks[position - 1].module, subject: AuditSubject(socket), event: event)
            }
            switch answer {
            case .deny(let reason, _, let details): return .deny(reason: reason, details: details)
            case .drop: return .drop
            default:
                PolicyMetrics.shared.allowed(.event)
                return handled ? .handled : .allow
            }
        case .failure(let error):
            let failure = (error as? HookError).map { runtime.eventChainFailure(of: $0) } ?? .hook(module: "event_chain")
            switch failure {
            case .handler:
                report(error, hook: "events.\(event)", runtime: runtime)
                return .handled
            case .hook(let module):
                report(error, hook: "\(module).event", runtime: runtime)
                return .deny(reason: AccessDecision.policyFailureReason)
            }
        }
    }

    public func authorizeJoin(_ socket: any GatewaySocket, room: String) -> EventLoopFuture<AccessDecision> {
        authorize(socket, action: "join", resource: .object(["type": .string("room"), "id": .string(room)]))
    }

    /// `authorize(conn, action, resource)`: a deny wins; otherwise at least one allow is needed.
    public func authorize(_ socket: any GatewaySocket, action: String, resource: JSONValue) -> EventLoopFuture<AccessDecision> {
        guard let runtime = runtime(on: socket.loop) else { return socket.loop.makeSucceededFuture(.deny(reason: "no policy is loaded")) }
        var allowed = false
        return chain(
            runtime, .authorize, subject: AuditSubject(socket),
            push: { state in
                runtime.pushConn(socket, on: state)
                LuaBridge.pushString(action, state)
                LuaBridge.push(resource, state)
                return 3
            },
            stopAt: { answer in
                if case .allow = answer { allowed = true }
                if case .deny = answer { return true }
                return false
            }
        ).assumeIsolated().map { answer -> AccessDecision in
            if case .deny(let reason, _, _)? = answer { return .deny(reason: reason) }
            guard allowed else {
                PolicyMetrics.shared.deniedByDefault(.authorize)
                return .deny(reason: "not allowed")
            }
            PolicyMetrics.shared.allowed(.authorize)
            return .allow
        }.nonisolated()
    }

    /// `document_content(conn, document_id, content)` in every module; answers are ignored.
    public func documentContent(_ socket: any GatewaySocket, documentID: String, content: JSONValue) {
        guard let runtime = runtime(on: socket.loop), runtime.hasHook(.documentContent) else { return }
        _ = chain(
            runtime, .documentContent,
            push: { state in
                runtime.pushConn(socket, on: state)
                LuaBridge.pushString(documentID, state)
                LuaBridge.push(content, state)
                return 3
            }, stopAt: { _ in false })
    }

    /// `document_seed(conn, document_id)`: the first module that answers a table gives the
    /// content; a failing module is reported and gives none.
    public func documentSeed(_ socket: any GatewaySocket, documentID: String) -> EventLoopFuture<JSONValue?> {
        guard let runtime = runtime(on: socket.loop), runtime.hasHook(.documentSeed) else {
            return socket.loop.makeSucceededFuture(nil)
        }
        return chain(
            runtime, .documentSeed,
            push: { state in
                runtime.pushConn(socket, on: state)
                LuaBridge.pushString(documentID, state)
                return 2
            },
            stopAt: { answer in
                if case .table = answer { return true }
                return false
            }
        ).map { answer in
            if case .table(let content)? = answer { return content }
            return nil
        }
    }

    public func disconnected(_ socket: any GatewaySocket, reason: String) {
        guard let runtime = runtime(on: socket.loop) else { return }
        guard runtime.hasHook(.disconnect) else { return runtime.releaseConn(socket.id) }
        chain(
            runtime, .disconnect,
            push: { state in
                runtime.pushConn(socket, on: state)
                LuaBridge.pushString(reason, state)
                return 2
            }, stopAt: { _ in false }
        ).assumeIsolated().whenComplete { _ in runtime.releaseConn(socket.id) }
    }

    public func abandoned(_ socket: any GatewaySocket) {
        runtime(on: socket.loop)?.releaseConn(socket.id)
    }

    /// Calls a plugin's handler of event `name`; a failure is reported (the event was allowed).
    private func runHandler(
        _ handler: Int32, of name: String, in runtime: LuaRuntime, socket: any GatewaySocket,
        arguments: [JSONValue], ack: Ack?
    ) {
        let ackID = ack.map { runtime.registerAck($0) }
        let outcome = runtime.callNow(handler) { state in
            runtime.pushConn(socket, on: state)
            for argument in arguments { LuaBridge.push(argument, state) }
            if let ackID { runtime.pushAck(ackID, on: state) }
            return Int32(1 + arguments.count + (ackID == nil ? 0 : 1))
        }
        let finish = { (result: Result<[JSONValue], any Error>) in
            if let ackID { runtime.releaseAck(ackID) }
            if case .failure(let error) = result {
                self.report(error, hook: "events.\(name)", runtime: runtime)
                ack?([])  // not left waiting (Ack sends once)
            }
        }
        switch outcome {
        case .done(let result): finish(result.mapError { $0 })
        case .pending(let future): future.assumeIsolated().whenComplete(finish)
        }
    }

    // MARK: Chains

    /// Calls the modules' `hook` in order until `stopAt` says an answer is final.
    /// A failing hook is reported and answers `deny`, which stops every chain that denies.
    func chain(
        _ runtime: LuaRuntime, _ hook: HookName, subject: AuditSubject? = nil, push: @escaping (OpaquePointer) -> Int32,
        stopAt: @escaping (HookAnswer) -> Bool
    ) -> EventLoopFuture<HookAnswer?> {
        let functions = runtime.hooks[hook] ?? []
        var promise: EventLoopPromise<HookAnswer?>?
        var finalAnswer: HookAnswer??
        let start = NIODeadline.now()
        func conclude(_ answer: HookAnswer?) {
            PolicyMetrics.shared.recordDuration(of: hook, since: start)
            if let promise { promise.succeed(answer) } else { finalAnswer = .some(answer) }
        }
        /// The answer of one module, or nil when the chain goes on.
        func judge(_ result: Result<[JSONValue], any Error>, module: String) -> HookAnswer? {
            let answer: HookAnswer
            switch result {
            case .success(let values):
                answer = HookAnswer(values)
            case .failure(let error):
                self.report(error, hook: "\(module).\(hook.rawValue)", runtime: runtime)
                answer = .deny(reason: AccessDecision.policyFailureReason, status: nil)
            }
            var final = stopAt(answer)
            if case .deny = answer { final = true }
            guard final else { return nil }
            self.audit(answer, hook: hook.rawValue, module: module, subject: subject)
            return answer
        }
        // Calls that finish at once are taken in this loop; one that waits resumes it.
        func run(from start: Int) {
            var index = start
            while index < functions.count {
                let (module, function) = functions[index]
                switch runtime.callNow(function, pushArguments: push) {
                case .done(let result):
                    if let answer = judge(result.mapError { $0 }, module: module) { return conclude(answer) }
                    index += 1
                case .pending(let future):
                    if promise == nil { promise = runtime.loop.makePromise() }
                    let next = index + 1
                    future.assumeIsolated().whenComplete { result in
                        if let answer = judge(result, module: module) { return conclude(answer) }
                        run(from: next)
                    }
                    return
                }
            }
            conclude(nil)
        }
        run(from: 0)
        if let finalAnswer { return runtime.loop.makeSucceededFuture(finalAnswer) }
        return promise!.futureResult
    }

    func report(_ error: any Error, hook: String, runtime: LuaRuntime) {
        let kind = (error as? HookError)?.kind.rawValue ?? "error"
        logger.warning(
            "hook failed; decision is deny",
            metadata: [
                "hook": "\(hook)", "kind": "\(kind)", "error": "\(error)", "generation": "\(runtime.generation)",
            ])
        hookFailureCount.withLockedValue { $0 += 1 }
        PolicyMetrics.shared.failed((error as? HookError)?.kind)
    }

    /// Pushes the handshake hook's `req` table: `ip`, `origin` (or `px.null`), `path`,
    /// `transport`, `headers` (names lowercased, the first of names that differ only in case
    /// kept) and `query`. Straight onto the stack: building a `JSONValue` first would cost
    /// more than the stock handshake hook itself.
    static func pushRequest(_ request: HandshakeRequest, on L: OpaquePointer) {
        lua_createtable(L, 0, 6)
        LuaBridge.pushString(request.ip, L)
        lua_setfield(L, -2, RequestField.ip.cString)
        if let origin = request.origin { LuaBridge.pushString(origin, L) } else { lua_pushlightuserdata(L, nil) }  // px.null
        lua_setfield(L, -2, RequestField.origin.cString)
        LuaBridge.pushString(request.path, L)
        lua_setfield(L, -2, RequestField.path.cString)
        LuaBridge.pushString(request.transport ?? "", L)
        lua_setfield(L, -2, RequestField.transport.cString)
        lua_createtable(L, 0, Int32(request.headers.count))
        for (name, value) in request.headers {
            // Most clients send some names lowercase already: those are pushed as they are.
            let uppercase = name.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
            LuaBridge.pushString(uppercase ? name.lowercased() : name, L)
            lua_pushvalue(L, -1)
            if lua_rawget(L, -3) != LUA_TNIL {  // the first of names that differ only in case wins
                px_pop(L, 2)
                continue
            }
            px_pop(L, 1)
            LuaBridge.pushString(value, L)
            lua_rawset(L, -3)
        }
        lua_setfield(L, -2, RequestField.headers.cString)
        lua_createtable(L, 0, Int32(request.query.count))
        for (key, value) in request.query {
            LuaBridge.pushString(key, L)
            LuaBridge.pushString(value, L)
            lua_rawset(L, -3)
        }
        lua_setfield(L, -2, RequestField.query.cString)
    }
}

/// The `req` table's field names as static C strings (a literal passed as `const char *`
/// may be copied into a temporary array on every call).
private enum RequestField {
    static let ip = LuaName("ip"), origin = LuaName("origin"), path = LuaName("path")
    static let transport = LuaName("transport"), headers = LuaName("headers"), query = LuaName("query")
}

extension LuaPolicyEngine {
    /// Calls every module's `tick(now)` once a second on `loop` (one loop per instance).
    /// A tick still running when the next is due is not doubled up.
    /// - Parameter mayTick: asked before each tick whether this instance runs it (with several
    ///   instances, only the holder of a shared lock does); nil: always.
    public func startTicking(on loop: any EventLoop, mayTick: (@Sendable () -> EventLoopFuture<Bool>)? = nil) -> RepeatedTask {
        let busy = NIOLockedValueBox(false)
        return loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            guard !busy.withLockedValue({ $0 }), let runtime = self.runtime(on: loop), runtime.hasHook(.tick) else { return }
            busy.withLockedValue { $0 = true }
            let allowed = mayTick?() ?? loop.makeSucceededFuture(true)
            allowed.hop(to: loop).assumeIsolated().whenComplete { result in
                guard (try? result.get()) == true else { return busy.withLockedValue { $0 = false } }
                let now = px_wall_seconds()
                self.chain(
                    runtime, .tick,
                    push: { state in
                        lua_pushnumber(state, now)
                        return 1
                    }, stopAt: { _ in false }
                ).whenComplete { _ in busy.withLockedValue { $0 = false } }
            }
        }
    }
}

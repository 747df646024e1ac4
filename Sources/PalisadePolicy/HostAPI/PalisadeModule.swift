import CLua
import CPalisadeShims
import Logging
import NIOCore
import PalisadeJSON

/// Builds `require "palisade"` (the `px` table) in a runtime: decisions, JSON, logging,
/// time, settings, emits. One file per area adds the rest (`PalisadeModule+…`).
package enum PalisadeModule {
    package static func install(in runtime: LuaRuntime, host: PolicyHost) {
        let vm = runtime.vm
        let L = vm.L
        px_newtable(L)
        installDecisions(vm)
        lua_pushlightuserdata(L, nil)
        lua_setfield(L, -2, "null")
        vm.setFunction("array", inTableAt: -1) { state in
            let count = lua_gettop(state)
            lua_createtable(state, count, 0)
            if count > 0 {
                for index in 1...count {
                    lua_pushvalue(state, index)
                    lua_rawseti(state, -2, lua_Integer(index))
                }
            }
            luaL_setmetatable(state, LuaBridge.arrayMetatable.cString)
            return 1
        }
        px_push_now(L)  // in C: hooks ask for the time on every event
        lua_setfield(L, -2, "now")
        LuaBridge.push(host.config, L)
        lua_setfield(L, -2, "config")
        installJSON(vm)
        installCrypto(vm)
        installLog(vm, host: host, runtime: runtime)
        installEmit(vm, host: host)
        installState(in: runtime, host: host)
        installLocks(in: runtime, host: host)
        installJWT(in: runtime, host: host)
        installDirectory(in: runtime, host: host)
        installHTTP(in: runtime, host: host)
        lua_setfield(L, px_registryindex(), "palisade.px")
    }

    // `px.allow() px.deny(reason[, status]) px.drop()`
    private static func installDecisions(_ vm: LuaVM) {
        vm.setFunction("allow", inTableAt: -1) { state in
            px_newtable(state)
            LuaBridge.pushString("allow", state)
            lua_setfield(state, -2, "__px")
            return 1
        }
        vm.setFunction("drop", inTableAt: -1) { state in
            px_newtable(state)
            LuaBridge.pushString("drop", state)
            lua_setfield(state, -2, "__px")
            return 1
        }
        // px.deny(reason[, status | {status = n, retry_after = s, …}]): the table's fields
        // (but `status`) go into the client's `error` event.
        vm.setFunction("deny", inTableAt: -1) { state in
            let reason = LuaStack.optionalString(state, 1) ?? "denied"
            var status = LuaStack.optionalNumber(state, 2)
            var details: JSONValue?
            if px_istable(state, 2) != 0, case .object(let fields)? = try? LuaBridge.value(state, at: 2) {
                status = fields.first { $0.key == "status" }?.value.intValue.map(Double.init)
                details = .object(fields.filter { $0.key != "status" })
            }
            px_newtable(state)
            LuaBridge.pushString("deny", state)
            lua_setfield(state, -2, "__px")
            LuaBridge.pushString(reason, state)
            lua_setfield(state, -2, "reason")
            if let status {
                lua_pushinteger(state, lua_Integer(status))
                lua_setfield(state, -2, "status")
            }
            if let details {
                LuaBridge.push(details, state)
                lua_setfield(state, -2, "details")
            }
            return 1
        }
    }

    // `px.json.encode(value)`, `px.json.decode(text)` → value | nil, err,
    // `px.json.size(value[, limit[, max_depth]])` → bytes | nil
    private static func installJSON(_ vm: LuaVM) {
        let L = vm.L
        px_newtable(L)
        vm.setFunction("encode", inTableAt: -1) { state in
            do {
                let value = try LuaBridge.value(state, at: 1)
                LuaBridge.pushString(JSONWriter.string(value), state)
                return 1
            } catch {
                return LuaStack.failure(state, "\(error)")
            }
        }
        vm.setFunction("decode", inTableAt: -1) { state in
            guard let text = LuaVM.string(state, at: 1) else { return LuaStack.failure(state, "json.decode expects a string") }
            do {
                LuaBridge.push(try JSONParser.parse(text), state)
                return 1
            } catch {
                return LuaStack.failure(state, "invalid JSON: \(error)")
            }
        }
        px_push_json_size(L)  // in C: 40-validate measures every event's arguments
        lua_setfield(L, -2, "size")
        lua_setfield(L, -2, "json")
    }

    // `px.log.debug/info/warn/error(msg[, fields])`, `px.audit(kind, fields)`
    private static func installLog(_ vm: LuaVM, host: PolicyHost, runtime: LuaRuntime) {
        let L = vm.L
        px_newtable(L)
        let levels: [(String, Logger.Level)] = [("debug", .debug), ("info", .info), ("warn", .warning), ("error", .error)]
        for (name, level) in levels {
            vm.setFunction(name, inTableAt: -1) { state in
                let message = LuaVM.string(state, at: 1) ?? ""
                host.logger.log(level: level, "\(message)", metadata: metadata(state, at: 2, generation: runtime.generation))
                return 0
            }
        }
        lua_setfield(L, -2, "log")
        // px.alert(kind[, fields]): logged (warning), audited (`alert`), and sent on (a webhook).
        vm.setFunction("alert", inTableAt: -1) { state in
            let kind = LuaVM.string(state, at: 1) ?? "alert"
            let fields = fields(state, at: 2)
            var logged = Logger.Metadata(logging: fields)
            logged["generation"] = "\(runtime.generation)"
            host.logger.warning("alert: \(kind)", metadata: logged)
            host.audit?.record("alert", [JSONMember("kind", .string(kind))] + fields.filter { $0.key != "kind" })
            host.alerts?.alert(kind, fields)
            return 0
        }
        vm.setFunction("audit", inTableAt: -1) { state in
            let kind = LuaVM.string(state, at: 1) ?? "event"
            let fields =
                [JSONMember("generation", .number("\(runtime.generation)"))]
                + fields(state, at: 2).filter { $0.key != "audit" && $0.key != "ts" && $0.key != "generation" }
            if let audit = host.audit {
                audit.recordFromPolicy(kind, fields)
                return 0
            }
            var logged = Logger.Metadata(logging: fields)
            logged["audit"] = "\(kind)"
            host.logger.notice("audit: \(kind)", metadata: logged)
            return 0
        }
    }

    private static func metadata(_ L: OpaquePointer, at index: Int32, generation: Int) -> Logger.Metadata {
        var metadata = Logger.Metadata(logging: fields(L, at: index))
        metadata["generation"] = "\(generation)"
        return metadata
    }

    /// The table at `index` as members ([] when it is not a table).
    private static func fields(_ L: OpaquePointer, at index: Int32) -> [JSONMember] {
        guard px_istable(L, index) != 0, case .object(let members)? = try? LuaBridge.value(L, at: index) else { return [] }
        return members
    }

    /// `px.directory.get(kind, id)` → record table | nil (nil too when no directory is configured);
    /// `px.directory.put(kind, id, record)`.
    private static func installDirectory(in runtime: LuaRuntime, host: PolicyHost) {
        let vm = runtime.vm
        px_newtable(vm.L)
        vm.setFunction("get", inTableAt: -1) { state in
            guard let kind = LuaStack.optionalString(state, 1),
                let id = LuaStack.optionalString(state, 2) ?? LuaStack.optionalNumber(state, 2).map({ String(Int64($0)) })
            else {
                return LuaStack.raise(state, "px.directory.get(kind, id) needs a kind and an id")
            }
            return directoryCall(state, "get", runtime: runtime, host: host, absent: { lua_pushnil($0) }) { directory in
                directory.get(kind: kind, id: id, on: runtime.loop)
            } push: { state, record in
                if let record { LuaBridge.push(record, state) } else { lua_pushnil(state) }
            }
        }
        // `px.directory.get_many(kind, ids)` → {[id] = record} for the ids that have one, in one
        // read ({} when no directory is configured): a user's channels, say, before joining them.
        vm.setFunction("get_many", inTableAt: -1) { state in
            let list = px_istable(state, 2) != 0 ? try? LuaBridge.value(state, at: 2) : nil
            let items: [JSONValue]? =
                switch list {
                case .array(let items)?: items
                case .object(let members)? where members.isEmpty: []  // `{}`: an empty list
                default: nil
                }
            let ids = items?.compactMap(\.stringValue)
            guard let kind = LuaStack.optionalString(state, 1), let ids, ids.count == items?.count else {
                return LuaStack.raise(state, "px.directory.get_many(kind, ids) needs a kind and a list of ids")
            }
            guard !ids.isEmpty else {
                px_newtable(state)
                return 1
            }
            return directoryCall(state, "get_many", runtime: runtime, host: host, absent: { px_newtable($0) }) { directory in
                directory.getMany(kind: kind, ids: ids, on: runtime.loop)
            } push: { state, records in
                LuaBridge.push(.object(records.map { JSONMember($0.key, $0.value) }), state)
            }
        }
        // `px.directory.version()` → a number that changes whenever a record is written here.
        vm.setFunction("version", inTableAt: -1) { state in
            lua_pushinteger(state, lua_Integer(truncatingIfNeeded: host.directory?.version ?? 0))
            return 1
        }
        // `px.directory.put(kind, id, record)` → true (false when no directory is configured).
        vm.setFunction("put", inTableAt: -1) { state in
            guard let kind = LuaStack.optionalString(state, 1), let id = LuaStack.optionalString(state, 2),
                case .object? = try? LuaBridge.value(state, at: 3), let record = try? LuaBridge.value(state, at: 3)
            else {
                return LuaStack.raise(state, "px.directory.put(kind, id, record) needs a kind, an id and a record table")
            }
            return directoryCall(state, "put", runtime: runtime, host: host, absent: { lua_pushboolean($0, 0) }) { directory in
                directory.put(kind: kind, id: id, record: record, on: runtime.loop)
            } push: { state, _ in
                lua_pushboolean(state, 1)
            }
        }
        lua_setfield(vm.L, -2, "directory")
    }

    /// A `px.directory.<name>` call: `operation` on the configured directory, the hook's coroutine
    /// waiting for it; `push` gives its one result, `absent` the answer without a directory.
    /// A failed read answers `nil, err`.
    private static func directoryCall<Value: Sendable>(
        _ state: OpaquePointer, _ name: String, runtime: LuaRuntime, host: PolicyHost, absent: (OpaquePointer) -> Void,
        _ operation: (any PolicyDirectory) -> EventLoopFuture<Value>, push: @escaping (OpaquePointer, Value) -> Void
    ) -> Int32 {
        guard let directory = host.directory else {
            absent(state)
            return 1
        }
        guard let call = runtime.activeCall(state) else {
            return LuaStack.raise(state, "px.directory.\(name) can only run inside a hook")
        }
        return call.suspend(on: operation(directory)) { state, result in
            switch result {
            case .success(let value):
                push(state, value)
                return 1
            case .failure(let error): return LuaStack.failure(state, "\(error)")
            }
        }
    }

    // `px.emit(room, event, data[, {skip = conn.id}])`, `px.rooms.members(room)`
    private static func installEmit(_ vm: LuaVM, host: PolicyHost) {
        let L = vm.L
        vm.setFunction("emit", inTableAt: -1) { state in
            guard let room = LuaStack.optionalString(state, 1), let event = LuaStack.optionalString(state, 2) else {
                return LuaStack.raise(state, "px.emit(room, event, data[, options]) needs a room and an event name")
            }
            guard let data = try? LuaBridge.value(state, at: 3) else { return LuaStack.raise(state, "px.emit: data cannot be sent") }
            var skip: String?
            if px_istable(state, 4) != 0 {
                lua_getfield(state, 4, "skip")
                skip = LuaStack.optionalString(state, -1)
                px_pop(state, 1)
            }
            let arguments: [JSONValue] = lua_gettop(state) >= 3 ? [data] : []
            host.server?.emit(to: room, event, arguments, namespace: "/", skipping: skip)
            return 0
        }
        // px.disconnect(sid) → true when that socket was connected (for tick and other hooks without a conn).
        vm.setFunction("disconnect", inTableAt: -1) { state in
            guard let sid = LuaStack.optionalString(state, 1) else { return LuaStack.raise(state, "px.disconnect(sid) needs a socket id") }
            lua_pushboolean(state, host.server?.disconnect(sid: sid) == true ? 1 : 0)
            return 1
        }
        px_newtable(L)
        vm.setFunction("members", inTableAt: -1) { state in
            guard let room = LuaStack.optionalString(state, 1) else { return LuaStack.raise(state, "px.rooms.members(room) needs a room") }
            let members = host.server?.members(of: room, namespace: "/") ?? []
            LuaBridge.push(.array(members.map { .string($0) }), state)
            return 1
        }
        lua_setfield(L, -2, "rooms")
    }
}

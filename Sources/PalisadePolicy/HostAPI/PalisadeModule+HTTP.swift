import CLua
import CPalisadeShims
import NIOCore
import PalisadeHTTPClient
import PalisadeJSON

/// `px.http.request(options)`, `px.http.get(url[, options])`, `px.http.forget(url_prefix)`, and
/// `px.publish(channel, message)` (the other way out of a policy, to a shared bus):
/// HTTP(S) to the base URLs the configuration allows (`http.allowed_urls`), the hook's
/// coroutine waiting for the answer (the loop does not).
///
/// Options: `method` (GET), `url`, `headers` ({name = value}), `body` (a string) or `json` (a
/// table, sent as JSON), `timeout_s` (default 5, never past nine tenths of the time the hook has
/// left, so the script still runs when it answers `timeout`), `max_bytes`
/// (at most `http.max_response_bytes`), `cache_s` (GET only: answer from and keep in the shared
/// cache for that long; the key is the method, URL and headers; 5xx answers are not kept).
///
/// Answers `{status, headers = {[lowercase name] = value}, body, json}` (`json` when the body
/// is JSON) for every status, or `nil, err` when there is no response: not allowed, timeout,
/// too large, connection failed.
extension PalisadeModule {
    static func installHTTP(in runtime: LuaRuntime, host: PolicyHost) {
        let vm = runtime.vm
        px_newtable(vm.L)
        vm.setFunction("request", inTableAt: -1) { state in
            guard px_istable(state, 1) != 0, let options = try? LuaBridge.value(state, at: 1) else {
                return LuaStack.raise(state, "px.http.request(options) needs a table with a url")
            }
            return request(state, options: options, runtime: runtime, host: host)
        }
        vm.setFunction("get", inTableAt: -1) { state in
            guard let url = LuaStack.optionalString(state, 1) else {
                return LuaStack.raise(state, "px.http.get(url[, options]) needs a url")
            }
            var members: [JSONMember] = []
            if px_istable(state, 2) != 0, case .object(let given)? = try? LuaBridge.value(state, at: 2) { members = given }
            members.removeAll { $0.key == "url" || $0.key == "method" }
            return request(state, options: .object(members + [JSONMember("url", .string(url))]), runtime: runtime, host: host)
        }
        vm.setFunction("forget", inTableAt: -1) { state in
            guard let prefix = LuaStack.optionalString(state, 1) else {
                return LuaStack.raise(state, "px.http.forget(url_prefix) needs a prefix")
            }
            lua_pushinteger(state, lua_Integer(host.http?.cache.forget(urlPrefix: prefix) ?? 0))
            return 1
        }
        lua_setfield(vm.L, -2, "http")
        // `px.publish(channel, message)` → how many subscribers got it (*waits*); the channel gets
        // the key prefix, as px.store keys do. Nobody to publish to (one instance): 0.
        vm.setFunction("publish", inTableAt: -1) { state in
            guard let channel = LuaStack.optionalString(state, 1), let message = LuaStack.optionalString(state, 2) else {
                return LuaStack.raise(state, "px.publish(channel, message) needs a channel and a string")
            }
            guard let publisher = host.publisher else {
                lua_pushinteger(state, 0)
                return 1
            }
            return suspend(runtime, state, publisher.publish(channel: host.storeKey(channel), message: message, on: runtime.loop)) {
                state, receivers in
                lua_pushinteger(state, lua_Integer(receivers))
                return 1
            }
        }
    }

    private static func request(_ state: OpaquePointer, options: JSONValue, runtime: LuaRuntime, host: PolicyHost) -> Int32 {
        guard let http = host.http else { return LuaStack.failure(state, "not allowed: no URL is allowed (http.allowed_urls)") }
        guard let text = options["url"]?.stringValue, let url = HTTPClientURL(text) else {
            return LuaStack.failure(state, "invalid url: an absolute http(s) URL is needed")
        }
        guard http.allowList.allows(url) else {
            host.logger.notice("px.http refused a URL outside http.allowed_urls", metadata: ["host": "\(url.hostHeader)"])
            return LuaStack.failure(state, "not allowed: \(url.hostHeader)\(url.path) is not under http.allowed_urls")
        }
        let method = (options["method"]?.stringValue ?? "GET").uppercased()
        guard !method.isEmpty, method.utf8.allSatisfy({ (65...90).contains($0) }) else {
            return LuaStack.failure(state, "invalid method")
        }
        var headers: [(name: String, value: String)] = []
        if case .object(let members)? = options["headers"] {
            for member in members {
                guard let value = member.value.stringValue, Self.isHeaderSafe(member.key), Self.isHeaderSafe(value) else {
                    return LuaStack.failure(state, "invalid header: names and values are strings without line breaks")
                }
                headers.append((member.key, value))
            }
        }
        var body = options["body"]?.stringValue.map { Array($0.utf8) }
        if let json = options["json"] {
            body = Array(JSONWriter.string(json).utf8)
            headers.append(("Content-Type", "application/json"))
        }
        guard let call = runtime.activeCall(state) else { return LuaStack.raise(state, "px.http can only run inside a hook") }
        let asked = options["timeout_s"]?.doubleValue.map(Self.seconds) ?? http.defaultTimeout
        // A tenth of what is left stays for the script to act on the answer (or on the timeout)
        // before the hook's own deadline ends it.
        let left = call.remainingTime
        let timeout = min(asked, left - .nanoseconds(left.nanoseconds / 10))
        let maxBytes = min(options["max_bytes"]?.intValue ?? http.maxResponseBytes, http.maxResponseBytes)
        let cacheFor = method == "GET" ? options["cache_s"]?.doubleValue.flatMap { $0 > 0 ? Self.seconds($0) : nil } : nil
        // Built only for calls that use the cache.
        let cacheKey = cacheFor.map { _ in
            ([method, url.description] + headers.map { "\($0.name.lowercased()): \($0.value)" }.sorted()).joined(separator: "\n")
        }
        if let cacheKey, let cached = http.cache.get(cacheKey) {
            pushResponse(cached, state)
            return 1
        }
        let request = HTTPClientRequest(method: method, url: url, headers: headers, body: body)
        let answer = http.client.execute(request, timeout: timeout, maxResponseBytes: maxBytes, on: runtime.loop)
        return call.suspend(on: answer) { state, result in
            switch result {
            case .success(let response):
                // A server's failure (5xx) is passing: never kept.
                if let cacheFor, let cacheKey, response.status < 500 {
                    http.cache.put(cacheKey, url: url.description, response, for: cacheFor)
                }
                pushResponse(response, state)
                return 1
            case .failure(let error):
                return LuaStack.failure(state, "\(error)")
            }
        }
    }

    /// Seconds from a script as a duration: negative or NaN is 0, anything past a day is a day
    /// (`math.huge` must not trap the conversion).
    static func seconds(_ value: Double) -> TimeAmount {
        guard value > 0 else { return .zero }
        return .nanoseconds(Int64(min(value, 86_400) * 1e9))
    }

    /// No CR, LF or NUL: a header cannot smuggle another header or a second request.
    private static func isHeaderSafe(_ text: String) -> Bool {
        !text.isEmpty && !text.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }
    }

    private static func pushResponse(_ response: HTTPClientResponse, _ state: OpaquePointer) {
        px_newtable(state)
        lua_pushinteger(state, lua_Integer(response.status))
        lua_setfield(state, -2, "status")
        _ = response.body.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { lua_pushlstring(state, $0.baseAddress, $0.count) }
        }
        lua_setfield(state, -2, "body")
        var seen = Set<String>()
        let headers = response.headers.filter { seen.insert($0.name).inserted }
        LuaBridge.push(.object(headers.map { JSONMember($0.name, .string($0.value)) }), state)
        lua_setfield(state, -2, "headers")
        if response.header("content-type")?.lowercased().contains("json") == true, let json = try? JSONParser.parse(response.body) {
            LuaBridge.push(json, state)
            lua_setfield(state, -2, "json")
        }
    }
}

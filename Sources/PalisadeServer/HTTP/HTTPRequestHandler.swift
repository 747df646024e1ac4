import NIOCore
import NIOHTTP1
import NIOWebSocket
import PalisadeGateway
import PalisadeJSON

/// Reads one HTTP/1.1 request at a time (NIO's pipelining handler queues the next),
/// routes it, and writes the response. Enforces the body limit and the request deadline.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, HandshakeRequest, ByteBuffer)
        /// The body passed its limit: the rest is ignored, the connection closes.
        case discarding
        /// A complete request waits until the client has read enough of the earlier answers
        /// (the channel is writable again): a client that pipelines requests and never reads
        /// would otherwise have every answer queued in memory.
        case awaitingWritable(HTTPRequestHead, HandshakeRequest, ByteBuffer)
        case responding
    }

    private let router: HTTPRouter
    private var state = State.idle
    private var deadline: Scheduled<Void>?
    /// The sid of a polling request waiting for its answer (to report a lost connection).
    private var waitingSid: (EngineServer, String)?
    /// The Engine.IO body being read, counted against its engine's inbound budget.
    private var budgetedBody: (budget: InboundBudget, bytes: Int)?

    init(router: HTTPRouter) {
        self.router = router
    }

    func handlerAdded(context: ChannelHandlerContext) {
        armDeadline(context: context, after: router.requestTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        releaseBody()
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            // From here the whole request must arrive within the request timeout.
            armDeadline(context: context, after: router.requestTimeout)
            let request = router.request(head, from: context.channel.remoteAddress)
            state = .receiving(head, request, context.channel.allocator.buffer(capacity: 0))
        case (.body(var chunk), .receiving(let head, let request, var body)):
            let size = body.readableBytes + chunk.readableBytes
            guard size <= router.maxBodyBytes(for: request) else {
                state = .discarding
                var headers = HTTPHeaders()
                for (name, value) in router.engine(for: request.path)?.origins.corsHeaders(for: request) ?? [] {
                    headers.add(name: name, value: value)
                }
                write(
                    status: .payloadTooLarge, headers: headers, body: ByteBuffer(), keepAlive: false, version: head.version,
                    context: context)
                return
            }
            guard countBody(size, of: request) else {
                state = .discarding
                releaseBody()
                router.engine(for: request.path)?.auditInbound(ip: request.ip)
                write(
                    status: .serviceUnavailable, headers: HTTPHeaders(), body: ByteBuffer(), keepAlive: false, version: head.version,
                    context: context)
                return
            }
            body.writeBuffer(&chunk)
            state = .receiving(head, request, body)
        case (.end, .receiving(let head, let request, let body)):
            deadline?.cancel()
            deadline = nil
            // NIO's pipelining handler hands over the next request once this one is answered;
            // holding the answer back while the client does not read holds them all back.
            guard context.channel.isWritable else {
                state = .awaitingWritable(head, request, body)
                armDeadline(context: context, after: router.requestTimeout)  // it must read within this
                return
            }
            state = .responding
            releaseBody()
            route(head: head, request: request, body: body, context: context)
        case (.end, .discarding):
            break
        default:
            break
        }
    }

    private func route(head: HTTPRequestHead, request: HandshakeRequest, body: ByteBuffer, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        if let engine = router.engine(for: request.path) {
            return routeEngine(engine, head: head, request: request, body: body, context: context)
        }
        if let admin = router.admin, request.path.hasPrefix(AdminAPI.prefix) {
            return routeAdmin(admin, head: head, request: request, body: body, context: context)
        }
        var headers = HTTPHeaders()
        switch (head.method, request.path) {
        case (.GET, "/healthz"), (.HEAD, "/healthz"):
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Cache-Control", value: "no-store")
            let health = router.health()
            write(
                status: health.healthy ? .ok : .serviceUnavailable, headers: headers, body: ByteBuffer(string: health.body),
                keepAlive: keepAlive, version: head.version, context: context)
        case (.GET, "/metrics"):
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=UTF-8")
            headers.add(name: "Cache-Control", value: "no-store")
            write(
                status: .ok, headers: headers, body: ByteBuffer(string: router.metrics()), keepAlive: keepAlive, version: head.version,
                context: context)
        case (_, "/healthz"), (_, "/metrics"):
            headers.add(name: "Content-Type", value: "text/plain; charset=UTF-8")
            headers.add(name: "Allow", value: request.path == "/healthz" ? "GET, HEAD" : "GET")
            write(
                status: .methodNotAllowed, headers: headers, body: ByteBuffer(string: "Method Not Allowed\n"), keepAlive: keepAlive,
                version: head.version, context: context)
        default:
            headers.add(name: "Content-Type", value: "text/plain; charset=UTF-8")
            write(
                status: .notFound, headers: headers, body: ByteBuffer(string: "Not Found\n"), keepAlive: keepAlive, version: head.version,
                context: context)
        }
    }

    private func routeAdmin(
        _ admin: AdminAPI, head: HTTPRequestHead, request: HandshakeRequest, body: ByteBuffer, context: ChannelHandlerContext
    ) {
        let keepAlive = head.isKeepAlive
        let version = head.version
        admin.handle(request, body: body, on: context.eventLoop).assumeIsolated().whenComplete { result in
            guard context.channel.isActive else { return }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Cache-Control", value: "no-store")
            switch result {
            case .success(let response):
                if !response.allow.isEmpty { headers.add(name: "Allow", value: response.allow.map(\.rawValue).joined(separator: ", ")) }
                var buffer = ByteBuffer()
                JSONWriter.write(response.body, into: &buffer)
                self.write(
                    status: response.status, headers: headers, body: buffer, keepAlive: keepAlive, version: version, context: context)
            case .failure:
                self.write(
                    status: .internalServerError, headers: headers, body: ByteBuffer(string: "{\"error\":\"internal error\"}"),
                    keepAlive: keepAlive, version: version, context: context)
            }
        }
    }

    private func routeEngine(
        _ engine: EngineServer, head: HTTPRequestHead, request: HandshakeRequest, body: ByteBuffer, context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Cache-Control", value: "no-store")
        if request.isWebSocketUpgrade {
            // A refused upgrade: the reference answers with a raw 400, the message as text, and closes.
            let message: String
            switch engine.classify(request) {
            case .failure(let error): message = error.message
            case .success: message = EngineRequestError.forbidden.message
            }
            headers.add(name: "Content-Type", value: "text/html")
            return write(
                status: .badRequest, headers: headers, body: ByteBuffer(string: message), keepAlive: false, version: head.version,
                context: context)
        }
        if head.method == .OPTIONS {
            for (name, value) in engine.origins.preflightHeaders(for: request) { headers.add(name: name, value: value) }
            return write(
                status: .noContent, headers: headers, body: ByteBuffer(), keepAlive: head.isKeepAlive, version: head.version,
                context: context)
        }
        for (name, value) in engine.origins.corsHeaders(for: request) { headers.add(name: name, value: value) }
        if let sid = request.sid, head.method == .GET { waitingSid = (engine, sid) }
        let keepAlive = head.isKeepAlive
        let version = head.version
        engine.handleHTTP(request, body: body, on: context.eventLoop).assumeIsolated().whenComplete { result in
            self.waitingSid = nil
            guard context.channel.isActive else { return }
            switch result {
            case .success(let response):
                if let contentType = response.contentType { headers.add(name: "Content-Type", value: contentType) }
                self.write(
                    status: response.status, headers: headers, body: response.body, keepAlive: keepAlive, version: version, context: context
                )
            case .failure:
                self.write(
                    status: .internalServerError, headers: headers, body: ByteBuffer(), keepAlive: false, version: version, context: context
                )
            }
        }
    }

    private func write(
        status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, keepAlive: Bool, version: HTTPVersion,
        context: ChannelHandlerContext
    ) {
        var headers = headers
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if keepAlive {
            if case .responding = state { state = .idle }
            armDeadline(context: context, after: HTTPRouter.keepAliveIdleTimeout)
        } else {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Closes the connection unless a request starts before `delay` has passed.
    private func armDeadline(context: ChannelHandlerContext, after delay: TimeAmount) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            context.close(promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .awaitingWritable(let head, let request, let body) = state {
            deadline?.cancel()
            deadline = nil
            state = .responding
            releaseBody()
            route(head: head, request: request, body: body, context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    /// Counts `bytes` of an Engine.IO request's body against the inbound budget; false when that
    /// would pass it.
    private func countBody(_ bytes: Int, of request: HandshakeRequest) -> Bool {
        guard let budget = budgetedBody?.budget ?? router.engine(for: request.path)?.inbound else { return true }
        let held = budgetedBody?.bytes ?? 0
        let wanted = InboundBudget.counted(bytes)
        guard budget.resize(from: held, to: wanted) else { return false }
        budgetedBody = (budget, wanted)
        return true
    }

    private func releaseBody() {
        if let (budget, bytes) = budgetedBody { _ = budget.resize(from: bytes, to: 0) }
        budgetedBody = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        releaseBody()
        deadline?.cancel()
        deadline = nil
        if let (engine, sid) = waitingSid {
            waitingSid = nil
            engine.pollingConnectionLost(sid: sid)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A refused WebSocket upgrade is reported as an error, then the request is handed
        // on to this handler, which answers it: not a reason to drop the connection.
        if error is NIOWebSocketUpgradeError { return }
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension HTTPRequestHandler: Sendable {}

import Logging
import NIOConcurrencyHelpers
import NIOCore

extension RedisSubscriber {
    /// The loop-confined part: the wanted subscriptions, the live handler, fence tokens.
    final class Core: RedisLinkDelegate {
        enum Change { case subscribe, unsubscribe, psubscribe, punsubscribe, fence }

        /// Channels per SUBSCRIBE when resubscribing, so one command stays a reasonable size.
        static let namesPerCommand = 500

        let reconnector: RedisReconnector
        private let configuration: RedisConfiguration
        private let onMessage: @Sendable (RedisPubSubMessage) -> Void
        private let onResubscribed: (@Sendable () -> Void)?
        private(set) var channels: Set<String> = []
        private(set) var patterns: Set<String> = []
        /// The subscribe-mode handler of the current connection, also while it is being prepared.
        private var handler: RedisPubSubHandler?
        private var handlers: [ObjectIdentifier: RedisPubSubHandler] = [:]
        private var serial = 0
        private let fenceTimeout: TimeAmount
        /// How often an idle link is fenced to prove it alive (nil: never).
        private let livenessInterval: TimeAmount?
        private var liveness: Scheduled<Void>?

        init(
            configuration: RedisConfiguration, livenessInterval: TimeAmount?, eventLoop: any EventLoop,
            statusBox: NIOLockedValueBox<RedisStatus>, logger: Logger,
            onMessage: @escaping @Sendable (RedisPubSubMessage) -> Void, onResubscribed: (@Sendable () -> Void)?
        ) {
            self.configuration = configuration
            self.livenessInterval = livenessInterval
            fenceTimeout = configuration.commandTimeout ?? configuration.connectTimeout
            self.onMessage = onMessage
            self.onResubscribed = onResubscribed
            reconnector = RedisReconnector(configuration: configuration, eventLoop: eventLoop, statusBox: statusBox, logger: logger)
            reconnector.delegate = self
        }

        func apply(_ change: Change, _ names: [String]) -> EventLoopFuture<Void> {
            var fresh: [String] = []
            switch change {
            case .subscribe: fresh = names.filter { channels.insert($0).inserted }
            case .unsubscribe: fresh = names.filter { channels.remove($0) != nil }
            case .psubscribe: fresh = names.filter { patterns.insert($0).inserted }
            case .punsubscribe: fresh = names.filter { patterns.remove($0) != nil }
            case .fence: break
            }
            guard let handler else {
                let reason = reconnector.statusBox.withLockedValue { $0.lastError.map { ": \($0.message)" } ?? "" }
                return reconnector.eventLoop.makeFailedFuture(RedisError(.notConnected, "the Redis subscriber is not connected\(reason)"))
            }
            do {
                if !fresh.isEmpty { try handler.write(Self.commands(change, fresh)) }
            } catch {
                return reconnector.eventLoop.makeFailedFuture(error)
            }
            return fence(handler)
        }

        /// A fence not answered within `fenceTimeout` ends the connection, as a late command reply would.
        private func fence(_ handler: RedisPubSubHandler) -> EventLoopFuture<Void> {
            serial += 1
            let loop = reconnector.eventLoop
            let promise = loop.makePromise(of: Void.self)
            handler.fence(token: "fence-\(serial)", promise: promise)
            let timeout = loop.assumeIsolated().scheduleTask(in: fenceTimeout) {
                handler.fail(RedisError(.commandTimeout, "no PONG for a subscriber fence in time"), close: true)
            }
            promise.futureResult.whenComplete { _ in timeout.cancel() }
            return promise.futureResult
        }

        private static func commands(_ change: Change, _ names: [String]) -> [RedisCommand] {
            let name =
                switch change {
                case .subscribe: "SUBSCRIBE"
                case .unsubscribe: "UNSUBSCRIBE"
                case .psubscribe: "PSUBSCRIBE"
                case .punsubscribe: "PUNSUBSCRIBE"
                case .fence: "PING"
                }
            return stride(from: 0, to: names.count, by: namesPerCommand).map { start in
                RedisCommand(name, arguments: names[start..<min(start + namesPerCommand, names.count)].map { $0 })
            }
        }

        /// Swaps the command handler for the subscribe-mode one, subscribes to everything wanted, fences.
        func prepare(_ connection: RedisConnection) -> EventLoopFuture<Void> {
            let pubsub = RedisPubSubHandler(limits: configuration.readerLimits, onMessage: onMessage)
            do {
                let pipeline = connection.channel.pipeline.syncOperations
                try pipeline.addHandler(pubsub, position: .after(connection.commandHandler))
                pipeline.removeHandler(connection.commandHandler, promise: nil)
                handler = pubsub
                handlers[ObjectIdentifier(connection)] = pubsub
                let wanted = Self.commands(.subscribe, channels.sorted()) + Self.commands(.psubscribe, patterns.sorted())
                if !wanted.isEmpty { try pubsub.write(wanted) }
            } catch {
                return connection.eventLoop.makeFailedFuture(error)
            }
            return fence(pubsub).assumeIsolated().flatMapErrorThrowing { error in
                self.linkDown(connection)
                throw error
            }.nonisolated()
        }

        func linkUp(_ connection: RedisConnection) {
            if let pubsub = handlers[ObjectIdentifier(connection)] { checkLiveness(of: pubsub) }
            onResubscribed?()
        }

        /// Every `livenessInterval` while `pubsub` is the live handler: a link that read nothing
        /// since the last look is fenced, and an unanswered fence closes its connection (`fence`),
        /// which ends this. A link that delivers is alive without one.
        private func checkLiveness(of pubsub: RedisPubSubHandler, readsBefore: Int = -1) {
            guard let livenessInterval else { return }
            liveness = reconnector.eventLoop.assumeIsolated().scheduleTask(in: livenessInterval) {
                guard self.handler === pubsub else { return }
                let reads = pubsub.reads
                guard reads == readsBefore else { return self.checkLiveness(of: pubsub, readsBefore: reads) }
                self.fence(pubsub).assumeIsolated().whenSuccess {
                    if self.handler === pubsub { self.checkLiveness(of: pubsub, readsBefore: pubsub.reads) }
                }
            }
        }

        func linkDown(_ connection: RedisConnection) {
            if handler === handlers[ObjectIdentifier(connection)] {
                handler = nil
                liveness?.cancel()
                liveness = nil
            }
            handlers[ObjectIdentifier(connection)] = nil
        }

        func failure(of connection: RedisConnection) -> RedisError? {
            handlers[ObjectIdentifier(connection)]?.failure
        }
    }
}

@available(*, unavailable)
extension RedisSubscriber.Core: Sendable {}

import Logging
import NIOConcurrencyHelpers
import NIOCore
import PalisadeCluster
import PalisadeJSON
import PalisadeRedis
import PalisadeServer

/// Palisade's own messages between instances, JSON objects with an `action` on the channel
/// `{prefix}:palisade:control`, which every instance subscribes to:
///
/// - `{"action":"sweep"}`: look for revoked tokens among your sockets now, not at your next
///   sweep (an admin revoke closes the matching sessions on every instance within a second);
/// - `{"action":"directory","from","kind","id"}`: a directory record was written, forget your
///   cached copy;
/// - `{"action":"sessions"|"disconnect","from","request","filter"}`: list or close your
///   sessions that match `filter` (`SessionFilter.json`), and answer
///   `{"request","sessions":[…]}` or `{"request","disconnected":n}` on the asker's own channel
///   `{prefix}:palisade:control:{from}`.
///
/// An asker waits for as many answers as `PUBLISH` counted other subscribers, for at most
/// `answerTimeout`: an instance that is gone or slow is left out, never waited on.
final class ClusterControl: AdminCluster {
    private let client: RedisClient
    private let subscriber: RedisSubscriber
    private let channel: String
    private let instance: String
    private let loop: any EventLoop
    private let server: SocketServer
    private let logger: Logger
    private let onSweep: @Sendable () -> Void
    private let onDirectoryWrite: @Sendable (_ kind: String, _ id: String) -> Void
    private let waiting = NIOLockedValueBox<[String: Question]>([:])
    /// How long an asker waits for the other instances.
    static let answerTimeout = TimeAmount.seconds(1)

    /// A question sent and the answers received so far.
    private struct Question {
        var promise: EventLoopPromise<[JSONValue]>
        var answers: [JSONValue] = []
        /// Known once `PUBLISH` answered: the other instances that received the question.
        var expected: Int?
    }

    init(
        link: RedisLink, prefix: String, server: SocketServer, loop: any EventLoop, logger: Logger,
        onSweep: @escaping @Sendable () -> Void, onDirectoryWrite: @escaping @Sendable (_ kind: String, _ id: String) -> Void
    ) {
        client = link.client
        channel = "\(prefix):palisade:control"
        instance = link.instanceID
        self.loop = loop
        self.server = server
        self.logger = logger
        self.onSweep = onSweep
        self.onDirectoryWrite = onDirectoryWrite
        let received = NIOLockedValueBox<ClusterControl?>(nil)
        subscriber = RedisSubscriber(configuration: link.client.configuration, eventLoop: loop, logger: logger) { message in
            received.withLockedValue { $0 }?.receive(message)
        }
        received.withLockedValue { $0 = self }
        _ = subscriber.subscribe([channel, answers(for: instance)])
    }

    private func answers(for instance: String) -> String { "\(channel):\(instance)" }

    // MARK: Announcements

    /// Tells every instance (this one too) to sweep revocations now.
    func announceRevocation() {
        publish(.object([JSONMember("action", .string("sweep"))]), what: "a revocation; instances sweep within 2 s anyway")
    }

    /// Tells the other instances that a directory record changed.
    func announceDirectoryWrite(kind: String, id: String) {
        let message = JSONValue.object([
            JSONMember("action", .string("directory")), JSONMember("from", .string(instance)),
            JSONMember("kind", .string(kind)), JSONMember("id", .string(id)),
        ])
        publish(message, what: "a directory write; other instances see it within their cache's 2 s")
    }

    private func publish(_ message: JSONValue, what: String) {
        client.send(RedisCommand("PUBLISH", channel, JSONWriter.string(message))).whenFailure { error in
            self.logger.warning("could not announce \(what)", metadata: ["error": "\(error)"])
        }
    }

    // MARK: AdminCluster

    func sessions(matching filter: SessionFilter) async -> [JSONValue] {
        await ask("sessions", filter).flatMap { $0["sessions"]?.arrayValue ?? [] }
    }

    func disconnect(matching filter: SessionFilter) async -> Int {
        await ask("disconnect", filter).reduce(0) { $0 + ($1["disconnected"]?.intValue ?? 0) }
    }

    /// Publishes a question and collects the other instances' answers.
    private func ask(_ action: String, _ filter: SessionFilter) async -> [JSONValue] {
        let request = RedisRoomAdapter.makeHostID()
        let promise = loop.makePromise(of: [JSONValue].self)
        waiting.withLockedValue { $0[request] = Question(promise: promise) }
        loop.scheduleTask(in: Self.answerTimeout) { self.finish(request) }
        let question = JSONValue.object([
            JSONMember("action", .string(action)), JSONMember("from", .string(instance)),
            JSONMember("request", .string(request)), JSONMember("filter", filter.json),
        ])
        client.send(RedisCommand("PUBLISH", channel, JSONWriter.string(question))).whenComplete { result in
            switch result {
            case .success(let receivers):
                // Every instance receives its own question: the others are one fewer.
                self.expect(request, max(Int(receivers.integer ?? 1) - 1, 0))
            case .failure(let error):
                self.logger.warning("could not ask the other instances", metadata: ["action": "\(action)", "error": "\(error)"])
                self.finish(request)
            }
        }
        return (try? await promise.futureResult.get()) ?? []
    }

    private func expect(_ request: String, _ count: Int) {
        let done = waiting.withLockedValue { waiting -> Bool in
            waiting[request]?.expected = count
            return waiting[request].map { $0.answers.count >= count } ?? false
        }
        if done { finish(request) }
    }

    private func finish(_ request: String) {
        guard let question = waiting.withLockedValue({ $0.removeValue(forKey: request) }) else { return }
        question.promise.succeed(question.answers)
    }

    // MARK: Receiving

    private func receive(_ message: RedisPubSubMessage) {
        guard let json = try? JSONParser.parse(message.payload.readableBytesView) else { return }
        if message.channel != channel { return collect(json) }
        let from = json["from"]?.stringValue
        switch json["action"]?.stringValue {
        case "sweep":
            onSweep()
        case "directory" where from != instance:
            if let kind = json["kind"]?.stringValue, let id = json["id"]?.stringValue { onDirectoryWrite(kind, id) }
        case "sessions" where from != instance:
            guard let from, let request = json["request"]?.stringValue else { return }
            let filter = SessionFilter(json: json["filter"] ?? .null)
            server.sessions(on: loop).whenSuccess { infos in
                let sessions = infos.filter(filter.matches).map(\.adminJSON)
                self.answer(from, request, JSONMember("sessions", .array(sessions)))
            }
        case "disconnect" where from != instance:
            guard let from, let request = json["request"]?.stringValue else { return }
            let filter = SessionFilter(json: json["filter"] ?? .null)
            server.disconnect(matching: filter, on: loop).whenSuccess { count in
                if count > 0 { self.logger.notice("closed sessions at another instance's request", metadata: ["count": "\(count)"]) }
                self.answer(from, request, JSONMember("disconnected", JSONValue(count)))
            }
        default:
            break
        }
    }

    private func answer(_ asker: String, _ request: String, _ result: JSONMember) {
        let message = JSONValue.object([JSONMember("request", .string(request)), result])
        client.send(RedisCommand("PUBLISH", answers(for: asker), JSONWriter.string(message))).whenFailure { error in
            self.logger.warning("could not answer another instance", metadata: ["error": "\(error)"])
        }
    }

    /// An answer to one of this instance's questions.
    private func collect(_ answer: JSONValue) {
        guard let request = answer["request"]?.stringValue else { return }
        let done = waiting.withLockedValue { waiting -> Bool in
            guard var question = waiting[request] else { return false }
            question.answers.append(answer)
            waiting[request] = question
            return question.expected.map { question.answers.count >= $0 } ?? false
        }
        if done { finish(request) }
    }

    func close() async {
        try? await subscriber.close().get()
    }
}

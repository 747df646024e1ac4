import Logging
import NIOConcurrencyHelpers
import NIOCore
import PalisadeHTTPClient
import PalisadeJSON
import PalisadePolicy
import PalisadeServer

/// `alerts.webhook_url`: each `px.alert` is POSTed as JSON `{"ts", "kind", "fields"}`, one at a
/// time in order, tried `attempts` times with a doubling pause on a failure (no answer or a
/// non-2xx status). At most `maxQueued` wait; past that an alert is dropped and counted, so an
/// unreachable webhook cannot grow memory.
final class WebhookAlerts: PolicyAlerts {
    static let maxQueued = 1_000
    static let attempts = 3
    static let firstPause = TimeAmount.milliseconds(500)
    static let timeout = TimeAmount.seconds(5)

    private let url: HTTPClientURL
    private let client: HTTPClient
    private let loop: any EventLoop
    private let logger: Logger
    /// The alerts waiting, oldest first (a ring: taking the oldest moves nothing).
    private let state = NIOLockedValueBox((queue: CircularBuffer<[UInt8]>(), sending: false, sent: 0, dropped: 0))

    init(url: HTTPClientURL, client: HTTPClient, loop: any EventLoop, logger: Logger) {
        self.url = url
        self.client = client
        self.loop = loop
        self.logger = logger
    }

    func alert(_ kind: String, _ fields: [JSONMember]) {
        let body = JSONWriter.string(
            .object([
                JSONMember("ts", .string(UnixTime.timestamp())), JSONMember("kind", .string(kind)), JSONMember("fields", .object(fields)),
            ]))
        let start = state.withLockedValue { state -> Bool in
            guard state.queue.count < Self.maxQueued else {
                state.dropped += 1
                return false
            }
            state.queue.append(Array(body.utf8))
            guard !state.sending else { return false }
            state.sending = true
            return true
        }
        if start { loop.execute { self.sendNext() } }
    }

    /// Alerts sent and dropped since start.
    var totals: (sent: Int, dropped: Int) { state.withLockedValue { ($0.sent, $0.dropped) } }

    private func sendNext() {
        let next = state.withLockedValue { state -> [UInt8]? in
            guard !state.queue.isEmpty else {
                state.sending = false
                return nil
            }
            return state.queue.removeFirst()
        }
        guard let body = next else { return }
        send(body, attempt: 1, pause: Self.firstPause)
    }

    private func send(_ body: [UInt8], attempt: Int, pause: TimeAmount) {
        let request = HTTPClientRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")], body: body)
        client.execute(request, timeout: Self.timeout, maxResponseBytes: 64 << 10, on: loop).whenComplete { result in
            if case .success(let response) = result, (200..<300).contains(response.status) {
                self.state.withLockedValue { $0.sent += 1 }
                return self.sendNext()
            }
            guard attempt < Self.attempts else {
                self.state.withLockedValue { $0.dropped += 1 }
                self.logger.warning("an alert could not be delivered to the webhook", metadata: ["attempts": "\(attempt)"])
                return self.sendNext()
            }
            self.loop.scheduleTask(in: pause) { self.send(body, attempt: attempt + 1, pause: pause + pause) }
        }
    }
}

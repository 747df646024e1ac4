import NIOCore

extension Socket {
    /// An identity with `expires_at` (Unix seconds; the stock policy gives the token's `exp` plus
    /// its leeway) ends then: the socket is disconnected when that time passes, idle or not, as
    /// Open WebUI drops a socket whose token expired. A new identity replaces the timer; none
    /// cancels it.
    func armExpiry(at expiry: Double?) {
        expiryTimer?.cancel()
        expiryTimer = nil
        guard let expiry else { return }
        let seconds = max(0, min(expiry - UnixTime.now(), Self.longestExpiryDelay))
        expiryTimer = loop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
            self.expiryTimer = nil
            guard self.isConnected, let expiry = self.identity?["expires_at"]?.doubleValue else { return }
            guard UnixTime.now() >= expiry else { return self.armExpiry(at: expiry) }
            self.server.logger.info("closing a socket whose identity expired", metadata: ["sid": "\(self.id)"])
            self.disconnect()
        }
    }

    /// Timers further out are re-armed when they fire (a far `exp` never overflows a deadline).
    static let longestExpiryDelay = 7.0 * 86_400
}

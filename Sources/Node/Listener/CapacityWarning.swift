import Synchronization

/// Rate-limits the "node full" warning: a full node refuses every new client, and one
/// log line a second says so without flooding the log.
final class CapacityWarning: Sendable {
    private let lastLogged = Mutex<ContinuousClock.Instant?>(nil)

    func shouldLog() -> Bool {
        let now = ContinuousClock.now
        return lastLogged.withLock { last in
            if let last, now - last < .seconds(1) { return false }
            last = now
            return true
        }
    }
}

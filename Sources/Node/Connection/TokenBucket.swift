import NIOCore

/// An allowance refilled continuously at `rate` per second up to `burst`, on the event
/// loop's clock (virtual in tests).
struct TokenBucket {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var last: NIODeadline?

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
        tokens = burst
    }

    /// Takes `cost` when that much is there; false (nothing taken) when not.
    mutating func take(_ cost: Double, now: NIODeadline) -> Bool {
        if let last {
            let elapsed = Double((now - last).nanoseconds) / 1e9
            tokens = min(burst, tokens + max(0, elapsed) * rate)
        }
        last = now
        guard tokens >= cost else { return false }
        tokens -= cost
        return true
    }

    /// Whether it would be full at `now`: nothing taken is still owed.
    func isFull(at now: NIODeadline) -> Bool {
        guard let last else { return true }
        return tokens + max(0, Double((now - last).nanoseconds) / 1e9) * rate >= burst
    }

    /// Returns what `take` took for something that then did not happen.
    mutating func giveBack(_ cost: Double) {
        tokens = min(burst, tokens + cost)
    }
}

import NIOCore

/// Whether calls go out to one backend, from how its recent calls ended.
///
/// Closed: calls go out. It opens on `consecutiveFailures` failures in a row, or when at
/// least half of the last `window` calls failed. Open: calls are refused at once, with the
/// time left as a retry hint, for `openFor`. Then half-open: one call at a time goes out as
/// a probe; its success closes the breaker, its failure opens it again. A backend that
/// answers at all (even "not found") has not failed; a call its client abandoned says
/// nothing. Times come from the caller (the event loop's clock; virtual in tests).
struct CircuitBreaker {
    struct Policy: Sendable {
        var consecutiveFailures = 5
        /// Calls whose failure rate may open the breaker (at most 64).
        var window = 32
        var failureRate = 0.5
        var openFor: Duration = .seconds(5)
    }

    enum State: Equatable {
        case closed
        case open(until: NIODeadline)
        case halfOpen(probing: Bool)
    }

    enum Admission: Equatable {
        case allowed
        /// The one call that decides whether a half-open breaker closes.
        case probe
        case refused(retryAfter: Duration)
    }

    enum Outcome {
        case success, failure
        /// Cancelled by its client, or refused before it went out: no evidence either way.
        case abandoned
    }

    let policy: Policy
    private(set) var state = State.closed
    /// The last `window` outcomes, newest in bit 0 (1: failed).
    private var recent: UInt64 = 0
    private var recentCount = 0
    private var consecutive = 0

    init(policy: Policy = Policy()) {
        self.policy = policy
    }

    /// Whether a call may go out now.
    mutating func admit(now: NIODeadline) -> Admission {
        switch state {
        case .closed:
            return .allowed
        case .open(let until):
            if now < until { return .refused(retryAfter: .nanoseconds((until - now).nanoseconds)) }
            state = .halfOpen(probing: true)
            return .probe
        case .halfOpen(let probing):
            if probing { return .refused(retryAfter: .milliseconds(100)) }
            state = .halfOpen(probing: true)
            return .probe
        }
    }

    /// Records how an admitted call ended; true when this opened the breaker.
    @discardableResult
    mutating func record(_ outcome: Outcome, probe: Bool, now: NIODeadline) -> Bool {
        if probe, case .halfOpen = state {
            switch outcome {
            case .success:
                state = .closed
                recent = 0
                recentCount = 0
                consecutive = 0
                return false
            case .failure:
                state = .open(until: now + TimeAmount(policy.openFor))
                return true
            case .abandoned:
                state = .halfOpen(probing: false)
                return false
            }
        }
        guard state == .closed else { return false }
        switch outcome {
        case .abandoned: return false
        case .success: consecutive = 0
        case .failure: consecutive += 1
        }
        let window = min(max(policy.window, 1), 64)
        recent = (recent << 1) | (outcome == .failure ? 1 : 0)
        if window < 64 { recent &= (UInt64(1) << window) - 1 }
        recentCount = min(recentCount + 1, window)
        let rateTripped = recentCount == window && Double(recent.nonzeroBitCount) >= policy.failureRate * Double(window)
        guard consecutive >= policy.consecutiveFailures || rateTripped else { return false }
        state = .open(until: now + TimeAmount(policy.openFor))
        consecutive = 0
        recent = 0
        recentCount = 0
        return true
    }
}

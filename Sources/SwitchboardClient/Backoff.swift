/// Full-jitter exponential backoff: attempt *n* waits a random time below
/// `min(maximum, base · 2ⁿ)`, so clients that lost one node do not return in step.
public struct Backoff: Sendable {
    public var base: Duration = .milliseconds(250)
    public var maximum: Duration = .seconds(10)

    public init(base: Duration = .milliseconds(250), maximum: Duration = .seconds(10)) {
        self.base = base
        self.maximum = maximum
    }

    /// The ceiling of attempt `attempt` (0-based).
    public func ceiling(attempt: Int) -> Duration {
        let factor = 1 << min(attempt, 30)
        return min(maximum, base * factor)
    }

    /// A delay for attempt `attempt`, drawn with `generator`.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(attempt: attempt)
        let nanoseconds = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0..<nanoseconds, using: &generator))
    }
}

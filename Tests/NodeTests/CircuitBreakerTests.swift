import NIOCore
@testable import Node
import Testing

/// The backend circuit breaker's states, on a virtual clock.
@Suite("Backend circuit breaker")
struct CircuitBreakerTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    /// A breaker driven at virtual times (seconds after `start`).
    struct Driver {
        var breaker: CircuitBreaker

        init(failures: Int = 3, window: Int = 8, openFor: Duration = .seconds(5)) {
            breaker = CircuitBreaker(policy: .init(consecutiveFailures: failures, window: window, failureRate: 0.5, openFor: openFor))
        }

        mutating func admit(at seconds: Double = 0) -> CircuitBreaker.Admission {
            breaker.admit(now: CircuitBreakerTests.start + .nanoseconds(Int64(seconds * 1e9)))
        }

        /// Admits one call and records `outcome`; true when that opened the breaker.
        mutating func call(_ outcome: CircuitBreaker.Outcome, at seconds: Double = 0) -> Bool {
            let admission = admit(at: seconds)
            return breaker.record(outcome, probe: admission == .probe, now: CircuitBreakerTests.start + .nanoseconds(Int64(seconds * 1e9)))
        }
    }

    @Test("failures in a row open it; open, calls are refused with the time left; then one probe at a time")
    func opensAndProbes() {
        var driver = Driver()
        #expect(driver.call(.failure) == false)
        #expect(driver.call(.failure) == false)
        #expect(driver.call(.failure) == true, "the third failure in a row opens it")
        #expect(driver.admit(at: 1) == .refused(retryAfter: .seconds(4)))
        #expect(driver.admit(at: 4.999) == .refused(retryAfter: .milliseconds(1)))

        // Half-open: the first call is the probe, the others wait for its verdict.
        #expect(driver.admit(at: 5) == .probe)
        #expect(driver.admit(at: 5) == .refused(retryAfter: .milliseconds(100)))
        // A failed probe opens it again for the whole period.
        #expect(driver.breaker.record(.failure, probe: true, now: Self.start + .seconds(6)) == true)
        #expect(driver.admit(at: 10) == .refused(retryAfter: .seconds(1)))
        // A successful one closes it, with a clean record.
        #expect(driver.call(.success, at: 11) == false)
        #expect(driver.breaker.state == .closed)
        #expect(driver.call(.failure, at: 11) == false)
        #expect(driver.breaker.state == .closed, "earlier failures were forgotten")
    }

    @Test("a success resets the count of failures in a row; half the window failing opens it anyway")
    func failureRate() {
        var driver = Driver(failures: 3, window: 8)
        // Alternating: never 3 in a row, but 4 of the last 8 failed.
        for call in 0..<7 {
            #expect(driver.call(call.isMultiple(of: 2) ? .failure : .success) == false, "call \(call)")
        }
        #expect(driver.call(.success) == true, "4 failures in the last 8 calls")

        var healthy = Driver(failures: 3, window: 8)
        for call in 0..<100 {
            #expect(healthy.call(call % 4 == 0 ? .failure : .success) == false)
        }
        #expect(healthy.breaker.state == .closed, "a quarter failing is not enough")
    }

    @Test("abandoned calls (the client went) are no evidence: they neither open nor close it")
    func abandoned() {
        var driver = Driver(failures: 2, window: 4)
        for _ in 0..<10 { #expect(driver.call(.abandoned) == false) }
        #expect(driver.breaker.state == .closed)
        #expect(driver.call(.failure) == false)
        #expect(driver.call(.failure) == true)
        #expect(driver.call(.abandoned, at: 5) == false, "the probe's client went")
        #expect(driver.breaker.state == .halfOpen(probing: false), "the next call probes instead")
        #expect(driver.admit(at: 5) == .probe)
    }
}

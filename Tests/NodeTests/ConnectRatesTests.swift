import NIOCore
@testable import Node
import Synchronization
import Testing

/// Connects per user and minute, on an injected clock.
@Suite("Connect rate per user")
struct ConnectRatesTests {
    final class Clock: Sendable {
        let now = Mutex(NIODeadline.uptimeNanoseconds(1_000_000_000))
        func advance(_ by: TimeAmount) { now.withLock { $0 = $0 + by } }
    }

    @Test("a user may connect its burst at once, then at the rate; others are not affected; refilled buckets are forgotten")
    func rate() {
        let clock = Clock()
        let rates = ConnectRates(perMinute: 6) { clock.now.withLock { $0 } }
        for _ in 0..<6 { #expect(rates.admit("loop")) }
        #expect(!rates.admit("loop"))
        #expect(rates.admit("someone-else"))
        clock.advance(.seconds(9))
        #expect(!rates.admit("loop"), "one every 10 s")
        clock.advance(.seconds(1))
        #expect(rates.admit("loop"))
        #expect(!rates.admit("loop"))

        for n in 0..<1000 { _ = rates.admit("user-\(n)") }
        clock.advance(.seconds(120))  // every bucket so far has refilled
        for n in 0..<2000 { _ = rates.admit("later-\(n)") }
        #expect(rates.tracked < 2100, "refilled buckets were swept")
        #expect(rates.tracked >= 2000, "the later users' buckets are kept")
    }
}

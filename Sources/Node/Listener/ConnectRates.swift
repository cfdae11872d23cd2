import NIOCore
import Synchronization

/// How often each user may connect to this node: a token bucket per user (`rate` connects
/// a second, `burst` at once). Each connect costs a token check, presence writes and, with
/// `since`, a replay of up to half a queue from the inbox, so a client reconnecting in a
/// loop must not turn that into load on Redis for everyone. Buckets that have refilled are
/// forgotten, a sweep each time their number has doubled, so memory follows active users.
final class ConnectRates: Sendable {
    let rate: Double
    let burst: Double
    private let now: @Sendable () -> NIODeadline
    private let state = Mutex<(buckets: [String: TokenBucket], sweptDownTo: Int)>(([:], 0))

    init(perMinute: Int, now: @escaping @Sendable () -> NIODeadline = { .now() }) {
        rate = Double(perMinute) / 60
        burst = Double(perMinute)
        self.now = now
    }

    /// Takes one connect for `user`; false when the user is over the rate.
    func admit(_ user: String) -> Bool {
        let now = self.now()
        let (rate, burst) = (self.rate, self.burst)
        return state.withLock { state in
            var bucket = state.buckets[user] ?? TokenBucket(rate: rate, burst: burst)
            let admitted = bucket.take(1, now: now)
            state.buckets[user] = bucket
            if state.buckets.count > max(2 * state.sweptDownTo, 1024) {
                state.buckets = state.buckets.filter { !$0.value.isFull(at: now) }
                state.sweptDownTo = state.buckets.count
            }
            return admitted
        }
    }

    /// Users with a bucket kept (tests).
    var tracked: Int { state.withLock { $0.buckets.count } }
}

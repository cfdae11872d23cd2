import Synchronization

/// Every push of a chaos run, booked by the second it was sent: what the Gateway API
/// answered, how many times it reached its user's client (after the client library's
/// dedupe), and how late. Faults are laid over these seconds afterwards.
final class ChaosLedger: Sendable {
    enum Answer: UInt8, Sendable {
        case pending
        /// Stored in the inbox (durable) or delivered to a connection (plain): owed to the client.
        case owed
        /// A plain push to a user nobody held at that moment: not owed.
        case offline
        /// The call failed (a gRPC status): not owed.
        case refused
    }

    struct Push {
        var second: Int32
        var durable: Bool
        var target: Int32
        var answer = Answer.pending
        var deliveries: UInt8 = 0
        var latencyMicroseconds: Int32 = -1
    }

    struct State {
        var pushes: [Push] = []
        var refusals: [String: Int] = [:]
        var misdelivered = 0
        /// Pushes received per second (all of them, by when they arrived).
        var received: [Int] = []
        /// Clients connected, sampled each second.
        var connected: [Int] = []
        /// Backend calls made per second, and those that failed (by when they were made).
        var calls: [Int] = []
        var failedCalls: [Int] = []
        var callErrors: [String: Int] = [:]
        var broadcasts: [Broadcast] = []
    }

    /// A topic-less broadcast: when it was sent, how many clients were open then, how many
    /// received it (a client counted once).
    struct Broadcast {
        var second: Int
        var open: Int
        var received = 0
        var refused = false
    }

    private let state: Mutex<State>

    init(capacity: Int) {
        var state = State()
        state.pushes.reserveCapacity(capacity)
        self.state = Mutex(state)
    }

    /// Books a push about to be sent; its sequence number.
    func sent(second: Int, durable: Bool, target: Int) -> Int {
        state.withLock { state in
            state.pushes.append(Push(second: Int32(second), durable: durable, target: Int32(target)))
            return state.pushes.count - 1
        }
    }

    func answered(_ sequence: Int, _ answer: Answer, refusal: String? = nil) {
        state.withLock { state in
            state.pushes[sequence].answer = answer
            if let refusal { state.refusals[refusal, default: 0] += 1 }
        }
    }

    func received(_ sequence: Int, second: Int, latencyMicroseconds: Int) {
        state.withLock { state in
            if state.received.count <= second { state.received.append(contentsOf: repeatElement(0, count: second + 1 - state.received.count)) }
            state.received[second] += 1
            guard state.pushes.indices.contains(sequence) else {
                state.misdelivered += 1
                return
            }
            state.pushes[sequence].deliveries &+= 1
            if state.pushes[sequence].latencyMicroseconds < 0 {
                state.pushes[sequence].latencyMicroseconds = Int32(clamping: latencyMicroseconds)
            }
        }
    }

    var snapshot: State { state.withLock { $0 } }

    /// Every call answered and every durable push owed has arrived: nothing more to wait
    /// for (a plain push that has not arrived by now never will).
    var settled: Bool {
        state.withLock { state in
            !state.pushes.contains { $0.answer == .pending || ($0.durable && $0.answer == .owed && $0.deliveries == 0) }
        }
    }

    /// Books a broadcast about to be sent; its number.
    func broadcastSent(second: Int, open: Int) -> Int {
        state.withLock { state in
            state.broadcasts.append(Broadcast(second: second, open: open))
            return state.broadcasts.count - 1
        }
    }

    func broadcastRefused(_ number: Int) {
        state.withLock { $0.broadcasts[number].refused = true }
    }

    func broadcastReceived(_ number: Int) {
        state.withLock { state in
            guard state.broadcasts.indices.contains(number) else { return state.misdelivered += 1 }
            state.broadcasts[number].received += 1
        }
    }

    func misdelivered() {
        state.withLock { $0.misdelivered += 1 }
    }

    /// A backend call made in `second` was answered (`error` nil) or failed with that code.
    func called(second: Int, error: String?) {
        state.withLock { state in
            if state.calls.count <= second {
                state.calls.append(contentsOf: repeatElement(0, count: second + 1 - state.calls.count))
                state.failedCalls.append(contentsOf: repeatElement(0, count: second + 1 - state.failedCalls.count))
            }
            state.calls[second] += 1
            if let error {
                state.failedCalls[second] += 1
                state.callErrors[error, default: 0] += 1
            }
        }
    }

    func sampleConnected(_ count: Int, second: Int) {
        state.withLock { state in
            if state.connected.count <= second { state.connected.append(contentsOf: repeatElement(0, count: second + 1 - state.connected.count)) }
            state.connected[second] = count
        }
    }
}

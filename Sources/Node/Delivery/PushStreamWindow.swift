import Synchronization
import SwitchboardProtocol

/// One push stream's items in flight and their outcomes on the way back.
///
/// The reader takes a slot per item; the slot is free again only once the writer has taken
/// the item's outcome to write. So at most `window` items are pushed but unanswered, and a
/// backend that writes faster than pushes complete — or never reads its outcomes — is
/// slowed by HTTP/2 flow control, never buffered without bound. Each push's callback hands
/// back its outcome on whatever loop it completes; the writer takes every outcome ready at
/// once and writes them together.
final class PushStreamWindow: Sendable {
    typealias Outcome = Switchboard_Gateway_V1_PushStreamOutcome
    private typealias Writer = CheckedContinuation<[Outcome]?, Never>

    private struct State {
        /// Items taken and not yet answered to the writer.
        var inFlight = 0
        var ready: [Outcome] = []
        var finished = false
        /// The writer is gone (the stream was reset): nothing more is taken or kept.
        var failed = false
        var reader: CheckedContinuation<Bool, Never>?
        var writer: Writer?
    }

    let window: Int
    private let state = Mutex(State())

    init(window: Int) {
        self.window = window
    }

    /// Slots taken: items pushed whose outcomes the writer has not taken yet.
    var taken: Int { state.withLock { $0.inFlight } }

    /// Takes a slot for one more item, waiting while `window` are in flight; false when the
    /// writer is gone and no more items should be read.
    func reserve() async -> Bool {
        let granted = state.withLock { state -> Bool? in
            if state.failed { return false }
            guard state.inFlight < window else { return nil }
            state.inFlight += 1
            return true
        }
        if let granted { return granted }
        return await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool? in
                if state.failed { return false }
                guard state.inFlight >= window else {
                    state.inFlight += 1
                    return true
                }
                state.reader = continuation
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// The writer could not write (the stream is gone): a reader waiting for a slot is told
    /// to stop, and outcomes still to come are dropped.
    func fail() {
        let reader = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            state.failed = true
            state.ready = []
            defer { state.reader = nil }
            return state.reader
        }
        reader?.resume(returning: false)
    }

    /// Hands back an item's outcome.
    func complete(_ outcome: Outcome) {
        let (writer, batch, reader) = state.withLock { state -> (Writer?, [Outcome], CheckedContinuation<Bool, Never>?) in
            if state.failed { return (nil, [], nil) }
            state.ready.append(outcome)
            guard let writer = state.writer else { return (nil, [], nil) }
            state.writer = nil
            let (batch, reader) = Self.takeReady(&state, window: window)
            return (writer, batch, reader)
        }
        reader?.resume(returning: true)
        writer?.resume(returning: batch)
    }

    /// No more items will come; `next` returns nil once the last outcome is taken.
    func finish() {
        let writer = state.withLock { state -> Writer? in
            state.finished = true
            guard state.inFlight == 0, let writer = state.writer else { return nil }
            state.writer = nil
            return writer
        }
        writer?.resume(returning: nil)
    }

    /// Every outcome ready now, waiting for one if none is; nil when finished and all are taken.
    func next() async -> [Outcome]? {
        await withCheckedContinuation { (continuation: Writer) in
            let (answer, reader) = state.withLock { state -> ([Outcome]??, CheckedContinuation<Bool, Never>?) in
                if !state.ready.isEmpty {
                    let (batch, reader) = Self.takeReady(&state, window: window)
                    return (.some(batch), reader)
                }
                if state.finished && state.inFlight == 0 { return (.some(nil), nil) }
                state.writer = continuation
                return (nil, nil)
            }
            reader?.resume(returning: true)
            if let answer { continuation.resume(returning: answer) }
        }
    }

    /// Takes the ready outcomes, freeing their slots; returns the waiting reader when one is
    /// now free for it (its slot already taken on its behalf).
    private static func takeReady(_ state: inout State, window: Int) -> ([Outcome], CheckedContinuation<Bool, Never>?) {
        let batch = state.ready
        state.ready = []
        state.inFlight -= batch.count
        guard let reader = state.reader, state.inFlight < window else { return (batch, nil) }
        state.reader = nil
        state.inFlight += 1
        return (batch, reader)
    }
}

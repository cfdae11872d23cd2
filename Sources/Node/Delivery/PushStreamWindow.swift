import Synchronization
import SwitchboardProtocol

/// One push stream's items in flight and their outcomes on the way back.
///
/// The reader takes a slot per item (waiting while `window` are in flight, so a backend
/// that sends faster than pushes complete is slowed by HTTP/2 flow control, never
/// buffered without bound); each push's callback hands back its outcome, on whatever loop
/// it completes; the writer takes every outcome ready at once and writes them together.
final class PushStreamWindow: Sendable {
    typealias Outcome = Switchboard_Gateway_V1_PushStreamOutcome

    private struct State {
        var inFlight = 0
        var ready: [Outcome] = []
        var finished = false
        var reader: CheckedContinuation<Void, Never>?
        var writer: CheckedContinuation<[Outcome]?, Never>?
    }

    let window: Int
    private let state = Mutex(State())

    init(window: Int) {
        self.window = window
    }

    /// Takes a slot for one more item, waiting while `window` are in flight.
    func reserve() async {
        let granted = state.withLock { state in
            guard state.inFlight < window else { return false }
            state.inFlight += 1
            return true
        }
        if granted { return }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                guard state.inFlight >= window else {
                    state.inFlight += 1
                    return true
                }
                state.reader = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Hands back an item's outcome and its slot.
    func complete(_ outcome: Outcome) {
        let (reader, writer) = state.withLock { state -> (CheckedContinuation<Void, Never>?, (CheckedContinuation<[Outcome]?, Never>, [Outcome])?) in
            state.inFlight -= 1
            state.ready.append(outcome)
            var reader: CheckedContinuation<Void, Never>?
            if let waiting = state.reader, state.inFlight < window {
                state.reader = nil
                state.inFlight += 1
                reader = waiting
            }
            var writer: (CheckedContinuation<[Outcome]?, Never>, [Outcome])?
            if let waiting = state.writer {
                state.writer = nil
                writer = (waiting, state.ready)
                state.ready = []
            }
            return (reader, writer)
        }
        reader?.resume()
        if let (continuation, batch) = writer { continuation.resume(returning: batch) }
    }

    /// No more items will come; `next` returns nil once the last outcome is taken.
    func finish() {
        let writer = state.withLock { state -> CheckedContinuation<[Outcome]?, Never>? in
            state.finished = true
            guard state.inFlight == 0, state.ready.isEmpty, let writer = state.writer else { return nil }
            state.writer = nil
            return writer
        }
        writer?.resume(returning: nil)
    }

    /// Every outcome ready now, waiting for one if none is; nil when finished and all are taken.
    func next() async -> [Outcome]? {
        await withCheckedContinuation { continuation in
            let answer = state.withLock { state -> [Outcome]?? in
                if !state.ready.isEmpty {
                    defer { state.ready = [] }
                    return .some(state.ready)
                }
                if state.finished && state.inFlight == 0 { return .some(nil) }
                state.writer = continuation
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }
}

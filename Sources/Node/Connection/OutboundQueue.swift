import DequeModule
import Synchronization

/// One connection's bounded outbound queue: many producers, one write pump (the
/// connection's `ConnectionPump`, woken through `wake`).
///
/// Producers never wait: a frame that would pass either limit ends the queue as
/// overflowed and the connection is closed as a slow consumer. This is what keeps a
/// slow client from holding up the router or anyone else, and bounds its memory.
final class OutboundQueue: Sendable {
    enum Ending: Sendable {
        /// A limit was passed; the frames still queued were dropped.
        case overflow(dropped: Int)
        /// The node is draining: flush what is queued, then close with 1012.
        case shutdown
        /// A backend asked to disconnect the user: flush, then close with 4003.
        case disconnect(reason: String)
        /// The connection's token expired without a fresh one: flush, then close with 4001.
        case tokenExpired
        /// The client closed: flush the answers owed to it, then echo its close `code`.
        case peerClosed(code: Int)
        /// The socket is gone; nothing more will be written.
        case finished
    }

    enum EnqueueResult: Sendable, Equatable {
        case queued
        /// This frame passed a limit; the queue is now ended as `.overflow`, and
        /// `dropped` frames (this one included) will never be written.
        case overflow(dropped: Int)
        /// The queue had already ended; the frame was dropped.
        case ended
        /// A sheddable frame met a queue already half full: dropped, the queue goes on.
        case shed
    }

    private struct State {
        var frames = Deque<EncodedFrame>()
        var bytes = 0
        var ending: Ending?
        /// A wake-up is on its way to the pump and it has not taken since.
        var wakePending = false
    }

    let maxMessages: Int
    let maxBytes: Int
    private let state = Mutex(State())
    private let wake: @Sendable () -> Void

    /// `wake` is called, outside the lock, when frames or an ending arrive and the pump
    /// has not been woken since it last took.
    init(maxMessages: Int, maxBytes: Int, wake: @escaping @Sendable () -> Void) {
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
        self.wake = wake
    }

    /// Whether to wake the pump now; called under the lock.
    private func claimWake(_ state: inout State) -> Bool {
        guard !state.wakePending else { return false }
        state.wakePending = true
        return true
    }

    /// Queues `frame`. A `sheddable` frame (another user's message) is dropped instead
    /// when the queue is half full by either limit: other users alone can never fill it,
    /// so they can never get this connection closed; what fills the rest is the node's own
    /// and the backends' traffic.
    func enqueue(_ frame: EncodedFrame, sheddable: Bool = false) -> EnqueueResult {
        let (result, wakeNow) = enqueueWithoutWaking(frame, sheddable: sheddable)
        if wakeNow { wake() }
        return result
    }

    /// `enqueue`, but the pump is not woken: the caller wakes it (`wake`, on the pump's
    /// event loop) when the second value says so — a delivery to many connections wakes
    /// those on another event loop with one task for all of them.
    func enqueueWithoutWaking(_ frame: EncodedFrame, sheddable: Bool = false) -> (EnqueueResult, wake: Bool) {
        state.withLock { state -> (EnqueueResult, Bool) in
            guard state.ending == nil else { return (.ended, false) }
            if sheddable, 2 * (state.frames.count + 1) > maxMessages || 2 * (state.bytes + frame.byteCount) > maxBytes {
                return (.shed, false)
            }
            if state.frames.count + 1 > maxMessages || state.bytes + frame.byteCount > maxBytes {
                let dropped = state.frames.count + 1
                state.ending = .overflow(dropped: dropped)
                state.frames.removeAll()
                state.bytes = 0
                return (.overflow(dropped: dropped), claimWake(&state))
            }
            state.frames.append(frame)
            state.bytes += frame.byteCount
            return (.queued, claimWake(&state))
        }
    }

    /// Nothing queued and not ended: a frame written now by the pump's event loop goes out
    /// in order (on that loop, anything taken earlier has been written already).
    var isIdle: Bool {
        state.withLock { $0.frames.isEmpty && $0.ending == nil }
    }

    /// Ends the queue unless it has ended already; the first ending wins.
    func finish(_ ending: Ending) {
        let wakeNow = state.withLock { state -> Bool in
            guard state.ending == nil else { return false }
            state.ending = ending
            return claimWake(&state)
        }
        if wakeNow { wake() }
    }

    /// What the pump may write now: every queued frame; once empty and ended, how it
    /// ended; nil when there is nothing yet (the next enqueue or ending wakes the pump).
    /// The queue's storage is handed over whole (no copy) and the queue starts empty, so
    /// an idle connection keeps no buffer.
    func take() -> Result<Deque<EncodedFrame>, EndedError>? {
        state.withLock { state in
            state.wakePending = false
            if !state.frames.isEmpty {
                var frames = Deque<EncodedFrame>()
                swap(&frames, &state.frames)
                state.bytes = 0
                return .success(frames)
            }
            return state.ending.map { .failure(EndedError(ending: $0)) }
        }
    }

    struct EndedError: Error {
        let ending: Ending
    }
}

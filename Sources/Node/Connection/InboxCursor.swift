import Routing
import Synchronization

/// Keeps one connection's durable pushes in inbox order, none twice. Until the connection
/// is welcomed (and has replayed its inbox, when it resumed) live durable pushes wait
/// here; after that, one at or below the last position sent is a duplicate and dropped.
final class InboxCursor: Sendable {
    enum Decision: Equatable {
        case send
        /// Already sent (by the replay, or a second copy).
        case duplicate
        /// Waiting for the welcome.
        case held
        /// Too many waited: the connection cannot keep up.
        case overflow
    }

    private struct State {
        var welcomed = false
        var waiting: [(position: InboxPosition, frame: EncodedFrame)] = []
        var last: InboxPosition?
    }

    private let state = Mutex(State())
    /// How many pushes may wait for the welcome.
    let maxWaiting: Int

    init(maxWaiting: Int) {
        self.maxWaiting = maxWaiting
    }

    /// What to do with a live durable push; `send` runs under the cursor's lock when it
    /// is to be sent, so that concurrent pushes keep their order.
    func offer(_ frame: EncodedFrame, at position: InboxPosition, send: (EncodedFrame) -> Void) -> Decision {
        state.withLock { state in
            guard state.welcomed else {
                guard state.waiting.count < maxWaiting else { return .overflow }
                state.waiting.append((position, frame))
                return .held
            }
            guard Self.isAfter(position, state.last) else { return .duplicate }
            state.last = position
            send(frame)
            return .send
        }
    }

    /// Ends the wait: `first` (the welcome and the replayed pushes, which end at
    /// `replayedTo`) goes out, then what waited, in order, past what was replayed. With no
    /// replay (`replayedTo` nil) everything that waited goes out.
    /// Returns the position the welcome should report when the caller asks (see `welcomePosition`).
    func welcome(first: [EncodedFrame], replayedTo: InboxPosition?, send: (EncodedFrame) -> Void) {
        state.withLock { state in
            first.forEach(send)
            state.last = replayedTo
            for (position, frame) in state.waiting where Self.isAfter(position, state.last) {
                state.last = position
                send(frame)
            }
            state.waiting = []
            state.welcomed = true
        }
    }

    /// The first position that is waiting, if any.
    var firstWaiting: InboxPosition? { state.withLock { $0.waiting.first?.position } }

    /// Later in the inbox than `last`: the next offset of its epoch, or a new epoch.
    private static func isAfter(_ position: InboxPosition, _ last: InboxPosition?) -> Bool {
        guard let last else { return true }
        return position.epoch != last.epoch || position.offset > last.offset
    }
}

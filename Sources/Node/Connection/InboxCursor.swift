import Routing
import Synchronization

/// Keeps one connection's pushes behind its welcome, and its durable pushes in inbox
/// order, none twice. The connection is reachable (in the node's map, subscribed) before
/// its welcome is written, so until then every push waits here, in arrival order — the
/// welcome is the first frame a client sees. After that, a durable push at or below the
/// last position sent is a duplicate and dropped.
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
        /// Pushes that came before the welcome; `position` nil: not a durable one.
        var waiting: [(position: InboxPosition?, frame: EncodedFrame)] = []
        var last: InboxPosition?
        /// Where the welcome said live pushes continue (after it).
        var livesAfter: InboxPosition?
    }

    private let state = Mutex(State())
    /// Set once the welcome is out: live pushes then skip the lock.
    private let welcomed = Atomic<Bool>(false)
    /// How many pushes may wait for the welcome.
    let maxWaiting: Int

    init(maxWaiting: Int) {
        self.maxWaiting = maxWaiting
    }

    /// What to do with a push that is not kept in the inbox: sent at once after the
    /// welcome (`send` runs then), else held for it.
    func offer(live frame: EncodedFrame, send: (EncodedFrame) -> Void) -> Decision {
        if welcomed.load(ordering: .acquiring) {
            send(frame)
            return .send
        }
        return state.withLock { state in
            guard state.welcomed else {
                guard state.waiting.count < maxWaiting else { return .overflow }
                state.waiting.append((nil, frame))
                return .held
            }
            send(frame)
            return .send
        }
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
    /// `livesAfter`: the position the welcome reported (where live pushes continue).
    func welcome(first: [EncodedFrame], replayedTo: InboxPosition?, livesAfter: InboxPosition? = nil, send: (EncodedFrame) -> Void) {
        state.withLock { state in
            first.forEach(send)
            state.last = replayedTo
            state.livesAfter = livesAfter
            for (position, frame) in state.waiting {
                guard let position else {
                    send(frame)
                    continue
                }
                guard Self.isAfter(position, state.last) else { continue }
                state.last = position
                send(frame)
            }
            state.waiting = []
            state.welcomed = true
            welcomed.store(true, ordering: .releasing)
        }
    }

    /// After the welcome: the last durable push sent, or where the welcome said live ones
    /// continue if none was — what a catch-up reads the inbox after. Nil before the welcome.
    var caughtUpTo: InboxPosition? {
        state.withLock { $0.welcomed ? ($0.last ?? $0.livesAfter) : nil }
    }

    /// Where live pushes continue when nothing is replayed: `position` (where the inbox or
    /// history stands), or just before the first durable push that waited, if that is earlier.
    func live(from position: InboxPosition) -> InboxPosition {
        let first = state.withLock { $0.waiting.lazy.compactMap(\.position).first }
        guard let first, first.epoch == position.epoch, first.offset <= position.offset else { return position }
        return InboxPosition(epoch: position.epoch, offset: first.offset - 1)
    }

    /// Later in the inbox than `last`: the next offset of its epoch, or a new epoch.
    private static func isAfter(_ position: InboxPosition, _ last: InboxPosition?) -> Bool {
        guard let last else { return true }
        return position.epoch != last.epoch || position.offset > last.offset
    }
}

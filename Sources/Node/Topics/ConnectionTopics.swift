import Routing
import Synchronization

/// One connection's topics: those it is subscribed to, and those its token's `topics`
/// claim grants (a refreshed token's replace the first's; subscriptions made stay).
final class ConnectionTopics: Sendable {
    private struct State {
        var subscribed: Set<String> = []
        var grants = TopicGrants()
        /// For each subscribed topic whose namespace keeps history (a client's own subscribe):
        /// its publishes in the history's order, behind the subscribe's answer and replay.
        var cursors: [String: InboxCursor] = [:]
    }

    enum Addition {
        case added
        /// Already subscribed: nothing changed.
        case already
        /// At the limit: not subscribed.
        case full
    }

    private let state = Mutex(State())

    var grants: TopicGrants {
        get { state.withLock { $0.grants } }
        set { state.withLock { $0.grants = newValue } }
    }

    /// `cursor`: the topic's, when its publishes are kept (set only when added).
    func add(_ topic: String, limit: Int, cursor: InboxCursor? = nil) -> Addition {
        state.withLock { state in
            if state.subscribed.contains(topic) { return .already }
            guard state.subscribed.count < limit else { return .full }
            state.subscribed.insert(topic)
            state.cursors[topic] = cursor
            return .added
        }
    }

    /// False when it was not subscribed.
    func remove(_ topic: String) -> Bool {
        state.withLock { state in
            state.cursors[topic] = nil
            return state.subscribed.remove(topic) != nil
        }
    }

    /// Every subscription, ended (the connection is closing).
    func removeAll() -> Set<String> {
        state.withLock { state in
            defer { (state.subscribed, state.cursors) = ([], [:]) }
            return state.subscribed
        }
    }

    func cursor(for topic: String) -> InboxCursor? { state.withLock { $0.cursors[topic] } }

    func contains(_ topic: String) -> Bool { state.withLock { $0.subscribed.contains(topic) } }
}

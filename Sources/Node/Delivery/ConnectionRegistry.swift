import Presence
import Synchronization

/// The node's local connection map: user → connections, and connection id → connection.
///
/// One short lock per operation; delivery copies the few connections it needs and does
/// its encoding and queueing outside the lock.
final class ConnectionRegistry: Sendable {
    private struct State {
        var byUser: [String: [ClientConnection]] = [:]
        var byID: [ConnectionID: ClientConnection] = [:]
        /// Set once the node drains: no new connection is let in.
        var draining = false
    }

    private let state = Mutex(State())

    /// Adds a connection; false when the node is draining and it must not join.
    func add(_ connection: ClientConnection) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.byUser[connection.user, default: []].append(connection)
            state.byID[connection.id] = connection
            return true
        }
    }

    /// Removes the connection; false if it was not in the map.
    @discardableResult
    func remove(_ connection: ClientConnection) -> Bool {
        state.withLock { state in
            guard state.byID.removeValue(forKey: connection.id) != nil else { return false }
            state.byUser[connection.user]?.removeAll { $0 === connection }
            if state.byUser[connection.user]?.isEmpty == true {
                state.byUser[connection.user] = nil
            }
            return true
        }
    }

    func connections(of user: String) -> [ClientConnection] {
        state.withLock { $0.byUser[user] ?? [] }
    }

    func holds(user: String) -> Bool {
        state.withLock { $0.byUser[user] != nil }
    }

    func count(of user: String) -> Int {
        state.withLock { $0.byUser[user]?.count ?? 0 }
    }

    func connection(_ id: ConnectionID) -> ClientConnection? {
        state.withLock { $0.byID[id] }
    }

    func all() -> [ClientConnection] {
        state.withLock { Array($0.byID.values) }
    }

    var count: Int { state.withLock { $0.byID.count } }

    var isDraining: Bool { state.withLock { $0.draining } }

    /// Stops new connections and returns the ones to close.
    func startDraining() -> [ClientConnection] {
        state.withLock { state in
            state.draining = true
            return Array(state.byID.values)
        }
    }
}

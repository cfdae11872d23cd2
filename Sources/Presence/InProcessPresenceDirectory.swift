import Identity
import Synchronization

/// Presence kept in memory: the embedded single-process default.
///
/// Several nodes in one process may share one instance, which is how unit tests
/// exercise multi-node routing without Redis.
package final class InProcessPresenceDirectory: PresenceDirectory {
    private let entries = Mutex<[String: Set<ConnectionID>]>([:])

    package init() {}

    package func announce(_ entry: PresenceEntry) async throws {
        entries.withLock { _ = $0[entry.user, default: []].insert(entry.connection) }
    }

    package func withdraw(_ entry: PresenceEntry) async throws {
        entries.withLock { entries in
            guard var connections = entries[entry.user] else { return }
            connections.remove(entry.connection)
            entries[entry.user] = connections.isEmpty ? nil : connections
        }
    }

    package func lookup(user: String, limit: Int) async throws -> PresenceLookup {
        let connections = entries.withLock { $0[user] ?? [] }
        let sorted = connections.map { PresenceEntry(user: user, connection: $0) }
            .sorted { ($0.connection.nodeID, $0.connection.sequence) < ($1.connection.nodeID, $1.connection.sequence) }
        return PresenceLookup(entries: Array(sorted.prefix(limit)), total: sorted.count)
    }
}

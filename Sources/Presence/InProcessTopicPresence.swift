import Synchronization
import Identity

/// Topic presence kept in memory: one process, or several nodes in one test process.
package final class InProcessTopicPresence: TopicPresenceDirectory {
    private let entries = Mutex<[String: Set<PresenceEntry>]>([:])

    package init() {}

    package func join(topic: String, _ entry: PresenceEntry) async throws {
        entries.withLock { _ = $0[topic, default: []].insert(entry) }
    }

    package func leave(topic: String, _ entry: PresenceEntry) async throws {
        entries.withLock { entries in
            guard var members = entries[topic] else { return }
            members.remove(entry)
            entries[topic] = members.isEmpty ? nil : members
        }
    }

    package func lookup(topic: String, limit: Int) async throws -> PresenceLookup {
        let members = entries.withLock { $0[topic] ?? [] }
        let sorted = members.sorted { ($0.connection.nodeID, $0.connection.sequence) < ($1.connection.nodeID, $1.connection.sequence) }
        return PresenceLookup(entries: Array(sorted.prefix(max(limit, 0))), total: sorted.count)
    }
}

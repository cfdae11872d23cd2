import Identity
package import Presence
package import RedisClient

/// Topic presence in Redis: a hash per topic, connection id → user
/// (`topic-members:<topic>`), and per node the set of what it wrote, restored and swept
/// with the node's lease like user presence (`RedisMembership`'s topics space).
package final class RedisTopicPresence: TopicPresenceDirectory {
    private let members: RedisMembership

    package init(redis: RedisConnectionGroup, keys: PresenceKeys) {
        precondition(keys.hashTagged == redis.isCluster, "a cluster's keys carry hash tags")
        members = RedisMembership(redis: redis, keys: keys, space: .topics)
    }

    package func join(topic: String, _ entry: PresenceEntry) async throws {
        try await members.add(.init(group: topic, connection: entry.connection, value: entry.user))
    }

    package func leave(topic: String, _ entry: PresenceEntry) async throws {
        try await members.remove(group: topic, connection: entry.connection)
    }

    package func lookup(topic: String, limit: Int) async throws -> PresenceLookup {
        let found = try await members.lookup(group: topic, limit: limit, values: true)
        return PresenceLookup(
            entries: found.members.compactMap { member in member.value.map { PresenceEntry(user: $0, connection: member.connection) } },
            total: found.total
        )
    }

    /// Makes `entries` (topic and subscribed connection) exactly what `node` holds.
    package func replace(node: String, with entries: [(topic: String, entry: PresenceEntry)]) async throws {
        try await members.replace(node: node, with: entries.map { .init(group: $0.topic, connection: $0.entry.connection, value: $0.entry.user) })
    }

    /// Whether a join or leave failed since the last call (`FailedWrites`).
    package func takeWriteFailure() -> Bool {
        members.failures.take()
    }

    /// Removes a dead node's topic presence, unless its lease exists; how many entries went.
    package func sweep(node: String) async throws -> Int {
        try await members.sweep(node: node)
    }
}

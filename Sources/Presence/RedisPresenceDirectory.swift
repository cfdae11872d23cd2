import Essentials
package import RedisClient

/// Presence in Redis, shared by every node of a cluster (keys in `PresenceKeys`).
package final class RedisPresenceDirectory: PresenceDirectory {
    package let redis: RedisConnection
    package let keys: PresenceKeys

    package init(redis: RedisConnection, keys: PresenceKeys) {
        self.redis = redis
        self.keys = keys
    }

    package func announce(_ entry: PresenceEntry) async throws {
        _ = try await redis.send([
            "EVAL", PresenceScripts.announce, "2", keys.user(entry.user), keys.nodeConnections(entry.nodeID),
            entry.connection.description, entry.nodeID, Self.member(entry),
        ])
    }

    package func withdraw(_ entry: PresenceEntry) async throws {
        _ = try await redis.send([
            "EVAL", PresenceScripts.withdraw, "2", keys.user(entry.user), keys.nodeConnections(entry.nodeID),
            entry.connection.description, Self.member(entry),
        ])
    }

    package func lookup(user: String, limit: Int) async throws -> PresenceLookup {
        let reply = try await redis.send(["EVAL", PresenceScripts.lookup, "1", keys.user(user), "\(max(limit, 0))"]).array ?? []
        let total = Int(reply.first?.integer ?? 0)
        var entries: [PresenceEntry] = []
        for field in reply.dropFirst().first?.array ?? [] {
            if let text = field.string, let connection = ConnectionID(text) {
                entries.append(PresenceEntry(user: user, connection: connection))
            }
        }
        let sorted = entries.sorted { ($0.connection.nodeID, $0.connection.sequence) < ($1.connection.nodeID, $1.connection.sequence) }
        return PresenceLookup(entries: Array(sorted.prefix(limit)), total: total)
    }

    /// Makes `entries` exactly what `node` holds in Redis, in one atomic step: after Redis
    /// comes back, a node restores its presence with this.
    package func replace(node: String, with entries: [PresenceEntry]) async throws {
        var arguments = ["EVAL", PresenceScripts.replaceNode, "0", keys.prefix, node, "0"]
        arguments.reserveCapacity(arguments.count + entries.count * 2)
        for entry in entries {
            arguments.append(entry.connection.description)
            arguments.append(entry.user)
        }
        _ = try await redis.send(arguments)
    }

    /// Removes a dead node's presence, unless its lease exists; how many entries went.
    package func sweep(node: String) async throws -> Int {
        let removed = try await redis.send(["EVAL", PresenceScripts.replaceNode, "0", keys.prefix, node, "1"]).integer ?? 0
        return Int(max(removed, 0))
    }

    /// Renews `node`'s lease for `ttl`; false when the lease had expired, so that another
    /// node may have swept this one's presence (a pause longer than the TTL).
    @discardableResult
    package func heartbeat(node: String, nowMilliseconds: Int64, ttl: Duration) async throws -> Bool {
        try await redis.send([
            "EVAL", PresenceScripts.heartbeat, "2", keys.lease(node), keys.nodes, node, "\(nowMilliseconds)", "\(ttl.milliseconds)",
        ]).integer == 1
    }

    /// Nodes whose last heartbeat is older than `cutoff` (ms).
    package func staleNodes(before cutoffMilliseconds: Int64) async throws -> [String] {
        try await redis.send(["ZRANGEBYSCORE", keys.nodes, "-inf", "(\(cutoffMilliseconds)", "LIMIT", "0", "64"]).array?
            .compactMap(\.string) ?? []
    }

    static func member(_ entry: PresenceEntry) -> String { "\(entry.connection.description)\n\(entry.user)" }
}

import Essentials
import Identity
package import Presence
package import RedisClient

/// Presence in Redis, shared by every node of a cluster (keys in `PresenceKeys`): users'
/// connections (`RedisMembership`'s users space) and the node leases that let a live node
/// sweep a dead one's.
package final class RedisPresenceDirectory: PresenceDirectory {
    package let redis: RedisConnectionGroup
    package let keys: PresenceKeys
    private let users: RedisMembership

    package init(redis: RedisConnectionGroup, keys: PresenceKeys) {
        precondition(keys.hashTagged == redis.isCluster, "a cluster's keys carry hash tags")
        self.redis = redis
        self.keys = keys
        users = RedisMembership(redis: redis, keys: keys, space: .users)
    }

    package func announce(_ entry: PresenceEntry) async throws {
        try await users.add(.init(group: entry.user, connection: entry.connection, value: entry.nodeID))
    }

    package func withdraw(_ entry: PresenceEntry) async throws {
        try await users.remove(group: entry.user, connection: entry.connection)
    }

    package func lookup(user: String, limit: Int) async throws -> PresenceLookup {
        let found = try await users.lookup(group: user, limit: limit, values: false)
        return PresenceLookup(entries: found.members.map { PresenceEntry(user: user, connection: $0.connection) }, total: found.total)
    }

    /// Makes `entries` exactly what `node` holds in Redis. After Redis comes back (or a
    /// shard failed over), a node restores its presence with this.
    package func replace(node: String, with entries: [PresenceEntry]) async throws {
        try await users.replace(node: node, with: entries.map { .init(group: $0.user, connection: $0.connection, value: node) })
    }

    /// Whether an announce or withdraw failed since the last call (`FailedWrites`).
    package func takeWriteFailure() -> Bool {
        users.failures.take()
    }

    /// Removes a dead node's presence, unless its lease exists; how many entries went.
    /// The last of a node's sweeps: it drops the node from the index of nodes.
    package func sweep(node: String) async throws -> Int {
        try await users.sweep(node: node)
    }

    /// Takes `node`'s lease for `holder` (a process's `LeaseHolder` text) when nobody holds
    /// it; else answers the value of the lease there, which names the holding process.
    package func claim(node: String, holder: String, ttl: Duration) async throws -> String? {
        let lease = keys.lease(node)
        let taken = try await redis.send(key: lease, ["SET", lease, holder, "NX", "PX", "\(ttl.milliseconds)"])
        if taken != .null { return nil }
        // Expired between the two commands: the next claim takes it.
        return try await redis.send(key: lease, ["GET", lease]).string ?? ""
    }

    /// Renews `node`'s lease for `ttl` as `holder`'s.
    package func heartbeat(node: String, holder: String, nowMilliseconds: Int64, ttl: Duration) async throws -> LeaseRenewal {
        let lease = keys.lease(node)
        let previous: String?
        if redis.isCluster {
            // The lease (node's slot) and the index of nodes (its own slot) apart: SET … GET
            // answers what the lease held.
            previous = try await redis.send(key: lease, ["SET", lease, holder, "PX", "\(ttl.milliseconds)", "GET"]).string
            _ = try await redis.send(key: keys.nodes, ["ZADD", keys.nodes, "\(nowMilliseconds)", node])
        } else {
            // The script answers 0 (none), 1 (this holder's) or the other holder's value.
            let answer = try await PresenceScripts.heartbeat.run(
                ["2", lease, keys.nodes, node, "\(nowMilliseconds)", "\(ttl.milliseconds)", holder], on: redis
            )
            previous = answer.integer == 1 ? holder : answer.string
        }
        switch previous {
        case nil: return .expired
        case holder: return .renewed
        case let other?: return .takenOver(by: other)
        }
    }

    /// Nodes whose last heartbeat is older than `cutoff` (ms).
    package func staleNodes(before cutoffMilliseconds: Int64) async throws -> [String] {
        try await redis.send(key: keys.nodes, ["ZRANGEBYSCORE", keys.nodes, "-inf", "(\(cutoffMilliseconds)", "LIMIT", "0", "64"]).array?
            .compactMap(\.string) ?? []
    }

    /// This node leaves: its lease (while still `holder`'s) and its place in the index of nodes go.
    package func leave(node: String, holder: String) async throws {
        let lease = keys.lease(node)
        guard try await PresenceScripts.release.run(["1", lease, holder], on: redis).integer == 1 else { return }
        _ = try await redis.send(key: keys.nodes, ["ZREM", keys.nodes, node])
    }
}

import Essentials
import Identity
package import Presence
package import RedisClient

/// Presence in Redis, shared by every node of a cluster (keys in `PresenceKeys`).
///
/// On one Redis each change is one script over the user's hash and the node's set. On a
/// Redis Cluster those live in different slots (the user's and the node's), so a change
/// is a command on each, in an order that keeps the node's set a superset of what the
/// node has in users' hashes: a crash midway leaves only what the sweep removes.
package final class RedisPresenceDirectory: PresenceDirectory {
    package let redis: RedisConnectionGroup
    package let keys: PresenceKeys

    package init(redis: RedisConnectionGroup, keys: PresenceKeys) {
        precondition(keys.hashTagged == redis.isCluster, "a cluster's keys carry hash tags")
        self.redis = redis
        self.keys = keys
    }

    package func announce(_ entry: PresenceEntry) async throws {
        let (user, set) = (keys.user(entry.user), keys.nodeConnections(entry.nodeID))
        guard redis.isCluster else {
            _ = try await PresenceScripts.announce.run(["2", user, set, entry.connection.description, entry.nodeID, Self.member(entry)], on: redis)
            return
        }
        _ = try await redis.send(key: set, ["SADD", set, Self.member(entry)])
        _ = try await redis.send(key: user, ["HSET", user, entry.connection.description, entry.nodeID])
    }

    package func withdraw(_ entry: PresenceEntry) async throws {
        let (user, set) = (keys.user(entry.user), keys.nodeConnections(entry.nodeID))
        guard redis.isCluster else {
            _ = try await PresenceScripts.withdraw.run(["2", user, set, entry.connection.description, Self.member(entry)], on: redis)
            return
        }
        _ = try await redis.send(key: user, ["HDEL", user, entry.connection.description])
        _ = try await redis.send(key: set, ["SREM", set, Self.member(entry)])
    }

    package func lookup(user: String, limit: Int) async throws -> PresenceLookup {
        let key = keys.user(user)
        let reply = try await PresenceScripts.lookup.run(["1", key, "\(max(limit, 0))"], on: redis).array ?? []
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

    /// Makes `entries` exactly what `node` holds in Redis — in one atomic step on one
    /// Redis; on a cluster the node's set first grows to hold both, then the users'
    /// hashes change shard by shard, then the set drops what is gone. After Redis comes
    /// back (or a shard failed over), a node restores its presence with this.
    package func replace(node: String, with entries: [PresenceEntry]) async throws {
        guard redis.isCluster else {
            var arguments = ["0", keys.prefix, node, "0"]
            arguments.reserveCapacity(arguments.count + entries.count * 2)
            for entry in entries {
                arguments.append(entry.connection.description)
                arguments.append(entry.user)
            }
            _ = try await PresenceScripts.replaceNode.run(arguments, key: keys.nodeConnections(node), on: redis)
            return
        }
        let set = keys.nodeConnections(node)
        let members = entries.map(Self.member)
        let before = try await PresenceScripts.addMembers.run(["1", set] + members, on: redis).array?.compactMap(\.string) ?? []
        let gone = Set(before).subtracting(members)
        _ = try await redis.sendAll(
            entries.map { entry in Self.command(["HSET", keys.user(entry.user), entry.connection.description, node]) }
                + gone.compactMap(Self.split).map { Self.command(["HDEL", keys.user($0.user), $0.connection]) }
        )
        if !gone.isEmpty { _ = try await redis.send(key: set, ["SREM", set] + gone) }
    }

    /// Removes a dead node's presence, unless its lease exists; how many entries went.
    package func sweep(node: String) async throws -> Int {
        guard redis.isCluster else {
            let removed = try await PresenceScripts.replaceNode.run(["0", keys.prefix, node, "1"], key: keys.nodeConnections(node), on: redis).integer ?? 0
            return Int(max(removed, 0))
        }
        let (lease, set) = (keys.lease(node), keys.nodeConnections(node))
        guard let members = try await PresenceScripts.membersIfExpired.run(["2", lease, set], on: redis).array?.compactMap(\.string)
        else { return 0 }  // the lease is back
        _ = try await redis.sendAll(members.compactMap(Self.split).map { Self.command(["HDEL", keys.user($0.user), $0.connection]) })
        if try await PresenceScripts.deleteIfExpired.run(["2", lease, set], on: redis).integer != -1 {
            _ = try await redis.send(key: keys.nodes, ["ZREM", keys.nodes, node])
        }
        return members.count
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

    /// A command whose key is its second argument, for `sendAll`.
    private static func command(_ arguments: [String]) -> (key: [UInt8], arguments: [[UInt8]]) {
        (Array(arguments[1].utf8), arguments.map { Array($0.utf8) })
    }

    static func member(_ entry: PresenceEntry) -> String { "\(entry.connection.description)\n\(entry.user)" }

    /// A set member's connection and user.
    static func split(_ member: String) -> (connection: String, user: String)? {
        guard let cut = member.firstIndex(of: "\n") else { return nil }
        return (String(member[..<cut]), String(member[member.index(after: cut)...]))
    }
}

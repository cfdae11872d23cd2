import Essentials
import Identity
import RedisClient

/// One space of presence in Redis: for each group (a user, a topic) a HASH connection id →
/// value, and for each node a SET of "connection\ngroup" naming what that node wrote, so
/// that the node can restore exactly its own after Redis comes back and a live node can
/// sweep a dead one's. User presence and topic presence are two spaces (`Space`).
///
/// On one Redis each change is one script over the group's hash and the node's set. On a
/// Redis Cluster those live in different slots, so a change is a command on each, in an
/// order that keeps the node's set a superset of what the node has in groups' hashes: a
/// crash midway leaves only what the sweep removes.
struct RedisMembership: Sendable {
    struct Space: Sendable {
        /// The group hash's key after the prefix, before the group's name.
        let group: String
        /// The node set's key after `node:<node>`.
        let nodeSetSuffix: String
        /// Whether sweeping a dead node also drops it from the index of nodes: the space
        /// swept last does, so that every space is swept first.
        let forgetsNode: Bool

        /// HASH connection → node id, per user.
        static let users = Space(group: "user:", nodeSetSuffix: ":conns", forgetsNode: true)
        /// HASH connection → user, per topic (namespaces with presence on).
        static let topics = Space(group: "topic-members:", nodeSetSuffix: ":topic-members", forgetsNode: false)
    }

    /// One connection in one group, with the value its hash holds.
    struct Member: Sendable {
        let group: String
        let connection: ConnectionID
        let value: String
    }

    let redis: RedisConnectionGroup
    let keys: PresenceKeys
    let space: Space
    /// Set when `add` or `remove` fails.
    let failures = FailedWrites()

    /// `PresenceKeys.user` or `.topicMembers`.
    func groupKey(_ group: String) -> String { "\(keys.prefix)\(space.group)\(tag(group))" }
    /// `PresenceKeys.nodeConnections` or `.nodeTopicMembers`.
    func nodeSet(_ node: String) -> String { "\(keys.prefix)node:\(tag(node))\(space.nodeSetSuffix)" }
    private func tag(_ name: String) -> String { keys.hashTagged ? RedisHashTag.wrap(name) : name }

    func add(_ member: Member) async throws {
        do {
            try await write(member)
        } catch {
            failures.record()
            throw error
        }
    }

    func remove(group: String, connection: ConnectionID) async throws {
        do {
            try await erase(group: group, connection: connection)
        } catch {
            failures.record()
            throw error
        }
    }

    private func write(_ member: Member) async throws {
        let (hash, set) = (groupKey(member.group), nodeSet(member.connection.nodeID))
        let entry = Self.entry(member.connection.description, member.group)
        guard redis.isCluster else {
            _ = try await PresenceScripts.announce.run(["2", hash, set, member.connection.description, member.value, entry], on: redis)
            return
        }
        _ = try await redis.send(key: set, ["SADD", set, entry])
        _ = try await redis.send(key: hash, ["HSET", hash, member.connection.description, member.value])
    }

    private func erase(group: String, connection: ConnectionID) async throws {
        let (hash, set) = (groupKey(group), nodeSet(connection.nodeID))
        let entry = Self.entry(connection.description, group)
        guard redis.isCluster else {
            _ = try await PresenceScripts.withdraw.run(["2", hash, set, connection.description, entry], on: redis)
            return
        }
        _ = try await redis.send(key: hash, ["HDEL", hash, connection.description])
        _ = try await redis.send(key: set, ["SREM", set, entry])
    }

    /// At most `limit` of a group's connections, with their values when `values`, and
    /// the group's total; ordered by node and connection sequence.
    func lookup(group: String, limit: Int, values: Bool) async throws -> (total: Int, members: [(connection: ConnectionID, value: String?)]) {
        let reply = try await PresenceScripts.lookup.run(["1", groupKey(group), "\(max(limit, 0))", values ? "1" : "0"], on: redis).array ?? []
        let total = Int(reply.first?.integer ?? 0)
        let fields = reply.dropFirst().first?.array?.map(\.string) ?? []
        var members: [(connection: ConnectionID, value: String?)] = []
        var index = 0
        while index < fields.count {
            let value = values && index + 1 < fields.count ? fields[index + 1] : nil
            if let text = fields[index], let connection = ConnectionID(text) { members.append((connection, value)) }
            index += values ? 2 : 1
        }
        members.sort { ($0.connection.nodeID, $0.connection.sequence) < ($1.connection.nodeID, $1.connection.sequence) }
        return (total, Array(members.prefix(limit)))
    }

    /// Makes `members` exactly what `node` holds in this space — in one atomic step on one
    /// Redis; on a cluster the node's set first grows to hold both, then the groups' hashes
    /// change shard by shard, then the set drops what is gone.
    func replace(node: String, with members: [Member]) async throws {
        guard redis.isCluster else {
            var arguments = ["0", keys.prefix, node, "0", space.group, space.nodeSetSuffix, space.forgetsNode ? "1" : "0"]
            arguments.reserveCapacity(arguments.count + members.count * 3)
            for member in members {
                arguments.append(member.connection.description)
                arguments.append(member.group)
                arguments.append(member.value)
            }
            _ = try await PresenceScripts.replaceNode.run(arguments, key: nodeSet(node), on: redis)
            return
        }
        let set = nodeSet(node)
        let entries = members.map { Self.entry($0.connection.description, $0.group) }
        let before = try await PresenceScripts.addMembers.run(["1", set] + entries, on: redis).array?.compactMap(\.string) ?? []
        let gone = Set(before).subtracting(entries)
        _ = try await redis.sendAll(
            members.map { Self.command(["HSET", groupKey($0.group), $0.connection.description, $0.value]) }
                + gone.compactMap(Self.split).map { Self.command(["HDEL", groupKey($0.group), $0.connection]) }
        )
        if !gone.isEmpty { _ = try await redis.send(key: set, ["SREM", set] + gone) }
    }

    /// Removes a dead node's entries in this space, unless its lease exists; how many went.
    func sweep(node: String) async throws -> Int {
        guard redis.isCluster else {
            let arguments = ["0", keys.prefix, node, "1", space.group, space.nodeSetSuffix, space.forgetsNode ? "1" : "0"]
            let removed = try await PresenceScripts.replaceNode.run(arguments, key: nodeSet(node), on: redis).integer ?? 0
            return Int(max(removed, 0))
        }
        let (lease, set) = (keys.lease(node), nodeSet(node))
        guard let entries = try await PresenceScripts.membersIfExpired.run(["2", lease, set], on: redis).array?.compactMap(\.string)
        else { return 0 }  // the lease is back
        _ = try await redis.sendAll(entries.compactMap(Self.split).map { Self.command(["HDEL", groupKey($0.group), $0.connection]) })
        if try await PresenceScripts.deleteIfExpired.run(["2", lease, set], on: redis).integer != -1, space.forgetsNode {
            _ = try await redis.send(key: keys.nodes, ["ZREM", keys.nodes, node])
        }
        return entries.count
    }

    /// A command whose key is its second argument, for `sendAll`.
    private static func command(_ arguments: [String]) -> (key: [UInt8], arguments: [[UInt8]]) {
        (Array(arguments[1].utf8), arguments.map { Array($0.utf8) })
    }

    static func entry(_ connection: String, _ group: String) -> String { "\(connection)\n\(group)" }

    /// A node set entry's connection and group.
    static func split(_ entry: String) -> (connection: String, group: String)? {
        guard let cut = entry.firstIndex(of: "\n") else { return nil }
        return (String(entry[..<cut]), String(entry[entry.index(after: cut)...]))
    }
}

import Logging
import Node
import RedisBackplane
import RedisClient
import Routing
import Testing
import NodeTestSupport
import TestSupport

/// Nodes signed in to Redis as a least-privilege ACL user (docs/redis.md § Credentials
/// and ACL), on a Redis whose default user is off.
@Suite("Redis credentials and the nodes' ACL", .tags(.redis), .timeLimit(.minutes(2)))
struct RedisACLTests {
    /// docs/redis.md's ACL for nodes, as `ACL SETUSER` arguments after the user name.
    static let nodeRules = [
        "on", ">node-password", "resetkeys", "~sb:*", "resetchannels", "&sb:*", "-@all",
        "+eval", "+evalsha", "+script|load", "+publish", "+subscribe", "+unsubscribe",
        "+get", "+set", "+del", "+mget", "+exists", "+pexpire",
        "+hset", "+hget", "+hincrby", "+hdel", "+hlen", "+hkeys", "+hscan", "+sadd", "+srem", "+smembers",
        "+zadd", "+zrem", "+zrange", "+zrangebyscore", "+xadd", "+xdel", "+xlen", "+xrange", "+xrevrange",
        "+role",
    ]

    private static func send(_ connection: RedisConnection, _ arguments: [String]) async -> Result<RedisReply, any Error> {
        do { return .success(try await connection.send(arguments)) } catch { return .failure(error) }
    }

    @Test("a cluster signed in as the ACL user relays, stores and looks up presence; a wrong password and no password fail clearly; the user stays inside its prefix")
    func leastPrivilege() async throws {
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        let setup = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "acl-setup"))
        _ = try await setup.send(["ACL", "SETUSER", "admin", "on", ">admin-password", "~*", "&*", "+@all"])
        _ = try await setup.send(["ACL", "SETUSER", "switchboard"] + Self.nodeRules)
        _ = try await setup.send(["ACL", "SETUSER", "default", "off"])
        setup.close()
        var endpoint = redis.endpoint
        endpoint.username = "switchboard"
        endpoint.password = "node-password"

        try await withCluster(nodes: 2, redis: redis, configure: {
            $0.redis = BackplaneEndpoint(redis: endpoint)
            $0.redisPrefix = "sb:"
            $0.inbox.durableKinds = ["note"]
            $0.dev = true  // switchboard.cluster for every client
        }) { cluster in
            let (one, two) = (cluster.nodes[0], cluster.nodes[1])
            let alice = try await one.connect("alice")
            let bob = try await two.connect("bob")
            alice.send(#"{"id":"1","send":{"to":"bob","data":"relayed"}}"#)
            #expect((try await alice.receiveJSON()["ok"] as? [String: Any])?["relayedNodes"] as? Int == 1)
            #expect((try await bob.receiveJSON()["push"] as? [String: Any])?["data"] as? String == "relayed")
            alice.send(#"{"id":"2","send":{"to":"bob","kind":"note","data":"stored"}}"#)
            #expect((try await alice.receiveJSON()["ok"] as? [String: Any])?["stored"] as? Bool == true)
            #expect((try await bob.receiveJSON()["push"] as? [String: Any])?["data"] as? String == "stored")
            alice.send(#"{"id":"3","presence":{"user":"bob"}}"#)
            #expect((try await alice.receiveJSON()["ok"] as? [String: Any])?["online"] as? Bool == true)
            try await waitUntil {
                alice.send(#"{"id":"4","call":"switchboard.cluster"}"#)
                let nodes = (try await alice.receiveJSON()["ok"] as? [String: Any])?["nodes"] as? [[String: Any]]
                return nodes?.count == 2  // the stats snapshots, written and read under the ACL
            }
            try await alice.close()
            try await bob.close()
        }

        // The same user outside its prefix, another password, no password at all.
        let node = RedisConnection(endpoint: endpoint, logger: Logger(label: "acl-node"))
        defer { node.close() }
        let outside = await Self.send(node, ["PUBLISH", "other:channel", "x"])
        #expect("\(outside)".contains("NOPERM"), "\(outside)")
        let flush = await Self.send(node, ["FLUSHALL"])
        #expect("\(flush)".contains("NOPERM"), "\(flush)")
        var wrong = endpoint
        wrong.password = "guess"
        let guessing = RedisConnection(endpoint: wrong, logger: Logger(label: "acl-wrong"))
        defer { guessing.close() }
        let refused = await Self.send(guessing, ["GET", "sb:x"])
        #expect("\(refused)".contains("refused AUTH") && "\(refused)".contains("WRONGPASS"), "\(refused)")
        let anonymous = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "acl-anonymous"))
        defer { anonymous.close() }
        let noAuth = await Self.send(anonymous, ["GET", "sb:x"])
        #expect("\(noAuth)".contains("NOAUTH"), "\(noAuth)")
    }
}

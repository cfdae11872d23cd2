package import Routing
import Essentials
import RedisClient

/// The topics backends subscribed users to, one set per user (`user-topics:<user>`, in
/// the user's slot) living `ttl` after the user's last connect or subscription.
package struct RedisUserTopicStore: UserTopicStore {
    let redis: RedisConnectionGroup
    let channels: RelayChannels
    let ttl: Duration

    package func add(_ topic: String, for user: String, limit: Int) async throws -> Bool {
        let reply = try await Self.add.run(["1", channels.userTopics(user), topic, String(limit), String(ttl.milliseconds)], on: redis)
        return reply.integer == 1
    }

    package func remove(_ topic: String, for user: String) async throws {
        let key = channels.userTopics(user)
        _ = try await redis.send(key: key, ["SREM", key, topic])
    }

    package func topics(of user: String) async throws -> [String] {
        let reply = try await Self.read.run(["1", channels.userTopics(user), String(ttl.milliseconds)], on: redis)
        return (reply.array ?? []).compactMap(\.string).sorted()
    }

    /// Adds the topic unless the set holds the limit already; 1 when it is in the set.
    private static let add = RedisScript("""
        local key, topic, limit, ttl = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
        if redis.call('SISMEMBER', key, topic) == 0 then
            if redis.call('SCARD', key) >= limit then return 0 end
            redis.call('SADD', key, topic)
        end
        redis.call('PEXPIRE', key, ttl)
        return 1
        """)

    /// The set's members; a connect keeps it another ttl.
    private static let read = RedisScript("""
        local members = redis.call('SMEMBERS', KEYS[1])
        if #members > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return members
        """)
}

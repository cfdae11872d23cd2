import RedisClient

/// Lua scripts that make each multi-key presence change atomic, sent by their SHA1 once
/// Redis knows them (`RedisScript`). A member of a node's set is "connection\ngroup" (a
/// user, a topic): connection ids never contain a newline.
enum PresenceScripts {
    /// KEYS[1] a group's hash (a user's, a topic's), ARGV[1] a limit, ARGV[2] "1" to answer
    /// each connection's value after it: {total, up to limit connection ids [and values]}.
    /// A group of thousands is answered with a bounded scan, not HGETALL.
    static let lookup = RedisScript("""
    local total = redis.call('HLEN', KEYS[1])
    local limit, values = tonumber(ARGV[1]), ARGV[2] == '1'
    if total <= limit then
        if values then return {total, redis.call('HGETALL', KEYS[1])} end
        return {total, redis.call('HKEYS', KEYS[1])}
    end
    local out, taken, cursor = {}, 0, '0'
    repeat
        local page = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', limit)
        cursor = page[1]
        for i = 1, #page[2], 2 do
            if taken < limit then
                taken = taken + 1
                out[#out + 1] = page[2][i]
                if values then out[#out + 1] = page[2][i + 1] end
            end
        end
    until cursor == '0' or taken >= limit
    return {total, out}
    """)

    /// KEYS: group hash, node set. ARGV: connection, value, member.
    static let announce = RedisScript("""
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('SADD', KEYS[2], ARGV[3])
        return 1
        """)

    /// KEYS: group hash, node set. ARGV: connection, member.
    static let withdraw = RedisScript("""
        redis.call('HDEL', KEYS[1], ARGV[1])
        redis.call('SREM', KEYS[2], ARGV[2])
        return 1
        """)

    /// Removes what a node held in one space of presence. ARGV: prefix, node, only_if_expired,
    /// the space's group key part ("user:") and node set suffix (":conns"), whether to drop
    /// the node from the index of nodes too, then connection/group/value triples to hold
    /// instead (none: the node is gone). With only_if_expired = "1" it does nothing while the
    /// node's lease exists: the sweep of a dead node.
    static let replaceNode = RedisScript("""
        local prefix, node, onlyIfExpired, group, suffix, forget = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
        if onlyIfExpired == '1' and redis.call('EXISTS', prefix .. 'lease:' .. node) == 1 then return -1 end
        local set = prefix .. 'node:' .. node .. suffix
        local members = redis.call('SMEMBERS', set)
        for _, member in ipairs(members) do
          local cut = string.find(member, '\\n', 1, true)
          if cut then redis.call('HDEL', prefix .. group .. string.sub(member, cut + 1), string.sub(member, 1, cut - 1)) end
        end
        redis.call('DEL', set)
        if onlyIfExpired == '1' and forget == '1' then redis.call('ZREM', prefix .. 'nodes', node) end
        for i = 7, #ARGV, 3 do
          redis.call('HSET', prefix .. group .. ARGV[i + 1], ARGV[i], ARGV[i + 2])
          redis.call('SADD', set, ARGV[i] .. '\\n' .. ARGV[i + 1])
        end
        return #members
        """)

    /// KEYS: lease, nodes. ARGV: node, now (ms), ttl (ms), holder. Returns 1 when the lease
    /// was still this holder's, 0 when it had expired (and the node may have been swept),
    /// and the other holder's value when another process had taken it meanwhile.
    static let heartbeat = RedisScript("""
        local previous = redis.call('GET', KEYS[1])
        redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[3])
        redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
        if not previous then return 0 end
        if previous == ARGV[4] then return 1 end
        return previous
        """)

    /// KEYS: lease. ARGV: holder. Deletes the lease only while it is this holder's.
    static let release = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)

    /// A cluster's form of `replaceNode`'s first step, in the node's slot. KEYS: the node's
    /// set. ARGV: members to add. Answers the members before.
    static let addMembers = RedisScript("""
        local before = redis.call('SMEMBERS', KEYS[1])
        for i = 1, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
        return before
        """)

    /// A cluster sweep's first step, in the dead node's slot. KEYS: lease, set. Answers -1
    /// while the lease exists, else the members.
    static let membersIfExpired = RedisScript("""
        if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
        return redis.call('SMEMBERS', KEYS[2])
        """)

    /// A cluster sweep's last step. KEYS: lease, set. Deletes the set unless the lease
    /// came back meanwhile (the node restores its own presence then).
    static let deleteIfExpired = RedisScript("""
        if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
        return redis.call('DEL', KEYS[2])
        """)
}

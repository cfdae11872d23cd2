/// The Lua that keeps topics' histories (Redis Streams with ids `0-<offset>`, as users'
/// inboxes; read with `InboxScripts.read`). It runs atomically, so the order of a topic's
/// channel is the order of its history.
enum TopicHistoryScripts {
    /// KEYS: stream, epoch. ARGV: channel, encoded relay batch, max length, ttl (ms), a new
    /// epoch. Appends the publish (trimming the stream to its length), publishes it with its
    /// position appended to the batch as fields 4 (epoch) and 5 (offset), and answers
    /// {epoch, offset, receivers}. A missing epoch begins a new life of the history only
    /// while a node is subscribed to the topic's channel (a subscribe begins one too);
    /// otherwise the publish goes out without a position and the answer's epoch is '' — a
    /// topic nobody follows keeps nothing. `publish`/`numsub`: PUBLISH and NUMSUB, or their
    /// shard forms on a Redis Cluster (the channel is in the keys' slot).
    static func append(publish: String, numsub: String) -> String {
        """
        local epoch = redis.call('GET', KEYS[2])
        if not epoch then
          if redis.call('PUBSUB', '\(numsub)', ARGV[1])[2] == 0 then
            return {'', '0', redis.call('\(publish)', ARGV[1], ARGV[2])}
          end
          epoch = ARGV[5]
          redis.call('DEL', KEYS[1])
          redis.call('SET', KEYS[2], epoch)
        end
        local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], '0-*', 'p', ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call('PEXPIRE', KEYS[2], ARGV[4])
        local offset = string.sub(id, 3)
        local tail = string.char(34, #epoch) .. epoch .. string.char(42, #offset) .. offset
        return {epoch, offset, redis.call('\(publish)', ARGV[1], ARGV[2] .. tail)}
        """
    }
}

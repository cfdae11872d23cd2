/// The Lua that keeps users' inboxes (Redis Streams with ids `0-<offset>`). Each runs
/// atomically, so the order of a user's channel is the order of the user's inbox.
enum InboxScripts {
    /// KEYS: stream, epoch, the user's presence hash. ARGV: channel, encoded relay batch, max
    /// length, ttl (ms), a new epoch, '1' if the push may begin an inbox. Appends the push,
    /// publishes it with its position appended to the batch as fields 4 (epoch) and 5
    /// (offset, decimal) — protobuf merges appended fields — and answers {epoch, offset,
    /// receivers}. A missing epoch begins a new life of the inbox, but only for a user who is
    /// connected or when ARGV[6] allows it: otherwise the push is published without a
    /// position (live delivery only) and the answer's epoch is '' — a name nobody connects
    /// as never gets an inbox. `publish`: PUBLISH, or SPUBLISH on a Redis Cluster (the
    /// channel is in the keys' slot).
    static func append(publish: String) -> String {
        """
        local epoch = redis.call('GET', KEYS[2])
        if not epoch then
          if ARGV[6] ~= '1' and redis.call('EXISTS', KEYS[3]) == 0 then
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

    /// KEYS: stream, epoch. ARGV: after (exclusive), until (exclusive; 0: the end), count
    /// (0: only where the inbox stands, as a connect without a position asks), bytes (the
    /// entries' total stops there, after at least one: a few clients reading full inboxes
    /// must not stall Redis for the cluster), and for a connect a new epoch and the ttl
    /// (ms): a connect begins the user's inbox if it has none, so that what is pushed while
    /// the user is away is kept, and keeps an existing one for another ttl.
    /// Answers {epoch ('' when there is no inbox), latest, oldest, offset, batch, …}.
    static let read = """
        local epoch = redis.call('GET', KEYS[2])
        if not epoch then
          if not ARGV[5] then return {'', '0', '0'} end
          redis.call('DEL', KEYS[1])
          redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6])
          return {ARGV[5], '0', '0'}
        end
        if ARGV[5] then
          redis.call('PEXPIRE', KEYS[1], ARGV[6])
          redis.call('PEXPIRE', KEYS[2], ARGV[6])
        end
        local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
        local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
        local out = {epoch, last[1] and string.sub(last[1][1], 3) or '0', first[1] and string.sub(first[1][1], 3) or '0'}
        local left = tonumber(ARGV[3])
        local budget = tonumber(ARGV[4])
        local from = '(0-' .. ARGV[1]
        local upper = ARGV[2] == '0' and '+' or ('(0-' .. ARGV[2])
        while left > 0 do
          local batch = redis.call('XRANGE', KEYS[1], from, upper, 'COUNT', math.min(left, 16))
          if #batch == 0 then break end
          for _, entry in ipairs(batch) do
            local size = #entry[2][2]
            if size > budget and #out > 3 then return out end
            out[#out + 1] = string.sub(entry[1], 3)
            out[#out + 1] = entry[2][2]
            budget = budget - size
            left = left - 1
            from = '(' .. entry[1]
          end
        end
        return out
        """
}

/// The Lua that keeps users' inboxes (Redis Streams with ids `0-<offset>`). Each runs
/// atomically, so the order of a user's channel is the order of the user's inbox.
enum InboxScripts {
    /// KEYS: stream, epoch, the user's presence hash, the inbox's count of entries per source.
    /// ARGV: channel, encoded relay batch, max length, ttl (ms), a new epoch, '1' if the push
    /// may begin an inbox, the user behind the push ('' for a backend's own), that user's
    /// share (entries). A user already holding its share of the inbox makes room from its own
    /// oldest entry among the first 64; failing that, its push is delivered live only (not
    /// kept), so that no user can push others' entries out beyond its share. Entries leave
    /// from the head when the inbox is full, each decrementing its source's count. Appends the push,
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
          redis.call('DEL', KEYS[1], KEYS[4])
          redis.call('SET', KEYS[2], epoch)
        end
        local source = ARGV[7]
        local function sourceOf(fields)
          for i = 1, #fields, 2 do
            if fields[i] == 's' then return fields[i + 1] end
          end
          return nil
        end
        if source ~= '' and tonumber(redis.call('HGET', KEYS[4], source) or '0') >= tonumber(ARGV[8]) then
          local own = nil
          for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 64)) do
            if sourceOf(entry[2]) == source then own = entry[1] break end
          end
          if not own then
            return {'', '0', redis.call('\(publish)', ARGV[1], ARGV[2])}
          end
          redis.call('XDEL', KEYS[1], own)
          redis.call('HINCRBY', KEYS[4], source, -1)
        end
        local length = redis.call('XLEN', KEYS[1])
        while length >= tonumber(ARGV[3]) do
          local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
          local owner = sourceOf(head[2])
          if owner and redis.call('HINCRBY', KEYS[4], owner, -1) <= 0 then redis.call('HDEL', KEYS[4], owner) end
          redis.call('XDEL', KEYS[1], head[1])
          length = length - 1
        end
        local id
        if source ~= '' then
          id = redis.call('XADD', KEYS[1], '0-*', 'p', ARGV[2], 's', source)
          redis.call('HINCRBY', KEYS[4], source, 1)
          redis.call('PEXPIRE', KEYS[4], ARGV[4])
        else
          id = redis.call('XADD', KEYS[1], '0-*', 'p', ARGV[2])
        end
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

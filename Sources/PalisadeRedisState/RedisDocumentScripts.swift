/// The server-side scripts of `RedisDocumentStore`. Each runs atomically in Redis, so appends
/// and compactions from any number of instances interleave only between scripts.
///
/// Every script takes `RedisDocumentKeys.log`: KEYS[1] updates, KEYS[2] size, KEYS[3]
/// snapshot_sequence, KEYS[4] log_size, KEYS[5] value_counts, KEYS[6] values. Element bytes are
/// counted from the JSON text (commas + 1).
enum RedisDocumentScripts {
    /// Shared Lua: the bytes of one stored element; the value counts made to match the updates
    /// again (elements pushed by someone else, as Open WebUI pushes them, count their bytes, a bound
    /// on their values; a list shortened elsewhere is counted afresh that way); the TTL refresh.
    private static let helpers = """
        local function bytes_of(text)
          if string.find(text, '%d') == nil then return 0 end
          local _, commas = string.gsub(text, ',', ',')
          return commas + 1
        end
        local function align_values(length)
          local counted = redis.call('LLEN', KEYS[5])
          if counted == length then return end
          local total = tonumber(redis.call('GET', KEYS[6]) or '0')
          if counted > length then
            redis.call('DEL', KEYS[5])
            counted, total = 0, 0
          end
          for _, text in ipairs(redis.call('LRANGE', KEYS[1], counted, -1)) do
            local n = bytes_of(text)
            total = total + n
            redis.call('RPUSH', KEYS[5], n)
          end
          redis.call('SET', KEYS[6], total)
        end
        local function refresh(ttl)
          if ttl > 0 then for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end end
        end

        """

    /// ARGV: the update's text, its bytes, the byte budget, the TTL in seconds (0: none), its
    /// values, the value budget, "1" to store only into an empty document. Answers -1 when a budget
    /// refuses it, -2 when the document is not empty and ARGV[7] asked for an empty one (nothing
    /// stored either way), else
    /// {sequence, log updates, log bytes}. An empty list starts afresh (the counters of a
    /// document cleared elsewhere are dropped).
    static let append = RedisScript(
        helpers + """
            local length = redis.call('LLEN', KEYS[1])
            if length > 0 and ARGV[7] == '1' then return -2 end
            local size, base, values = 0, 0, 0
            if length == 0 then
              redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
            else
              align_values(length)
              size = tonumber(redis.call('GET', KEYS[2]) or '0')
              base = tonumber(redis.call('GET', KEYS[3]) or '0')
              values = tonumber(redis.call('GET', KEYS[6]) or '0')
            end
            local added, added_values = tonumber(ARGV[2]), tonumber(ARGV[5])
            if size + added > tonumber(ARGV[3]) or values + added_values > tonumber(ARGV[6]) then
              refresh(tonumber(ARGV[4]))
              return -1
            end
            length = redis.call('RPUSH', KEYS[1], ARGV[1])
            redis.call('INCRBY', KEYS[2], added)
            local log_bytes = redis.call('INCRBY', KEYS[4], added)
            redis.call('RPUSH', KEYS[5], added_values)
            redis.call('INCRBY', KEYS[6], added_values)
            local log_updates = length
            if base > 0 then log_updates = length - 1 end
            refresh(tonumber(ARGV[4]))
            return {base + log_updates, log_updates, log_bytes}
            """)

    /// ARGV: the merged snapshot's text, its bytes, the sequence it covers, the TTL in seconds, its
    /// values. Replaces the elements up to that sequence (the old snapshot included) by the snapshot.
    /// Answers 1 when done, 0 when there is nothing to do (no document, or a snapshot that
    /// already covers as much, from another instance's compaction), -1 for a sequence past the log.
    /// Elements appended after the snapshot's sequence stay, whatever ran in between.
    static let compact = RedisScript(
        helpers + """
            local length = redis.call('LLEN', KEYS[1])
            if length == 0 then return 0 end
            local base = tonumber(redis.call('GET', KEYS[3]) or '0')
            local through = tonumber(ARGV[3])
            local log_updates = length
            if base > 0 then log_updates = length - 1 end
            if through > base + log_updates then return -1 end
            if through <= base then return 0 end
            local drop = through - base
            if base > 0 then drop = drop + 1 end
            local removed, removed_log = 0, 0
            for index, text in ipairs(redis.call('LRANGE', KEYS[1], 0, drop - 1)) do
              local n = bytes_of(text)
              removed = removed + n
              if index > 1 or base == 0 then removed_log = removed_log + n end
            end
            align_values(length)
            redis.call('LTRIM', KEYS[1], drop, -1)
            redis.call('LPUSH', KEYS[1], ARGV[1])
            redis.call('LTRIM', KEYS[5], drop, -1)
            redis.call('LPUSH', KEYS[5], ARGV[5])
            local values = 0
            for _, n in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do values = values + tonumber(n) end
            redis.call('SET', KEYS[6], values)
            redis.call('SET', KEYS[3], through)
            redis.call('INCRBY', KEYS[2], tonumber(ARGV[2]) - removed)
            redis.call('DECRBY', KEYS[4], removed_log)
            refresh(tonumber(ARGV[4]))
            return 1
            """)

    /// ARGV: the most bytes and elements a load may read. Answers nil for no document, -1 when it
    /// is past those bounds (nothing read), else {snapshot sequence, elements}.
    static let load = RedisScript(
        """
        local length = redis.call('LLEN', KEYS[1])
        if length == 0 then return nil end
        local size = tonumber(redis.call('GET', KEYS[2]) or '0')
        if size > tonumber(ARGV[1]) or length > tonumber(ARGV[2]) then return -1 end
        return {redis.call('GET', KEYS[3]) or '0', redis.call('LRANGE', KEYS[1], 0, -1)}
        """)

    /// Deletes every key of a document (KEYS); answers 1 when it had updates.
    static let delete = RedisScript(
        """
        local existed = redis.call('EXISTS', KEYS[1])
        redis.call('DEL', unpack(KEYS))
        return existed
        """)
}

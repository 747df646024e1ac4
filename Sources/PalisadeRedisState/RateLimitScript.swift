/// The server-side half of `RedisRateLimiter`: `SlidingWindow` and `WindowSnapshot` (in
/// PalisadeState) transcribed to Lua, one hit per call, atomic because Redis runs one script at
/// a time.
///
/// `KEYS[1]` is a hash: `g` = the geometry (`windowMs:bucketMs`), `t` = the latest time seen (time
/// never runs backwards for a key, as in `SlidingWindow.advance`), and one field per bucket, its
/// index, holding `count:first:last` (offsets in ms from the bucket's start). Buckets older than
/// the window's ring are deleted as they fall out. Every hit sets the hash's TTL to the window:
/// after that long without a hit nothing in it counts any more.
///
/// `ARGV`: limit, windowMs, bucketMs, countRefused (`1`/`0`), now in ms or `''` for the server's
/// clock (`TIME`; `redis.replicate_commands()` first, for a Redis before 5 where scripts were
/// replicated verbatim and a script reading the time could not write). A call with another
/// geometry than the hash's carries the count over as `SlidingWindow.retireCarrying` does.
/// Returns `{allowed (1/0), remaining, retryAfter in ms}`.
///
/// Lua 5.1 numbers are doubles: times, indices and counts are exact (far below 2^53); the one
/// product, `(edge - first + 1) * (count - 1)` in `out`, is exact while a bucket's length in ms
/// times its count stays below 2^53 (9e15: a 1-hour bucket with 2.5 million hits).
enum RateLimitScript {
    static let source = """
        local limit = tonumber(ARGV[1])
        local windowMs = tonumber(ARGV[2])
        local bucketMs = tonumber(ARGV[3])
        local countRefused = ARGV[4] == '1'
        local now
        if ARGV[5] == '' then
          if redis.replicate_commands then redis.replicate_commands() end
          local time = redis.call('TIME')
          now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        else
          now = tonumber(ARGV[5])
        end
        local maxCount = 4294967294
        local floor = math.floor
        local function fmt(x) return string.format('%d', x) end
        local geometry = fmt(windowMs) .. ':' .. fmt(bucketMs)

        local stored = redis.call('HGETALL', KEYS[1])
        local storedGeometry, latest = nil, nil
        local buckets = {}
        for i = 1, #stored, 2 do
          local field, value = stored[i], stored[i + 1]
          if field == 'g' then storedGeometry = value
          elseif field == 't' then latest = tonumber(value)
          else
            local c, f, l = string.match(value, '^(%d+):(%d+):(%d+)$')
            buckets[tonumber(field)] = {c = tonumber(c), f = tonumber(f), l = tonumber(l)}
          end
        end
        local t = now
        if latest ~= nil and latest > t then t = latest end

        -- How many of a bucket's modelled hits (evenly spaced from first to last) are at or before edge.
        local function out(b, index, bms, edge)
          local start = index * bms
          local first, last = start + b.f, start + b.l
          if edge < first then return 0 end
          if edge >= last then return b.c end
          local span = last - first
          local passed = (edge - first + 1) * (b.c - 1)
          return math.min(b.c, floor((passed + span - 1) / span))
        end
        local function slots(wms, bms) return floor((wms + bms - 1) / bms) + 1 end
        -- Counted hits in (at - wms, at] over the ring oldest..newest.
        local function countAt(bs, oldest, newest, wms, bms, at)
          local edge = at - wms
          local cut = math.min(newest, floor(edge / bms))
          local total = 0
          for index = oldest, newest do
            local b = bs[index]
            if b ~= nil then
              total = total + b.c
              if index <= cut then total = total - out(b, index, bms, edge) end
            end
          end
          return total
        end

        local newest = floor(t / bucketMs)
        local oldest = newest - slots(windowMs, bucketMs) + 1
        local rewrite = false
        if storedGeometry ~= nil and storedGeometry ~= geometry then
          -- Another window or bucket: the count at t, all placed at the latest counted hit.
          local ow, ob = string.match(storedGeometry, '^(%d+):(%d+)$')
          ow, ob = tonumber(ow), tonumber(ob)
          local oNewest = floor(t / ob)
          local oOldest = oNewest - slots(ow, ob) + 1
          local count = countAt(buckets, oOldest, oNewest, ow, ob, t)
          local lastHit = nil
          for index = oNewest, oOldest, -1 do
            local b = buckets[index]
            if b ~= nil and b.c > 0 then lastHit = index * ob + b.l break end
          end
          buckets = {}
          if count > 0 and lastHit ~= nil and lastHit > t - windowMs then
            local index = floor(lastHit / bucketMs)
            local offset = lastHit - index * bucketMs
            buckets[index] = {c = math.min(count, maxCount), f = offset, l = offset}
          end
          rewrite = true
        end

        local counted = countAt(buckets, oldest, newest, windowMs, bucketMs, t)
        local allowed = counted < limit
        local changed = false
        if allowed or countRefused then
          local b = buckets[newest]
          local offset = t - newest * bucketMs
          if b == nil or b.c == 0 then
            buckets[newest] = {c = 1, f = offset, l = offset}
            changed = true
          elseif b.c < maxCount then
            buckets[newest] = {c = b.c + 1, f = math.min(b.f, offset), l = math.max(b.l, offset)}
            changed = true
          end
          if changed then counted = counted + 1 end
        end

        local retry = 0
        if not allowed then
          -- The moment the excess-th oldest hit still in the window leaves it.
          local edge = t - windowMs
          local excess = counted - limit + 1
          local at = t
          for index = oldest, newest do
            local b = buckets[index]
            if b ~= nil and b.c > 0 then
              local gone = 0
              if index <= floor(edge / bucketMs) then gone = out(b, index, bucketMs, edge) end
              local inside = b.c - gone
              if inside < excess then
                excess = excess - inside
              else
                local k = gone + excess - 1
                local first = index * bucketMs + b.f
                if b.c > 1 then first = first + floor(k * (b.l - b.f) / (b.c - 1)) end
                at = first + windowMs
                break
              end
            end
          end
          retry = at - t
        end

        if rewrite then redis.call('DEL', KEYS[1]) end
        local fields = {'g', geometry, 't', fmt(t)}
        for index, b in pairs(buckets) do
          if index < oldest then
            if not rewrite then redis.call('HDEL', KEYS[1], fmt(index)) end
          elseif rewrite or (changed and index == newest) then
            fields[#fields + 1] = fmt(index)
            fields[#fields + 1] = fmt(b.c) .. ':' .. fmt(b.f) .. ':' .. fmt(b.l)
          end
        end
        redis.call('HSET', KEYS[1], unpack(fields))
        redis.call('PEXPIRE', KEYS[1], fmt(windowMs))
        local remaining = limit - counted
        if remaining < 0 then remaining = 0 end
        return {allowed and 1 or 0, remaining, retry}
        """
}

-- 30-ratelimit: how fast a client may connect and send (hole 2 of the reference, §9:
-- Open WebUI limits no socket event at all).
--
-- Four classes, each limited per user and per IP over a sliding window that covers
-- exactly `window_s` (hole 20: Open WebUI's limiter covers a bucket more, and counts
-- refused attempts, so a flooder could keep a victim locked out; refused attempts
-- do not count here):
--   connects  — new transports per IP (at the handshake, before any work is done)
--               and connects per user (at `connect`, once the identity is known);
--   events    — every event but the two Yjs ones;
--   updates   — `ydoc:document:update` (one per keystroke in a shared note);
--   awareness — `ydoc:awareness:update` (cursors; Open WebUI's client sends ≤ 10/s).
-- A refused event gets an `error` event whose message says "rate limited" and the
-- seconds to wait. A socket refused `offences.limit` times within
-- `offences.window_s` is disconnected.
--
-- Per-user connects are limited in `connect`, not `authenticate`: the first module
-- whose `authenticate` answers (10-auth) ends that chain, so a later one never runs.

local px = require "palisade"
local openwebui = require "05-openwebui"
local settings = require "00-settings"

-- A class's settings: px.config.policy.ratelimit.<class>.<key>, each over its default
-- (see 00-settings).
local function class_setting(class, defaults)
  local setting = settings.reader("ratelimit." .. class)
  local merged = {}
  for key, default in pairs(defaults) do merged[key] = setting(key, default) end
  return merged
end

-- Settings: px.config.policy.ratelimit.<class>.{limit (per user), ip_limit (per IP), window_s}
local CLASSES = {
  connects = class_setting("connects", { limit = 30, ip_limit = 60, window_s = 60 }),     -- transports opened / connects
  events = class_setting("events", { limit = 120, ip_limit = 600, window_s = 10 }),       -- Open WebUI events (typing, usage, …)
  updates = class_setting("updates", { limit = 300, ip_limit = 1200, window_s = 10 }),    -- ydoc:document:update
  awareness = class_setting("awareness", { limit = 200, ip_limit = 800, window_s = 10 }), -- ydoc:awareness:update
  streams = class_setting("streams", { limit = 3000, ip_limit = 6000, window_s = 10 }),   -- direct connections' `{user}:{sid}:{request}` lines
}
local OFFENCES = class_setting("offences", { limit = 20, window_s = 60 }) -- refusals before a socket is disconnected

-- Clients that keep being refused end with a temporary ban.
local autoban = require "07-autoban"

local M = {}

local class_of_event = {
  ["ydoc:document:update"] = "updates",
  ["ydoc:awareness:update"] = "awareness",
}

-- Refused attempts are not counted, so a client that keeps knocking is not locked out longer.
local NOT_REFUSED = { count_refused = false }

-- Keys are made once and kept: building "rl:<class>:user:<id>" on every event cost about as
-- much as the hit itself. keys.user[class][id] and keys.ip[class][ip]; the memo starts again
-- past 4 096 keys, so a stream of new users or addresses cannot grow it without bound.
local keys, key_count
local function forget_keys()
  keys, key_count = { user = {}, ip = {} }, 0
  for class in pairs(CLASSES) do
    keys.user[class] = {}
    keys.ip[class] = {}
  end
end
forget_keys()

local function make_key(kind, class, id)
  if key_count >= 4096 then forget_keys() end
  local key = "rl:" .. class .. ":" .. kind .. ":" .. id
  keys[kind][class][id] = key
  key_count = key_count + 1
  return key
end

local ratelimit_hit = px.ratelimit.hit

-- Counts one hit of `class` for the user and the IP (each when given). Returns
-- true, or false and the seconds until a retry can succeed.
local function hit(class, user_id, ip)
  local limits = CLASSES[class]
  if user_id then
    local key = keys.user[class][user_id] or make_key("user", class, user_id)
    local allowed, _, retry = ratelimit_hit(key, limits.limit, limits.window_s, nil, NOT_REFUSED)
    if not allowed then return false, retry end
  end
  if ip then
    local key = keys.ip[class][ip] or make_key("ip", class, ip)
    local allowed, _, retry = ratelimit_hit(key, limits.ip_limit, limits.window_s, nil, NOT_REFUSED)
    if not allowed then return false, retry end
  end
  return true
end

local function refusal(retry_after)
  return string.format("rate limited; retry after %.1f s", math.max(retry_after or 0, 0.1))
end

-- Counts a refusal in `data` (a socket's conn.data); true once it is one too many.
local function offend(data, now)
  local offences = data.offences
  if offences == nil or now - offences.since >= OFFENCES.window_s then
    offences = { since = now, count = 0 }
    data.offences = offences
  end
  offences.count = offences.count + 1
  return offences.count > OFFENCES.limit
end

function M.handshake(req)
  local ok, retry = hit("connects", nil, req.ip)
  if not ok then
    autoban.offence("ip", req.ip, "refusal")
    return px.deny(refusal(retry), 429)
  end
end

function M.connect(conn)
  if not conn.user then return end
  local ok = hit("connects", conn.user.id, nil) -- the IP was counted at the handshake
  if not ok then
    px.audit("ratelimit.connect", { user_id = conn.user.id, ip = conn.ip })
    conn:disconnect("rate limited")
  end
end

-- Open WebUI's direct-connection streams (`{user_id}:{sid}:{request}`, the sender's own id
-- first): one event per line of a model's answer.
local function class_of(name, user_id)
  local class = class_of_event[name]
  if class then return class end
  if user_id ~= nil and openwebui.stream_owner(name) == user_id then
    return "streams"
  end
  return "events"
end

function M.event(conn, name, args)
  local user_id = conn.user and tostring(conn.user.id)
  local ok, retry = hit(class_of(name, user_id), conn.user and conn.user.id, conn.ip)
  if ok then return nil end
  if user_id then autoban.offence("user", user_id, "refusal") else autoban.offence("ip", conn.ip, "refusal") end
  if offend(conn.data, px.now()) then
    px.audit("ratelimit.disconnect", { user_id = conn.user and conn.user.id, ip = conn.ip, event = name })
    conn:disconnect("rate limited")
    return px.drop()
  end
  return px.deny(refusal(retry), { retry_after = retry })
end

function M.selftest()
  assert(refusal(2.25) == "rate limited; retry after 2.2 s" or refusal(2.25) == "rate limited; retry after 2.3 s")
  assert(refusal(nil):find("rate limited", 1, true) == 1)
  -- Starts one refusal short of the limit: a selftest's cost must not grow with a setting.
  local data = {}
  assert(not offend(data, 1000))
  data.offences.count = OFFENCES.limit - 1
  assert(not offend(data, 1000), "the limit itself is allowed")
  assert(offend(data, 1000), "one refusal too many disconnects")
  assert(not offend(data, 1000 + OFFENCES.window_s), "offences are forgotten after their window")
  assert(class_of_event["ydoc:document:update"] == "updates" and class_of_event["usage"] == nil)
  assert(class_of("u1:sid:r1", "u1") == "streams" and class_of("events:chat", "u1") == "events")
  assert(class_of("ydoc:document:join", "u1") == "events" and class_of("u1:a:b:c", "u1") == "events")
  assert(make_key("user", "events", "u1") == "rl:events:user:u1" and keys.user.events.u1 == "rl:events:user:u1")
  for n = 1, 4096 do make_key("ip", "events", "10.0.0." .. n) end
  assert(key_count <= 4096 and keys.user.events.u1 == nil, "the memo is bounded")
  forget_keys()
end

return M

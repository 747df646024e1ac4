-- 07-autoban: temporary bans for clients that keep failing (issue 20, item 4).
--
-- Other modules report offences: 10-auth a refused token (per IP), 30-ratelimit a
-- refused event (per user, or per IP for anonymous sockets) and a refused handshake
-- (per IP). Past a threshold within a window, the IP or user is banned for `ban_s`:
-- the ban goes into the gateway's ban list (`{prefix}:palisade:bans`, the list the
-- admin API shows and lifts; every instance enforces it within a second, closing the
-- live sessions it refuses), and `px.alert("ban", …)` tells the operator (log, audit
-- stream, `alerts.webhook_url`).
--
--   offence(kind, value, what)   kind "ip" | "user"; what "auth_failure" | "refusal";
--                                true when this offence led to a ban

local px = require "palisade"

local setting = require("00-settings").reader("autoban")

-- Settings: px.config.policy.autoban.<name>
local ENABLED = setting("enabled", true)
local AUTH_FAILURES = setting("auth_failures", 30) -- refused tokens from one IP within window_s before it is banned
local REFUSALS = setting("refusals", 300)          -- refused events or handshakes of one user or IP within window_s before a ban
local WINDOW_S = setting("window_s", 60)
local BAN_S = setting("ban_s", 600)                -- how long an automatic ban lasts

local BANS = "palisade:bans"

local M = {}

local limits = { auth_failure = AUTH_FAILURES, refusal = REFUSALS }

local function ban(kind, value, what)
  local field = kind .. ":" .. value
  if px.store.hget(BANS, field) then return false end -- banned already (by an instance, the admin or this)
  local reason = "automatic: too many " .. (what == "auth_failure" and "refused tokens" or "refused requests")
  local record = { kind = kind, value = value, reason = reason }
  record["until"] = px.now() + BAN_S
  px.store.hset(BANS, field, px.json.encode(record))
  px.alert("ban", { kind = kind, value = value, ban_s = BAN_S, reason = reason })
  return true
end

function M.offence(kind, value, what)
  if not ENABLED or value == nil then return false end
  value = tostring(value)
  local allowed = px.ratelimit.hit("autoban:" .. what .. ":" .. kind .. ":" .. value, limits[what] or REFUSALS, WINDOW_S)
  if allowed then return false end
  return ban(kind, value, what)
end

function M.selftest()
  assert(type(AUTH_FAILURES) == "number" and type(REFUSALS) == "number" and BAN_S > 0)
end

return M

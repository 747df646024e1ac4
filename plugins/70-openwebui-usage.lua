-- 70-openwebui-usage: the usage pool, which models are in use (reference §5.2).
--
-- Open WebUI's client sends `usage` {action, model, chat_id} every second while a
-- model answers. The pool holds, per model, the sockets that reported it within the
-- last `expiry_s` seconds, in px.store (so in Redis, shared by every instance, when
-- one is configured):
--   usage:model:{model}   JSON {socket id: unix seconds}; expires with its newest report
--   usage:models          JSON {model: true}, the models in the pool
-- `tick` drops stale sockets and empty models every second, and logs "model in use"
-- and "model no longer in use"; a disconnect takes its socket out at once. Two
-- instances writing one model at the same moment can lose one entry, which the
-- client's next report (a second later) puts back.
--
-- Open WebUI's own backend keeps its pool in the Redis hash `{prefix}:usage_pool`,
-- which px.store cannot write (it has no hash commands), so its /api/usage does not
-- see this pool.

local px = require "palisade"
local helpers = require "00-helpers"

local setting = require("00-settings").reader("usage")

-- Settings: px.config.policy.usage.<name>
local EXPIRY_S = setting("expiry_s", 3)                -- a socket stops counting this long after its last report
local MAX_MODELS = setting("max_models", 1000) -- models the pool holds at most; reports of more are ignored
local PER_SOCKET = 32                                  -- models one socket may be counted for (bounds conn.data)

local M = { events = {} }

local reply = helpers.reply

local function read(key)
  local text = px.store.get(key)
  local value = text and px.json.decode(text)
  return type(value) == "table" and value or {}
end

local function write(key, value, ttl_s)
  if next(value) == nil then return px.store.del(key) end
  px.store.set(key, px.json.encode(value), ttl_s)
end

local function count(map)
  local n = 0
  for _ in pairs(map) do n = n + 1 end
  return n
end

-- Drops the entries of `entries` ({sid: reported at}) older than `expiry_s`;
-- returns how many are left and whether any were dropped.
local function prune(entries, now, expiry_s)
  local left, dropped = 0, false
  for sid, at in pairs(entries) do
    if type(at) ~= "number" or now - at > expiry_s then
      entries[sid], dropped = nil, true
    else
      left = left + 1
    end
  end
  return left, dropped
end

local function report(conn, model, now)
  local mine = conn.data.usage_models or {}
  if not mine[model] and count(mine) >= PER_SOCKET then return end
  local models = read("usage:models")
  if not models[model] then
    if count(models) >= MAX_MODELS then return end
    models[model] = true
    write("usage:models", models)
    px.log.info("model in use", { model = model })
  end
  local key = "usage:model:" .. model
  local entries = read(key)
  entries[conn.id] = now
  write(key, entries, EXPIRY_S)
  mine[model] = true
  conn.data.usage_models = mine
end

M.events["usage"] = function(conn, payload, ack)
  local model = type(payload) == "table" and payload.model
  if conn.user and type(model) == "string" and model ~= "" then report(conn, model, px.now()) end
  reply(ack)
end

function M.tick(now)
  local models = read("usage:models")
  local changed = false
  for model in pairs(models) do
    local key = "usage:model:" .. model
    local entries = read(key)
    local left, dropped = prune(entries, now, EXPIRY_S)
    if left == 0 then
      px.store.del(key)
      models[model], changed = nil, true
      px.log.info("model no longer in use", { model = model })
    elseif dropped then
      write(key, entries, EXPIRY_S)
    end
  end
  if changed then write("usage:models", models) end
end

function M.disconnect(conn, reason)
  for model in pairs(conn.data.usage_models or {}) do
    local key = "usage:model:" .. model
    local entries = read(key)
    if entries[conn.id] ~= nil then
      entries[conn.id] = nil
      write(key, entries, EXPIRY_S)
    end
  end
end

function M.selftest()
  local entries = { a = 100, b = 96.5, c = "x" }
  local left, dropped = prune(entries, 100, 3)
  assert(left == 1 and dropped and entries.a == 100 and entries.b == nil and entries.c == nil)
  left, dropped = prune(entries, 103, 3)
  assert(left == 1 and not dropped, "an entry exactly expiry_s old still counts")
  assert(count({ x = 1, y = 2 }) == 2 and count({}) == 0)
end

return M

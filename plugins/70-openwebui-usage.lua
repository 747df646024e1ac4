-- 70-openwebui-usage: the usage pool, which models are in use (reference §5).
--
-- Open WebUI's client sends `usage` {action, model, chat_id} every second while a
-- model answers. The pool is Open WebUI's own hash `{prefix}:usage_pool` (px.store
-- hashes: in Redis, shared by every instance and by Open WebUI's backend, whose
-- /api/usage reads it, when one is configured), in 0.12.4's shape:
--   model id -> JSON {socket id: {"updated_at": unix seconds (an integer)}}
-- A disconnect takes its socket out at once. Sockets silent for 3 s are dropped, and
-- empty models deleted, by the gateway's usage cleanup (every 3 s, with or without
-- Redis; with it, by the holder of Open WebUI's lock `{prefix}:usage_cleanup_lock`,
-- so Open WebUI's backend and every instance take turns). "model in use" is logged
-- when a model enters the pool, "model no longer in use" by `tick` once it is gone,
-- comparing the pool with the models announced (`usage:announced`, a hash
-- model -> "1", so each is logged once whichever instance saw it). Two instances writing
-- one model at the same moment can lose one entry, as in Open WebUI, and the
-- client's next report (a second later) puts it back.

local px = require "palisade"
local helpers = require "00-helpers"

local setting = require("00-settings").reader("usage")

-- Settings: px.config.policy.usage.<name>
local MAX_MODELS = setting("max_models", 1000) -- models the pool holds at most; reports of more are ignored
local PER_SOCKET = 32                                  -- models one socket may be counted for (bounds conn.data)

local POOL = "usage_pool"
local ANNOUNCED = "usage:announced"

local M = { events = {} }

local reply = helpers.reply

-- The sockets of one model ({sid: {updated_at = n}}), or an empty table.
local function read(model)
  local text = px.store.hget(POOL, model)
  local value = text and px.json.decode(text)
  return type(value) == "table" and value or {}
end

local function write(model, entries)
  if next(entries) == nil then return px.store.hdel(POOL, model) end
  px.store.hset(POOL, model, px.json.encode(entries))
end

local function count(map)
  local n = 0
  for _ in pairs(map) do n = n + 1 end
  return n
end

-- The pool's models ({model: JSON}), or nil when it cannot be read (then nothing is decided).
local function pool()
  local models, err = px.store.hgetall(POOL)
  if not models then px.log.warn("usage pool unreadable", { error = err }) end
  return models
end

-- Logs "model in use" once per stay of `model` in the pool (hset answers true for a new field).
local function announce(model)
  if px.store.hset(ANNOUNCED, model, "1") then px.log.info("model in use", { model = model }) end
end

local function report(conn, model, now)
  local mine = conn.data.usage_models or {}
  if not mine[model] and count(mine) >= PER_SOCKET then return end
  local entries = read(model)
  local new_model = next(entries) == nil
  if new_model then
    local models = pool()
    if not models or count(models) >= MAX_MODELS then return end
  end
  entries[conn.id] = { updated_at = math.floor(now) }
  write(model, entries)
  if new_model then announce(model) end
  mine[model] = true
  conn.data.usage_models = mine
end

M.events["usage"] = function(conn, payload, ack)
  local model = type(payload) == "table" and payload.model
  if conn.user and type(model) == "string" and model ~= "" then report(conn, model, px.now()) end
  reply(ack)
end

-- Logs the models that left the pool since the last tick (the gateway's cleanup or a
-- disconnect emptied them) and those that entered it through another writer.
function M.tick(now)
  local models = pool()
  if not models then return end
  local announced = px.store.hgetall(ANNOUNCED) or {}
  for model in pairs(announced) do
    if not models[model] then
      px.store.hdel(ANNOUNCED, model)
      px.log.info("model no longer in use", { model = model })
    end
  end
  for model in pairs(models) do
    if not announced[model] then announce(model) end
  end
end

function M.disconnect(conn, reason)
  for model in pairs(conn.data.usage_models or {}) do
    local entries = read(model)
    if entries[conn.id] ~= nil then
      entries[conn.id] = nil
      write(model, entries)
    end
  end
end

function M.selftest()
  assert(count({ x = 1, y = 2 }) == 2 and count({}) == 0)
end

return M

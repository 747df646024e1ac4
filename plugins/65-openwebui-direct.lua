-- 65-openwebui-direct: Open WebUI's direct connections (reference §3.4), a catch-all handler.
--
-- A direct connection is a model endpoint the browser calls itself: Open WebUI's backend asks
-- the browser (`events` `request:chat:completion`, with a channel `{user_id}:{sid}:{request}`),
-- and the browser sends the model's answer back as one event per line, named that channel,
-- then `{done = true}`. Open WebUI's socket server publishes each on
-- `{prefix}:direct_completion` as {channel, data}, where the backend's listener waits for it.
-- This handler does the same, in the order the lines arrive (one socket's events are handled
-- one after the other). 40-validate lets through only the user the name starts with, with one
-- argument; 30-ratelimit counts them in the `streams` class.

local px = require "palisade"
local openwebui = require "05-openwebui"

local M = { events = {} }

local CHANNEL = "direct_completion"

-- The name has two `:`; the first part is the sender's user (40-validate checked it).
M.events["*"] = function(conn, name, data)
  if not conn.user or not openwebui.stream_owner(name) or data == nil then return end
  local receivers, err = px.publish(CHANNEL, px.json.encode({ channel = name, data = data }))
  if receivers == nil then px.log.warn("a direct-connection line was not relayed", { error = err }) end
end

return M

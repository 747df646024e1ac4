-- 90-bench: the benchmark's events, the same as the python peer's (benchmarks/python-peer):
--   echo(data, ack)          acks its argument
--   join({room}, ack)        joins the room (through `authorize`), acks true or false
--   broadcast({room, …})     emits `broadcast` with the payload to the room, sender skipped
-- Used by `make bench` only; not a stock plugin.

local px = require "palisade"

local M = { events = {} }

function M.events.echo(conn, data, ack)
  if ack then ack(data) end
end

function M.events.join(conn, data, ack)
  local room = type(data) == "table" and data.room or data
  local joined = type(room) == "string" and conn:join(room) or false
  if ack then ack(joined) end
end

function M.events.broadcast(conn, data)
  if type(data) == "table" and type(data.room) == "string" then
    px.emit(data.room, "broadcast", data, { skip = conn.id })
  end
end

return M

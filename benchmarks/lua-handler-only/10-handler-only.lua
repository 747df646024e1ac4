-- Benchmark module: admits everyone and acks `hb`: Lua dispatch without the stock policy chain.
local px = require "palisade"
return {
  authenticate = function(conn, auth) return { anonymous = true } end,
  authorize = function() return px.allow() end,
  events = { hb = function(conn, payload, ack) if ack then ack() end end },
}

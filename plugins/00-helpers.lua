-- 00-helpers: what the stock plugins' event handlers share.
--
--   reply(ack, ...)                answers the client's ack with `...` when it asked for one
--                                  (a handler's `ack` is nil otherwise)
--   refuse(conn, event, message)   tells the sender its `event` was refused: an `error` event
--                                  {message, event}, the shape the policies' px.deny gives
--
-- `local helpers = require "00-helpers"`. It defines no hook but its selftest.

local M = {}

function M.reply(ack, ...)
  if ack then ack(...) end
end

function M.refuse(conn, event, message)
  conn:emit("error", { message = message, event = event })
end

function M.selftest()
  local answered
  M.reply(function(...) answered = { ... } end, "a", 2)
  assert(answered[1] == "a" and answered[2] == 2, "reply passes its values to the ack")
  M.reply(nil, "ignored") -- no ack asked for: nothing happens
  local sent
  M.refuse({ emit = function(_, name, payload) sent = { name, payload } end }, "join-note", "no access")
  assert(sent[1] == "error" and sent[2].message == "no access" and sent[2].event == "join-note")
end

return M

-- 60-openwebui-events: what Open WebUI's chat and channel views send (reference §3.1).
--
--   events:channel  {channel_id, message_id, data = {type, data}} from a member of
--                   `channel:{id}` only. `typing` is relayed to the channel (sender
--                   included) as {channel_id, message_id, data = {type = "typing",
--                   data = {typing}}, user = {id, name}}: the user is the socket's
--                   own, and nothing else the client put in `data` goes out (hole 10:
--                   Open WebUI relayed it verbatim). `last_read_at` is handed to
--                   `px.audit` ("channel.last_read_at") for the app to act on.
--   events:chat     {chat_id, data = {type = "last_read_at"}}: handed to `px.audit`
--                   ("chat.last_read_at"); the gateway owns no chat database.

local px = require "palisade"
local helpers = require "00-helpers"

local M = { events = {} }

local reply = helpers.reply
local refuse = helpers.refuse

local function in_room(conn, room)
  for _, joined in ipairs(conn:rooms()) do
    if joined == room then return true end
  end
  return false
end

-- The `events:channel` payload members receive for a typing notice.
local function typing_notice(payload, user)
  local inner = type(payload.data.data) == "table" and payload.data.data or {}
  return {
    channel_id = payload.channel_id,
    message_id = type(payload.message_id) == "string" and payload.message_id or px.null,
    data = { type = "typing", data = { typing = inner.typing == true } },
    user = { id = user.id, name = user.name },
  }
end

M.events["events:channel"] = function(conn, payload, ack)
  if type(payload) ~= "table" or type(payload.data) ~= "table" then return reply(ack) end -- 40-validate says why
  local room = "channel:" .. tostring(payload.channel_id)
  if not conn.user or not in_room(conn, room) then
    refuse(conn, "events:channel", "not a member of this channel")
    return reply(ack)
  end
  local kind = payload.data.type
  if kind == "typing" then
    px.emit(room, "events:channel", typing_notice(payload, conn.user))
  elseif kind == "last_read_at" then
    px.audit("channel.last_read_at", { user_id = conn.user.id, channel_id = payload.channel_id, at = math.floor(px.now()) })
  end
  reply(ack)
end

M.events["events:chat"] = function(conn, payload, ack)
  if conn.user and type(payload) == "table" and type(payload.data) == "table" and payload.data.type == "last_read_at" then
    px.audit("chat.last_read_at", { user_id = conn.user.id, chat_id = payload.chat_id, at = math.floor(px.now()) })
  end
  reply(ack)
end

function M.selftest()
  local notice = typing_notice({ channel_id = "c", data = { type = "typing", data = { typing = true, html = "<b>" } }, extra = 1 },
    { id = "u", name = "Ann", role = "admin" })
  assert(notice.data.data.typing == true and notice.data.data.html == nil, "only the typing flag is relayed")
  assert(notice.user.role == nil and notice.user.name == "Ann" and notice.message_id == px.null and notice.extra == nil)
  assert(typing_notice({ channel_id = "c", data = { type = "typing" } }, { id = "u" }).data.data.typing == false)
end

return M

-- 60-openwebui-events: what Open WebUI's chat and channel views send (reference §3.1).
--
--   events:channel  {channel_id, message_id, data = {type, data}} from a member of
--                   `channel:{id}` only (a socket not in the room yet joins it first, when
--                   20-access lets it: a channel created after its `user-join`). `typing` is relayed to the channel (sender
--                   included) as {channel_id, message_id, data = {type = "typing",
--                   data = {typing}}, user = {id, name}}: the user is the socket's
--                   own, and nothing else the client put in `data` goes out (hole 10:
--                   Open WebUI relayed it verbatim). `last_read_at` is handed to
--                   `px.audit` ("channel.last_read_at") for the app to act on.
--   events:chat     {chat_id, data = {type, data}}, as Open WebUI 0.12.4 (reference §3.5):
--                   `join` / `leave` a shared chat's room `chat:{id}` (the join is
--                   authorized like any other: 20-access asks Open WebUI), keep the
--                   socket's `chat_ids` in the session pool, then send `events`
--                   `chat:presence` {users = [{id, name}]} to the room; acks true/false.
--                   `typing` {typing} from a socket in the room that may write the chat
--                   goes to the room's others as `events` {chat_id, user_id, user, shared,
--                   data}; acks true/false. `last_read_at` is handed to `px.audit`
--                   ("chat.last_read_at"); the gateway owns no chat database.
--
-- Presence is computed from the session pool entries of the chat's sockets (seen within
-- SESSION_POOL_TIMEOUT, `chat_ids` holding the chat), under Open WebUI's presence lock.

local px = require "palisade"
local helpers = require "00-helpers"
local users = require "50-openwebui-users"
local access = require "20-access"

local setting = require("00-settings").reader("openwebui")

-- Settings: px.config.policy.openwebui.<name>
local PRESENCE_WINDOW_S = setting("presence_window_s", 120) -- session pool entries seen within this count as present
local PRESENCE_LOCK_TTL_S = 60 -- Open WebUI's WEBSOCKET_REDIS_LOCK_TIMEOUT default
local PRESENCE_LOCK_WAIT_S = 1  -- at most; a hook's deadline comes first

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
  -- A channel created or joined after this socket's `user-join` is joined now, if the
  -- socket's user may (20-access asks); Open WebUI's backend moves only its own sockets.
  if not conn.user or (not in_room(conn, room) and not conn:join(room)) then
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

-- Open WebUI's ids of chats that are not saved (no shared room for them).
local function is_saved_chat_id(chat_id)
  return type(chat_id) == "string" and chat_id ~= "" and not chat_id:match("^temporary:")
    and not chat_id:match("^local:") and not chat_id:match("^channel:")
end

-- The sockets of this gateway (every instance) in a chat's room: a px.store hash per chat,
-- sid -> "1", kept beside the session pool so a presence reads the chat's sockets, not the
-- whole pool (Open WebUI scans the whole pool; past 10 000 sessions px.store.hgetall refuses).
local function chat_sessions_key(chat_id) return "palisade:chat:" .. chat_id .. ":sessions" end

-- The users present in a chat (the session pool entries of its sockets that were seen
-- within PRESENCE_WINDOW_S and still list the chat), sorted by id.
local function presence(chat_id)
  local key = chat_sessions_key(chat_id)
  local sids, err = px.store.hgetall(key)
  if not sids then
    px.log.warn("chat presence skipped: the chat's sessions could not be read", { chat_id = chat_id, error = err })
    return nil
  end
  local now, people, gone = px.now(), {}, {}
  for sid in pairs(sids) do
    local entry = px.json.decode(px.store.hget("session_pool", sid) or "null")
    if type(entry) ~= "table" then
      gone[#gone + 1] = sid -- reaped or disconnected without a word (its instance died)
    elseif type(entry.chat_ids) == "table" and now - (tonumber(entry.last_seen_at) or 0) <= PRESENCE_WINDOW_S then
      for _, id in ipairs(entry.chat_ids) do
        if id == chat_id and entry.id ~= nil then people[tostring(entry.id)] = entry.name or "" end
      end
    end
  end
  if #gone > 0 then px.store.hdel(key, table.unpack(gone)) end
  local list = {}
  for id, name in pairs(people) do list[#list + 1] = { id = id, name = name } end
  table.sort(list, function(a, b) return a.id < b.id end)
  return px.array(table.unpack(list))
end

-- Under Open WebUI's presence lock (`{prefix}:chat:{id}:presence:lock`, redis-py's form), so
-- presences computed here, on other instances and by the backend's reaper go out in turn; sent
-- only while the lock is still held, as there. A lock held elsewhere past the wait skips this
-- presence: the holder sends a fresher one.
local function publish_presence(chat_id)
  local lock = "chat:" .. chat_id .. ":presence:lock"
  local token = px.lock.acquire(lock, PRESENCE_LOCK_TTL_S, PRESENCE_LOCK_WAIT_S)
  if not token then
    px.log.debug("chat presence skipped: its lock is held elsewhere", { chat_id = chat_id })
    return
  end
  local users_present = presence(chat_id)
  if users_present ~= nil and px.store.get(lock) == token then
    px.emit("chat:" .. chat_id, "events", {
      chat_id = chat_id, shared = true, data = { type = "chat:presence", data = { users = users_present } },
    })
  end
  px.lock.release(lock, token)
end

local function set_chat(conn, chat_id, present)
  local ids, kept = conn.data.chat_ids or {}, {}
  for _, id in ipairs(ids) do
    if id ~= chat_id then kept[#kept + 1] = id end
  end
  if present then kept[#kept + 1] = chat_id end
  conn.data.chat_ids = kept
  users.refresh_session_pool(conn)
  if present then
    px.store.hset(chat_sessions_key(chat_id), conn.id, "1")
  else
    px.store.hdel(chat_sessions_key(chat_id), conn.id)
  end
end

M.events["events:chat"] = function(conn, payload, ack)
  if not conn.user or type(payload) ~= "table" or type(payload.data) ~= "table" then return reply(ack) end
  local kind, chat_id = payload.data.type, payload.chat_id
  if kind == "last_read_at" then
    px.audit("chat.last_read_at", { user_id = conn.user.id, chat_id = chat_id, at = math.floor(px.now()) })
    return reply(ack)
  end
  if not is_saved_chat_id(chat_id) then return reply(ack, false) end
  local room = "chat:" .. chat_id
  if kind == "join" or kind == "leave" then
    if kind == "join" then
      if not conn:join(room) then return reply(ack, false) end
    else
      conn:leave(room)
    end
    set_chat(conn, chat_id, kind == "join")
    publish_presence(chat_id)
    return reply(ack, true)
  end
  -- typing
  local typing = type(payload.data.data) == "table" and payload.data.data.typing
  if type(typing) ~= "boolean" or not in_room(conn, room) or not access.may(conn, "write", { type = "chat", id = chat_id }) then
    return reply(ack, false)
  end
  px.emit(room, "events", {
    chat_id = chat_id, user_id = conn.user.id, user = { id = conn.user.id, name = conn.user.name }, shared = true,
    data = { type = "typing", data = { typing = typing } },
  }, { skip = conn.id })
  reply(ack, true)
end

function M.disconnect(conn, reason)
  for _, chat_id in ipairs(conn.data.chat_ids or {}) do
    px.store.hdel(chat_sessions_key(chat_id), conn.id)
    publish_presence(chat_id)
  end
end

function M.selftest()
  local notice = typing_notice({ channel_id = "c", data = { type = "typing", data = { typing = true, html = "<b>" } }, extra = 1 },
    { id = "u", name = "Ann", role = "admin" })
  assert(notice.data.data.typing == true and notice.data.data.html == nil, "only the typing flag is relayed")
  assert(notice.user.role == nil and notice.user.name == "Ann" and notice.message_id == px.null and notice.extra == nil)
  assert(typing_notice({ channel_id = "c", data = { type = "typing" } }, { id = "u" }).data.data.typing == false)
end

return M

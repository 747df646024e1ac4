-- 50-openwebui-users: Open WebUI's session events (reference §2 and §3.1).
--
--   connect        a socket that connected with a valid token joins `user:{id}`,
--                  the room the app emits that user's `events` to
--   user-join      {auth = {token}}: authenticates the socket (or refreshes its
--                  identity), joins `user:{id}` and the user's channels; acks {id, name}
--   heartbeat      {}: records when the user was last seen
--   disconnect     takes the socket out of the session pool
--
-- The session pool: every authenticated socket has an entry in Open WebUI's hash
-- `{prefix}:session_pool` (px.store hashes: in Redis when one is configured), sid ->
-- JSON of the user as Open WebUI 0.12.4 writes it (reference §5): the fields of the
-- user's directory record that Open WebUI keeps there (id, email, username, role,
-- name, ...; never a token), the identity's id, role and name, `last_seen_at` (unix
-- seconds) and `chat_ids` (the shared chats the socket joined with `events:chat`).
-- Written on connect, user-join and heartbeat, deleted on disconnect; the entries of
-- sockets that vanished without one are reaped by the gateway (`SESSION_POOL_TIMEOUT`
-- after their last heartbeat), so Open WebUI's backend finds the user of a socket
-- (`get_user_id_from_session_pool`) and who is online.
--   join-channels  {auth}: joins `channel:{id}` for each channel the user's record lists
--   join-note      {note_id, auth}: joins `note:{note_id}` (the room of `note-events`)
--
-- Open WebUI re-verifies the token that `join-channels` and `join-note` repeat and
-- acts for whoever it names. Here the socket's own identity counts (verified at
-- connect or `user-join`, re-checked by 10-auth) and those tokens are ignored.
-- A socket keeps one identity: `user-join` with another user's token is refused,
-- where Open WebUI switched users but left the socket in the first one's room
-- (hole 11). Every refusal is an `error` event {message, event} (hole 21); a
-- handler acks (with nothing, as python-socketio does) when the client asks.

local px = require "palisade"
local helpers = require "00-helpers"
local auth = require "10-auth"
local openwebui = require "05-openwebui"
local autoban = require "07-autoban"

local setting = require("00-settings").reader("openwebui")

-- Settings: px.config.policy.openwebui.<name>
local LAST_SEEN_TTL_S = setting("last_seen_ttl_s", 120) -- how long `user:{id}:last_seen_at` outlives the last heartbeat

local M = { events = {} }

local reply = helpers.reply
local refuse = helpers.refuse

-- The user fields of Open WebUI's session pool entry (its UserModel without the
-- profile images, date of birth, bio and gender), copied from the directory record.
local SESSION_FIELDS = {
  "id", "email", "username", "role", "name", "timezone", "presence_state", "status_emoji",
  "status_message", "status_expires_at", "info", "settings", "oauth", "scim",
  "last_active_at", "updated_at", "created_at",
}
local SESSION_POOL = "session_pool"

-- The session pool entry of `user` (the socket's identity) with its `record` (or nil).
local function session_entry(user, record, now, chat_ids)
  local entry = {}
  for _, name in ipairs(SESSION_FIELDS) do
    if type(record) == "table" and record[name] ~= nil then entry[name] = record[name] end
  end
  entry.id, entry.role, entry.name = user.id, user.role or entry.role, user.name or entry.name
  entry.last_seen_at = math.floor(now)
  entry.chat_ids = px.array(table.unpack(chat_ids or {}))
  return entry
end

-- Writes the socket's entry in the session pool; a store error is logged, not raised.
local function enter_session_pool(conn)
  local user = conn.user
  -- With Open WebUI, the identity is its answer (email, name, role); else the directory's record.
  local record = openwebui.url and user or px.directory.get("user", user.id)
  local entry = session_entry(user, record, px.now(), conn.data.chat_ids)
  local ok, err = px.store.hset(SESSION_POOL, conn.id, px.json.encode(entry))
  if ok == nil then
    px.log.warn("session pool write failed", { user_id = user.id, error = err })
    return
  end
  conn.data.in_session_pool = true
end

-- For 60-openwebui-events: writes the entry again (after `conn.data.chat_ids` changed).
M.refresh_session_pool = function(conn)
  if conn.user then enter_session_pool(conn) end
end

-- The token of a `{auth = {token}}` payload, or nil.
local function token_of(payload)
  local given = type(payload) == "table" and payload.auth
  return type(given) == "table" and given.token or nil
end

-- Joins `channel:{id}` for every channel the user's directory record lists; each
-- join is authorized like any other (20-access). The channels' records are read first in
-- one batch, so each join's check finds its record in the directory's cache.
-- With Open WebUI (`openwebui.url`), the user's channels are what `GET /api/v1/channels/`
-- lists for the user's own token, and only for admins or users with `features.channels`,
-- as Open WebUI does.
local function openwebui_channels(conn)
  local features = type(conn.user.permissions) == "table" and conn.user.permissions.features
  if conn.user.role ~= "admin" and not (type(features) == "table" and features.channels == true) then return {} end
  -- Never from the cache: `join-channels` comes right after the client created a channel.
  local res, err = openwebui.get("/api/v1/channels/", conn.data.token, { cache_s = 0 })
  if not res or res.status ~= 200 or type(res.json) ~= "table" then
    px.log.warn("could not list the user's channels in Open WebUI", { user_id = conn.user.id, error = err or (res and res.status) })
    return {}
  end
  local ids = {}
  for _, channel in ipairs(res.json) do
    if type(channel) == "table" and type(channel.id) == "string" then ids[#ids + 1] = channel.id end
  end
  return ids
end

local function join_channels(conn)
  if openwebui.url then
    for _, channel_id in ipairs(openwebui_channels(conn)) do
      if not conn:join("channel:" .. channel_id) then
        px.log.debug("channel join refused", { user_id = conn.user.id, channel_id = channel_id })
      end
    end
    return
  end
  local record = px.directory.get("user", conn.user.id)
  local channels = record and record.channels
  if type(channels) ~= "table" then return end
  local ids = {}
  for _, channel_id in ipairs(channels) do
    if type(channel_id) == "string" then ids[#ids + 1] = channel_id end
  end
  px.directory.get_many("channel", ids)
  for _, channel_id in ipairs(channels) do
    if type(channel_id) == "string" and not conn:join("channel:" .. channel_id) then
      px.log.debug("channel join refused", { user_id = conn.user.id, channel_id = channel_id })
    end
  end
end

function M.connect(conn)
  if not conn.user then return end
  conn:join("user:" .. conn.user.id)
  enter_session_pool(conn)
end

function M.disconnect(conn, reason)
  if conn.data.in_session_pool then px.store.hdel(SESSION_POOL, conn.id) end
end

M.events["user-join"] = function(conn, payload, ack)
  local identity, err = auth.identify(token_of(payload))
  if not identity then
    px.log.info("user-join refused", { reason = err, ip = conn.ip })
    autoban.offence("ip", conn.ip, "auth_failure")
    refuse(conn, "user-join", err)
    return reply(ack)
  end
  if conn.user and conn.user.id ~= identity.id then
    px.audit("auth.identity_switch_refused", { user_id = conn.user.id, other_id = identity.id, ip = conn.ip })
    refuse(conn, "user-join", "this socket is signed in as another user; reconnect to switch")
    return reply(ack)
  end
  conn:set_user(identity)
  auth.signed_in(conn)
  -- As 10-auth keeps the CONNECT's token: re-checks with Open WebUI ask with this one now.
  conn.data.token = token_of(payload)
  conn.data.auth_checked_at = px.now()
  conn:join("user:" .. identity.id)
  join_channels(conn)
  enter_session_pool(conn)
  reply(ack, { id = identity.id, name = identity.name })
end

M.events["heartbeat"] = function(conn, payload, ack)
  if not conn.user then return reply(ack) end
  local now = px.now()
  conn.data.last_seen_at = now
  px.store.set("user:" .. conn.user.id .. ":last_seen_at", tostring(math.floor(now)), LAST_SEEN_TTL_S)
  enter_session_pool(conn)
  reply(ack)
end

M.events["join-channels"] = function(conn, payload, ack)
  if conn.user then join_channels(conn) end
  reply(ack)
end

M.events["join-note"] = function(conn, payload, ack)
  local note_id = type(payload) == "table" and payload.note_id
  if conn.user and type(note_id) == "string" and not conn:join("note:" .. note_id) then
    refuse(conn, "join-note", "no access to note " .. note_id)
  end
  reply(ack)
end

function M.selftest()
  assert(token_of({ auth = { token = "t" } }) == "t")
  assert(token_of({}) == nil and token_of("x") == nil and token_of({ auth = "t" }) == nil)
  assert(type(auth.identify) == "function", "10-auth provides identify(token)")
  local entry = session_entry({ id = "u1", role = "admin", name = "Ann", jti = "j" },
    { id = "u1", email = "a@x", password = "p", profile_image_url = "i", role = "user" }, 100.7)
  assert(entry.id == "u1" and entry.email == "a@x" and entry.role == "admin" and entry.name == "Ann")
  assert(entry.last_seen_at == 100 and math.type(entry.last_seen_at) == "integer")
  assert(entry.password == nil and entry.profile_image_url == nil and entry.jti == nil, "only the pool's fields")
end

return M

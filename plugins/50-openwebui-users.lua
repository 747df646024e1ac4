-- 50-openwebui-users: Open WebUI's session events (reference §2 and §3.1).
--
--   connect        a socket that connected with a valid token joins `user:{id}`,
--                  the room the app emits that user's `events` to
--   user-join      {auth = {token}}: authenticates the socket (or refreshes its
--                  identity), joins `user:{id}` and the user's channels; acks {id, name}
--   heartbeat      {}: records when the user was last seen
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

local setting = require("00-settings").reader("openwebui")

-- Settings: px.config.policy.openwebui.<name>
local LAST_SEEN_TTL_S = setting("last_seen_ttl_s", 120) -- how long `user:{id}:last_seen_at` outlives the last heartbeat

local M = { events = {} }

local reply = helpers.reply
local refuse = helpers.refuse

-- The token of a `{auth = {token}}` payload, or nil.
local function token_of(payload)
  local given = type(payload) == "table" and payload.auth
  return type(given) == "table" and given.token or nil
end

-- Joins `channel:{id}` for every channel the user's directory record lists; each
-- join is authorized like any other (20-access). The channels' records are read first in
-- one batch, so each join's check finds its record in the directory's cache.
local function join_channels(conn)
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
  if conn.user then conn:join("user:" .. conn.user.id) end
end

M.events["user-join"] = function(conn, payload, ack)
  local identity, err = auth.identify(token_of(payload))
  if not identity then
    px.log.info("user-join refused", { reason = err, ip = conn.ip })
    refuse(conn, "user-join", err)
    return reply(ack)
  end
  if conn.user and conn.user.id ~= identity.id then
    px.audit("auth.identity_switch_refused", { user_id = conn.user.id, other_id = identity.id, ip = conn.ip })
    refuse(conn, "user-join", "this socket is signed in as another user; reconnect to switch")
    return reply(ack)
  end
  conn:set_user(identity)
  conn:join("user:" .. identity.id)
  join_channels(conn)
  reply(ack, { id = identity.id, name = identity.name })
end

M.events["heartbeat"] = function(conn, payload, ack)
  if not conn.user then return reply(ack) end
  local now = px.now()
  conn.data.last_seen_at = now
  px.store.set("user:" .. conn.user.id .. ":last_seen_at", tostring(math.floor(now)), LAST_SEEN_TTL_S)
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
end

return M

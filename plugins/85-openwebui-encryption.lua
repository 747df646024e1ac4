-- 85-openwebui-encryption: Open WebUI 0.12.4's end-to-end encrypted channel relay
-- (reference §3.2), as a plugin: the events `encryption:start|status|join|bind|packet|
-- leave|ping`, each answered through its ack with {ok = true, ...} or {ok = false, error}.
--
-- The relay never sees a message: browsers exchange opaque MLS packets (base64, at most
-- 1 MiB decoded) through it, and it keeps only who takes part in a channel's session and
-- one 32-byte public key per participation, the "bindings" every member checks its peers
-- against. The state lives where Open WebUI's backend keeps it, under the same lock:
--   {prefix}:encryption:{<sha256 of the channel id>}        JSON, EX 90, refreshed by every save
--   {prefix}:encryption:{<sha256 of the channel id>}:lock   redis-py's lock (px.lock), 10 s
-- and every write is fenced by that lock (px.lock.write), so the backend's
-- `encryption.invalidate()` (it takes the lock and deletes the state whenever a channel's
-- members or access change) and any number of Palisade instances take turns. Each
-- recipient's `encryption:event` carries its own sequence number, saved before sending, so a
-- browser notices a lost delivery.
--
-- Who may: a socket on the WebSocket transport, signed in (its Open WebUI identity) as an
-- admin or a user whose permissions have `features.channels` and
-- `features.encrypted_channels`; Open WebUI has channels and encrypted channels enabled
-- (`GET /api/config`); the channel is a DM or a private group and the user a member
-- (`GET /api/v1/channels/{id}` answers 200 for members only, with the member ids). Per user,
-- 10 `start`/`join` a minute and 100 other requests a second, at most 4 MiB of requests in
-- either window.
--
-- Members not seen for 45 s (the client pings every 15 s) or no longer in the channel's
-- member list are removed; the host leaving ends the session for all. A socket's
-- participation ends with its disconnect. Every 30 s (`tick`) the sessions of this
-- gateway's sockets are pruned, and sockets whose session vanished get `ended`.
-- Requires `openwebui.url`; without it every request is refused.
--
-- Differs from Open WebUI: the eligibility of members other than the caller is not
-- re-read on every request (the gateway asks Open WebUI with each user's own token and
-- holds no token of another user's): a member whose permission is withdrawn is refused at
-- their next request (within 15 s), then pruned 45 s after their last accepted one, and
-- Open WebUI ends the session itself when a channel's access changes. The sweep prunes by
-- liveness only, for the same reason.

local px = require "palisade"
local helpers = require "00-helpers"
local openwebui = require "05-openwebui"

local reply = helpers.reply

local MAX_PACKET = 1048576                  -- decoded bytes of one packet
local MAX_PACKET_TEXT = (MAX_PACKET + 2) // 3 * 4
local MAX_REQUEST = 3 * MAX_PACKET          -- JSON bytes of one request
local MAX_WINDOW_BYTES = 4 * MAX_PACKET     -- JSON bytes of one user's requests per rate window
local TTL_S = 90                            -- the state's life after its last save
local STALE_S = 45                          -- a member not seen for this long is removed
local SWEEP_S = 30
local MAX_MEMBERS = 128
local LOCK_TTL_S, LOCK_WAIT_S = 10, 2

local REJECTED = "Private chat is unavailable or the session changed."
local ENDED = "Private chat ended."
-- This gateway's sockets in a relay session: sid -> channel id (a px.store hash, so every
-- loop and the sweep see it; sids are unique across instances).
local LOCAL = "palisade:encryption:local"

local M = { events = {} }

-- A refusal travels as this value through error() and pcall; anything else raised is a failure.
local Rejected = setmetatable({}, { __tostring = function() return "rejected" end })
local function need(condition)
  if not condition then error(Rejected, 0) end
end

local function state_key(channel) return "encryption:{" .. px.sha256(channel) .. "}" end
local function lock_name(channel) return state_key(channel) .. ":lock" end

-- Runs body(state, lease) holding the channel's lock; state is nil when absent or expired.
local function transaction(channel, body)
  local name = lock_name(channel)
  local token = px.lock.acquire(name, LOCK_TTL_S, LOCK_WAIT_S)
  if not token then error("the channel's lock is busy", 0) end
  local ok, result = pcall(function()
    local raw = px.store.get(state_key(channel))
    local state = raw and px.json.decode(raw) or nil
    if type(state) ~= "table" or (tonumber(state.expires) or 0) <= px.now() then state = nil end
    return body(state, { channel = channel, token = token })
  end)
  px.lock.release(name, token)
  if not ok then error(result, 0) end
  return result
end

-- Saves state (nil deletes it) if the lease still holds the lock; else the request fails.
local function save(lease, state)
  local value
  if state then
    state.expires = px.now() + TTL_S
    value = px.json.encode(state)
  end
  if not px.lock.write(lock_name(lease.channel), lease.token, state_key(lease.channel), value, TTL_S) then
    error("coordination lease expired", 0)
  end
end

local function has_key(member) return type(member.key) == "string" end

-- Participation ids in a stable order: the host first, then by id.
local function participation_ids(state)
  local ids = {}
  for pid in pairs(state.members) do ids[#ids + 1] = pid end
  table.sort(ids, function(a, b)
    if a == state.host or b == state.host then return a == state.host and b ~= state.host end
    return a < b
  end)
  return ids
end

local function view(state)
  local bindings, participants = {}, {}
  for _, pid in ipairs(participation_ids(state)) do
    local member = state.members[pid]
    if has_key(member) then
      bindings[#bindings + 1] = {
        identity = { channel = state.channel, session = state.session, user = member.user, participation = pid },
        key = member.key,
      }
    end
    participants[#participants + 1] = { participation = pid, user = member.user, name = member.name }
  end
  return {
    channel = state.channel, session = state.session, host = state.host,
    bindings = px.array(table.unpack(bindings)), participants = px.array(table.unpack(participants)),
  }
end

local function with_view(state, fields)
  local answer = view(state)
  for name, value in pairs(fields) do answer[name] = value end
  return answer
end

local function invite(channel, state)
  px.emit("channel:" .. channel, "encryption:available", { channel = channel, session = state and state.session or px.null })
end

local function ended(sid, channel, session)
  px.emit(sid, "encryption:event", { kind = "ended", channel = channel, session = session })
end

-- Sends event to each recipient with its next sequence number, saved first.
local function deliver(lease, state, recipients, event)
  local targets = {}
  for _, pid in ipairs(recipients) do
    local member = state.members[pid]
    member.out = (tonumber(member.out) or 0) + 1
    targets[#targets + 1] = { sid = member.sid, sequence = member.out }
  end
  save(lease, state)
  -- One view for every recipient; only the sequence number differs.
  local payload = view(state)
  for name, value in pairs(event) do
    if payload[name] == nil then payload[name] = value end
  end
  for _, target in ipairs(targets) do
    payload.sequence = target.sequence
    px.emit(target.sid, "encryption:event", payload)
  end
end

local function admitted_except(state, except)
  local ids = {}
  for _, pid in ipairs(participation_ids(state)) do
    if pid ~= except and state.members[pid].admitted == true then ids[#ids + 1] = pid end
  end
  return ids
end

local function close(lease, state)
  save(lease, nil)
  if state then
    for _, member in pairs(state.members) do
      px.store.hdel(LOCAL, member.sid)
      ended(member.sid, lease.channel, state.session)
    end
  end
  invite(lease.channel, nil)
end

-- Removes members; the host among them ends the session.
local function remove(lease, state, pids)
  for _, pid in ipairs(pids) do
    if pid == state.host then return close(lease, state) end
  end
  local removed = {}
  for _, pid in ipairs(pids) do
    removed[#removed + 1] = { pid = pid, member = state.members[pid] }
    state.members[pid] = nil
  end
  for _, gone in ipairs(removed) do
    px.store.hdel(LOCAL, gone.member.sid)
    ended(gone.member.sid, lease.channel, state.session)
    deliver(lease, state, admitted_except(state, nil),
      { kind = "departed", participation = gone.pid, admitted = gone.member.admitted == true })
  end
end

-- Removes stale members (and, with `member_ids`, those no longer in the channel); nil when
-- that ended the session.
local function prune(lease, state, member_ids)
  if not state then return nil end
  local stale, now = {}, px.now()
  for _, pid in ipairs(participation_ids(state)) do
    local member = state.members[pid]
    if (tonumber(member.seen) or 0) < now - STALE_S or (member_ids and not member_ids[member.user]) then
      stale[#stale + 1] = pid
    end
  end
  if #stale == 0 then return state end
  local host_stale = false
  for _, pid in ipairs(stale) do host_stale = host_stale or pid == state.host end
  remove(lease, state, stale)
  if host_stale then return nil end
  return state
end

-- A base64 packet within the limits, else refused.
local function packet(value)
  need(type(value) == "string" and #value > 0 and #value <= MAX_PACKET_TEXT)
  local decoded = px.base64.decode(value)
  need(decoded ~= nil and #decoded > 0 and #decoded <= MAX_PACKET)
  return value, decoded
end

-- Open WebUI's answers the caller's request depends on: the channel (with its member ids).
local function authorize(conn, channel)
  need(conn.transport == "websocket" and conn.user ~= nil and openwebui.url ~= nil and openwebui.safe_id(channel))
  local user = conn.user
  need(user.role == "user" or user.role == "admin")
  local token = conn.data.token
  local config = openwebui.get("/api/config", token)
  local features = config and config.status == 200 and type(config.json) == "table" and config.json.features
  need(type(features) == "table" and features.enable_channels == true and features.enable_encrypted_channels == true)
  if user.role ~= "admin" then
    local permissions = type(user.permissions) == "table" and user.permissions.features
    need(type(permissions) == "table" and permissions.channels == true and permissions.encrypted_channels == true)
  end
  -- Never from the cache: membership changes are what this is about.
  local res = openwebui.get("/api/v1/channels/" .. channel, token, { cache_s = 0 })
  need(res and res.status == 200 and type(res.json) == "table")
  local record = res.json
  need(record.type == "dm" or (record.type == "group" and record.is_private == true))
  local member_ids = {}
  for _, id in ipairs(type(record.user_ids) == "table" and record.user_ids or {}) do member_ids[id] = true end
  need(member_ids[user.id])
  return member_ids
end

-- Counts a request against the user's window; refused past it.
local function limit(user_id, action, size)
  local bucket = (action == "start" or action == "join") and "admission" or "traffic"
  local period, maximum = 1, 100
  if bucket == "admission" then period, maximum = 60, 10 end
  local key = "palisade:encryption:rate:" .. px.sha256(user_id .. ":" .. bucket)
  local count = px.store.incr(key .. ":count", period)
  local bytes = px.store.incr(key .. ":bytes", period, size)
  need(count and bytes and count <= maximum and bytes <= MAX_WINDOW_BYTES)
end

-- The channel this socket takes part in, after dropping a participation the state no longer has.
local function current_channel(conn)
  local channel = px.store.hget(LOCAL, conn.id)
  if not channel then return nil end
  local raw = px.store.get(state_key(channel))
  local state = raw and px.json.decode(raw)
  if type(state) == "table" and type(state.members) == "table" then
    for _, member in pairs(state.members) do
      if member.sid == conn.id then return channel end
    end
  end
  px.store.hdel(LOCAL, conn.id)
  return nil
end

local function reserve(action, conn, data, state, lease)
  need(current_channel(conn) == nil)
  local user = conn.user
  if action == "start" then
    need(state == nil)
    local pid = px.uuid()
    state = { channel = lease.channel, session = px.uuid(), host = pid, members = {} }
  else
    need(state and data.session == state.session)
    local count = 0
    for _, member in pairs(state.members) do
      count = count + 1
      need(member.user ~= user.id)
    end
    need(count < MAX_MEMBERS and has_key(state.members[state.host]))
  end
  local pid = action == "start" and state.host or px.uuid()
  state.members[pid] = {
    sid = conn.id, user = user.id, name = user.name or "", key = px.null, seen = px.now(), out = 0,
    admitted = action == "start",
  }
  px.store.hset(LOCAL, conn.id, lease.channel)
  save(lease, state)
  return with_view(state, { ok = true, participation = pid })
end

local function bind(lease, state, pid, member, data)
  need(not has_key(member))
  local key, decoded = packet(data.key)
  need(#decoded == 32)
  member.key = key
  if pid ~= state.host then
    local candidate = packet(data.packet)
    deliver(lease, state, { state.host }, { kind = "candidate", sender = pid, packet = candidate })
  else
    save(lease, state)
    invite(lease.channel, state)
  end
end

local function forward(lease, state, pid, member, data)
  need(has_key(member) and member.admitted == true)
  local body = packet(data.packet)
  if data.kind == "admit" then
    need(pid == state.host)
    local joining = type(data.target) == "string" and state.members[data.target]
    need(joining and has_key(joining) and joining.admitted ~= true)
    local welcome = packet(data.welcome)
    local existing = admitted_except(state, pid)
    joining.admitted = true
    deliver(lease, state, existing, { kind = "mls", sender = pid, packet = body })
    deliver(lease, state, { data.target }, { kind = "welcome", sender = pid, packet = welcome })
  else
    need(data.kind == "mls")
    deliver(lease, state, admitted_except(state, pid), { kind = "mls", sender = pid, packet = body })
  end
end

-- Ends this gateway's participations in `channel` (all of them when nil), after a failure.
local function fail_local(channel)
  local sockets = px.store.hgetall(LOCAL) or {}
  for sid, joined in pairs(sockets) do
    if channel == nil or joined == channel then
      px.store.hdel(LOCAL, sid)
      px.emit(sid, "encryption:event", { kind = "ended", channel = joined })
    end
  end
end

local function act(action, conn, data, state, lease, member_ids)
  state = prune(lease, state, member_ids)
  if action == "status" then
    return { ok = true, available = state ~= nil and has_key(state.members[state.host]), session = state and state.session or px.null }
  end
  if action == "start" or action == "join" then return reserve(action, conn, data, state, lease) end
  need(state and data.session == state.session and px.store.hget(LOCAL, conn.id) == lease.channel)
  local pid = data.participation
  local member = type(pid) == "string" and state.members[pid]
  need(member and member.sid == conn.id and member.user == conn.user.id)
  member.seen = px.now()
  if action == "leave" then
    remove(lease, state, { pid })
    return { ok = true }
  end
  if action == "bind" then
    bind(lease, state, pid, member, data)
  elseif action == "ping" then
    save(lease, state)
  else
    forward(lease, state, pid, member, data)
  end
  return with_view(state, { ok = true })
end

local function handle(action, conn, data)
  local channel = type(data) == "table" and data.channel or nil
  local authorized = false
  local ok, answer = pcall(function()
    need(type(channel) == "string" and #channel > 0 and #channel <= 128)
    local size = px.json.size(data)
    need(size ~= nil and size <= MAX_REQUEST)
    local member_ids = authorize(conn, channel)
    authorized = true
    limit(conn.user.id, action, size)
    return transaction(channel, function(state, lease) return act(action, conn, data, state, lease, member_ids) end)
  end)
  if ok then return answer end
  if answer == Rejected then return { ok = false, error = REJECTED } end
  -- Never logged with the request: it carries packets.
  px.log.warn("encryption relay request failed", { action = action, error = tostring(answer) })
  if authorized then fail_local(channel) end
  return { ok = false, error = ENDED }
end

for _, action in ipairs({ "start", "status", "join", "bind", "packet", "leave", "ping" }) do
  M.events["encryption:" .. action] = function(conn, data, ack)
    reply(ack, handle(action, conn, data))
  end
end

function M.disconnect(conn, reason)
  local channel = px.store.hget(LOCAL, conn.id)
  if not channel then return end
  px.store.hdel(LOCAL, conn.id)
  local ok, err = pcall(transaction, channel, function(state, lease)
    if not state then return end
    for pid, member in pairs(state.members) do
      if member.sid == conn.id then return remove(lease, state, { pid }) end
    end
  end)
  if not ok then
    px.log.warn("encryption relay: ending a participation failed", { error = tostring(err) })
    fail_local(channel)
  end
end

-- The 30 s sweep: prunes the sessions this gateway's sockets take part in.
local last_sweep = 0
function M.tick(now)
  if now - last_sweep < SWEEP_S then return end
  last_sweep = now
  local sockets = px.store.hgetall(LOCAL)
  if not sockets then return end
  local channels = {}
  for _, channel in pairs(sockets) do channels[channel] = true end
  for channel in pairs(channels) do
    local ok = pcall(transaction, channel, function(state, lease)
      if not state then return fail_local(channel) end
      prune(lease, state, nil)
    end)
    if not ok then fail_local(channel) end
  end
end

function M.selftest()
  local state = { channel = "c", session = "s", host = "h", members = {
    b = { sid = "2", user = "u2", name = "B", key = px.null },
    h = { sid = "1", user = "u1", name = "A", key = "k" },
    a = { sid = "3", user = "u3", name = "C", key = "k3" },
  } }
  local ids = participation_ids(state)
  assert(ids[1] == "h" and ids[2] == "a" and ids[3] == "b", "the host first, then by id")
  local shown = view(state)
  assert(#shown.bindings == 2 and shown.bindings[1].identity.participation == "h" and #shown.participants == 3)
  assert(select(2, pcall(packet, "AAAA")) ~= Rejected, "a small packet passes")
  assert(select(2, pcall(packet, "not base64!")) == Rejected and select(2, pcall(packet, "")) == Rejected)
  assert(state_key("c") == "encryption:{" .. px.sha256("c") .. "}")
end

return M

-- 40-validate: the shape and size of every event a client sends.
--
-- Each Open WebUI event (reference §3.1 and §4) has a spec below: the fields it
-- needs, their types and size limits. Fields a spec does not name are allowed
-- (newer clients add some) but bounded together by `max_extra_bytes`, and plugins
-- never relay them (hole 10). Yjs updates must be byte arrays (integers 0–255) or
-- binary attachments within `max_update_bytes` (hole 4; the core then checks that
-- they are well-formed Yjs). The `user_id` and `socket_id` a Yjs payload claims must
-- be the socket's own (hole 5: Open WebUI relayed whatever the client said).
--
-- Events without a spec are refused ("unknown event"). A plugin that handles its
-- own events must have them listed in `extra_events`: this policy cannot see the
-- plugins' `events` tables. Their arguments are only bounded in size.

local px = require "palisade"
local openwebui = require "05-openwebui"

-- A setting from px.config.policy.validate, or its default (see 00-settings).
local setting = require("00-settings").reader("validate")

-- Settings: px.config.policy.validate.<name>
local EXTRA_EVENTS = setting("extra_events", {})                -- events your own plugins handle (refused otherwise)
local MAX_EXTRA_EVENT = setting("max_extra_event_bytes", 65536) -- all arguments of one `extra_events` event
local MAX_ID = setting("max_id_bytes", 128)                     -- ids of users, channels, notes, chats, messages, documents
local MAX_TOKEN = setting("max_token_bytes", 8192)              -- a JWT
local MAX_NAME = setting("max_name_bytes", 256)                 -- model names, user names, `action`
local MAX_UPDATE = setting("max_update_bytes", 1048576)         -- one Yjs document update
local MAX_AWARENESS = setting("max_awareness_bytes", 16384)     -- one awareness update (a cursor and a name)
local MAX_CONTENT = setting("max_content_bytes", 1048576)       -- a note's content snapshot (`data.content`)
local MAX_EXTRA = setting("max_extra_bytes", 1024)              -- unnamed fields of one payload object, together
local MAX_DEPTH = 16                                            -- nesting of any free-form value

local M = {}

local ARRAY = getmetatable(px.array())

local NULL = px.null

-- The JSON size of a key: its bytes and quotes and colon (array indices add a comma).
local function key_size(key)
  if type(key) == "string" then return #key + 4 end
  return 1
end

-- The JSON size of `value`, walked in C; nil once it passes `budget` or nests deeper than
-- MAX_DEPTH (call it as measure(value, budget, MAX_DEPTH)).
local measure = px.json.size

-- Checks: function(value, path, key) → nil when valid, else the error text. The value is
-- `path.key` (or `path` itself when key is nil); `at` joins the two, once per spec path.
-- A missing value (nil) fails unless wrapped in `optional` or `nullable`.
local joined = {} -- path → key → "path.key": spec paths only, so bounded; no concatenation per event
local function at(path, key)
  if key == nil then return path end
  local by_key = joined[path]
  if by_key == nil then
    by_key = {}
    joined[path] = by_key
  end
  local text = by_key[key]
  if text == nil then
    text = path .. "." .. key
    by_key[key] = text
  end
  return text
end

local function optional(check)
  return function(value, path, key)
    if value ~= nil then return check(value, path, key) end
  end
end

local function nullable(check)
  return function(value, path, key)
    if value ~= nil and value ~= NULL then return check(value, path, key) end
  end
end

local function text(max, pattern)
  return function(value, path, key)
    if type(value) ~= "string" then return at(path, key) .. " must be a string" end
    if #value > max then return at(path, key) .. " is longer than " .. max .. " bytes" end
    if pattern and not value:find(pattern) then return at(path, key) .. " has characters ids never have" end
  end
end

-- Ids repeat (a channel's typing indicators): the last 4 096 valid ones skip the pattern match.
local check_id = text(MAX_ID, "^[%w%-_.:@]+$")
local valid_ids, valid_id_count = {}, 0
local function id(value, path, key)
  if valid_ids[value] then return nil end
  local err = check_id(value, path, key)
  if err == nil then
    if valid_id_count >= 4096 then valid_ids, valid_id_count = {}, 0 end
    valid_ids[value] = true
    valid_id_count = valid_id_count + 1
  end
  return err
end

local function boolean(value, path, key)
  if type(value) ~= "boolean" then return at(path, key) .. " must be true or false" end
end

local function one_of(...)
  local allowed, names = {}, table.concat({ ... }, ", ")
  for _, item in ipairs({ ... }) do allowed[item] = true end
  return function(value, path, key)
    if not allowed[value] then return at(path, key) .. " must be one of: " .. names end
  end
end

local function free(max)
  return function(value, path, key)
    if measure(value, max, MAX_DEPTH) == nil then return at(path, key) .. " is larger than " .. max .. " bytes" end
  end
end

-- Bytes: a JSON array of integers 0–255 (Open WebUI's client) or a binary attachment.
local function bytes(max)
  return function(value, path, key)
    if type(value) == "userdata" and value ~= NULL then
      if #value == 0 or #value > max then return at(path, key) .. " must hold 1 to " .. max .. " bytes" end
      return nil
    end
    if type(value) ~= "table" or getmetatable(value) ~= ARRAY then return at(path, key) .. " must be an array of bytes" end
    local count = #value
    if count == 0 or count > max then return at(path, key) .. " must hold 1 to " .. max .. " bytes" end
    local integer = math.type
    for index = 1, count do
      local byte = value[index]
      if integer(byte) ~= "integer" or byte < 0 or byte > 255 then
        return at(path, key) .. "[" .. index .. "] is not a byte"
      end
    end
  end
end

local function object(fields)
  local required = {} -- fields whose check refuses a missing value
  for field, check in pairs(fields) do
    if check(nil, "", field) then required[#required + 1] = field end
  end
  return function(value, path, key)
    local here = at(path, key)
    if type(value) ~= "table" or getmetatable(value) == ARRAY then return here .. " must be an object" end
    local extra = MAX_EXTRA
    for field, item in pairs(value) do
      local check = fields[field]
      if check then
        local err = check(item, here, field)
        if err then return err end
      else
        local size = measure(item, extra - key_size(field), MAX_DEPTH)
        if size == nil then return here .. " has too much in fields it does not know" end
        extra = extra - size - key_size(field)
      end
    end
    for index = 1, #required do
      local field = required[index]
      if value[field] == nil then return at(here, field) .. " is missing" end
    end
  end
end

local token = object({ token = text(MAX_TOKEN) })
local document_id = id
local content = optional(object({ content = optional(free(MAX_CONTENT)) }))

local specs = {
  ["user-join"] = object({ auth = token }),
  ["heartbeat"] = nullable(object({})),
  ["join-channels"] = object({ auth = optional(token) }),
  ["join-note"] = object({ note_id = id, auth = optional(token) }),
  ["events:channel"] = object({
    channel_id = id,
    message_id = nullable(id),
    data = object({ type = one_of("typing", "last_read_at"), data = optional(object({ typing = optional(boolean) })) }),
  }),
  ["events:chat"] = object({
    chat_id = id,
    data = object({ type = one_of("last_read_at", "typing", "join", "leave"), data = optional(object({ typing = optional(boolean) })) }),
  }),
  ["usage"] = object({ model = text(MAX_NAME), action = optional(text(MAX_NAME)), chat_id = optional(text(MAX_ID)) }),
  ["ydoc:document:join"] = object({
    document_id = document_id, user_id = optional(id), user_name = optional(text(MAX_NAME)), user_color = optional(text(32)),
  }),
  ["ydoc:document:state"] = object({ document_id = document_id }),
  ["ydoc:document:update"] = object({
    document_id = document_id, update = optional(bytes(MAX_UPDATE)), user_id = optional(id), socket_id = optional(id), data = content,
  }),
  ["ydoc:document:leave"] = object({ document_id = document_id, user_id = optional(id) }),
  ["ydoc:awareness:update"] = object({ document_id = document_id, update = bytes(MAX_AWARENESS), user_id = optional(id) }),
}

-- The encryption relay's requests (plugins/85-openwebui-encryption.lua): opaque base64
-- packets of up to 1 MiB decoded, and the ids of the relay session.
local RELAY_PACKET = (1048576 + 2) // 3 * 4
local relay_id = optional(text(64))
local relay_request = object({
  channel = text(128), session = relay_id, participation = relay_id, target = relay_id, kind = optional(text(16)),
  key = optional(text(64)), packet = optional(text(RELAY_PACKET)), welcome = optional(text(RELAY_PACKET)),
})
for _, action in ipairs({ "start", "status", "join", "bind", "packet", "leave", "ping" }) do
  specs["encryption:" .. action] = relay_request
end

local extra_events = {}
for _, name in ipairs(EXTRA_EVENTS) do extra_events[name] = true end

-- Checks `args` (the event's arguments) against the event's spec: nil, or the reason.
local function check_event(name, args)
  local spec = specs[name]
  if spec == nil then
    if not extra_events[name] then return "unknown event" end
    if measure(args, MAX_EXTRA_EVENT, MAX_DEPTH) == nil then return "payload too large" end
    return nil
  end
  if #args > 1 or (#args == 0 and name ~= "heartbeat") then return "invalid payload: expects one argument" end
  local payload = args[1]
  local err = spec(payload, "payload", nil)
  if err then return "invalid payload: " .. err end
  if name == "ydoc:document:update" and payload.update == nil and (payload.data == nil or payload.data.content == nil) then
    return "invalid payload: an update needs payload.update or payload.data.content"
  end
  return nil
end

-- Whether an event's name starts with "ydoc:", remembered per name. Only names that passed
-- check_event (a spec or `extra_events`) are asked, so the memo stays as small as the config.
local is_yjs_event = setmetatable({}, {
  __index = function(memo, name)
    local yjs = name:sub(1, 5) == "ydoc:"
    memo[name] = yjs
    return yjs
  end,
})

-- Hole 5 (a Yjs payload naming another user or socket) is closed by the relay, which
-- replaces `user_id` and `socket_id` with the socket's own before anything goes out, as
-- Open WebUI does for awareness. Refusing them here broke the real client, which puts
-- its socket id in awareness `user_id`.
-- Open WebUI's direct connections: a `{user_id}:{session}:{request}` event carries one line of
-- the answer of a model the browser calls itself (reference §3.4). Only the user the name
-- starts with may send one, and it carries one argument: a string or a small object.
local function direct_connection_event(conn, name, args)
  if specs[name] ~= nil or extra_events[name] or is_yjs_event[name] then return nil end
  local user_id = openwebui.stream_owner(name)
  if not user_id then return nil end
  if not conn.user or user_id ~= tostring(conn.user.id) then return "not your stream" end
  local first = args[1]
  if #args ~= 1 or (type(first) ~= "string" and type(first) ~= "table") then return "a stream event carries one line" end
  return false
end

function M.event(conn, name, args)
  local direct = direct_connection_event(conn, name, args)
  if direct ~= nil then
    if direct then return px.deny(direct) end
    return nil
  end
  local why = check_event(name, args)
  if why then return px.deny(why) end
  return nil
end

function M.selftest()
  local function ok(name, ...) return check_event(name, px.array(...)) == nil end
  assert(ok("user-join", { auth = { token = "t" } }))
  assert(not ok("user-join", { auth = { token = 42 } }) and not ok("user-join", {}))
  assert(ok("heartbeat") and ok("heartbeat", {}) and not ok("heartbeat", "x"))
  assert(not ok("nope", {}), "unknown events are refused")
  assert(ok("join-note", { note_id = "n-1" }) and not ok("join-note", { note_id = "../x y" }))
  assert(ok("events:channel", { channel_id = "c", message_id = px.null, data = { type = "typing", data = { typing = true } } }))
  assert(not ok("events:channel", { channel_id = "c", data = { type = "message" } }))
  assert(not ok("events:channel", { channel_id = "c", data = { type = "typing", blob = string.rep("x", MAX_EXTRA + 1) } }))
  assert(ok("ydoc:document:update", { document_id = "note:n", update = px.array(0, 0) }))
  assert(ok("ydoc:document:update", { document_id = "note:n", data = { content = { md = "hi" } } }), "content refresh")
  assert(not ok("ydoc:document:update", { document_id = "note:n" }))
  assert(not ok("ydoc:document:update", { document_id = "note:n", update = px.array(0, 256) }))
  assert(not ok("ydoc:document:update", { document_id = "note:n", update = px.array(0, "1") }))
  assert(not ok("ydoc:document:update", { document_id = "note:n", update = { 0, 0 } }), "an object is not an array")
  assert(not ok("usage", { model = "m" }, { model = "m" }), "one argument only")
  assert(is_yjs_event["ydoc:custom"] and not is_yjs_event["ydoc"] and not is_yjs_event["usage"])
  local me = { user = { id = "u1" } }
  assert(direct_connection_event(me, "u1:s:r", px.array("data: x")) == false)
  assert(direct_connection_event(me, "u2:s:r", px.array("data: x")) == "not your stream")
  assert(direct_connection_event({}, "u1:s:r", px.array("x")) == "not your stream")
  assert(direct_connection_event(me, "u1:s:r", px.array()) ~= false and direct_connection_event(me, "events:chat", {}) == nil)
  assert(direct_connection_event(me, "ydoc:document:join", px.array({})) == nil, "known events are never streams")
  assert(measure({ a = { b = { c = "x" } } }, 100, MAX_DEPTH) ~= nil and measure(string.rep("x", 200), 100, MAX_DEPTH) == nil)
end

return M

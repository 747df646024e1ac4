-- 20-access: who may join, read or write what.
--
-- `authorize(conn, action, resource)` answers for room joins (`{type = "room", id}`)
-- and for reads and writes of any resource (`{type = "note", id}`, a Yjs document
-- `{type = "document", id = "note:abc"}`, or any directory kind). The rules, in order:
--   * the socket's own room is always allowed; anonymous sockets get nothing else;
--   * `user:{id}` rooms are personal: only that user's sockets, admins included;
--   * admins may do everything else;
--   * the owner of a record (`user_id`) may do everything with it;
--   * otherwise Open WebUI's `has_access` on the record's `access_control`:
--     null = everyone may read, {} = owner only, {read = {user_ids, group_ids},
--     write = {...}}; a write grant also lets one read. A record without the
--     field is private. Channels also admit the users whose record lists them.
-- Rooms map to resources: `channel:{id}` and `note:{id}` to those records, and
-- `doc_{document_id}` to the document (`note_x` is normalised to `note:x`, so the
-- old prefix trick cannot skip the check); every document kind is checked, not
-- only notes (hole 3 of the reference, §9).
--
-- With `openwebui.url` set, Open WebUI decides notes and channels, asked with the
-- user's own token: `GET /api/v1/notes/{id}` (read when it
-- answers, write when it says `write_access`) and `GET /api/v1/channels/{id}`
-- (membership or access), and shared chats (`chat:{id}` rooms) through
-- `GET /api/v1/chats/{id}` (write when `chat.share_mode` is "continue"). Open WebUI not
-- answering is a refusal.

local px = require "palisade"

-- A setting from px.config.policy.access, or its default (see 00-settings).
local setting = require("00-settings").reader("access")

-- Settings: px.config.policy.access.<name>
local ADMIN_BYPASS = setting("admin_bypass", true)     -- admins may join, read and write everything but others' user rooms
local UNKNOWN = setting("unknown", "deny")              -- a resource the directory lacks: "deny", or "authenticated" (any user may)
local OPEN_ROOMS = setting("open_rooms", {})            -- room name prefixes any authenticated socket may join (other apps)
-- How long Open WebUI's answer about one note or channel is reused: none by default, so a
-- grant Open WebUI takes away (its `access:updated`) counts at the next check. The relay
-- re-checks an editor's write access at most once a second.
local OPENWEBUI_CACHE_S = setting("openwebui_cache_s", 0)

local openwebui = require "05-openwebui"

local M = {}

local function contains(list, item)
  if type(list) ~= "table" then return false end
  for _, value in ipairs(list) do
    if value == item then return true end
  end
  return false
end

-- Open WebUI's has_access. `in_group(group_id)` says whether the user is a member.
local function has_access(user_id, in_group, action, access_control)
  if access_control == px.null then return action == "read" end
  if type(access_control) ~= "table" then return false end
  local function granted(permission)
    local grant = access_control[permission]
    if type(grant) ~= "table" then return false end
    if contains(grant.user_ids, user_id) then return true end
    for _, group_id in ipairs(type(grant.group_ids) == "table" and grant.group_ids or {}) do
      if in_group(group_id) then return true end
    end
    return false
  end
  return granted(action) or (action == "read" and granted("write"))
end

-- Group membership from the user's identity (its record's `groups`) or from the
-- group record's `user_ids`; looked up only for groups an access list names.
local function group_checker(user)
  return function(group_id)
    if contains(user.groups, group_id) then return true end
    local group = px.directory.get("group", group_id)
    return group ~= nil and contains(group.user_ids, user.id)
  end
end

-- `note_x` → `note:x`; a document id is `kind:id`, its record is `(kind, id)`.
local function document_resource(document_id)
  if document_id:sub(1, 5) == "note_" then document_id = "note:" .. document_id:sub(6) end
  local kind, id = document_id:match("^([^:]+):(.+)$")
  if not kind then return "document", document_id end
  return kind, id
end

-- What joining `room` means: "own", "personal" (with the user id), "open", or a
-- resource kind and id to read; nil for rooms this policy does not know.
local function classify_room(room, conn_id)
  if room == conn_id then return "own" end
  local user_id = room:match("^user:(.+)$")
  if user_id then return "personal", user_id end
  local channel = room:match("^channel:(.+)$")
  if channel then return "channel", channel end
  local note = room:match("^note:(.+)$")
  if note then return "note", note end
  local chat = room:match("^chat:(.+)$")
  if chat then return "chat", chat end
  local document = room:match("^doc_(.+)$")
  if document then return document_resource(document) end
  for _, prefix in ipairs(OPEN_ROOMS) do
    if room:sub(1, #prefix) == prefix then return "open" end
  end
  return nil
end

-- Whether the user's directory record lists the channel. The list is kept as a set for as
-- long as the directory's own cache may keep the record and no record is written meanwhile:
-- `user-join` checks every channel a user is in, and searching the list (thousands, for
-- some) once per channel made that quadratic.
local channel_sets, channel_set_count = {}, 0
local function lists_channel(user_id, channel_id)
  local now, version = px.now(), px.directory.version()
  local memo = channel_sets[user_id]
  if memo == nil or memo.version ~= version or now - memo.at > 1 then
    local record = px.directory.get("user", user_id)
    local set = {}
    if record and type(record.channels) == "table" then
      for _, id in ipairs(record.channels) do set[id] = true end
    end
    if memo == nil then
      if channel_set_count >= 1024 then channel_sets, channel_set_count = {}, 0 end
      channel_set_count = channel_set_count + 1
    end
    memo = { set = set, at = now, version = version }
    channel_sets[user_id] = memo
  end
  return memo.set[channel_id] == true
end

-- The decision for a user on one record: true, or false and why.
local function decide(user, action, kind, id)
  if user.role == "admin" and ADMIN_BYPASS then return true end
  local record, err = px.directory.get(kind, id)
  -- A directory that cannot be read (a shared one while Redis is down) is no answer: refuse.
  if err then return false, "access could not be checked" end
  if not record then
    if UNKNOWN == "authenticated" then return true end
    return false, kind .. " not found"
  end
  if record.user_id ~= nil and record.user_id == user.id then return true end
  if has_access(user.id, group_checker(user), action, record.access_control) then return true end
  if kind == "channel" and lists_channel(user.id, id) then return true end
  return false, "no " .. action .. " access to " .. kind .. " " .. id
end

-- Open WebUI's answer for the kinds it owns: true, or false and why; nil for other kinds.
local openwebui_paths = { note = "/api/v1/notes/", channel = "/api/v1/channels/", chat = "/api/v1/chats/" }
local function ask_openwebui(conn, action, kind, id)
  local path = openwebui_paths[kind]
  if not path then return nil end
  if not openwebui.safe_id(id) then return false, "bad " .. kind .. " id" end
  local res, err = openwebui.get(path .. id, conn.data.token, { cache_s = OPENWEBUI_CACHE_S })
  if not res then
    px.log.warn("Open WebUI did not answer an access check", { kind = kind, error = err })
    return false, "access could not be checked"
  end
  if res.status == 404 then return false, kind .. " not found" end
  if res.status == 401 or res.status == 403 then return false, "no " .. action .. " access to " .. kind .. " " .. id end
  if res.status ~= 200 or type(res.json) ~= "table" then return false, "access could not be checked" end
  if action == "write" and kind == "note" and res.json.write_access ~= true then
    return false, "no write access to note " .. id
  end
  -- A chat: Open WebUI says `share_mode = "continue"` to those who may write in it.
  if action == "write" and kind == "chat" and not (type(res.json.chat) == "table" and res.json.chat.share_mode == "continue") then
    return false, "no write access to chat " .. id
  end
  return true
end

-- Whether `conn` may do `action` on `resource` by these rules: true, or false and why.
local function check(conn, action, resource)
  local kind, id = resource.type, resource.id
  if type(id) ~= "string" then return false, "bad resource" end
  if kind == "room" then
    local what
    what, id = classify_room(id, conn.id)
    if what == "own" then return true end
    if not conn.user then return false, "not authenticated" end
    if what == "personal" then
      if id == conn.user.id then return true end
      return false, "not your room"
    end
    if what == "open" then return true end
    if what == nil then return false, "unknown room" end
    kind, action = what, "read"
  elseif not conn.user then
    return false, "not authenticated"
  elseif kind == "document" then
    kind, id = document_resource(id)
  end
  local ok, why
  if openwebui.url and not (conn.user.role == "admin" and ADMIN_BYPASS) then ok, why = ask_openwebui(conn, action, kind, id) end
  if ok == nil then ok, why = decide(conn.user, action, kind, id) end
  return ok, why
end

function M.authorize(conn, action, resource)
  local ok, why = check(conn, action, resource)
  if ok then return px.allow() end
  return px.deny(why)
end

-- For plugins (60-openwebui-events asks it before relaying chat typing): this module's answer
-- alone, as `true` or `false, why`.
M.may = check

function M.selftest()
  local nobody = function() return false end
  local in_g1 = function(group) return group == "g1" end
  assert(has_access("u", nobody, "read", px.null) and not has_access("u", nobody, "write", px.null), "null = public read")
  assert(not has_access("u", nobody, "read", {}), "{} = owner only")
  local acl = { read = { user_ids = { "r" }, group_ids = { "g1" } }, write = { user_ids = { "w" } } }
  assert(has_access("r", nobody, "read", acl) and not has_access("r", nobody, "write", acl))
  assert(has_access("w", nobody, "write", acl) and has_access("w", nobody, "read", acl), "write implies read")
  assert(has_access("x", in_g1, "read", acl) and not has_access("x", nobody, "read", acl), "groups grant")
  assert(not has_access("u", nobody, "read", nil), "a record without access_control is private")
  assert(select(1, document_resource("note_abc")) == "note" and select(2, document_resource("note_abc")) == "abc")
  assert(select(1, document_resource("sheet:1")) == "sheet" and select(1, document_resource("plain")) == "document")
  assert(classify_room("sid1", "sid1") == "own")
  assert(select(2, classify_room("user:u1", "sid1")) == "u1")
  assert(classify_room("channel:c1", "s") == "channel" and classify_room("note:n1", "s") == "note")
  assert(select(2, classify_room("doc_note_n1", "s")) == "n1", "doc_ rooms use the normalised document id")
  assert(classify_room("lobby", "s") == nil or #OPEN_ROOMS > 0)
end

return M

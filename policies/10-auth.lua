-- 10-auth: who a socket is.
--
-- Open WebUI's client sends its session token (an HS256 JWT with the claims `id`,
-- `exp`, `jti`, `iat`) in the CONNECT auth payload, and again later in `user-join`.
-- A valid token gives the socket an identity: role and name from the directory's
-- user record when there is one, else from the token. A bad or missing token leaves
-- the socket anonymous, as Open WebUI does (its login page keeps that socket and
-- authenticates it with `user-join`), but bounded (hole 1 of the reference, §9):
-- an anonymous socket may only send `user-join`, each IP may open only so many, and
-- one that is still anonymous after the grace period is closed.
--
-- With `openwebui.url` set, Open WebUI is the source of truth for who the user is:
-- `GET /api/v1/auths/` with the user's own token applies Open WebUI's session stamp,
-- MFA and role rules, and answers the role, name and permissions (cached a few
-- seconds; re-asked every RECHECK_S for a live socket, so a session Open WebUI ends
-- closes the socket). Open WebUI unreachable means no identity (fail closed). Without
-- it, the directory's user record is used.
--
-- Other modules use `identify(token)` (the `user-join` plugin does).

local px = require "palisade"

-- A setting from px.config.policy.auth, or its default (see 00-settings).
local setting = require("00-settings").reader("auth")

-- Settings: px.config.policy.auth.<name>
local ALGORITHMS = setting("algorithms", { "HS256" })         -- JWT algorithms accepted (Open WebUI signs HS256)
local LEEWAY_S = setting("leeway_s", 30)                      -- clock skew tolerated on exp, nbf and iat
local ANONYMOUS = setting("anonymous", true)                  -- accept sockets without a valid token (Open WebUI's login page needs it)
local ANONYMOUS_PER_IP = setting("anonymous_per_ip", 20)      -- anonymous sockets one IP may have open at once
local GRACE_S = setting("grace_s", 120)                       -- an anonymous socket still anonymous after this is closed (its client reconnects)
local ANONYMOUS_EVENTS = setting("anonymous_events", { "user-join" }) -- the only events an anonymous socket may send
local REQUIRE_KNOWN_USER = setting("require_known_user", false) -- refuse tokens whose user has no directory record
local TRUST_TOKEN_ROLE = setting("trust_token_role", false)   -- without a record, take `role` from the token instead of "user"
local RECHECK_S = setting("recheck_s", 30)                    -- re-check revocation and the user record at most this often

-- Open WebUI's API (`openwebui.url`); without it, the directory decides.
local openwebui = require "05-openwebui"
-- Repeated refused tokens from one address end in a temporary ban.
local autoban = require "07-autoban"

local M = {}

local function set_of(list)
  local set = {}
  for _, item in ipairs(list) do set[item] = true end
  return set
end

local anonymous_events = set_of(ANONYMOUS_EVENTS)
-- Open WebUI gives sessions to these roles only (`pending` users wait for an admin).
local session_roles = set_of({ "user", "admin" })

-- Open WebUI's rule for `auth:user:{id}:revoked_at`: a token issued at or before
-- that time, or without `iat`, is revoked.
local function revoked_by_time(iat, revoked_at)
  if revoked_at == nil then return false end
  return type(iat) ~= "number" or iat <= revoked_at
end

-- Reads Open WebUI's revocation keys (px.store keys carry the server's prefix, so
-- these are `{prefix}:auth:token:{jti}:revoked` and `{prefix}:auth:user:{id}:revoked_at`).
local function revoked(facts)
  if facts.jti and px.store.get("auth:token:" .. facts.jti .. ":revoked") ~= nil then
    return "token revoked"
  end
  local revoked_at = tonumber(px.store.get("auth:user:" .. facts.id .. ":revoked_at"))
  if revoked_by_time(facts.iat, revoked_at) then return "token revoked" end
  return nil
end

-- The identity of a user from what the token says (`facts`) and the directory's
-- record (or nil). Pure: `options` carries the two settings that matter.
local function shape_identity(facts, record, options)
  local identity = { id = facts.id, name = facts.name or facts.id, role = "user", jti = facts.jti, iat = facts.iat }
  -- The core closes the socket at `expires_at`, idle or not (the token's `exp` and the leeway).
  -- (`facts` is a token's claims, or an identity being re-checked, which has `expires_at` already).
  identity.expires_at = facts.expires_at or (type(facts.exp) == "number" and facts.exp + LEEWAY_S or nil)
  if record then
    if record.disabled == true then return nil, "user disabled" end
    identity.role = record.role
    identity.name = record.name or identity.name
    identity.groups = record.groups
    identity.email = record.email
    identity.permissions = record.permissions
  elseif options.require_known_user then
    return nil, "unknown user"
  elseif options.trust_token_role and facts.role ~= nil then
    identity.role = facts.role
  end
  if not session_roles[identity.role] then return nil, "role " .. tostring(identity.role) .. " has no session" end
  return identity
end

local shape_options = { require_known_user = REQUIRE_KNOWN_USER, trust_token_role = TRUST_TOKEN_ROLE }

-- Open WebUI's own answer for `token` as a user record {role, name, email, permissions},
-- or nil and the reason. Its `token` field is not kept.
local function ask_openwebui(token, id)
  local res, err = openwebui.get("/api/v1/auths/", token)
  if not res then return nil, "Open WebUI unreachable: " .. tostring(err) end
  if res.status == 401 or res.status == 403 then return nil, "session refused by Open WebUI" end
  local user = res.json
  if res.status ~= 200 or type(user) ~= "table" then return nil, "Open WebUI answered " .. tostring(res.status) end
  if tostring(user.id) ~= id then return nil, "Open WebUI names another user" end
  return { role = user.role, name = user.name, email = user.email, permissions = user.permissions }
end

-- The user's record: Open WebUI's answer when it is configured, else the directory's.
local function user_record(token, id)
  if openwebui.url then return ask_openwebui(token, id) end
  return px.directory.get("user", id) or false
end

-- Verifies an Open WebUI token; returns the identity table, or nil and the reason.
function M.identify(token)
  if type(token) ~= "string" or token == "" then return nil, "no token" end
  local claims, err = px.jwt.verify(token, { algorithms = ALGORITHMS, leeway = LEEWAY_S })
  if not claims then return nil, "invalid token: " .. tostring(err) end
  local id = claims.id
  if math.type(id) == "integer" then id = tostring(id) end
  if type(id) ~= "string" or id == "" then return nil, "token has no id" end
  local facts = { id = id, name = claims.name, role = claims.role, jti = claims.jti, iat = claims.iat, exp = claims.exp }
  local why = revoked(facts)
  if why then return nil, why end
  local record, refused = user_record(token, id)
  if record == nil then return nil, refused end
  return shape_identity(facts, record or nil, shape_options)
end

-- Anonymous sockets open now, per IP: a px.store hash per address, sid -> the time the
-- socket's grace period ends. A socket leaves it when it signs in or disconnects; one
-- that vanished without either (its instance died) stops counting when its grace ends.
local function anonymous_key(ip) return "auth:anonymous_open:" .. ip end

-- Takes a place for an anonymous socket from conn.ip; false when the address has
-- ANONYMOUS_PER_IP open (or they cannot be counted: fail closed).
local function open_anonymous(conn)
  local key = anonymous_key(conn.ip)
  local open = px.store.hgetall(key)
  if not open then return false end
  local now, live, ended = px.now(), 0, {}
  for sid, ends in pairs(open) do
    if (tonumber(ends) or 0) > now then live = live + 1 else ended[#ended + 1] = sid end
  end
  if #ended > 0 then px.store.hdel(key, table.unpack(ended)) end
  if live >= ANONYMOUS_PER_IP then return false end
  px.store.hset(key, conn.id, tostring(now + GRACE_S))
  conn.data.anonymous_place = key
  return true
end

local function close_anonymous(conn)
  local key = conn.data.anonymous_place
  if not key then return end
  conn.data.anonymous_place = nil
  px.store.hdel(key, conn.id)
end

function M.authenticate(conn, auth)
  local now = px.now()
  conn.data.connected_at = now
  local token = type(auth) == "table" and auth.token or nil
  if token ~= nil then
    local identity, err = M.identify(token)
    if identity then
      conn.data.auth_checked_at = now
      conn.data.token = token -- kept for re-checks with Open WebUI; never logged or sent
      return identity
    end
    px.log.info("connect token refused", { reason = err, ip = conn.ip })
    autoban.offence("ip", conn.ip, "auth_failure")
  end
  if not ANONYMOUS then return px.deny("authentication required") end
  if not open_anonymous(conn) then
    px.audit("auth.anonymous_cap", { ip = conn.ip })
    return px.deny("too many unauthenticated connections")
  end
  return { anonymous = true }
end

-- For the `user-join` handler: the socket is signed in now, its anonymous place is free.
M.signed_in = close_anonymous

function M.disconnect(conn, reason)
  close_anonymous(conn)
end

-- An anonymous socket gets a core timer: if it has not authenticated (user-join)
-- within GRACE_S, its transport is closed. That is not a Socket.IO DISCONNECT, so
-- socket.io-client reconnects by itself: a login page left open keeps working.
function M.connect(conn)
  if not conn.user then conn:expire_if_anonymous(GRACE_S) end
end

-- Re-reads revocation and the user record for an authenticated socket: a revoked
-- token closes it, a changed record (role, name, groups) replaces its identity.
local function recheck(conn)
  local user = conn.user
  local why = revoked(user)
  if why then return why end
  local record, refused = user_record(conn.data.token, user.id)
  if record == nil then return refused end
  local fresh, err = shape_identity(user, record or nil, shape_options)
  if not fresh then return err end
  if px.json.encode(fresh) ~= px.json.encode(user) then conn:set_user(fresh) end
  return nil
end

-- The grace period is also checked here, at the socket's next event (the timer set
-- in `connect` covers sockets that stay silent).
function M.event(conn, name, args)
  local now = px.now()
  if not conn.user then
    if now - (conn.data.connected_at or now) > GRACE_S then
      px.audit("auth.grace_expired", { ip = conn.ip, sid = conn.id })
      conn:disconnect("authentication timeout")
      return px.drop()
    end
    if not anonymous_events[name] then return px.deny("not authenticated") end
    return nil
  end
  if now - (conn.data.auth_checked_at or 0) >= RECHECK_S then
    conn.data.auth_checked_at = now
    local why = recheck(conn)
    if why then
      px.audit("auth.session_closed", { user_id = conn.user.id, reason = why })
      conn:disconnect(why)
      return px.drop()
    end
  end
  return nil
end

function M.selftest()
  assert(revoked_by_time(100, nil) == false)
  assert(revoked_by_time(nil, 100) == true, "a token without iat is revoked by revoked_at")
  assert(revoked_by_time(100, 100) == true and revoked_by_time(101, 100) == false)
  local facts = { id = "u1", name = "Ann", role = "admin" }
  local plain = { require_known_user = false, trust_token_role = false }
  local identity = assert(shape_identity(facts, nil, plain))
  assert(identity.role == "user" and identity.name == "Ann", "the token's role is not trusted by default")
  identity = assert(shape_identity(facts, nil, { trust_token_role = true }))
  assert(identity.role == "admin")
  assert(shape_identity(facts, nil, { require_known_user = true }) == nil)
  identity = assert(shape_identity(facts, { role = "admin", name = "Ann B", groups = { "g1" } }, plain))
  assert(identity.role == "admin" and identity.name == "Ann B" and identity.groups[1] == "g1")
  assert(shape_identity(facts, { role = "pending" }, plain) == nil, "pending users get no session")
  assert(shape_identity(facts, { role = "user", disabled = true }, plain) == nil, "disabled users get no session")
  assert(shape_identity({ id = "u2" }, nil, plain).name == "u2", "the id stands in for a missing name")
end

return M

-- 05-openwebui: Open WebUI's REST API as the stock profile asks it, when `openwebui.url`
-- is set (px.config.openwebui.url). A library for the other modules; it defines no hook.
--
--   M.url                 the base URL without a trailing slash, or nil (then the
--                         directory decides, as without Open WebUI)
--   M.get(path, token[, options])  GET {url}{path} with the user's own token: the
--                         response, or nil and why; answers are reused for
--                         `options.cache_s` (default `cache_s`) per token
--   M.safe_id(id)         whether an id may go into a URL path as it is

local px = require "palisade"

local setting = require("00-settings").reader("openwebui")

-- Settings: px.config.policy.openwebui.<name>
local CACHE_S = setting("cache_s", 5)     -- how long one answer about who a token's user is (auths) is reused
local TIMEOUT_S = setting("timeout_s", 2) -- the most one question may take (within the hook's deadline)

local M = {}

local configured = px.config.openwebui and px.config.openwebui.url
M.url = configured and (configured:gsub("/+$", "")) or nil

-- Open WebUI's direct-connection stream events are named `{user_id}:{sid}:{request}`: the
-- user id they name, or nil for any other name.
function M.stream_owner(name)
  return name:match("^([^:]+):[^:]+:[^:]+$")
end

function M.safe_id(id)
  return type(id) == "string" and #id <= 128 and id:match("^[%w%-_%.]+$") ~= nil and id ~= "." and id ~= ".."
end

function M.get(path, token, options)
  if not M.url then return nil, "openwebui.url is not set" end
  if type(token) ~= "string" or token == "" then return nil, "no token to ask Open WebUI with" end
  local cache_s = CACHE_S
  if options and options.cache_s ~= nil then cache_s = options.cache_s end
  return px.http.get(M.url .. path, {
    headers = { Authorization = "Bearer " .. token },
    cache_s = cache_s,
    timeout_s = TIMEOUT_S,
  })
end

function M.selftest()
  assert(M.safe_id("3f1c-aa_b.c") and not M.safe_id("a/b") and not M.safe_id("..") and not M.safe_id("a?b"))
  assert(not M.safe_id(string.rep("a", 129)) and not M.safe_id(42))
  assert(M.stream_owner("u1:s:r") == "u1" and M.stream_owner("events:chat") == nil and M.stream_owner("a:b:c:d") == nil)
end

return M

-- 00-settings: how the stock modules read their settings.
--
-- `require("00-settings").reader("auth")` gives `setting(key, default)`, which reads
-- PALISADE_POLICY_AUTH_<KEY> (px.config.policy_env, by its exact name, so keys with `_`
-- work whether or not the config file has them), else px.config.policy.auth.<key> (the
-- config file's `policy` section), and falls back to `default`. Text from the environment
-- is converted to the default's type: numbers, booleans, and comma lists for tables.
-- A dotted section reads a nested table: `reader("ratelimit.events")` reads
-- px.config.policy.ratelimit.events.<key>.

local px = require "palisade"

local M = {}

local function convert(value, default)
  if value == nil or value == px.null then return default end
  if type(default) == "number" then return tonumber(value) or default end
  if type(default) == "boolean" then return value == true or value == "true" end
  if type(default) == "table" and type(value) == "string" then
    local list = {}
    for item in value:gmatch("[^,%s]+") do list[#list + 1] = item end
    return list
  end
  return value
end

-- The table at `section` ("auth", "ratelimit.events") under px.config.policy, or nil.
local function section_table(section)
  local config = px.config.policy
  for name in section:gmatch("[^.]+") do
    if type(config) ~= "table" then return nil end
    config = config[name]
  end
  return type(config) == "table" and config or nil
end

-- The environment cannot say which `_` of a name separates levels: with no such key in the
-- config file, PALISADE_POLICY_AUTH_GRACE_S arrives as auth.grace.s, not auth.grace_s. A key
-- with `_` is therefore also looked for along that nested path.
local function lookup(config, key)
  local value = config[key]
  if value ~= nil or not key:find("_", 1, true) then return value end
  local node = config
  for word in key:gmatch("[^_]+") do
    if type(node) ~= "table" then return nil end
    node = node[word]
  end
  return node
end

-- The PALISADE_POLICY_* variable of section.key, by its exact name.
local function from_environment(section, key)
  local env = px.config.policy_env
  if type(env) ~= "table" then return nil end
  return env[(section:gsub("%.", "_") .. "_" .. key):upper()]
end

function M.reader(section)
  local config = section_table(section) or {}
  return function(key, default)
    local value = from_environment(section, key)
    if value == nil then value = lookup(config, key) end
    return convert(value, default)
  end
end

function M.selftest()
  assert(convert(nil, 3) == 3 and convert(px.null, 3) == 3)
  assert(convert("7", 3) == 7 and convert("x", 3) == 3)
  assert(convert("true", false) == true and convert(false, true) == false)
  local list = convert("a, b", {})
  assert(#list == 2 and list[1] == "a" and list[2] == "b")
  assert(M.reader("no.such.section")("key", 5) == 5)
  assert(lookup({ grace = { s = "7" } }, "grace_s") == "7", "an environment key split at every _")
  assert(lookup({ grace_s = 3, grace = { s = 7 } }, "grace_s") == 3, "the key as written wins")
  assert(lookup({ grace = 5 }, "grace_s") == nil)
end

return M

-- 80-openwebui-notes: keeps the latest content snapshot of each collaborative document.
--
-- Open WebUI's note editor sends, with its Yjs updates, `data.content` = {md, html, json}:
-- the note as the browser renders it. The core's Yjs relay checks the sender may write,
-- waits `yjs.content_debounce_s` (0.5 s) for a newer snapshot (last writer wins), then
-- calls `document_content(conn, document_id, content)`. This module keeps that snapshot
-- in the directory as `document_content/{document_id}`:
--   {document_id, content, user_id, updated_at}
-- so the app (or an operator) reads it with GET /admin/v1/directory/document_content/{id}.
-- The CRDT itself is stored by the core; this is the rendered copy for the app.
--
-- With `openwebui.url` set, a note's snapshot goes to Open WebUI instead, as its own
-- socket server saves it: `POST /api/v1/notes/{id}/update` {data = {content}} with the
-- writer's own token (Open WebUI re-checks the write access and merges `data` into the
-- note). Unlike its socket server's save, that endpoint also emits `events:note` to the
-- note's room.
--
-- `document_seed(conn, document_id)`: when a socket joins a document that has no update
-- yet, the content it is seeded from, as Open WebUI 0.12.4's `content` in the join's
-- `ydoc:document:state`: the note's saved `data.content` from `GET /api/v1/notes/{id}`
-- (with the joiner's token), or without Open WebUI the directory's snapshot; nil when none.

local px = require "palisade"

local setting = require("00-settings").reader("notes")

-- Settings: px.config.policy.notes.<name>
local MAX_CONTENT_BYTES = setting("max_content_bytes", 4194304) -- snapshots larger than this (as JSON) are not kept

local openwebui = require "05-openwebui"

local M = {}

-- Saves a note's content in Open WebUI with the writer's token.
local function save_in_openwebui(conn, note_id, content)
  if not openwebui.safe_id(note_id) then return end
  local res, err = px.http.request({
    method = "POST", url = openwebui.url .. "/api/v1/notes/" .. note_id .. "/update",
    headers = { Authorization = "Bearer " .. tostring(conn.data.token) }, json = { data = { content = content } },
  })
  if not res or res.status ~= 200 then
    px.log.warn("saving a note's content in Open WebUI failed", { note_id = note_id, error = err, status = res and res.status })
  end
end

function M.document_content(conn, document_id, content)
  local text = px.json.encode(content)
  if #text > MAX_CONTENT_BYTES then
    px.log.warn("content snapshot too large; not kept", { document = document_id, bytes = #text })
    return
  end
  local note_id = document_id:match("^note:(.+)$")
  if openwebui.url and note_id and conn.data.token then return save_in_openwebui(conn, note_id, content) end
  local ok, err = px.directory.put("document_content", document_id, {
    document_id = document_id,
    content = content,
    user_id = conn.user and conn.user.id or px.null,
    updated_at = px.now(),
  })
  if ok == nil then
    px.log.error("keeping a content snapshot failed", { document = document_id, error = err })
  end
end

function M.document_seed(conn, document_id)
  local note_id = document_id:match("^note:(.+)$")
  if openwebui.url then
    if not note_id or not openwebui.safe_id(note_id) or not conn.data.token then return nil end
    local res = openwebui.get("/api/v1/notes/" .. note_id, conn.data.token, { cache_s = 0 })
    local data = res and res.status == 200 and type(res.json) == "table" and res.json.data
    local content = type(data) == "table" and data.content
    return type(content) == "table" and content or nil
  end
  local record = px.directory.get("document_content", document_id)
  return record and type(record.content) == "table" and record.content or nil
end

function M.selftest()
  assert(type(MAX_CONTENT_BYTES) == "number" and MAX_CONTENT_BYTES > 0)
end

return M

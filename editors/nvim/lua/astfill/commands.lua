-- :AstfillFill, :AstfillToggle and :AstfillStatus.
local compat = require("astfill.compat")
local daemon = require("astfill.daemon")
local suggestion = require("astfill.suggestion")

local M = {}

local function _echo(lines, hl)
  local chunks = {}
  for i, l in ipairs(lines) do
    table.insert(chunks, { l .. (i < #lines and "\n" or ""), hl or "Normal" })
  end
  vim.api.nvim_echo(chunks, true, {})
end

---@return table|nil client, or nil after saying why
---The number of text edits in a WorkspaceEdit.
---@param edit table
---@return integer
local function _edit_count(edit)
  local n = 0
  for _, edits in pairs(edit.changes or {}) do n = n + #edits end
  for _, change in ipairs(edit.documentChanges or {}) do n = n + (change.edits and #change.edits or 1) end
  return n
end

local function _client_or_say(bufnr)
  local client = daemon.client(bufnr)
  if not client then
    _echo({ "astfill: no daemon for this buffer (its filetype is not in setup{filetypes}, or it is still starting)" },
          "WarningMsg")
  end
  return client
end

---Fills the body at the cursor (a `pass`, `...`, TODO or empty block) with
---astfill.fill and applies the WorkspaceEdit it returns.
function M.fill()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = _client_or_say(bufnr)
  if not client then return end
  local encoding = client.offset_encoding or "utf-16"
  local c = vim.api.nvim_win_get_cursor(0)
  local line = vim.api.nvim_buf_get_lines(bufnr, c[1] - 1, c[1], false)[1] or ""
  local args = { textDocument = { uri = vim.uri_from_bufnr(bufnr) },
                 position = { line = c[1] - 1, character = compat.units(line:sub(1, c[2]), encoding) } }
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  _echo({ "astfill: filling..." })
  compat.request(client, "workspace/executeCommand", { command = "astfill.fill", arguments = { args } },
    function(err, result)
      local ok, e = pcall(function()
        if err then
          _echo({ "astfill: fill failed: " .. tostring(err.message or err) }, "ErrorMsg")
        elseif type(result) ~= "table" or _edit_count(result) == 0 then
          _echo({ "astfill: nothing to fill here" }, "WarningMsg")
        elseif vim.api.nvim_buf_get_changedtick(bufnr) ~= tick then
          _echo({ "astfill: the buffer changed while filling; not applied" }, "WarningMsg")
        else
          vim.lsp.util.apply_workspace_edit(result, encoding)
          _echo({ "astfill: filled" })
        end
      end)
      if not ok then _echo({ "astfill: applying the fill: " .. tostring(e) }, "ErrorMsg") end
    end, bufnr)
end

---Turns suggestions off or on, here and in every daemon (astfill.enable).
---@param on boolean|nil nil toggles
function M.toggle(on)
  if on == nil then on = not suggestion.enabled end
  suggestion.enabled = on
  if not on then
    for _, b in ipairs(vim.api.nvim_list_bufs()) do suggestion.reset(b) end
  end
  daemon.push_settings({ enable = on })
  _echo({ "astfill: suggestions " .. (on and "on" or "off") })
end

---The daemon's astfill.status for a buffer, synchronously.
---@param bufnr integer|nil
---@param timeout_ms integer|nil
---@return table|nil status, string|nil error
function M.status(bufnr, timeout_ms)
  local client = daemon.client(bufnr)
  if not client then return nil, "no astfill daemon for this buffer" end
  local resp, why = compat.request_sync(client, "workspace/executeCommand",
                                        { command = "astfill.status", arguments = {} }, timeout_ms or 3000, bufnr)
  if not resp then return nil, "astfill.status: " .. tostring(why or "no answer") end
  if resp.err then return nil, "astfill.status: " .. tostring(resp.err.message or resp.err) end
  return resp.result
end

---Lines describing a status: version, model, indexes, settings.
---@param s table
---@return string[]
function M.describe(s)
  local lines = {}
  table.insert(lines, ("astfill %s, %s, suggestions %s"):format(
    tostring(s.version), tostring(s.positionEncoding),
    (s.settings and s.settings.enable == false or not suggestion.enabled) and "off" or "on"))
  table.insert(lines, ("model: %s (%s)"):format(s.model == vim.NIL and "none" or tostring(s.model),
                                               tostring(s.modelState)))
  local indexes = type(s.indexes) == "table" and s.indexes or {}
  if #indexes == 0 then table.insert(lines, "index: none") end
  for _, ix in ipairs(indexes) do
    local folder = type(ix.folder) == "string" and vim.uri_to_fname(ix.folder) or tostring(ix.folder)
    local pct = type(ix.percentage) == "number" and (" " .. ix.percentage .. "%") or ""
    local msg = (type(ix.message) == "string" and ix.message ~= "") and (" (" .. ix.message .. ")") or ""
    table.insert(lines, ("index %s: %s%s%s"):format(folder, tostring(ix.state), pct, msg))
  end
  table.insert(lines, ("documents open: %d, requests in flight: %s"):format(
    type(s.documents) == "table" and #s.documents or 0, tostring(s.requestsInFlight)))
  return lines
end

---The daemon's local statistics of suggestions (astfill.stats, docs/stats.md).
---@param bufnr integer|nil
---@param since string|nil "7d", "12h", ... (nil: everything kept)
---@return table|nil stats, string|nil error
function M.stats(bufnr, since, timeout_ms)
  local client = daemon.client(bufnr)
  if not client then return nil, "no astfill daemon for this buffer" end
  local resp, why = compat.request_sync(client, "workspace/executeCommand",
                                        { command = "astfill.stats", arguments = since and { { since = since } } or {} },
                                        timeout_ms or 3000, bufnr)
  if not resp then return nil, "astfill.stats: " .. tostring(why or "no answer") end
  if resp.err then return nil, "astfill.stats: " .. tostring(resp.err.message or resp.err) end
  return resp.result
end

local function _stats_line(label, g)
  return ("%-14s %6d requests, %5.1f%% of %d shown accepted, %d chars / %d lines accepted, p50 %d ms, p95 %d ms, "
          .. "%4.1f%% empty, %4.1f%% cancelled"):format(label, g.suggestions or 0, 100 * (g.acceptanceRate or 0),
    g.shown or 0, g.acceptedChars or 0, g.acceptedLines or 0, g.latencyP50Ms or 0, g.latencyP95Ms or 0,
    100 * (g.emptyShare or 0), 100 * (g.cancelledShare or 0))
end

---Lines describing statistics: all, then by language and by model.
---@param s table
---@return string[]
function M.describe_stats(s)
  local lines = { "astfill suggestions (local statistics, " .. tostring(s.store) .. ")" }
  table.insert(lines, _stats_line("all", s.all or {}))
  for _, g in ipairs(s.byLanguage or {}) do table.insert(lines, _stats_line(tostring(g.language), g)) end
  for _, g in ipairs(s.byModel or {}) do
    table.insert(lines, _stats_line(g.model == "" and "(no model)" or tostring(g.model), g))
  end
  return lines
end

---:AstfillStats [since]
function M.print_stats(since)
  local bufnr = vim.api.nvim_get_current_buf()
  if not _client_or_say(bufnr) then return end
  local s, err = M.stats(bufnr, since)
  if not s then
    _echo({ "astfill: " .. err }, "ErrorMsg")
    return
  end
  _echo(M.describe_stats(s))
end

---:AstfillStatus
function M.print_status()
  local bufnr = vim.api.nvim_get_current_buf()
  if not _client_or_say(bufnr) then return end
  local s, err = M.status(bufnr)
  if not s then
    _echo({ "astfill: " .. err }, "ErrorMsg")
    return
  end
  _echo(M.describe(s))
end

return M

-- Inline suggestions: asking the daemon (textDocument/inlineCompletion) as you
-- type, with a debounce and cancellation of the previous request; keeping the
-- answer while what you type matches it; accepting it whole, by word or by
-- line; cycling and dismissing. One state table per buffer.
local compat = require("astfill.compat")
local config = require("astfill.config")
local daemon = require("astfill.daemon")
local ghost = require("astfill.ghost")

local M = {}

M.enabled = true

---@class AstfillItem
---@field text string        what to insert at the origin
---@field suffix_len integer bytes after the cursor that accepting it replaces
---@field id string|nil       the daemon's id for it (local statistics, docs/stats.md)

---@class AstfillState
---@field timer userdata|nil
---@field retry userdata|nil   asks again while the daemon initialises
---@field waits integer|nil   how many times it has asked again
---@field request table|nil    {client, id, tick, row, col}
---@field items AstfillItem[]|nil
---@field index integer
---@field origin integer[]|nil {row, col} where the items start
---@field last table|nil       {tick, row, col} at the last event
---@field shown table|nil      {client, id, typed, acted}: the suggestion reported shown,
---                            whose outcome is reported when it goes away

---@type table<integer, AstfillState>
local states = {}

-- While the daemon initialises, a request is retried this often, this many times.
local INIT_WAIT_MS = 50
local MAX_INIT_WAITS = 200

local function _log_error(what, err)
  vim.notify("astfill: " .. what .. ": " .. tostring(err), vim.log.levels.ERROR)
end

---@return integer row 0-based, integer col byte
local function _cursor()
  local c = vim.api.nvim_win_get_cursor(0)
  return c[1] - 1, c[2]
end

local function _in_insert_mode()
  return vim.api.nvim_get_mode().mode:sub(1, 1) == "i"
end

---The text between `origin` and the cursor, or nil if the cursor is before it.
---@return string|nil
local function _typed(bufnr, origin, row, col)
  if row < origin[1] or (row == origin[1] and col < origin[2]) then return nil end
  local lines = vim.api.nvim_buf_get_lines(bufnr, origin[1], row + 1, false)
  if #lines ~= row - origin[1] + 1 then return nil end
  if #lines == 1 then return lines[1]:sub(origin[2] + 1, col) end
  lines[1] = lines[1]:sub(origin[2] + 1)
  lines[#lines] = lines[#lines]:sub(1, col)
  return table.concat(lines, "\n")
end

---The item shown and the part of it not typed yet, or nil.
---@return AstfillItem|nil, string|nil
local function _current(bufnr)
  local st = states[bufnr]
  if not st or not st.items or bufnr ~= vim.api.nvim_get_current_buf() then return nil end
  local row, col = _cursor()
  local typed = _typed(bufnr, st.origin, row, col)
  if not typed then return nil end
  local n = #st.items
  for k = 0, n - 1 do
    local i = (st.index - 1 + k) % n + 1
    local item = st.items[i]
    if #item.text > #typed and item.text:sub(1, #typed) == typed then
      st.index = i
      return item, item.text:sub(#typed + 1)
    end
  end
  return nil
end

---Reports what happened to a suggestion (astfill/suggestionEvent, docs/stats.md).
local function _report(client, id, kind, text)
  if not client or not id then return end
  local params = { id = id, kind = kind }
  if text then
    params.acceptedChars = #text
    params.acceptedLines = select(2, text:gsub("\n", "")) + 1
  end
  pcall(compat.notify, client, "astfill/suggestionEvent", params)
end

---The suggestion shown goes away: typed over if the user typed part of it by
---hand, else dismissed, unless it was accepted (whole or partly).
local function _report_gone(st)
  local shown = st and st.shown
  if not shown then return end
  st.shown = nil
  if shown.acted then return end
  _report(shown.client, shown.id, shown.typed and "typedOver" or "dismissed")
end

---Forgets the suggestion and hides it.
function M.reset(bufnr)
  local st = states[bufnr]
  if st then
    _report_gone(st)
    st.items = nil
  end
  ghost.clear(bufnr)
end

---Stops the debounce timer and cancels the request in flight.
local function _cancel(bufnr)
  local st = states[bufnr]
  if not st then return end
  if st.timer then st.timer:stop() end
  if st.retry then st.retry:stop() end
  if st.request then
    pcall(compat.cancel_request, st.request.client, st.request.id)
    st.request = nil
  end
end

---Draws what is left of the suggestion at the cursor, or clears it.
local function _refresh(bufnr, accepting)
  local item, rest = _current(bufnr)
  if not rest then
    M.reset(bufnr)
    return
  end
  local st = states[bufnr]
  if st.shown and not accepting and item.id == st.shown.id and #rest < #item.text then st.shown.typed = true end
  local row, col = _cursor()
  ghost.show(bufnr, row, col, rest)
end

---Turns an InlineCompletionList (or item array) into items that start at the
---cursor, dropping those that do not.
---@return AstfillItem[]
local function _normalize(bufnr, req, result, encoding)
  local list = type(result) == "table" and (result.items or result) or {}
  local line = vim.api.nvim_buf_get_lines(bufnr, req.row, req.row + 1, false)[1] or ""
  local out, seen = {}, {}
  for _, item in ipairs(list) do
    local text = item.insertText
    if type(text) == "table" then text = text.value end
    local suffix_len = 0
    if type(text) == "string" and item.range then
      local s, e = item.range.start, item.range["end"]
      if s.line ~= req.row or e.line ~= req.row then
        text = nil
      else
        local scol = compat.byte_col(line, s.character, encoding)
        local prefix = line:sub(scol + 1, req.col)
        if scol > req.col or text:sub(1, #prefix) ~= prefix then
          text = nil
        else
          text = text:sub(#prefix + 1)
          suffix_len = math.max(0, compat.byte_col(line, e.character, encoding) - req.col)
        end
      end
    end
    if type(text) == "string" then
      text = text:gsub("\r\n", "\n")
      if text ~= "" and not seen[text] then
        seen[text] = true
        local command = type(item.command) == "table" and item.command or {}
        local id = command.command == "astfill.suggestionAccepted" and type(command.arguments) == "table"
            and command.arguments[1] or nil
        table.insert(out, { text = text, suffix_len = suffix_len, id = type(id) == "string" and id or nil })
      end
    end
  end
  return out
end

local function _on_response(bufnr, req, err, result)
  local st = states[bufnr]
  if not st or st.request ~= req then return end -- superseded or cancelled
  st.request = nil
  if err then return end -- cancelled, content modified, or a failure the daemon logs
  if not vim.api.nvim_buf_is_valid(bufnr) or bufnr ~= vim.api.nvim_get_current_buf() or not _in_insert_mode() then
    return
  end
  local row, col = _cursor()
  if vim.api.nvim_buf_get_changedtick(bufnr) ~= req.tick or row ~= req.row or col ~= req.col then return end
  local items = _normalize(bufnr, req, result, req.client.offset_encoding or "utf-16")
  if #items == 0 then
    M.reset(bufnr)
    return
  end
  _report_gone(st)
  st.items, st.index, st.origin = items, 1, { row, col }
  if items[1].id then
    st.shown = { client = req.client, id = items[1].id }
    _report(req.client, items[1].id, "shown")
  end
  _refresh(bufnr)
end

---Asks the daemon for suggestions at the cursor now.
---@param trigger_kind integer 1 invoked, 2 automatic
local function _request(bufnr, trigger_kind)
  local st = states[bufnr]
  if not st or not M.enabled or bufnr ~= vim.api.nvim_get_current_buf() or not _in_insert_mode() then return end
  local client = daemon.client(bufnr)
  if not client then return end
  if not client.initialized then
    -- The daemon is still starting: ask again once it can answer, rather
    -- than dropping what was typed before (bounded: a daemon that never
    -- starts is reported by its own error, not retried forever).
    st.waits = (st.waits or 0) + 1
    if st.waits <= MAX_INIT_WAITS then
      st.retry = st.retry or vim.loop.new_timer()
      st.retry:start(INIT_WAIT_MS, 0, vim.schedule_wrap(function()
        local ok, e = pcall(_request, bufnr, trigger_kind)
        if not ok then _log_error("requesting a suggestion", e) end
      end))
    end
    return
  end
  st.waits = 0
  _cancel(bufnr)
  local row, col = _cursor()
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local encoding = client.offset_encoding or "utf-16"
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = row, character = compat.units(line:sub(1, col), encoding) },
    context = { triggerKind = trigger_kind },
  }
  local req = { client = client, tick = vim.api.nvim_buf_get_changedtick(bufnr), row = row, col = col }
  local ok, id = compat.request(client, "textDocument/inlineCompletion", params, function(err, result)
    local fine, e = pcall(_on_response, bufnr, req, err, result)
    if not fine then _log_error("showing a suggestion", e) end
  end, bufnr)
  if ok and id then
    req.id = id
    st.request = req
  end
end

---Asks after the debounce, cancelling the timer and request before it.
local function _schedule(bufnr, trigger_kind)
  local st = states[bufnr]
  if not st then return end
  _cancel(bufnr)
  st.timer = st.timer or vim.loop.new_timer()
  st.timer:start(config.options.debounce_ms, 0, vim.schedule_wrap(function()
    local ok, e = pcall(_request, bufnr, trigger_kind)
    if not ok then _log_error("requesting a suggestion", e) end
  end))
end

---InsertEnter, TextChangedI/P, CursorMovedI.
local function _on_event(bufnr, event)
  local st = states[bufnr]
  if not st then return end
  if not M.enabled then
    M.reset(bufnr)
    return
  end
  local row, col = _cursor()
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local last = st.last
  st.last = { tick = tick, row = row, col = col }
  if event ~= "InsertEnter" and last and last.tick == tick and last.row == row and last.col == col then
    return -- the same change, seen by a second event
  end
  if event == "InsertEnter" or (last and last.tick == tick) then
    M.reset(bufnr) -- the cursor moved without typing
  else
    _refresh(bufnr) -- typed: keep what still matches
  end
  if config.options.auto_trigger then
    _schedule(bufnr, 2)
  else
    _cancel(bufnr)
  end
end

---@return boolean whether a suggestion is shown in the buffer
function M.visible(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return _current(bufnr) ~= nil
end

---The text of the suggestion not typed yet, or nil.
---@return string|nil
function M.current(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local _, rest = _current(bufnr)
  return rest
end

---The next word of `s`: leading blanks and a run of word characters or of
---other characters; a line break with the next line's indentation.
---@param s string
---@return string
function M._next_word(s)
  return s:match("^[ \t]*[%w_\128-\255]+") or s:match("^[ \t]*[^%w_\128-\255%s]+")
      or s:match("^[ \t]*\n[ \t]*") or s:match("^%s+") or s
end

---The rest of the first line of `s`; when `s` starts with a line break, that
---line break and the next line.
---@param s string
---@return string
function M._next_line(s)
  local nl = s:find("\n", 1, true)
  if not nl then return s end
  if nl > 1 then return s:sub(1, nl - 1) end
  return "\n" .. s:sub(2):match("^[^\n]*")
end

---Inserts the suggestion (or its next word or line) at the cursor.
---@param what string|nil "all" (default), "word" or "line"
---@return boolean whether anything was inserted
function M.accept(what)
  local bufnr = vim.api.nvim_get_current_buf()
  local item, rest = _current(bufnr)
  if not item or not rest then return false end
  what = what or "all"
  local piece = what == "word" and M._next_word(rest) or what == "line" and M._next_line(rest) or rest
  local row, col = _cursor()
  local end_col = col
  if piece == rest and item.suffix_len > 0 then
    local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
    end_col = math.min(col + item.suffix_len, #line)
  end
  local st = states[bufnr]
  if st.shown and st.shown.id == item.id then
    st.shown.acted = true
    if piece == rest then
      _report(st.shown.client, item.id, "accepted", item.text)
    else
      _report(st.shown.client, item.id, what == "line" and "acceptedLine" or "acceptedWord", piece)
    end
  end
  local lines = vim.split(piece, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row, col, row, end_col, lines)
  local new_row = row + #lines - 1
  local new_col = (#lines == 1 and col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { new_row + 1, new_col })
  if piece == rest then
    M.reset(bufnr)
  else
    _refresh(bufnr, true)
  end
  return true
end

---Shows the next (step 1) or previous (step -1) suggestion.
function M.cycle(step)
  local bufnr = vim.api.nvim_get_current_buf()
  local st = states[bufnr]
  if not st or not st.items or not M.visible(bufnr) then
    M.trigger()
    return
  end
  local row, col = _cursor()
  local typed = _typed(bufnr, st.origin, row, col) or ""
  local n = #st.items
  for k = 1, n - 1 do
    local i = (st.index - 1 + k * step) % n + 1
    local text = st.items[i].text
    if #text > #typed and text:sub(1, #typed) == typed then
      st.index = i
      break
    end
  end
  _refresh(bufnr)
end

---Hides the suggestion and cancels the request in flight.
function M.dismiss()
  local bufnr = vim.api.nvim_get_current_buf()
  _cancel(bufnr)
  M.reset(bufnr)
end

---Asks for a suggestion now (an invoked request: triggerKind 1).
function M.trigger()
  local bufnr = vim.api.nvim_get_current_buf()
  if not states[bufnr] then return end
  local ok, e = pcall(_request, bufnr, 1)
  if not ok then _log_error("requesting a suggestion", e) end
end

---Runs a keymap's action (called through <Cmd> from the expr mapping, where
---the buffer may change).
---@param action string
function M._do(action)
  local ok, e = pcall(function()
    if action == "accept" then M.accept("all")
    elseif action == "accept_word" then M.accept("word")
    elseif action == "accept_line" then M.accept("line")
    elseif action == "next" then M.cycle(1)
    elseif action == "prev" then M.cycle(-1)
    elseif action == "dismiss" then M.dismiss()
    elseif action == "trigger" then M.trigger()
    end
  end)
  if not ok then _log_error(action, e) end
end

-- Actions that fall back to the key itself when nothing is shown.
local needs_suggestion = { accept = true, accept_word = true, accept_line = true, dismiss = true }

local function _map_keys(bufnr)
  for action, lhs in pairs(config.options.keymaps or {}) do
    if lhs then
      vim.keymap.set("i", lhs, function()
        if needs_suggestion[action] and not M.visible(bufnr) then return lhs end
        return "<Cmd>lua require('astfill.suggestion')._do('" .. action .. "')<CR>"
      end, { buffer = bufnr, expr = true, silent = true, desc = "astfill: " .. action })
    end
  end
end

---Starts showing suggestions in the buffer (once per buffer).
---@param bufnr integer
function M.attach(bufnr)
  if states[bufnr] then return end
  states[bufnr] = { index = 1 }
  local group = vim.api.nvim_create_augroup("astfill_buffer_" .. bufnr, { clear = true })
  local function on(events, fn)
    vim.api.nvim_create_autocmd(events, { group = group, buffer = bufnr, callback = function(args)
      local ok, e = pcall(fn, args)
      if not ok then _log_error(args.event, e) end
    end })
  end
  on({ "InsertEnter", "TextChangedI", "TextChangedP", "CursorMovedI" }, function(args)
    _on_event(bufnr, args.event)
  end)
  on({ "InsertLeave", "BufLeave" }, function()
    _cancel(bufnr)
    M.reset(bufnr)
  end)
  on({ "BufUnload" }, function() M.detach(bufnr) end)
  _map_keys(bufnr)
end

---@param bufnr integer
function M.detach(bufnr)
  local st = states[bufnr]
  if not st then return end
  _cancel(bufnr)
  if st.timer then st.timer:close() end
  if st.retry then st.retry:close() end
  states[bufnr] = nil
  pcall(vim.api.nvim_del_augroup_by_name, "astfill_buffer_" .. bufnr)
  ghost.clear(bufnr)
end

---@return boolean
function M.attached(bufnr)
  return states[bufnr] ~= nil
end

return M

-- Differences between Neovim 0.7 and the current release, in one place: the
-- rest of the plugin calls these instead of feature-testing on its own.
local M = {}

---@param version string like "0.10"
---@return boolean
function M.has(version)
  return vim.fn.has("nvim-" .. version) == 1
end

-- Client methods became colon-called (client:request) in 0.11; the dot form is
-- deprecated there.
local colon = M.has("0.11")

---@param client table
---@param method string
---@param params table|nil
---@param handler function
---@param bufnr integer|nil
---@return boolean ok, integer|nil request_id
function M.request(client, method, params, handler, bufnr)
  if colon then return client:request(method, params, handler, bufnr) end
  return client.request(method, params, handler, bufnr)
end

---@return table|nil response {err=, result=}, string|nil why
function M.request_sync(client, method, params, timeout_ms, bufnr)
  if colon then return client:request_sync(method, params, timeout_ms, bufnr) end
  return client.request_sync(method, params, timeout_ms, bufnr)
end

function M.notify(client, method, params)
  if colon then return client:notify(method, params) end
  return client.notify(method, params)
end

function M.cancel_request(client, id)
  if colon then return client:cancel_request(id) end
  return client.cancel_request(id)
end

function M.is_stopped(client)
  if colon then return client:is_stopped() end
  return client.is_stopped()
end

function M.stop(client, force)
  if colon then return client:stop(force) end
  return client.stop(force)
end

---Every running client called `name`, optionally only those attached to bufnr.
---@param name string
---@param bufnr integer|nil
---@return table[]
function M.clients(name, bufnr)
  if vim.lsp.get_clients then return vim.lsp.get_clients({ name = name, bufnr = bufnr }) end
  local out = {}
  for _, c in ipairs(vim.lsp.get_active_clients()) do
    if c.name == name and (bufnr == nil or vim.lsp.buf_is_attached(bufnr, c.id)) then
      table.insert(out, c)
    end
  end
  return out
end

-- Inline virtual text (text shown inside a line, shifting what follows) is 0.10+.
M.inline_virt_text = M.has("0.10")

---Reporting functions for :checkhealth: vim.health.start/ok/... since 0.9,
---require("health").report_* before.
---@return table {start, ok, info, warn, error}
function M.health()
  local h = vim.health
  if h and h.start then return { start = h.start, ok = h.ok, info = h.info, warn = h.warn, error = h.error } end
  h = h or require("health")
  return { start = h.report_start, ok = h.report_ok, info = h.report_info, warn = h.report_warn, error = h.report_error }
end

---The number of units `text` takes in an LSP position encoding.
---@param text string UTF-8
---@param encoding string "utf-8"|"utf-16"|"utf-32"
---@return integer
function M.units(text, encoding)
  if encoding == "utf-8" then return #text end
  local n, i = 0, 1
  while i <= #text do
    local b = text:byte(i)
    local len = b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC0 and 2 or 1
    n = n + ((encoding == "utf-16" and len == 4) and 2 or 1)
    i = i + len
  end
  return n
end

---The byte column of LSP `character` in `line` (clamped to the line's end).
---@param line string
---@param character integer
---@param encoding string
---@return integer
function M.byte_col(line, character, encoding)
  if encoding == "utf-8" then return math.min(character, #line) end
  local units, i = 0, 1
  while i <= #line and units < character do
    local b = line:byte(i)
    local len = b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC0 and 2 or 1
    units = units + ((encoding == "utf-16" and len == 4) and 2 or 1)
    i = i + len
  end
  return i - 1
end

return M

-- One `astfill serve` per project root: finding the root, starting the daemon
-- (vim.lsp.start where it exists, start_client + buf_attach_client on 0.7)
-- and finding the one a buffer talks to.
local compat = require("astfill.compat")
local config = require("astfill.config")

local M = {}

M.name = "astfill"

-- root -> client id, for Neovim without vim.lsp.start (0.7).
local started = {}

---@param path string
---@return boolean
local function _exists(path)
  return vim.loop.fs_stat(path) ~= nil
end

---The project root of a file: the nearest folder above it holding a root
---marker, else the file's folder.
---@param file string absolute path
---@return string
function M.root_for(file)
  local dir = vim.fn.fnamemodify(file, ":p:h")
  local here = dir
  while true do
    for _, marker in ipairs(config.options.root_markers) do
      if _exists(here .. "/" .. marker) then return here end
    end
    local parent = vim.fn.fnamemodify(here, ":h")
    if parent == here then break end
    here = parent
  end
  return dir
end

-- Errors and warnings the daemon logs (a model that will not load, a setting
-- of the wrong type) are shown; everything goes to the LSP log as usual.
local function _on_log_message(err, result, ctx, cfg)
  local ok = pcall(function()
    if result and result.type and result.type <= 2 then
      local level = result.type == 1 and vim.log.levels.ERROR or vim.log.levels.WARN
      vim.notify("astfill: " .. tostring(result.message), level)
    end
  end)
  local default = vim.lsp.handlers["window/logMessage"]
  if default then return default(err, result, ctx, cfg) end
  return ok
end

---@param root string
---@return table config for vim.lsp.start / start_client
function M.client_config(root)
  return {
    name = M.name,
    cmd = config.command(),
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fn.fnamemodify(root, ":t") } },
    init_options = { astfill = config.daemon_settings() },
    handlers = { ["window/logMessage"] = _on_log_message },
    flags = { debounce_text_changes = 0 },
  }
end

---Starts (or reuses) the daemon for the buffer's project and attaches the buffer.
---@param bufnr integer
---@return integer|nil client_id
function M.attach(bufnr)
  local file = vim.api.nvim_buf_get_name(bufnr)
  if file == "" or vim.bo[bufnr].buftype ~= "" then return nil end
  local root = M.root_for(file)
  if vim.fn.executable(config.command()[1]) ~= 1 then
    vim.notify_once("astfill: cannot run '" .. config.command()[1] ..
                    "' (set binary in require('astfill').setup{}; see :checkhealth astfill)",
                    vim.log.levels.ERROR)
    return nil
  end
  if vim.lsp.start then
    return vim.lsp.start(M.client_config(root), { bufnr = bufnr })
  end
  local id = started[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or compat.is_stopped(client) then
    id = vim.lsp.start_client(M.client_config(root))
    if not id then return nil end
    started[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

---The daemon serving this buffer, if it is running.
---@param bufnr integer|nil
---@return table|nil client
function M.client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return compat.clients(M.name, bufnr)[1]
end

---Every running astfill daemon.
---@return table[]
function M.all()
  return compat.clients(M.name)
end

---Sends changed settings to every daemon.
---@param settings table the `astfill` section (or the part that changed)
function M.push_settings(settings)
  for _, c in ipairs(M.all()) do
    pcall(compat.notify, c, "workspace/didChangeConfiguration", { settings = { astfill = settings } })
  end
end

return M

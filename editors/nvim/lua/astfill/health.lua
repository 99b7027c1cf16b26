-- :checkhealth astfill: the binary, the model, the daemons and their indexes.
local compat = require("astfill.compat")
local config = require("astfill.config")
local daemon = require("astfill.daemon")

local M = {}

-- A hung binary must not freeze the editor: `binary --version` gets this long.
local VERSION_TIMEOUT_MS = 3000

---Runs `cmd`, waiting at most `ms`; returns the exit status and output, or nil and why.
---@return integer|nil status, string output_or_reason
local function _run(cmd, ms)
  local out = {}
  local collect = function(_, data) vim.list_extend(out, data or {}) end
  local ok, job = pcall(vim.fn.jobstart, cmd,
    { stdout_buffered = true, stderr_buffered = true, on_stdout = collect, on_stderr = collect })
  if not ok or job <= 0 then return nil, "could not be started" end
  local status = vim.fn.jobwait({ job }, ms)[1]
  if status == -1 then
    vim.fn.jobstop(job)
    return nil, "did not answer within " .. ms .. " ms"
  end
  return status, vim.trim(table.concat(out, "\n"))
end

function M.check()
  local h = compat.health()
  h.start("astfill")
  if not require("astfill")._setup_done then
    h.warn("require('astfill').setup{} has not been called: nothing starts until it is")
  end
  if not compat.has("0.7") then h.error("Neovim 0.7 or newer is needed") end

  local bin = config.command()[1]
  if vim.fn.executable(bin) ~= 1 then
    h.error("the daemon '" .. bin .. "' is not executable", { "set binary = '/path/to/astfill' in setup{}" })
  else
    local status, out = _run({ bin, "--version" }, VERSION_TIMEOUT_MS)
    if status == nil then
      h.error("'" .. bin .. " --version' " .. out)
    elseif status ~= 0 then
      h.error("'" .. bin .. " --version' failed: " .. out)
    else
      h.ok(out .. " (" .. vim.fn.exepath(bin) .. ")")
    end
  end

  local model = config.daemon_settings().model
  if not model then
    h.info("no model configured: the daemon uses the small demo model bundled with astfill (Python only)",
           { "for real completions: astfill pull qwen2.5-coder-0.5b:q8_0, then model = 'qwen2.5-coder-0.5b:q8_0' in setup{}" })
  elseif vim.fn.filereadable(model) == 1 or vim.fn.isdirectory(model) == 1 then
    h.ok("model: " .. model)
  elseif model:find(":", 1, true) and not model:find("/", 1, true) then
    h.ok("model: " .. model .. " (a pulled model's name; the daemon finds it in its models directory)")
  else
    h.error("model not found: " .. model)
  end

  local clients = daemon.all()
  if #clients == 0 then
    h.info("no daemon running (one starts when a buffer of a configured filetype opens: " ..
           table.concat(config.options.filetypes, ", ") .. ")")
  end
  for _, client in ipairs(clients) do
    local root = client.config and client.config.root_dir or "?"
    if compat.is_stopped(client) then
      h.error("daemon for " .. root .. " has stopped")
    else
      local bufs = {}
      for _, b in ipairs(vim.api.nvim_list_bufs()) do
        if vim.lsp.buf_is_attached(b, client.id) then table.insert(bufs, vim.fn.fnamemodify(vim.api.nvim_buf_get_name(b), ":~:.")) end
      end
      h.ok(("daemon for %s is running (client %d; buffers: %s)"):format(root, client.id, table.concat(bufs, ", ")))
      local buf = nil
      for _, b in ipairs(vim.api.nvim_list_bufs()) do
        if vim.lsp.buf_is_attached(b, client.id) then buf = b break end
      end
      local s, err = require("astfill.commands").status(buf, 3000)
      if not s then
        h.error(err)
      else
        local state = tostring(s.modelState)
        if state == "ready" then h.ok("model " .. tostring(s.model) .. ": ready")
        elseif state:match("^failed") then h.error("model: " .. state)
        else h.info("model: " .. state) end
        for _, ix in ipairs(type(s.indexes) == "table" and s.indexes or {}) do
          local line = ("index of %s: %s %s%%"):format(vim.uri_to_fname(ix.folder), ix.state, tostring(ix.percentage))
          if ix.state == "failed" then h.error(line .. ": " .. tostring(ix.message))
          else h.ok(line) end
        end
      end
    end
  end
  h.info("daemon log: " .. tostring(config.options.log_file) .. "; LSP log: " ..
         (vim.lsp.get_log_path and vim.lsp.get_log_path() or "see :help lsp-log"))
end

return M

-- The options of require("astfill").setup{} and their defaults.
local M = {}

---@class AstfillKeymaps
---@field accept string|false       accept the whole suggestion
---@field accept_word string|false  accept its next word
---@field accept_line string|false  accept the rest of its first line
---@field next string|false         show the next suggestion
---@field prev string|false         show the previous suggestion
---@field dismiss string|false      hide the suggestion
---@field trigger string|false      ask for a suggestion now

---@class AstfillConfig
M.defaults = {
  -- The daemon: a path or a name on $PATH. `cmd`, when set, replaces the whole
  -- command line (binary, model, threads and log options are then not added).
  binary = "astfill",
  cmd = nil,
  -- A GGUF file (or Hugging Face checkpoint directory) to complete with.
  -- Without one the daemon still indexes and answers definitions and symbols.
  model = nil,
  -- Threads for the model (nil: the daemon's default, all cores).
  threads = nil,
  -- The daemon's log (appended) and its level: off, error, warn, info, debug, trace.
  log_file = vim.fn.stdpath("cache") .. "/astfill.log",
  log_level = "warn",
  -- Buffers of these filetypes get a daemon and ghost text.
  filetypes = { "python", "javascript", "javascriptreact", "typescript", "typescriptreact",
                "go", "rust", "c", "cpp", "java" },
  -- A project root is the nearest folder above the file holding one of these;
  -- else the file's own folder. One daemon runs per root.
  root_markers = { ".git", "pyproject.toml", "setup.py", "package.json", "go.mod", "Cargo.toml",
                   "CMakeLists.txt", "compile_commands.json", "pom.xml", "build.gradle", ".astfillignore" },
  -- Show suggestions as you type (false: only on keymaps.trigger).
  auto_trigger = true,
  -- Wait this long after the last keystroke before asking.
  debounce_ms = 75,
  keymaps = {
    accept = "<Tab>",
    accept_word = "<M-Right>",
    accept_line = "<M-C-Right>",
    next = "<M-]>",
    prev = "<M-[>",
    dismiss = "<C-]>",
    trigger = "<M-Bslash>",
  },
  -- Passed through to the daemon under `astfill` (initializationOptions and
  -- workspace/didChangeConfiguration): enable, languages, maxTokens, timeoutMs,
  -- constraints, adapter, logLevel, context.{prefixTokens,suffixTokens,crossFileTokens},
  -- index.{enable,maxFileKB,includeDirs,denyPaths}. `model` above is added as settings.model.
  settings = {},
}

---@type AstfillConfig
M.options = vim.deepcopy(M.defaults)

---@param user table|nil
---@return AstfillConfig
function M.set(user)
  user = user or {}
  -- (vim.validate's table form is deprecated in newer Neovim.)
  local types = { binary = "string", cmd = "table", model = "string", threads = "number", log_file = "string",
                  log_level = "string", filetypes = "table", root_markers = "table", auto_trigger = "boolean",
                  debounce_ms = "number", keymaps = "table", settings = "table" }
  for key, value in pairs(user) do
    if types[key] == nil then
      vim.notify("astfill: setup{}: unknown option '" .. tostring(key) .. "'", vim.log.levels.WARN)
    elseif type(value) ~= types[key] and not (key == "log_file" and value == false) then
      error(("astfill: setup{}: %s should be a %s, not a %s"):format(key, types[key], type(value)), 3)
    end
  end
  local opts = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), user)
  -- Lists replace the defaults rather than merging index by index.
  for _, key in ipairs({ "filetypes", "root_markers", "cmd" }) do
    if user[key] then opts[key] = user[key] end
  end
  M.options = opts
  return opts
end

---The `astfill` settings section sent to the daemon.
---@return table
function M.daemon_settings()
  local s = vim.deepcopy(M.options.settings or {})
  if M.options.model then s.model = vim.fn.expand(M.options.model) end
  -- An empty Lua table would be sent as a JSON array; these are objects.
  for _, key in ipairs({ "languages", "context", "index" }) do
    if type(s[key]) == "table" and next(s[key]) == nil then s[key] = vim.empty_dict() end
  end
  if next(s) == nil then return vim.empty_dict() end
  return s
end

---The daemon's command line.
---@return string[]
function M.command()
  local o = M.options
  if o.cmd then return o.cmd end
  local cmd = { vim.fn.expand(o.binary), "serve" }
  if o.threads then vim.list_extend(cmd, { "--threads", tostring(o.threads) }) end
  if o.log_file then vim.list_extend(cmd, { "--log-file", vim.fn.expand(o.log_file) }) end
  if o.log_level then vim.list_extend(cmd, { "--log-level", o.log_level }) end
  return cmd
end

return M

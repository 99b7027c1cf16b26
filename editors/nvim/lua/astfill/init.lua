-- astfill for Neovim: require("astfill").setup{} starts a daemon per project
-- for buffers of the configured filetypes and shows its suggestions as ghost
-- text. See :help astfill.
local config = require("astfill.config")
local daemon = require("astfill.daemon")
local ghost = require("astfill.ghost")
local suggestion = require("astfill.suggestion")
local commands = require("astfill.commands")
local images = require("astfill.images")

local M = {}

M._setup_done = false

---@param bufnr integer
local function _attach(bufnr)
  if not vim.api.nvim_buf_is_loaded(bufnr) then return end
  if not vim.tbl_contains(config.options.filetypes, vim.bo[bufnr].filetype) then return end
  local ok, e = pcall(function()
    if daemon.attach(bufnr) then suggestion.attach(bufnr) end
  end)
  if not ok then vim.notify("astfill: starting the daemon: " .. tostring(e), vim.log.levels.ERROR) end
end

---@param opts table|nil see :help astfill-setup
function M.setup(opts)
  config.set(opts)
  ghost.define_highlight()
  local group = vim.api.nvim_create_augroup("astfill", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.options.filetypes,
    callback = function(args) _attach(args.buf) end,
  })
  -- Colour schemes clear highlights: link the ghost text again.
  vim.api.nvim_create_autocmd("ColorScheme", { group = group, callback = ghost.define_highlight })
  if M._setup_done then daemon.push_settings(config.daemon_settings()) end
  M._setup_done = true
  for _, b in ipairs(vim.api.nvim_list_bufs()) do _attach(b) end
end

M.accept = suggestion.accept
M.accept_word = function() return suggestion.accept("word") end
M.accept_line = function() return suggestion.accept("line") end
M.visible = suggestion.visible
M.current = suggestion.current
M.next = function() suggestion.cycle(1) end
M.prev = function() suggestion.cycle(-1) end
M.dismiss = suggestion.dismiss
M.trigger = suggestion.trigger
M.fill = commands.fill
M.toggle = commands.toggle
M.status = commands.status
M.print_status = commands.print_status
M.stats = commands.stats
M.print_stats = commands.print_stats
M.attach_image = images.attach
M.image_to_code = images.to_code

return M

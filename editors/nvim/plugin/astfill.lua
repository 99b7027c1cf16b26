-- The commands; nothing starts until require("astfill").setup{} is called.
if vim.g.loaded_astfill then return end
vim.g.loaded_astfill = true

local function cmd(name, fn, desc)
  vim.api.nvim_create_user_command(name, function() require("astfill")[fn]() end, { desc = desc })
end
cmd("AstfillFill", "fill", "astfill: fill the body at the cursor")
cmd("AstfillToggle", "toggle", "astfill: turn suggestions off or on")
cmd("AstfillStatus", "print_status", "astfill: the daemon's model and index state")
cmd("AstfillStats", "print_stats", "astfill: local statistics of suggestions (acceptance, latency)")

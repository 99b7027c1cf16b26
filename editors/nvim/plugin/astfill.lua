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
vim.api.nvim_create_user_command("AstfillImage", function(o) require("astfill").attach_image(o.args) end,
  { nargs = 1, complete = "file", desc = "astfill: attach an image (PNG, JPEG) as context for this buffer" })
vim.api.nvim_create_user_command("AstfillImageToCode", function(o)
  require("astfill").image_to_code(o.fargs[1], table.concat(vim.list_slice(o.fargs, 2), " "))
end, { nargs = "+", complete = "file", desc = "astfill: insert code for an image at the cursor" })

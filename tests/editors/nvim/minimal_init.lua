-- A bare Neovim with only the astfill plugin on the runtimepath (used with
-- `nvim --headless --clean -u`).
local here = debug.getinfo(1, "S").source:sub(2):match("(.*)/")
local plugin = vim.fn.fnamemodify(here .. "/../../../editors/nvim", ":p"):gsub("/$", "")
vim.opt.runtimepath:prepend(plugin)
vim.opt.swapfile = false
vim.opt.shada = ""
vim.opt.showmode = false
vim.cmd("filetype on")
vim.cmd("runtime plugin/astfill.lua")

-- Ghost text: a suggestion drawn as extmarks at the cursor, never in the
-- buffer. The first line is virtual text (inline on 0.10+; on older Neovim
-- overlaid past the end of the line, or at the end of the line when text
-- follows the cursor), the other lines are virtual lines below.
local compat = require("astfill.compat")

local M = {}

M.ns = vim.api.nvim_create_namespace("astfill_ghost")
M.hl = "AstfillGhost"

function M.define_highlight()
  vim.cmd("highlight default link " .. M.hl .. " Comment")
end

---@param s string
---@param tabstop integer
---@return string
local function _expand_tabs(s, tabstop)
  return (s:gsub("\t", string.rep(" ", tabstop)))
end

---Draws `text` at (row, col) of the buffer, replacing what was drawn before.
---@param bufnr integer
---@param row integer 0-based
---@param col integer byte column
---@param text string may hold newlines
function M.show(bufnr, row, col, text)
  M.clear(bufnr)
  local ts = vim.bo[bufnr].tabstop
  local lines = vim.split(text, "\n", { plain = true })
  local first = _expand_tabs(lines[1], ts)
  local opts = { hl_mode = "combine" }
  if first ~= "" then
    local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
    if compat.inline_virt_text then
      opts.virt_text_pos = "inline"
    elseif col >= #line then
      opts.virt_text_pos = "overlay"
    else
      opts.virt_text_pos = "eol"
    end
    opts.virt_text = { { first, M.hl } }
  end
  if #lines > 1 then
    local virt_lines = {}
    for i = 2, #lines do
      table.insert(virt_lines, { { _expand_tabs(lines[i], ts), M.hl } })
    end
    opts.virt_lines = virt_lines
  end
  if not opts.virt_text and not opts.virt_lines then return end
  vim.api.nvim_buf_set_extmark(bufnr, M.ns, row, col, opts)
end

---@param bufnr integer
function M.clear(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1) end
end

---The text drawn in the buffer (first line and virtual lines joined by
---newlines), or nil when nothing is drawn. For tests and statuslines.
---@param bufnr integer
---@return string|nil
function M.shown(bufnr)
  local marks = vim.api.nvim_buf_get_extmarks(bufnr, M.ns, 0, -1, { details = true })
  if #marks == 0 then return nil end
  local d = marks[1][4]
  local parts = { d.virt_text and d.virt_text[1][1] or "" }
  for _, l in ipairs(d.virt_lines or {}) do table.insert(parts, l[1] and l[1][1] or "") end
  return table.concat(parts, "\n")
end

return M

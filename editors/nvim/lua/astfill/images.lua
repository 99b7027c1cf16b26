-- :AstfillImage {path} and :AstfillImageToCode {path} (issue 19): an image
-- read by the daemon's vision model (settings.vision = { model, mmproj }).
-- Attach: its description becomes context for the buffer's later suggestions
-- and fills, until the buffer closes. To code: the code the vision model
-- writes for the image is inserted at the cursor.
local compat = require("astfill.compat")
local daemon = require("astfill.daemon")

local M = {}

local function _echo(msg, hl)
  vim.api.nvim_echo({ { msg, hl or "Normal" } }, true, {})
end

---A file URI for an image path (`~` and relative paths expanded), or nil and why.
---@param path string
---@return string|nil uri, string|nil error
function M.source(path)
  if type(path) ~= "string" or path == "" then return nil, "name an image file (PNG or JPEG)" end
  if path:match("^data:") or path:match("^file://") then return path end
  local full = vim.fn.fnamemodify(vim.fn.expand(path), ":p")
  if vim.fn.filereadable(full) ~= 1 then return nil, "no such file: " .. full end
  return vim.uri_from_fname(full)
end

local function _client(bufnr)
  local client = daemon.client(bufnr)
  if not client then
    _echo("astfill: no daemon for this buffer (its filetype is not in setup{filetypes}, or it is still starting)",
          "WarningMsg")
  end
  return client
end

---:AstfillImage {path}: attaches the image to the current buffer.
---@param path string
function M.attach(path)
  local bufnr = vim.api.nvim_get_current_buf()
  local source, why = M.source(path)
  if not source then return _echo("astfill: " .. why, "ErrorMsg") end
  local client = _client(bufnr)
  if not client then return end
  _echo("astfill: reading the image...")
  local args = { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, source = source }
  compat.request(client, "workspace/executeCommand", { command = "astfill.image.attach", arguments = { args } },
    function(err, result)
      if err then
        _echo("astfill: the image was not attached: " .. tostring(err.message or err), "ErrorMsg")
      elseif type(result) == "table" then
        _echo(("astfill: %s attached%s; suggestions in this buffer see it"):format(
          tostring(result.name), result.cached and " (described before)" or ""))
      end
    end, bufnr)
end

---:AstfillImageToCode {path} [instruction]: inserts code for the image at the cursor.
---@param path string
---@param instruction string|nil
function M.to_code(path, instruction)
  local bufnr = vim.api.nvim_get_current_buf()
  local source, why = M.source(path)
  if not source then return _echo("astfill: " .. why, "ErrorMsg") end
  local client = _client(bufnr)
  if not client then return end
  local encoding = client.offset_encoding or "utf-16"
  local c = vim.api.nvim_win_get_cursor(0)
  local line = vim.api.nvim_buf_get_lines(bufnr, c[1] - 1, c[1], false)[1] or ""
  local args = { textDocument = { uri = vim.uri_from_bufnr(bufnr) },
                 position = { line = c[1] - 1, character = compat.units(line:sub(1, c[2]), encoding) },
                 source = source }
  if instruction and instruction ~= "" then args.instruction = instruction end
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  _echo("astfill: writing code for the image...")
  compat.request(client, "workspace/executeCommand", { command = "astfill.image.toCode", arguments = { args } },
    function(err, result)
      local ok, e = pcall(function()
        local n = 0
        for _, edits in pairs(type(result) == "table" and result.changes or {}) do n = n + #edits end
        if err then
          _echo("astfill: no code for the image: " .. tostring(err.message or err), "ErrorMsg")
        elseif n == 0 then
          _echo("astfill: the vision model wrote no code for this image", "WarningMsg")
        elseif vim.api.nvim_buf_get_changedtick(bufnr) ~= tick then
          _echo("astfill: the buffer changed meanwhile; not applied", "WarningMsg")
        else
          vim.lsp.util.apply_workspace_edit(result, encoding)
          _echo("astfill: code for the image inserted")
        end
      end)
      if not ok then _echo("astfill: applying the code: " .. tostring(e), "ErrorMsg") end
    end, bufnr)
end

return M

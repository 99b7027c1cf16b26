-- The Neovim plugin in the real editor: a generated three-file project, the
-- daemon ($ASTFILL_BIN) with a tiny random-weight model ($ASTFILL_WRITE_MODEL),
-- keys typed through nvim_input. Suggestions from a random model are noise:
-- the test checks the plumbing (what is shown is what is inserted), not the
-- text. Steps run in a coroutine that gives the editor's main loop back while
-- it waits, so typed keys, autocommands and LSP replies run as they would for
-- a person. Exits 0 when every step passed, 1 otherwise.
local uv = vim.loop

local BIN = assert(os.getenv("ASTFILL_BIN"), "ASTFILL_BIN is not set")
local WRITE_MODEL = assert(os.getenv("ASTFILL_WRITE_MODEL"), "ASTFILL_WRITE_MODEL is not set")
local WRITE_VL = assert(os.getenv("ASTFILL_WRITE_VL_FIXTURE"), "ASTFILL_WRITE_VL_FIXTURE is not set")
local TIMEOUT_MS = tonumber(os.getenv("ASTFILL_TEST_WAIT_MS") or "") or 20000

local co
local function out(msg) io.stdout:write(msg .. "\n") end

---Resumes the test; a failure outside the steps ends Neovim with exit code 1.
local function resume()
  local ok, err = coroutine.resume(co)
  if not ok then
    out("FAIL the test itself: " .. tostring(err))
    vim.cmd("cquit 1")
  end
end

---Gives the main loop back for a moment (keys, autocommands, RPC run meanwhile).
local function pause(ms)
  vim.defer_fn(resume, ms or 10)
  coroutine.yield()
end

---Waits (without blocking the editor) until pred() returns a true value.
local function wait_for(what, pred, timeout_ms)
  local deadline = uv.now() + (timeout_ms or TIMEOUT_MS)
  while true do
    local ok, v = pcall(pred)
    if ok and v then return v end
    if uv.now() > deadline then
      error(("timed out after %d ms waiting for %s%s"):format(timeout_ms or TIMEOUT_MS, what,
            ok and "" or (" (last error: " .. tostring(v) .. ")")), 0)
    end
    pause(10)
  end
end

local function eq(want, got, what)
  if not vim.deep_equal(want, got) then
    error(("%s:\n  want %s\n  got  %s"):format(what, vim.inspect(want), vim.inspect(got)), 0)
  end
end

local function write(path, text)
  vim.fn.mkdir(vim.fn.fnamemodify(path, ":h"), "p")
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- The project and the model.
local dir = vim.fn.tempname()
local root = dir .. "/proj"
write(root .. "/pyproject.toml", "[project]\nname = 'proj'\n")
write(root .. "/pkg/__init__.py", "")
write(root .. "/pkg/shapes.py", table.concat({
  "class Circle:", "    def __init__(self, r):", "        self.r = r", "",
  "    def area(self):", "        return 3.14 * self.r ** 2", "", "",
  "def make_circle(r):", '    """A circle of radius r."""', "    return Circle(r)", "" }, "\n"))
write(root .. "/pkg/main.py", "from . import shapes\n\n\ndef report(r):\n    \n")
write(root .. "/pkg/util.py", "def double(x):\n    pass\n")
local model = dir .. "/tiny.gguf"
-- Seed 10 gives a suggestion of more than one word after `shapes.` in main.py (`Circle.item`).
local w = vim.fn.system({ WRITE_MODEL, model, "--arch", "qwen2", "--seed", "10" })
assert(vim.v.shell_error == 0, "writing the model with " .. WRITE_MODEL .. ": " .. w)
-- The vision model (astfill.vision): a tiny random Qwen2.5-VL pair whose LM
-- (seed 1, weight scale 0.1) writes text, and a 100x60 PNG.
local vl_lm, vl_mm, picture = dir .. "/vl-lm.gguf", dir .. "/vl-mm.gguf", root .. "/form.png"
w = vim.fn.system({ WRITE_VL, vl_lm, vl_mm, picture, "1", "0.1" })
assert(vim.v.shell_error == 0, "writing the VL pair with " .. WRITE_VL .. ": " .. w)

local astfill = require("astfill")
local ghost = require("astfill.ghost")
astfill.setup({ binary = BIN, model = model, threads = 1, debounce_ms = 20, log_level = "info",
                log_file = dir .. "/astfill.log",
                settings = { timeoutMs = 5000, vision = { model = vl_lm, mmproj = vl_mm, maxImageTokens = 8 } } })

local TYPED = "c = shapes."
local LINE = "    " .. TYPED

local function buf_text() return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n") end
local function line5() return vim.api.nvim_buf_get_lines(0, 4, 5, false)[1] end

---Leaves insert mode, resets line 5 to its indentation, types TYPED at its
---end and waits for the ghost text; returns the suggestion shown.
local function type_and_wait()
  vim.api.nvim_input("<Esc>")
  wait_for("normal mode", function() return vim.api.nvim_get_mode().mode == "n" end)
  vim.api.nvim_buf_set_lines(0, 4, 5, false, { "    " })
  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  vim.api.nvim_input("A" .. TYPED)
  wait_for("the typed line", function() return line5() == LINE end)
  local shown = wait_for("ghost text after '" .. TYPED .. "'", function() return ghost.shown(0) end)
  eq(shown, astfill.current(), "the extmark's text is the current suggestion")
  eq({ 4, #LINE }, { vim.api.nvim_win_get_cursor(0)[1] - 1, vim.api.nvim_win_get_cursor(0)[2] },
     "the cursor stays where it was")
  local mark = vim.api.nvim_buf_get_extmarks(0, ghost.ns, 0, -1, { details = true })[1]
  eq({ 4, #LINE }, { mark[2], mark[3] }, "the ghost text sits at the cursor")
  return shown
end

local function expect_inserted(text, what)
  local before = "from . import shapes\n\n\ndef report(r):\n" .. LINE
  local ok, err = pcall(wait_for, what, function() return buf_text() == before .. text end, 5000)
  if not ok then eq(before .. text, buf_text(), err) end
end

local steps = {}
local function step(name, fn) table.insert(steps, { name = name, fn = fn }) end

step("words and lines of a suggestion; multi-line ghost text", function()
  local sg = require("astfill.suggestion")
  eq("  foo", sg._next_word("  foo.bar()"), "next word: blanks and a word")
  eq(".", sg._next_word(".bar()"), "next word: punctuation")
  eq("***", sg._next_word("***x"), "next word: a run of punctuation")
  eq("\n    ", sg._next_word("\n    return x"), "next word: a line break and indentation")
  eq("été", sg._next_word("été x"), "next word: UTF-8 letters")
  eq("a = 1", sg._next_line("a = 1\nb = 2"), "next line: up to the line break")
  eq("\nb = 2", sg._next_line("\nb = 2\nc"), "next line: the break and the next line")
  eq("x", sg._next_line("x"), "next line: the only line")
  local config = require("astfill.config")
  local saved = config.options
  config.set({})
  eq("{}", vim.fn.json_encode(config.daemon_settings()), "no settings: an empty object, not an array")
  config.set({ settings = { languages = {} } })
  local json = vim.fn.json_encode(config.daemon_settings())
  assert(json:find('"languages"') and not json:find("[]", 1, true), "empty objects stay objects: " .. json)
  config.options = saved
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "def f():", "" })
  ghost.show(buf, 1, 0, "    a = 1\n\n    return a")
  eq("    a = 1\n\n    return a", ghost.shown(buf), "first line and virtual lines")
  local mark = vim.api.nvim_buf_get_extmarks(buf, ghost.ns, 0, -1, { details = true })[1]
  eq(2, #mark[4].virt_lines, "two virtual lines")
  eq("AstfillGhost", mark[4].virt_text[1][2], "the highlight group")
  ghost.show(buf, 0, 3, "x\ty")
  eq("x" .. string.rep(" ", vim.bo[buf].tabstop) .. "y", ghost.shown(buf), "tabs drawn as spaces; one mark")
  ghost.clear(buf)
  eq(nil, ghost.shown(buf), "cleared")
  vim.api.nvim_buf_delete(buf, { force = true })
end)

step("the daemon starts for the project and indexes it", function()
  vim.cmd("edit " .. root .. "/pkg/main.py")
  eq("python", vim.bo.filetype, "filetype")
  local client = wait_for("the daemon", function()
    local c = require("astfill.daemon").client(0)
    return c and c.initialized and c
  end)
  eq(root, client.config.root_dir, "the project root (pyproject.toml)")
  wait_for("the model and the index to be ready", function()
    local s = astfill.status(0, 2000)
    return s and s.modelState == "ready" and s.indexes[1] and s.indexes[1].state == "ready"
  end)
end)

local suggestion
step("typing shows ghost text; Tab accepts it all", function()
  suggestion = type_and_wait()
  vim.api.nvim_input("<Tab>")
  expect_inserted(suggestion, "the suggestion in the buffer after <Tab>")
  eq({ 5, #LINE + #suggestion }, vim.api.nvim_win_get_cursor(0), "the cursor after the inserted text")
  eq("i", vim.api.nvim_get_mode().mode, "still in insert mode")
end)

step("accept word inserts the next word and keeps the rest shown; Tab takes the rest", function()
  local shown = type_and_wait()
  eq(suggestion, shown, "the same suggestion at the same place")
  local word = require("astfill.suggestion")._next_word(shown)
  assert(#word < #shown, "the fixture should give a suggestion of more than one word; got " .. vim.inspect(shown) ..
         " (pick another seed or cursor)")
  vim.api.nvim_input("<M-Right>")
  expect_inserted(word, "the first word in the buffer after <M-Right>")
  wait_for("the rest of the suggestion shown", function() return ghost.shown(0) == shown:sub(#word + 1) end, 5000)
  vim.api.nvim_input("<Tab>")
  expect_inserted(shown, "the whole suggestion after <M-Right><Tab>")
end)

step("accept line inserts the rest of the suggestion's line", function()
  local shown = type_and_wait()
  vim.api.nvim_input("<M-C-Right>")
  expect_inserted(require("astfill.suggestion")._next_line(shown), "the line after <M-C-Right>")
end)

step("dismiss hides the suggestion and leaves the text; Tab then inserts a tab", function()
  type_and_wait()
  vim.api.nvim_input("<C-]>")
  wait_for("the ghost text to go", function() return ghost.shown(0) == nil end, 5000)
  eq(LINE, line5(), "the line after dismissing")
  -- Python's ftplugin expands tabs; a literal tab is easier to recognise.
  vim.bo.expandtab, vim.bo.softtabstop = false, 0
  vim.api.nvim_input("<Tab>")
  local ok, err = pcall(wait_for, "a tab typed by the fallback", function() return line5() == LINE .. "\t" end, 5000)
  if not ok then eq(LINE .. "\t", line5(), err) end
end)

step("moving the cursor clears the suggestion", function()
  type_and_wait()
  vim.api.nvim_input("<Left>")
  wait_for("the ghost text to go", function() return ghost.shown(0) == nil end, 5000)
  eq(LINE, line5(), "the line after moving")
end)

step(":AstfillStatus prints the model and the index state", function()
  vim.api.nvim_input("<Esc>")
  wait_for("normal mode", function() return vim.api.nvim_get_mode().mode == "n" end)
  local printed = vim.fn.execute("AstfillStatus")
  assert(printed:find("model: " .. model .. " (ready)", 1, true), "no model line in:\n" .. printed)
  assert(printed:find("index " .. root .. ": ready", 1, true), "no index line in:\n" .. printed)
end)

step("what happened to each suggestion reaches the daemon's statistics; :AstfillStats prints them", function()
  -- The steps above: accepted whole (<Tab>), by word then whole, by line,
  -- dismissed (<C-]>), dismissed by moving the cursor; each was shown.
  local last
  local ok, s = pcall(wait_for, "the events in the statistics", function()
    local st, err = astfill.stats(0)
    last = st or err
    -- A word accepted then the rest counts as accepted whole; so does a
    -- line that is the whole (one-line) suggestion.
    return st and st.all.dismissed >= 2 and st.all.accepted + st.all.acceptedPartly >= 3 and st
  end, 5000)
  if not ok then error(s .. "; the last answer: " .. vim.inspect(last), 0) end
  assert(s.all.shown >= 5, "suggestions shown: " .. vim.inspect(s.all))
  assert(s.all.acceptedChars >= 2 * #suggestion, "accepted characters: " .. vim.inspect(s.all))
  assert(s.all.acceptanceRate > 0 and s.all.acceptanceRate <= 1, "acceptance rate: " .. vim.inspect(s.all))
  eq("python", s.byLanguage[1].language, "by language")
  eq("tiny.gguf", s.byModel[1].model, "by model")
  local printed = vim.fn.execute("AstfillStats")
  assert(printed:find("all ", 1, true) and printed:find("python", 1, true) and printed:find("accepted", 1, true),
         "no statistics in:\n" .. printed)
end)

step(":AstfillToggle turns suggestions off in the daemon and back on", function()
  vim.fn.execute("AstfillToggle")
  wait_for("enable = false in the daemon", function() return astfill.status(0).settings.enable == false end, 5000)
  vim.fn.execute("AstfillToggle")
  wait_for("enable = true in the daemon", function() return astfill.status(0).settings.enable == true end, 5000)
end)

step(":checkhealth astfill reports no errors", function()
  vim.cmd("checkhealth astfill")
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  local report = table.concat(lines, "\n")
  vim.cmd("tabclose")
  for _, l in ipairs(lines) do
    assert(not l:find("ERROR"), "an error in :checkhealth astfill:\n" .. report)
  end
  assert(report:find("astfill 0", 1, true), "no version line in:\n" .. report)
  assert(report:find("daemon for " .. root .. " is running", 1, true), "no daemon line in:\n" .. report)
  assert(report:find("model " .. model .. ": ready", 1, true), "no model line in:\n" .. report)
end)

step("a suggestion asked for while the daemon initialises is asked for again once it can answer", function()
  local daemon = require("astfill.daemon")
  local real = daemon.client
  local early = 0
  -- The first three times the plugin looks, the daemon is still initialising.
  daemon.client = function(bufnr)
    local c = real(bufnr)
    if c and early < 3 then
      early = early + 1
      return setmetatable({ initialized = false }, { __index = c })
    end
    return c
  end
  local ok, shown = pcall(type_and_wait)
  daemon.client = real
  assert(ok, shown)
  eq(3, early, "the plugin found the daemon initialising three times")
  assert(type(shown) == "string" and #shown > 0, "no suggestion once the daemon could answer")
  vim.api.nvim_input("<Esc>")
  wait_for("normal mode", function() return vim.api.nvim_get_mode().mode == "n" end)
end)

step(":checkhealth astfill does not hang on a binary that never answers", function()
  local config = require("astfill.config")
  local hang = dir .. "/hang.sh"
  write(hang, "#!/bin/sh\nsleep 30\n")
  vim.fn.setfperm(hang, "rwxr-xr-x")
  local saved = config.options.binary
  config.options.binary = hang
  local t0 = uv.hrtime()
  local ok, err = pcall(vim.cmd, "checkhealth astfill")
  config.options.binary = saved
  local ms = (uv.hrtime() - t0) / 1e6
  assert(ok, err)
  local report = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  vim.cmd("tabclose")
  assert(ms < 10000, ("checkhealth took %d ms"):format(ms))
  assert(report:find("did not answer within", 1, true), "no timeout reported in:\n" .. report)
end)

step(":AstfillFill applies the daemon's edit", function()
  vim.cmd("edit " .. root .. "/pkg/util.py")
  wait_for("the daemon for util.py", function() return require("astfill.daemon").client(0) end)
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  local before = buf_text()
  vim.cmd("messages clear")
  vim.cmd("AstfillFill")
  local said = wait_for("the fill to finish", function()
    local m = vim.fn.execute("messages")
    return (m:find("astfill: filled") or m:find("astfill: nothing to fill") or m:find("astfill: fill failed")) and m
  end)
  -- The fixture and seed give a non-empty fill.
  assert(said:find("astfill: filled", 1, true), "no fill:\n" .. said)
  assert(buf_text() ~= before, "filled, yet the buffer did not change")
  assert(vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] ~= "    pass", "the placeholder is still there:\n" .. buf_text())
end)

step(":AstfillImage sends the image to the daemon and prints its answer; a missing file is named", function()
  -- util.py, filled by the step before, is still the current buffer.
  wait_for("the daemon for util.py", function() return require("astfill.daemon").client(0) end)
  vim.cmd("messages clear")
  vim.cmd("AstfillImage " .. root .. "/missing.png")
  assert(vim.fn.execute("messages"):find("no such file: " .. root .. "/missing.png", 1, true),
         "no error for a missing file:\n" .. vim.fn.execute("messages"))
  -- Not a PNG: the daemon refuses it, naming the file, and keeps serving.
  write(root .. "/shot.png", "\137PNG\r\n\026\n not really")
  vim.cmd("messages clear")
  vim.cmd("AstfillImage " .. root .. "/shot.png")
  local said = wait_for("the daemon's answer", function()
    local m = vim.fn.execute("messages")
    return m:find("astfill: the image was not attached", 1, true) and m
  end)
  assert(said:find("shot.png", 1, true), "the error does not name the file:\n" .. said)
  vim.cmd("messages clear")
  vim.cmd("AstfillImageToCode " .. root .. "/shot.png as a form")
  said = wait_for("the daemon's answer to toCode", function()
    local m = vim.fn.execute("messages")
    return m:find("astfill: no code for the image", 1, true) and m
  end)
  assert(said:find("shot.png", 1, true), "the error does not name the file:\n" .. said)
  assert(require("astfill").status(), "the daemon stopped answering")
end)

step(":AstfillImage attaches a PNG (described once); :AstfillImageToCode inserts the vision model's code", function()
  -- util.py is still the current buffer.
  wait_for("the daemon for util.py", function() return require("astfill.daemon").client(0) end)
  vim.cmd("messages clear")
  vim.cmd("AstfillImage " .. picture)
  local said = wait_for("the daemon's answer to the attach", function()
    local m = vim.fn.execute("messages")
    return (m:find("astfill: image form.png attached", 1, true) or m:find("not attached", 1, true)) and m
  end)
  assert(said:find("astfill: image form.png attached; suggestions in this buffer see it", 1, true),
         "not attached:\n" .. said)
  assert(not said:find("described before", 1, true), "the first attach came from the cache:\n" .. said)
  vim.cmd("messages clear")
  vim.cmd("AstfillImage " .. picture)
  said = wait_for("the daemon's answer to the second attach", function()
    local m = vim.fn.execute("messages")
    return (m:find("astfill: image form.png attached", 1, true) or m:find("not attached", 1, true)) and m
  end)
  assert(said:find("astfill: image form.png attached (described before)", 1, true), "not from the cache:\n" .. said)

  -- To code, at the start of the last line: the lines above it stay, the code goes in there.
  local last = vim.api.nvim_buf_line_count(0)
  vim.api.nvim_win_set_cursor(0, { last, 0 })
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  local before = buf_text()
  vim.cmd("messages clear")
  vim.cmd("AstfillImageToCode " .. picture .. " the form's fields")
  said = wait_for("the daemon's answer to toCode", function()
    local m = vim.fn.execute("messages")
    return (m:find("astfill: code for the image inserted", 1, true) or m:find("astfill: no code", 1, true) or
            m:find("wrote no code", 1, true) or m:find("not applied", 1, true)) and m
  end)
  assert(said:find("astfill: code for the image inserted", 1, true), "no code inserted:\n" .. said)
  local after = buf_text()
  assert(after ~= before, "inserted, yet the buffer did not change")
  eq(vim.list_slice(lines, 1, last - 1), vim.api.nvim_buf_get_lines(0, 0, last - 1, false),
     "the lines above the cursor")
  local tail = table.concat(vim.list_slice(lines, last), "\n")
  assert(#after > #before and (#tail == 0 or after:sub(-#tail) == tail), "the cursor's line is not after the code:\n" .. after)
  -- The daemon keeps serving.
  assert(require("astfill").status(), "the daemon stopped answering")
end)

co = coroutine.create(function()
  local passed, failed = 0, 0
  for _, s in ipairs(steps) do
    local t0 = uv.hrtime()
    local ok, err = pcall(s.fn)
    local ms = math.floor((uv.hrtime() - t0) / 1e6)
    if ok then
      passed = passed + 1
      out(("ok   %s (%d ms)"):format(s.name, ms))
    else
      failed = failed + 1
      out(("FAIL %s (%d ms)\n     %s"):format(s.name, ms, tostring(err):gsub("\n", "\n     ")))
      break -- later steps build on earlier ones
    end
  end
  out(("nvim: %d passed, %d failed"):format(passed, failed))
  if failed > 0 then
    local ok, log = pcall(vim.fn.readfile, dir .. "/astfill.log")
    if ok then
      out("--- the daemon's log (last 30 lines)")
      for i = math.max(1, #log - 29), #log do out(log[i]) end
    end
    vim.cmd("cquit 1")
  else
    vim.fn.delete(dir, "rf")
    vim.cmd("qall!")
  end
end)

vim.defer_fn(resume, 0)

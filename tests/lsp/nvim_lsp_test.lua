-- Run by nvim_lsp_test.sh: Neovim's own LSP client against kindlint --lsp.
-- Exits 0 when every check holds, 1 at the first that does not.
local kindlint = os.getenv("KINDLINT")
local rules = os.getenv("RULES")
local work = os.getenv("WORK")

-- Line 2 holds, before "You never listen to me": "Cafe" and a combining
-- acute (6 bytes), a space, U+1F644 (4 bytes, 2 UTF-16 units), a space,
-- an em dash (3 bytes) and a space: 16 bytes, 11 UTF-16 units. Neovim
-- 0.7 speaks UTF-16 and turns what the server sends into byte columns,
-- so a server counting anything but UTF-16 units lands elsewhere.
local lines = {
  "Notes",
  "Cafe\204\129 \240\159\153\132 \226\128\148 You never listen to me.",
  "It's your fault.",
}

local function check(cond, what, got)
  if not cond then
    error(what .. (got ~= nil and ("\n  got: " .. vim.inspect(got)) or ""), 0)
  end
end

local function wait_diagnostics(buf, n, what)
  local ok = vim.wait(10000, function()
    return #vim.diagnostic.get(buf) == n
  end, 20)
  check(ok, what .. ": " .. n .. " diagnostics", vim.diagnostic.get(buf))
  local d = vim.diagnostic.get(buf)
  table.sort(d, function(a, b) return a.lnum < b.lnum end)
  return d
end

-- What :lua vim.lsp.buf.code_action() sends with the cursor at (row, col),
-- answered synchronously; the action of that title.
local function code_action(buf, client, row, col, title)
  vim.api.nvim_win_set_cursor(0, { row, col })
  local params = vim.lsp.util.make_range_params()
  params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(buf) }
  local res = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", params, 5000)
  check(res and res[client.id] and res[client.id].result, "a codeAction answer", res)
  local titles = {}
  for _, a in ipairs(res[client.id].result) do
    if a.title == title then
      return a
    end
    table.insert(titles, a.title)
  end
  check(false, "a code action titled " .. title, titles)
end

local function run()
  local path = work .. "/note.txt"
  vim.fn.writefile(lines, path)
  vim.cmd("edit " .. vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local exit_code
  local id = vim.lsp.start_client({
    name = "kindlint",
    cmd = { kindlint, "--lsp", "--no-config", "--no-default-rules", "-r", rules },
    root_dir = work,
    flags = { debounce_text_changes = 10 },
    on_exit = function(code) exit_code = code end,
  })
  check(id, "the client starts")
  check(vim.lsp.buf_attach_client(buf, id), "the buffer attaches")
  local client = vim.lsp.get_client_by_id(id)

  local d = wait_diagnostics(buf, 2, "after opening")
  check(d[1].lnum == 1 and d[1].col == 16 and d[1].end_lnum == 1 and d[1].end_col == 38,
    "you-never at line 2, bytes 16 to 38", d[1])
  check(d[1].code == "you-never" and d[1].source == "kindlint"
    and d[1].severity == vim.diagnostic.severity.WARN, "code, source, severity", d[1])
  check(d[2].lnum == 2 and d[2].col == 0 and d[2].end_col == 15 and d[2].code == "your-fault"
    and d[2].severity == vim.diagnostic.severity.ERROR, "your-fault on line 3", d[2])

  -- hover on "never"
  vim.api.nvim_win_set_cursor(0, { 2, 22 })
  local res = vim.lsp.buf_request_sync(buf, "textDocument/hover",
    vim.lsp.util.make_position_params(), 5000)
  local hover = res and res[id] and res[id].result
  check(hover and hover.contents.value:find("Absolutes invite a defence", 1, true),
    "hover explains the rule", hover)

  -- the rewrite, with the cursor at the start of the line
  local a = code_action(buf, client, 2, 0, "Rewrite as: I feel unheard when you don't listen to me")
  vim.lsp.util.apply_workspace_edit(a.edit, client.offset_encoding)
  check(vim.api.nvim_buf_get_lines(buf, 1, 2, true)[1] ==
    "Cafe\204\129 \240\159\153\132 \226\128\148 I feel unheard when you don't listen to me.",
    "the rewritten line", vim.api.nvim_buf_get_lines(buf, 0, -1, true))
  d = wait_diagnostics(buf, 1, "after the rewrite (incremental change)")
  check(d[1].code == "your-fault" and d[1].lnum == 2, "your-fault is left", d)

  -- the directive above line 3
  a = code_action(buf, client, 3, 5, "Disable your-fault for this line")
  vim.lsp.util.apply_workspace_edit(a.edit, client.offset_encoding)
  check(vim.deep_equal(vim.api.nvim_buf_get_lines(buf, 2, -1, true),
    { "kindlint-disable-next-line your-fault", "It's your fault." }),
    "the directive line", vim.api.nvim_buf_get_lines(buf, 0, -1, true))
  wait_diagnostics(buf, 0, "after the directive")
  vim.cmd("write")

  vim.lsp.stop_client(id)
  check(vim.wait(5000, function() return exit_code ~= nil end, 20), "the server exits")
  check(exit_code == 0, "the server exits with status 0 after shutdown and exit", exit_code)
end

local ok, err = xpcall(run, debug.traceback)
if ok then
  io.stdout:write("ok   neovim: diagnostics, hover, code actions, incremental sync\n")
  vim.cmd("qall!")
else
  io.stdout:write("FAIL " .. tostring(err) .. "\n")
  vim.cmd("cquit 1")
end

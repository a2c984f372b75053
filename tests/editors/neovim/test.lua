-- Headless Neovim 0.11 against the real server, started by the SHIPPED config
-- (editors/neovim: require('threat-analyzer').setup{...}, done by tests/editors/run-neovim.sh
-- before this file runs). The working directory is a copy of examples/webshop.
--
-- Every check is its own function and prints one `PASS name` or `FAIL name: reason` line; a
-- failing check does not stop the others. Ends with `cquit 1` on any failure, `qa!` otherwise.
-- Waits are generous (TIMEOUT) and never asserted on: speed is not what this tests.

local TIMEOUT = 20000
local root = vim.fn.getcwd()
-- EXPECT_LINE lets run-neovim.sh prove that this test can fail (--self-check).
local EXPECT_LINE = tonumber(os.getenv('TA_EXPECT_LINE') or '') or 49 -- 1-based, expected-findings.tsv
local EXPECT_COL = 7 -- 1-based

local function out(s)
  io.stdout:write(s .. '\n')
  io.stdout:flush()
end

-- Messages the plugin reports with vim.notify (:ThreatStatus, :ThreatReindex).
local notified = {}
vim.notify = function(msg, level)
  table.insert(notified, { msg = msg, level = level })
end

-- vim.ui.open, stubbed by the diagram and report checks: records what the plugin (or Neovim's
-- window/showDocument handler) asked to open, and acts as a working opener or as none.
local opened = {}
local function stub_ui_open(works)
  opened = {}
  vim.ui.open = function(target)
    table.insert(opened, target)
    if not works then
      return nil, 'vim.ui.open: no handler found (test stub)'
    end
    return {
      wait = function()
        return { code = 0, signal = 0, stdout = '', stderr = '' }
      end,
    }
  end
end

local ta = require('threat-analyzer')
local bufnr, client

local function get_client()
  return vim.lsp.get_clients({ bufnr = bufnr, name = ta.name })[1]
end

local function require_client()
  client = client or get_client()
  assert(client, 'no threat_analyzer client attached')
  return client
end

-- 0-based line of the first line containing `needle`, and its text.
local function find_line(needle)
  for i, l in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    if l:find(needle, 1, true) then
      return i - 1, l
    end
  end
  error('no line contains ' .. needle)
end

-- A position inside the first `#idor` of the exposure on EXPECT_LINE (ASCII, so UTF-8 and
-- UTF-16 columns agree).
local function idor_position()
  local line = vim.api.nvim_buf_get_lines(bufnr, 48, 49, false)[1]
  local col = assert(line:find('#idor', 1, true), 'line 49 has no #idor: ' .. line)
  return { line = 48, character = col } -- col is 1-based '#', so this is the 'i'
end

local function request(method, params)
  local c = require_client()
  local responses, err = vim.lsp.buf_request_sync(bufnr, method, params, TIMEOUT)
  assert(responses, method .. ': no response (' .. tostring(err) .. ')')
  local r = responses[c.id]
  assert(r, method .. ': no response from threat_analyzer')
  if r.err then
    error(method .. ': error ' .. vim.inspect(r.err))
  end
  return r.result
end

-- Names the missing server capability, so "not wired yet" reads differently from "wrong answer".
local function require_capability(cap)
  local c = require_client()
  assert(c.server_capabilities[cap], 'server does not advertise ' .. cap .. ' (not implemented yet?)')
end

local function uri_path(uri)
  return vim.uri_to_fname(uri)
end

local checks = {}

function checks.filetypes()
  assert(vim.filetype.match({ filename = 'x.gal' }) == 'gal', '*.gal is not filetype gal')
  assert(vim.filetype.match({ filename = 'x.threatspec' }) == 'threatspec', '*.threatspec is not filetype threatspec')
  for _, cmd in ipairs({ 'ThreatStatus', 'ThreatReindex', 'ThreatDfd', 'ThreatReport', 'ThreatDiff' }) do
    assert(vim.fn.exists(':' .. cmd) == 2, ':' .. cmd .. ' is not defined')
  end
end

function checks.attach()
  local ok = vim.wait(TIMEOUT, function()
    local c = get_client()
    return c ~= nil and c.initialized
  end, 50)
  assert(ok, 'no threat_analyzer client attached to api/orders.py')
  client = get_client()
  local want = vim.fs.normalize(vim.uv.fs_realpath(root))
  local got = client.root_dir and vim.fs.normalize(vim.uv.fs_realpath(client.root_dir) or client.root_dir)
  assert(got == want, ('root_dir is %s, want %s'):format(tostring(got), want))
end

function checks.diagnostics()
  local c = require_client()
  local ns = vim.lsp.diagnostic.get_namespace(c.id)
  local function exposure()
    for _, d in ipairs(vim.diagnostic.get(bufnr, { namespace = ns })) do
      if d.code == 'unmitigated-exposure' then
        return d
      end
    end
  end
  local d
  vim.wait(TIMEOUT, function()
    d = exposure()
    return d ~= nil
  end, 50)
  assert(d, 'no unmitigated-exposure diagnostic was pushed; got ' .. vim.inspect(vim.diagnostic.get(bufnr)))
  assert(
    d.lnum + 1 == EXPECT_LINE and d.col + 1 == EXPECT_COL,
    ('unmitigated-exposure at %d:%d, want %d:%d'):format(d.lnum + 1, d.col + 1, EXPECT_LINE, EXPECT_COL)
  )
  assert(d.severity == vim.diagnostic.severity.ERROR, 'severity ' .. tostring(d.severity) .. ', want ERROR')
  assert(d.message:find('idor', 1, true), 'message does not name #idor: ' .. d.message)
end

-- run-neovim.sh calls setup{ settings = { severity = { ['unused-definition'] = 'warning' } } }:
-- the shipped config must carry it to the server (a note by default), under `threatAnalyzer`.
function checks.settings()
  local c = require_client()
  local sent = c.config.init_options and c.config.init_options.threatAnalyzer
  assert(type(sent) == 'table', 'init_options has no threatAnalyzer table: ' .. vim.inspect(c.config.init_options))
  assert(vim.tbl_get(c.settings, 'threatAnalyzer', 'severity'), 'settings has no threatAnalyzer.severity')
  local defs = vim.uri_to_bufnr(vim.uri_from_fname(vim.fs.joinpath(root, '.guardlink', 'definitions.gal')))
  local ns = vim.lsp.diagnostic.get_namespace(c.id)
  local d
  vim.wait(TIMEOUT, function()
    for _, x in ipairs(vim.diagnostic.get(defs, { namespace = ns })) do
      if x.code == 'unused-definition' then
        d = x
        return true
      end
    end
  end, 50)
  assert(d, 'no unused-definition diagnostic was pushed for .guardlink/definitions.gal')
  assert(d.lnum + 1 == 26, 'unused-definition on line ' .. (d.lnum + 1) .. ', want 26')
  assert(
    d.severity == vim.diagnostic.severity.WARN,
    'unused-definition has severity ' .. tostring(d.severity) .. ', want WARN (setting not applied)'
  )
end

function checks.status_command()
  require_client()
  notified = {}
  vim.cmd('ThreatStatus')
  local msg
  vim.wait(TIMEOUT, function()
    msg = notified[1]
    return msg ~= nil
  end, 50)
  assert(msg, ':ThreatStatus reported nothing')
  assert(msg.level ~= vim.log.levels.ERROR, ':ThreatStatus failed: ' .. msg.msg)
  local n = tonumber(msg.msg:match('(%d+) annotations'))
  assert(n and n > 0, ':ThreatStatus reported no annotations: ' .. msg.msg)
end

function checks.completion()
  require_capability('completionProvider')
  -- A new line under the exposure's comment block (line 49 stays where it is), sent to the
  -- server as an incremental change.
  local row = find_line('SHOP-311') + 1
  local text = '    # @mitigates Shop.Api.Orders against #'
  vim.api.nvim_buf_set_lines(bufnr, row, row, false, { text })
  local ok, result = pcall(request, 'textDocument/completion', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = row, character = #text },
    context = { triggerKind = 2, triggerCharacter = '#' },
  })
  vim.api.nvim_buf_set_lines(bufnr, row, row + 1, false, {})
  assert(ok, result)
  assert(result, 'completion returned null')
  local items = result.items or result
  local labels = {}
  for _, item in ipairs(items) do
    -- `idor` or `#idor`, as the label or as what the item inserts.
    local texts = { item.label, item.filterText, item.insertText, item.textEdit and item.textEdit.newText }
    for _, t in pairs(texts) do
      if t:gsub('^#', '') == 'idor' then
        return
      end
    end
    table.insert(labels, item.label)
  end
  error('no idor among ' .. #labels .. ' items: ' .. table.concat(labels, ' '))
end

function checks.definition()
  require_capability('definitionProvider')
  local result = request('textDocument/definition', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = idor_position(),
  })
  assert(result, 'definition returned null')
  local loc = result.uri and result or result[1]
  assert(loc, 'definition returned no location')
  local uri = loc.uri or loc.targetUri
  local range = loc.range or loc.targetSelectionRange
  assert(
    uri_path(uri):match('/%.guardlink/definitions%.gal$'),
    'definition is in ' .. uri_path(uri) .. ', want .guardlink/definitions.gal'
  )
  assert(range.start.line == 5, 'definition on line ' .. (range.start.line + 1) .. ', want 6 (@threat ... (#idor))')
  -- And the client really jumps there (vim.lsp.buf.definition, as `gd`-style mappings do).
  local win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_cursor(win, { 49, idor_position().character })
  vim.lsp.buf.definition()
  local jumped = vim.wait(TIMEOUT, function()
    return vim.api.nvim_buf_get_name(0):match('/%.guardlink/definitions%.gal$') ~= nil
  end, 50)
  local landed = vim.api.nvim_win_get_cursor(0)[1]
  local ft = vim.bo.filetype
  vim.api.nvim_set_current_buf(bufnr)
  assert(jumped, 'vim.lsp.buf.definition() did not open .guardlink/definitions.gal')
  assert(landed == 6, 'jumped to line ' .. landed .. ', want 6')
  assert(ft == 'gal', 'definitions.gal opened with filetype ' .. ft .. ', want gal')
end

function checks.hover()
  require_capability('hoverProvider')
  local result = request('textDocument/hover', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = idor_position(),
  })
  assert(result and result.contents, 'hover returned nothing')
  local c = result.contents
  local parts = {}
  for _, v in ipairs(vim.islist(c) and c or { c }) do
    table.insert(parts, type(v) == 'string' and v or v.value)
  end
  local text = table.concat(parts, '\n')
  assert(text:find('Insecure Direct Object Reference', 1, true), 'hover does not name the threat: ' .. text)
end

function checks.rename()
  require_capability('renameProvider')
  local result = request('textDocument/rename', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = idor_position(),
    newName = 'idor-renamed',
  })
  assert(result, 'rename returned null')
  local files = {}
  for uri, edits in pairs(result.changes or {}) do
    if #edits > 0 then
      files[uri_path(uri)] = true
    end
  end
  for _, change in ipairs(result.documentChanges or {}) do
    if change.textDocument and #change.edits > 0 then
      files[uri_path(change.textDocument.uri)] = true
    end
  end
  local names = vim.tbl_keys(files)
  table.sort(names)
  assert(#names > 1, 'rename edits ' .. #names .. ' file(s): ' .. table.concat(names, ' '))
  local has_defs = vim.iter(names):any(function(n)
    return n:match('/%.guardlink/definitions%.gal$') ~= nil
  end)
  assert(has_defs, 'rename does not edit .guardlink/definitions.gal: ' .. table.concat(names, ' '))
end

local function realpath(path)
  return vim.fs.normalize(vim.uv.fs_realpath(path) or path)
end

local function notified_text()
  return table.concat(vim.tbl_map(function(n)
    return n.msg
  end, notified), ' | ')
end

-- The window showing a buffer whose name matches `pattern`, waiting for it.
local function wait_for_window(pattern)
  local found
  vim.wait(TIMEOUT, function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(w)):match(pattern) then
        found = w
        return true
      end
    end
  end, 50)
  return found
end

-- Runs the command `cmd` with a working (stubbed) opener; returns the path it opened.
local function run_and_open(cmd)
  stub_ui_open(true)
  notified = {}
  vim.cmd(cmd)
  local ok = vim.wait(TIMEOUT, function()
    return #opened > 0
  end, 50)
  assert(ok, ':' .. cmd .. ' opened nothing; it said: ' .. notified_text())
  return opened[1]:match('^file:') and vim.uri_to_fname(opened[1]) or opened[1]
end

-- Closes `win` and returns to the buffer the checks work on.
local function close_and_return(win)
  if win and vim.api.nvim_win_is_valid(win) and #vim.api.nvim_list_wins() > 1 then
    vim.api.nvim_win_close(win, true)
  end
  vim.api.nvim_set_current_buf(bufnr)
end

-- :ThreatDfd with a working opener: the server writes the HTML preview outside the workspace
-- and Neovim (window/showDocument) or the plugin opens it.
function checks.dfd_preview()
  require_client()
  local path = run_and_open('ThreatDfd')
  assert(vim.uv.fs_stat(path), 'opened ' .. path .. ', which does not exist')
  local html = table.concat(vim.fn.readfile(path), '\n')
  assert(html:find('<svg', 1, true), path .. ' has no <svg')
  assert(
    not vim.startswith(realpath(path), realpath(root) .. '/'),
    'the preview was written into the workspace: ' .. path
  )
end

-- :ThreatDfd without an opener: the diagram as Mermaid text in a split.
function checks.dfd_mermaid_fallback()
  require_client()
  local name = 'threat-analyzer://dfd/project.mmd'
  local old = vim.fn.bufnr(name)
  if old ~= -1 then
    vim.api.nvim_buf_delete(old, { force = true })
  end
  stub_ui_open(false)
  notified = {}
  vim.cmd('ThreatDfd project')
  local win = wait_for_window('^threat%-analyzer://dfd/project%.mmd$')
  local buf = win and vim.api.nvim_win_get_buf(win)
  local lines = buf and vim.api.nvim_buf_get_lines(buf, 0, -1, false) or {}
  local ft = buf and vim.bo[buf].filetype
  close_and_return(win)
  assert(win, 'no window shows ' .. name .. '; it said: ' .. notified_text())
  assert(ft == 'mermaid', 'filetype ' .. tostring(ft) .. ', want mermaid')
  assert(lines[1] == 'flowchart LR', 'first line ' .. tostring(lines[1]) .. ', want flowchart LR')
  assert(table.concat(lines, '\n'):find('Legacy Admin Panel', 1, true), 'the diagram has no Legacy Admin Panel')
  assert(#opened > 0, 'the browser was not tried first')
end

-- :ThreatReport markdown: the CLI writes .threatmodel/report.md in the root, shown in a split.
function checks.report_markdown()
  require_client()
  notified = {}
  vim.cmd('ThreatReport markdown')
  local win = wait_for_window('/%.threatmodel/report%.md$')
  local path = win and vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(win))
  close_and_return(win)
  assert(path, ':ThreatReport markdown showed no report.md; it said: ' .. notified_text())
  local want = vim.fs.joinpath(root, '.threatmodel', 'report.md')
  assert(realpath(path) == realpath(want), 'report at ' .. path .. ', want ' .. want)
  local text = table.concat(vim.fn.readfile(path), '\n')
  assert(text:find('\n## Summary\n', 1, true), path .. ' has no "## Summary" heading')
end

-- :ThreatReport html: the CLI writes .threatmodel/report.html, opened in the browser.
function checks.report_html()
  require_client()
  local path = run_and_open('ThreatReport html')
  local want = vim.fs.joinpath(root, '.threatmodel', 'report.html')
  assert(realpath(path) == realpath(want), 'opened ' .. path .. ', want ' .. want)
  local html = table.concat(vim.fn.readfile(want), '\n')
  assert(html:find('<svg', 1, true) and html:find('Summary', 1, true), want .. ' has no diagram or summary')
end

-- Runs git in the workspace (the test builds its fixture with git; the plugin and the server
-- never run it).
local function git(args)
  local argv = { 'git', '-c', 'user.name=test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false' }
  local r = vim.system(vim.list_extend(argv, args), { cwd = root, text = true }):wait()
  assert(r.code == 0, 'git ' .. table.concat(args, ' ') .. ' failed: ' .. (r.stderr or ''))
end

-- :ThreatDiff: the workspace committed as `main` (a real repository in the `.git` the scratch
-- copy has), then an unsaved new exposure in the buffer: the scratch buffer lists it on the
-- head side at its line, and <CR> on that line opens it there. An unknown revision is an error.
function checks.diff()
  require_client()
  git({ 'init', '-q', '-b', 'main' })
  git({ 'add', '-A' })
  git({ 'commit', '-q', '-m', 'base' })
  local row = find_line('SHOP-311') + 1
  vim.api.nvim_buf_set_lines(bufnr, row, row, false, { '    # @exposes Shop.Api.Orders to #xss [P1]' })
  local ok, err = pcall(function()
    notified = {}
    vim.cmd('ThreatDiff')
    local win = wait_for_window('^threat%-analyzer://diff/main$')
    assert(win, ':ThreatDiff showed no threat-analyzer://diff/main; it said: ' .. notified_text())
    local lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
    local text = table.concat(lines, '\n')
    assert(lines[1]:match('^threat%-analyzer diff: main %(%x+%) %-> workspace: '), 'header: ' .. lines[1])
    local want = ('  api/orders.py:%d'):format(row + 1)
    local at
    for i, l in ipairs(lines) do
      if vim.endswith(l, want) and l:find('Cross-Site Scripting', 1, true) then
        at = i
      end
    end
    assert(at, 'no change ending with' .. want .. ' names Cross-Site Scripting:\n' .. text)
    assert(lines[at]:match('^%[risk%-increase%] '), 'the new exposure is not a risk increase: ' .. lines[at])
    vim.api.nvim_set_current_win(win)
    vim.api.nvim_win_set_cursor(win, { at, 0 })
    vim.api.nvim_feedkeys(vim.keycode('<CR>'), 'x', false)
    local name, cursor = vim.api.nvim_buf_get_name(0), vim.api.nvim_win_get_cursor(0)
    assert(realpath(name) == realpath(vim.fs.joinpath(root, 'api', 'orders.py')), '<CR> opened ' .. name)
    assert(cursor[1] == row + 1, '<CR> went to line ' .. cursor[1] .. ', want ' .. (row + 1))
    -- The server sent the repository's root, and the buffer keeps it: no `.git` search needed.
    local repo = vim.b[vim.api.nvim_win_get_buf(win)].threat_analyzer_diff_repo
    assert(repo and realpath(repo) == realpath(root), 'the diff buffer has no repository root: ' .. tostring(repo))
    local head = { side = 'head', file = 'api/orders.py', line = 3, column = 1 }
    local elsewhere = vim.fn.fnamemodify(vim.fn.tempname(), ':h')
    assert(ta.locate_change(head, elsewhere, repo) == vim.fs.joinpath(repo, 'api/orders.py'), 'repo root unused')
    assert(ta.locate_change(head, elsewhere, 'relative') == vim.fs.joinpath(elsewhere, 'api/orders.py'))
    -- A place on the base is named, never opened.
    local path, why_not = ta.locate_change({ side = 'base', file = 'api/orders.py', line = 3, column = 1 }, root)
    assert(path == nil and why_not:find('only in the base revision', 1, true), 'a base place: ' .. tostring(path))
    close_and_return(win)
    notified = {}
    vim.cmd('ThreatDiff no-such-revision')
    vim.wait(TIMEOUT, function()
      return #notified > 0
    end, 50)
    local msg = notified[1]
    assert(msg and msg.level == vim.log.levels.ERROR, 'an unknown revision reported ' .. notified_text())
    assert(msg.msg:find('no-such-revision', 1, true), 'the error does not name the revision: ' .. msg.msg)
  end)
  vim.api.nvim_buf_set_lines(bufnr, row, row + 1, false, {})
  vim.api.nvim_set_current_buf(bufnr)
  assert(ok, err)
end

function checks.command_completion()
  local dfd = vim.fn.getcompletion('ThreatDfd bo', 'cmdline')
  assert(vim.deep_equal(dfd, { 'boundary:' }), ':ThreatDfd bo<Tab> gives ' .. vim.inspect(dfd))
  local report = vim.fn.getcompletion('ThreatReport ', 'cmdline')
  assert(vim.deep_equal(report, { 'markdown', 'html' }), ':ThreatReport <Tab> gives ' .. vim.inspect(report))
end

local order = {
  'filetypes', 'attach', 'diagnostics', 'settings', 'status_command', 'completion', 'definition', 'hover', 'rename',
  'dfd_preview', 'dfd_mermaid_fallback', 'report_markdown', 'report_html', 'diff', 'command_completion',
}

-- Not a file argument: the buffer is opened here, after setup(), so FileType starts the client.
vim.cmd.edit(vim.fs.joinpath(root, 'api', 'orders.py'))
bufnr = vim.api.nvim_get_current_buf()

local failed = {}
for _, name in ipairs(order) do
  local ok, err = pcall(checks[name])
  if ok then
    out('PASS ' .. name)
  else
    out('FAIL ' .. name .. ': ' .. tostring(err):gsub('^[^:]*test%.lua:%d+: ', ''))
    table.insert(failed, name)
  end
end

if #failed > 0 then
  out(('neovim: %d of %d checks failed: %s'):format(#failed, #order, table.concat(failed, ' ')))
  vim.cmd('cquit 1')
else
  out(('neovim: all %d checks passed'):format(#order))
  vim.cmd('qa!')
end

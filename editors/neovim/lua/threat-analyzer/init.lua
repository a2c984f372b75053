--- threat-analyzer for Neovim 0.11+: registers the language server with the built-in client
--- (`vim.lsp.config` + `vim.lsp.enable`) and offers the server's commands.
---
--- ```lua
--- require('threat-analyzer').setup {
---   cmd = { 'threat-analyzer' },                      -- or an absolute path
---   settings = { severity = { ['unused-definition'] = 'off' }, maxFileSize = 1048576 },
---   browser = true,                                   -- false: never open a browser
--- }
--- ```
local M = {}

--- What the plugin itself reads from `setup(opts)` (everything else goes to `vim.lsp.config`).
--- `browser`: open HTML (diagram preview, HTML report) with `vim.ui.open`; `false` shows the
--- diagram as Mermaid text in a split instead. `cli`: the command that runs the CLI for
--- `:ThreatReport` (default: the server command's program).
M.options = { browser = true, cli = nil }

--- Keys of `setup(opts)` that are the plugin's options, not `vim.lsp.Config` fields.
local PLUGIN_OPTIONS = { 'browser', 'cli' }

--- The name of the client, as `vim.lsp.config`, `vim.lsp.enable` and `:checkhealth vim.lsp` see it.
M.name = 'threat_analyzer'

--- Every filetype whose comments the server reads. `gal` and `threatspec` are registered by
--- `setup()` (and by plugin/threat-analyzer.lua) for `*.gal` and `*.threatspec` files.
M.filetypes = {
  'python', 'rust', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'java',
  'c', 'cpp', 'cs', 'ruby', 'php', 'sh', 'bash', 'zsh', 'yaml', 'terraform', 'hcl', 'toml',
  'kotlin', 'swift', 'scala', 'lua', 'json', 'jsonc', 'dockerfile', 'text', 'gal', 'threatspec',
}

--- Files or directories that mark the root of a threat model, in priority order.
M.root_markers = { 'threatspec.yaml', '.guardlink', '.git' }

--- Registers the `gal` and `threatspec` filetypes. Safe to call more than once.
function M.register_filetypes()
  vim.filetype.add { extension = { gal = 'gal', threatspec = 'threatspec' } }
end

--- The `vim.lsp.config` table that `setup(opts)` registers.
--- @param opts? table see README.md: cmd, settings, filetypes, root_markers, and any other
---   `vim.lsp.Config` field (on_attach, capabilities, ...), which is passed through unchanged.
--- @return vim.lsp.Config
function M.config(opts)
  opts = vim.deepcopy(opts or {})
  local cmd = opts.cmd or { 'threat-analyzer' }
  if type(cmd) == 'string' then
    cmd = { cmd }
  end
  -- The server reads the same table from `initializationOptions` (at start-up) and from
  -- `workspace/didChangeConfiguration` (Neovim sends `settings` right after `initialized`).
  local settings = { threatAnalyzer = opts.settings or {} }
  local config = {
    cmd = cmd,
    filetypes = opts.filetypes or M.filetypes,
    root_markers = opts.root_markers or M.root_markers,
    init_options = settings,
    settings = settings,
    handlers = { ['window/showDocument'] = M.show_document },
  }
  for _, key in ipairs(vim.list_extend({ 'cmd', 'settings', 'filetypes', 'root_markers' }, PLUGIN_OPTIONS)) do
    opts[key] = nil
  end
  return vim.tbl_deep_extend('force', config, opts)
end

--- Registers the server and enables it for every filetype in `opts.filetypes`.
--- @param opts? table
function M.setup(opts)
  if vim.fn.has('nvim-0.11') ~= 1 then
    vim.notify(
      'threat-analyzer: Neovim 0.11 or newer is needed (vim.lsp.config); see README.md for nvim-lspconfig',
      vim.log.levels.ERROR
    )
    return
  end
  for _, key in ipairs(PLUGIN_OPTIONS) do
    if opts and opts[key] ~= nil then
      M.options[key] = opts[key]
    end
  end
  M.register_filetypes()
  M.create_commands()
  vim.lsp.config(M.name, M.config(opts))
  vim.lsp.enable(M.name)
end

--- The threat-analyzer client for `bufnr` (default: the current buffer), or else any running one.
--- @param bufnr? integer
--- @return vim.lsp.Client?
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local clients = vim.lsp.get_clients { bufnr = bufnr, name = M.name }
  if #clients == 0 then
    clients = vim.lsp.get_clients { name = M.name }
  end
  return clients[1]
end

--- Sends `workspace/executeCommand` to the threat-analyzer client.
--- @param command string e.g. 'threat-analyzer.status'
--- @param callback fun(err: lsp.ResponseError?, result: any)
--- @param bufnr? integer
--- @param arguments? any[] the command's `arguments` (default: none)
function M.execute(command, callback, bufnr, arguments)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    callback({ code = -32603, message = 'threat-analyzer is not running (open a supported file first)' }, nil)
    return
  end
  local params = { command = command, arguments = arguments or {} }
  client:request('workspace/executeCommand', params, function(err, result)
    callback(err, result)
  end, bufnr)
end

--- The client's project root: its `root_dir`, else its first workspace folder.
--- @param client vim.lsp.Client
--- @return string?
function M.root(client)
  local folder = client.workspace_folders and client.workspace_folders[1]
  return client.root_dir or (folder and vim.uri_to_fname(folder.uri))
end

--- Whether the server advertises `command` (servers older than a command do not have it).
--- @param client vim.lsp.Client
--- @param command string
--- @return boolean
function M.has_command(client, command)
  local commands = vim.tbl_get(client.server_capabilities or {}, 'executeCommandProvider', 'commands') or {}
  return vim.list_contains(commands, command)
end

--- Reports an error of a command with `vim.notify`.
local function notify_error(what, err)
  local message = type(err) == 'table' and (err.message or vim.inspect(err)) or tostring(err)
  vim.notify('threat-analyzer ' .. what .. ': ' .. message, vim.log.levels.ERROR)
end

--- One line for the result of `threat-analyzer.status`.
--- @param result table?
--- @return string
function M.format_status(result)
  if type(result) ~= 'table' then
    return 'threat-analyzer: ' .. vim.inspect(result)
  end
  local known = {
    { 'files_scanned', 'files scanned' },
    { 'files_with_annotations', 'files with annotations' },
    { 'annotations', 'annotations' },
    { 'open_documents', 'open documents' },
    { 'revision', 'revision' },
  }
  local parts, seen = {}, {}
  for _, k in ipairs(known) do
    if result[k[1]] ~= nil then
      table.insert(parts, k[1] == 'revision' and ('revision ' .. tostring(result[k[1]]))
        or (tostring(result[k[1]]) .. ' ' .. k[2]))
      seen[k[1]] = true
    end
  end
  local rest = {}
  for k, v in pairs(result) do
    if not seen[k] then
      table.insert(rest, k .. '=' .. vim.inspect(v))
    end
  end
  table.sort(rest)
  vim.list_extend(parts, rest)
  return 'threat-analyzer: ' .. table.concat(parts, ', ')
end

--- `:ThreatStatus`: asks the server for its index status and reports it with `vim.notify`.
function M.status()
  M.execute('threat-analyzer.status', function(err, result)
    if err then
      vim.notify('threat-analyzer status: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    else
      vim.notify(M.format_status(result), vim.log.levels.INFO)
    end
  end)
end

--- `:ThreatReindex`: asks the server to walk the workspace again (progress shows in
--- `vim.lsp.status()` and any progress UI).
function M.reindex()
  M.execute('threat-analyzer.reindex', function(err)
    if err then
      vim.notify('threat-analyzer reindex: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    else
      vim.notify('threat-analyzer: reindexing the workspace', vim.log.levels.INFO)
    end
  end)
end

--- The `scope` argument of the diagram commands for `:ThreatDfd [scope]`: `project` (the
--- default), `file` (the current buffer), `file:PATH`, `boundary:NAME` or `component:NAME`.
--- @param arg string?
--- @param bufnr integer the current buffer, for `file`
--- @return string|table? scope, string? error
function M.parse_scope(arg, bufnr)
  if arg == nil or arg == '' or arg == 'project' then
    return 'project'
  end
  if arg == 'file' then
    return { file = vim.uri_from_bufnr(bufnr) }
  end
  local kind, value = arg:match('^(%a+):(.+)$')
  if kind == 'boundary' or kind == 'component' then
    return { [kind] = value }
  end
  if kind == 'file' then
    return { file = vim.uri_from_fname(vim.fn.fnamemodify(value, ':p')) }
  end
  return nil, ('unknown scope %q: use project, file, file:PATH, boundary:NAME or component:NAME'):format(arg)
end

--- A short name for a scope, used in buffer names.
local function scope_label(scope)
  if type(scope) ~= 'table' then
    return tostring(scope)
  end
  local kind, value = next(scope)
  if kind == 'file' then
    value = vim.fs.basename(vim.uri_to_fname(value))
  end
  return kind .. '-' .. value
end

--- Opens `target` (a path or URI) with `vim.ui.open`, waiting up to 2 s for the opener as
--- Neovim's own `window/showDocument` handler does.
--- @param target string
--- @return boolean opened, string? why_not
function M.open_external(target)
  if M.options.browser == false then
    return false, 'browser = false'
  end
  local cmd, err = vim.ui.open(target)
  local ret = cmd and cmd:wait(2000) or nil
  if ret == nil then
    return false, err or 'no opener'
  end
  if ret.code ~= 0 then
    return false, ('opener exited with %d %s'):format(ret.code, ret.stderr or '')
  end
  return true
end

--- Shows `text` in a scratch buffer named `threat-analyzer://NAME` in a split at the bottom,
--- reusing the buffer (and its window) when it is already there.
--- @param name string
--- @param filetype string
--- @param text string
--- @return integer bufnr
function M.show_text(name, filetype, text)
  local bufname = 'threat-analyzer://' .. name
  local buf
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(b) == bufname then
      buf = b
    end
  end
  if not buf then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, bufname)
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(text, '\n', { trimempty = true }))
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = filetype
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buf)
  else
    vim.api.nvim_set_current_win(win)
  end
  return buf
end

--- Opens `path` in a split at the bottom (or goes to the window already showing it), reloading
--- it from disk.
--- @param path string
function M.open_in_split(path)
  local buf = vim.fn.bufnr(path)
  local win = buf ~= -1 and vim.fn.bufwinid(buf) or -1
  if win ~= -1 then
    vim.api.nvim_set_current_win(win)
  else
    vim.cmd('botright split ' .. vim.fn.fnameescape(path))
  end
  vim.cmd.checktime(vim.api.nvim_get_current_buf())
end

--- The `:ThreatDfd` waiting for its preview to be opened: `{ fallback = fun(reason) }`.
local pending_dfd

--- `window/showDocument` for the threat-analyzer client. External documents (the diagram
--- preview the server asks to show) open with `M.open_external`, as Neovim's own handler would
--- do with `vim.ui.open`; when that fails, the `:ThreatDfd` that asked shows Mermaid text
--- instead. Other documents go to Neovim's handler.
--- @param err lsp.ResponseError?
--- @param params lsp.ShowDocumentParams
--- @param ctx lsp.HandlerContext
function M.show_document(err, params, ctx)
  if not params.external then
    return vim.lsp.handlers['window/showDocument'](err, params, ctx)
  end
  local waiting = pending_dfd
  pending_dfd = nil
  local opened, why_not = M.open_external(params.uri)
  if opened then
    vim.notify('threat-analyzer: opened ' .. params.uri, vim.log.levels.INFO)
  elseif waiting then
    waiting.fallback('cannot open ' .. params.uri .. ': ' .. why_not)
  end
  return { success = opened }
end

--- `:ThreatDfd [scope]`: the data-flow diagram. Asks the server for its HTML preview
--- (`threat-analyzer.showDfd`), which the server asks Neovim to open (`window/showDocument`,
--- see `M.show_document`), or else the plugin opens the file the server wrote; without a
--- browser (no opener, `browser = false`, or a server without the preview) shows the diagram as
--- Mermaid text (`threat-analyzer.dfd`) in a split.
--- @param arg string?
function M.dfd(arg)
  local bufnr = vim.api.nvim_get_current_buf()
  local scope, err = M.parse_scope(arg, bufnr)
  if not scope then
    return notify_error('dfd', err)
  end
  local function mermaid(reason)
    M.execute('threat-analyzer.dfd', function(dfd_err, result)
      if dfd_err then
        return notify_error('dfd', dfd_err)
      end
      M.show_text('dfd/' .. scope_label(scope) .. '.mmd', 'mermaid', result.text)
      vim.notify('threat-analyzer: data-flow diagram as Mermaid text (' .. reason .. ')', vim.log.levels.INFO)
    end, bufnr, { { format = 'mermaid', scope = scope } })
  end
  local client = M.client(bufnr)
  if not client then
    return notify_error('dfd', 'not running (open a supported file first)')
  end
  if M.options.browser == false then
    return mermaid('browser = false')
  end
  if not M.has_command(client, 'threat-analyzer.showDfd') then
    return mermaid('this server has no HTML preview')
  end
  -- Set before the request: the server's window/showDocument may arrive before its answer.
  pending_dfd = { fallback = mermaid }
  M.execute('threat-analyzer.showDfd', function(show_err, result)
    if show_err then
      pending_dfd = nil
      return mermaid('no HTML preview: ' .. (show_err.message or vim.inspect(show_err)))
    end
    if result.shown then
      return -- the server asked Neovim to open it: M.show_document does, or falls back
    end
    pending_dfd = nil
    local path = result.path or vim.uri_to_fname(result.uri)
    local opened, why_not = M.open_external(path)
    if opened then
      vim.notify('threat-analyzer: opened the data-flow diagram ' .. path, vim.log.levels.INFO)
    else
      mermaid('cannot open ' .. path .. ': ' .. why_not)
    end
  end, bufnr, { { scope = scope } })
end

--- Report formats of `:ThreatReport` and their file extensions.
M.report_formats = { markdown = 'md', html = 'html' }

--- The CLI as a command list: `options.cli`, else the server command's program.
--- @param client vim.lsp.Client
--- @return string[]
function M.cli(client)
  local cli = M.options.cli
  if type(cli) == 'string' then
    return { cli }
  elseif type(cli) == 'table' then
    return vim.deepcopy(cli)
  end
  local cmd = client.config.cmd
  return { type(cmd) == 'table' and cmd[1] or 'threat-analyzer' }
end

--- `:ThreatReport [markdown|html] [FILE]`: writes the threat-model report of the server's
--- project root with the CLI (`threat-analyzer report ROOT --format F -o FILE`, run without a
--- shell), by default to `.threatmodel/report.md` (`.html`) in the root as the CLI does, then
--- opens it: Markdown in a split, HTML in the browser.
--- @param format string?
--- @param output string?
function M.report(format, output)
  format = format or 'markdown'
  local ext = M.report_formats[format]
  if not ext then
    return notify_error('report', ('unknown format %q: use markdown or html'):format(format))
  end
  local client = M.client()
  if not client then
    return notify_error('report', 'not running (open a supported file first)')
  end
  local root = M.root(client)
  if not root then
    return notify_error('report', 'the server has no project root')
  end
  -- A FILE the user typed may lie outside the project; the default stays in it.
  local named = output ~= nil
  output = output and vim.fn.fnamemodify(output, ':p') or vim.fs.joinpath(root, '.threatmodel', 'report.' .. ext)
  local argv = vim.list_extend(M.cli(client), { 'report', root, '--format', format, '-o', output })
  if named then
    table.insert(argv, '--allow-outside-output')
  end
  local ok, err = pcall(vim.system, argv, { text = true, cwd = root }, function(done)
    vim.schedule(function()
      if done.code ~= 0 then
        return notify_error('report', vim.trim(done.stderr or '') .. ' (exit ' .. done.code .. ')')
      end
      vim.notify('threat-analyzer: wrote the ' .. format .. ' report to ' .. output, vim.log.levels.INFO)
      if format == 'markdown' then
        M.open_in_split(output)
      else
        local opened, why_not = M.open_external(output)
        if not opened then
          vim.notify('threat-analyzer: not opened (' .. why_not .. '): ' .. output, vim.log.levels.WARN)
        end
      end
    end)
  end)
  if not ok then
    notify_error('report', err)
  end
end

--- The revision `:ThreatDiff` compares with when none is given.
M.default_diff_base = 'main'

--- The words of `threat-analyzer.diff`'s verdicts.
local VERDICTS = {
  ['risk-increase'] = 'risk increase',
  review = 'changes to review',
  ['no-risk-increase'] = 'no risk increase',
  ['no-change'] = 'no change',
}

--- One line of text: the result is repository text, and buffer lines cannot hold newlines.
local function one_line(s)
  return (tostring(s):gsub('[\r\n\t]+', ' '))
end

--- A side of the diff as `label (commit)`.
local function side_label(side, fallback)
  if type(side) ~= 'table' then
    return fallback
  end
  local label = type(side.label) == 'string' and side.label or fallback
  if type(side.commit) == 'string' then
    return ('%s (%s)'):format(label, side.commit:sub(1, 8))
  end
  return label
end

--- The place of a change (`side`, `file`, `line`, `column`) when it has one.
--- @param change table
--- @return table?
local function change_place(change)
  local line = change.line
  if type(change.file) ~= 'string' or change.file == '' or type(line) ~= 'number' or line < 1 then
    return nil
  end
  if change.side ~= 'head' and change.side ~= 'base' then
    return nil
  end
  local column = type(change.column) == 'number' and change.column >= 1 and change.column or 1
  return { side = change.side, file = change.file, line = line, column = column }
end

--- The scratch buffer's lines for a `threat-analyzer.diff` result: a header (the two sides and
--- the verdict), then one line per change in the server's order (most severe first):
--- `[impact] message  file:line`, with ` (base)` after a place that exists only on the base.
--- @param result table
--- @return string[] lines, table<integer, table> places the place of each change, by 1-based line
function M.format_diff(result)
  local changes = type(result) == 'table' and type(result.changes) == 'table' and result.changes or {}
  local verdict = VERDICTS[result and result.verdict] or tostring(result and result.verdict)
  local count = 0
  local lines, places = {}, {}
  for _, change in ipairs(changes) do
    if type(change) == 'table' then
      count = count + 1
      local place = change_place(change)
      local where = place and ('  %s:%d%s'):format(place.file, place.line, place.side == 'base' and ' (base)' or '') or ''
      table.insert(lines, one_line(('[%s] %s%s'):format(tostring(change.impact), tostring(change.message), where)))
      places[#lines + 1] = place
    end
  end
  local header = ('threat-analyzer diff: %s -> %s: %s, %d %s'):format(
    side_label(result and result.base, 'base'),
    side_label(result and result.head, 'workspace'),
    verdict,
    count,
    count == 1 and 'change' or 'changes'
  )
  table.insert(lines, 1, one_line(header))
  return lines, places
end

--- Whether `path` is an absolute path (POSIX, or a Windows drive).
local function is_absolute(path)
  return type(path) == 'string' and (path:match('^/') ~= nil or path:match('^%a:[/\\]') ~= nil)
end

--- The file of a head-side place: paths are relative to the repository's root, which is
--- `repo` (the diff result's `root`, the server's working-tree root) when it is an absolute
--- path, else the first of `root` and its parents holding `.git` (else `root`). A path that is
--- absolute or has `..` is refused.
--- @param place table
--- @param root string
--- @param repo string?
--- @return string? path, string? why_not
function M.locate_change(place, root, repo)
  if place.side ~= 'head' then
    return nil, ('%s:%d exists only in the base revision, not in the workspace'):format(place.file, place.line)
  end
  if is_absolute(place.file) or vim.list_contains(vim.split(place.file, '/'), '..') then
    return nil, place.file .. ' is not a path inside the repository'
  end
  if is_absolute(repo) then
    return vim.fs.joinpath(repo, place.file)
  end
  local git = vim.fs.find('.git', { upward = true, path = root, limit = 1 })[1]
  return vim.fs.joinpath(git and vim.fs.dirname(git) or root, place.file)
end

--- `<CR>` in the `:ThreatDiff` buffer: opens the change's file at its line in another window
--- (a place on the base is only named).
function M.open_diff_line()
  local buf = vim.api.nvim_get_current_buf()
  local places = vim.b[buf].threat_analyzer_diff_places or {}
  local place = places[tostring(vim.api.nvim_win_get_cursor(0)[1])]
  if not place then
    return vim.notify('threat-analyzer: this line has no place to open', vim.log.levels.INFO)
  end
  local path, why_not =
    M.locate_change(place, vim.b[buf].threat_analyzer_diff_root, vim.b[buf].threat_analyzer_diff_repo)
  if not path then
    return vim.notify('threat-analyzer: ' .. why_not .. '; not opened', vim.log.levels.INFO)
  end
  -- A window already showing the file, else another window of the tab, else a new split;
  -- the file's buffer is kept as it is (unsaved edits are what the server compared).
  local diff_win = vim.api.nvim_get_current_win()
  local file_buf = vim.fn.bufadd(path)
  local showing, other
  for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if w ~= diff_win and vim.api.nvim_win_get_config(w).relative == '' then
      other = other or w
      if vim.api.nvim_win_get_buf(w) == file_buf then
        showing = showing or w
      end
    end
  end
  local target = showing or other
  if target then
    vim.api.nvim_set_current_win(target)
  else
    vim.cmd('aboveleft split')
  end
  vim.bo[file_buf].buflisted = true
  -- With 'nohidden', a modified buffer in that window cannot be left: split it instead.
  if not pcall(vim.api.nvim_win_set_buf, 0, file_buf) then
    vim.cmd('aboveleft split')
    vim.api.nvim_win_set_buf(0, file_buf)
  end
  local last = vim.api.nvim_buf_line_count(0)
  pcall(vim.api.nvim_win_set_cursor, 0, { math.min(place.line, last), place.column - 1 })
end

--- `:ThreatDiff [ref]`: compares the threat model at the git revision `ref` (default
--- `M.default_diff_base`) with the workspace as the server holds it (`threat-analyzer.diff`),
--- and lists the changes in a scratch split (`threat-analyzer://diff/REF`); `<CR>` on a change
--- opens its place.
--- @param ref string?
function M.diff(ref)
  ref = (ref == nil or vim.trim(ref) == '') and M.default_diff_base or vim.trim(ref)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    return notify_error('diff', 'not running (open a supported file first)')
  end
  local root = M.root(client)
  M.execute('threat-analyzer.diff', function(err, result)
    if err then
      return notify_error('diff', err)
    end
    if type(result) ~= 'table' or type(result.changes) ~= 'table' then
      return notify_error('diff', 'the server returned no diff: ' .. vim.inspect(result))
    end
    local lines, places = M.format_diff(result)
    local buf = M.show_text('diff/' .. ref, 'threatdiff', table.concat(lines, '\n'))
    -- A sparse table of line numbers would not survive a buffer variable (it becomes a
    -- Vimscript list or fails); string keys make it a dictionary.
    local by_line = {}
    for line, place in pairs(places) do
      by_line[tostring(line)] = place
    end
    vim.b[buf].threat_analyzer_diff_places = by_line
    vim.b[buf].threat_analyzer_diff_root = root or vim.fn.getcwd()
    -- The server's repository root (absolute; older servers send none): no `.git` search.
    vim.b[buf].threat_analyzer_diff_repo = is_absolute(result.root) and result.root or nil
    vim.keymap.set('n', '<CR>', M.open_diff_line, { buffer = buf, desc = 'threat-analyzer: open this change' })
  end, bufnr, { { base = ref } })
end

--- Completion for `:ThreatDfd`: the scope forms, and file names after `file:`.
--- @param arglead string
--- @return string[]
function M.complete_scope(arglead)
  if vim.startswith(arglead, 'file:') then
    return vim.tbl_map(function(p)
      return 'file:' .. p
    end, vim.fn.getcompletion(arglead:sub(6), 'file'))
  end
  return vim.tbl_filter(function(c)
    return vim.startswith(c, arglead)
  end, { 'project', 'file', 'file:', 'boundary:', 'component:' })
end

--- Completion for `:ThreatReport`: a format, then a file name.
--- @param arglead string
--- @param cmdline string
--- @return string[]
function M.complete_report(arglead, cmdline)
  local before = cmdline:sub(1, #cmdline - #arglead)
  local args = vim.split(vim.trim(before), '%s+')
  if #args <= 1 then
    return vim.tbl_filter(function(f)
      return vim.startswith(f, arglead)
    end, { 'markdown', 'html' })
  end
  return vim.fn.getcompletion(arglead, 'file')
end

--- Defines `:ThreatStatus`, `:ThreatReindex`, `:ThreatDfd`, `:ThreatReport` and `:ThreatDiff` (again:
--- redefining is harmless). Called by plugin/threat-analyzer.lua and by `setup()`, so the
--- commands exist even when a plugin manager adds editors/neovim to 'runtimepath' after start-up.
function M.create_commands()
  vim.api.nvim_create_user_command('ThreatStatus', function()
    M.status()
  end, { desc = 'threat-analyzer: show index status (files, annotations, open documents)' })
  vim.api.nvim_create_user_command('ThreatReindex', function()
    M.reindex()
  end, { desc = 'threat-analyzer: index the workspace again' })
  vim.api.nvim_create_user_command('ThreatDfd', function(cmd)
    M.dfd(cmd.fargs[1])
  end, {
    nargs = '?',
    complete = M.complete_scope,
    desc = 'threat-analyzer: data-flow diagram (project, file, file:PATH, boundary:NAME, component:NAME)',
  })
  vim.api.nvim_create_user_command('ThreatReport', function(cmd)
    if #cmd.fargs > 2 then
      return notify_error('report', 'usage: :ThreatReport [markdown|html] [FILE]')
    end
    M.report(cmd.fargs[1], cmd.fargs[2])
  end, {
    nargs = '*',
    complete = M.complete_report,
    desc = 'threat-analyzer: write the threat-model report (markdown or html) and open it',
  })
  vim.api.nvim_create_user_command('ThreatDiff', function(cmd)
    M.diff(cmd.fargs[1])
  end, {
    nargs = '?',
    desc = 'threat-analyzer: compare the threat model with a git revision (default main) in a scratch buffer',
  })
end

return M

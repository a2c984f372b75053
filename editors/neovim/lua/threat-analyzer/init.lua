--- threat-analyzer for Neovim 0.11+: registers the language server with the built-in client
--- (`vim.lsp.config` + `vim.lsp.enable`) and offers the server's commands.
---
--- ```lua
--- require('threat-analyzer').setup {
---   cmd = { 'threat-analyzer' },                      -- or an absolute path
---   settings = { severity = { ['unused-definition'] = 'off' }, maxFileSize = 1048576 },
--- }
--- ```
local M = {}

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
  }
  for _, key in ipairs { 'cmd', 'settings', 'filetypes', 'root_markers' } do
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
function M.execute(command, callback, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    callback({ code = -32603, message = 'threat-analyzer is not running (open a supported file first)' }, nil)
    return
  end
  client:request('workspace/executeCommand', { command = command, arguments = {} }, function(err, result)
    callback(err, result)
  end, bufnr)
end

--- One line for the result of `threat-analyzer.status`.
--- @param result table?
--- @return string
function M.format_status(result)
  if type(result) ~= 'table' then
    return 'threat-analyzer: ' .. vim.inspect(result)
  end
  local known = {
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

--- Defines `:ThreatStatus` and `:ThreatReindex` (again: redefining is harmless). Called by
--- plugin/threat-analyzer.lua and by `setup()`, so the commands exist even when a plugin manager
--- adds editors/neovim to 'runtimepath' after start-up.
function M.create_commands()
  vim.api.nvim_create_user_command('ThreatStatus', function()
    M.status()
  end, { desc = 'threat-analyzer: show index status (files, annotations, open documents)' })
  vim.api.nvim_create_user_command('ThreatReindex', function()
    M.reindex()
  end, { desc = 'threat-analyzer: index the workspace again' })
end

return M

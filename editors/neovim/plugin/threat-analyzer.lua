-- Loaded at start-up when editors/neovim is on 'runtimepath': filetypes and user commands only.
-- The server starts after require('threat-analyzer').setup() (see README.md).
if vim.g.loaded_threat_analyzer or vim.fn.has('nvim-0.11') ~= 1 then
  return
end
vim.g.loaded_threat_analyzer = true

local ta = require('threat-analyzer')
ta.register_filetypes()
ta.create_commands()

; MCP tool definitions (threat-analyzer's `syntax::mcp`): an rmcp `#[tool(...)]` (or bare
; `#[tool]`) attribute on a fn of an impl block (`#[tool_router]`, `#[tool(tool_box)]`).
; @attribute: the attribute; the fn it belongs to is the next fn item after it.
(declaration_list
  (attribute_item (attribute (identifier) @_name) @attribute)
  (#eq? @_name "tool"))

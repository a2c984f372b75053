; MCP tool definitions (threat-analyzer's `syntax::mcp`): a function decorated with
; `@<server>.tool(...)` or `@<server>.tool` (the official SDK's FastMCP, FastMCP 2, `server.tool`).
; @decorator: the decorator's expression; @function: the decorated function.
(decorated_definition
  (decorator
    [(call function: (attribute attribute: (identifier) @_method))
     (attribute attribute: (identifier) @_method)] @decorator)
  definition: (function_definition) @function
  (#eq? @_method "tool"))

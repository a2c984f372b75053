; MCP tool definitions (threat-analyzer's `syntax::mcp`), also used for TypeScript and TSX:
; `server.tool("name", "description", ...)` and `server.registerTool("name", { description })`.
; @call: the whole call; @method: `tool` or `registerTool`; @arguments: its argument list.
(call_expression
  function: (member_expression property: (property_identifier) @method)
  arguments: (arguments) @arguments
  (#any-of? @method "tool" "registerTool")) @call

;; Outer comment nodes of the csharp grammar (tree-sitter-c-sharp).
(comment) @comment

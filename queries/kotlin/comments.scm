;; Outer comment nodes of the kotlin grammar (tree-sitter-kotlin-ng).
[(line_comment) (block_comment)] @comment

;; Outer comment nodes of the swift grammar (tree-sitter-swift).
[(comment) (multiline_comment)] @comment

;; Outer comment nodes of the c grammar (tree-sitter-c).
(comment) @comment

;; Outer comment nodes of the yaml grammar (tree-sitter-yaml).
(comment) @comment

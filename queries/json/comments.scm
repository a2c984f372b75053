;; Outer comment nodes of the json grammar (tree-sitter-json).
(comment) @comment

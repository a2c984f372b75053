;; Outer comment nodes of the python grammar (tree-sitter-python).
(comment) @comment

;; Outer comment nodes of the go grammar (tree-sitter-go).
(comment) @comment

;; Outer comment nodes of the cpp grammar (tree-sitter-cpp).
(comment) @comment

;; Outer comment nodes of the ruby grammar (tree-sitter-ruby).
(comment) @comment

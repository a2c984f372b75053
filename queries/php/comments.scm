;; Outer comment nodes of the php grammar (tree-sitter-php).
(comment) @comment

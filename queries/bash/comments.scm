;; Outer comment nodes of the bash grammar (tree-sitter-bash).
(comment) @comment

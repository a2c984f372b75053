;; Outer comment nodes of the hcl grammar (tree-sitter-hcl).
(comment) @comment

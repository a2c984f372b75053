;; Outer comment nodes of the dockerfile grammar (tree-sitter-containerfile).
(comment) @comment

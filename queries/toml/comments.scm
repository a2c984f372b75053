;; Outer comment nodes of the toml grammar (tree-sitter-toml-ng).
(comment) @comment

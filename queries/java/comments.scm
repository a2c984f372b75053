;; Outer comment nodes of the java grammar (tree-sitter-java).
[(line_comment) (block_comment)] @comment

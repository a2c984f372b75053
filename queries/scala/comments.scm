;; Outer comment nodes of the scala grammar (tree-sitter-scala).
;; xml_comment (inside XML literals) is not a source comment.
[(comment) (block_comment)] @comment

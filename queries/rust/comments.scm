;; Outer comment nodes of the rust grammar (tree-sitter-rust).
;; doc_comment and the doc markers are children of line_comment/block_comment.
[(line_comment) (block_comment)] @comment

;; Outer comment nodes of the lua grammar (tree-sitter-lua).
;; comment_content is a child of comment; capture only the outer node.
(comment) @comment

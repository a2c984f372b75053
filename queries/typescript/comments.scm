;; Outer comment nodes of the typescript grammar (tree-sitter-typescript, typescript).
[(comment) (html_comment)] @comment

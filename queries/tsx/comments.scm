;; Outer comment nodes of the tsx grammar (tree-sitter-typescript, tsx).
[(comment) (html_comment)] @comment

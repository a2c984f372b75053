;; Outer comment nodes of the javascript grammar (tree-sitter-javascript).
;; html_comment is the legacy <!-- ... --> form.
[(comment) (html_comment)] @comment

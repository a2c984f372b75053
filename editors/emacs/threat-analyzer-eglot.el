;;; threat-analyzer-eglot.el --- threat-analyzer language server for Eglot  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: languages, tools
;; URL: https://github.com/threat-analyzer/threat-analyzer

;;; Commentary:

;; Diagnostics, completion, go-to-definition, hover, rename and code actions for threat-model
;; annotations (GuardLink GAL, ThreatSpec) in source comments, from the `threat-analyzer'
;; language server, through Eglot.
;;
;; Eglot runs ONE language server per buffer.  So, after loading this file:
;;
;;   (threat-analyzer-eglot-setup)       ; threat-analyzer where no other server is configured
;;   (threat-analyzer-eglot-setup 'all)  ; threat-analyzer for every supported mode, first
;;
;; The first form keeps pylsp, clangd, gopls and friends for their languages and gives
;; threat-analyzer the modes nobody serves (the GAL and ThreatSpec modes defined here, TOML,
;; Terraform, Swift, ...).  The second makes it THE server of every supported mode (for reviewing
;; a threat model).  For one buffer, `C-u M-x eglot' asks which program to start: answer
;; `threat-analyzer'.  See README.md next to this file.
;;
;; Settings come from your own configuration only (`threat-analyzer-eglot-settings'): a
;; repository's `.dir-locals.el' can set `eglot-workspace-configuration' without asking
;; (Eglot marks it safe), and the server cannot tell where settings came from, so this file
;; keeps that variable away from threat-analyzer unless `threat-analyzer-eglot-directory-settings'
;; says otherwise.  The program and the settings are read from their global values, never from
;; a directory- or file-local binding.

;;; Code:

(require 'cl-lib)
(require 'eglot)

(defgroup threat-analyzer nil
  "Threat-model annotations in source comments, checked by threat-analyzer."
  :group 'tools
  :prefix "threat-analyzer-")

(defcustom threat-analyzer-eglot-program "threat-analyzer"
  "The threat-analyzer executable: a name on `exec-path' or an absolute file name.
Only the global value counts: a directory-local one would let a repository
pick the program."
  :type 'string
  :risky t)

(defcustom threat-analyzer-eglot-settings nil
  "Server settings, a plist sent under `threatAnalyzer'.
For example (:severity (:unused-definition \"off\") :maxFileSize 2097152).
Sent as `initializationOptions' and in every
`workspace/didChangeConfiguration'; to change them while the server runs,
set this and call `eglot-signal-didChangeConfiguration'.  Only the global
value counts (see `threat-analyzer-eglot-directory-settings')."
  :type '(plist :key-type keyword :value-type sexp)
  :risky t)

(defcustom threat-analyzer-eglot-directory-settings nil
  "Non-nil: a project's `eglot-workspace-configuration' reaches threat-analyzer.
Eglot treats that variable as safe, so a repository's `.dir-locals.el' sets it
without asking, and the server cannot tell your settings from the repository's:
a repository could turn every finding off or lift the size limit.  With nil (the
default) threat-analyzer gets `threat-analyzer-eglot-settings' only.  With t it
gets the project's configuration, as other servers do (or yours when the
project has none): only for repositories whose settings you trust.  Only the
global value counts."
  :type 'boolean
  :risky t)

(defcustom threat-analyzer-eglot-modes
  '(python-mode python-ts-mode
    rust-mode rust-ts-mode rustic-mode
    js-mode js-ts-mode js2-mode js-jsx-mode rjsx-mode
    typescript-mode typescript-ts-mode tsx-ts-mode
    go-mode go-ts-mode
    java-mode java-ts-mode
    c-mode c-ts-mode c++-mode c++-ts-mode
    csharp-mode csharp-ts-mode
    ruby-mode ruby-ts-mode enh-ruby-mode
    php-mode php-ts-mode
    sh-mode bash-ts-mode
    yaml-mode yaml-ts-mode
    hcl-mode terraform-mode
    toml-mode toml-ts-mode conf-toml-mode
    kotlin-mode kotlin-ts-mode
    swift-mode swift-ts-mode
    scala-mode scala-ts-mode
    lua-mode lua-ts-mode
    json-mode json-ts-mode js-json-mode
    dockerfile-mode dockerfile-ts-mode
    threat-analyzer-gal-mode threat-analyzer-threatspec-mode)
  "Major modes of the files whose comments threat-analyzer reads.
`text-mode' (for *.txt design notes) is not listed: most prose modes derive
from it, and Eglot would offer the server for all of them.  Add it if you
want that."
  :type '(repeat symbol))

(defconst threat-analyzer-eglot--font-lock
  '(("^[ \t]*\\(@[A-Za-z_][A-Za-z0-9_-]*\\)" 1 font-lock-keyword-face)
    ("#[A-Za-z0-9_][A-Za-z0-9_.:-]*" . font-lock-constant-face)
    ("\\[[A-Za-z0-9]+\\]" . font-lock-type-face)
    ("\"[^\"]*\"" . font-lock-string-face))
  "Highlighting of verbs, ids, severities and quoted text in annotation files.")

;;;###autoload
(define-derived-mode threat-analyzer-gal-mode prog-mode "GAL"
  "Major mode for GuardLink GAL files (*.gal): one annotation per line."
  (setq-local font-lock-defaults '(threat-analyzer-eglot--font-lock)))

;;;###autoload
(define-derived-mode threat-analyzer-threatspec-mode prog-mode "ThreatSpec"
  "Major mode for ThreatSpec annotation files (*.threatspec)."
  (setq-local font-lock-defaults '(threat-analyzer-eglot--font-lock)))

;;;###autoload
(add-to-list 'auto-mode-alist '("\\.gal\\'" . threat-analyzer-gal-mode))
;;;###autoload
(add-to-list 'auto-mode-alist '("\\.threatspec\\'" . threat-analyzer-threatspec-mode))

(put 'threat-analyzer-gal-mode 'eglot-language-id "gal")
(put 'threat-analyzer-threatspec-mode 'eglot-language-id "threatspec")

(defun threat-analyzer-eglot--user-settings ()
  "The user's settings, as the server reads them: (:threatAnalyzer SETTINGS)."
  (list :threatAnalyzer (or (default-value 'threat-analyzer-eglot-settings) eglot--{})))

(defun threat-analyzer-eglot-contact (&optional _interactive)
  "The Eglot contact for threat-analyzer: the program and its settings."
  (append (list (default-value 'threat-analyzer-eglot-program))
          (when (default-value 'threat-analyzer-eglot-settings)
            (list :initializationOptions (threat-analyzer-eglot--user-settings)))))

(defun threat-analyzer-eglot--server-p (server)
  "Non-nil if SERVER, an Eglot connection, is threat-analyzer (its `serverInfo')."
  (equal (plist-get (eglot--server-info server) :name) "threat-analyzer"))

(defun threat-analyzer-eglot--configuration (configuration server &rest args)
  "Around CONFIGURATION, `eglot--workspace-configuration-plist', of SERVER, ARGS.
For threat-analyzer: the user's settings, not the project's, unless
`threat-analyzer-eglot-directory-settings' is non-nil.  The project's value
is then not even computed (it may be a function from `.dir-locals.el')."
  (cond ((not (threat-analyzer-eglot--server-p server)) (apply configuration server args))
        ((default-value 'threat-analyzer-eglot-directory-settings)
         (or (apply configuration server args) (threat-analyzer-eglot--user-settings)))
        (t (threat-analyzer-eglot--user-settings))))

(if (fboundp 'eglot--workspace-configuration-plist)
    (advice-add 'eglot--workspace-configuration-plist :around
                #'threat-analyzer-eglot--configuration)
  ;; Another Eglot: say that the protection is missing rather than pretend.
  (display-warning 'threat-analyzer
                   "This Eglot has no `eglot--workspace-configuration-plist': a project's
`eglot-workspace-configuration' (e.g. from .dir-locals.el) reaches threat-analyzer."))

(defun threat-analyzer-eglot--served-p (mode entries)
  "Non-nil if one of ENTRIES (of `eglot-server-programs') serves MODE."
  (cl-some (lambda (entry)
             (let ((modes (car entry)))
               (cl-some (lambda (spec)
                          (let ((probe (car (ensure-list spec))))
                            (or (eq mode probe) (provided-mode-derived-p mode probe))))
                        (if (or (symbolp modes) (keywordp (cadr modes))) (list modes) modes))))
           entries))

(defun threat-analyzer-eglot--ours-p (entry)
  "Non-nil if ENTRY of `eglot-server-programs' is one this file added."
  (eq (cdr entry) #'threat-analyzer-eglot-contact))

;;;###autoload
(defun threat-analyzer-eglot-setup (&optional which)
  "Add threat-analyzer to `eglot-server-programs' and return the modes it serves.
With WHICH nil, for the modes of `threat-analyzer-eglot-modes' that no entry
serves yet (call this after your other Eglot settings).  With WHICH `all', for
every mode of `threat-analyzer-eglot-modes', ahead of the other entries, so it
replaces their servers.  Calling it again replaces what it added before."
  (let* ((others (cl-remove-if #'threat-analyzer-eglot--ours-p eglot-server-programs))
         (modes (if (eq which 'all)
                    threat-analyzer-eglot-modes
                  (cl-remove-if (lambda (m) (threat-analyzer-eglot--served-p m others))
                                threat-analyzer-eglot-modes)))
         (entry (cons modes #'threat-analyzer-eglot-contact)))
    (setq eglot-server-programs
          (if (eq which 'all) (cons entry others) (append others (list entry))))
    modes))

(provide 'threat-analyzer-eglot)
;;; threat-analyzer-eglot.el ends here

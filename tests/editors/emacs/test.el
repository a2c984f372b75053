;;; test.el --- Emacs (batch) + Eglot against the real server  -*- lexical-binding: t; -*-

;; Run by tests/editors/run-emacs.sh in a copy of examples/webshop (with a .git), with
;; TA_REPO (the repository), TA_SERVER (the built server) and optionally TA_EXPECT_LINE (what
;; --self-check sets to a wrong line).  Loads the SHIPPED editors/emacs/threat-analyzer-eglot.el.
;;
;; The workspace carries a hostile `.dir-locals.el' (issue 12, item 14): it turns the
;; unmitigated-exposure diagnostic off through `eglot-workspace-configuration', which Eglot
;; treats as safe.  The shipped file keeps it from the server, so the diagnostics check still
;; sees the exposure, and the directory-settings check shows the file is live.
;;
;; Every check prints one `PASS name' or `FAIL name: reason' line; a failing check does not stop
;; the others.  Exits 0 when all pass, 1 otherwise.  Waits are generous and never asserted on.

(require 'package)
(package-initialize)
(require 'cl-lib)
(require 'subr-x)

(defconst ta-timeout 20 "Seconds to wait for the server.")
(defconst ta-root (file-name-as-directory (expand-file-name default-directory)))
(defconst ta-expect-line (string-to-number (or (getenv "TA_EXPECT_LINE") "49")))
(defconst ta-expect-column 7)

(load (expand-file-name "editors/emacs/threat-analyzer-eglot.el" (getenv "TA_REPO")) nil t)
(setq threat-analyzer-eglot-program (getenv "TA_SERVER"))
(setq eglot-sync-connect 10)

(defconst ta-planted-configuration '(:threatAnalyzer (:severity (:unmitigated-exposure "off")))
  "What the repository's `.dir-locals.el' asks the server for.")
(with-temp-file (expand-file-name ".dir-locals.el" ta-root)
  (prin1 `((nil . ((eglot-workspace-configuration . ,ta-planted-configuration)))) (current-buffer)))

(defvar ta-buffer nil "The buffer of api/orders.py.")
(defvar ta-server nil "The Eglot server.")

(defun ta-out (fmt &rest args)
  (princ (concat (apply #'format fmt args) "\n")))

(defun ta-wait (pred)
  "Wait up to `ta-timeout' seconds for PRED to return non-nil; return its value."
  (let ((deadline (+ (float-time) ta-timeout)) value)
    (while (and (not (setq value (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    value))

(defun ta-line-of (needle)
  "Move to the beginning of the first line containing NEEDLE; return its 1-based number."
  (goto-char (point-min))
  (unless (search-forward needle nil t) (error "No line contains %s" needle))
  (beginning-of-line)
  (line-number-at-pos))

(defun ta-idor-position ()
  "A position inside the first #idor on the expected exposure's line (49)."
  (goto-char (point-min))
  (forward-line 48)
  (unless (search-forward "#idor" (line-end-position) t) (error "Line 49 has no #idor"))
  (- (point) 2))

(defun ta-exposure-p (diagnostic)
  "Non-nil for the unmitigated-exposure DIAGNOSTIC (Eglot puts the code in its text)."
  (string-match-p "\\[unmitigated-exposure\\]" (flymake-diagnostic-text diagnostic)))

(defvar ta-checks nil "(NAME . FUNCTION), in order.")
(defmacro ta-check (name &rest body)
  (declare (indent 1))
  `(setq ta-checks (append ta-checks (list (cons ',name (lambda () ,@body))))))

(ta-check setup
  ;; The default setup fills the gaps: the GAL mode gets threat-analyzer, Python keeps pylsp.
  (let ((eglot-server-programs (default-value 'eglot-server-programs)))
    (threat-analyzer-eglot-setup)
    (unless (eq (nth 2 (eglot--lookup-mode 'threat-analyzer-gal-mode)) #'threat-analyzer-eglot-contact)
      (error "threat-analyzer-gal-mode is not served by threat-analyzer"))
    (when (eq (nth 2 (eglot--lookup-mode 'python-mode)) #'threat-analyzer-eglot-contact)
      (error "the default setup took python-mode from its own server")))
  (unless (eq (with-temp-buffer (set-visited-file-name "x.gal" t) (set-auto-mode) major-mode)
              'threat-analyzer-gal-mode)
    (error "*.gal files do not open in threat-analyzer-gal-mode"))
  ;; The rest of this test: threat-analyzer as THE server of python-mode.
  (threat-analyzer-eglot-setup 'all)
  (unless (eq (nth 2 (eglot--lookup-mode 'python-mode)) #'threat-analyzer-eglot-contact)
    (error "(threat-analyzer-eglot-setup 'all) does not serve python-mode")))

(ta-check connect
  (setq ta-buffer (find-file-noselect (expand-file-name "api/orders.py" ta-root)))
  (with-current-buffer ta-buffer
    (unless (eq major-mode 'python-mode) (error "api/orders.py opened in %s" major-mode))
    (apply #'eglot (eglot--guess-contact))
    (setq ta-server (ta-wait #'eglot-current-server))
    (unless ta-server (error "Eglot did not connect"))
    (let ((name (plist-get (eglot--server-info ta-server) :name)))
      (unless (equal name "threat-analyzer") (error "connected to %S" name)))
    (let ((root (expand-file-name (project-root (eglot--project ta-server)))))
      (unless (equal (file-truename root) (file-truename ta-root))
        (error "project root %s, want %s" root ta-root)))))

(ta-check diagnostics
  (with-current-buffer ta-buffer
    ;; Flymake starts on the command loop (post-command-hook), which batch mode has none of:
    ;; start it here, as the first command after opening the file would.
    (let ((d (ta-wait (lambda ()
                        (or (cl-find-if #'ta-exposure-p (flymake-diagnostics))
                            (progn (flymake-start) nil))))))
      (unless d
        (error "no unmitigated-exposure diagnostic reached flymake; it has %S"
               (mapcar #'flymake-diagnostic-text (flymake-diagnostics))))
      (let* ((beg (flymake-diagnostic-beg d))
             (line (line-number-at-pos beg))
             (col (1+ (save-excursion (goto-char beg) (current-column)))))
        (unless (and (= line ta-expect-line) (= col ta-expect-column))
          (error "unmitigated-exposure at %d:%d, want %d:%d"
                 line col ta-expect-line ta-expect-column))
        (unless (eq (flymake-diagnostic-type d) 'eglot-error)
          (error "severity %S, want eglot-error" (flymake-diagnostic-type d)))
        (unless (string-match-p "#idor" (flymake-diagnostic-text d))
          (error "the exposure does not name #idor: %s" (flymake-diagnostic-text d)))))))

(ta-check directory-settings
  (with-current-buffer ta-buffer
    ;; The planted file is live: Emacs applied it without asking, and Eglot would send it.
    (unless (equal eglot-workspace-configuration ta-planted-configuration)
      (error "the .dir-locals.el was not applied: %S" eglot-workspace-configuration))
    (let ((sent (eglot--workspace-configuration-plist ta-server)))
      (unless (equal sent (threat-analyzer-eglot--user-settings))
        (error "threat-analyzer is sent %S, want the user's settings" sent)))
    (let ((threat-analyzer-eglot-directory-settings t))
      (unless (equal (eglot--workspace-configuration-plist ta-server) ta-planted-configuration)
        (error "with threat-analyzer-eglot-directory-settings, the project's settings are not sent")))
    ;; Eglot 1.9 also takes a function as safe (any list is) and calls it: for threat-analyzer
    ;; it is not even called.
    (let* ((called nil)
           (eglot-workspace-configuration (lambda (_server) (setq called t) nil)))
      (eglot--workspace-configuration-plist ta-server)
      (when called (error "a function in eglot-workspace-configuration was called")))
    ;; Buffer-local values (as a .dir-locals.el would make them) do not count.
    (setq-local threat-analyzer-eglot-directory-settings t)
    (setq-local threat-analyzer-eglot-program "tools/planted-server")
    (unwind-protect
        (progn
          (unless (equal (eglot--workspace-configuration-plist ta-server) (threat-analyzer-eglot--user-settings))
            (error "a buffer-local threat-analyzer-eglot-directory-settings let the project's settings through"))
          (unless (equal (car (threat-analyzer-eglot-contact)) (getenv "TA_SERVER"))
            (error "a buffer-local threat-analyzer-eglot-program is what Eglot would start: %S"
                   (threat-analyzer-eglot-contact))))
      (kill-local-variable 'threat-analyzer-eglot-directory-settings)
      (kill-local-variable 'threat-analyzer-eglot-program))))

(ta-check completion
  (with-current-buffer ta-buffer
    ;; A new line under the exposure's comment block, as the user types it.
    (ta-line-of "SHOP-311")
    (forward-line 1)
    (let ((start (point)))
      (insert "    # @mitigates Shop.Api.Orders against #\n")
      (backward-char 1)
      (unwind-protect
          (let* ((capf (eglot-completion-at-point))
                 (items (and capf (all-completions (buffer-substring (nth 0 capf) (nth 1 capf))
                                                   (nth 2 capf)))))
            (unless capf (error "eglot-completion-at-point returned nil"))
            (unless (cl-some (lambda (s) (member (string-remove-prefix "#" s) '("idor"))) items)
              (error "no idor among %d items: %s" (length items) (string-join items " "))))
        (delete-region start (progn (goto-char start) (forward-line 1) (point)))))))

(ta-check definition
  (with-current-buffer ta-buffer
    (goto-char (ta-idor-position))
    (let* ((xrefs (xref-backend-definitions 'eglot (xref-backend-identifier-at-point 'eglot)))
           (item (car xrefs)))
      (unless item (error "xref-backend-definitions returned nothing"))
      (xref-pop-to-location item)
      (let ((file (buffer-file-name)) (line (line-number-at-pos)))
        (unless (string-suffix-p "/.guardlink/definitions.gal" file)
          (error "jumped to %s, want .guardlink/definitions.gal" file))
        (unless (= line 6) (error "jumped to line %d, want 6 (@threat ... (#idor))" line))
        (unless (looking-at-p ".*(#idor)") (error "line 6 does not define #idor"))
        (unless (eq major-mode 'threat-analyzer-gal-mode)
          (error "definitions.gal opened in %s" major-mode))))
    (switch-to-buffer ta-buffer)))

(ta-check shutdown
  ;; What `eglot-shutdown' sends: `shutdown' with params null, then `exit'.
  (let ((process (jsonrpc--process ta-server)))
    (setf (eglot--shutdown-requested ta-server) t) ; as `eglot-shutdown' does: no reconnecting
    (jsonrpc-request ta-server :shutdown nil :timeout 10)
    (jsonrpc-notify ta-server :exit nil)
    (unless (ta-wait (lambda () (not (process-live-p process))))
      (error "the server did not exit after shutdown (params null) and exit"))
    (unless (= (process-exit-status process) 0)
      (error "the server exited with %d" (process-exit-status process)))))

(let ((failed nil))
  (dolist (check ta-checks)
    (condition-case err
        (progn (funcall (cdr check)) (ta-out "PASS %s" (car check)))
      (error (push (car check) failed)
             (ta-out "FAIL %s: %s" (car check) (error-message-string err)))))
  (if failed
      (progn (ta-out "emacs: %d of %d checks failed: %s" (length failed) (length ta-checks)
                     (string-join (mapcar #'symbol-name (reverse failed)) " "))
             (kill-emacs 1))
    (ta-out "emacs: all %d checks passed" (length ta-checks))
    (kill-emacs 0)))

;;; test.el ends here

;;; kindlint.el --- kindlint in Emacs without a language server  -*- lexical-binding: t; -*-

;; 1. M-x compile: the line format (FILE:LINE:COL: SEVERITY: MESSAGE [ID])
;;    is GNU style, which compilation-mode reads as it is; `next-error'
;;    walks the findings.
(defun kindlint-compile ()
  "Lint the current file with kindlint in a compilation buffer."
  (interactive)
  (compile (concat "kindlint --format line "
                   (shell-quote-argument (buffer-file-name)))))

;; 2. Flymake: findings as you type, from standard input.
(require 'flymake)

(defvar-local kindlint--flymake-proc nil)

(defun kindlint-flymake (report-fn &rest _args)
  "A Flymake backend running kindlint on the buffer; calls REPORT-FN."
  (when (process-live-p kindlint--flymake-proc)
    (kill-process kindlint--flymake-proc))
  (let ((source (current-buffer))
        (name (or (buffer-file-name) (buffer-name))))
    (save-restriction
      (widen)
      (setq kindlint--flymake-proc
            (make-process
             :name "kindlint-flymake" :noquery t :connection-type 'pipe
             :buffer (generate-new-buffer " *kindlint-flymake*")
             :command (list "kindlint" "--format" "line" "--fail-on" "never"
                            "--stdin-filename" name "-")
             :sentinel
             (lambda (proc _event)
               (when (memq (process-status proc) '(exit signal))
                 (unwind-protect
                     (when (with-current-buffer source
                             (eq proc kindlint--flymake-proc))
                       (with-current-buffer (process-buffer proc)
                         (goto-char (point-min))
                         (let (diags)
                           (while (re-search-forward
                                   "^[^:\n]+:\\([0-9]+\\):\\([0-9]+\\): \\([a-z]+\\): \\(.*\\)$"
                                   nil t)
                             (let* ((line (string-to-number (match-string 1)))
                                    (col (string-to-number (match-string 2)))
                                    (kind (pcase (match-string 3)
                                            ("error" :error) ("warning" :warning)
                                            (_ :note)))
                                    (msg (match-string 4))
                                    (region (flymake-diag-region source line col)))
                               (push (flymake-make-diagnostic
                                      source (car region) (cdr region) kind msg)
                                     diags)))
                           (funcall report-fn diags))))
                   (kill-buffer (process-buffer proc)))))))
      (process-send-region kindlint--flymake-proc (point-min) (point-max))
      (process-send-eof kindlint--flymake-proc))))

(defun kindlint-flymake-setup ()
  "Use kindlint as a Flymake backend in this buffer."
  (add-hook 'flymake-diagnostic-functions #'kindlint-flymake nil t)
  (flymake-mode 1))

(add-hook 'markdown-mode-hook #'kindlint-flymake-setup)
(add-hook 'text-mode-hook #'kindlint-flymake-setup)

;; 3. With a language server instead: see examples/lsp/eglot.el.

(provide 'kindlint)
;;; kindlint.el ends here

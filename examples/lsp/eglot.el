;;; kindlint as a language server in Emacs, with eglot (built in from Emacs 29).
(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs
               '((markdown-mode gfm-mode text-mode git-commit-mode message-mode)
                 . ("kindlint" "--lsp"))))
(add-hook 'markdown-mode-hook #'eglot-ensure)
(add-hook 'text-mode-hook #'eglot-ensure)
;; Rewrites: M-x eglot-code-actions.  Explanations: eldoc, on the finding.

" kindlint in Vim and Neovim without a language server.
"
" 1. :make lints the current file and fills the quickfix list. The line
"    format (PATH:LINE:COL: SEVERITY: MESSAGE [ID]) is what Vim's default
"    errorformat already reads; the one below also keeps the severity.
augroup kindlint
  autocmd!
  autocmd FileType markdown,text,gitcommit,mail
        \ setlocal makeprg=kindlint\ --format\ line\ %
        \ | setlocal errorformat=%f:%l:%c:\ %trror:\ %m,%f:%l:%c:\ %tarning:\ %m,%f:%l:%c:\ %tnfo:\ %m
augroup END

" 2. Rewrite the whole buffer with the suggestions (undo with u). Only
"    text goes to standard output, so the filter is safe; findings left
"    unfixed only set the exit status, which --fail-on never silences.
command! KindlintFix %!kindlint --fix --fail-on never --stdin-filename %

" 3. ALE (https://github.com/dense-analysis/ale): a linter definition.
"    Put this in ~/.vim/ale_linters/markdown/kindlint.vim (and the same for
"    text, gitcommit, mail) -- or use ALE's LSP support with kindlint --lsp.
"
"   call ale#linter#Define('markdown', {
"   \   'name': 'kindlint',
"   \   'executable': 'kindlint',
"   \   'command': 'kindlint --format line --fail-on never --stdin-filename %s -',
"   \   'callback': 'ale#handlers#unix#HandleAsWarning',
"   \})

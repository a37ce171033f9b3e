-- kindlint as a language server in Neovim (built-in client).
-- Put this in ~/.config/nvim/init.lua (or after/ftplugin/markdown.lua).

-- Neovim 0.8 and later:
vim.api.nvim_create_autocmd("FileType", {
  pattern = { "markdown", "text", "gitcommit", "mail" },
  callback = function(args)
    vim.lsp.start({
      name = "kindlint",
      cmd = { "kindlint", "--lsp" },
      root_dir = vim.fs.dirname(vim.fs.find({ ".kindlint.yml", ".git" }, {
        upward = true,
        path = vim.fs.dirname(vim.api.nvim_buf_get_name(args.buf)),
      })[1]),
    })
  end,
})

-- Neovim 0.7 (no vim.lsp.start yet):
-- vim.api.nvim_create_autocmd("FileType", {
--   pattern = { "markdown", "text", "gitcommit", "mail" },
--   callback = function(args)
--     local id = vim.lsp.start_client({ name = "kindlint", cmd = { "kindlint", "--lsp" } })
--     if id then vim.lsp.buf_attach_client(args.buf, id) end
--   end,
-- })

-- Rewrites are code actions: vim.lsp.buf.code_action(); the explanation is
-- on hover: vim.lsp.buf.hover().

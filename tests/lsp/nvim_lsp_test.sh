#!/bin/sh
# kindlint --lsp driven by Neovim's built-in LSP client (0.7 and later):
# diagnostics, a code action's rewrite and directive, hover.
# Skipped (status 77) when nvim is missing or older than 0.7.
# Usage: nvim_lsp_test.sh KINDLINT RULES TEST_LUA
set -u
command -v nvim > /dev/null || { echo "nvim not installed: skipped"; exit 77; }
version=$(nvim --version | sed -n '1s/^NVIM v\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
set -- "$@" $version
if [ $# -lt 5 ] || { [ "$4" -eq 0 ] && [ "$5" -lt 7 ]; }; then
    echo "nvim older than 0.7 (no vim.diagnostic): skipped"
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
KINDLINT=$(realpath "$1") RULES=$(realpath "$2") WORK="$T" HOME="$T" XDG_CONFIG_HOME="$T" \
XDG_DATA_HOME="$T" XDG_STATE_HOME="$T" XDG_CACHE_HOME="$T" \
    timeout 90 nvim --headless -u NONE -i NONE -n -c "luafile $(realpath "$3")" < /dev/null
rc=$?
[ "$rc" -eq 0 ] || echo "nvim exited with status $rc"
exit "$rc"

#!/bin/sh
# The Vim wiring in examples/editors/kindlint.vim, in Neovim headless: :make
# fills the quickfix list from the line format, and :KindlintFix rewrites
# the buffer. Skipped (status 77) when nvim is not installed.
# Usage: vim_quickfix_test.sh KINDLINT EXAMPLE_VIM RULES
set -u
command -v nvim > /dev/null || { echo "nvim not installed: skipped"; exit 77; }
BIN=$(dirname "$(realpath "$1")")
VIMRC=$(realpath "$2")
RULES=$(realpath "$3")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# the example calls "kindlint" from PATH: a wrapper pins the test's rules
mkdir "$T/bin"
printf '#!/bin/sh\nexec "%s/kindlint" --no-config --no-default-rules -r "%s" "$@"\n' "$BIN" "$RULES" > "$T/bin/kindlint"
chmod +x "$T/bin/kindlint"
printf '# Notes\n\nWell, you never listen to me.\n' > "$T/notes.md"
PATH="$T/bin:$PATH" HOME="$T" timeout 60 nvim --headless -u NONE -i NONE -n \
    -c 'filetype on' -c "source $VIMRC" -c "edit $T/notes.md" -c 'silent make' \
    -c 'let q = getqflist()' \
    -c "call writefile([len(q), q[0].lnum, q[0].col, q[0].type, q[0].text], '$T/qf')" \
    -c 'KindlintFix' -c "call writefile(getline(1, '\$'), '$T/fixed')" -c 'qa!' > /dev/null 2>&1
printf '1\n3\n7\nw\n'"'"'You never …'"'"' turns one moment into a verdict on the person. [you-never]\n' > "$T/qf.want"
printf '# Notes\n\nWell, I feel unheard when you don'"'"'t listen to me.\n' > "$T/fixed.want"
fails=0
cmp -s "$T/qf" "$T/qf.want" || { echo "FAIL quickfix list:"; cat "$T/qf" 2>/dev/null; fails=1; }
cmp -s "$T/fixed" "$T/fixed.want" || { echo "FAIL :KindlintFix buffer:"; cat "$T/fixed" 2>/dev/null; fails=1; }
[ "$fails" -eq 0 ] && echo "ok   quickfix and filter"
exit "$fails"

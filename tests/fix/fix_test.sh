#!/bin/sh
# Fixing end to end: --fix as a filter, --diff with patch and git apply,
# --write in place (atomic, mode kept, read-only refused), idempotence and
# --pass-through. Usage: fix_test.sh KINDLINT RULES_FILE
set -u
KL=$(realpath "$1")
RULES=$(realpath "$2")
T=$(mktemp -d)
trap 'chmod -R u+w "$T"; rm -rf "$T"' EXIT
fails=0
check() { # check NAME CONDITION...
    name=$1; shift
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
kl() { "$KL" --no-config --no-default-rules -r "$RULES" "$@"; }

# CRLF lines, an invalid byte, no final newline; a [blank] suggestion
printf 'Hi.\r\nYou never listen to me. Calm down!\r\nbad \377 byte: you never call' > "$T/in.txt"
printf 'Hi.\r\nI feel unheard when you don'"'"'t listen to me. I can see this matters to you!\r\nbad \377 byte: I feel hurt when you don'"'"'t call' > "$T/want.txt"

kl --fix < "$T/in.txt" > "$T/out.txt" 2> "$T/err.txt"
rc=$?
check "fix: bytes outside the fixes are kept" cmp -s "$T/out.txt" "$T/want.txt"
check "fix: all fixed, exit 0" test "$rc" -eq 0
check "fix: nothing on stderr" test ! -s "$T/err.txt"
kl --fix < "$T/out.txt" > "$T/again.txt"
check "fix: idempotent" cmp -s "$T/out.txt" "$T/again.txt"
kl --fix --stdout "$T/in.txt" > "$T/out2.txt"
check "fix: one path with --stdout" cmp -s "$T/out2.txt" "$T/want.txt"
kl --fix "$T/in.txt" > /dev/null 2>&1
check "fix: a path without --stdout is refused" test $? -eq 2

# a finding whose only suggestion has a blank stays, and sets the status
printf 'It'"'"'s your fault.\n' > "$T/blank.txt"
kl --fix < "$T/blank.txt" > "$T/blank.out"
rc=$?
check "fix: blank suggestions are not applied" cmp -s "$T/blank.txt" "$T/blank.out"
check "fix: unfixed findings give status 1" test "$rc" -eq 1
kl --fix --fix-blanks < "$T/blank.txt" > "$T/blank2.out"
check "fix: --fix-blanks applies them" grep -q '^\[What happened\] upset me\.$' "$T/blank2.out"

# overlapping fixes: the first is applied, the second reported
printf 'You never calm down.\n' > "$T/overlap.txt"
kl --fix -v < "$T/overlap.txt" > "$T/overlap.out" 2> "$T/overlap.err"
check "fix: overlapping fix applied once" grep -q "^I feel hurt when you don't calm down\.$" "$T/overlap.out"
check "fix: the overlapped one reported at -v" grep -q 'calm-down' "$T/overlap.err"

# --diff applies with patch -p0 and git apply -p0
mkdir "$T/p" "$T/g"
cp "$T/in.txt" "$T/p/a.txt"
cp "$T/in.txt" "$T/g/a.txt"
(cd "$T/p" && kl --diff a.txt > ../a.patch 2>/dev/null)
(cd "$T/p" && patch -s -p0 < ../a.patch)
check "diff: patch -p0" cmp -s "$T/p/a.txt" "$T/want.txt"
if command -v git > /dev/null; then
    (cd "$T/g" && git init -q . && git apply -p0 ../a.patch)
    check "diff: git apply -p0" cmp -s "$T/g/a.txt" "$T/want.txt"
fi
printf 'Nothing to see.\n' > "$T/clean.txt"
kl --diff "$T/clean.txt" > "$T/clean.diff"
check "diff: empty for a clean file" test ! -s "$T/clean.diff"

# --write: in place, mode kept, status by what is left
cp "$T/in.txt" "$T/w.txt"
chmod 640 "$T/w.txt"
kl --write -q "$T/w.txt"
check "write: fixed in place" cmp -s "$T/w.txt" "$T/want.txt"
check "write: mode kept" test "$(stat -c %a "$T/w.txt")" = 640
check "write: no temporary file left" test "$(ls -a "$T" | grep -c kindlint)" -eq 0
ln -s w2.txt "$T/link.txt"
cp "$T/in.txt" "$T/w2.txt"
kl --write -q "$T/link.txt" 2> "$T/link.err"
rc=$?
check "write: a symlink is refused" test "$rc" -eq 2
check "write: and says so" grep -q 'symbolic link' "$T/link.err"
check "write: the link stays a link" test -L "$T/link.txt"
check "write: its target is untouched" cmp -s "$T/w2.txt" "$T/in.txt"
cp "$T/in.txt" "$T/ro.txt"
chmod 444 "$T/ro.txt"
kl --write "$T/ro.txt" 2> "$T/ro.err"
rc=$?
check "write: read-only file untouched" cmp -s "$T/ro.txt" "$T/in.txt"
check "write: read-only gives status 2" test "$rc" -eq 2
check "write: read-only is said" grep -q 'read-only' "$T/ro.err"

# --pass-through: the input, unchanged, on stdout; findings on stderr
kl --pass-through -f line < "$T/in.txt" > "$T/pt.out" 2> "$T/pt.err"
rc=$?
check "pass-through: input unchanged" cmp -s "$T/pt.out" "$T/in.txt"
check "pass-through: findings on stderr" grep -q '^<stdin>:2:1: warning: .*\[you-never\]$' "$T/pt.err"
check "pass-through: status 1" test "$rc" -eq 1

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi

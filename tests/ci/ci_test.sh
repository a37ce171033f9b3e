#!/bin/sh
# CI features end to end: --baseline/--write-baseline, --diff-base, and
# the commit-msg hook in a real git repository.
# Usage: ci_test.sh KINDLINT RULES_FILE COMMIT_MSG_HOOK
set -u
KL=$(realpath "$1")
RULES=$(realpath "$2")
HOOK=$(realpath "$3")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() {
    name=$1; shift
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
kl() { "$KL" --no-config --no-default-rules -r "$RULES" "$@"; }
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t \
    GIT_COMMITTER_EMAIL=t@example.com GIT_CONFIG_NOSYSTEM=1 HOME="$T"

# --- baseline ---------------------------------------------------------------
mkdir "$T/b" && cd "$T/b" || exit 1
printf 'Intro.\nYou never listen to me.\n' > notes.txt
kl --write-baseline base.json notes.txt > /dev/null
check "baseline: written" grep -q '"rule": "you-never"' base.json
kl --baseline base.json -f line notes.txt > out1.txt
check "baseline: old finding suppressed" test ! -s out1.txt
# lines added above, and a new finding below: the old one stays excused
printf 'New intro.\nMore words here.\n\nIntro.\nYou never listen to me.\nCalm down.\n' > notes.txt
kl --baseline base.json -f line notes.txt > out2.txt
rc=$?
check "baseline: edits above keep it suppressed" test "$(grep -c you-never out2.txt)" -eq 0
check "baseline: a new finding is reported" grep -q '^notes.txt:6:1: warning: .*\[calm-down\]$' out2.txt
# one recorded copy excuses one finding: a second copy of it is new
printf 'You never listen to me.\n' > one.txt
kl --write-baseline b2.json one.txt > /dev/null
printf 'You never listen to me.\nYou never listen to me.\n' > one.txt
kl --baseline b2.json -f line one.txt > two.out
check "baseline: a second copy is reported" test "$(grep -c you-never two.out)" -eq 1
# the file, byte for byte as documented (the fingerprint aside); a name with
# a quote and a backslash is escaped, one that is not UTF-8 is recorded with
# U+FFFD and still excuses its finding
mkdir names && printf 'You never listen to me.\n' > 'names/we"ird\name.txt'
printf 'You never listen to me.\n' > "names/$(printf 'bad\377.txt')"
kl --write-baseline names.json names > /dev/null
sed 's/"fingerprint": "[0-9a-f]\{16\}"/"fingerprint": "FP"/' names.json > names.got
fffd=$(printf '\357\277\275')
printf '%s\n' '{' '  "version": 1,' '  "findings": [' '    {' \
    "      \"path\": \"names/bad$fffd.txt\"," '      "rule": "you-never",' \
    '      "fingerprint": "FP",' '      "text": "You never listen to me"' '    },' '    {' \
    '      "path": "names/we\"ird\\name.txt",' '      "rule": "you-never",' \
    '      "fingerprint": "FP",' '      "text": "You never listen to me"' '    }' '  ]' '}' \
    > names.want
check "baseline: the file as documented" cmp names.got names.want
kl --baseline names.json names > names.out
check "baseline: names that need escaping or are not UTF-8 are excused" test $? -eq 0
check "baseline: and nothing is reported" test ! -s names.out
printf 'Nothing to see.\n' > clean.txt
kl --write-baseline none.json clean.txt > /dev/null
printf '{\n  "version": 1,\n  "findings": []\n}\n' > none.want
check "baseline: no findings, an empty list" cmp none.json none.want
printf '{"version": 2}' > bad.json
kl --baseline bad.json notes.txt > /dev/null 2> bad.err
check "baseline: a bad file is status 2" test $? -eq 2
check "baseline: and says why" grep -q 'not a kindlint baseline' bad.err

# --- diff-base --------------------------------------------------------------
mkdir "$T/g" && cd "$T/g" || exit 1
git init -q . && git config commit.gpgsign false
printf 'Line one.\nYou never listen to me.\n' > doc.txt
git add doc.txt && git commit -q -m init
printf 'Line one.\nYou never listen to me.\nYou never call me.\n' > doc.txt
printf 'You never write.\n' > new.txt
kl --diff-base HEAD -f line doc.txt new.txt > diff.out
check "diff-base: only the changed line" test "$(grep -c '^doc.txt' diff.out)" -eq 1
check "diff-base: the changed line is the one" grep -q '^doc.txt:3:1:' diff.out
check "diff-base: a new file is linted whole" grep -q '^new.txt:1:1:' diff.out
kl --diff-base no-such-ref -f line doc.txt > /dev/null 2> ref.err
check "diff-base: a bad revision is status 2" test $? -eq 2
printf 'You never know.\n' > "$T/outside.txt"
kl --diff-base HEAD -f line "$T/outside.txt" > outside.out
check "diff-base: outside git, the whole file" grep -q 'outside.txt:1:1' outside.out

# --- commit-msg hook --------------------------------------------------------
mkdir "$T/h" "$T/bin" && cd "$T/h" || exit 1
printf '#!/bin/sh\nexec "%s" --no-config --no-default-rules -r "%s" "$@"\n' "$KL" "$RULES" > "$T/bin/kindlint"
chmod +x "$T/bin/kindlint"
git init -q . && git config commit.gpgsign false
cp "$HOOK" .git/hooks/commit-msg && chmod +x .git/hooks/commit-msg
echo a > a.txt && git add a.txt
PATH="$T/bin:$PATH" git commit -q -m "Fix the build you never test" > /dev/null 2> hook.err
check "hook: a blaming message is refused" test $? -ne 0
check "hook: the author is told what to do" grep -q 'Reword the message' hook.err
check "hook: with the finding and its rewrite" grep -q "try: I feel hurt when you don't test" hook.err
check "hook: nothing was committed" test "$(git rev-list --all | wc -l)" -eq 0
PATH="$T/bin:$PATH" git commit -q -m "Fix the build; please run the tests first" 2> /dev/null
check "hook: a reworded message is accepted" test "$(git rev-list --all | wc -l)" -eq 1
echo b > b.txt && git add b.txt
PATH="$T/bin:$PATH" git commit -q --no-verify -m "You never test" 2> /dev/null
check "hook: --no-verify skips it" test "$(git rev-list --all | wc -l)" -eq 2

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi

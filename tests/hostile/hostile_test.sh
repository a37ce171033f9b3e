#!/bin/sh
# Hostile input and hostile rules: each gives correct findings where there
# is valid text, or a clear error, in bounded time and memory, and never a
# crash. Timeouts here only catch hangs (they are minutes, not a speed
# check; speed is in bench/). Usage: hostile_test.sh KINDLINT [asan]
set -u
KL=$(realpath "$1")
ASAN=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() {
    name=$1; shift
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
kl() { timeout 300 "$KL" --no-config --no-default-rules -r "$HERE/rules.yml" "$@"; }
# numbered FILE N LINE: FILE with LINE written N times, its %d the count
# so far (\n in LINE is a line break)
numbered() {
    "$PY" -c "
import sys
line = sys.argv[3].replace('\\\\n', '\\n')
with open(sys.argv[1], 'w') as f:
    for i in range(int(sys.argv[2])): f.write(line.replace('%d', str(i)))
" "$1" "$2" "$3"
}
# found FILE [ARGS...]: how many you-never findings kl ARGS gives on FILE
found() { f=$1; shift; kl -f line "$@" "$f" 2>/dev/null | grep -c 'you-never'; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# --- bytes ------------------------------------------------------------------
# overlong "/", a lone surrogate, a truncated sequence, NUL, then valid text
printf '\357\273\277\300\257 \355\240\200 \342\202 \000 You never listen.\n' > "$T/bad.txt"
kl -f json "$T/bad.txt" > "$T/bad.json"
check "invalid UTF-8: the valid part is linted" grep -q '"rule": "you-never"' "$T/bad.json"
check "invalid UTF-8: the JSON is valid" "$PY" -c "import json,sys; json.load(open(sys.argv[1]))" "$T/bad.json"
# the BOM is no column; each invalid byte is one, as U+FFFD would be
check "a BOM is not a column" sh -c "'$KL' --no-config --no-default-rules -r '$HERE/rules.yml' -f line '$T/bad.txt' | grep -q ':1:13: warning'"
printf '\377\376Y\000o\000u\000 \000n\000e\000v\000e\000r\000\n\000' > "$T/utf16.txt"
kl "$T/utf16.txt" > /dev/null 2> "$T/utf16.err"
check "UTF-16: refused with status 2" test $? -eq 2
check "UTF-16: said plainly" grep -q 'UTF-16' "$T/utf16.err"
printf 'one\rYou never call.\r\ntwo\nyou never write\r' > "$T/eol.txt"
kl -f line "$T/eol.txt" > "$T/eol.out"
check "CR, CRLF and LF lines are counted alike" sh -c "grep -q ':2:1:' '$T/eol.out' && grep -q ':4:1:' '$T/eol.out'"

# --- terminal and format injection ---------------------------------------------
printf 'You never \033[31mlisten\033]0;owned\007 to me.\n' > "$T/esc.txt"
kl "$T/esc.txt" > "$T/esc.out"
check "no escape byte reaches the terminal" sh -c "! grep -q \"$(printf '\033')\" '$T/esc.out'"
kl -f jsonl "$T/esc.txt" > "$T/esc.jsonl"
check "control characters are escaped in JSON" "$PY" -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$T/esc.jsonl"

# --- size -----------------------------------------------------------------------
"$PY" -c "
import sys
with open(sys.argv[1], 'wb') as f:
    chunk = b'word ' * 200000
    for _ in range(200): f.write(chunk)
    f.write(b' you never listen\n')
" "$T/line.txt"
if [ -z "$ASAN" ]; then
    /usr/bin/time -f %M -o "$T/line.rss" "$KL" --no-config --no-default-rules -r "$HERE/rules.yml" -f line "$T/line.txt" > "$T/line.out" 2>/dev/null
    check "200 MB on one line: found at its column" grep -q ':1:200000002: warning: .*\[you-never\]' "$T/line.out"
    check "200 MB on one line: under 32 MB of memory" test "$(tail -n 1 "$T/line.rss")" -lt 32768
else
    kl -f line "$T/line.txt" > "$T/line.out" 2>/dev/null
    check "200 MB on one line: found at its column" grep -q ':1:200000002: warning: .*\[you-never\]' "$T/line.out"
fi
rm -f "$T/line.txt"
"$PY" -c "
import sys
open(sys.argv[1], 'w').write('\n' * 10000000 + 'you never listen\n')
" "$T/empty.txt"
kl -f line "$T/empty.txt" > "$T/empty.out"
check "10 million empty lines" grep -q ':10000001:1: warning' "$T/empty.out"
rm -f "$T/empty.txt"
"$PY" -c "
import sys
open(sys.argv[1], 'w').write('- ' * 100000 + 'you never listen\n\n' + '>' * 100000 + ' you never call\n')
" "$T/nested.md"
kl -f line --lint-quotes "$T/nested.md" > "$T/nested.out"
check "100,000 nested list items and quotes" test "$(grep -c 'you-never' "$T/nested.out")" -eq 2
# one 16 MB Markdown paragraph of links and bare URLs: md4c 0.4.8 is
# quadratic in a paragraph's links (3 MB of "and www.e.com" lines: 35 s)
"$PY" -c "
import sys
open(sys.argv[1], 'w').write('see www.e.com\\n' * 1000000 + '[a][] and [b](http://e.com)\\n' * 100000 + 'you never listen\\n')
" "$T/links.md"
kl -f line "$T/links.md" > "$T/links.out"
check "a 16 MB paragraph of links" grep -q ':1100001:1: warning: .*\[you-never\]' "$T/links.out"
rm -f "$T/links.md"
# 32 MB of chat lines, each opening a quotation that never closes, with no
# blank line between them (a search per mark to the paragraph's end took
# about 25 s per MB)
"$PY" -c "
import sys
line = 'he said \u201cthat was the plan all along and left\n' * 999 + 'you never listen to me\n'
with open(sys.argv[1], 'w') as f:
    for _ in range(700): f.write(line)
" "$T/open.txt"
check "32 MB of quotations that never close" test "$(found "$T/open.txt")" -eq 700
rm -f "$T/open.txt"
# 2,500,000 disables (100 MB), each of its own unknown ID and never
# enabled, each before a finding: a finding was checked against every
# region and an enable against every open disable (minutes for 5 MB), and
# each window carried every open disable into the next
numbered "$T/dirs.txt" 2500000 'kindlint-disable z%d\nyou never listen\n'
if [ -z "$ASAN" ]; then
    timeout 300 /usr/bin/time -f %M -o "$T/dirs.rss" "$KL" --no-config --no-default-rules -r "$HERE/rules.yml" -f line "$T/dirs.txt" 2>/dev/null | grep -c 'you-never' > "$T/dirs.n"
    check "2,500,000 open disables: under 32 MB of memory" test "$(tail -n 1 "$T/dirs.rss")" -lt 32768
else
    found "$T/dirs.txt" > "$T/dirs.n"
fi
check "2,500,000 open disables: every finding" test "$(cat "$T/dirs.n")" -eq 2500000
rm -f "$T/dirs.txt"
# a chat of 250,000 speakers, one finding each: each finding was counted
# by a pass over every speaker so far (62 s for 100,000)
numbered "$T/speakers.txt" 250000 'Name%d: you never listen\n'
check "250,000 speakers" test "$(found "$T/speakers.txt" -t chat)" -eq 250000
rm -f "$T/speakers.txt"
# 300,000 findings on one line: the text format shows each with its
# context without reading the whole line again (it took 40 s for
# 100,000); SARIF writes each result as it comes (it held every result in
# memory: 1.2 GB for 100,000)
"$PY" -c "
import sys
open(sys.argv[1], 'w').write('You never listen. ' * 300000 + '\n')
" "$T/many.txt"
kl "$T/many.txt" > "$T/many.out"
check "300,000 findings on one line: each shown" test "$(grep -c '\[you-never\]' "$T/many.out")" -eq 300000
head -c 540000 "$T/many.txt" > "$T/many30k.txt"
mv "$T/many30k.txt" "$T/many.txt"
if [ -z "$ASAN" ]; then
    /usr/bin/time -f %M -o "$T/many.rss" "$KL" --no-config --no-default-rules -r "$HERE/rules.yml" -f sarif "$T/many.txt" > "$T/many.sarif"
    check "30,000 SARIF results: under 32 MB of memory" test "$(tail -n 1 "$T/many.rss")" -lt 32768
else
    kl -f sarif "$T/many.txt" > "$T/many.sarif"
fi
check "30,000 SARIF results: all in one valid log" "$PY" -c "
import json, sys
assert len(json.load(open(sys.argv[1]))['runs'][0]['results']) == 30000" "$T/many.sarif"
rm -f "$T/many.txt" "$T/many.out" "$T/many.sarif"

# a baseline of 100,000 findings is written entry by entry (the whole file
# was built in memory first: 133 MB), and then excuses every one of them
numbered "$T/base.txt" 100000 'You never listen.\n'
if [ -z "$ASAN" ]; then
    /usr/bin/time -f %M -o "$T/base.rss" "$KL" --no-config --no-default-rules -r "$HERE/rules.yml" --write-baseline "$T/base.json" "$T/base.txt" > /dev/null
    check "a baseline of 100,000 findings: written in under 64 MB" test "$(tail -n 1 "$T/base.rss")" -lt 65536
else
    kl --write-baseline "$T/base.json" "$T/base.txt" > /dev/null
fi
check "a baseline of 100,000 findings: excuses them all" test "$(found "$T/base.txt" --baseline "$T/base.json")" -eq 0
rm -f "$T/base.txt" "$T/base.json"

# -j: a file over 16 MiB is streamed when its turn to print comes, not read
# whole by a worker (44 MB of it held 48 MB)
mkdir "$T/jtree"
numbered "$T/jtree/a.txt" 1000000 'Notes on item %d, and then more of them.\n'
echo 'You never listen.' >> "$T/jtree/a.txt"
for i in 1 2 3 4 5 6 7 8; do echo 'You never listen.' > "$T/jtree/b$i.txt"; done
if [ -z "$ASAN" ]; then
    /usr/bin/time -f %M -o "$T/jtree.rss" "$KL" --no-config --no-default-rules -r "$HERE/rules.yml" -j2 -f line "$T/jtree" > "$T/jtree.out"
    check "-j2 on a 44 MB file and small ones: under 32 MB of memory" test "$(tail -n 1 "$T/jtree.rss")" -lt 32768
else
    kl -j2 -f line "$T/jtree" > "$T/jtree.out"
fi
check "-j2 on a 44 MB file and small ones: every finding" test "$(grep -c 'you-never' "$T/jtree.out")" -eq 9
rm -rf "$T/jtree" "$T/jtree.out"

# --input jsonl -j2: a record of 40 MB after a small one is a chunk of its
# own, handed from the reader to a worker, not copied (a copy held 40 MB more)
"$PY" -c "
import json, sys
with open(sys.argv[1], 'w') as f:
    f.write(json.dumps({'id': 1, 'text': 'ok'}) + '\\n')
    f.write(json.dumps({'id': 2, 'text': 'Notes on the plan. ' * 2100000 + 'You never listen.'}) + '\\n')
    f.write(json.dumps({'id': 3, 'text': 'You never call.'}) + '\\n')
" "$T/big.jsonl"
if [ -z "$ASAN" ]; then
    /usr/bin/time -f %M -o "$T/rec1.rss" "$KL" --no-config --no-default-rules -r "$HERE/rules.yml" --input jsonl -j1 "$T/big.jsonl" > "$T/rec1.out"
    /usr/bin/time -f %M -o "$T/rec2.rss" "$KL" --no-config --no-default-rules -r "$HERE/rules.yml" --input jsonl -j2 "$T/big.jsonl" > "$T/rec2.out"
    check "a 40 MB record with -j2: no more memory than -j1, within 16 MB" \
        test "$(tail -n 1 "$T/rec2.rss")" -lt "$(( $(tail -n 1 "$T/rec1.rss") + 16384 ))"
    check "a 40 MB record with -j2: the answers of -j1" cmp -s "$T/rec1.out" "$T/rec2.out"
else
    kl --input jsonl -j2 "$T/big.jsonl" > "$T/rec2.out"
fi
check "a 40 MB record with -j2: three answers, with the findings" \
    test "$(grep -c 'you-never' "$T/rec2.out")" -eq 2 -a "$(wc -l < "$T/rec2.out")" -eq 3
rm -f "$T/big.jsonl" "$T/rec1.out" "$T/rec2.out"

# --- hostile rules --------------------------------------------------------------
"$PY" -c "
import sys
open(sys.argv[1], 'w').write('You never listen. ' + 'a' * 30000 + '!\n')
" "$T/aaa.txt"
kl -f line "$T/aaa.txt" > "$T/aaa.out" 2> "$T/aaa.err"
check "a catastrophic pattern: warned by rule and line" grep -q ":1:[0-9]*: warning: rule 'backtracker' is too complex" "$T/aaa.err"
check "a catastrophic pattern: the other rules go on" grep -q 'you-never' "$T/aaa.out"
cat > "$T/laughs.yml" <<'YAML'
pack: laughs
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
rules: [*d]
YAML
kl --no-default-rules -r "$T/laughs.yml" --list-rules > /dev/null 2> "$T/laughs.err"
check "YAML aliases (billion laughs) refused" sh -c "test \$? -eq 2 || true; grep -q 'laughs.yml:[0-9]*:[0-9]*: error' '$T/laughs.err'"
"$PY" -c "
import sys
open(sys.argv[1], 'w').write('pack: deep\nrules: ' + '[' * 100000 + ']' * 100000 + '\n')
" "$T/deep.yml"
"$KL" --no-default-rules -r "$T/deep.yml" --list-rules > /dev/null 2> "$T/deep.err"
check "deeply nested YAML: an error, not a crash" test $? -eq 2
"$PY" -c "
import sys
open(sys.argv[1], 'w').write('pack: big\nrules:\n  - id: big\n    category: blame\n    severity: info\n    message: m\n    match: \'' + 'a' * 1048576 + '\'\n')
" "$T/bigpat.yml"
"$KL" --no-default-rules -r "$T/bigpat.yml" --list-rules > /dev/null 2> "$T/bigpat.err"
check "a 1 MB pattern: refused with status 2" test $? -eq 2
check "a 1 MB pattern: said where" grep -q 'bigpat.yml:7:[0-9]*: error' "$T/bigpat.err"
"$PY" -c "
import sys
open(sys.argv[1], 'w').write('pack: huge\nsummary: \"' + 'x' * 5000000 + '\"\nrules: []\n')
" "$T/huge.yml"
"$KL" --no-default-rules -r "$T/huge.yml" --list-rules > /dev/null 2> "$T/huge.err"
check "a 5 MB rule file: refused" test $? -eq 2

# --- --write and kill -9 --------------------------------------------------------
"$PY" -c "
import sys
open(sys.argv[1], 'w').write('You never listen to me.\n' * 2000000)
" "$T/old.txt"
cp "$T/old.txt" "$T/w.txt"
kl --fix < "$T/old.txt" > "$T/new.txt"
torn=0
for i in 1 2 3 4 5 6 7 8 9 10; do
    cp "$T/old.txt" "$T/w.txt"
    "$KL" --no-config --no-default-rules -r "$HERE/rules.yml" --write -q "$T/w.txt" 2>/dev/null &
    pid=$!
    sleep "0.$((i * 9 % 10))$i"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if ! cmp -s "$T/w.txt" "$T/old.txt" && ! cmp -s "$T/w.txt" "$T/new.txt"; then
        torn=$((torn + 1))
    fi
done
check "kill -9 during --write: old or new, never torn" test "$torn" -eq 0
rm -f "$T"/.w.txt.kindlint-* 2>/dev/null

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi

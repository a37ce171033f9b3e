#!/bin/sh
# -j N: the output is the same, in walk order, whatever N; errors and exit
# status too. Usage: jobs_test.sh KINDLINT
set -u
KL=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() {
    name=$1
    shift
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}

# 12 directories of 40 files; every file has one finding, on a line of its
# own number, and file sizes differ so that workers finish out of order
i=0
for d in 00 01 02 03 04 05 06 07 08 09 10 11; do
    mkdir -p "$T/tree/d$d"
    for f in 00 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 \
             20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39; do
        i=$((i + 1))
        p="$T/tree/d$d/f$f.txt"
        n=$(( (i * 7) % 23 ))
        : > "$p"
        while [ "$n" -gt 0 ]; do
            echo "Notes from the meeting about the release plan, item $n." >> "$p"
            n=$((n - 1))
        done
        echo "You never answer my emails about file $i." >> "$p"
    done
done
# a file over 16 MiB is streamed by the worker that prints it, when its
# turn comes (as without -j), not read whole: its finding at the end
awk 'BEGIN { for (i = 0; i < 300000; i++) print "Notes from the meeting about the release plan, item " i "." }' \
    > "$T/tree/d03/f20big.txt"
echo "You never answer my emails about the big file." >> "$T/tree/d03/f20big.txt"
chmod 000 "$T/tree/d05/f07.txt" 2>/dev/null
cd "$T"

for fmt in line jsonl json; do
    "$KL" --no-config -f "$fmt" -j1 tree > "j1.$fmt" 2> "j1.$fmt.err"
    echo $? > "j1.$fmt.rc"
    for n in 2 4 7; do
        "$KL" --no-config -f "$fmt" -j"$n" tree > "j$n.$fmt" 2> "j$n.$fmt.err"
        echo $? > "j$n.$fmt.rc"
        check "$fmt: -j$n output is -j1's" cmp -s "j1.$fmt" "j$n.$fmt"
        check "$fmt: -j$n errors are -j1's" cmp -s "j1.$fmt.err" "j$n.$fmt.err"
        check "$fmt: -j$n status is -j1's" cmp -s "j1.$fmt.rc" "j$n.$fmt.rc"
    done
done

# -j1 itself is in walk order: name order, directories depth first
cut -d: -f1 j1.line | uniq > order.txt
if [ "$(id -u)" = 0 ]; then unread=0; else unread=1; fi
find tree -name '*.txt' | sort > expected_all.txt
if [ "$unread" = 1 ]; then
    grep -v 'd05/f07.txt' expected_all.txt > expected.txt
else
    cp expected_all.txt expected.txt
fi
check "findings come in walk order, one file after another" cmp -s order.txt expected.txt
check "every readable file has its finding" test "$(wc -l < j1.line)" -eq "$(wc -l < expected.txt)"
if [ "$unread" = 1 ]; then
    check "an unreadable file is an error, status 2" test "$(cat j4.line.rc)" -eq 2
    check "the error names the file" grep -q 'd05/f07.txt' j4.line.err
fi

[ "$fails" -eq 0 ] && echo "all jobs checks passed"
exit "$fails"

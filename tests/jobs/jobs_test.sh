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

# --input jsonl -j N: records are answered in input order whatever N.
# 4,000 records in chunks of 128 KiB: some with findings, some malformed,
# an empty line, a CRLF line, a record of 400 KB, and no final newline
awk 'BEGIN {
    big = ""; for (k = 0; k < 8000; k++) big = big "Notes about the plan, item " k ". "
    for (i = 1; i <= 4000; i++) {
        if (i % 997 == 0) { print "not json " i; continue }
        if (i % 1499 == 0) { print ""; continue }
        if (i == 2500) { printf "{\"id\": %d, \"text\": \"%sYou never listen.\"}\n", i, big; continue }
        if (i == 3100) { printf "{\"id\": %d, \"text\": \"You never call.\"}\r\n", i; continue }
        if (i % 7 == 0) text = "You never answer my emails about record " i "."
        else text = "The meeting about record " i " moved to Tuesday."
        if (i == 4000) printf "{\"id\": %d, \"text\": \"%s\"}", i, text
        else printf "{\"id\": %d, \"text\": \"%s\"}\n", i, text
    }
}' > records.jsonl
"$KL" --no-config --input jsonl -j1 records.jsonl > r1.out 2> r1.err
echo $? > r1.rc
for n in 2 4 7; do
    "$KL" --no-config --input jsonl -j"$n" records.jsonl > "r$n.out" 2> "r$n.err"
    echo $? > "r$n.rc"
    check "records: -j$n output is -j1's" cmp -s r1.out "r$n.out"
    check "records: -j$n status is -j1's" cmp -s r1.rc "r$n.rc"
done
"$KL" --no-config --input jsonl -j3 < records.jsonl > rstdin.out
check "records: -j3 from standard input is -j1's" cmp -s r1.out rstdin.out
check "records: one answer per line" test "$(wc -l < r4.out)" -eq 4000
# the answers' ids and error lines, in input order, from the -j4 run
awk '{ if (match($0, /^\{"id":null,"line":[0-9]+/)) print "line " substr($0, 19, RLENGTH - 18);
       else if (match($0, /^\{"id":[0-9]+/)) print "id " substr($0, 7, RLENGTH - 6) }' r4.out > got_ids.txt
awk 'BEGIN { for (i = 1; i <= 4000; i++) print ((i % 997 == 0 || i % 1499 == 0) ? "line " : "id ") i }' > want_ids.txt
check "records: -j4 answers in input order, errors in place" cmp -s want_ids.txt got_ids.txt
check "records: the 400 KB record's finding" grep -q '"id":2500,"findings":\[{"rule":"you-never"' r4.out
check "records: the CRLF record's finding" grep -q '"id":3100,"findings":\[{"rule":"you-never"' r4.out
check "records: findings give status 1" test "$(cat r4.rc)" -eq 1

[ "$fails" -eq 0 ] && echo "all jobs checks passed"
exit "$fails"

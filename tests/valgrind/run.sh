#!/bin/sh
# Every golden CLI case once more, under valgrind memcheck: no memory
# error and no definitely lost block in any of them (the outputs are
# checked by the golden tests themselves). Skipped (77) without valgrind.
# Usage: run.sh KINDLINT CLI_CASES_DIR
set -u
command -v valgrind > /dev/null || { echo "valgrind not installed: skipped"; exit 77; }
KL=$(realpath "$1")
CASES=$(realpath "$2")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 count=0
for case in "$CASES"/*/; do
    [ -f "$case/args" ] || continue
    count=$((count + 1))
    name=$(basename "$case")
    # the arguments, one per line, as the golden runner reads them
    set --
    while IFS= read -r a || [ -n "$a" ]; do set -- "$@" "$a"; done < "$case/args"
    input=/dev/null
    [ -f "$case/stdin" ] && input="$case/stdin"
    (cd "$case" && NO_COLOR=1 valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        "$KL" "$@" < "$input" > /dev/null 2> "$T/$name.log")
    if [ $? -eq 99 ]; then
        echo "FAIL $name"; sed -n '1,40p' "$T/$name.log"; fails=$((fails + 1))
    fi
done
echo "$count cases under valgrind, $fails with errors"
[ "$fails" -eq 0 ]

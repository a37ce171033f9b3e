#!/bin/sh
# Runs each libFuzzer target for SECONDS (default 60), with ASan and UBSan,
# from its seed corpus; new inputs go to a scratch corpus, crashes to
# tests/fuzz/crashes/. Build first:
#   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DKINDLINT_FUZZ=ON -DKINDLINT_SANITIZE=ON
#   cmake --build build-fuzz
# Usage: tests/fuzz/run.sh [SECONDS] [BUILD_DIR] [TARGET...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-60}
build=${2:-build-fuzz}
shift 2 2>/dev/null || shift $# 
targets=${*:-scan rules config template lsp}
mkdir -p "$here/crashes"
status=0
for t in $targets; do
    work=$(mktemp -d)
    cp "$here/corpus/$t"/* "$work"/ 2>/dev/null || true
    echo "== fuzz_$t for ${secs}s"
    if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
        -max_len=65536 -artifact_prefix="$here/crashes/$t-" -print_final_stats=1 "$work" \
        > "$work.log" 2>&1; then
        echo "fuzz_$t FAILED:"; tail -n 40 "$work.log"; status=1
    else
        grep -E "stat::number_of_executed_units|cov:" "$work.log" | tail -n 2
    fi
    rm -rf "$work" "$work.log"
done
exit $status

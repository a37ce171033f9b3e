#!/bin/sh
# speed.sh -- kindlint's throughput on prose, against grep -F as a yardstick.
#
#   bench/speed.sh KINDLINT [CORPUS_DIR]
#
# KINDLINT is the program to measure (e.g. build/kindlint); nothing is built
# here. CORPUS_DIR holds the unlabelled corpora (CSV files; default
# ../shared/corpus/raw next to the repository). Their messages are repeated
# into one temporary text file of SIZE_MB megabytes, one message a paragraph,
# and then timed:
#
#   kindlint, built-in rules            kindlint --format jsonl --fail-on never FILE
#   the same, KINDLINT_NO_PREFILTER=1   every rule's regex on every sentence
#                                       (on the first NOPF_MB only)
#   kindlint, a synthetic pack          ~120 rules from a phrase list (below),
#                                       with and without the prefilter: how
#                                       it scales to a full rule set
#   grep -F -c -i                       the same phrases as fixed strings
#
# Environment: SIZE_MB (default 100); NOPF_MB (default 10): the cases
# without the prefilter are slow and read only the first NOPF_MB of the
# input; RUNS (default 3); KEEP=1 keeps the temporary directory. Each case
# runs once under /usr/bin/time (wall time, peak RSS); when that run took
# under 10 s and hyperfine is installed, the time shown is hyperfine's mean
# of RUNS runs instead.
set -eu

usage() {
    echo "usage: $0 KINDLINT [CORPUS_DIR]" >&2
    exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
KL=$1
[ -x "$KL" ] || { echo "$0: $KL is not an executable" >&2; exit 2; }
case $KL in /*) ;; *) KL=$(pwd)/$KL ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
CORPUS=${2:-$REPO/../shared/corpus/raw}
[ -d "$CORPUS" ] || { echo "$0: no corpus directory $CORPUS" >&2; exit 2; }
SIZE_MB=${SIZE_MB:-100}
RUNS=${RUNS:-3}
command -v python3 >/dev/null || { echo "$0: python3 is needed to read the CSV files" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kindlint-speed.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "keeping $TMP"
else
    trap 'rm -rf "$TMP"' EXIT INT TERM
fi
INPUT=$TMP/input.txt

# ---------------------------------------------------------------------------
# The input: corpus messages, repeated to SIZE_MB
# ---------------------------------------------------------------------------
python3 - "$CORPUS" "$INPUT" "$SIZE_MB" <<'EOF'
import csv, os, sys
corpus, out, size_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
csv.field_size_limit(1 << 24)
specs = [  # file, text columns (the same corpora bench/quality.py reads)
    ("meld-friends/train_sent_emo.csv", ["Utterance"]),
    ("meld-friends/dev_sent_emo.csv", ["Utterance"]),
    ("ucc-unhealthy-comments/val.csv", ["comment"]),
    ("ucc-unhealthy-comments/test.csv", ["comment"]),
    ("stanford-politeness/wikipedia.annotated.csv", ["Request"]),
    ("stanford-politeness/stack-exchange.annotated.csv", ["Request"]),
    ("counsel-chat/20200325_counsel_chat.csv", ["questionText", "answerText"]),
]
msgs = []
for rel, cols in specs:
    path = os.path.join(corpus, rel)
    if not os.path.exists(path):
        continue
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            for c in cols:
                t = (row.get(c) or "").replace("\r", " ").strip()
                if t:
                    msgs.append(t)
if not msgs:
    sys.exit("no messages found under " + corpus)
block = ("\n\n".join(msgs) + "\n\n").encode("utf-8")
want = size_mb * 1000 * 1000
with open(out, "wb") as fh:
    n = 0
    while n < want:
        part = block[: want - n] if want - n < len(block) else block
        fh.write(part)
        n += len(part)
print("input: %d messages, %d distinct bytes, repeated to %d bytes" % (len(msgs), len(block), n))
EOF
BYTES=$(wc -c <"$INPUT")

# ---------------------------------------------------------------------------
# A synthetic pack: one rule per phrase, words joined by \s+
# ---------------------------------------------------------------------------
PHRASES=$TMP/phrases.txt
cat >"$PHRASES" <<'EOF'
you never
you always
you constantly
calm down
whatever
it's your fault
it is your fault
you're overreacting
you are overreacting
why can't you
what's wrong with you
i told you so
you should have
you made me
because of you
you don't care
you're being dramatic
get over it
stop being so
you're too sensitive
not my problem
i don't care
that's ridiculous
are you serious
you're impossible
you're crazy
you're lazy
you're selfish
you can't even
you ruined
thanks for nothing
as usual
here we go again
i'm sorry you feel
i'm sorry if you
you need to
you have to
do it now
fine whatever
if you really loved me
you obviously
you clearly
you just want
you only care about
you think you're
who do you think you are
what is your problem
how many times
you should know
everyone knows
nobody likes
you're the reason
look what you did
you did this
you forgot again
you're wrong
shut up
leave me alone
not this again
i'm done
don't start
you'll never
you'd better
typical of you
you people
grow up
man up
get a grip
you're pathetic
you're useless
you're stupid
what were you thinking
use your brain
do your job
you never listen
you're not listening
you don't understand
you wouldn't understand
you misunderstood
that's not what i said
you're twisting my words
you started it
it's not my fault
i didn't do anything
you're overthinking
chill out
it's not a big deal
making a big deal
stop whining
stop complaining
quit crying
don't be such a baby
you always do this
every single time
for the hundredth time
are you kidding me
you're just jealous
you're so negative
you're too much
you owe me
after all i've done
you're never happy
you can't do anything right
you're embarrassing
what's your problem
you'll regret
you don't deserve
you're acting like
you're such a
you let me down
you're hopeless
you should be ashamed
you disgust me
you're a joke
nobody asked you
mind your own business
you wouldn't get it
you're not the victim
stop playing the victim
you're exaggerating
you're paranoid
EOF
PACK=$TMP/pack
mkdir -p "$PACK"
python3 - "$PHRASES" "$PACK/synthetic.yml" "$TMP/grep-args" <<'EOF'
import re, sys
phrases = [l.strip() for l in open(sys.argv[1]) if l.strip()]
with open(sys.argv[2], "w") as out:
    out.write("pack: synthetic\nsummary: speed test rules\nrules:\n")
    for i, p in enumerate(phrases):
        words = [re.escape(w).replace("\\'", "'") for w in p.split()]
        pat = "\\b" + "\\s+".join(words) + "\\b"
        out.write("  - id: s%d\n    category: blame\n    severity: warning\n" % i)
        out.write("    message: m\n    match: '%s'\n" % pat.replace("'", "''"))
with open(sys.argv[3], "w") as out:
    for p in phrases:
        out.write(p + "\n")
print("synthetic pack: %d rules" % len(phrases))
EOF

# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "kindlint: $("$KL" --version 2>/dev/null | head -1)"
echo "input: $BYTES bytes in $INPUT"
echo

KLRUN="$KL --no-config --format jsonl --fail-on never"
SYN="--no-default-rules --rules $PACK"
# every rule on every sentence is slow: those cases read the first NOPF_MB
NOPF_MB=${NOPF_MB:-10}
head -c $((NOPF_MB * 1000 * 1000)) "$INPUT" >"$TMP/head.txt"
HEAD=$TMP/head.txt

# name|environment|input|command (the input is appended)
cat >"$TMP/cases" <<EOF
kindlint, built-in rules||$INPUT|$KLRUN
kindlint, built-in rules, no prefilter|KINDLINT_NO_PREFILTER=1|$HEAD|$KLRUN
kindlint, synthetic pack||$INPUT|$KLRUN $SYN
kindlint, synthetic pack, no prefilter|KINDLINT_NO_PREFILTER=1|$HEAD|$KLRUN $SYN
grep -F -c -i (the same phrases)||$INPUT|grep -F -c -i -f $TMP/grep-args
grep -F -c -i -e 'you never'||$INPUT|grep -F -c -i -e 'you never'
EOF

# One run under /usr/bin/time (wall seconds, peak RSS); then, when that
# took under 10 s and hyperfine is there, hyperfine's mean of RUNS runs.
measure() { # command -> "seconds rss_kB"
    if [ -x /usr/bin/time ]; then
        # not >/dev/null: GNU grep stops at the first match when it sees that
        /usr/bin/time -f '%e %M' -o "$TMP/tv" sh -c "$1 >$TMP/out 2>&1" || true
        read -r t rss <"$TMP/tv"
    else
        s=$(date +%s.%N)
        sh -c "$1" >"$TMP/out" 2>&1 || true
        e=$(date +%s.%N)
        t=$(python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$s" "$e")
        rss="?"
    fi
    if command -v hyperfine >/dev/null &&
        python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 10 else 1)" "$t"; then
        if hyperfine -N --style none --output=pipe --warmup 1 --runs "$RUNS" --export-json "$TMP/h.json" "$1" \
            >/dev/null 2>&1; then
            t=$(python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["mean"])' \
                "$TMP/h.json")
        fi
    fi
    echo "$t $rss"
}

mbps() { # file seconds -> MB/s
    python3 -c "import os,sys; print('%.1f' % (os.path.getsize(sys.argv[1]) / 1e6 / max(float(sys.argv[2]), 1e-3)))" "$1" "$2"
}

printf '%-40s %7s %9s %9s %12s\n' "case" "MB" "seconds" "MB/s" "peak RSS"
: >"$TMP/results"
while IFS='|' read -r name envs input cmd; do
    cmd="$cmd $input"
    [ -z "$envs" ] || cmd="env $envs $cmd"
    # shellcheck disable=SC2046
    set -- $(measure "$cmd")
    mb=$(python3 -c "import os,sys; print('%.0f' % (os.path.getsize(sys.argv[1]) / 1e6))" "$input")
    rate=$(mbps "$input" "$1")
    printf '%-40s %7s %9s %9s %9s kB\n' "$name" "$mb" "$1" "$rate" "$2"
    python3 -c "import os,sys; print('%s|%.6f' % (sys.argv[1], os.path.getsize(sys.argv[2]) / 1e6 / max(float(sys.argv[3]), 1e-3)))" \
        "$name" "$input" "$1" >>"$TMP/results"
done <"$TMP/cases"
echo
python3 - "$TMP/results" <<'EOF'
import sys
r = dict(l.rstrip("\n").split("|") for l in open(sys.argv[1]))
def ratio(a, b):
    try:
        return "%.2f" % (float(r[a]) / float(r[b]))
    except (KeyError, ValueError, ZeroDivisionError):
        return "?"
print("prefilter gain, built-in rules:                 x%s"
      % ratio("kindlint, built-in rules", "kindlint, built-in rules, no prefilter"))
print("prefilter gain, synthetic pack:                 x%s"
      % ratio("kindlint, synthetic pack", "kindlint, synthetic pack, no prefilter"))
print("grep -F -e 'you never' is faster than kindlint (built-in) by:  x%s"
      % ratio("grep -F -c -i -e 'you never'", "kindlint, built-in rules"))
print("grep -F -f (same phrases) is faster than kindlint (synthetic) by: x%s"
      % ratio("grep -F -c -i (the same phrases)", "kindlint, synthetic pack"))
EOF

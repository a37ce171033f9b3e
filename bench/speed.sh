#!/bin/sh
# speed.sh -- how fast kindlint lints prose, against grep -F as the yardstick.
#
#   bench/speed.sh KINDLINT [CORPUS_DIR]
#   e.g. bench/speed.sh build/kindlint
#        SIZE_MB=20 KL_MB=2 NOPF_MB=1 RUNS=3 bench/speed.sh build/kindlint
#
# KINDLINT is the program to measure (nothing is built here). CORPUS_DIR holds
# the CSV corpora (default ../shared/corpus/raw next to the repository);
# bench/gen_corpus.py turns their messages into a text file of SIZE_MB
# megabytes (10^6 bytes), one message a paragraph, shuffled with a fixed seed.
# Each case runs RUNS times; the MEDIAN wall time is shown, with MB read,
# MB/s and peak RSS (the largest of the runs, from GNU /usr/bin/time -f %M):
#
#   kindlint, text       KINDLINT --no-config --fail-on never FILE >/dev/null
#   kindlint, jsonl      the same with --format jsonl
#   kindlint, no prefilt the text case with KINDLINT_NO_PREFILTER=1 (every
#                        rule's regex on every sentence), on the first NOPF_MB
#   grep -c -i -F -f T   T: every quoted trigger literal in
#                        `KINDLINT --list-rules -v` (the default packs): the
#                        speed of light for finding those phrases; run in the
#                        current locale and again with LC_ALL=C
#   alex, write-good,    on the first 5 MB, when installed (on PATH or in
#   proselint            bench/node_modules/.bin); skipped with a note if not
#   kindlint -j1 / -j2   on a tree of 3000 files split from the kindlint
#                        slice, KL_MB/3000 each but at most 4 KB (so at most
#                        the first 12 MB), text to /dev/null; the two runs
#                        in turn, so a slow spell of the machine falls on both
#
# and then kindlint's time per MB over grep's, the prefilter's gain, the -j2
# speedup and the startup latency (`echo ok | KINDLINT --no-config`, median of
# 50 runs). The kindlint cases (80-90 MB/s with all packs) read only the first
# KL_MB megabytes of the corpus; every row says how many MB it read.
#
# Environment: SIZE_MB (default 100), KL_MB (default SIZE_MB), NOPF_MB
# (default 5), RUNS (default 3), GREP_RUNS (runs of the C.UTF-8 grep, over
# a minute each on 100 MB; default RUNS), TOOLS_RUNS (runs of the other
# linters, default RUNS: they take minutes each), JOBS_RUNS (runs of the -j1
# and -j2 cases, default 7: they take a fraction of a second each, so one slow
# moment of a shared machine would move a median of three), TOOLS (which of them: default
# "alex write-good proselint"; empty for none), KEEP=1 keeps the temporary
# directory.
# Needs /usr/bin/python3 (or python3), standard library only; not hyperfine.
set -eu

usage() {
    echo "usage: [SIZE_MB=100] [KL_MB=SIZE_MB] [NOPF_MB=5] [RUNS=3] [KEEP=1] $0 KINDLINT [CORPUS_DIR]" >&2
    exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
KL=$1
if [ ! -f "$KL" ] || [ ! -x "$KL" ]; then echo "$0: $KL is not an executable" >&2; exit 2; fi
case $KL in /*) ;; *) KL=$(pwd)/$KL ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
CORPUS=${2:-$REPO/../shared/corpus/raw}
[ -d "$CORPUS" ] || { echo "$0: no corpus directory $CORPUS" >&2; exit 2; }
CORPUS=$(cd "$CORPUS" && pwd)
SIZE_MB=${SIZE_MB:-100}
KL_MB=${KL_MB:-$SIZE_MB}
NOPF_MB=${NOPF_MB:-5}
RUNS=${RUNS:-3}
TOOLS_MB=5
if [ -x /usr/bin/python3 ]; then
    PY=/usr/bin/python3
else
    PY=$(command -v python3) || { echo "$0: python3 is needed" >&2; exit 2; }
fi
case $RUNS in '' | *[!0-9]* | 0) echo "$0: RUNS must be a positive integer" >&2; exit 2 ;; esac
for v in "$SIZE_MB" "$KL_MB" "$NOPF_MB"; do
    "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "$v" 2>/dev/null ||
        { echo "$0: SIZE_MB, KL_MB and NOPF_MB must be positive numbers" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kindlint-speed.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "keeping $TMP"
else
    trap 'rm -rf "$TMP"' EXIT
fi
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Helpers (timing, slicing, the trigger list, the -j tree, the summary)
# ---------------------------------------------------------------------------
H=$TMP/h.py
cat >"$H" <<'EOF'
import os, re, statistics, subprocess, sys, tempfile, time

def mb(n):
    return n / 1e6

def slice_(src, size_mb, dst):
    """The first size_mb MB of src, cut after the last whole paragraph."""
    want = int(float(size_mb) * 1e6)
    with open(src, "rb") as fh:
        data = fh.read(want + 1)
    if len(data) > want:
        data = data[:want]
        cut = data.rfind(b"\n\n")
        if cut > 0:
            data = data[: cut + 1]
    with open(dst, "wb") as fh:
        fh.write(data)

def triggers():
    """Quoted literals of the 'triggers:' lines of --list-rules -v."""
    seen = {}
    for line in sys.stdin:
        line = line.strip()
        if line.startswith("triggers:"):
            for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', line):
                # \b marks a word boundary (grep -F cannot say it: dropped);
                # \" and \\ are a quote and a backslash
                lit = re.sub(r"\\(.)", lambda m: "" if m.group(1) == "b" else m.group(1), lit)
                if lit:
                    seen.setdefault(lit, None)
    sys.stdout.write("".join(l + "\n" for l in seen))

def split(src, root, nfiles, maxbytes):
    """nfiles files of len/nfiles bytes but at most maxbytes, 100 a directory.
    Each file ends at a paragraph end if one is near, else at a sentence end,
    else at a space."""
    data = open(src, "rb").read()
    nfiles, target = int(nfiles), max(1, min(len(data) // int(nfiles), int(maxbytes)))
    slack = max(1, target // 4)
    files = total = pos = 0
    while files < nfiles and pos < len(data):
        end = pos + target
        if end >= len(data):
            end = len(data)
        else:
            for sep in (b"\n\n", b". ", b"? ", b"! ", b" "):
                k = data.find(sep, end, end + slack)
                if k >= 0:
                    end = k + len(sep)
                    break
        text = data[pos:end].strip() + b"\n"
        pos = end
        if len(text) < 2:
            continue
        d = os.path.join(root, "%03d" % (files // 100))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "m%05d.txt" % files), "wb") as fh:
            fh.write(text)
        files += 1
        total += len(text)
    print(files, total)

GNU_TIME = None
def gnu_time():
    global GNU_TIME
    if GNU_TIME is None:
        try:
            GNU_TIME = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", os.devnull, "true"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
        except OSError:
            GNU_TIME = False
    return GNU_TIME

def run_once(argv, out, err):
    """-> (seconds, peak RSS kB, exit status)"""
    with open(out, "wb") as o, open(err, "wb") as e:
        if gnu_time():
            tf = err + ".time"
            t0 = time.perf_counter()
            rc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf] + argv, stdout=o, stderr=e).returncode
            t = time.perf_counter() - t0
            lines = open(tf).read().split()  # may start with "Command exited with ..."
            rss = int(lines[-1]) if lines and lines[-1].isdigit() else None
        else:  # not GNU time: the child's rusage
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, stdout=o, stderr=e)
            _, status, ru = os.wait4(p.pid, 0)
            t = time.perf_counter() - t0
            p.returncode = rc = os.waitstatus_to_exitcode(status)
            rss = ru.ru_maxrss
    return t, rss, rc

def run(results, names, keys, inp, out, ok, argvs):
    """Time each argv of argvs RUNS times, taking them in turn (so that a
    slow spell of a shared machine falls on each alike); print a row for
    each and record it as its key. names and keys: one per argv, "|" apart."""
    runs = int(os.environ.get("RUNS", "3"))
    names, keys = names.split("|"), keys.split("|")
    nbytes = int(inp) if inp.isdigit() else os.path.getsize(inp)
    err = os.path.join(os.path.dirname(results), "stderr.txt")
    times, rsss = [[] for _ in argvs], [[] for _ in argvs]
    for _ in range(runs):
        for c, argv in enumerate(argvs):
            t, rss, rc = run_once(argv, out, err)
            if ok != "any" and str(rc) not in ok.split(","):
                tail = open(err, errors="replace").read()[-600:]
                print("%-40s FAILED (exit %d): %s" % (names[c], rc, " ".join(argv)))
                print("    " + tail.strip().replace("\n", "\n    "))
                return
            times[c].append(t)
            if rss is not None:
                rsss[c].append(rss)
    for c in range(len(argvs)):
        med = statistics.median(times[c])
        rate = mb(nbytes) / med if med > 0 else float("inf")
        rss = "%d kB" % max(rsss[c]) if rsss[c] else "?"
        print("%-40s %7.2f %9.3f %9.2f %12s" % (names[c], mb(nbytes), med, rate, rss), flush=True)
        with open(results, "a") as fh:
            fh.write("%s %d %.6f\n" % (keys[c], nbytes, med))

def startup(n, argv):
    """Median wall time of `echo ok | argv`, in ms, over n runs (after 3 warm-ups)."""
    ts = []
    for i in range(int(n) + 3):
        t0 = time.perf_counter()
        p = subprocess.run(argv, input=b"ok\n", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = time.perf_counter() - t0
        if p.returncode != 0:
            print("FAILED (exit %d)" % p.returncode)
            return
        if i >= 3:
            ts.append(t)
    print("%.1f ms (min %.1f, max %.1f)" % (1e3 * statistics.median(ts), 1e3 * min(ts), 1e3 * max(ts)))

def summary(results):
    r = {}
    for line in open(results):
        k, b, t = line.split()
        r[k] = (int(b), float(t))
    def rate(k):
        b, t = r[k]
        return mb(b) / t if t > 0 else float("inf")
    def x(a, b, fmt="x%.1f"):
        return fmt % (rate(b) / rate(a)) if a in r and b in r else "n/a"
    def ratio(a, b):
        if a not in r or b not in r:
            return "n/a"
        v = rate(b) / rate(a)
        return "x%.0f" % v if v >= 10 else "x%.2f" % v
    for k, what in (("text", "text"), ("jsonl", "jsonl")):
        print("kindlint %-5s / grep, time per MB:        %s   (vs LC_ALL=C grep: %s)"
              % (what, ratio(k, "grep"), ratio(k, "grepc")))
    print("prefilter gain (text, MB/s with / without): %s" % x("nopf", "text", "x%.2f"))
    if "j1" in r and "j2" in r:
        print("-j2 speedup over -j1 (%d files, %.2f MB):  x%.2f"
              % (int(os.environ.get("JFILES", "0")), mb(r["j1"][0]), r["j1"][1] / r["j2"][1]))

cmd = sys.argv[1]
if cmd == "slice":
    slice_(*sys.argv[2:5])
elif cmd == "triggers":
    triggers()
elif cmd == "split":
    split(*sys.argv[2:6])
elif cmd == "run":
    # run RESULTS NAMES KEYS INPUT OUT OK -- ARGV [--- ARGV ...]
    i = sys.argv.index("--")
    argvs, cur = [], []
    for a in sys.argv[i + 1:]:
        if a == "---":
            argvs.append(cur)
            cur = []
        else:
            cur.append(a)
    argvs.append(cur)
    run(*sys.argv[2:i], argvs)
elif cmd == "startup":
    startup(sys.argv[2], sys.argv[4:])
elif cmd == "summary":
    summary(sys.argv[2])
elif cmd == "size":
    print("%.2f" % mb(os.path.getsize(sys.argv[2])))
EOF
RES=$TMP/results
: >"$RES"
export RUNS
py() { "$PY" "$H" "$@"; }
# run NAME KEY INPUT(file or byte count) STDOUT OK-EXIT-CODES -- COMMAND...
# (NAME1|NAME2 KEY1|KEY2 ... -- COMMAND1 --- COMMAND2: the two in turn)
run() { py run "$RES" "$@"; }

# ---------------------------------------------------------------------------
# The corpus and its slices
# ---------------------------------------------------------------------------
INPUT=$TMP/corpus.txt
"$PY" "$HERE/gen_corpus.py" "$SIZE_MB" "$INPUT" "$CORPUS" 2>"$TMP/gen.log" ||
    { cat "$TMP/gen.log" >&2; exit 1; }
KLIN=$TMP/kl.txt
py slice "$INPUT" "$KL_MB" "$KLIN"
NOPF=$TMP/nopf.txt
py slice "$INPUT" "$NOPF_MB" "$NOPF"
TRIG=$TMP/triggers.txt
"$KL" --no-config --list-rules -v | py triggers >"$TRIG"
NTRIG=$(wc -l <"$TRIG")
[ "$NTRIG" -gt 0 ] || { echo "$0: no trigger literals in $KL --list-rules -v" >&2; exit 1; }
NRULES=$("$KL" --no-config --list-rules | sed 1d | wc -l)

echo "kindlint speed benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine:  $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1) ($(uname -sm))"
echo "kindlint: $("$KL" --version 2>&1 | head -1) ($1), $NRULES rules in the default packs"
echo "corpus:   $(sed 's/^gen_corpus.py: //; s/) from .*/)/' "$TMP/gen.log")"
echo "          from $CORPUS"
echo "settings: SIZE_MB=$SIZE_MB KL_MB=$KL_MB NOPF_MB=$NOPF_MB RUNS=$RUNS (median of RUNS), locale ${LC_ALL:-${LC_CTYPE:-${LANG:-C}}}"
echo

printf '%-40s %7s %9s %9s %12s\n' "case" "MB" "median s" "MB/s" "peak RSS"
KLR="$KL --no-config --fail-on never"
# shellcheck disable=SC2086 # KLR is split on purpose
{
    run "kindlint, default packs, text" text "$KLIN" /dev/null 0 -- $KLR "$KLIN"
    run "kindlint, default packs, jsonl" jsonl "$KLIN" /dev/null 0 -- $KLR --format jsonl "$KLIN"
    run "kindlint, text, KINDLINT_NO_PREFILTER=1" nopf "$NOPF" /dev/null 0 -- \
        env KINDLINT_NO_PREFILTER=1 $KLR "$NOPF"
}
# not >/dev/null: GNU grep then stops at the first match, as with -q
KEEP_RUNS=$RUNS
RUNS=${GREP_RUNS:-$RUNS}
run "grep -c -i -F -f TRIGGERS ($NTRIG)" grep "$INPUT" "$TMP/grep.out" 0,1 -- \
    grep -c -i -F -f "$TRIG" "$INPUT"
RUNS=$KEEP_RUNS
run "  the same, LC_ALL=C" grepc "$INPUT" "$TMP/grep.out" 0,1 -- \
    env LC_ALL=C grep -c -i -F -f "$TRIG" "$INPUT"

# other prose linters, on the first TOOLS_MB
TOOLIN=$TMP/tools.txt
py slice "$INPUT" "$TOOLS_MB" "$TOOLIN"
for tool in ${TOOLS-alex write-good proselint}; do
    if [ -x "$HERE/node_modules/.bin/$tool" ]; then
        exe=$HERE/node_modules/.bin/$tool
    elif exe=$(command -v "$tool" 2>/dev/null); then
        :
    else
        printf '%-40s not installed, skipped\n' "$tool"
        continue
    fi
    # they exit non-zero when they find something
    RUNS=${TOOLS_RUNS:-$RUNS} run "$tool" "$tool" "$TOOLIN" /dev/null any -- "$exe" "$TOOLIN"
done

# -j: a tree of 3000 files of at most 4 KB, from the kindlint slice
TREE=$TMP/tree
mkdir "$TREE"
# shellcheck disable=SC2046
set -- $(py split "$KLIN" "$TREE" 3000 4000)
JFILES=$1
export JFILES
# shellcheck disable=SC2086
{
    # in turn: the ratio of the two is what counts
    RUNS=${JOBS_RUNS:-7} run "kindlint -j1, $JFILES-file tree, text|kindlint -j2, $JFILES-file tree, text" \
        "j1|j2" "$2" /dev/null 0 -- $KLR -j1 "$TREE" --- $KLR -j2 "$TREE"
}

echo
py summary "$RES"
echo "startup, echo ok | kindlint (median of 50): $(py startup 50 -- "$KL" --no-config)"

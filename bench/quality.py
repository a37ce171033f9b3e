#!/usr/bin/env python3
"""Quality benchmark for kindlint's rule packs.

Runs kindlint over a labelled corpus (id<TAB>labels<TAB>text, labels comma-
separated or "-") and prints message-level precision, recall and F1, overall
and per category, as defined in the corpus guidelines: a message counts as
flagged when kindlint reports at least one finding in it; for a category,
when a finding of that category falls in it. With --raw it also reports how
many findings kindlint raises per 1,000 messages of unlabelled corpora, with
a sample of them to read for false positives.

  bench/quality.py CORPUS/dev.tsv [--kindlint build/kindlint] [--rules rules]
                   [--fp] [--fn] [--category NAME] [--raw CORPUS/raw] [--sample N]

The corpus is evaluation material only: this script reads it, the project
never copies it.
"""
import argparse
import bisect
import csv
import json
import os
import random
import subprocess
import sys
import tempfile

CATEGORIES = ["absolute", "blame", "criticism", "contempt", "non-apology", "defensiveness",
              "dismissal", "mind-reading", "stonewalling", "demand", "blame-question"]


def run_kindlint(kindlint, rules, texts, extra=()):
    """Lints every text as its own paragraph of one file; returns, per text,
    the list of findings (dicts from --format jsonl)."""
    starts = []
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as tmp:
        pos = 0
        for t in texts:
            data = t.replace("\r", " ").encode("utf-8", "replace")
            # a blank line between messages: no sentence runs across it
            data = b"\n".join(line for line in data.split(b"\n") if line.strip()) + b"\n\n\n"
            starts.append(pos)
            tmp.write(data)
            pos += len(data)
        path = tmp.name
    cmd = [kindlint, "--format", "jsonl", "--fail-on", "never"]
    if rules:
        cmd += ["--no-default-rules"]
        for r in rules:
            cmd += ["--rules", r]
    cmd += list(extra) + [path]
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    finally:
        os.unlink(path)
    if out.returncode != 0:
        sys.exit("kindlint failed (%d): %s" % (out.returncode, out.stderr.decode()))
    found = [[] for _ in texts]
    for line in out.stdout.decode("utf-8").splitlines():
        f = json.loads(line)
        i = bisect.bisect_right(starts, f["offset"]) - 1
        found[i].append(f)
    return found


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1


def load_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as fh:
        header = fh.readline()
        if not header.startswith("id\t"):
            fh.seek(0)
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            mid, labels, text = line.split("\t", 2)
            gold = set() if labels.strip() == "-" else {l.strip() for l in labels.split(",")}
            rows.append((mid, gold, text))
    return rows


def evaluate(args):
    rows = load_tsv(args.corpus)
    found = run_kindlint(args.kindlint, args.rules, [r[2] for r in rows])
    tp = fp = fn = 0
    cat = {c: [0, 0, 0] for c in CATEGORIES}
    fps, fns = [], []
    for (mid, gold, text), fs in zip(rows, found):
        got = {f["category"] for f in fs}
        if gold and fs:
            tp += 1
        elif fs:
            fp += 1
            fps.append((mid, gold, text, fs))
        elif gold:
            fn += 1
            fns.append((mid, gold, text, fs))
        for c in CATEGORIES:
            if c in gold and c in got:
                cat[c][0] += 1
            elif c in got:
                cat[c][1] += 1
                if gold and (args.category == c):
                    fps.append((mid, gold, text, [f for f in fs if f["category"] == c]))
            elif c in gold:
                cat[c][2] += 1
                if fs and args.category == c:
                    fns.append((mid, gold, text, fs))
    p, r, f1 = prf(tp, fp, fn)
    print("%s: %d messages, %d labelled positive" % (os.path.basename(args.corpus), len(rows),
                                                     sum(1 for x in rows if x[1])))
    print("%-15s %6s %6s %6s %5s %5s %5s" % ("", "P", "R", "F1", "TP", "FP", "FN"))
    print("%-15s %6.3f %6.3f %6.3f %5d %5d %5d" % ("overall", p, r, f1, tp, fp, fn))
    for c in CATEGORIES:
        ctp, cfp, cfn = cat[c]
        cp, cr, cf = prf(ctp, cfp, cfn)
        print("%-15s %6.3f %6.3f %6.3f %5d %5d %5d" % (c, cp, cr, cf, ctp, cfp, cfn))

    def show(title, items):
        if args.category:
            items = [x for x in items if args.category in x[1] or
                     any(f["category"] == args.category for f in x[3])]
        print("\n%s (%d)" % (title, len(items)))
        for mid, gold, text, fs in items:
            print("  %s [%s] %s" % (mid, ",".join(sorted(gold)) or "-", text))
            for f in fs:
                print("      -> %s (%s): %r" % (f["rule"], f["category"], f["text"]))
    if args.fp:
        show("false positives", fps)
    if args.fn:
        show("false negatives", fns)


def raw_texts(raw):
    """(corpus name, [texts]) for each unlabelled corpus that is present."""
    specs = [
        ("MELD train", "meld-friends/train_sent_emo.csv", "Utterance"),
        ("UCC val", "ucc-unhealthy-comments/val.csv", "comment"),
        ("Stanford politeness (Wikipedia)", "stanford-politeness/wikipedia.annotated.csv", "Request"),
        ("CounselChat answers", "counsel-chat/20200325_counsel_chat.csv", "answerText"),
    ]
    for name, rel, column in specs:
        path = os.path.join(raw, rel)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8", newline="") as fh:
            texts = [row[column] for row in csv.DictReader(fh) if row.get(column)]
        yield name, texts


def raw_report(args):
    rng = random.Random(7)
    print("\nfindings on unlabelled corpora")
    print("%-34s %8s %10s %14s" % ("corpus", "messages", "flagged", "per 1,000"))
    samples = []
    for name, texts in raw_texts(args.raw):
        found = run_kindlint(args.kindlint, args.rules, texts)
        flagged = [(t, fs) for t, fs in zip(texts, found) if fs]
        print("%-34s %8d %10d %14.1f" % (name, len(texts), len(flagged),
                                          1000.0 * len(flagged) / max(1, len(texts))))
        rng.shuffle(flagged)
        samples.append((name, flagged[:args.sample]))
    if args.sample:
        for name, flagged in samples:
            print("\nsample of flagged messages: %s" % name)
            for text, fs in flagged:
                for f in fs:
                    s = f["sentence"] if "sentence" in f else text
                    print("  %s (%s): %r  in: %s" % (f["rule"], f["category"], f["text"],
                                                     text.replace("\n", " ")[:200]))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", help="labelled corpus: id<TAB>labels<TAB>text")
    ap.add_argument("--kindlint", default=os.path.join(here, "..", "build", "kindlint"))
    ap.add_argument("--rules", action="append",
                    help="lint with these packs (file or folder, repeatable) instead of the built-in ones")
    ap.add_argument("--fp", action="store_true", help="list false positives")
    ap.add_argument("--fn", action="store_true", help="list false negatives")
    ap.add_argument("--category", help="with --fp/--fn: only this category")
    ap.add_argument("--raw", help="folder of unlabelled corpora (CSV) to count findings on")
    ap.add_argument("--sample", type=int, default=0, help="with --raw: show N flagged per corpus")
    args = ap.parse_args()
    evaluate(args)
    if args.raw:
        raw_report(args)


if __name__ == "__main__":
    main()

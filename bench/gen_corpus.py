#!/usr/bin/python3
"""Build a benchmark corpus of real English messages.

    bench/gen_corpus.py SIZE_MB OUT [RAW_DIR]

Reads every CSV file under RAW_DIR (default: ../shared/corpus/raw next to the
repository), takes the message columns listed in COLUMNS below (each distinct
message once), and writes them to OUT, one message a paragraph (its
whitespace folded to single spaces) with a blank line between, until OUT
holds SIZE_MB megabytes (10^6 bytes; fractions allowed). The messages are
shuffled with a fixed seed; when they run out before SIZE_MB, they are
shuffled again (same generator) and appended, so the output is the same for
the same inputs. OUT ends on a whole paragraph and is at most SIZE_MB.
Standard library only.
"""
import csv
import os
import random
import sys

SEED = 20240601
# Message columns of the corpora in ../shared/corpus/raw (other columns are
# ids, labels, scores, speakers, URLs). A CSV with none of these is skipped.
COLUMNS = (
    "Utterance",  # meld-friends/*_sent_emo.csv: TV dialogue lines
    "comment",  # ucc-unhealthy-comments/*.csv: news comments
    "Request",  # stanford-politeness/*.annotated.csv: requests to editors
    "questionText",  # counsel-chat: the client's question
    "answerText",  # counsel-chat: the therapist's answer
)


def read_messages(raw):
    csv.field_size_limit(1 << 24)
    msgs, used, seen = [], [], set()
    for top, dirs, files in os.walk(raw):
        dirs.sort()
        for name in sorted(files):
            if not name.lower().endswith(".csv"):
                continue
            path = os.path.join(top, name)
            with open(path, encoding="utf-8", errors="replace", newline="") as fh:
                reader = csv.DictReader(fh)
                cols = [c for c in (reader.fieldnames or []) if c in COLUMNS]
                if not cols:
                    continue
                n = 0
                for row in reader:
                    for c in cols:
                        text = " ".join((row.get(c) or "").split())
                        if text and text not in seen:  # e.g. a question with several answers
                            seen.add(text)
                            msgs.append(text.encode("utf-8"))
                            n += 1
                used.append("%s (%s: %d)" % (os.path.relpath(path, raw), ", ".join(cols), n))
    return msgs, used


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit("usage: gen_corpus.py SIZE_MB OUT [RAW_DIR]")
    try:
        want = int(float(argv[1]) * 1000 * 1000)
    except ValueError:
        sys.exit("gen_corpus.py: SIZE_MB must be a number, not %r" % argv[1])
    out = argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    raw = argv[3] if len(argv) == 4 else os.path.join(here, "..", "..", "shared", "corpus", "raw")
    if not os.path.isdir(raw):
        sys.exit("gen_corpus.py: no corpus directory " + raw)
    msgs, used = read_messages(raw)
    if not msgs:
        sys.exit("gen_corpus.py: no messages in the CSV files under " + raw)

    rng = random.Random(SEED)
    written, count, passes = 0, 0, 0
    with open(out, "wb") as fh:
        full = False
        while not full:
            order = msgs[:]
            rng.shuffle(order)
            passes += 1
            for m in order:
                para = (b"\n\n" if written else b"") + m
                if written + len(para) + 1 > want:  # + the final newline
                    full = True
                    break
                fh.write(para)
                written += len(para)
                count += 1
            if count == 0:  # not even one message fits
                break
        if written:
            fh.write(b"\n")
            written += 1
    sys.stderr.write(
        "gen_corpus.py: %d bytes, %d paragraphs (%d distinct messages, %d pass(es), seed %d) from %s\n"
        % (written, count, len(msgs), passes, SEED, "; ".join(used))
    )


if __name__ == "__main__":
    main(sys.argv)

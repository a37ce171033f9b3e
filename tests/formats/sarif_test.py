#!/usr/bin/env python3
"""SARIF output against the official SARIF 2.1.0 schema (OASIS), plus the
fields GitHub code scanning relies on.

usage: sarif_test.py KINDLINT RULES.yml FIXTURES_DIR SCHEMA

The expected values are worked out by hand from the fixture texts below.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import jsonschema

KINDLINT, RULES, FIXTURES, SCHEMA = [os.path.abspath(a) for a in sys.argv[1:5]]
fails = 0


def check(cond, what, got=None):
    global fails
    if cond:
        print("ok   " + what)
    else:
        fails += 1
        print("FAIL " + what + ("" if got is None else ": " + repr(got)[:400]))


def run(args, cwd, stdin=None):
    p = subprocess.run([KINDLINT, "--no-config", "--no-default-rules", "-r", RULES, "-f", "sarif"]
                       + args, cwd=cwd, input=stdin, capture_output=True)
    return p.returncode, json.loads(p.stdout.decode("utf-8"))


with open(SCHEMA) as f:
    schema = json.load(f)
validator = jsonschema.Draft7Validator(schema)


def valid(log, what):
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    check(not errors, what + ": valid SARIF 2.1.0", [e.message for e in errors[:3]])


work = tempfile.mkdtemp(prefix="kindlint-sarif-")
try:
    os.makedirs(os.path.join(work, "docs", "a b"))
    # line 2: "Café 🙄 " is 7 code points / 8 UTF-16 units / 11 bytes before "You"
    with open(os.path.join(work, "docs", "a b", "notes.txt"), "wb") as f:
        f.write("Hello.\nCafé 🙄 You never listen to me. Calm down.\n".encode())
    with open(os.path.join(work, "docs", "clean.txt"), "w") as f:
        f.write("Thanks for the review.\n")
    with open(os.path.join(work, "docs", "bad.txt"), "wb") as f:
        f.write(b"\xc0\xff\xfd you never call\n")

    rc, log = run(["docs"], work)
    valid(log, "several files, non-ASCII text, invalid UTF-8")
    check(rc == 1, "status 1 with findings", rc)
    run0 = log["runs"][0]
    driver = run0["tool"]["driver"]
    check(driver["name"] == "kindlint" and driver["version"] and driver["informationUri"],
          "driver name, version and informationUri", driver)
    ids = [r["id"] for r in driver["rules"]]
    check(sorted(ids) == ["calm-down", "you-never"], "one reportingDescriptor per rule used", ids)
    yn = driver["rules"][ids.index("you-never")]
    check(yn["shortDescription"]["text"].startswith("'You never"), "shortDescription = message", yn)
    check(yn["fullDescription"]["text"].startswith("Absolutes invite"), "fullDescription = explain", yn)
    check(yn["defaultConfiguration"]["level"] == "warning", "level from severity", yn)
    check(yn["properties"]["category"] == "absolute", "properties.category", yn)
    cd = driver["rules"][ids.index("calm-down")]
    check(cd["defaultConfiguration"]["level"] == "note", "info is note", cd)
    res = run0["results"]
    check(len(res) == 3, "three results", [r["ruleId"] for r in res])
    # the walk is in name order: "a b/notes.txt" (2 findings), bad.txt (1)
    r0 = res[0]
    check(r0["ruleId"] == "you-never" and ids[r0["ruleIndex"]] == "you-never", "ruleId and ruleIndex", r0)
    loc = r0["locations"][0]["physicalLocation"]
    check(loc["artifactLocation"]["uri"] == "docs/a%20b/notes.txt" and
          loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%", "a relative, percent-encoded URI", loc)
    reg = loc["region"]
    # "You never listen to me" is 22 units: UTF-16 columns 9 to 31, bytes 18 + 12 = 18..40
    check((reg["startLine"], reg["startColumn"], reg["endLine"], reg["endColumn"]) == (2, 9, 2, 31),
          "region in UTF-16 code units", reg)
    check((reg["byteOffset"], reg["byteLength"]) == (18, 22), "byteOffset and byteLength", reg)
    check(reg["snippet"]["text"] == "You never listen to me", "the snippet", reg)
    fix = r0["fixes"][0]["artifactChanges"][0]["replacements"][0]
    check(fix["insertedContent"]["text"] == "I feel unheard when you don't listen to me",
          "the fix's text", fix)
    check(fix["deletedRegion"]["byteOffset"] == 18 and fix["deletedRegion"]["byteLength"] == 22,
          "the fix replaces the span", fix)
    check(r0["level"] == "warning" and "Try: I feel unheard" in r0["message"]["text"],
          "level and message", r0)
    check(res[2]["locations"][0]["physicalLocation"]["region"]["startColumn"] == 5,
          "three invalid bytes are three columns", res[2])
    arts = [a["location"]["uri"] for a in run0["artifacts"]]
    check(arts == ["docs/a%20b/notes.txt", "docs/bad.txt"], "artifacts", arts)
    check(run0["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:///") and
          run0["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/"), "%SRCROOT% is the working directory",
          run0.get("originalUriBaseIds"))
    fp = r0["partialFingerprints"]["kindlint/v1"]
    check(len(fp) == 16, "a fingerprint", fp)

    # the finding moves down two lines: its fingerprint stays
    with open(os.path.join(work, "docs", "a b", "notes.txt"), "wb") as f:
        f.write("New.\nLines.\nHello.\nCafé 🙄 You never listen to me. Calm down.\n".encode())
    rc, log2 = run(["docs/a b/notes.txt"], work)
    r = log2["runs"][0]["results"][0]
    check(r["locations"][0]["physicalLocation"]["region"]["startLine"] == 4, "moved to line 4", r)
    check(r["partialFingerprints"]["kindlint/v1"] == fp, "the fingerprint did not move", r)

    rc, log = run(["docs/clean.txt"], work)
    valid(log, "no findings")
    check(rc == 0 and log["runs"][0]["results"] == [], "no results, status 0", log["runs"][0])

    rc, log = run([], work, stdin=b"You never call.\n")
    valid(log, "standard input")
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    check(uri == "stdin", "standard input has a URI", uri)

    rc, log = run([os.path.join(work, "docs", "bad.txt")], "/")
    valid(log, "an absolute path")
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    check(uri["uri"].startswith("file:///") and "uriBaseId" not in uri, "absolute paths are file: URIs", uri)
finally:
    shutil.rmtree(work)

print("%d check(s) failed" % fails)
sys.exit(1 if fails else 0)

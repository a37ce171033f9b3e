#!/usr/bin/env python3
"""The language server over its real wire: kindlint --lsp in a pipe.

usage: lsp_protocol_test.py KINDLINT RULES.yml [TEST...]

Each test starts its own server with the fixture rules (--no-default-rules
-r RULES.yml) and talks LSP to it. The reader checks that every byte the
server writes is a well-framed message: anything else on stdout fails.
The expected positions are worked out by hand in the comments, per
encoding, from the text below; they are not taken from the program.
"""
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

KINDLINT = None
RULES = None
TIMEOUT = 10.0

MESSAGE = "'You never \u2026' turns one moment into a verdict on the person."

# Line 1 has, before "You never listen to me":
#   "Cafe" + U+0301 (combining acute)  5 code points, 5 UTF-16 units, 6 bytes
#   " "                                1            1                1
#   U+1F644 (face with rolling eyes)   1            2                4
#   " "                                1            1                1
#   U+2014 (em dash)                   1            1                3
#   " "                                1            1                1
# so "You" starts at 10 code points, 11 UTF-16 units, 16 bytes. The match
# "You never listen to me" is 22 ASCII characters: it ends at 32, 33, 38.
TEXT = "Hello there.\nCafe\u0301 \U0001F644 \u2014 You never listen to me.\n"
START = {"utf-32": 10, "utf-16": 11, "utf-8": 16}


class Failure(Exception):
    pass


def check(cond, what, got=None):
    if not cond:
        raise Failure(what + ("" if got is None else "\n  got: " + json.dumps(got, ensure_ascii=False)))


class Server:
    def __init__(self, *extra):
        self.proc = subprocess.Popen(
            [KINDLINT, "--lsp", "--no-default-rules", "-r", RULES] + list(extra),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=temp_dir())
        self.inbox = queue.Queue()
        self.pending = []  # messages read but not yet wanted
        self.next_id = 1
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        out = self.proc.stdout
        try:
            while True:
                length = None
                first = True
                while True:
                    line = out.readline()
                    if not line:
                        if not first:
                            self.inbox.put(("bad", "end of output inside a header"))
                        self.inbox.put(("eof", None))
                        return
                    first = False
                    if not line.endswith(b"\r\n"):
                        self.inbox.put(("bad", "header line without CRLF: %r" % line))
                        return
                    line = line[:-2]
                    if line == b"":
                        break
                    name, sep, value = line.partition(b":")
                    if not sep or name.strip().lower() not in (b"content-length", b"content-type"):
                        self.inbox.put(("bad", "not a header: %r" % line))
                        return
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length is None:
                    self.inbox.put(("bad", "no Content-Length"))
                    return
                body = out.read(length)
                if len(body) != length:
                    self.inbox.put(("bad", "short body"))
                    return
                self.inbox.put(("msg", json.loads(body.decode("utf-8"))))
        except Exception as e:  # a body that is not JSON, ...
            self.inbox.put(("bad", repr(e)))

    def send_raw(self, data, pieces=1, pause=0.0):
        step = max(1, len(data) // pieces)
        for i in range(0, len(data), step):
            self.proc.stdin.write(data[i:i + step])
            self.proc.stdin.flush()
            if pause:
                time.sleep(pause)

    def send(self, obj):
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def request(self, method, params=None, id=None):
        if id is None:
            id = self.next_id
            self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return id

    def get(self, want, what):
        """The first message want() accepts; others are kept for later."""
        for i, m in enumerate(self.pending):
            if want(m):
                return self.pending.pop(i)
        deadline = time.time() + TIMEOUT
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise Failure("timed out waiting for " + what)
            try:
                kind, m = self.inbox.get(timeout=left)
            except queue.Empty:
                raise Failure("timed out waiting for " + what)
            if kind == "bad":
                raise Failure("the server wrote something that is not a message: " + m)
            if kind == "eof":
                raise Failure("the server closed its output while waiting for " + what)
            if m.get("method") == "window/logMessage":
                continue
            if want(m):
                return m
            self.pending.append(m)

    def response(self, id):
        m = self.get(lambda m: "method" not in m and m.get("id") == id, "response %r" % (id,))
        check(m.get("jsonrpc") == "2.0", "a response says jsonrpc 2.0", m)
        return m

    def call(self, method, params=None):
        m = self.response(self.request(method, params))
        check("result" in m, method + " returns a result", m)
        return m["result"]

    def error(self, id):
        m = self.response(id)
        check("error" in m, "an error response", m)
        return m["error"]["code"]

    def diagnostics(self, uri):
        m = self.get(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                     and m["params"]["uri"] == uri, "diagnostics of " + uri)
        return m["params"]

    def initialize(self, capabilities=None, options=None):
        params = {"processId": os.getpid(), "rootUri": None, "capabilities": capabilities or {}}
        if options is not None:
            params["initializationOptions"] = options
        result = self.call("initialize", params)
        self.notify("initialized", {})
        return result

    def open(self, uri, text, language="plaintext", version=1):
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": language, "version": version, "text": text}})
        return self.diagnostics(uri)

    def change(self, uri, version, changes):
        self.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": changes})
        return self.diagnostics(uri)

    def stop(self):
        """shutdown, exit; the exit status."""
        self.call("shutdown")
        self.notify("exit")
        return self.wait()

    def wait(self):
        try:
            rc = self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise Failure("the server did not exit")
        self.reader.join(TIMEOUT)
        while not self.inbox.empty():
            kind, m = self.inbox.get()
            if kind == "bad":
                raise Failure("the server wrote something that is not a message: " + m)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def rng(l1, c1, l2, c2):
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


def units(ch, enc):
    if enc == "utf-8":
        return len(ch.encode("utf-8"))
    if enc == "utf-16":
        return 2 if ord(ch) > 0xFFFF else 1
    return 1


def index_of(text, pos, enc):
    """A Position to an index of the Python string, lines as LSP says."""
    starts = [0]
    i = 0
    while i < len(text):
        if text[i] == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
            i += 1
        if text[i] in "\r\n":
            starts.append(i + 1)
        i += 1
    check(pos["line"] < len(starts), "a position inside the text", pos)
    i = starts[pos["line"]]
    n = 0
    while n < pos["character"]:
        check(i < len(text) and text[i] not in "\r\n", "a position inside its line", pos)
        n += units(text[i], enc)
        i += 1
    check(n == pos["character"], "a position on a character boundary", pos)
    return i


def apply_edit(text, uri, edit, enc):
    if "documentChanges" in edit:
        edits = [e for dc in edit["documentChanges"] if dc["textDocument"]["uri"] == uri
                 for e in dc["edits"]]
    else:
        edits = edit["changes"][uri]
    spans = sorted(((index_of(text, e["range"]["start"], enc), index_of(text, e["range"]["end"], enc),
                     e["newText"]) for e in edits), reverse=True)
    for a, b, new in spans:
        text = text[:a] + new + text[b:]
    return text


def as_changes(edits):
    """TextEdits as didChange contentChanges (for edits that do not overlap)."""
    return [{"range": e["range"], "text": e["newText"]} for e in edits]


def action(actions, title):
    for a in actions:
        if a["title"] == title:
            return a
    raise Failure("no code action titled %r" % title + "\n  got: " +
                  json.dumps([a["title"] for a in actions], ensure_ascii=False))


TEMP = []


def temp_dir(config="root: true\n"):
    """A directory whose .kindlint.yml (root: true) keeps the tests from
    the configuration of the directories above."""
    d = tempfile.mkdtemp(prefix="kindlint-lsp-")
    TEMP.append(d)
    with open(os.path.join(d, ".kindlint.yml"), "w") as f:
        f.write(config)
    return d


def temp_uri(name, config="root: true\n"):
    return "file://" + os.path.join(temp_dir(config), name)


# ---------------------------------------------------------------------------


def test_lifecycle():
    s = Server()
    try:
        check(s.error(s.request("textDocument/hover", {})) == -32002,
              "a request before initialize is ServerNotInitialized")
        uri = temp_uri("early.txt")
        s.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "plaintext", "version": 1, "text": "You never listen."}})
        r = s.initialize()
        caps = r["capabilities"]
        check(caps["positionEncoding"] == "utf-16", "utf-16 when the client offers nothing", r)
        check(caps["textDocumentSync"]["openClose"] is True
              and caps["textDocumentSync"]["change"] == 2, "incremental sync", r)
        check(caps["codeActionProvider"] == {"codeActionKinds": ["quickfix"]}, "quick fixes", r)
        check(caps["hoverProvider"] is True, "hover", r)
        version = subprocess.run([KINDLINT, "--version"], capture_output=True, text=True).stdout
        check(r["serverInfo"]["name"] == "kindlint" and r["serverInfo"]["version"]
              and r["serverInfo"]["version"] in version, "serverInfo", r)
        # the didOpen before initialize was dropped: nothing is known of it
        check(s.call("textDocument/hover", {"textDocument": {"uri": uri},
                     "position": {"line": 0, "character": 1}}) is None,
              "a notification before initialize is dropped")
        check(s.error(s.request("initialize", {"capabilities": {}})) == -32600,
              "a second initialize is InvalidRequest")
        check(s.error(s.request("kindlint/nothing", {})) == -32601, "unknown request")
        check(s.error(s.request("$/somethingElse", {})) == -32601, "unknown $/ request")
        s.notify("$/cancelRequest", {"id": 1})
        s.notify("kindlint/unknownNotification", {"x": 1})
        s.notify("$/setTrace", {"value": "off"})
        s.notify("workspace/didChangeConfiguration", {"settings": {}})
        # the next message must be the answer to this: the notifications
        # above made none
        id = s.request("shutdown", None, id="shut-1")
        kind, m = s.inbox.get(timeout=TIMEOUT)
        while kind == "msg" and m.get("method") == "window/logMessage":
            kind, m = s.inbox.get(timeout=TIMEOUT)
        check(kind == "msg" and m == {"jsonrpc": "2.0", "id": "shut-1", "result": None},
              "shutdown answers null to a string id, nothing came before", m)
        check(s.error(s.request("textDocument/hover", {})) == -32600,
              "a request after shutdown is InvalidRequest")
        s.notify("exit")
        check(s.wait() == 0, "exit after shutdown is status 0")
    finally:
        s.kill()


def test_exit_without_shutdown():
    s = Server()
    try:
        s.initialize()
        s.notify("exit")
        check(s.wait() == 1, "exit without shutdown is status 1")
    finally:
        s.kill()
    s = Server()
    try:  # the client just goes away
        s.initialize()
        s.proc.stdin.close()
        check(s.wait() == 1, "end of input without exit is status 1")
    finally:
        s.kill()


def test_framing():
    s = Server()
    try:
        s.initialize()
        hover = {"textDocument": {"uri": "untitled:none"}, "position": {"line": 0, "character": 0}}
        # not JSON: ParseError with a null id, and the server goes on
        s.send_raw(b"Content-Length: 9\r\n\r\n{not json")
        m = s.response(None)
        check(m["error"]["code"] == -32700, "invalid JSON is ParseError", m)
        check(s.call("textDocument/hover", hover) is None, "the server answers after a parse error")
        # lower-case names, an extra Content-Type, and the bytes one at a time
        body = json.dumps({"jsonrpc": "2.0", "id": 77, "method": "textDocument/hover",
                           "params": hover}).encode()
        s.send_raw(b"content-length: %d\r\nContent-Type: application/vscode-jsonrpc; "
                   b"charset=utf-8\r\n\r\n" % len(body) + body, pieces=len(body) + 60, pause=0.001)
        check(s.response(77)["result"] is None, "a message in pieces with other headers")
        # a length that is no number, then a good message
        s.send_raw(b"Content-Length: twelve\r\n\r\n")
        check(s.response(None)["error"]["code"] == -32700, "a bad Content-Length is an error")
        check(s.call("textDocument/hover", hover) is None, "the server answers after a bad header")
        # over the 64 MiB limit: read past and answered
        n = 64 * 1024 * 1024 + 1
        s.send_raw(b"Content-Length: %d\r\n\r\n" % n)
        chunk = b" " * (1024 * 1024)
        left = n
        while left:
            k = min(left, len(chunk))
            s.proc.stdin.write(chunk[:k])
            left -= k
        s.proc.stdin.flush()
        check(s.response(None)["error"]["code"] == -32600, "an oversized message is an error")
        check(s.call("textDocument/hover", hover) is None, "the server answers after it")
        # valid JSON that is no request
        s.send_raw(b"Content-Length: 5\r\n\r\n[1,2]")
        check(s.response(None)["error"]["code"] == -32600, "a batch is InvalidRequest")
        s.send({"jsonrpc": "2.0", "id": {"x": 1}, "method": "shutdown"})
        check(s.response(None)["error"]["code"] == -32600, "an object id is InvalidRequest")
        s.send({"jsonrpc": "2.0", "id": 5})
        check(s.response(5)["error"]["code"] == -32600, "a request without method")
        # invalid UTF-8 inside a string
        bad = b'{"jsonrpc":"2.0","id":6,"method":"x\xff"}'
        s.send_raw(b"Content-Length: %d\r\n\r\n" % len(bad) + bad)
        check(s.response(None)["error"]["code"] == -32700, "invalid UTF-8 is ParseError")
        check(s.error(s.request("textDocument/codeAction", {"textDocument": 3})) == -32602,
              "bad params are InvalidParams")
        check(s.stop() == 0, "clean exit")
    finally:
        s.kill()


def session(enc, capabilities):
    """Diagnostics, hover, code actions and incremental changes with the
    positions of one encoding."""
    s = Server()
    try:
        r = s.initialize(capabilities)
        check(r["capabilities"]["positionEncoding"] == enc, "negotiated " + enc, r)
        uri = temp_uri("note.txt")
        a = START[enc]
        b = a + 22
        p = s.open(uri, TEXT)
        check(p["version"] == 1, "the diagnostics carry the version", p)
        check(len(p["diagnostics"]) == 1, "one diagnostic", p)
        d = p["diagnostics"][0]
        check(d["range"] == rng(1, a, 1, b), "the range in " + enc, d)
        check(d["severity"] == 2 and d["code"] == "you-never" and d["source"] == "kindlint"
              and d["message"] == MESSAGE, "severity, code, source, message", d)
        check(d["data"]["suggestions"][0]["text"] == "I feel unheard when you don't listen to me",
              "the suggestion in data", d)

        # hover on "never" (4 past the start), and off the finding
        h = s.call("textDocument/hover", {"textDocument": {"uri": uri},
                                          "position": {"line": 1, "character": a + 4}})
        check(h and "Absolutes invite a defence of the exceptions." in h["contents"]["value"]
              and "you-never" in h["contents"]["value"] and MESSAGE in h["contents"]["value"],
              "hover shows the rule, message and explanation", h)
        check(h["range"] == rng(1, a, 1, b), "hover range", h)
        check(s.call("textDocument/hover", {"textDocument": {"uri": uri},
                                            "position": {"line": 1, "character": a - 1}}) is None,
              "no hover before the finding")

        # code actions for the diagnostic
        acts = s.call("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": d["range"],
                                                  "context": {"diagnostics": [d]}})
        rw = action(acts, "Rewrite as: I feel unheard when you don't listen to me")
        check(rw["kind"] == "quickfix" and rw.get("isPreferred") is True
              and rw["diagnostics"] == [d], "the rewrite is the preferred quick fix", rw)
        fixed = apply_edit(TEXT, uri, rw["edit"], enc)
        check(fixed == "Hello there.\nCafe\u0301 \U0001F644 \u2014 I feel unheard when you "
                       "don't listen to me.\n", "the rewrite applied", fixed)
        dis = action(acts, "Disable you-never for this line")
        check(apply_edit(TEXT, uri, dis["edit"], enc) ==
              "Hello there.\nkindlint-disable-next-line you-never\n" + TEXT[13:],
              "the directive goes above", dis)
        # a cursor inside the finding, no diagnostics in the context
        acts = s.call("textDocument/codeAction", {
            "textDocument": {"uri": uri}, "range": rng(1, a + 2, 1, a + 2),
            "context": {"diagnostics": []}})
        action(acts, "Rewrite as: I feel unheard when you don't listen to me")
        # the cursor at the line start, the diagnostic sent back with byte
        # columns, as Neovim 0.7 does whatever the encoding
        bytes_d = dict(d, range=rng(1, START["utf-8"], 1, START["utf-8"] + 22))
        acts = s.call("textDocument/codeAction", {
            "textDocument": {"uri": uri}, "range": rng(1, 0, 1, 0),
            "context": {"diagnostics": [bytes_d]}})
        rw = action(acts, "Rewrite as: I feel unheard when you don't listen to me")
        check(rw["diagnostics"] == [bytes_d], "the client's diagnostic is echoed", rw)
        check(apply_edit(TEXT, uri, rw["edit"], enc) == fixed, "the same edit", rw)
        acts = s.call("textDocument/codeAction", {"textDocument": {"uri": uri},
                                                  "range": rng(0, 0, 0, 5),
                                                  "context": {"diagnostics": []}})
        check(acts == [], "no actions away from findings", acts)
        acts = s.call("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": d["range"],
                                                  "context": {"diagnostics": [d],
                                                              "only": ["refactor"]}})
        check(acts == [], "no quick fixes when only refactors are wanted", acts)

        # incremental changes, in the encoding's units
        p = s.change(uri, 2, [{"range": rng(1, 0, 1, 0), "text": "Well, "}])
        check(p["version"] == 2 and [x["range"] for x in p["diagnostics"]] == [rng(1, a + 6, 1, b + 6)],
              "inserting 6 characters at the line start moves the finding by 6", p)
        # "never" is at a+6+4 .. a+6+9 now; "always" instead: no finding
        p = s.change(uri, 3, [{"range": rng(1, a + 10, 1, a + 15), "text": "always"}])
        check(p["diagnostics"] == [], "the change clears the diagnostic", p)
        # and back, then a line added above, in one notification
        p = s.change(uri, 4, [{"range": rng(1, a + 10, 1, a + 16), "text": "never"},
                              {"range": rng(0, 0, 0, 0), "text": "New line\r\n"}])
        check([x["range"] for x in p["diagnostics"]] == [rng(2, a + 6, 2, b + 6)],
              "both changes applied in order", p)
        # a range past the end of a line means the end of the line
        p = s.change(uri, 5, [{"range": rng(2, b + 7, 2, 999), "text": " Ever."}])
        h = s.call("textDocument/hover", {"textDocument": {"uri": uri},
                                          "position": {"line": 2, "character": a + 6}})
        check(h is not None and len(p["diagnostics"]) == 1, "still found", p)
        # the whole text at once
        p = s.change(uri, 6, [{"text": "Nothing to see.\n"}])
        check(p["diagnostics"] == [], "a full change replaces the text", p)
        p = s.change(uri, 7, [{"text": TEXT}])
        s.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        p = s.diagnostics(uri)
        check(p["version"] == 7 and len(p["diagnostics"]) == 1, "didSave lints again", p)
        s.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        p = s.diagnostics(uri)
        check(p["diagnostics"] == [], "didClose clears", p)
        check(s.stop() == 0, "clean exit")
    finally:
        s.kill()


def test_utf16():
    session("utf-16", {"general": {"positionEncodings": ["utf-16"]}})


def test_utf8():
    session("utf-8", {"general": {"positionEncodings": ["utf-8", "utf-16"]}})


def test_utf32():
    session("utf-32", {"general": {"positionEncodings": ["utf-32", "utf-16"]}})


def test_clangd_offset_encoding():
    s = Server()
    try:
        r = s.initialize({"offsetEncoding": ["utf-8", "utf-16"]})
        check(r.get("offsetEncoding") == "utf-8" and r["capabilities"]["positionEncoding"] == "utf-8",
              "the clangd extension is understood", r)
        p = s.open(temp_uri("x.txt"), TEXT)
        check(p["diagnostics"][0]["range"] == rng(1, 16, 1, 38), "byte columns", p)
        check(s.stop() == 0, "clean exit")
    finally:
        s.kill()


def test_kinds_and_directives():
    s = Server()
    try:
        s.initialize({"workspace": {"workspaceEdit": {"documentChanges": True}},
                      "textDocument": {"hover": {"contentFormat": ["plaintext"]}}})
        # Markdown by languageId: code spans are not prose
        uri = "untitled:Untitled-1"
        md = "`You never listen to me`\n\nYou never listen to me.\n"
        p = s.open(uri, md, "markdown", 3)
        check([x["range"] for x in p["diagnostics"]] == [rng(2, 0, 2, 22)],
              "markdown: the code span is skipped", p)
        acts = s.call("textDocument/codeAction", {"textDocument": {"uri": uri},
                                                  "range": p["diagnostics"][0]["range"],
                                                  "context": {"diagnostics": p["diagnostics"]}})
        dis = action(acts, "Disable you-never for this line")
        check(dis["edit"]["documentChanges"][0]["textDocument"] == {"uri": uri, "version": 3},
              "documentChanges name the version", dis)
        edit = dis["edit"]["documentChanges"][0]["edits"]
        check(edit == [{"range": rng(2, 0, 2, 0),
                        "newText": "<!-- kindlint-disable-next-line you-never -->\n"}],
              "the Markdown directive", edit)
        p = s.change(uri, 4, as_changes(edit))
        check(p["diagnostics"] == [], "the directive works", p)
        h = s.call("textDocument/hover", {"textDocument": {"uri": uri},
                                          "position": {"line": 0, "character": 3}})
        check(h is None, "no hover in a code span")

        # a commit message: "#" lines are git's; the directive is one of them
        uri = "untitled:message"
        msg = "Fix the build\n\nYou never listen to me.\n# You never listen to me.\n"
        p = s.open(uri, msg, "gitcommit")
        check([x["range"] for x in p["diagnostics"]] == [rng(2, 0, 2, 22)],
              "commit: comment lines are skipped", p)
        acts = s.call("textDocument/codeAction", {"textDocument": {"uri": uri},
                                                  "range": rng(2, 0, 2, 0), "context": {}})
        dis = action(acts, "Disable you-never for this line")
        edit = dis["edit"]["documentChanges"][0]["edits"]
        check(edit[0]["newText"] == "# kindlint-disable-next-line you-never\n", "commit directive", edit)
        check(s.change(uri, 2, as_changes(edit))["diagnostics"] == [], "the commit directive works")

        # CRLF text, two rules, a suggestion with a blank
        uri = temp_uri("crlf.txt")
        text = "  You never listen to me.\r\nIt's your fault.\r\n"
        p = s.open(uri, text)
        got = [(x["code"], x["severity"], x["range"]) for x in p["diagnostics"]]
        check(got == [("you-never", 2, rng(0, 2, 0, 24)), ("your-fault", 1, rng(1, 0, 1, 15))],
              "CRLF lines and severities", got)
        acts = s.call("textDocument/codeAction", {"textDocument": {"uri": uri},
                                                  "range": rng(1, 0, 1, 15), "context": {}})
        blank = action(acts, "Rewrite as: [What happened] upset me (fill in the blank)")
        check("isPreferred" not in blank, "a rewrite with a blank is not preferred", blank)
        plain = action(acts, "Rewrite as: I was upset by what happened")
        check(plain.get("isPreferred") is True, "the first rewrite without blank is", plain)
        check(apply_edit(text, uri, plain["edit"], "utf-16") ==
              "  You never listen to me.\r\nI was upset by what happened.\r\n", "applied", plain)
        check(all(a["title"] != "Disable you-never for this line" for a in acts),
              "only the findings in the range", acts)
        acts = s.call("textDocument/codeAction", {"textDocument": {"uri": uri},
                                                  "range": rng(0, 5, 0, 5), "context": {}})
        dis = action(acts, "Disable you-never for this line")
        check(apply_edit(text, uri, dis["edit"], "utf-16") ==
              "  kindlint-disable-next-line you-never\r\n" + text, "indented, CRLF", dis)
        h = s.call("textDocument/hover", {"textDocument": {"uri": uri},
                                          "position": {"line": 1, "character": 0}})
        check(h["contents"]["kind"] == "plaintext" and "your-fault" in h["contents"]["value"],
              "plain text hover when markdown is not offered", h)

        # a lone CR ends a line too; an unknown id in a directive is said
        uri = temp_uri("cr.txt")
        p = s.open(uri, "kindlint-disable-next-line no-such-rule\rYou never listen to me.")
        got = sorted((x.get("code", ""), x["severity"], x["range"]["start"]["line"]) for x in p["diagnostics"])
        check(got == [("", 2, 0), ("you-never", 2, 1)], "the notice and the finding", p)
        check(s.stop() == 0, "clean exit")
    finally:
        s.kill()


def test_burst_of_changes():
    """Changes that arrive together are scanned once: one
    publishDiagnostics, of the last version, and before the reply to the
    request sent with them, whose answer sees the last text."""
    s = Server()
    try:
        s.initialize()
        uri = temp_uri("burst.txt")
        check(s.open(uri, "Hello.\n")["diagnostics"] == [], "nothing in the first text")
        line = "You never listen to me.\n"
        data = b""
        for version in range(2, 12):
            body = json.dumps({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": rng(0, 0, 0, 0), "text": line}]}}).encode()
            data += b"Content-Length: %d\r\n\r\n" % len(body) + body
        body = json.dumps({"jsonrpc": "2.0", "id": 900, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": uri}, "position": {"line": 9, "character": 2}}}).encode()
        data += b"Content-Length: %d\r\n\r\n" % len(body) + body
        # one write of at most PIPE_BUF bytes reaches the server whole
        check(len(data) <= 4096, "the burst fits one atomic pipe write", len(data))
        s.send_raw(data)
        m = s.response(900)
        check(m.get("result") is not None, "hover on the tenth line finds the finding there", m)
        # a round trip more: nothing else is pushed for the burst
        check(s.call("textDocument/hover", {"textDocument": {"uri": uri},
                                            "position": {"line": 10, "character": 0}}) is None,
              "no finding on the last line")
        pushed = [p["params"] for p in s.pending
                  if p.get("method") == "textDocument/publishDiagnostics"
                  and p["params"]["uri"] == uri]
        check(len(pushed) == 1, "one push for ten changes", [p.get("version") for p in pushed])
        check(pushed[0].get("version") == 11, "the push is of the last version", pushed[0])
        check(len(pushed[0]["diagnostics"]) == 10, "a finding on each of the ten lines",
              pushed[0]["diagnostics"])
        s.pending = [p for p in s.pending if p.get("method") != "textDocument/publishDiagnostics"]
        # a change on its own is still pushed at once
        got = s.change(uri, 12, [{"range": rng(0, 0, 1, 0), "text": ""}])
        check(got.get("version") == 12 and len(got["diagnostics"]) == 9, "a lone change", got)
        check(s.stop() == 0, "clean exit")
    finally:
        s.kill()


def test_changes_without_pause():
    """A client that never pauses (here, input from a file, which always has
    more to read) still sees findings while it types: the server scans
    after a bounded number of messages, not only when the input ends."""
    uri = temp_uri("nopause.txt")
    msgs = [{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": uri, "languageId": "plaintext", "version": 1, "text": "Hello.\n"}}}]
    for version in range(2, 302):
        msgs.append({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": rng(0, 0, 0, 0), "text": "You never listen to me.\n"}]}})
    msgs += [{"jsonrpc": "2.0", "id": 2, "method": "shutdown"}, {"jsonrpc": "2.0", "method": "exit"}]
    data = b""
    for m in msgs:
        body = json.dumps(m).encode()
        data += b"Content-Length: %d\r\n\r\n" % len(body) + body
    with tempfile.TemporaryFile() as f:
        f.write(data)
        f.seek(0)
        p = subprocess.run([KINDLINT, "--lsp", "--no-default-rules", "-r", RULES], stdin=f,
                           capture_output=True, cwd=temp_dir(), timeout=TIMEOUT)
    check(p.returncode == 0, "clean exit", p.stderr)
    out, pushed = p.stdout, []
    while out:
        head, _, rest = out.partition(b"\r\n\r\n")
        n = int(head.split(b":")[1])
        m = json.loads(rest[:n])
        out = rest[n:]
        if m.get("method") == "textDocument/publishDiagnostics":
            pushed.append((m["params"]["version"], len(m["params"]["diagnostics"])))
    check(len(pushed) >= 3 and pushed[0][0] < 301, "findings are pushed while changes go on",
          pushed)
    check(len(pushed) <= 10, "but not for each change", pushed)
    check(pushed[-1] == (301, 300), "the last push is of the last version, all its findings",
          pushed[-1])
    check(all(n == v - 1 for v, n in pushed), "each push matches its version", pushed)


def test_kind_from_file_name():
    s = Server()
    try:
        s.initialize()
        # a .md file is Markdown whatever the languageId
        p = s.open(temp_uri("notes.md"), "`You never listen to me`\n", "plaintext")
        check(p["diagnostics"] == [], "a .md file is Markdown", p)
        p = s.open(temp_uri("notes.txt"), "`You never listen to me`\n", "plaintext")
        check(len(p["diagnostics"]) == 1, "a .txt file is text", p)
        check(s.stop() == 0, "clean exit")
    finally:
        s.kill()


def test_configuration():
    s = Server()
    try:
        s.initialize()
        config = ("root: true\nseverity:\n  - {name: you-never, level: error}\n"
                  "ignore:\n  - skipped.txt\noverrides:\n  - files: [\"*.chat\"]\n    type: markdown\n")
        d = temp_dir(config)
        p = s.open("file://" + os.path.join(d, "a%20note.txt"), "You never listen to me.\n")
        check([x["severity"] for x in p["diagnostics"]] == [1],
              "the file's .kindlint.yml sets the severity", p)
        p = s.open("file://" + os.path.join(d, "skipped.txt"), "You never listen to me.\n")
        check(p["diagnostics"] == [], "an ignored file has no diagnostics", p)
        p = s.open("file://" + os.path.join(d, "x.chat"), "`You never listen to me`\n")
        check(p["diagnostics"] == [], "the override's type applies", p)
        check(s.stop() == 0, "clean exit")
    finally:
        s.kill()
    # a broken .kindlint.yml is said once, and the file linted as in the
    # working directory
    s = Server()
    try:
        s.initialize()
        uri = temp_uri("b.txt", "root: true\nno-such-key: [\n")
        s.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "plaintext", "version": 1, "text": "You never listen."}})
        m = s.get(lambda m: m.get("method") == "window/showMessage", "window/showMessage")
        check(m["params"]["type"] == 1 and "b.txt" in m["params"]["message"],
              "the broken configuration is shown", m)
        check(len(s.diagnostics(uri)["diagnostics"]) == 1, "and the file is linted")
        p = s.change(uri, 2, [{"text": "You never listen to me."}])
        check(len(p["diagnostics"]) == 1, "linted again", p)
        check(all(m.get("method") != "window/showMessage" for m in s.pending),
              "said once", s.pending)
        check(s.stop() == 0, "clean exit")
    finally:
        s.kill()
    # initializationOptions.config names the one configuration to use
    cfg = os.path.join(temp_dir(), "other.yml")
    with open(cfg, "w") as f:
        f.write("disable: [you-never]\n")
    s = Server()
    try:
        s.initialize(options={"config": cfg})
        p = s.open(temp_uri("n.txt"), "You never listen to me. It's your fault.\n")
        check([x["code"] for x in p["diagnostics"]] == ["your-fault"],
              "initializationOptions.config is used", p)
        check(s.stop() == 0, "clean exit")
    finally:
        s.kill()


def test_configuration_changes():
    # a .kindlint.yml edited while the server runs is read again: on the
    # next change of a document (its file changed on disk), and at once on
    # workspace/didChangeWatchedFiles
    d = temp_dir("root: true\ndisable: [you-never]\n")
    uri = "file://" + os.path.join(d, "c.txt")
    s = Server()
    try:
        s.initialize()
        p = s.open(uri, "You never listen to me. It's your fault.\n")
        check([x["code"] for x in p["diagnostics"]] == ["your-fault"], "you-never is off", p)
        time.sleep(0.02)  # a new mtime, even on coarse clocks
        with open(os.path.join(d, ".kindlint.yml"), "w") as f:
            f.write("root: true\ndisable: [your-fault]\n")
        s.notify("workspace/didChangeWatchedFiles", {"changes": [
            {"uri": "file://" + os.path.join(d, ".kindlint.yml"), "type": 2}]})
        p = s.diagnostics(uri)
        check([x["code"] for x in p["diagnostics"]] == ["you-never"],
              "the new configuration applies at once", p)
        time.sleep(0.02)
        with open(os.path.join(d, ".kindlint.yml"), "w") as f:
            f.write("root: true\n")
        p = s.change(uri, 2, [{"text": "You never listen to me. It's your fault.\n"}])
        check(sorted(x["code"] for x in p["diagnostics"]) == ["you-never", "your-fault"],
              "an edit to it is seen on the next change", p)
        check(s.stop() == 0, "clean exit")
    finally:
        s.kill()


PIECES = ["You never listen to me. ", "It's your fault. ", "you never call", "\r\n", "\n", "\r",
          "\U0001F644", "e\u0301", "\u2014", " ", "`", "# ", "kindlint-disable-next-line nope\n",
          "<!-- kindlint-disable-next-line you-never -->\n", "Ok."]


def random_text(rnd, n):
    return "".join(rnd.choice(PIECES) for _ in range(rnd.randrange(n)))


def boundaries(text, enc):
    """Every position of the text, as (line, character, index)."""
    out = []
    line, ch, i = 0, 0, 0
    while True:
        out.append((line, ch, i))
        if i == len(text):
            return out
        if text[i] == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
            i += 2
            line, ch = line + 1, 0
        elif text[i] in "\r\n":
            i += 1
            line, ch = line + 1, 0
        else:
            ch += units(text[i], enc)
            i += 1


def test_incremental_against_full():
    """Random incremental edits against the same text sent whole: the
    diagnostics must agree, in every encoding."""
    rnd = random.Random(20240601)
    for enc in ("utf-16", "utf-8", "utf-32"):
        s = Server()
        try:
            s.initialize({"general": {"positionEncodings": [enc]}})
            uri, whole = temp_uri("inc.txt"), temp_uri("whole.txt")
            text = random_text(rnd, 12)
            s.open(uri, text)
            for version in range(2, 120):
                pos = boundaries(text, enc)
                changes = []
                for _ in range(rnd.randrange(1, 3)):
                    a, b = sorted(rnd.sample(pos, 2)) if len(pos) > 1 else (pos[0], pos[0])
                    if rnd.random() < 0.3:
                        b = a
                    new = random_text(rnd, 4)
                    changes.append({"range": rng(a[0], a[1], b[0], b[1]), "text": new})
                    text = text[:a[2]] + new + text[b[2]:]
                    pos = boundaries(text, enc)
                got = s.change(uri, version, changes)["diagnostics"]
                if version % 7 == 0 or version == 119:
                    want = s.open(whole, text, version=version)["diagnostics"]
                    check(got == want, "%s: incremental and whole agree at version %d\n  text: %r\n"
                          "  whole: %r" % (enc, version, text, want), got)
            check(s.stop() == 0, "clean exit")
        finally:
            s.kill()


def test_garbage():
    """Messages of the wrong shape, in the middle of a session: each request
    is answered, the server survives and exits cleanly."""
    rnd = random.Random(4242)
    s = Server()
    try:
        s.initialize()
        uri = temp_uri("g.txt")
        s.open(uri, TEXT)

        def value(depth=0):
            choices = [None, True, -1, 2 ** 53, 0.5, "", "\U0001F644", uri, [], {},
                       {"line": rnd.randrange(-2, 4), "character": rnd.randrange(-2, 40)}]
            if depth < 3:
                choices.append([value(depth + 1) for _ in range(rnd.randrange(3))])
                choices.append({k: value(depth + 1) for k in rnd.sample(
                    ["uri", "range", "start", "end", "text", "line", "character", "version",
                     "diagnostics", "only", "code"], rnd.randrange(4))})
            return rnd.choice(choices)

        def position():
            if rnd.random() < 0.2:
                return value()
            return {"line": rnd.choice([0, 1, 2, 5, 2 ** 31]), "character": rnd.randrange(0, 50)}

        def params():
            p = {"textDocument": {"uri": rnd.choice([uri, uri, "untitled:x", value()]),
                                  "version": rnd.randrange(100), "languageId": "markdown",
                                  "text": random_text(rnd, 6)},
                 "contentChanges": [{"range": {"start": position(), "end": position()},
                                     "text": random_text(rnd, 3)}],
                 "range": {"start": position(), "end": position()},
                 "position": position(),
                 "context": {"diagnostics": [value()], "only": value()}}
            for k in list(p):
                if rnd.random() < 0.15:
                    p[k] = value()
                elif rnd.random() < 0.1:
                    del p[k]
            return p if rnd.random() < 0.95 else value()

        methods = ["textDocument/didOpen", "textDocument/didChange", "textDocument/didSave",
                   "textDocument/didClose", "textDocument/codeAction", "textDocument/hover",
                   "initialize", "$/cancelRequest", "workspace/symbol"]
        ids = []
        for i in range(600):
            r = rnd.random()
            if r < 0.05:
                body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(40)))
                s.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
                continue
            msg = {"jsonrpc": "2.0", "method": rnd.choice(methods), "params": params()}
            if r < 0.5:
                msg["id"] = 1000 + i
                ids.append(1000 + i)
            s.send(msg)
        for id in ids:
            s.response(id)
        check(s.stop() == 0, "clean exit after the garbage")
    finally:
        s.kill()


def main():
    global KINDLINT, RULES
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    KINDLINT, RULES = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
    if len(sys.argv) > 3:
        tests = [(n, f) for n, f in tests if n in sys.argv[3:]]
    failed = 0
    for name, fn in tests:
        try:
            fn()
            print("ok   " + name)
        except Failure as e:
            failed += 1
            print("FAIL " + name + ": " + str(e))
        except Exception as e:  # a reply of the wrong shape
            failed += 1
            print("FAIL " + name + ": " + repr(e))
    print("%d of %d failed" % (failed, len(tests)))
    for d in TEMP:
        shutil.rmtree(d, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

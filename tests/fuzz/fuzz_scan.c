/*
 * fuzz_scan.c -- arbitrary bytes through the built-in packs, in every
 * document kind (the first byte picks it, and whether quotes are linted),
 * as a whole buffer and as a stream in odd-sized pieces. Every finding
 * must lie inside the input, on character boundaries where the input is
 * valid UTF-8, with its text equal to the input's bytes there.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindlint.h"

static kl_rules *rules;
static kl_scanner *scanner;

typedef struct check {
    const char *input;
    size_t len;
    size_t count;
} check;

static int on_finding(const kl_finding *f, void *ud)
{
    check *c = ud;
    if (f->offset > c->len || f->length > c->len - f->offset)
        abort();
    if (memcmp(kl_finding_text(f), c->input + f->offset, f->length) != 0)
        abort();
    if (f->line == 0 || f->column == 0 || f->end_line < f->line)
        abort();
    for (size_t i = 0; i < kl_rule_suggestion_count(f->rule); i++) {
        char *s = NULL;
        size_t n = 0;
        if (kl_finding_suggestion(f, i, &s, &n, NULL) == KL_OK && strlen(s) != n)
            abort();
        free(s);
    }
    c->count++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rules) {
        kl_diag d;
        rules = kl_rules_new();
        if (!rules || kl_rules_add_defaults(rules, &d) != KL_OK || kl_rules_compile(rules, &d) != KL_OK)
            abort();
        scanner = kl_scanner_new(rules);
    }
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    const char *input = (const char *)data + 1;
    size_t len = size - 1;
    kl_scan_options o;
    memset(&o, 0, sizeof o);
    o.abi_version = KL_ABI_VERSION;
    o.kind = (kl_doc_kind)(mode % 5);
    o.lint_quotes = (mode >> 3) & 1;
    o.speaker = (mode >> 4) & 1 ? "alex" : NULL;
    o.on_finding = on_finding;
    check c = {input, len, 0};
    o.userdata = &c;
    kl_diag d;
    kl_status st = kl_scan(scanner, &o, input, len, &d);
    if (st != KL_OK && st != KL_ERR_INPUT && st != KL_ERR_NOMEM)
        abort();
    if (st == KL_OK && (o.kind == KL_DOC_TEXT || o.kind == KL_DOC_CHAT)) {
        /* the stream must find the same number, in pieces of 1..64 bytes */
        size_t whole = c.count;
        c.count = 0;
        kl_stream *s = kl_stream_new(scanner, &o);
        size_t piece = (mode >> 5) + 1, i = 0;
        while (s && i < len && kl_stream_feed(s, input + i, len - i < piece ? len - i : piece, &d) == KL_OK)
            i += piece;
        if (s && kl_stream_finish(s, &d) == KL_OK && c.count != whole)
            abort();
        kl_stream_free(s);
    }
    return 0;
}

/*
 * helpers.h -- shared helpers for the cmocka unit tests: build a rule set
 * from YAML text and collect the findings of a scan into plain arrays.
 */
#ifndef KL_TEST_HELPERS_H
#define KL_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs the headers above first */
#include <cmocka.h>

#include "kindlint.h"

#define MAX_FOUND 64

typedef struct found {
    char rule[64];
    size_t offset, length;
    unsigned line, column, end_line, end_column, column_utf16;
    char text[512];
    char fix[512];
    char speaker[64];
    kl_severity severity;
} found;

typedef struct found_list {
    found items[MAX_FOUND];
    size_t n;
} found_list;

static inline int collect_finding(const kl_finding *f, void *ud)
{
    found_list *l = ud;
    if (l->n >= MAX_FOUND)
        return 1;
    found *x = &l->items[l->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->rule, sizeof x->rule, "%s", kl_rule_id(f->rule));
    x->offset = f->offset;
    x->length = f->length;
    x->line = f->line;
    x->column = f->column;
    x->end_line = f->end_line;
    x->end_column = f->end_column;
    x->column_utf16 = f->column_utf16;
    x->severity = f->severity;
    snprintf(x->text, sizeof x->text, "%.*s", (int)f->length, kl_finding_text(f));
    if (f->speaker.length)
        snprintf(x->speaker, sizeof x->speaker, "%.*s", (int)f->speaker.length,
                 f->base + (f->speaker.offset - f->base_offset));
    if (kl_rule_suggestion_count(f->rule) > 0) {
        char *s = NULL;
        if (kl_finding_suggestion(f, 0, &s, NULL, NULL) == KL_OK)
            snprintf(x->fix, sizeof x->fix, "%s", s);
        free(s);
    }
    return 0;
}

/* A compiled rule set from one YAML text; fails the test on error. */
static inline kl_rules *rules_from(const char *yaml)
{
    kl_rules *r = kl_rules_new();
    assert_non_null(r);
    kl_diag d;
    kl_status st = kl_rules_add_buffer(r, "test.yml", yaml, strlen(yaml), &d);
    if (st != KL_OK)
        fail_msg("rules did not load: %s:%u:%u: %s", d.file, d.line, d.column, d.message);
    assert_int_equal(kl_rules_compile(r, &d), KL_OK);
    return r;
}

/* Options for a scan of kind that hands each finding to fn with ud. It
 * asserts nothing, so worker threads may call it too. */
static inline kl_scan_options scan_options(kl_doc_kind kind, kl_finding_fn fn, void *ud)
{
    kl_scan_options o;
    memset(&o, 0, sizeof o);
    o.abi_version = KL_ABI_VERSION;
    o.kind = kind;
    o.on_finding = fn;
    o.userdata = ud;
    return o;
}

/* Scans len bytes of text of the given kind and collects the findings. */
static inline kl_status scan_kind(const kl_rules *rules, kl_doc_kind kind, const char *text,
                                  size_t len, found_list *out, const kl_policy *policy)
{
    kl_scanner *sc = kl_scanner_new(rules);
    assert_non_null(sc);
    memset(out, 0, sizeof *out);
    kl_scan_options o = scan_options(kind, collect_finding, out);
    o.policy = policy;
    kl_diag d;
    kl_status st = kl_scan(sc, &o, text, len, &d);
    kl_scanner_free(sc);
    return st;
}

/* Streams len bytes of text of the given kind in pieces of piece bytes,
 * with the size hint expect (0: none), and collects the findings. */
static inline kl_status stream_all(const kl_rules *r, kl_doc_kind kind, const char *text,
                                   size_t len, size_t piece, found_list *out, uint64_t expect)
{
    kl_scanner *sc = kl_scanner_new(r);
    assert_non_null(sc);
    memset(out, 0, sizeof *out);
    kl_scan_options o = scan_options(kind, collect_finding, out);
    kl_stream *st = kl_stream_new(sc, &o);
    assert_non_null(st);
    if (expect)
        kl_stream_expect(st, expect);
    kl_diag d;
    kl_status rc = KL_OK;
    for (size_t i = 0; i < len && rc == KL_OK; i += piece)
        rc = kl_stream_feed(st, text + i, len - i < piece ? len - i : piece, &d);
    if (rc == KL_OK)
        rc = kl_stream_finish(st, &d);
    kl_stream_free(st);
    kl_scanner_free(sc);
    return rc;
}

static inline void scan_text(const kl_rules *rules, const char *text, found_list *out)
{
    assert_int_equal(scan_kind(rules, KL_DOC_TEXT, text, strlen(text), out, NULL), KL_OK);
}

/* A pack with one rule; pattern and extra YAML lines (indented 4) given. */
#define ONE_RULE(pattern, extra)                                                                   \
    "pack: t\n"                                                                                    \
    "rules:\n"                                                                                     \
    "  - id: r\n"                                                                                  \
    "    category: absolute\n"                                                                     \
    "    severity: warning\n"                                                                      \
    "    message: m\n"                                                                             \
    "    match: '" pattern "'\n" extra

#endif

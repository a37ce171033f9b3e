/*
 * fix.c -- applying suggestions to text.
 *
 * Edits are byte spans with replacement text, sorted and non-overlapping;
 * every byte outside them is copied unchanged, so line endings, the final
 * newline and even invalid bytes survive a fix.
 */
#include <stdlib.h>
#include <string.h>

#include "kl_internal.h"

int kl_edits_apply(const char *input, size_t len, const kl_edit *edits, size_t nedits, kl_buf *out)
{
    size_t pos = 0;
    for (size_t i = 0; i < nedits; i++) {
        const kl_edit *e = &edits[i];
        if (e->offset < pos || e->offset + e->length > len)
            return -1;
        kl_buf_append(out, input + pos, e->offset - pos);
        kl_buf_append(out, e->replacement, e->rlen);
        pos = e->offset + e->length;
    }
    kl_buf_append(out, input + pos, len - pos);
    return out->failed ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* kl_fix                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct fix_ctx {
    const kl_scan_options *user;
    unsigned flags;
    kl_edit *edits;
    size_t n, cap;
    size_t last_end;
    int oom;
} fix_ctx;

static int fix_finding(const kl_finding *f, void *ud)
{
    fix_ctx *c = ud;
    int fixed = 0;
    /* of findings that start together, the widest is fixed: it is the one
     * whose rewrite covers what the others would change */
    int wider = c->n > 0 && f->offset == c->edits[c->n - 1].offset &&
                f->length > c->edits[c->n - 1].length;
    if (kl_rule_suggestion_count(f->rule) > 0 && !(f->flags & KL_FINDING_CROSSES_MARKUP) &&
        (c->n == 0 || f->offset >= c->last_end || wider)) {
        char *s = NULL;
        size_t slen = 0;
        int blank = 0;
        if (kl_finding_suggestion(f, 0, &s, &slen, &blank) != KL_OK) {
            c->oom = 1;
            return 1;
        }
        if ((!blank || (c->flags & KL_FIX_BLANKS)) && wider) {
            free(c->edits[c->n - 1].replacement);
            c->edits[c->n - 1] = (kl_edit){f->offset, f->length, s, slen};
            c->last_end = f->offset + f->length;
            s = NULL;
            fixed = 1;
        } else if (!blank || (c->flags & KL_FIX_BLANKS)) {
            if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16;
                kl_edit *p = realloc(c->edits, cap * sizeof *p);
                if (!p) {
                    free(s);
                    c->oom = 1;
                    return 1;
                }
                c->edits = p;
                c->cap = cap;
            }
            c->edits[c->n++] = (kl_edit){f->offset, f->length, s, slen};
            c->last_end = f->offset + f->length;
            s = NULL;
            fixed = 1;
        }
        free(s);
    }
    (void)fixed; /* what is left is reported from the fixed text (kl_fix) */
    return 0;
}

/* Line starts of text: starts[i] is where line i (0-based) begins;
 * starts[n] == len. */
static size_t *line_starts(const char *s, size_t len, size_t *n)
{
    size_t cap = 64, k = 0;
    size_t *v = malloc(cap * sizeof *v);
    if (!v)
        return NULL;
    v[k++] = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'))) {
            if (i + 1 >= len)
                break;
            if (k + 1 >= cap) {
                cap *= 2;
                size_t *p = realloc(v, cap * sizeof *p);
                if (!p) {
                    free(v);
                    return NULL;
                }
                v = p;
            }
            v[k++] = i + 1;
        }
    }
    v[k] = len;
    *n = k; /* number of lines */
    return v;
}

static size_t line_of(const size_t *starts, size_t n, size_t off)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (starts[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Writes lines [a, b) of s with a prefix each; a last line without a line
 * break gets one plus git's marker. */
static void put_lines(kl_buf *out, char prefix, const char *s, const size_t *starts, size_t a,
                      size_t b)
{
    for (size_t i = a; i < b; i++) {
        kl_buf_putc(out, prefix);
        size_t from = starts[i], to = starts[i + 1];
        kl_buf_append(out, s + from, to - from);
        if (to == from || (s[to - 1] != '\n' && s[to - 1] != '\r'))
            kl_buf_puts(out, "\n\\ No newline at end of file\n");
    }
}

/* Count lines of a text slice (a trailing piece without a break counts). */
static size_t count_lines(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n')))
            n++;
    if (len && s[len - 1] != '\n' && s[len - 1] != '\r')
        n++;
    return n;
}

#define DIFF_CONTEXT 3u

/* A unified diff from the edits: hunks of the lines each group of nearby
 * edits touches, with three lines of context. */
static int make_diff(const char *path, const char *in, size_t len, const kl_edit *edits, size_t n,
                     kl_buf *out)
{
    if (n == 0)
        return 0;
    size_t nlines;
    size_t *st = line_starts(in, len, &nlines);
    if (!st)
        return -1;
    kl_buf_printf(out, "--- %s\n+++ %s\n", path, path);
    long shift = 0; /* new line numbers minus old ones, before the hunk */
    size_t i = 0;
    while (i < n) {
        /* group edits whose lines are within 2 * context of each other */
        size_t first = line_of(st, nlines, edits[i].offset);
        size_t last = line_of(st, nlines, edits[i].offset + edits[i].length -
                                              (edits[i].length ? 1 : 0));
        size_t j = i + 1;
        while (j < n) {
            size_t f2 = line_of(st, nlines, edits[j].offset);
            if (f2 > last + 2 * DIFF_CONTEXT + 1)
                break;
            size_t l2 = line_of(st, nlines,
                                edits[j].offset + edits[j].length - (edits[j].length ? 1 : 0));
            if (l2 > last)
                last = l2;
            j++;
        }
        size_t ctx_a = first > DIFF_CONTEXT ? first - DIFF_CONTEXT : 0;
        size_t ctx_b = last + 1 + DIFF_CONTEXT < nlines ? last + 1 + DIFF_CONTEXT : nlines;
        /* the new text of lines [first, last] */
        kl_buf nw;
        kl_buf_init(&nw);
        size_t pos = st[first];
        for (size_t k = i; k < j; k++) {
            kl_buf_append(&nw, in + pos, edits[k].offset - pos);
            kl_buf_append(&nw, edits[k].replacement, edits[k].rlen);
            pos = edits[k].offset + edits[k].length;
        }
        kl_buf_append(&nw, in + pos, st[last + 1] - pos);
        if (nw.failed) {
            kl_buf_free(&nw);
            free(st);
            return -1;
        }
        size_t old_count = ctx_b - ctx_a;
        size_t new_mid = count_lines(nw.data ? nw.data : "", nw.len);
        size_t new_count = (first - ctx_a) + new_mid + (ctx_b - last - 1);
        size_t old_start = old_count ? ctx_a + 1 : ctx_a;
        long new_start = (long)ctx_a + 1 + shift;
        kl_buf_printf(out, "@@ -%zu,%zu +%ld,%zu @@\n", old_start, old_count,
                      new_count ? new_start : new_start - 1, new_count);
        put_lines(out, ' ', in, st, ctx_a, first);
        /* the new lines, split the same way */
        size_t nl;
        size_t *nst = line_starts(nw.data ? nw.data : "", nw.len, &nl);
        if (!nst) {
            kl_buf_free(&nw);
            free(st);
            return -1;
        }
        if (nw.len && nl == last + 1 - first) {
            /* as many lines as before: line by line, unchanged ones as context */
            for (size_t k = 0; k < nl; k++) {
                size_t ol = st[first + k + 1] - st[first + k], nln = nst[k + 1] - nst[k];
                if (ol == nln && memcmp(in + st[first + k], nw.data + nst[k], ol) == 0) {
                    put_lines(out, ' ', in, st, first + k, first + k + 1);
                } else {
                    put_lines(out, '-', in, st, first + k, first + k + 1);
                    put_lines(out, '+', nw.data, nst, k, k + 1);
                }
            }
        } else {
            put_lines(out, '-', in, st, first, last + 1);
            if (nw.len)
                put_lines(out, '+', nw.data, nst, 0, nl);
        }
        free(nst);
        put_lines(out, ' ', in, st, last + 1, ctx_b);
        shift += (long)new_mid - (long)(last + 1 - first);
        kl_buf_free(&nw);
        i = j;
    }
    free(st);
    return out->failed ? -1 : 0;
}

kl_status kl_fix(kl_scanner *sc, const kl_scan_options *opt, const char *input, size_t len,
                 const kl_fix_request *req, kl_fix_result *res, kl_diag *diag)
{
    memset(res, 0, sizeof *res);
    if (!opt || !req) {
        kl_diag_set(diag, KL_ERR_USAGE, NULL, 0, 0, NULL, "kl_fix: bad arguments");
        return KL_ERR_USAGE;
    }
    fix_ctx c;
    memset(&c, 0, sizeof c);
    c.user = opt;
    c.flags = req->flags;
    kl_scan_options o = *opt;
    o.on_finding = fix_finding;
    o.userdata = &c;
    kl_status st = kl_scan(sc, &o, input, len, diag);
    if (st == KL_OK && c.oom) {
        st = KL_ERR_NOMEM;
        kl_diag_set(diag, st, opt->path, 0, 0, NULL, "out of memory");
    }
    if (st == KL_OK) {
        kl_buf out, diff;
        kl_buf_init(&out);
        kl_buf_init(&diff);
        if (kl_edits_apply(input ? input : "", len, c.edits, c.n, &out) != 0 ||
            (req->diff_path && make_diff(req->diff_path, input, len, c.edits, c.n, &diff) != 0)) {
            kl_buf_free(&out);
            kl_buf_free(&diff);
            st = KL_ERR_NOMEM;
            kl_diag_set(diag, st, opt->path, 0, 0, NULL, "out of memory");
        } else {
            res->text = kl_buf_detach(&out, &res->len);
            if (req->diff_path)
                res->diff = kl_buf_detach(&diff, &res->diff_len);
            else
                kl_buf_free(&diff);
            res->applied = c.n;
            if (!res->text || (req->diff_path && !res->diff)) {
                kl_fix_result_free(res);
                st = KL_ERR_NOMEM;
                kl_diag_set(diag, st, opt->path, 0, 0, NULL, "out of memory");
            }
        }
    }
    /* what is left to the writer: the findings in the fixed text, where
     * the writer will look for them (and, for an overlapped finding whose
     * words survived the rewrite, where they still are) */
    if (st == KL_OK && opt->on_finding) {
        kl_scan_options left = *opt;
        left.on_notice = NULL;
        kl_diag d;
        if ((st = kl_scan(sc, &left, res->text, res->len, &d)) != KL_OK) {
            *diag = d;
            kl_fix_result_free(res);
        }
    }
    for (size_t i = 0; i < c.n; i++)
        free(c.edits[i].replacement);
    free(c.edits);
    return st;
}

void kl_fix_result_free(kl_fix_result *res)
{
    if (!res)
        return;
    free(res->text);
    free(res->diff);
    memset(res, 0, sizeof *res);
}

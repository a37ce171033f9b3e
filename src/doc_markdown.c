/*
 * doc_markdown.c -- the Markdown reader, on md4c.
 *
 * md4c hands over prose as text runs that point into the input (see
 * ENGINEERING.md section 5). The match buffer starts all blank but for
 * line breaks; each prose run is copied back at its own offset, so every
 * offset the scanner finds is an offset into the file. Left blank: code
 * spans and blocks, raw HTML, math, link and image destinations (they are
 * never text runs), autolinks (a run inside a link whose destination is
 * the same bytes), YAML front matter (md4c does not know it; it is cut off
 * before parsing) and, unless quotes are linted, block quotes. The end of
 * every paragraph, heading, list item and table cell becomes a hard
 * boundary, so no sentence runs from one into the next. Directives are
 * read from HTML comments.
 */
#include <md4c.h>
#include <stdlib.h>
#include <string.h>

#include "kl_internal.h"

/* md4c 0.4.8 has known quadratic cases and predates fuzzing fixes; inputs
 * beyond this are refused rather than risked (lint them with --type text). */
#define KL_MAX_MARKDOWN KL_MAX_MARKDOWN_INPUT

typedef struct md_ctx {
    kl_doc *doc;
    char *shadow;
    const char *base;  /* what md4c parses (after any front matter) */
    const char *shift; /* base's bytes at the same offsets in the input */
    int lint_quotes;
    int quote_depth;
    int link_depth;
    const char *href; /* of the innermost link */
    size_t href_len;
    size_t last_end; /* end of the last text copied */
    int oom;
} md_ctx;

/* The input's bytes for the n bytes md4c read at p, or NULL when it did
 * not read them from base (a run it made up: a line break, U+FFFD). */
static const char *to_input(const md_ctx *c, const char *p, size_t n)
{
    size_t len = c->doc->len - (size_t)(c->shift - c->doc->input);
    if (p < c->base || n > len || (size_t)(p - c->base) > len - n)
        return NULL;
    return c->shift + (p - c->base);
}

static int in_input(const md_ctx *c, const char *p, size_t n)
{
    return p >= c->doc->input && p + n <= c->doc->input + c->doc->len && n <= c->doc->len;
}

static int enter_block(MD_BLOCKTYPE type, void *detail, void *ud)
{
    md_ctx *c = ud;
    (void)detail;
    if (type == MD_BLOCK_QUOTE)
        c->quote_depth++;
    return 0;
}

static int leave_block(MD_BLOCKTYPE type, void *detail, void *ud)
{
    md_ctx *c = ud;
    (void)detail;
    if (type == MD_BLOCK_QUOTE && c->quote_depth > 0)
        c->quote_depth--;
    switch (type) {
    case MD_BLOCK_P:
    case MD_BLOCK_H:
    case MD_BLOCK_LI:
    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
    case MD_BLOCK_QUOTE:
    case MD_BLOCK_CODE:
    case MD_BLOCK_HTML:
    case MD_BLOCK_TABLE:
        kl_doc_boundary(c->doc, c->last_end);
        break;
    default: break;
    }
    return 0;
}

static int enter_span(MD_SPANTYPE type, void *detail, void *ud)
{
    md_ctx *c = ud;
    if (type == MD_SPAN_A) {
        const MD_SPAN_A_DETAIL *a = detail;
        c->link_depth++;
        c->href = a->href.text;
        c->href_len = a->href.size;
    }
    return 0;
}

static int leave_span(MD_SPANTYPE type, void *detail, void *ud)
{
    md_ctx *c = ud;
    (void)detail;
    if (type == MD_SPAN_A && c->link_depth > 0) {
        c->link_depth--;
        c->href = NULL;
        c->href_len = 0;
    }
    return 0;
}

/* HTML runs: look for directives in comments. */
static void read_html(md_ctx *c, const char *p, size_t n)
{
    const char *end = p + n;
    const char *q = p;
    while (q < end) {
        const char *k = memchr(q, 'k', (size_t)(end - q));
        if (!k)
            break;
        if ((size_t)(end - k) >= 9 && memcmp(k, "kindlint-", 9) == 0) {
            size_t off = (size_t)(k - c->doc->input);
            /* the directive's line ends where its comment's line ends */
            const char *close = NULL;
            for (const char *x = k; x + 3 <= c->doc->input + c->doc->len; x++) {
                if (memcmp(x, "-->", 3) == 0) {
                    close = x + 3;
                    break;
                }
            }
            size_t le = close ? (size_t)(close - c->doc->input) : off;
            while (le < c->doc->len && c->doc->input[le] != '\n' && c->doc->input[le] != '\r')
                le++;
            if (kl_directive_parse(c->doc, k, (size_t)(end - k), off, le) < 0)
                c->oom = 1;
            q = k + 9;
        } else {
            q = k + 1;
        }
    }
}

static int text(MD_TEXTTYPE type, const MD_CHAR *run, MD_SIZE size, void *ud)
{
    md_ctx *c = ud;
    /* the autolink check below compares md4c's own pointers */
    const char *p = to_input(c, run, size);
    if (!p || !in_input(c, p, size))
        return 0; /* a synthetic run (a line break, a NUL replacement) */
    if (type == MD_TEXT_HTML) {
        read_html(c, p, size);
        return 0;
    }
    if (type != MD_TEXT_NORMAL && type != MD_TEXT_ENTITY)
        return 0;
    if (c->quote_depth > 0 && !c->lint_quotes)
        return 0;
    if (c->link_depth > 0 && c->href && run < c->href + c->href_len && c->href < run + size)
        return 0; /* an autolink: the text is the destination */
    size_t off = (size_t)(p - c->doc->input);
    memcpy(c->shadow + off, p, size);
    c->last_end = off + size;
    return 0;
}

/* YAML front matter: "---" on the first line, up to a "---" or "..." line.
 * Returns the offset after it, or start when there is none. */
static size_t front_matter_end(const char *s, size_t len, size_t start)
{
    size_t i = start;
    if (len - i < 4 || memcmp(s + i, "---", 3) != 0)
        return start;
    i += 3;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < len && s[i] == '\r')
        i++;
    if (i >= len || s[i] != '\n')
        return start;
    i++;
    while (i < len) {
        size_t e = i;
        while (e < len && s[e] != '\n')
            e++;
        size_t t = e;
        if (t > i && s[t - 1] == '\r')
            t--;
        while (t > i && (s[t - 1] == ' ' || s[t - 1] == '\t'))
            t--;
        if (t - i == 3 && (memcmp(s + i, "---", 3) == 0 || memcmp(s + i, "...", 3) == 0))
            return e < len ? e + 1 : e;
        i = e < len ? e + 1 : e;
    }
    return start; /* never closed: not front matter */
}

/* md4c 0.4.8 takes time quadratic in the links of a paragraph: "[a][] "
 * 600,000 times in one paragraph (3.6 MB) took 17 s, and bare URLs
 * ("www.e.com", "http://e.com") 35 s for 3 MB; 32 MiB would take hours.
 * Nobody writes a paragraph of GIANT_PARAGRAPH bytes, so in one md4c reads
 * '[' ']' ':' as '(' ')' ';' and the '.' of "www." as ',' (punctuation as
 * before, and no syntax outside links): its links and URLs are then text,
 * the rest of the file is read as before, and the match buffer keeps the
 * input's bytes. */
#define GIANT_PARAGRAPH (64u * 1024u)

/* Can the line s[a, e) only continue a paragraph (not start or interrupt
 * a block)? When in doubt, no: a run of such lines is a paragraph or
 * part of one. */
static int plain_line(const char *s, size_t a, size_t e)
{
    size_t i = a;
    while (i < e && i - a < 4 && s[i] == ' ')
        i++;
    if (i >= e || s[i] == '\r' || s[i] == '\t' || i - a >= 4)
        return 0;
    char c = s[i], d = i + 1 < e ? s[i + 1] : '\n';
    int gap = d == ' ' || d == '\t' || d == '\r' || d == '\n';
    if (c == '>' || c == '|' || c == '<' || c == '=' || c == '_')
        return 0;
    if ((c == '-' || c == '*' || c == '+' || c == '#') && (gap || d == c))
        return 0;
    if ((c == '`' || c == '~') && d == c)
        return 0;
    if (c >= '0' && c <= '9') {
        size_t j = i;
        while (j < e && s[j] >= '0' && s[j] <= '9')
            j++;
        if (j < e && (s[j] == '.' || s[j] == ')'))
            return 0;
    }
    return 1;
}

/* A copy of s[from, len) in which each run of plain lines longer than
 * GIANT_PARAGRAPH has no links (as above); NULL when there is no such run
 * (or no memory: md4c then reads the input itself). */
static char *tame_giant_paragraphs(const char *s, size_t from, size_t len)
{
    char *copy = NULL;
    size_t run = from; /* where the current run of plain lines starts */
    for (size_t a = from; a <= len;) {
        const char *nl = a < len ? memchr(s + a, '\n', len - a) : NULL;
        size_t e = nl ? (size_t)(nl - s) : len;
        int plain = a < len && plain_line(s, a, e);
        if (!plain) {
            if (a - run > GIANT_PARAGRAPH) {
                if (!copy && (copy = malloc(len - from)) != NULL)
                    memcpy(copy, s + from, len - from);
                for (size_t i = run; copy && i < a; i++) {
                    char *b = copy + (i - from);
                    if (*b == '[')
                        *b = '(';
                    else if (*b == ']')
                        *b = ')';
                    else if (*b == ':')
                        *b = ';';
                    else if (*b == '.' && i >= run + 3 && (b[-1] | 0x20) == 'w' &&
                             (b[-2] | 0x20) == 'w' && (b[-3] | 0x20) == 'w')
                        *b = ',';
                }
            }
            run = e + 1;
        }
        if (a >= len)
            break;
        a = nl ? e + 1 : len;
    }
    return copy;
}

kl_status kl_doc_read_markdown(kl_doc *doc, const kl_scan_options *opt, kl_diag *diag)
{
    if (doc->len > KL_MAX_MARKDOWN) {
        kl_diag_set(diag, KL_ERR_INPUT, opt->path, 0, 0, NULL,
                    "%zu bytes is too large to parse as Markdown (the limit is %u MiB); lint "
                    "it with --type text",
                    doc->len, KL_MAX_MARKDOWN / (1024u * 1024u));
        return KL_ERR_INPUT;
    }
    md_ctx c;
    memset(&c, 0, sizeof c);
    c.doc = doc;
    c.lint_quotes = opt->lint_quotes;
    c.shadow = kl_doc_blank_all(doc);
    if (!c.shadow)
        goto oom;
    size_t body = front_matter_end(doc->input, doc->len, doc->start);
    if (body > doc->start)
        kl_doc_boundary(doc, body - 1);
    c.shift = doc->input + body;
    char *tamed = tame_giant_paragraphs(doc->input, body, doc->len);
    c.base = tamed ? tamed : c.shift;
    MD_PARSER parser;
    memset(&parser, 0, sizeof parser);
    parser.flags = MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH | MD_FLAG_TASKLISTS |
                   MD_FLAG_PERMISSIVEAUTOLINKS | MD_FLAG_LATEXMATHSPANS;
    parser.enter_block = enter_block;
    parser.leave_block = leave_block;
    parser.enter_span = enter_span;
    parser.leave_span = leave_span;
    parser.text = text;
    int failed = md_parse(c.base, (MD_SIZE)(doc->len - body), &parser, &c) != 0;
    free(tamed);
    if (failed && !c.oom) {
        kl_diag_set(diag, KL_ERR_INPUT, opt->path, 0, 0, NULL,
                    "the Markdown parser (md4c) gave up on this input");
        return KL_ERR_INPUT;
    }
    if (c.oom)
        goto oom;
    return KL_OK;
oom:
    kl_diag_set(diag, KL_ERR_NOMEM, opt->path, 0, 0, NULL, "out of memory");
    return KL_ERR_NOMEM;
}

/*
 * doc_lines.c -- the line-based readers: text, commit, email and chat.
 *
 * Each walks the input a line at a time and blanks in the match buffer
 * what is not the writer's own prose, keeping line breaks so positions do
 * not move, and puts a hard boundary at the start of each skipped stretch
 * so no sentence runs across it:
 *  - every kind: a line holding only a directive (kindlint-disable...,
 *    optionally after "#", "//" or inside "<!-- -->");
 *  - commit: "#" comment lines, and everything from git's scissors line;
 *  - email: the header block (and the headers of MIME parts, and parts
 *    that are not text/plain), ">" quoted lines unless quotes are linted,
 *    the "On ... wrote:" line that introduces a quote, everything after a
 *    forwarded or "Original Message" marker, and the signature after "-- ";
 *  - chat: each "Name: message" line (also WhatsApp's "12/31/23, 21:04 -
 *    Name: message" and "[12/31/23, 21:04:05] Name: message") starts a turn;
 *    the prefix is blanked, the turn remembered with its speaker, and with
 *    a speaker filter other people's turns are blanked. Lines without a
 *    prefix continue the turn before them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kl_internal.h"

typedef struct line {
    size_t start, end; /* [start, end) without the line break */
    size_t next;       /* start of the next line */
} line;

static int next_line(const char *s, size_t len, size_t pos, line *l)
{
    if (pos >= len)
        return 0;
    static const unsigned char breaks[] = {'\n', '\r'};
    size_t e = kl_skip_none_of((const unsigned char *)s, pos, len, breaks, 2);
    while (e < len && s[e] != '\n' && s[e] != '\r')
        e++;
    l->start = pos;
    l->end = e;
    if (e < len && s[e] == '\r')
        e++;
    if (e < len && s[e] == '\n')
        e++;
    l->next = e;
    return 1;
}

/* The line without surrounding blanks. */
static void trim(const char *s, size_t *a, size_t *b)
{
    while (*a < *b && (s[*a] == ' ' || s[*a] == '\t'))
        (*a)++;
    while (*b > *a && (s[*b - 1] == ' ' || s[*b - 1] == '\t'))
        (*b)--;
}

static int starts(const char *s, size_t a, size_t b, const char *prefix)
{
    size_t n = strlen(prefix);
    return b - a >= n && strncasecmp(s + a, prefix, n) == 0;
}

static int ends(const char *s, size_t a, size_t b, const char *suffix)
{
    size_t n = strlen(suffix);
    return b - a >= n && strncasecmp(s + b - n, suffix, n) == 0;
}

static int skip_line(kl_doc *doc, const line *l)
{
    if (kl_doc_blank(doc, l->start, l->end) != 0)
        return -1;
    return kl_doc_boundary(doc, l->start);
}

/* A directive on a line of its own: 1 when found (and recorded). */
static int directive_line(kl_doc *doc, const line *l)
{
    const char *s = doc->input;
    size_t a = l->start, b = l->end;
    trim(s, &a, &b);
    if (starts(s, a, b, "<!--"))
        a += 4;
    else if (starts(s, a, b, "//"))
        a += 2;
    else if (a < b && (s[a] == '#' || s[a] == ';'))
        a++;
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    if (!starts(s, a, b, "kindlint-"))
        return 0;
    int r = kl_directive_parse(doc, s + a, b - a, a, l->end);
    if (r <= 0)
        return r;
    return skip_line(doc, l) == 0 ? 1 : -1;
}

/* ------------------------------------------------------------------------ */
/* Email                                                                     */
/* ------------------------------------------------------------------------ */

static int is_header_line(const char *s, size_t a, size_t b)
{
    if (starts(s, a, b, "From "))
        return 1; /* mbox separator */
    size_t i = a;
    while (i < b && s[i] > ' ' && s[i] < 0x7F && s[i] != ':')
        i++;
    return i > a && i < b && s[i] == ':';
}

typedef struct mime {
    char boundary[128];
    size_t blen;
    int skip_body; /* the current part is not text/plain, or is base64 */
} mime;

/* Reads what matters of one header (with its continuation lines joined
 * by the caller's view): Content-Type's type and boundary, and the
 * transfer encoding. */
static void read_header(const char *s, size_t a, size_t b, mime *m, int top)
{
    if (starts(s, a, b, "Content-Type:")) {
        size_t v = a + 13;
        while (v < b && (s[v] == ' ' || s[v] == '\t'))
            v++;
        if (starts(s, v, b, "multipart/")) {
            for (size_t i = v; i + 9 <= b; i++) {
                if (strncasecmp(s + i, "boundary=", 9) == 0) {
                    size_t j = i + 9, k;
                    int quoted = j < b && s[j] == '"';
                    if (quoted)
                        j++;
                    for (k = j; k < b && (quoted ? s[k] != '"' : (s[k] != ';' && s[k] != ' '));)
                        k++;
                    if (top && k > j && k - j < sizeof m->boundary) {
                        memcpy(m->boundary, s + j, k - j);
                        m->blen = k - j;
                    }
                    break;
                }
            }
            m->skip_body = 1; /* the preamble is not the message */
        } else if (!starts(s, v, b, "text/plain")) {
            m->skip_body = 1;
        }
    } else if (starts(s, a, b, "Content-Transfer-Encoding:")) {
        size_t v = a + 26;
        while (v < b && (s[v] == ' ' || s[v] == '\t'))
            v++;
        if (starts(s, v, b, "base64"))
            m->skip_body = 1;
    } else if (starts(s, a, b, "Content-Disposition:")) {
        size_t v = a + 20;
        while (v < b && (s[v] == ' ' || s[v] == '\t'))
            v++;
        if (starts(s, v, b, "attachment"))
            m->skip_body = 1;
    }
}

/* Skips a header block starting at pos; returns the offset after its
 * blank line. */
static int skip_headers(kl_doc *doc, size_t pos, mime *m, int top, size_t *after)
{
    const char *s = doc->input;
    line l;
    while (next_line(s, doc->len, pos, &l)) {
        if (skip_line(doc, &l) != 0)
            return -1;
        pos = l.next;
        if (l.end == l.start)
            break;
        read_header(s, l.start, l.end, m, top);
    }
    *after = pos;
    return 0;
}

/* An attribution that introduces a quote: "On <date>, <name> wrote:",
 * possibly wrapped over two lines. Returns the number of lines (0: none). */
static int attribution(const char *s, size_t len, const line *l)
{
    size_t a = l->start, b = l->end;
    trim(s, &a, &b);
    if (!starts(s, a, b, "On "))
        return 0;
    if (ends(s, a, b, "wrote:"))
        return 1;
    line n;
    if (next_line(s, len, l->next, &n)) {
        size_t c = n.start, d = n.end;
        trim(s, &c, &d);
        if (ends(s, c, d, "wrote:"))
            return 2;
    }
    return 0;
}

/* Markers after which the rest is someone else's message. */
static int rest_is_quoted(const char *s, const line *l)
{
    size_t a = l->start, b = l->end;
    trim(s, &a, &b);
    if (starts(s, a, b, "-----Original Message-----") ||
        starts(s, a, b, "---------- Forwarded message") ||
        starts(s, a, b, "Begin forwarded message:"))
        return 1;
    size_t u = a;
    while (u < b && s[u] == '_')
        u++;
    return u - a >= 10 && u == b; /* Outlook's rule before "From:" */
}

static int is_signature(const char *s, const line *l)
{
    return (l->end - l->start == 3 && memcmp(s + l->start, "-- ", 3) == 0) ||
           (l->end - l->start == 2 && memcmp(s + l->start, "--", 2) == 0);
}

static int read_email(kl_doc *doc, const kl_scan_options *opt)
{
    const char *s = doc->input;
    size_t len = doc->len, pos = doc->start;
    mime m;
    memset(&m, 0, sizeof m);
    line l;
    if (next_line(s, len, pos, &l) && is_header_line(s, l.start, l.end)) {
        if (skip_headers(doc, pos, &m, 1, &pos) != 0)
            return -1;
    }
    while (next_line(s, len, pos, &l)) {
        pos = l.next;
        if (m.blen && l.end - l.start >= m.blen + 2 && s[l.start] == '-' &&
            s[l.start + 1] == '-' && memcmp(s + l.start + 2, m.boundary, m.blen) == 0) {
            /* a MIME part: its headers say whether it is prose */
            if (skip_line(doc, &l) != 0)
                return -1;
            m.skip_body = 0;
            if (!(l.end - l.start >= m.blen + 4 && s[l.start + m.blen + 2] == '-') &&
                skip_headers(doc, pos, &m, 0, &pos) != 0)
                return -1;
            continue;
        }
        if (m.skip_body) {
            if (kl_doc_blank(doc, l.start, l.end) != 0)
                return -1;
            continue;
        }
        int r = directive_line(doc, &l);
        if (r != 0) {
            if (r < 0)
                return -1;
            continue;
        }
        size_t a = l.start, b = l.end;
        trim(s, &a, &b);
        if (a < b && s[a] == '>') {
            if (!opt->lint_quotes && skip_line(doc, &l) != 0)
                return -1;
            continue;
        }
        int n = attribution(s, len, &l);
        if (n) {
            if (skip_line(doc, &l) != 0)
                return -1;
            if (n == 2 && next_line(s, len, pos, &l)) {
                if (skip_line(doc, &l) != 0)
                    return -1;
                pos = l.next;
            }
            continue;
        }
        if (is_signature(s, &l) || (!opt->lint_quotes && rest_is_quoted(s, &l))) {
            if (kl_doc_blank(doc, l.start, len) != 0 || kl_doc_boundary(doc, l.start) != 0)
                return -1;
            break;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Commit messages                                                           */
/* ------------------------------------------------------------------------ */

static int read_commit(kl_doc *doc)
{
    const char *s = doc->input;
    size_t len = doc->len, pos = doc->start;
    line l;
    while (next_line(s, len, pos, &l)) {
        pos = l.next;
        int r = directive_line(doc, &l);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (l.end > l.start && s[l.start] == '#') {
            /* git's scissors line: "# ------------------------ >8 ---..." */
            int scissors = l.end - l.start > 6 && memcmp(s + l.start, "# -", 3) == 0;
            if (scissors) {
                scissors = 0;
                for (size_t i = l.start; i + 4 <= l.end; i++)
                    if (memcmp(s + i, " >8 ", 4) == 0)
                        scissors = 1;
            }
            if (scissors) {
                if (kl_doc_blank(doc, l.start, len) != 0 || kl_doc_boundary(doc, l.start) != 0)
                    return -1;
                break;
            }
            if (skip_line(doc, &l) != 0)
                return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Chat transcripts                                                          */
/* ------------------------------------------------------------------------ */

static size_t digits(const char *s, size_t i, size_t b, size_t min, size_t max)
{
    size_t j = i;
    while (j < b && j - i < max && isdigit((unsigned char)s[j]))
        j++;
    return j - i >= min ? j - i : 0;
}

/* A space, or U+202F / U+00A0 (WhatsApp puts a narrow no-break space
 * before AM/PM). Returns its length or 0. */
static size_t space_at(const char *s, size_t i, size_t b)
{
    const unsigned char *u = (const unsigned char *)s;
    if (i < b && s[i] == ' ')
        return 1;
    if (i + 3 <= b && u[i] == 0xE2 && u[i + 1] == 0x80 && u[i + 2] == 0xAF)
        return 3;
    if (i + 2 <= b && u[i] == 0xC2 && u[i + 1] == 0xA0)
        return 2;
    return 0;
}

/* "12/31/23, 21:04" or "31.12.2023, 9:04 PM" (with seconds optional).
 * Returns the length, 0 if not a timestamp. */
static size_t timestamp(const char *s, size_t i, size_t b)
{
    size_t j = i, n;
    for (int part = 0; part < 3; part++) {
        if (!(n = digits(s, j, b, 1, 4)))
            return 0;
        j += n;
        if (part < 2) {
            if (j >= b || (s[j] != '/' && s[j] != '.' && s[j] != '-'))
                return 0;
            j++;
        }
    }
    if (j < b && s[j] == ',')
        j++;
    if (!(n = space_at(s, j, b)))
        return 0;
    j += n;
    if (!(n = digits(s, j, b, 1, 2)))
        return 0;
    j += n;
    for (int part = 0; part < 2; part++) {
        if (j < b && s[j] == ':' && digits(s, j + 1, b, 2, 2)) {
            j += 3;
        } else if (part == 0) {
            return 0;
        }
    }
    size_t sp = space_at(s, j, b);
    if (j + sp + 2 <= b && strchr("AaPp", s[j + sp]) && (s[j + sp + 1] == 'M' || s[j + sp + 1] == 'm'))
        j += sp + 2;
    return j - i;
}

/* Parses a turn's prefix. Returns 1 for a turn (name in [*na, *nb),
 * message from *msg), 2 for a timestamped system line with no speaker,
 * 0 for a line that is not a turn. */
static int turn_prefix(const char *s, size_t a, size_t b, size_t *na, size_t *nb, size_t *msg)
{
    size_t i = a;
    int stamped = 0;
    /* a left-to-right mark some exports put first */
    if (i + 3 <= b && memcmp(s + i, "\xE2\x80\x8E", 3) == 0)
        i += 3;
    if (i < b && s[i] == '[') {
        size_t t = timestamp(s, i + 1, b);
        if (t && i + 1 + t < b && s[i + 1 + t] == ']') {
            i += t + 2;
            while (i < b && s[i] == ' ')
                i++;
            stamped = 1;
        }
    } else {
        size_t t = timestamp(s, i, b);
        if (t) {
            size_t j = i + t;
            if (j + 3 <= b && memcmp(s + j, " - ", 3) == 0) {
                i = j + 3;
                stamped = 1;
            } else if (j + 5 <= b && memcmp(s + j, " \xE2\x80\x93 ", 5) == 0) {
                i = j + 5; /* an en dash */
                stamped = 1;
            }
        }
    }
    /* the name: up to ": " on the line, short, with no sentence marks */
    size_t j = i, words = 1;
    while (j < b && s[j] != ':' && j - i <= 64) {
        if (s[j] == '.' || s[j] == '!' || s[j] == '?' || s[j] == '"' || s[j] == '(' ||
            s[j] == '<' || s[j] == '/')
            break;
        if (s[j] == ' ')
            words++;
        j++;
    }
    int named = j < b && s[j] == ':' && j > i && s[i] != ' ' && words <= 5 &&
                (j + 1 == b || s[j + 1] == ' ' || s[j + 1] == '\t');
    if (!named)
        return stamped ? 2 : 0;
    *na = i;
    *nb = j;
    while (*nb > *na && s[*nb - 1] == ' ')
        (*nb)--;
    *msg = j + 1;
    return 1;
}

int kl_chat_turn_line(const char *s, size_t a, size_t b)
{
    size_t na, nb, msg;
    return turn_prefix(s, a, b, &na, &nb, &msg) == 1;
}

static int push_turn(kl_doc *doc, size_t start, size_t end, size_t na, size_t nb)
{
    if (doc->nturns == doc->turns_cap) {
        size_t cap = doc->turns_cap ? doc->turns_cap * 2 : 64;
        kl_turn *p = realloc(doc->turns, cap * sizeof *p);
        if (!p)
            return -1;
        doc->turns = p;
        doc->turns_cap = cap;
    }
    doc->turns[doc->nturns++] = (kl_turn){start, end, {na, nb - na}};
    return 0;
}

static int same_name(const char *s, size_t na, size_t nb, const char *want)
{
    while (*want == ' ')
        want++;
    size_t n = strlen(want);
    while (n && want[n - 1] == ' ')
        n--;
    return nb - na == n && strncasecmp(s + na, want, n) == 0;
}

static int read_chat(kl_doc *doc, const kl_scan_options *opt)
{
    const char *s = doc->input;
    size_t len = doc->len, pos = doc->start;
    const char *want = opt->speaker && opt->speaker[0] ? opt->speaker : NULL;
    int in_turn = 0, keep = !want;
    line l;
    while (next_line(s, len, pos, &l)) {
        pos = l.next;
        int r = directive_line(doc, &l);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        size_t na, nb, msg;
        int t = turn_prefix(s, l.start, l.end, &na, &nb, &msg);
        if (t == 2) { /* "Messages are end-to-end encrypted" and the like */
            if (skip_line(doc, &l) != 0)
                return -1;
            in_turn = 0;
            keep = !want;
            continue;
        }
        if (t == 1) {
            keep = !want || same_name(s, na, nb, want);
            if (want && keep)
                doc->speaker_seen = 1;
            if (kl_doc_blank(doc, l.start, keep ? msg : l.end) != 0 ||
                kl_doc_boundary(doc, l.start) != 0 || push_turn(doc, msg, l.end, na, nb) != 0)
                return -1;
            in_turn = 1;
            continue;
        }
        /* a continuation line */
        if (in_turn) {
            doc->turns[doc->nturns - 1].end = l.end;
            if (!keep && kl_doc_blank(doc, l.start, l.end) != 0)
                return -1;
        } else if (want && kl_doc_blank(doc, l.start, l.end) != 0) {
            return -1; /* not anyone's turn, so not the one asked for */
        }
    }
    return 0;
}

static int read_text(kl_doc *doc)
{
    const char *s = doc->input;
    size_t len = doc->len, pos = doc->start;
    line l;
    if (pos >= len)
        return 0;
    /* cheap check first: most texts hold no directive at all ("ki" is
     * rarer than 'k', and is looked for sixteen bytes at a time) */
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = pos;;) {
        i = kl_skip_no_pair(u, i, len, 'k', 'i');
        size_t stop = len - i > 16 ? i + 16 : len;
        while (i < stop && !(len - i >= 9 && memcmp(u + i, "kindlint-", 9) == 0))
            i++;
        if (i < stop)
            break; /* one is here */
        if (i >= len)
            return 0;
    }
    while (next_line(s, len, pos, &l)) {
        pos = l.next;
        if (directive_line(doc, &l) < 0)
            return -1;
    }
    return 0;
}

kl_status kl_doc_read_lines(kl_doc *doc, const kl_scan_options *opt, kl_diag *diag)
{
    int r;
    switch (opt->kind) {
    case KL_DOC_COMMIT: r = read_commit(doc); break;
    case KL_DOC_EMAIL: r = read_email(doc, opt); break;
    case KL_DOC_CHAT: r = read_chat(doc, opt); break;
    default: r = read_text(doc); break;
    }
    if (r != 0) {
        kl_diag_set(diag, KL_ERR_NOMEM, opt->path, 0, 0, NULL, "out of memory");
        return KL_ERR_NOMEM;
    }
    return KL_OK;
}

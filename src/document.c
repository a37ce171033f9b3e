/*
 * document.c -- input bytes into the match buffer the scanner reads.
 *
 * The match buffer has the same length as the input, so every offset the
 * scanner finds is an offset into the caller's bytes. When nothing needs to
 * change it *is* the input (no copy). Otherwise a copy is made in which
 *  - bytes that are not to be linted become KL_BLANK (newlines are kept, so
 *    the lines stay where they were), and
 *  - hard boundaries become KL_BOUNDARY: invalid UTF-8 and NUL bytes (no
 *    match crosses them, as PCRE2_MATCH_INVALID_UTF would have it), and the
 *    ends of blocks and turns that a sentence must not run across.
 * Kind-specific readers (Markdown, commit, email, chat) hand on the same
 * shape.
 */
#include <stdlib.h>
#include <string.h>

#include "kl_internal.h"

char *kl_doc_mutable(kl_doc *doc)
{
    if (!doc->owned) {
        doc->owned = calloc(1, doc->len + KL_SUBJECT_PAD);
        if (!doc->owned)
            return NULL;
        memcpy(doc->owned, doc->input, doc->len);
        doc->text = doc->owned;
    }
    return doc->owned;
}

void kl_blank_bytes(char *m, size_t from, size_t to)
{
    size_t i = from;
#if defined(__GNUC__)
    const kl_v16 lf = (kl_v16){0} + '\n', cr = (kl_v16){0} + '\r',
                 blank = (kl_v16){0} + (unsigned char)KL_BLANK;
    for (; i + 16 <= to; i += 16) {
        kl_v16 b;
        memcpy(&b, m + i, 16);
        kl_v16 keep = (kl_v16)(b == lf) | (kl_v16)(b == cr);
        b = (b & keep) | (blank & ~keep);
        memcpy(m + i, &b, 16);
    }
#endif
    for (; i < to; i++)
        if (m[i] != '\n' && m[i] != '\r')
            m[i] = KL_BLANK;
}

char *kl_doc_blank_all(kl_doc *doc)
{
    char *m = kl_doc_mutable(doc);
    if (!m)
        return NULL;
    kl_blank_bytes(m, doc->start, doc->len);
    return m;
}

int kl_doc_blank(kl_doc *doc, size_t from, size_t to)
{
    if (to > doc->len)
        to = doc->len;
    if (from >= to)
        return 0;
    char *m = kl_doc_mutable(doc);
    if (!m)
        return -1;
    kl_blank_bytes(m, from, to);
    return 0;
}

int kl_doc_boundary(kl_doc *doc, size_t offset)
{
    if (offset >= doc->len || doc->text[offset] == KL_BOUNDARY)
        return 0;
    char *m = kl_doc_mutable(doc);
    if (!m)
        return -1;
    m[offset] = KL_BOUNDARY;
    return 0;
}

/* UTF-16 text is reported, never misread as UTF-8 full of NULs. */
static int looks_like_utf16(const unsigned char *s, size_t len)
{
    if (len >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))
        return 1;
    size_t n = len < 4096 ? len : 4096;
    if (n < 8)
        return 0;
    size_t even = 0, odd = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == 0) {
            if (i % 2)
                odd++;
            else
                even++;
        }
    }
    size_t zeros = even + odd;
    return zeros * 10 >= n * 3 && (even * 10 >= zeros * 9 || odd * 10 >= zeros * 9);
}

/* Marks invalid UTF-8 sequences and NUL bytes as boundaries. */
static kl_status mark_invalid(kl_doc *doc, kl_diag *diag)
{
    const unsigned char *s = (const unsigned char *)doc->input;
    size_t len = doc->len;
    size_t i = doc->start;
    while (i < len) {
#if defined(__GNUC__)
        /* fast path: sixteen ASCII bytes with no NUL at a time, up to the
         * first that is not */
        if (i + 16 <= len) {
            kl_v16 b;
            memcpy(&b, s + i, 16);
            kl_v16 odd = (kl_v16)(b >= 0x80) | (kl_v16)(b == 0);
            if (!kl_v16_any(odd)) {
                i += 16;
                continue;
            }
            i += kl_v16_first(odd);
        }
#endif
        /* fast path: eight ASCII bytes with no NUL */
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            uint64_t high = w & 0x8080808080808080ull;
            uint64_t zero = (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
            if (!high && !zero) {
                i += 8;
                continue;
            }
        }
        if (s[i] != 0 && s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = s[i] ? kl_utf8_decode(s + i, len - i, &cp) : 0;
        if (n) {
            i += n;
            continue;
        }
        char *m = kl_doc_mutable(doc);
        if (!m) {
            kl_diag_set(diag, KL_ERR_NOMEM, NULL, 0, 0, NULL, "out of memory");
            return KL_ERR_NOMEM;
        }
        m[i] = KL_BOUNDARY;
        i++;
    }
    return KL_OK;
}

kl_status kl_doc_open(kl_doc *doc, const kl_scan_options *opt, const char *input, size_t len,
                      kl_diag *diag)
{
    return kl_doc_open_window(doc, opt, input, len, 1, NULL, 0, diag);
}

kl_status kl_doc_open_window(kl_doc *doc, const kl_scan_options *opt, const char *input,
                             size_t len, int first, const char *const *inherit, size_t ninherit,
                             kl_diag *diag)
{
    memset(doc, 0, sizeof *doc);
    doc->inherit = inherit;
    doc->ninherit = ninherit;
    doc->input = input;
    doc->text = input;
    doc->len = len;
    const unsigned char *s = (const unsigned char *)input;
    if (first && looks_like_utf16(s, len)) {
        kl_diag_set(diag, KL_ERR_INPUT, opt->path, 0, 0, NULL,
                    "the input looks like UTF-16, not UTF-8; convert it first (for example "
                    "with iconv -f UTF-16 -t UTF-8)");
        return KL_ERR_INPUT;
    }
    if (first && len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        doc->start = 3; /* UTF-8 byte order mark */
    kl_status st = opt->kind == KL_DOC_MARKDOWN ? kl_doc_read_markdown(doc, opt, diag)
                                                : kl_doc_read_lines(doc, opt, diag);
    if (st == KL_OK)
        st = mark_invalid(doc, diag);
    if (st == KL_OK)
        st = kl_directives_resolve(doc);
    if (st == KL_OK && !opt->lint_quotes)
        st = kl_doc_blank_quotes(doc);
    if (st != KL_OK) {
        if (st == KL_ERR_NOMEM && diag->code == KL_OK)
            kl_diag_set(diag, st, opt->path, 0, 0, NULL, "out of memory");
        kl_doc_close(doc);
        return st;
    }
    return KL_OK;
}

void kl_doc_close(kl_doc *doc)
{
    free(doc->owned);
    free(doc->turns);
    kl_directives_free(doc);
    memset(doc, 0, sizeof *doc);
}

/* ------------------------------------------------------------------------ */
/* Kinds                                                                     */
/* ------------------------------------------------------------------------ */

static const char *const kind_names[] = {"text", "markdown", "commit", "email", "chat"};

const char *kl_doc_kind_name(kl_doc_kind kind)
{
    return (unsigned)kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "text";
}

int kl_doc_kind_parse(const char *name, kl_doc_kind *kind)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (name && strcmp(name, kind_names[i]) == 0) {
            *kind = (kl_doc_kind)i;
            return 0;
        }
    return -1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (m > n)
        return 0;
    for (size_t i = 0; i < m; i++) {
        char a = s[n - m + i], b = suffix[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return 1;
}

kl_doc_kind kl_doc_kind_for_path(const char *path)
{
    if (!path)
        return KL_DOC_TEXT;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (ends_with(base, ".md") || ends_with(base, ".markdown"))
        return KL_DOC_MARKDOWN;
    if (strcmp(base, "COMMIT_EDITMSG") == 0 ||
        (strlen(base) > 8 && strcmp(base + strlen(base) - 8, "_EDITMSG") == 0))
        return KL_DOC_COMMIT;
    if (ends_with(base, ".eml"))
        return KL_DOC_EMAIL;
    return KL_DOC_TEXT;
}

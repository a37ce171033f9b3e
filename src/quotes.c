/*
 * quotes.c -- reported speech: text inside quotation marks is someone
 * else's words, not the writer's, so it is blanked in the match buffer
 * (unless --lint-quotes).
 *
 * A quotation is "…", “…”, ‘…’ or '…' within one paragraph. Single
 * quotes share their closing mark with the apostrophe, so a closing ' or ’
 * must not sit between two letters (don't, it’s). Only quotations that
 * read as speech are blanked: more than one word, or a word with its own
 * sentence mark ("Whatever."). A single quoted word is a scare quote
 * (you're "busy") and stays: it is the writer's own tone.
 */
#include <ctype.h>
#include <string.h>

#include "kl_internal.h"

int kl_quotes_memo = 1;

/* A single quoted span longer than this is more likely two apostrophes. */
#define MAX_SINGLE_QUOTE_SPAN 300u

static int is_word_byte(unsigned char c)
{
    return isalnum(c) || c >= 0x80;
}

/* Does a paragraph end at i (a blank line or a hard boundary)? */
static int paragraph_break(const unsigned char *s, size_t len, size_t i)
{
    if (s[i] == (unsigned char)KL_BOUNDARY)
        return 1;
    if (s[i] != '\n' && s[i] != '\r')
        return 0;
    size_t j = i + 1;
    if (s[i] == '\r' && j < len && s[j] == '\n')
        j++;
    while (j < len && (s[j] == ' ' || s[j] == '\t'))
        j++;
    return j >= len || s[j] == '\n' || s[j] == '\r';
}

static int is_seq(const unsigned char *s, size_t len, size_t i, unsigned char c3)
{
    return i + 2 < len && s[i] == 0xE2 && s[i + 1] == 0x80 && s[i + 2] == c3;
}

#define LQUOTE 0x9C /* “ */
#define RQUOTE 0x9D /* ” */
#define LSINGLE 0x98 /* ‘ */
#define RSINGLE 0x99 /* ’ */

/* Is the quoted content [a, b) speech rather than a scare quote? */
static int reads_as_speech(const unsigned char *s, size_t a, size_t b, int single)
{
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
        b--;
    if (a >= b)
        return 0;
    int words = 1;
    for (size_t i = a; i < b; i++)
        if ((s[i] == ' ' || s[i] == '\n' || s[i] == '\t') && i + 1 < b && s[i + 1] != ' ')
            words++;
    if (words > 1)
        return 1;
    if (single)
        return 0;
    unsigned char last = s[b - 1];
    return last == '.' || last == '!' || last == '?' || last == ',';
}

/* The end (exclusive) of the closing mark for an opening mark at i, or 0.
 * Whether a mark closes does not depend on where the quotation opened, so
 * a search that finds none tells the next one of the kind where to start:
 * *none_before (0: nowhere yet) is where the last one stopped, with no
 * closing mark between its opening mark and there. Without it, a
 * paragraph of opening marks that never close (“ alone on each of 40,000
 * chat lines) took time quadratic in the paragraph's length. */
static size_t find_close(const unsigned char *s, size_t len, size_t i, int kind,
                         size_t *none_before)
{
    size_t open_len = kind == '"' || kind == '\'' ? 1 : 3;
    size_t j = i + open_len;
    if (*none_before > j && kl_quotes_memo)
        j = *none_before;
    for (; j < len; j++) {
        if (paragraph_break(s, len, j) ||
            ((kind == '\'' || kind == LSINGLE) && j - i > MAX_SINGLE_QUOTE_SPAN)) {
            *none_before = j;
            return 0;
        }
        switch (kind) {
        case '"':
            if (s[j] == '"')
                return j + 1;
            break;
        case LQUOTE:
            if (is_seq(s, len, j, RQUOTE))
                return j + 3;
            break;
        case LSINGLE:
        case '\'': {
            size_t n = 0;
            if (s[j] == '\'')
                n = 1;
            else if (is_seq(s, len, j, RSINGLE))
                n = 3;
            if (!n)
                break;
            int before = j > 0 && is_word_byte(s[j - 1]);
            int after = j + n < len && is_word_byte(s[j + n]);
            if (before && after)
                break; /* an apostrophe: don't, it’s */
            if (kind == '\'' && (!before && !(j > 0 && ispunct(s[j - 1]))))
                break; /* a closing ' follows the quoted word */
            return j + n;
        }
        }
    }
    *none_before = len;
    return 0;
}

kl_status kl_doc_blank_quotes(kl_doc *doc)
{
    const unsigned char *s = (const unsigned char *)doc->text;
    size_t len = doc->len;
    /* what a quotation can open with: " ' and the lead byte of “ and ‘ */
    static const unsigned char opens[] = {'"', '\'', 0xE2};
    /* find_close's memory of each kind ('"', '\'', LQUOTE, LSINGLE) */
    size_t none_before[4] = {0, 0, 0, 0};
    for (size_t i = doc->start; i < len; i++) {
        i = kl_skip_none_of(s, i, len, opens, sizeof opens);
        if (i >= len)
            break;
        unsigned char c = s[i];
        int kind = 0;
        size_t open_len = 1;
        if (c == '"') {
            kind = '"';
        } else if (c == '\'') {
            /* an opening ' starts a word after a space or bracket */
            int after_gap = i == doc->start || s[i - 1] == ' ' || s[i - 1] == '\t' ||
                            s[i - 1] == '\n' || s[i - 1] == '(' || s[i - 1] == '[';
            if (after_gap && i + 1 < len && is_word_byte(s[i + 1]))
                kind = '\'';
        } else if (c == 0xE2 && is_seq(s, len, i, LQUOTE)) {
            kind = LQUOTE;
            open_len = 3;
        } else if (c == 0xE2 && is_seq(s, len, i, LSINGLE)) {
            kind = LSINGLE;
            open_len = 3;
        }
        if (!kind)
            continue;
        size_t end = find_close(s, len, i, kind,
                                &none_before[kind == '"'      ? 0
                                             : kind == '\''   ? 1
                                             : kind == LQUOTE ? 2
                                                              : 3]);
        if (!end)
            continue;
        size_t close_len = (kind == '"' || kind == '\'' || s[end - 1] == '\'') ? 1 : 3;
        if (!reads_as_speech(s, i + open_len, end - close_len, kind == '\'' || kind == LSINGLE)) {
            i = end - 1;
            continue;
        }
        char *m = kl_doc_mutable(doc);
        if (!m)
            return KL_ERR_NOMEM;
        s = (const unsigned char *)m;
        kl_blank_bytes(m, i, end);
        /* a blank before a mark can make it close (only the mark at end,
         * which no later search starts before): the memory goes anyway,
         * so that it never outlives a change to the text */
        memset(none_before, 0, sizeof none_before);
        i = end - 1;
    }
    return KL_OK;
}

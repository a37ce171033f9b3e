/*
 * position.c -- byte offsets to lines and columns.
 *
 * Findings are byte spans from the first stage to the last; this is the
 * one place that turns an offset into a 1-based line and column. Columns
 * count code points (and, separately, UTF-16 code units for LSP and SARIF).
 * A line ends at \n, \r\n or a lone \r; the \r of \r\n belongs to the line
 * ending. An invalid byte counts as one column, as U+FFFD would. A UTF-8
 * byte order mark at the very start is no column: editors do not show it.
 *
 * The cursor only moves forward, so reporting N findings in order costs one
 * pass over the input, not N.
 */
#include <string.h>

#include "kl_internal.h"

void kl_cursor_init(kl_cursor *c)
{
    c->pos = 0;
    c->line = 1;
    c->col = 1;
    c->col16 = 1;
    c->at_start = 1;
}

void kl_cursor_advance(kl_cursor *c, const char *input, size_t len, size_t target)
{
    const unsigned char *s = (const unsigned char *)input;
    if (target > len)
        target = len;
    size_t pos = c->pos;
    if (c->at_start && target > 0) {
        c->at_start = 0;
        if (pos == 0 && len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
            pos = 3;
    }
    /* whole lines at a time: without a \r in the way, the line is the
     * number of \n passed and the column counts from after the last one */
    if (pos < target && !memchr(s + pos, '\r', target - pos)) {
        const unsigned char *p = s + pos, *end = s + target, *q, *last = NULL;
        while ((q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            c->line++;
            last = q;
            p = q + 1;
        }
        if (last) {
            pos = (size_t)(last + 1 - s);
            c->col = c->col16 = 1;
        }
    }
    while (pos < target) {
        unsigned char ch = s[pos];
        if (ch == '\n') {
            c->line++;
            c->col = c->col16 = 1;
            pos++;
        } else if (ch == '\r') {
            if (pos + 1 < len && s[pos + 1] == '\n') {
                pos++; /* the \n that follows ends the line */
            } else {
                c->line++;
                c->col = c->col16 = 1;
                pos++;
            }
        } else if (ch < 0x80) {
            c->col++;
            c->col16++;
            pos++;
        } else {
            uint32_t cp;
            size_t n = kl_utf8_decode(s + pos, len - pos, &cp);
            if (n == 0)
                n = 1;
            c->col++;
            c->col16 += (n == 4) ? 2 : 1;
            pos += n;
        }
    }
    c->pos = pos;
}

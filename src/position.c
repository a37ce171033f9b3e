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

/* The number of \n in s[from, to), sixteen bytes at a time where the
 * compiler has vector extensions; *cr is set when a \r is among them. */
static size_t count_newlines(const unsigned char *s, size_t from, size_t to, int *cr)
{
    size_t i = from, n = 0;
#if defined(__GNUC__)
    const kl_v16 lf = (kl_v16){0} + '\n', ret = (kl_v16){0} + '\r';
    kl_v16 anycr = {0};
    while (i + 16 <= to) {
        /* per byte lane, the \n seen in up to 255 blocks */
        kl_v16 acc = {0};
        for (int k = 0; k < 255 && i + 16 <= to; k++, i += 16) {
            kl_v16 b;
            memcpy(&b, s + i, 16);
            acc -= (kl_v16)(b == lf); /* a match is 0xFF: -1 */
            anycr |= (kl_v16)(b == ret);
        }
        for (int k = 0; k < 16; k++)
            n += acc[k];
    }
    *cr = kl_v16_any(anycr);
#else
    *cr = 0;
#endif
    for (; i < to; i++) {
        n += s[i] == '\n';
        *cr |= s[i] == '\r';
    }
    return n;
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
    int cr = 0;
    size_t nl = pos < target ? count_newlines(s, pos, target, &cr) : 0;
    if (nl && !cr) {
        size_t last = target - 1;
        while (s[last] != '\n')
            last--;
        c->line += (unsigned)nl;
        pos = last + 1;
        c->col = c->col16 = 1;
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

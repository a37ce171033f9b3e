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

/* Is s[i] a line end: \n, or a \r that no \n follows (the \n of \r\n
 * ends that line)? */
static int is_line_end(const unsigned char *s, size_t len, size_t i)
{
    return s[i] == '\n' || (s[i] == '\r' && !(i + 1 < len && s[i + 1] == '\n'));
}

/* The number of line ends in s[from, to) of an input of len bytes,
 * sixteen bytes at a time where the compiler has vector extensions; *last
 * is the index of the last one (when there is one). */
static size_t count_line_ends(const unsigned char *s, size_t len, size_t from, size_t to,
                              size_t *last)
{
    size_t i = from, n = 0, block = SIZE_MAX;
#if defined(__GNUC__)
    const kl_v16 lf = (kl_v16){0} + '\n', cr = (kl_v16){0} + '\r';
    /* a block reads the byte after it too: the \n of a \r\n */
    while (i + 16 <= to && i + 17 <= len) {
        /* per byte lane, the line ends seen in up to 255 blocks */
        kl_v16 acc = {0};
        for (int k = 0; k < 255 && i + 16 <= to && i + 17 <= len; k++, i += 16) {
            kl_v16 b, next;
            memcpy(&b, s + i, 16);
            memcpy(&next, s + i + 1, 16);
            kl_v16 end = (kl_v16)(b == lf) | ((kl_v16)(b == cr) & ~(kl_v16)(next == lf));
            if (kl_v16_any(end))
                block = i;
            acc -= end; /* a line end is 0xFF: -1 */
        }
        for (int k = 0; k < 16; k++)
            n += acc[k];
    }
#endif
    for (; i < to; i++) {
        if (is_line_end(s, len, i)) {
            n++;
            block = i;
        }
    }
    if (n) {
        /* the last line end is in the block, or it is the byte itself */
        size_t j = block + 16 <= to ? block + 16 : to;
        while (!is_line_end(s, len, --j))
            ;
        *last = j;
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
    /* whole lines at a time: the line is the number of line ends passed
     * and the column counts from after the last one */
    size_t last = 0, nl = pos < target ? count_line_ends(s, len, pos, target, &last) : 0;
    if (nl) {
        c->line += (unsigned)nl;
        pos = last + 1;
        c->col = c->col16 = 1;
    }
    /* the columns of the last line: no line end is left before target, so
     * a \r here is one that a \n follows (which ends the line) */
    while (pos < target) {
        unsigned char ch = s[pos];
        if (ch == '\r') {
            pos++;
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

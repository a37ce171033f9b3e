/*
 * fix.c -- applying suggestions to text.
 *
 * Edits are byte spans with replacement text, sorted and non-overlapping;
 * every byte outside them is copied unchanged, so line endings, the final
 * newline and even invalid bytes survive a fix.
 */
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

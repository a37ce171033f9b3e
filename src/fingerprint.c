/*
 * fingerprint.c -- a finding's identity that survives edits elsewhere.
 *
 * FNV-1a (64 bit) over the rule id, the matched text and the text of its
 * sentence, each with runs of white space folded to one space, so that
 * re-wrapping a paragraph or adding lines above leaves it unchanged. Used
 * by baselines and by SARIF's partialFingerprints.
 */
#include <stdio.h>
#include <string.h>

#include "kl_internal.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t hash_folded(uint64_t h, const char *s, size_t len)
{
    int space = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = 1;
            continue;
        }
        if (space) {
            h = (h ^ ' ') * FNV_PRIME;
            space = 0;
        }
        h = (h ^ c) * FNV_PRIME;
    }
    return (h ^ 0xFF) * FNV_PRIME; /* a separator no UTF-8 text holds */
}

void kl_finding_fingerprint(const kl_finding *f, char out[KL_FINGERPRINT_LEN + 1])
{
    uint64_t h = FNV_OFFSET;
    const char *id = f->rule->id;
    h = hash_folded(h, id, strlen(id));
    h = hash_folded(h, kl_finding_text(f), f->length);
    if (f->sentence.length && f->sentence.offset >= f->base_offset &&
        f->sentence.offset + f->sentence.length <= f->base_offset + f->base_length)
        h = hash_folded(h, f->base + (f->sentence.offset - f->base_offset), f->sentence.length);
    snprintf(out, KL_FINGERPRINT_LEN + 1, "%016llx", (unsigned long long)h);
}

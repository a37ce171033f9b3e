/*
 * buf.c -- a growable byte buffer for building output strings.
 *
 * After the first failed allocation the buffer stays failed and further
 * appends do nothing, so callers check once at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kl_internal.h"

void kl_buf_init(kl_buf *b)
{
    memset(b, 0, sizeof *b);
}

void kl_buf_free(kl_buf *b)
{
    free(b->data);
    kl_buf_init(b);
}

int kl_buf_reserve(kl_buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (extra > SIZE_MAX - b->len - 1) {
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int kl_buf_append(kl_buf *b, const char *s, size_t n)
{
    if (kl_buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int kl_buf_puts(kl_buf *b, const char *s)
{
    return kl_buf_append(b, s, strlen(s));
}

int kl_buf_putc(kl_buf *b, char c)
{
    return kl_buf_append(b, &c, 1);
}

int kl_buf_printf(kl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || kl_buf_reserve(b, (size_t)n) != 0) {
        va_end(ap2);
        b->failed = 1;
        return -1;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
    return 0;
}

char *kl_buf_detach(kl_buf *b, size_t *len)
{
    if (b->failed) {
        kl_buf_free(b);
        return NULL;
    }
    /* zeroed room after the text, for the matcher (KL_SUBJECT_PAD) */
    if (kl_buf_reserve(b, KL_SUBJECT_PAD) != 0) {
        kl_buf_free(b);
        return NULL;
    }
    memset(b->data + b->len, 0, KL_SUBJECT_PAD + 1);
    char *p = b->data;
    if (len)
        *len = b->len;
    kl_buf_init(b);
    return p;
}

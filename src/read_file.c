/*
 * read_file.c -- whole files and standard input into memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kl_internal.h"

kl_status kl_read_file(const char *path, size_t limit, char **out, size_t *out_len, kl_diag *diag)
{
    int is_stdin = strcmp(path, "-") == 0;
    const char *shown = is_stdin ? "<stdin>" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    *out = NULL;
    *out_len = 0;
    if (!f) {
        kl_diag_set(diag, KL_ERR_IO, shown, 0, 0, NULL, "cannot open: %s", strerror(errno));
        return KL_ERR_IO;
    }
    kl_buf b;
    kl_buf_init(&b);
    char chunk[65536];
    size_t n;
    kl_status st = KL_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (limit && b.len + n > limit) {
            kl_diag_set(diag, KL_ERR_LIMIT, shown, 0, 0, NULL, "larger than the limit of %zu bytes",
                        limit);
            st = KL_ERR_LIMIT;
            break;
        }
        if (kl_buf_append(&b, chunk, n) != 0) {
            kl_diag_set(diag, KL_ERR_NOMEM, shown, 0, 0, NULL, "out of memory");
            st = KL_ERR_NOMEM;
            break;
        }
    }
    if (st == KL_OK && ferror(f)) {
        kl_diag_set(diag, KL_ERR_IO, shown, 0, 0, NULL, "cannot read: %s", strerror(errno));
        st = KL_ERR_IO;
    }
    if (!is_stdin)
        fclose(f);
    if (st != KL_OK) {
        kl_buf_free(&b);
        return st;
    }
    /* zeroed room after the text for the matcher (KL_SUBJECT_PAD) */
    if (kl_buf_reserve(&b, KL_SUBJECT_PAD) != 0) {
        kl_buf_free(&b);
        kl_diag_set(diag, KL_ERR_NOMEM, shown, 0, 0, NULL, "out of memory");
        return KL_ERR_NOMEM;
    }
    memset(b.data + b.len, 0, KL_SUBJECT_PAD);
    *out = kl_buf_detach(&b, out_len);
    if (!*out) {
        kl_diag_set(diag, KL_ERR_NOMEM, shown, 0, 0, NULL, "out of memory");
        return KL_ERR_NOMEM;
    }
    return KL_OK;
}

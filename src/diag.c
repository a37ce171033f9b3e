/*
 * diag.c -- filling kl_diag values and naming status codes.
 *
 * Errors travel up as values (jq's way): a status code plus a kl_diag that
 * carries the message and the place. The CLI and the language server decide
 * how to print them.
 */
#include <stdio.h>
#include <string.h>

#include "kl_internal.h"

static void copy_field(char *dst, size_t cap, const char *src)
{
    if (!src) {
        dst[0] = '\0';
        return;
    }
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void kl_diag_clear(kl_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
}

void kl_diag_set(kl_diag *diag, kl_status code, const char *file, unsigned line, unsigned column,
                 const char *rule_id, const char *fmt, ...)
{
    if (!diag)
        return;
    diag->code = code;
    copy_field(diag->file, sizeof diag->file, file);
    diag->line = line;
    diag->column = column;
    copy_field(diag->rule_id, sizeof diag->rule_id, rule_id);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(diag->message, sizeof diag->message, fmt, ap);
    va_end(ap);
}

const char *kl_status_name(kl_status status)
{
    switch (status) {
    case KL_OK: return "ok";
    case KL_ERR_NOMEM: return "out of memory";
    case KL_ERR_IO: return "input/output error";
    case KL_ERR_RULES: return "invalid rule file";
    case KL_ERR_REGEX: return "invalid regular expression";
    case KL_ERR_CONFIG: return "invalid configuration";
    case KL_ERR_INPUT: return "input cannot be linted";
    case KL_ERR_USAGE: return "invalid argument";
    case KL_ERR_LIMIT: return "limit exceeded";
    }
    return "unknown error";
}

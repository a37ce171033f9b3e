/*
 * report.c -- the reporter object: counts findings and hands each one to
 * its format (report_text.c for text and line, report_json.c for json and
 * jsonl). Every output format goes through here, for the CLI and for any
 * other caller of the library.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"

static const char *const format_names[] = {"text", "line", "json", "jsonl"};

int kl_format_parse(const char *name, kl_format *format)
{
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (name && strcmp(name, format_names[i]) == 0) {
            *format = (kl_format)i;
            return 0;
        }
    return -1;
}

kl_reporter *kl_reporter_new(kl_format format, FILE *out, int color)
{
    kl_reporter *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->format = format;
    r->out = out;
    r->color = color && format == KL_FORMAT_TEXT;
    r->json_first = 1;
    if (format == KL_FORMAT_JSON)
        kl_report_json_begin(r);
    return r;
}

void kl_reporter_free(kl_reporter *r)
{
    if (!r)
        return;
    free(r->path);
    free(r);
}

void kl_reporter_begin_file(kl_reporter *r, const char *path, const char *input, size_t len)
{
    free(r->path);
    r->path = strdup(path ? path : "<stdin>");
    r->input = input;
    r->len = len;
    r->files++;
    r->file_has_findings = 0;
}

void kl_reporter_finding(kl_reporter *r, const kl_finding *f)
{
    r->findings++;
    if (f->severity <= KL_SEVERITY_ERROR)
        r->by_severity[f->severity]++;
    r->by_category[f->rule->category]++;
    if (!r->file_has_findings) {
        r->file_has_findings = 1;
        r->files_with_findings++;
    }
    switch (r->format) {
    case KL_FORMAT_TEXT: kl_report_text_finding(r, f); break;
    case KL_FORMAT_LINE: kl_report_line_finding(r, f); break;
    case KL_FORMAT_JSON:
    case KL_FORMAT_JSONL: kl_report_json_finding(r, f); break;
    }
}

void kl_reporter_end_file(kl_reporter *r)
{
    r->input = NULL;
    r->len = 0;
    fflush(r->out);
}

void kl_reporter_finish(kl_reporter *r)
{
    if (r->format == KL_FORMAT_TEXT)
        kl_report_text_finish(r);
    else if (r->format == KL_FORMAT_JSON)
        kl_report_json_finish(r);
    fflush(r->out);
}

/* ------------------------------------------------------------------------ */
/* Safe text                                                                 */
/* ------------------------------------------------------------------------ */

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

void kl_utf8_sanitize(const char *s, size_t len, kl_buf *b)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = u[i] < 0x80 ? 1 : kl_utf8_decode(u + i, len - i, &cp);
        if (n == 0) {
            kl_buf_append(b, s + run, i - run);
            kl_buf_append(b, replacement, 3);
            i++;
            run = i;
        } else {
            i += n;
        }
    }
    kl_buf_append(b, s + run, len - run);
}

void kl_put_sanitized(FILE *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < len) {
        uint32_t cp = u[i];
        size_t n = u[i] < 0x80 ? 1 : kl_utf8_decode(u + i, len - i, &cp);
        int bad = n == 0 || (cp < 0x20 && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0);
        if (bad) {
            fwrite(s + run, 1, i - run, out);
            fwrite(replacement, 1, 3, out);
            i += n ? n : 1;
            run = i;
        } else {
            i += n;
        }
    }
    fwrite(s + run, 1, len - run, out);
}

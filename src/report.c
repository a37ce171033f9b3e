/*
 * report.c -- the reporter object: counts findings and hands each one to
 * its format (report_text.c for text and line, report_json.c for json and
 * jsonl). Every output format goes through here, for the CLI and for any
 * other caller of the library.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"

static const char *const format_names[] = {"text", "line", "json", "jsonl", "sarif", "github"};

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
    else if (format == KL_FORMAT_SARIF && kl_report_sarif_begin(r) != 0) {
        kl_reporter_free(r);
        return NULL;
    }
    return r;
}

void kl_reporter_free(kl_reporter *r)
{
    if (!r)
        return;
    if (r->format == KL_FORMAT_SARIF)
        kl_report_sarif_free(r);
    for (size_t i = 0; i < r->nspeakers; i++)
        free(r->speakers[i].name);
    free(r->speakers);
    free(r->speaker_slot);
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
    if (r->format == KL_FORMAT_SARIF)
        kl_report_sarif_file(r);
}

/* The slot of name in the table: its speaker's, or the empty one it
 * would take. */
static size_t *speaker_slot(kl_reporter *r, const char *name, size_t len)
{
    size_t mask = r->nslots - 1, h = kl_hash_bytes(name, len) & mask;
    for (;; h = (h + 1) & mask) {
        size_t k = r->speaker_slot[h];
        if (!k ||
            (r->speakers[k - 1].name_len == len && memcmp(r->speakers[k - 1].name, name, len) == 0))
            return &r->speaker_slot[h];
    }
}

/* Room for one more speaker: the array doubles, and the table with it
 * (rebuilt), so that a chat of many speakers costs each finding one
 * lookup. */
static int speaker_room(kl_reporter *r)
{
    if (r->nspeakers == r->speakers_cap) {
        size_t cap = r->speakers_cap ? 2 * r->speakers_cap : 16;
        struct kl_speaker_count *p = realloc(r->speakers, cap * sizeof *p);
        if (!p)
            return -1;
        r->speakers = p;
        r->speakers_cap = cap;
    }
    if (2 * (r->nspeakers + 1) > r->nslots) {
        size_t n = r->nslots ? 2 * r->nslots : 32;
        size_t *t = calloc(n, sizeof *t);
        if (!t)
            return -1;
        free(r->speaker_slot);
        r->speaker_slot = t;
        r->nslots = n;
        for (size_t i = 0; i < r->nspeakers; i++)
            *speaker_slot(r, r->speakers[i].name, r->speakers[i].name_len) = i + 1;
    }
    return 0;
}

static void count_speaker(kl_reporter *r, const kl_finding *f)
{
    /* by the name as shown: names that differ only in invalid bytes are
     * one speaker */
    kl_buf b;
    kl_buf_init(&b);
    kl_utf8_sanitize(f->base + (f->speaker.offset - f->base_offset), f->speaker.length, &b);
    if (b.failed || !b.data || speaker_room(r) != 0) {
        kl_buf_free(&b);
        return;
    }
    size_t *slot = speaker_slot(r, b.data, b.len);
    if (!*slot) {
        struct kl_speaker_count *p = &r->speakers[r->nspeakers];
        memset(p, 0, sizeof *p);
        p->name_len = b.len;
        if (!(p->name = kl_buf_detach(&b, NULL)))
            return;
        *slot = ++r->nspeakers;
    }
    kl_buf_free(&b);
    r->speakers[*slot - 1].findings++;
    r->speakers[*slot - 1].by_category[f->rule->category]++;
}

void kl_reporter_finding(kl_reporter *r, const kl_finding *f)
{
    if (f->speaker.length)
        count_speaker(r, f);
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
    case KL_FORMAT_SARIF: kl_report_sarif_finding(r, f); break;
    case KL_FORMAT_GITHUB: kl_report_github_finding(r, f); break;
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
    else if (r->format == KL_FORMAT_SARIF)
        kl_report_sarif_finish(r);
    else if (r->format == KL_FORMAT_GITHUB)
        kl_report_github_finish(r);
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

char *kl_utf8_clean(const char *s, size_t len)
{
    kl_buf b;
    kl_buf_init(&b);
    kl_utf8_sanitize(s, len, &b);
    kl_buf_append(&b, "", 1);
    if (b.failed) {
        kl_buf_free(&b);
        return NULL;
    }
    return b.data;
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

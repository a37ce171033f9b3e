/*
 * report_text.c -- the human format (text) and the quickfix format (line).
 *
 * text: a gcc-style header line, the source line with the span underlined,
 * and the best suggestion. Long lines are shown as a window around the
 * span, so a 10 MB line without newlines prints a readable excerpt. Every
 * byte of user text goes through kl_put_sanitized.
 *
 * line: PATH:LINE:COL: SEVERITY: MESSAGE [ID], one per finding, the form
 * vim's default errorformat and emacs' compilation-mode read.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define C_BOLD "\033[1m"
#define C_RED "\033[1;31m"
#define C_MAGENTA "\033[1;35m"
#define C_CYAN "\033[1;36m"
#define C_GREEN "\033[1;32m"
#define C_DIM "\033[2m"
#define C_RESET "\033[0m"

/* Bytes of context shown on each side of a span on a long line. */
#define CONTEXT_BYTES 80

static const char *severity_color(kl_severity s)
{
    switch (s) {
    case KL_SEVERITY_ERROR: return C_RED;
    case KL_SEVERITY_WARNING: return C_MAGENTA;
    default: return C_CYAN;
    }
}

static void put_path(kl_reporter *r)
{
    kl_put_sanitized(r->out, r->path, strlen(r->path));
}

void kl_report_line_finding(kl_reporter *r, const kl_finding *f)
{
    put_path(r);
    fprintf(r->out, ":%u:%u: %s: ", f->line, f->column, kl_severity_name(f->severity));
    const char *msg = kl_rule_message(f->rule);
    kl_put_sanitized(r->out, msg, strlen(msg));
    fprintf(r->out, " [%s]\n", kl_rule_id(f->rule));
}

static int is_eol(char c)
{
    return c == '\n' || c == '\r';
}

/* Moves p back to the start of the UTF-8 character that holds it. */
static size_t char_start(const char *s, size_t lo, size_t p)
{
    while (p > lo && ((unsigned char)s[p] & 0xC0) == 0x80)
        p--;
    return p;
}

/* Prints s[from..to) for display; returns its width in columns. Tabs show
 * as one space, controls and invalid bytes as U+FFFD. */
static unsigned show(FILE *out, const char *s, size_t from, size_t to, int print)
{
    unsigned width = 0;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = from;
    while (i < to) {
        uint32_t cp = u[i];
        size_t n = u[i] < 0x80 ? 1 : kl_utf8_decode(u + i, to - i, &cp);
        if (n == 0 || (cp < 0x20 && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
            if (print)
                fputs("\xEF\xBF\xBD", out);
            width++;
            i += n ? n : 1;
            continue;
        }
        if (cp == '\t') {
            if (print)
                fputc(' ', out);
            width++;
        } else {
            if (print)
                fwrite(s + i, 1, n, out);
            width += (unsigned)kl_codepoint_width(cp);
        }
        i += n;
    }
    return width;
}

void kl_report_text_finding(kl_reporter *r, const kl_finding *f)
{
    FILE *out = r->out;
    const char *msg = kl_rule_message(f->rule);
    if (r->color)
        fputs(C_BOLD, out);
    put_path(r);
    fprintf(out, ":%u:%u:", f->line, f->column);
    if (r->color)
        fprintf(out, C_RESET " %s%s:" C_RESET " " C_BOLD, severity_color(f->severity),
                kl_severity_name(f->severity));
    else
        fprintf(out, " %s: ", kl_severity_name(f->severity));
    kl_put_sanitized(out, msg, strlen(msg));
    if (r->color)
        fprintf(out, C_RESET " " C_DIM "[%s]" C_RESET "\n", kl_rule_id(f->rule));
    else
        fprintf(out, " [%s]\n", kl_rule_id(f->rule));

    /* the source line, or a window of it */
    const char *b = f->base;
    size_t lo = 0, hi = f->base_length;
    size_t off = f->offset - f->base_offset;
    size_t send = off + f->length;
    /* to the line's edges, but no further than the context shown: a
     * line of a million findings is not read a million times */
    size_t ls = off, ls_min = off - lo > CONTEXT_BYTES + 21 ? off - (CONTEXT_BYTES + 21) : lo;
    while (ls > ls_min && !is_eol(b[ls - 1]))
        ls--;
    size_t le = off,
           le_max = send < hi && hi - send > CONTEXT_BYTES + 21 ? send + CONTEXT_BYTES + 21 : hi;
    while (le < le_max && !is_eol(b[le]))
        le++;
    if (send > le)
        send = le;
    int cut_left = 0, cut_right = 0;
    if (off - ls > CONTEXT_BYTES + 20) {
        ls = char_start(b, ls, off - CONTEXT_BYTES);
        cut_left = 1;
    }
    if (le - send > CONTEXT_BYTES + 20) {
        le = char_start(b, send, send + CONTEXT_BYTES);
        cut_right = 1;
    }
    char gutter[32];
    int gw = snprintf(gutter, sizeof gutter, "  %u", f->line);
    fprintf(out, "%s | ", gutter);
    unsigned lead = cut_left ? 1 : 0;
    if (cut_left)
        fputs("\xE2\x80\xA6", out);
    show(out, b, ls, le, 1);
    if (cut_right)
        fputs("\xE2\x80\xA6", out);
    fputc('\n', out);

    unsigned before = lead + show(out, b, ls, off, 0);
    unsigned width = show(out, b, off, send, 0);
    fprintf(out, "%*s | %*s", gw, "", (int)before, "");
    if (r->color)
        fputs(C_GREEN, out);
    fputc('^', out);
    for (unsigned i = 1; i < width; i++)
        fputc('~', out);
    if (r->color)
        fputs(C_RESET, out);
    fputc('\n', out);

    if (kl_rule_suggestion_count(f->rule) > 0) {
        char *s = NULL;
        size_t slen = 0;
        if (kl_finding_suggestion(f, 0, &s, &slen, NULL) == KL_OK) {
            fprintf(out, "%*s = %stry:%s ", gw, "", r->color ? C_GREEN : "",
                    r->color ? C_RESET : "");
            kl_put_sanitized(out, s, slen);
            fputc('\n', out);
        }
        free(s);
    }
}

void kl_report_text_finish(kl_reporter *r)
{
    if (r->findings == 0)
        return;
    FILE *out = r->out;
    fprintf(out, "%zu finding%s (", r->findings, r->findings == 1 ? "" : "s");
    const char *sep = "";
    for (int s = KL_SEVERITY_ERROR; s >= KL_SEVERITY_INFO; s--) {
        size_t n = r->by_severity[s];
        if (!n)
            continue;
        const char *name = kl_severity_name((kl_severity)s);
        fprintf(out, "%s%zu %s%s", sep, n, name, n == 1 || s == KL_SEVERITY_INFO ? "" : "s");
        sep = ", ";
    }
    fprintf(out, ") in %zu of %zu file%s\n", r->files_with_findings, r->files,
            r->files == 1 ? "" : "s");
    for (size_t i = 0; i < r->nspeakers; i++) {
        fprintf(out, "  %s: %zu (", r->speakers[i].name, r->speakers[i].findings);
        sep = "";
        for (int c = KL_CATEGORY_UNSET + 1; c < KL_CATEGORY_COUNT; c++) {
            if (!r->speakers[i].by_category[c])
                continue;
            fprintf(out, "%s%s %zu", sep, kl_category_name((kl_category)c),
                    r->speakers[i].by_category[c]);
            sep = ", ";
        }
        fputs(")\n", out);
    }
}

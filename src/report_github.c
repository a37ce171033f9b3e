/*
 * report_github.c -- GitHub Actions workflow commands: each finding an
 * annotation on the pull request's diff and in the run's summary.
 *
 *   ::warning file=F,line=L,col=C,endLine=EL,endColumn=EC,title=T::MESSAGE
 *
 * info findings are notices. Values are escaped as the runner expects
 * (actions/toolkit, command.ts): in the message % CR LF become %25 %0D
 * %0A, and in properties also : and , become %3A and %2C, so no text in a
 * file or a rule pack can end the command early or forge another one;
 * invalid UTF-8 becomes U+FFFD. Nothing is printed at the end: the exit
 * status fails the step, and the annotations say what and where.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"

static void put_escaped(kl_reporter *r, const char *s, size_t len, int property)
{
    kl_buf b;
    kl_buf_init(&b);
    kl_utf8_sanitize(s, len, &b);
    for (size_t i = 0; i < b.len; i++) {
        char c = b.data[i];
        if (c == '%')
            fputs("%25", r->out);
        else if (c == '\r')
            fputs("%0D", r->out);
        else if (c == '\n')
            fputs("%0A", r->out);
        else if (property && c == ':')
            fputs("%3A", r->out);
        else if (property && c == ',')
            fputs("%2C", r->out);
        else
            fputc(c, r->out);
    }
    kl_buf_free(&b);
}

void kl_report_github_finding(kl_reporter *r, const kl_finding *f)
{
    const char *level = f->severity == KL_SEVERITY_ERROR     ? "error"
                        : f->severity == KL_SEVERITY_WARNING ? "warning"
                                                             : "notice";
    fprintf(r->out, "::%s file=", level);
    const char *path = strncmp(r->path, "./", 2) == 0 ? r->path + 2 : r->path;
    put_escaped(r, path, strlen(path), 1);
    fprintf(r->out, ",line=%u,col=%u,endLine=%u,endColumn=%u,title=", f->line, f->column,
            f->end_line, f->end_column);
    char title[128];
    snprintf(title, sizeof title, "kindlint %s", kl_rule_id(f->rule));
    put_escaped(r, title, strlen(title), 1);
    fputs("::", r->out);
    kl_buf m;
    kl_buf_init(&m);
    kl_buf_puts(&m, kl_rule_message(f->rule));
    char *sug = NULL;
    size_t slen = 0;
    if (kl_rule_suggestion_count(f->rule) > 0 &&
        kl_finding_suggestion(f, 0, &sug, &slen, NULL) == KL_OK) {
        kl_buf_puts(&m, " Try: ");
        kl_buf_append(&m, sug, slen);
    }
    free(sug);
    put_escaped(r, m.data ? m.data : "", m.len, 0);
    kl_buf_free(&m);
    fputc('\n', r->out);
}

void kl_report_github_finish(kl_reporter *r)
{
    (void)r;
}

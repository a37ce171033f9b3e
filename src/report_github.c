/*
 * report_github.c -- GitHub Actions workflow commands: each finding an
 * annotation on the pull request's diff and in the run's summary.
 *
 *   ::warning file=F,line=L,col=C,endLine=EL,endColumn=EC,title=T::MESSAGE
 *
 * error and warning findings keep their level; info findings are notices.
 * T is "kindlint RULE-ID"; MESSAGE is the rule's message and, when the rule
 * has one, " Try: " and the first rewrite. Columns count code points and
 * endColumn is exclusive, as in every kindlint format. A finding over more
 * than one line has no col/endColumn: the runner drops them when line and
 * endLine differ. Standard input ("<stdin>") has no file=, as no file in
 * the repository is meant; --stdin-filename names one.
 *
 * Escaping is the runner's (actions/runner ActionCommand.cs, and
 * actions/toolkit command.ts): in the message % CR LF become %25 %0D %0A;
 * in property values also : and , become %3A and %2C, so no text from a
 * file or a rule pack can end a property, the command or the line early,
 * or forge another command. Invalid UTF-8 and the other control characters
 * (C0 but tab, DEL, C1) become U+FFFD, as in the text format, since the
 * command has no escape for them and the line may reach a terminal.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define GITHUB_STDIN_PATH "<stdin>"

/* Writes s[0, len) escaped as a command's data (property == 0) or as a
 * property value (property != 0). */
static void put_escaped(FILE *out, const char *s, size_t len, int property)
{
    kl_buf b;
    kl_buf_init(&b);
    kl_utf8_sanitize(s, len, &b);
    const unsigned char *u = (const unsigned char *)(b.data ? b.data : "");
    for (size_t i = 0; i < b.len; i++) {
        unsigned char c = u[i];
        if (c == '%')
            fputs("%25", out);
        else if (c == '\r')
            fputs("%0D", out);
        else if (c == '\n')
            fputs("%0A", out);
        else if (property && c == ':')
            fputs("%3A", out);
        else if (property && c == ',')
            fputs("%2C", out);
        else if ((c < 0x20 && c != '\t') || c == 0x7F)
            fputs("\xEF\xBF\xBD", out);
        else if (c == 0xC2 && i + 1 < b.len && u[i + 1] >= 0x80 && u[i + 1] < 0xA0) {
            fputs("\xEF\xBF\xBD", out); /* a C1 control, U+0080..U+009F */
            i++;
        } else
            fputc(c, out);
    }
    kl_buf_free(&b);
}

static const char *command_name(kl_severity s)
{
    return s == KL_SEVERITY_ERROR ? "error" : s == KL_SEVERITY_WARNING ? "warning" : "notice";
}

void kl_report_github_finding(kl_reporter *r, const kl_finding *f)
{
    FILE *out = r->out;
    const char *path = r->path ? r->path : GITHUB_STDIN_PATH;
    fprintf(out, "::%s ", command_name(f->severity));
    if (strcmp(path, GITHUB_STDIN_PATH) != 0) {
        while (path[0] == '.' && path[1] == '/')
            for (path += 2; path[0] == '/'; path++)
                ;
        fputs("file=", out);
        put_escaped(out, path, strlen(path), 1);
        fputc(',', out);
    }
    if (f->line == f->end_line)
        fprintf(out, "line=%u,col=%u,endLine=%u,endColumn=%u,", f->line, f->column, f->end_line,
                f->end_column);
    else
        fprintf(out, "line=%u,endLine=%u,", f->line, f->end_line);
    fputs("title=kindlint ", out);
    const char *id = kl_rule_id(f->rule);
    put_escaped(out, id, strlen(id), 1);
    fputs("::", out);

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
    put_escaped(out, m.data ? m.data : "", m.len, 0);
    kl_buf_free(&m);
    fputc('\n', out);
}

/* One notice with the totals, and only when there were findings. GitHub
 * shows at most 10 annotations of each level per step (50 per job) and
 * drops the rest without a word; the summary says how many there really
 * are, so a reader knows to look at the log when the list is cut short.
 * A clean run prints nothing: the step's success already says it, and an
 * annotation that reports nothing is noise on every pull request. */
void kl_report_github_finish(kl_reporter *r)
{
    if (r->findings == 0)
        return;
    size_t e = r->by_severity[KL_SEVERITY_ERROR], w = r->by_severity[KL_SEVERITY_WARNING],
           i = r->by_severity[KL_SEVERITY_INFO];
    fprintf(r->out,
            "::notice title=kindlint::%zu finding%s (%zu error%s, %zu warning%s, %zu info) in "
            "%zu of %zu file%s\n",
            r->findings, r->findings == 1 ? "" : "s", e, e == 1 ? "" : "s", w, w == 1 ? "" : "s",
            i, r->files_with_findings, r->files, r->files == 1 ? "" : "s");
}

/*
 * main.c -- the kindlint program.
 *
 * Loads the rule packs, applies --enable/--disable, then does one of:
 * list the rules, explain one, run the rules' own tests, or lint the given
 * paths (standard input when none) and report through a library reporter.
 * Exit status: 0 clean, 1 findings at or above --fail-on, 2 any error.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

void cli_print_diag(const kl_diag *d, const char *level)
{
    if (d->file[0] && d->line)
        fprintf(stderr, "%s:%u:%u: %s: %s\n", d->file, d->line, d->column ? d->column : 1, level,
                d->message);
    else if (d->file[0])
        fprintf(stderr, "%s: %s: %s\n", d->file, level, d->message);
    else
        fprintf(stderr, "kindlint: %s: %s\n", level, d->message);
}

/* ------------------------------------------------------------------------ */
/* Rules                                                                     */
/* ------------------------------------------------------------------------ */

static int list_rules(const kl_rules *rules, const kl_policy *pol, int verbose)
{
    size_t wid = 2, wcat = 8, wpack = 4;
    for (size_t i = 0; i < kl_rules_count(rules); i++) {
        const kl_rule *r = kl_rules_at(rules, i);
        if (strlen(kl_rule_id(r)) > wid)
            wid = strlen(kl_rule_id(r));
        if (strlen(kl_category_name(kl_rule_category(r))) > wcat)
            wcat = strlen(kl_category_name(kl_rule_category(r)));
        if (strlen(kl_rule_pack(r)) > wpack)
            wpack = strlen(kl_rule_pack(r));
    }
    printf("%-*s  %-*s  %-8s  %-*s  %s\n", (int)wid, "ID", (int)wcat, "CATEGORY", "SEVERITY",
           (int)wpack, "PACK", "MESSAGE");
    for (size_t i = 0; i < kl_rules_count(rules); i++) {
        const kl_rule *r = kl_rules_at(rules, i);
        if (!kl_policy_is_enabled(pol, r))
            continue;
        printf("%-*s  %-*s  %-8s  %-*s  %s\n", (int)wid, kl_rule_id(r), (int)wcat,
               kl_category_name(kl_rule_category(r)), kl_severity_name(kl_policy_severity(pol, r)),
               (int)wpack, kl_rule_pack(r), kl_rule_message(r));
        if (verbose) {
            const char *t = kl_rule_triggers(r);
            printf("%-*s  triggers: %s\n", (int)wid, "",
                   t[0] ? t : "none derived: runs on every sentence (slower)");
            printf("%-*s  tests: %zu, suggestions: %zu, source: %s\n", (int)wid, "",
                   kl_rule_test_count(r), kl_rule_suggestion_count(r), kl_rule_source(r));
        }
    }
    return CLI_OK;
}

/* Prints text wrapped at 78 columns with an indent. */
static void print_wrapped(const char *text, int indent)
{
    int col = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == '\n')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ' ' && *e != '\n')
            e++;
        int w = (int)(e - p);
        if (col > 0 && col + 1 + w > 78) {
            putchar('\n');
            col = 0;
        }
        if (col == 0) {
            printf("%*s", indent, "");
            col = indent;
        } else {
            putchar(' ');
            col++;
        }
        fwrite(p, 1, (size_t)w, stdout);
        col += w;
        p = e;
    }
    if (col > 0)
        putchar('\n');
}

static int explain_rule(const kl_rules *rules, const char *id)
{
    const kl_rule *r = kl_rules_find(rules, id);
    if (!r) {
        fprintf(stderr, "kindlint: error: --explain %s: no rule of that id (see --list-rules)\n",
                id);
        return CLI_ERROR;
    }
    printf("%s (%s, %s; pack %s)\n\n", kl_rule_id(r), kl_category_name(kl_rule_category(r)),
           kl_severity_name(kl_rule_severity(r)), kl_rule_pack(r));
    print_wrapped(kl_rule_message(r), 2);
    if (kl_rule_explain(r)[0]) {
        putchar('\n');
        print_wrapped(kl_rule_explain(r), 2);
    }
    const char *text, *fix;
    if (kl_rule_example(r, 0, &text, &fix) == 0) {
        printf("\n  Example:  %s\n", text);
        if (fix)
            printf("  Try:      %s\n", fix);
    }
    for (size_t i = 0; i < kl_rule_suggestion_count(r); i++)
        printf("%s%s\n", i == 0 ? "\n  Rewrites: " : "            ",
               kl_rule_suggestion_template(r, i));
    return CLI_OK;
}

static void print_test_result(const kl_test_result *t, void *ud)
{
    int *quiet = ud;
    (void)quiet;
    if (t->passed)
        return;
    const kl_rule *r = t->rule;
    if (t->line)
        fprintf(stderr, "%s:%u:%u: ", kl_rule_source(r), t->line, t->column);
    else
        fprintf(stderr, "%s: ", kl_rule_source(r));
    fprintf(stderr, "error: rule '%s': %s example: %s\n", kl_rule_id(r),
            t->is_flag ? "flag" : "pass", t->problem);
    fprintf(stderr, "    text:     %s\n", t->text);
    if (t->expected)
        fprintf(stderr, "    expected: %s\n", t->expected);
    if (t->got)
        fprintf(stderr, "    got:      %s\n", t->got);
}

static int test_rules(const kl_rules *rules, int quiet)
{
    size_t failed = 0, untested = 0;
    kl_diag d;
    if (kl_rules_run_tests(rules, print_test_result, &quiet, &failed, &untested, &d) != KL_OK) {
        cli_print_diag(&d, "error");
        return CLI_ERROR;
    }
    size_t examples = 0, tested = 0;
    for (size_t i = 0; i < kl_rules_count(rules); i++) {
        const kl_rule *r = kl_rules_at(rules, i);
        examples += kl_rule_test_count(r);
        if (kl_rule_test_count(r))
            tested++;
        else
            fprintf(stderr, "%s: warning: rule '%s' has no tests\n", kl_rule_source(r),
                    kl_rule_id(r));
    }
    if (!quiet)
        printf("%zu examples in %zu rules: %zu passed, %zu failed; %zu rule%s untested\n", examples,
               tested, examples - failed, failed, untested, untested == 1 ? "" : "s");
    return failed ? CLI_FINDINGS : CLI_OK;
}

/* ------------------------------------------------------------------------ */
/* Linting                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct lint_ctx {
    const cli_opts *o;
    cli_setups *setups;
    kl_reporter *reporter;
    int report; /* findings are printed */
    int errors;
    int failing; /* findings at or above the fail-on level */
    cli_baseline *baseline; /* --baseline: findings to leave out */
    cli_baseline *record;   /* --write-baseline: every finding */
    /* the file being linted */
    const char *shown;
    kl_severity fail_on;
    int fail_never;
    cli_lines changed; /* --diff-base */
    /* -j: held while the shared configuration cache is read (lint_path,
     * when a printing worker streams a large file) */
    pthread_mutex_t *setup_mu;
} lint_ctx;

static int on_finding(const kl_finding *f, void *ud)
{
    lint_ctx *c = ud;
    if (c->o->diff_base && !cli_lines_touch(&c->changed, f->line, f->end_line))
        return 0;
    if (c->baseline || c->record) {
        char fp[KL_FINGERPRINT_LEN + 1];
        kl_finding_fingerprint(f, fp);
        if (c->record && cli_baseline_add(c->record, c->shown, kl_rule_id(f->rule), fp,
                                          kl_finding_text(f), f->length) != 0) {
            fputs("kindlint: error: out of memory\n", stderr);
            c->errors++;
            return 1;
        }
        if (c->baseline && cli_baseline_take(c->baseline, c->shown, kl_rule_id(f->rule), fp))
            return 0;
    }
    if (!c->fail_never && f->severity >= c->fail_on)
        c->failing = 1;
    if (c->report)
        kl_reporter_finding(c->reporter, f);
    return 0;
}

static void on_notice(const kl_diag *d, void *ud)
{
    (void)ud;
    cli_print_diag(d, "warning");
}

static void put(const char *data, size_t len)
{
    if (len)
        fwrite(data, 1, len, stdout);
}

/* --fix, --diff, --write: the library fixes; this says where it goes. */
static void fix_buffer(lint_ctx *c, kl_scanner *scanner, const kl_scan_options *so,
                       const char *path, const struct stat *before, const char *data, size_t len)
{
    const cli_opts *o = c->o;
    kl_fix_request rq = {o->fix_blanks ? KL_FIX_BLANKS : 0u, o->diff ? so->path : NULL};
    kl_fix_result res;
    kl_diag d;
    if (kl_fix(scanner, so, data, len, &rq, &res, &d) != KL_OK) {
        cli_print_diag(&d, "error");
        c->errors++;
        if (o->fix)
            put(data, len); /* a filter never eats the text it was given */
        return;
    }
    if (o->fix) {
        put(res.text, res.len);
    } else if (o->diff) {
        put(res.diff, res.diff_len);
    } else if (res.applied) {
        char err[512];
        if (cli_write_atomic(path, before, res.text, res.len, err, sizeof err) != 0) {
            fprintf(stderr, "%s: error: %s\n", path, err);
            c->errors++;
        } else if (!o->quiet) {
            fprintf(stderr, "kindlint: %s: fixed %zu finding%s\n", path, res.applied,
                    res.applied == 1 ? "" : "s");
        }
    }
    kl_fix_result_free(&res);
}

/* The kind a file is read as: --type, then its configuration, then its
 * name. */
static kl_doc_kind file_kind(const cli_opts *o, const kl_file_settings *fs, const char *name)
{
    return o->kind_set ? o->kind : fs->kind_set ? fs->kind : kl_doc_kind_for_path(name);
}

/* Is a file of this kind read as a stream (when not fixed)? */
static int streams(kl_doc_kind kind)
{
    return kind == KL_DOC_TEXT || kind == KL_DOC_CHAT;
}

/* The scan options for one file, and the fail-on level it is judged by. */
static void file_options(lint_ctx *c, const kl_policy *pol, const kl_file_settings *fs,
                         const char *shown, const char *name, kl_scan_options *so)
{
    const cli_opts *o = c->o;
    memset(so, 0, sizeof *so);
    so->abi_version = KL_ABI_VERSION;
    so->kind = file_kind(o, fs, name);
    so->policy = pol;
    so->lint_quotes = o->lint_quotes || fs->quotes == 1;
    so->speaker = o->speaker;
    so->path = shown;
    so->on_finding = on_finding;
    so->on_notice = on_notice;
    so->userdata = c;
    c->shown = shown;
    c->fail_on = o->fail_on_set || !fs->fail_on_set ? o->fail_on : fs->fail_on;
    c->fail_never = o->fail_on_set || !fs->fail_on_set ? o->fail_never : fs->fail_never;
}

/* Text and chat are read as a stream: memory stays flat on a log of any
 * size, and findings are printed while the input still comes. */
static void stream_path(lint_ctx *c, kl_scanner *scanner, const kl_scan_options *so,
                        const char *path, int is_stdin)
{
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: error: cannot open: %s\n", so->path, strerror(errno));
        c->errors++;
        return;
    }
    kl_stream *st = kl_stream_new(scanner, so);
    kl_diag d;
    int failed = 0;
    if (!st) {
        fputs("kindlint: error: out of memory\n", stderr);
        failed = 1;
    }
    struct stat sb;
    if (st && fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode)) /* stdin may be a file too */
        kl_stream_expect(st, (uint64_t)sb.st_size);
    char chunk[65536];
    size_t n;
    while (!failed && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (c->o->pass_through)
            put(chunk, n);
        if (kl_stream_feed(st, chunk, n, &d) != KL_OK) {
            cli_print_diag(&d, "error");
            failed = 1;
        }
    }
    if (!failed && ferror(f)) {
        fprintf(stderr, "%s: error: cannot read: %s\n", so->path, strerror(errno));
        failed = 1;
    }
    if (!failed && kl_stream_finish(st, &d) != KL_OK) {
        cli_print_diag(&d, "error");
        failed = 1;
    }
    c->errors += failed;
    kl_stream_free(st);
    if (!is_stdin)
        fclose(f);
}

static void lint_path(const char *path, void *ud)
{
    lint_ctx *c = ud;
    const cli_opts *o = c->o;
    int is_stdin = strcmp(path, "-") == 0;
    const char *shown = is_stdin ? (o->stdin_filename ? o->stdin_filename : "<stdin>") : path;
    const char *name = is_stdin ? o->stdin_filename : path;
    if (c->setup_mu)
        pthread_mutex_lock(c->setup_mu);
    cli_setup *u = cli_setup_for(c->setups, name);
    kl_file_settings fs = {.quotes = -1};
    kl_policy *pol = cli_setup_failed(u) ? NULL : cli_policy_for(u, o, name, &fs);
    if (c->setup_mu)
        pthread_mutex_unlock(c->setup_mu);
    if (cli_setup_failed(u)) {
        c->errors++;
        return;
    }
    if (!pol) {
        c->errors++;
        return;
    }
    kl_scan_options so;
    file_options(c, pol, &fs, shown, name, &so);
    kl_scanner *scanner = cli_setup_scanner(u);
    int fixing = o->fix || o->diff || o->write;
    if (o->diff_base && !is_stdin && cli_changed_lines(path, o->diff_base, &c->changed)) {
        fprintf(stderr, "%s: error: git diff against '%s' failed (is it a revision?)\n", path,
                o->diff_base);
        c->errors++;
        kl_policy_free(pol);
        return;
    }
    if (o->diff_base && is_stdin)
        c->changed.all = 1;
    if (!fixing && streams(so.kind)) {
        kl_reporter_begin_file(c->reporter, shown, NULL, 0);
        stream_path(c, scanner, &so, path, is_stdin);
        kl_reporter_end_file(c->reporter);
        cli_lines_free(&c->changed);
        kl_policy_free(pol);
        return;
    }
    char *data;
    size_t len;
    kl_diag d;
    struct stat before, after;
    memset(&before, 0, sizeof before);
    if (o->write && stat(path, &before) != 0)
        memset(&before, 0, sizeof before); /* the reader will say why */
    size_t limit = so.kind == KL_DOC_MARKDOWN ? KL_MAX_MARKDOWN_INPUT : 0;
    kl_status rst = kl_read_file(path, limit, &data, &len, &d);
    if (rst != KL_OK) {
        if (is_stdin && o->stdin_filename)
            snprintf(d.file, sizeof d.file, "%s", o->stdin_filename);
        if (rst == KL_ERR_LIMIT)
            snprintf(d.message, sizeof d.message,
                     "larger than %u MiB, too large to parse as Markdown; lint it with --type "
                     "text",
                     KL_MAX_MARKDOWN_INPUT / (1024u * 1024u));
        cli_print_diag(&d, "error");
        c->errors++;
    } else if (o->write && (stat(path, &after) != 0 || !cli_same_file_state(&before, &after))) {
        fprintf(stderr, "%s: error: changed on disk while it was being read; not written\n",
                path);
        c->errors++;
        free(data);
    } else {
        kl_reporter_begin_file(c->reporter, shown, data, len);
        if (fixing) {
            fix_buffer(c, scanner, &so, path, &before, data, len);
        } else {
            if (o->pass_through)
                put(data, len);
            if (kl_scan(scanner, &so, data, len, &d) != KL_OK) {
                cli_print_diag(&d, "error");
                c->errors++;
            }
        }
        kl_reporter_end_file(c->reporter);
        free(data);
    }
    cli_lines_free(&c->changed);
    kl_policy_free(pol);
}

/* The configuration's ignore globs, for the walker. */
static int skip_path(const char *path, int is_dir, void *ud)
{
    lint_ctx *c = ud;
    cli_setup *u = cli_setup_for(c->setups, path);
    return !cli_setup_failed(u) && cli_setup_ignores(u, path, is_dir);
}

static int use_color(int setting)
{
    if (setting >= 0)
        return setting;
    const char *nc = getenv("NO_COLOR");
    if (nc && nc[0])
        return 0;
    const char *term = getenv("TERM");
    if (term && strcmp(term, "dumb") == 0)
        return 0;
    return isatty(STDOUT_FILENO);
}

/* ------------------------------------------------------------------------ */
/* Many files at once (-j N)                                                 */
/* ------------------------------------------------------------------------ */

/* A walker thread lists the paths; N workers (the main thread is one) lint
 * them with the one compiled rule set (each thread has its own scanners,
 * that is match data and JIT stack), keeping each file's findings and
 * messages. The files are printed in walk order, so the output is the same
 * for any N: the worker that finishes the next file to print prints it,
 * and the files after it that are done, while the others go on linting.
 * No thread waits for a printer, and none is woken per file. Workers run
 * at most a few files ahead of the printing, and hold at most
 * PARALLEL_READ_MAX bytes of a file each, which bounds memory: a larger
 * text or chat file is streamed by the worker that prints it, when its
 * turn comes, as without -j. */
#define PARALLEL_READ_MAX (16u * 1024u * 1024u)
typedef struct job {
    char *path;
    char *data;
    size_t len;
    kl_finding *found;
    size_t nfound, cap;
    char *err; /* what the file's lint said on stderr */
    size_t errlen;
    FILE *errf;
    kl_file_settings fs;
    cli_lines changed;
    int errors;
    int done;
    int streamed; /* large text or chat: lint_path streams it at its turn */
} job;

typedef struct pool {
    lint_ctx *c;
    job **jobs; /* each allocated alone: workers hold pointers while it grows */
    size_t njobs;
    int walked;     /* the walk is over: njobs is final */
    int walk_errors;
    size_t next;    /* the next job to take */
    size_t printed; /* jobs printed so far */
    size_t ahead;   /* how far workers may run ahead of the printing */
    int printing;   /* a worker is printing jobs */
    pthread_mutex_t mu;       /* the fields above */
    pthread_cond_t cv;        /* a job to take, or room to take it */
    pthread_mutex_t setup_mu; /* the configuration cache */
} pool;

static void collect_path(const char *path, void *ud)
{
    pool *p = ud;
    job *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(path))) {
        free(j);
        fputs("kindlint: error: out of memory\n", stderr);
        return;
    }
    pthread_mutex_lock(&p->mu);
    job **q = realloc(p->jobs, (p->njobs + 1) * sizeof *q);
    if (q) {
        p->jobs = q;
        p->jobs[p->njobs++] = j;
        pthread_cond_signal(&p->cv);
    } else {
        free(j->path);
        free(j);
    }
    pthread_mutex_unlock(&p->mu);
}

static int pool_skip(const char *path, int is_dir, void *ud)
{
    pool *p = ud;
    pthread_mutex_lock(&p->setup_mu);
    int skip = skip_path(path, is_dir, p->c);
    pthread_mutex_unlock(&p->setup_mu);
    return skip;
}

static void *walker(void *arg)
{
    pool *p = arg;
    const cli_opts *o = p->c->o;
    int errors = 0;
    for (size_t i = 0; i < o->npaths; i++)
        errors += cli_walk(o->paths[i], o->verbose, collect_path, pool_skip, p);
    pthread_mutex_lock(&p->mu);
    p->walk_errors = errors;
    p->walked = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static int job_finding(const kl_finding *f, void *ud)
{
    job *j = ud;
    if (j->nfound == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 16;
        kl_finding *q = realloc(j->found, cap * sizeof *q);
        if (!q)
            return 1;
        j->found = q;
        j->cap = cap;
    }
    j->found[j->nfound++] = *f; /* its pointers are into j->data, kept */
    return 0;
}

static void job_notice(const kl_diag *d, void *ud)
{
    job *j = ud;
    if (d->file[0] && d->line)
        fprintf(j->errf, "%s:%u:%u: warning: %s\n", d->file, d->line, d->column ? d->column : 1,
                d->message);
    else
        fprintf(j->errf, "%s: warning: %s\n", d->file[0] ? d->file : "kindlint", d->message);
}

typedef struct thread_scanners {
    const kl_rules *rules[8];
    kl_scanner *scanner[8];
    size_t n;
} thread_scanners;

static kl_scanner *scanner_for(thread_scanners *t, const kl_rules *rules)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->rules[i] == rules)
            return t->scanner[i];
    if (t->n == sizeof t->rules / sizeof t->rules[0])
        return NULL;
    kl_scanner *sc = kl_scanner_new(rules);
    if (sc) {
        t->rules[t->n] = rules;
        t->scanner[t->n++] = sc;
    }
    return sc;
}

static void run_job(pool *p, thread_scanners *t, job *j)
{
    const cli_opts *o = p->c->o;
    j->errf = open_memstream(&j->err, &j->errlen);
    if (!j->errf) {
        j->errors++;
        return;
    }
    pthread_mutex_lock(&p->setup_mu);
    cli_setup *u = cli_setup_for(p->c->setups, j->path);
    kl_policy *pol = NULL;
    j->fs.quotes = -1;
    if (!cli_setup_failed(u))
        pol = cli_policy_for(u, o, j->path, &j->fs);
    pthread_mutex_unlock(&p->setup_mu);
    kl_scanner *sc = pol ? scanner_for(t, cli_setup_rules(u)) : NULL;
    kl_doc_kind kind = file_kind(o, &j->fs, j->path);
    struct stat st;
    kl_diag d;
    if (sc && streams(kind) && stat(j->path, &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size > (off_t)PARALLEL_READ_MAX) {
        j->streamed = 1;
    } else if (!sc) {
        j->errors++;
    } else if (o->diff_base && cli_changed_lines(j->path, o->diff_base, &j->changed)) {
        fprintf(j->errf, "%s: error: git diff against '%s' failed (is it a revision?)\n",
                j->path, o->diff_base);
        j->errors++;
    } else if (kl_read_file(j->path, 0, &j->data, &j->len, &d) != KL_OK) {
        fprintf(j->errf, "%s: error: %s\n", j->path, d.message);
        j->errors++;
    } else {
        kl_scan_options so;
        memset(&so, 0, sizeof so);
        so.abi_version = KL_ABI_VERSION;
        so.kind = kind;
        so.policy = pol;
        so.lint_quotes = o->lint_quotes || j->fs.quotes == 1;
        so.speaker = o->speaker;
        so.path = j->path;
        so.on_finding = job_finding;
        so.on_notice = job_notice;
        so.userdata = j;
        if (kl_scan(sc, &so, j->data, j->len, &d) != KL_OK) {
            if (d.file[0] && d.line)
                fprintf(j->errf, "%s:%u:%u: error: %s\n", d.file, d.line, d.column, d.message);
            else
                fprintf(j->errf, "%s: error: %s\n", j->path, d.message);
            j->errors++;
        }
    }
    kl_policy_free(pol);
    fclose(j->errf);
    j->errf = NULL;
}

/* Prints job j as lint_path would have, through the one reporter; a
 * streamed job is linted here by lint_path itself. */
static void print_job(pool *p, job *j)
{
    lint_ctx *c = p->c;
    const cli_opts *o = c->o;
    if (j->errlen)
        fwrite(j->err, 1, j->errlen, stderr);
    c->errors += j->errors;
    if (j->streamed) {
        c->setup_mu = &p->setup_mu;
        lint_path(j->path, c);
        c->setup_mu = NULL;
    } else if (j->data) {
        c->shown = j->path;
        c->fail_on = o->fail_on_set || !j->fs.fail_on_set ? o->fail_on : j->fs.fail_on;
        c->fail_never = o->fail_on_set || !j->fs.fail_on_set ? o->fail_never : j->fs.fail_never;
        c->changed = j->changed;
        kl_reporter_begin_file(c->reporter, j->path, j->data, j->len);
        for (size_t i = 0; i < j->nfound; i++)
            on_finding(&j->found[i], c);
        kl_reporter_end_file(c->reporter);
        memset(&c->changed, 0, sizeof c->changed);
    }
    cli_lines_free(&j->changed);
    free(j->data);
    free(j->found);
    free(j->err);
    free(j->path);
    memset(j, 0, sizeof *j);
}

/* Called with p->mu held, after a job is done: when the next job to print
 * is done and no one is printing, prints it and those after it that are
 * done, and returns with p->mu held again. */
static void print_ready(pool *p)
{
    if (p->printing)
        return;
    p->printing = 1;
    while (p->printed < p->njobs && p->jobs[p->printed]->done) {
        job *j = p->jobs[p->printed];
        pthread_mutex_unlock(&p->mu);
        print_job(p, j);
        free(j);
        pthread_mutex_lock(&p->mu);
        p->jobs[p->printed++] = NULL;
        pthread_cond_broadcast(&p->cv); /* room ahead */
    }
    p->printing = 0;
}

static void *worker(void *arg)
{
    pool *p = arg;
    thread_scanners t;
    memset(&t, 0, sizeof t);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while ((p->next >= p->njobs && !p->walked) || p->next >= p->printed + p->ahead)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->next >= p->njobs)
            break;
        job *j = p->jobs[p->next++];
        pthread_mutex_unlock(&p->mu);
        run_job(p, &t, j);
        pthread_mutex_lock(&p->mu);
        j->done = 1;
        print_ready(p);
    }
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < t.n; i++)
        kl_scanner_free(t.scanner[i]);
    return NULL;
}

static void lint_parallel(lint_ctx *c, int threads)
{
    pool p;
    memset(&p, 0, sizeof p);
    p.c = c;
    p.ahead = (size_t)threads * 8;
    pthread_mutex_init(&p.mu, NULL);
    pthread_mutex_init(&p.setup_mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    pthread_t walk_tid, tids[256];
    int started = 0;
    int walking = pthread_create(&walk_tid, NULL, walker, &p) == 0;
    if (!walking)
        walker(&p); /* no thread: walk first, here */
    /* the main thread is the first worker */
    for (int i = 1; i < threads && i < 256; i++)
        if (pthread_create(&tids[started], NULL, worker, &p) == 0)
            started++;
    worker(&p);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    if (walking)
        pthread_join(walk_tid, NULL);
    /* every job was printed by the worker that finished it or the one
     * before it in walk order */
    c->errors += p.walk_errors;
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.setup_mu);
    pthread_mutex_destroy(&p.mu);
    free(p.jobs);
}

static int lint(const cli_opts *o, cli_setups *setups)
{
    lint_ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.setups = setups;
    if (o->baseline && !(c.baseline = cli_baseline_load(o->baseline)))
        return CLI_ERROR;
    if (o->write_baseline && !(c.record = cli_baseline_new())) {
        cli_baseline_free(c.baseline);
        fputs("kindlint: error: out of memory\n", stderr);
        return CLI_ERROR;
    }
    /* with --fix, --diff and --pass-through, standard output carries text;
     * --fix is a filter whose stderr editors may fold into the buffer, so
     * it reports nothing unless asked with -v */
    int to_stderr = o->fix || o->diff || o->pass_through;
    c.report = !o->quiet && (!o->fix || o->verbose);
    c.reporter = kl_reporter_new(o->format, to_stderr ? stderr : stdout,
                                 use_color(o->color) && !to_stderr);
    if (!c.reporter) {
        fputs("kindlint: error: out of memory\n", stderr);
        cli_baseline_free(c.record);
        cli_baseline_free(c.baseline);
        return CLI_ERROR;
    }
    int parallel = o->jobs > 1 && !(o->fix || o->diff || o->write || o->pass_through);
    for (size_t i = 0; parallel && i < o->npaths; i++)
        if (strcmp(o->paths[i], "-") == 0)
            parallel = 0; /* standard input is read once, in order */
    if (parallel) {
        lint_parallel(&c, o->jobs);
    } else if (o->npaths == 0) {
        lint_path("-", &c);
    } else {
        for (size_t i = 0; i < o->npaths; i++) {
            if (strcmp(o->paths[i], "-") == 0)
                lint_path("-", &c);
            else
                c.errors += cli_walk(o->paths[i], o->verbose, lint_path, skip_path, &c);
        }
    }
    if (c.report)
        kl_reporter_finish(c.reporter);
    kl_reporter_free(c.reporter);
    if (c.record && cli_baseline_write(c.record, o->write_baseline) != 0)
        c.errors++;
    cli_baseline_free(c.record);
    cli_baseline_free(c.baseline);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("kindlint: error: cannot write to standard output\n", stderr);
        return CLI_ERROR;
    }
    return c.errors ? CLI_ERROR : c.failing ? CLI_FINDINGS : CLI_OK;
}

int main(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse(argc, argv, &o);
    if (rc >= 0) {
        cli_opts_free(&o);
        return rc;
    }
    int modes = (o.list_rules != 0) + (o.explain != NULL) + (o.test_rules != 0) + (o.lsp != 0);
    if (modes > 1) {
        fputs("kindlint: error: --list-rules, --explain, --test-rules and --lsp cannot be "
              "combined\n",
              stderr);
        cli_opts_free(&o);
        return CLI_ERROR;
    }
    if (!o.test_rules && modes && o.npaths) {
        fputs("kindlint: error: --list-rules, --explain and --lsp take no PATH\n", stderr);
        cli_opts_free(&o);
        return CLI_ERROR;
    }
    if (o.config_path && o.no_config) {
        fputs("kindlint: error: --config and --no-config cannot be combined\n", stderr);
        cli_opts_free(&o);
        return CLI_ERROR;
    }
    int fixes = o.fix + o.diff + o.write + o.pass_through;
    const char *bad = NULL;
    if (fixes > 1)
        bad = "--fix, --diff, --write and --pass-through cannot be combined";
    else if (fixes && modes)
        bad = "--fix, --diff, --write and --pass-through only go with linting";
    else if (o.fix && (o.npaths > 1 || (o.npaths == 1 && strcmp(o.paths[0], "-") != 0 &&
                                        !o.to_stdout)))
        bad = "--fix writes to standard output: give standard input, or one PATH with "
              "--stdout; use --write to fix files in place or --diff to see the changes";
    else if (o.write && o.npaths == 0)
        bad = "--write needs the files to fix";
    else if (o.to_stdout && !o.fix)
        bad = "--stdout goes with --fix";
    else if (o.input_jsonl &&
             (fixes || modes || o.npaths > 1 || o.baseline || o.write_baseline || o.diff_base))
        bad = "--input jsonl reads records from standard input (or one file) and takes no "
              "fixing, baseline or --diff-base options";
    else if ((o.id_field || o.text_field) && !o.input_jsonl)
        bad = "--id-field and --text-field go with --input jsonl";
    else if (o.fix_blanks && !(o.fix || o.diff || o.write))
        bad = "--fix-blanks goes with --fix, --diff or --write";
    struct stat pst;
    if (!bad && o.fix && o.npaths == 1 && stat(o.paths[0], &pst) == 0 && S_ISDIR(pst.st_mode))
        bad = "--fix --stdout takes one file, not a directory; use --write or --diff";
    for (size_t i = 0; o.write && !bad && i < o.npaths; i++)
        if (strcmp(o.paths[i], "-") == 0)
            bad = "--write cannot write to standard input; use --fix";
    if (bad) {
        fprintf(stderr, "kindlint: error: %s\n", bad);
        cli_opts_free(&o);
        return CLI_ERROR;
    }
    o.test_rules_paths = o.test_rules && o.npaths > 0;
    cli_setups *setups = cli_setups_new(&o);
    if (!setups) {
        fputs("kindlint: error: out of memory\n", stderr);
        cli_opts_free(&o);
        return CLI_ERROR;
    }
    if (!modes && o.input_jsonl) {
        /* records from standard input (or the one file given) */
        cli_setup *u = cli_setup_for(setups, NULL);
        kl_file_settings fs = {.quotes = -1};
        kl_policy *pol = cli_setup_failed(u) ? NULL : cli_policy_for(u, &o, NULL, &fs);
        FILE *in = o.npaths ? fopen(o.paths[0], "rb") : stdin;
        if (!pol) {
            rc = CLI_ERROR;
        } else if (!in) {
            fprintf(stderr, "%s: error: cannot open: %s\n", o.paths[0], strerror(errno));
            rc = CLI_ERROR;
        } else {
            rc = cli_lint_records(&o, cli_setup_rules(u), cli_setup_scanner(u), pol, in, stdout);
        }
        if (in && in != stdin)
            fclose(in);
        kl_policy_free(pol);
    } else if (!modes) {
        /* rules are loaded per configuration; a broken rule file or config
         * is an error before anything is linted */
        cli_setup *u = cli_setup_for(setups, o.npaths && strcmp(o.paths[0], "-") != 0
                                                 ? o.paths[0]
                                                 : o.stdin_filename);
        rc = cli_setup_failed(u) ? CLI_ERROR : lint(&o, setups);
    } else {
        /* the other modes use the configuration of the working directory */
        cli_setup *u = cli_setup_for(setups, NULL);
        kl_file_settings fs = {.quotes = -1};
        kl_policy *pol = cli_setup_failed(u) ? NULL : cli_policy_for(u, &o, NULL, &fs);
        const kl_rules *rules = pol ? cli_setup_rules(u) : NULL;
        if (!pol)
            rc = CLI_ERROR;
        else if (o.list_rules)
            rc = list_rules(rules, pol, o.verbose);
        else if (o.explain)
            rc = explain_rule(rules, o.explain);
        else if (o.test_rules)
            rc = test_rules(rules, o.quiet);
        else
            rc = cli_lsp(&o, rules, pol);
        kl_policy_free(pol);
    }
    cli_setups_free(setups);
    cli_opts_free(&o);
    return rc;
}

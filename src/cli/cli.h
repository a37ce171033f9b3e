/*
 * cli.h -- the kindlint program: options (options.c), walking paths
 * (walk.c) and the main flow (main.c). The program is a thin user of
 * libkindlint: all matching, formatting and fixing is in the library.
 */
#ifndef KINDLINT_CLI_H
#define KINDLINT_CLI_H

#include <stdio.h>

#include "kindlint.h"

typedef struct cli_toggle {
    const char *name;
    int enable;
} cli_toggle;

typedef struct cli_opts {
    kl_format format;
    const char **rule_paths;
    size_t nrule_paths;
    int no_default_rules;
    kl_severity fail_on; /* KL_SEVERITY_UNSET with fail_never */
    int fail_never;
    cli_toggle *toggles;
    size_t ntoggles;
    int list_rules;
    int test_rules;
    const char *explain;
    int color; /* -1 auto, 0 never, 1 always */
    int quiet;
    int verbose;
    int kind_set;
    kl_doc_kind kind;
    const char *stdin_filename;
    int lint_quotes;
    int lsp;
    const char *speaker;
    const char *config_path; /* --config */
    int no_config;
    int fail_on_set; /* --fail-on was given */
    int test_rules_paths; /* --test-rules with paths: only those packs */
    int fix, diff, write, pass_through, fix_blanks, to_stdout;
    const char *baseline, *write_baseline, *diff_base;
    int jobs;
    int input_jsonl;
    const char *id_field, *text_field;
    char **paths;
    size_t npaths;
} cli_opts;

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FINDINGS = 1, CLI_ERROR = 2 };

/* Parses argv. Returns -1 to go on, or an exit status (after --help,
 * --version or a usage error, already printed). */
int cli_parse(int argc, char **argv, cli_opts *o);
void cli_opts_free(cli_opts *o);

/* Prints a diagnostic as FILE:LINE:COL: LEVEL: MESSAGE on stderr. */
void cli_print_diag(const kl_diag *d, const char *level);

/* Calls fn for every file to lint under path (a file, or a directory walked
 * in sorted order, skipping hidden entries, binary files, symlink loops,
 * what the tree's .gitignore files exclude, and what skip says to skip).
 * Problems are printed; returns the number of errors. */
typedef void (*cli_file_fn)(const char *path, void *ud);
typedef int (*cli_skip_fn)(const char *path, int is_dir, void *ud);
int cli_walk(const char *path, int verbose, cli_file_fn fn, cli_skip_fn skip, void *ud);

/* write.c: replaces path's contents atomically, if the file is still as
 * before (stat). Returns 0, or -1 with the reason in err. */
struct stat;
int cli_write_atomic(const char *path, const struct stat *before, const char *data, size_t len,
                     char *err, size_t errlen);
int cli_same_file_state(const struct stat *a, const struct stat *b);

/* baseline.c: findings recorded by path, rule and fingerprint. */
typedef struct cli_baseline cli_baseline;
cli_baseline *cli_baseline_new(void);
cli_baseline *cli_baseline_load(const char *path); /* errors printed; NULL */
void cli_baseline_free(cli_baseline *b);
int cli_baseline_add(cli_baseline *b, const char *path, const char *rule, const char *fp,
                     const char *text, size_t tlen);
/* 1 when the baseline excuses this finding (and uses up one excuse). */
int cli_baseline_take(cli_baseline *b, const char *path, const char *rule, const char *fp);
int cli_baseline_write(cli_baseline *b, const char *path);

/* git.c: the lines of a file added or changed since a git revision. */
typedef struct cli_range {
    unsigned first, last;
} cli_range;
typedef struct cli_lines {
    int all; /* the whole file counts (new, or not in git) */
    cli_range *ranges;
    size_t n;
} cli_lines;
int cli_changed_lines(const char *path, const char *ref, cli_lines *lines);
int cli_lines_touch(const cli_lines *lines, unsigned first, unsigned last);
void cli_lines_free(cli_lines *lines);

/* records.c: --input jsonl, from in to out, with sc (a scanner of
 * rules); with -j N, on N threads with scanners of their own. Returns the
 * exit status. */
int cli_lint_records(const cli_opts *o, const kl_rules *rules, kl_scanner *sc, const kl_policy *pol,
                     FILE *in, FILE *out);

/* setup.c: configuration chains, their rule sets and per-file policies. */
typedef struct cli_setups cli_setups;
typedef struct cli_setup cli_setup;
cli_setups *cli_setups_new(const cli_opts *o);
void cli_setups_free(cli_setups *s);
/* The setup for a file (NULL: the working directory). Load errors are
 * printed once; check cli_setup_failed. */
cli_setup *cli_setup_for(cli_setups *s, const char *path);
int cli_setup_failed(const cli_setup *u);
const kl_rules *cli_setup_rules(const cli_setup *u);
kl_scanner *cli_setup_scanner(const cli_setup *u);
/* A policy for the file at path (caller frees), or NULL after an error. */
kl_policy *cli_policy_for(const cli_setup *u, const cli_opts *o, const char *path,
                          kl_file_settings *fs);
int cli_setup_ignores(const cli_setup *u, const char *path, int is_dir);
/* Has a configuration file loaded so far changed on disk (or gone)? A
 * long-running caller (the language server) then starts afresh. A new
 * .kindlint.yml in a directory not looked at yet is found anyway. */
int cli_setups_stale(const cli_setups *s);

/* lsp.c: serves the Language Server Protocol on stdin/stdout until the
 * client says exit. Returns the exit status. */
int cli_lsp(const cli_opts *o, const kl_rules *rules, const kl_policy *pol);

#endif

/*
 * cli.h -- the kindlint program: options (options.c), walking paths
 * (walk.c) and the main flow (main.c). The program is a thin user of
 * libkindlint: all matching, formatting and fixing is in the library.
 */
#ifndef KINDLINT_CLI_H
#define KINDLINT_CLI_H

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
 * in sorted order, skipping hidden entries, binary files and symlink
 * loops). Problems are printed; returns the number of errors. */
typedef void (*cli_file_fn)(const char *path, void *ud);
int cli_walk(const char *path, int verbose, cli_file_fn fn, void *ud);

/* lsp.c: serves the Language Server Protocol on stdin/stdout until the
 * client says exit. Returns the exit status. */
int cli_lsp(const cli_opts *o, const kl_rules *rules, const kl_policy *pol);

#endif

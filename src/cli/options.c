/*
 * options.c -- the command line of kindlint (DESIGN.md section 6).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
    "Usage: kindlint [OPTIONS] [PATH...]\n"
    "Find blaming and unkind phrasing in messages and suggest kinder rewrites.\n"
    "With no PATH, or PATH '-', read standard input. Directories are walked.\n"
    "\n"
    "What to read:\n"
    "  -t, --type KIND          text, markdown, commit, email or chat (default: by file name)\n"
    "      --stdin-filename NAME  name standard input for messages and its kind\n"
    "      --speaker NAME       chat: lint only NAME's messages\n"
    "      --lint-quotes        lint quoted speech too (skipped by default)\n"
    "      --input jsonl        read records, one JSON object a line ({\"id\", \"text\"}),\n"
    "                           and write one result line per record, in order\n"
    "      --id-field NAME, --text-field NAME  the records' field names\n"
    "      --diff-base REF      only lines added or changed since git REF (files\n"
    "                           outside git are linted whole)\n"
    "\n"
    "Which rules:\n"
    "  -r, --rules PATH         add the rule packs in PATH (a .yml file or a directory);\n"
    "                           repeatable\n"
    "      --no-default-rules   do not load the built-in packs\n"
    "      --enable NAME        enable a rule id, pack, category or 'all'; repeatable\n"
    "      --disable NAME       disable a rule id, pack, category or 'all'; repeatable\n"
    "                           (--enable and --disable apply in the order given)\n"
    "  -c, --config FILE        use this configuration instead of looking for\n"
    "                           .kindlint.yml from each file's directory upwards\n"
    "      --no-config          use no configuration file\n"
    "      --baseline FILE      do not report findings recorded in FILE\n"
    "      --write-baseline FILE  record this run's findings in FILE\n"
    "\n"
    "What to say:\n"
    "  -f, --format FORMAT      text (default), line, json, jsonl, sarif or github\n"
    "      --color WHEN         auto (default), always or never; NO_COLOR is honoured\n"
    "      --fail-on LEVEL      exit 1 on findings at or above info, warning (default),\n"
    "                           error, or never\n"
    "  -q, --quiet              print no findings; only the exit status tells\n"
    "  -v, --verbose            say more (skipped files, rule triggers)\n"
    "\n"
    "What to change:\n"
    "      --fix                write the text with the suggestions applied to standard\n"
    "                           output (standard input, or one PATH with --stdout);\n"
    "                           findings left unfixed only set the exit status\n"
    "      --diff               print the fixes as a unified diff (patch -p0)\n"
    "      --write              apply the fixes to the files in place (atomically)\n"
    "      --fix-blanks         also apply suggestions with [blanks] to fill in\n"
    "      --pass-through       copy the input unchanged to standard output and report\n"
    "                           findings on standard error\n"
    "\n"
    "About rules:\n"
    "      --list-rules         list the enabled rules\n"
    "      --explain ID         explain a rule, with an example\n"
    "      --test-rules [PATH...]  run the rules' own tests (of the packs in PATH, or of\n"
    "                           all loaded rules)\n"
    "\n"
    "Serving:\n"
    "      --lsp                run as a Language Server on standard input and output\n"
    "  -j, --jobs N             lint N files (or --input jsonl records) at a time\n"
    "                           (0: one per CPU); the output order stays the same\n"
    "\n"
    "  -h, --help               show this help\n"
    "      --version            show the version\n"
    "\n"
    "Exit status: 0 no findings at or above --fail-on, 1 there are such findings,\n"
    "2 an error (usage, unreadable input, bad rule file). Errors win over findings.\n";

enum {
    OPT_NO_DEFAULT_RULES = 256,
    OPT_ENABLE,
    OPT_DISABLE,
    OPT_COLOR,
    OPT_FAIL_ON,
    OPT_LIST_RULES,
    OPT_EXPLAIN,
    OPT_TEST_RULES,
    OPT_VERSION,
    OPT_STDIN_FILENAME,
    OPT_LINT_QUOTES,
    OPT_LSP,
    OPT_SPEAKER,
    OPT_NO_CONFIG,
    OPT_FIX,
    OPT_DIFF,
    OPT_WRITE,
    OPT_FIX_BLANKS,
    OPT_PASS_THROUGH,
    OPT_STDOUT,
    OPT_BASELINE,
    OPT_WRITE_BASELINE,
    OPT_DIFF_BASE,
    OPT_INPUT,
    OPT_ID_FIELD,
    OPT_TEXT_FIELD,
};

static int parse_jobs(const char *arg, int *jobs)
{
    char *end;
    long n = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || n < 0 || n > 256)
        return -1;
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (cpus > 256 ? 256 : cpus) : 1;
    }
    *jobs = (int)n;
    return 0;
}

static const struct option long_options[] = {
    {"type", required_argument, NULL, 't'},
    {"stdin-filename", required_argument, NULL, OPT_STDIN_FILENAME},
    {"lint-quotes", no_argument, NULL, OPT_LINT_QUOTES},
    {"speaker", required_argument, NULL, OPT_SPEAKER},
    {"rules", required_argument, NULL, 'r'},
    {"no-default-rules", no_argument, NULL, OPT_NO_DEFAULT_RULES},
    {"config", required_argument, NULL, 'c'},
    {"no-config", no_argument, NULL, OPT_NO_CONFIG},
    {"enable", required_argument, NULL, OPT_ENABLE},
    {"disable", required_argument, NULL, OPT_DISABLE},
    {"format", required_argument, NULL, 'f'},
    {"color", required_argument, NULL, OPT_COLOR},
    {"colour", required_argument, NULL, OPT_COLOR},
    {"fail-on", required_argument, NULL, OPT_FAIL_ON},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"list-rules", no_argument, NULL, OPT_LIST_RULES},
    {"explain", required_argument, NULL, OPT_EXPLAIN},
    {"test-rules", no_argument, NULL, OPT_TEST_RULES},
    {"lsp", no_argument, NULL, OPT_LSP},
    {"fix", no_argument, NULL, OPT_FIX},
    {"diff", no_argument, NULL, OPT_DIFF},
    {"write", no_argument, NULL, OPT_WRITE},
    {"fix-blanks", no_argument, NULL, OPT_FIX_BLANKS},
    {"pass-through", no_argument, NULL, OPT_PASS_THROUGH},
    {"stdout", no_argument, NULL, OPT_STDOUT},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"write-baseline", required_argument, NULL, OPT_WRITE_BASELINE},
    {"diff-base", required_argument, NULL, OPT_DIFF_BASE},
    {"jobs", required_argument, NULL, 'j'},
    {"input", required_argument, NULL, OPT_INPUT},
    {"id-field", required_argument, NULL, OPT_ID_FIELD},
    {"text-field", required_argument, NULL, OPT_TEXT_FIELD},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static int usage_error(const char *fmt, const char *arg)
{
    fputs("kindlint: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'kindlint --help' for more information.\n", stderr);
    return CLI_ERROR;
}

static int push(void **arr, size_t *n, size_t elem, const void *item)
{
    void *p = realloc(*arr, (*n + 1) * elem);
    if (!p)
        return -1;
    memcpy((char *)p + *n * elem, item, elem);
    *arr = p;
    (*n)++;
    return 0;
}

int cli_parse(int argc, char **argv, cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = KL_FORMAT_TEXT;
    o->fail_on = KL_SEVERITY_WARNING;
    o->color = -1;
    o->jobs = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":t:r:f:c:j:qvh", long_options, NULL)) != -1) {
        switch (c) {
        case 't':
            if (kl_doc_kind_parse(optarg, &o->kind) != 0)
                return usage_error("unknown --type '%s' (text, markdown, commit, email, chat)",
                                   optarg);
            o->kind_set = 1;
            break;
        case OPT_STDIN_FILENAME: o->stdin_filename = optarg; break;
        case OPT_LINT_QUOTES: o->lint_quotes = 1; break;
        case 'r':
            if (push((void **)&o->rule_paths, &o->nrule_paths, sizeof(char *), &optarg) != 0)
                return usage_error("%s", "out of memory");
            break;
        case OPT_NO_DEFAULT_RULES: o->no_default_rules = 1; break;
        case OPT_ENABLE:
        case OPT_DISABLE: {
            cli_toggle t = {optarg, c == OPT_ENABLE};
            if (push((void **)&o->toggles, &o->ntoggles, sizeof t, &t) != 0)
                return usage_error("%s", "out of memory");
            break;
        }
        case 'f':
            if (kl_format_parse(optarg, &o->format) != 0)
                return usage_error("unknown --format '%s' (text, line, json, jsonl, sarif, github)", optarg);
            break;
        case OPT_COLOR:
            if (strcmp(optarg, "auto") == 0)
                o->color = -1;
            else if (strcmp(optarg, "always") == 0)
                o->color = 1;
            else if (strcmp(optarg, "never") == 0)
                o->color = 0;
            else
                return usage_error("unknown --color '%s' (auto, always, never)", optarg);
            break;
        case OPT_FAIL_ON:
            o->fail_on_set = 1;
            if (strcmp(optarg, "never") == 0) {
                o->fail_never = 1;
            } else {
                o->fail_never = 0;
                o->fail_on = kl_severity_parse(optarg);
                if (o->fail_on == KL_SEVERITY_UNSET)
                    return usage_error("unknown --fail-on '%s' (info, warning, error, never)",
                                       optarg);
            }
            break;
        case 'q': o->quiet = 1; break;
        case 'v': o->verbose = 1; break;
        case OPT_LIST_RULES: o->list_rules = 1; break;
        case OPT_EXPLAIN: o->explain = optarg; break;
        case OPT_TEST_RULES: o->test_rules = 1; break;
        case OPT_LSP: o->lsp = 1; break;
        case OPT_INPUT:
            if (strcmp(optarg, "jsonl") != 0)
                return usage_error("unknown --input '%s' (jsonl)", optarg);
            o->input_jsonl = 1;
            break;
        case OPT_ID_FIELD: o->id_field = optarg; break;
        case OPT_TEXT_FIELD: o->text_field = optarg; break;
        case 'j':
            if (parse_jobs(optarg, &o->jobs) != 0)
                return usage_error("-j/--jobs '%s': give a number from 0 (one per CPU) to 256",
                                   optarg);
            break;
        case OPT_FIX: o->fix = 1; break;
        case OPT_DIFF: o->diff = 1; break;
        case OPT_WRITE: o->write = 1; break;
        case OPT_FIX_BLANKS: o->fix_blanks = 1; break;
        case OPT_PASS_THROUGH: o->pass_through = 1; break;
        case OPT_STDOUT: o->to_stdout = 1; break;
        case OPT_BASELINE: o->baseline = optarg; break;
        case OPT_WRITE_BASELINE: o->write_baseline = optarg; break;
        case OPT_DIFF_BASE: o->diff_base = optarg; break;
        case OPT_SPEAKER: o->speaker = optarg; break;
        case 'c': o->config_path = optarg; break;
        case OPT_NO_CONFIG: o->no_config = 1; break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        case OPT_VERSION: printf("kindlint %s\n", kl_version()); return CLI_OK;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        case '?':
        default:
            if (optopt)
                return usage_error("unknown option '-%c'", (const char[]){(char)optopt, 0});
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    for (int i = optind; i < argc; i++)
        if (push((void **)&o->paths, &o->npaths, sizeof(char *), &argv[i]) != 0)
            return usage_error("%s", "out of memory");
    return -1;
}

void cli_opts_free(cli_opts *o)
{
    free(o->rule_paths);
    free(o->toggles);
    free(o->paths);
}

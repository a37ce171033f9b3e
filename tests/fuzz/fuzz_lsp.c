/*
 * fuzz_lsp.c -- arbitrary bytes as the language server's input: framing
 * (headers, Content-Length), JSON, and whatever requests and document
 * edits they hold, through the real server loop (cli_lsp) with the
 * built-in rules. Standard input is the fuzz data (in a temporary file:
 * the server reads its descriptor) and standard output goes to /dev/null
 * for the call.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* main.c is not linked in: the server's diagnostics are not the point. */
void cli_print_diag(const kl_diag *d, const char *level)
{
    (void)d;
    (void)level;
}

static kl_rules *rules;
static kl_policy *policy;
static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rules) {
        kl_diag d;
        rules = kl_rules_new();
        if (!rules || kl_rules_add_defaults(rules, &d) != KL_OK || kl_rules_compile(rules, &d) != KL_OK)
            abort();
        policy = kl_policy_new(rules);
        devnull = fopen("/dev/null", "w");
    }
    if (size == 0)
        return 0;
    FILE *in = tmpfile();
    if (!in)
        return 0;
    if (fwrite(data, 1, size, in) != size || fflush(in) != 0 || fseek(in, 0, SEEK_SET) != 0) {
        fclose(in);
        return 0;
    }
    FILE *saved_in = stdin, *saved_out = stdout;
    stdin = in;
    stdout = devnull;
    cli_opts o;
    memset(&o, 0, sizeof o);
    o.no_config = 1; /* the fuzzer's working directory holds no configuration */
    o.jobs = 1;
    cli_lsp(&o, rules, policy);
    stdin = saved_in;
    stdout = saved_out;
    fclose(in);
    return 0;
}

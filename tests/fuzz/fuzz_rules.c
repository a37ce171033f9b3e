/*
 * fuzz_rules.c -- arbitrary bytes as a rule pack: loading (libcyaml and
 * the position index), compiling (patterns, templates, feelings) and, when
 * it compiles, the pack's own tests. Errors are fine; crashes, leaks and
 * hangs are not.
 */
#include <stdint.h>
#include <stdlib.h>

#include "kindlint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_rules *rules = kl_rules_new();
    kl_diag d;
    if (!rules)
        return 0;
    if (kl_rules_add_buffer(rules, "fuzz.yml", (const char *)data, size, &d) == KL_OK &&
        kl_rules_compile(rules, &d) == KL_OK) {
        size_t failed, untested;
        kl_rules_run_tests(rules, NULL, NULL, &failed, &untested, &d);
    }
    kl_rules_free(rules);
    return 0;
}

/*
 * fuzz_config.c -- arbitrary bytes as a .kindlint.yml, applied to a few
 * paths against the built-in rules.
 */
#include <stdint.h>
#include <stdlib.h>

#include "kindlint.h"

static kl_rules *rules;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_diag d;
    if (!rules) {
        rules = kl_rules_new();
        if (!rules || kl_rules_add_defaults(rules, &d) != KL_OK || kl_rules_compile(rules, &d) != KL_OK)
            abort();
    }
    kl_config *c = NULL;
    if (kl_config_load_buffer("fuzz.yml", "/fuzz", (const char *)data, size, &c, &d) != KL_OK)
        return 0;
    static const char *const paths[] = {"/fuzz/a.md", "/fuzz/docs/x/y.txt", "rel/b.eml", "/else/c"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        kl_policy *p = kl_policy_new(rules);
        kl_file_settings fs = {.quotes = -1};
        if (p)
            kl_config_apply(c, paths[i], p, &fs, &d);
        kl_config_ignores(c, paths[i], i & 1);
        kl_policy_free(p);
    }
    for (size_t i = 0; i < kl_config_rule_path_count(c); i++)
        (void)kl_config_rule_path(c, i);
    kl_config_free(c);
    return 0;
}

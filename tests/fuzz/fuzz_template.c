/*
 * fuzz_template.c -- a suggestion template and a text, both arbitrary:
 * the input is TEMPLATE, a NUL byte, TEXT. The template goes into a pack
 * (as a YAML double-quoted string) whose rule captures act and who; when
 * it compiles, the text is scanned and every suggestion rendered, and then
 * fixed (kl_fix), whose output must keep every byte outside the findings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindlint.h"

static int render(const kl_finding *f, void *ud)
{
    (void)ud;
    for (size_t i = 0; i < kl_rule_suggestion_count(f->rule); i++) {
        char *s = NULL;
        int blank = 0;
        if (kl_finding_suggestion(f, i, &s, NULL, &blank) == KL_OK && !s)
            abort();
        free(s);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul || nul - data > 2000)
        return 0;
    size_t tlen = (size_t)(nul - data);
    const char *text = (const char *)nul + 1;
    size_t textlen = size - tlen - 1;
    char yaml[12000];
    int n = snprintf(yaml, sizeof yaml,
                     "pack: f\nrules:\n  - id: r\n    category: blame\n    severity: info\n"
                     "    message: m\n"
                     "    match: '(?<act>\\w+)\\s+never(?:\\s+(?<who>\\w+))?'\n"
                     "    feelings: [{word: a, feeling: hurt}, {word: '*', feeling: sad}]\n"
                     "    suggest: [\"");
    for (size_t i = 0; i < tlen && n < (int)sizeof yaml - 16; i++) {
        unsigned char c = data[i];
        if (c == '"' || c == '\\')
            n += snprintf(yaml + n, sizeof yaml - (size_t)n, "\\%c", c);
        else if (c < 0x20 || c == 0x7F)
            n += snprintf(yaml + n, sizeof yaml - (size_t)n, "\\x%02x", c);
        else
            yaml[n++] = (char)c;
    }
    n += snprintf(yaml + n, sizeof yaml - (size_t)n, "\"]\n");
    kl_rules *rules = kl_rules_new();
    kl_diag d;
    if (rules && kl_rules_add_buffer(rules, "t.yml", yaml, (size_t)n, &d) == KL_OK &&
        kl_rules_compile(rules, &d) == KL_OK) {
        kl_scanner *sc = kl_scanner_new(rules);
        kl_scan_options o;
        memset(&o, 0, sizeof o);
        o.abi_version = KL_ABI_VERSION;
        o.on_finding = render;
        kl_scan(sc, &o, text, textlen, &d);
        kl_fix_request rq = {KL_FIX_BLANKS, "t.txt"};
        kl_fix_result res;
        o.on_finding = NULL;
        if (kl_fix(sc, &o, text, textlen, &rq, &res, &d) == KL_OK) {
            if (res.applied == 0 && (res.len != textlen || memcmp(res.text, text, textlen) != 0))
                abort();
            kl_fix_result_free(&res);
        }
        kl_scanner_free(sc);
    }
    kl_rules_free(rules);
    return 0;
}

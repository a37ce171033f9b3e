/* A program built against an installed libkindlint (tests/install). */
#include <kindlint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_finding(const kl_finding *f, void *ud)
{
    (void)ud;
    char *s = NULL;
    if (kl_finding_suggestion(f, 0, &s, NULL, NULL) == KL_OK)
        printf("%s: %s\n", kl_rule_id(f->rule), s);
    free(s);
    return 0;
}

int main(void)
{
    kl_diag d;
    kl_rules *rules = kl_rules_new();
    static const char pack[] = "pack: hello\n"
                               "rules:\n"
                               "  - id: you-never\n"
                               "    category: absolute\n"
                               "    severity: warning\n"
                               "    message: m\n"
                               "    match: '\\byou never (?<act>[a-z]+)'\n"
                               "    suggest: [\"I feel hurt when you don't {act}\"]\n";
    if (!rules || kl_rules_add_buffer(rules, "hello.yml", pack, strlen(pack), &d) != KL_OK ||
        kl_rules_compile(rules, &d) != KL_OK) {
        fprintf(stderr, "%s\n", d.message);
        return 1;
    }
    kl_scanner *sc = kl_scanner_new(rules);
    kl_scan_options o;
    memset(&o, 0, sizeof o);
    o.abi_version = KL_ABI_VERSION;
    o.on_finding = print_finding;
    const char *text = "You never call.";
    int rc = kl_scan(sc, &o, text, strlen(text), &d) == KL_OK ? 0 : 1;
    printf("kindlint %s\n", kl_version());
    kl_scanner_free(sc);
    kl_rules_free(rules);
    return rc;
}

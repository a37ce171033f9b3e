/*
 * test_rules_load.c -- loading rule packs: the format, and every kind of
 * bad file giving FILE:LINE:COL and the right status.
 */
#include "helpers.h"
#include "kl_internal.h"

static const char good_pack[] = "pack: sample\n"
                                "summary: A sample pack.\n"
                                "rules:\n"
                                "  - id: you-never\n"
                                "    category: absolute\n"
                                "    severity: warning\n"
                                "    message: \"Never is a verdict.\"\n"
                                "    explain: Say what happened once.\n"
                                "    match: '\\byou\\s+never\\s+(?<act>[a-z][^.!?]*)'\n"
                                "    unless: ['\\bnever\\s+mind\\b']\n"
                                "    suggest: [\"I feel {feeling} when you don't {act}\"]\n"
                                "    feelings:\n"
                                "      - {word: listen, feeling: unheard}\n"
                                "      - {word: \"*\", feeling: hurt}\n"
                                "    tests:\n"
                                "      flag:\n"
                                "        - text: You never listen.\n"
                                "          fix: I feel unheard when you don't listen.\n"
                                "      pass: [\"I never did.\"]\n"
                                "  - id: blame-fault\n"
                                "    category: blame\n"
                                "    severity: error\n"
                                "    message: Fault.\n"
                                "    match: 'your fault'\n";

static void test_good_pack_loads(void **state)
{
    (void)state;
    kl_rules *r = rules_from(good_pack);
    assert_int_equal(kl_rules_count(r), 2);
    const kl_rule *a = kl_rules_find(r, "you-never");
    assert_non_null(a);
    assert_string_equal(kl_rule_pack(a), "sample");
    assert_string_equal(kl_rule_pack_summary(a), "A sample pack.");
    assert_int_equal(kl_rule_category(a), KL_CATEGORY_ABSOLUTE);
    assert_int_equal(kl_rule_severity(a), KL_SEVERITY_WARNING);
    assert_string_equal(kl_rule_explain(a), "Say what happened once.");
    assert_int_equal(kl_rule_suggestion_count(a), 1);
    assert_int_equal(kl_rule_test_count(a), 2);
    const kl_rule *b = kl_rules_at(r, 1);
    assert_string_equal(kl_rule_id(b), "blame-fault");
    assert_int_equal(kl_rule_severity(b), KL_SEVERITY_ERROR);
    assert_string_equal(kl_rule_explain(b), "");
    assert_null(kl_rules_find(r, "nope"));
    kl_rules_free(r);
}

/* Loads yaml and expects failure with this status, line and column, and a
 * message containing needle. */
static void expect_error(const char *yaml, kl_status code, unsigned line, unsigned col,
                         const char *needle)
{
    kl_rules *r = kl_rules_new();
    kl_diag d;
    kl_status st = kl_rules_add_buffer(r, "bad.yml", yaml, strlen(yaml), &d);
    if (st != code || d.line != line || d.column != col || !strstr(d.message, needle))
        fail_msg("got status %d at %u:%u \"%s\"; want %d at %u:%u containing \"%s\"", st, d.line,
                 d.column, d.message, code, line, col, needle);
    assert_string_equal(d.file, "bad.yml");
    assert_int_equal(kl_rules_count(r), 0);
    kl_rules_free(r);
}

static void test_unknown_key(void **state)
{
    (void)state;
    expect_error(ONE_RULE("a", "    sugest: [x]\n"), KL_ERR_RULES, 8, 5, "unknown key 'sugest'");
}

static void test_bad_enum(void **state)
{
    (void)state;
    expect_error("pack: t\nrules:\n  - id: r\n    category: absolute\n    severity: warnnig\n"
                 "    message: m\n    match: a\n",
                 KL_ERR_RULES, 5, 15, "invalid value 'warnnig' for 'severity'");
    expect_error("pack: t\nrules:\n  - id: r\n    category: rudeness\n    severity: info\n"
                 "    message: m\n    match: a\n",
                 KL_ERR_RULES, 4, 15, "'rudeness'");
}

static void test_missing_key(void **state)
{
    (void)state;
    expect_error("pack: t\nrules:\n  - id: r\n    category: absolute\n    severity: info\n"
                 "    message: m\n",
                 KL_ERR_RULES, 3, 5, "missing required key 'match'");
}

static void test_bad_regex_names_rule_and_offset(void **state)
{
    (void)state;
    /* the '(' at pattern offset 4 is never closed: PCRE2 reports the end */
    expect_error(ONE_RULE("you(never", ""), KL_ERR_REGEX, 7, 22,
                 "rule 'r': match: regex: missing closing parenthesis (pattern offset 9)");
    expect_error(ONE_RULE("ok", "    unless: ['a{2,1}']\n"), KL_ERR_REGEX, 8, 20,
                 "unless: regex: numbers out of order");
}

static void test_template_errors(void **state)
{
    (void)state;
    expect_error(ONE_RULE("you (?<act>x)", "    suggest: [\"I {feel}\"]\n"), KL_ERR_RULES, 8, 15,
                 "no group (?<feel>...)");
    expect_error(ONE_RULE("you (?<act>x)", "    suggest: [\"I {feeling}\"]\n"), KL_ERR_RULES, 8, 15,
                 "no 'feelings' list");
    expect_error(ONE_RULE("you", "    suggest: [\"a } b\"]\n"), KL_ERR_RULES, 8, 15, "lone '}'");
    expect_error(ONE_RULE("you", "    suggest: [\"a [b\"]\n"), KL_ERR_RULES, 8, 15, "[blank]");
}

static void test_syntax_error_has_position(void **state)
{
    (void)state;
    expect_error("pack: t\nrules:\n  - id: \"unterminated\n", KL_ERR_RULES, 4, 1,
                 "YAML syntax: found unexpected end of stream");
    expect_error("just words: [\n", KL_ERR_RULES, 2, 1, "YAML syntax");
    expect_error("", KL_ERR_RULES, 1, 1, "empty rule file");
    expect_error("a plain sentence\n", KL_ERR_RULES, 1, 1, "expected a mapping");
}

static void test_ids_and_duplicates(void **state)
{
    (void)state;
    expect_error("pack: t\nrules:\n  - id: Bad_Id\n    category: absolute\n    severity: info\n"
                 "    message: m\n    match: a\n",
                 KL_ERR_RULES, 3, 9, "kebab-case");
    kl_rules *r = rules_from(ONE_RULE("a", ""));
    kl_diag d;
    const char *other = "pack: u\nrules:\n  - id: r\n    category: blame\n    severity: info\n"
                        "    message: m\n    match: b\n";
    assert_int_equal(kl_rules_add_buffer(r, "other.yml", other, strlen(other), &d), KL_ERR_USAGE);
    kl_rules_free(r);

    r = kl_rules_new();
    const char *a = ONE_RULE("a", "");
    assert_int_equal(kl_rules_add_buffer(r, "a.yml", a, strlen(a), &d), KL_OK);
    assert_int_equal(kl_rules_add_buffer(r, "b.yml", other, strlen(other), &d), KL_ERR_RULES);
    assert_int_equal(d.line, 3);
    assert_non_null(strstr(d.message, "duplicate rule id 'r' (already defined in a.yml)"));
    assert_int_equal(kl_rules_count(r), 1); /* the bad pack left nothing behind */
    kl_rules_free(r);
}

static void test_aliases_and_limits_refused(void **state)
{
    (void)state;
    expect_error("pack: &p t\nrules:\n  - id: *p\n    category: absolute\n    severity: info\n"
                 "    message: m\n    match: a\n",
                 KL_ERR_RULES, 3, 9, "aliases");

    size_t big = 5u * 1024u * 1024u;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, '#', big);
    kl_rules *r = kl_rules_new();
    kl_diag d;
    assert_int_equal(kl_rules_add_buffer(r, "huge.yml", huge, big, &d), KL_ERR_LIMIT);
    kl_rules_free(r);

    /* a 1 MB pattern */
    size_t plen = 1024u * 1024u;
    char *yaml = malloc(plen + 200);
    assert_non_null(yaml);
    int n = snprintf(yaml, 200,
                     "pack: t\nrules:\n  - id: r\n    category: absolute\n"
                     "    severity: info\n    message: m\n    match: '");
    memset(yaml + n, 'a', plen);
    strcpy(yaml + n + plen, "'\n");
    r = kl_rules_new();
    assert_int_equal(kl_rules_add_buffer(r, "long.yml", yaml, strlen(yaml), &d), KL_ERR_RULES);
    assert_non_null(strstr(d.message, "'match' is too long"));
    assert_int_equal(d.line, 7);
    kl_rules_free(r);
    free(yaml);
    free(huge);
}

static void test_quote_expansion(void **state)
{
    (void)state;
    kl_rules *r = rules_from(ONE_RULE("\\byou''re\\s+[''a-z]+ \"\\w+\"", ""));
    found_list f;
    scan_text(r, "you're 'ok' \"hi\"", &f);
    assert_int_equal(f.n, 1);
    scan_text(r, "you\xE2\x80\x99re \xE2\x80\x98ok \xE2\x80\x9Chi\xE2\x80\x9D", &f);
    assert_int_equal(f.n, 1);
    scan_text(r, "you\xCA\xBCre ok \"hi\xE2\x80\x9D", &f);
    assert_int_equal(f.n, 1);
    scan_text(r, "youre ok \"hi\"", &f);
    assert_int_equal(f.n, 0);
    kl_rules_free(r);

    /* quotes that are syntax stay syntax */
    size_t *map = NULL;
    char *e = NULL;
    e = kl_pattern_expand_quotes("(?'n'a)\\k'n'(?#it's)\\Q'\\E", &map);
    assert_non_null(e);
    assert_string_equal(e, "(?'n'a)\\k'n'(?#it's)\\Q\\E['\xE2\x80\x99\xCA\xBC\xE2\x80\x98]\\Q\\E");
    free(e);
    free(map);
}

static void test_add_path_errors(void **state)
{
    (void)state;
    kl_rules *r = kl_rules_new();
    kl_diag d;
    assert_int_equal(kl_rules_add_path(r, "/nonexistent/rules.yml", &d), KL_ERR_IO);
    assert_string_equal(d.file, "/nonexistent/rules.yml");
    assert_non_null(strstr(d.message, "No such file"));
    kl_rules_free(r);
}

static void test_defaults_load(void **state)
{
    (void)state;
    kl_rules *r = kl_rules_new();
    kl_diag d;
    assert_int_equal(kl_rules_add_defaults(r, &d), KL_OK);
    assert_int_equal(kl_rules_compile(r, &d), KL_OK);
    assert_true(kl_rules_count(r) >= 3);
    assert_true(kl_rules_has_pack(r, "absolutes"));
    assert_true(kl_rules_has_pack(r, "blame"));
    assert_true(kl_rules_has_pack(r, "non-apology"));
    kl_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_pack_loads),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_bad_enum),
        cmocka_unit_test(test_missing_key),
        cmocka_unit_test(test_bad_regex_names_rule_and_offset),
        cmocka_unit_test(test_template_errors),
        cmocka_unit_test(test_syntax_error_has_position),
        cmocka_unit_test(test_ids_and_duplicates),
        cmocka_unit_test(test_aliases_and_limits_refused),
        cmocka_unit_test(test_quote_expansion),
        cmocka_unit_test(test_add_path_errors),
        cmocka_unit_test(test_defaults_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

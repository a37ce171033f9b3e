/*
 * test_scan.c -- matching and positions: sentences, unless, overlaps,
 * multi-byte text, CRLF, the last line without a newline, invalid UTF-8,
 * UTF-16 and big inputs.
 */
#include "helpers.h"
#include "kl_internal.h"

static const char never_rule[] =
    ONE_RULE("\\byou\\s+never\\s+(?<act>[a-z][^.!?;,]*)", "    unless: ['\\bmind\\b']\n");

static void test_positions_ascii(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    found_list f;
    scan_text(r, "Honestly, you never listen to me.", &f);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0].text, "you never listen to me");
    assert_int_equal(f.items[0].offset, 10);
    assert_int_equal(f.items[0].length, 22);
    assert_int_equal(f.items[0].line, 1);
    assert_int_equal(f.items[0].column, 11);
    assert_int_equal(f.items[0].end_line, 1);
    assert_int_equal(f.items[0].end_column, 33);
    kl_rules_free(r);
}

static void test_positions_multibyte(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    found_list f;
    /* "Café 🙄 — " : é is 2 bytes, 🙄 is 4 bytes (2 UTF-16 units), — is 3 */
    const char *text = "Caf\xC3\xA9 \xF0\x9F\x99\x84 \xE2\x80\x94 you never call.";
    scan_text(r, text, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.items[0].offset, 15);
    assert_memory_equal(text + f.items[0].offset, "you never call", 14);
    assert_int_equal(f.items[0].column, 10);       /* code points */
    assert_int_equal(f.items[0].column_utf16, 11); /* the emoji counts twice */
    assert_int_equal(f.items[0].end_column, 24);
    kl_rules_free(r);
}

static void test_crlf_and_last_line(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    found_list f;
    const char *text = "Hi.\r\nWell\r\nyou never call";
    scan_text(r, text, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.items[0].line, 3);
    assert_int_equal(f.items[0].column, 1);
    assert_string_equal(f.items[0].text, "you never call");
    assert_int_equal(f.items[0].offset, strlen(text) - 14);
    assert_int_equal(f.items[0].end_column, 15);

    /* CR-only line endings count as lines too */
    scan_text(r, "One.\rTwo.\ryou never call", &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.items[0].line, 3);
    kl_rules_free(r);
}

static void test_sentence_bounds(void **state)
{
    (void)state;
    kl_rules *r = rules_from(ONE_RULE("you never\\s+\\w+", ""));
    found_list f;
    scan_text(r, "Thank you never. Mind.", &f); /* "never. Mind" crosses a sentence */
    assert_int_equal(f.n, 0);
    scan_text(r, "I said you never\n\ncall", &f); /* a blank line ends a paragraph */
    assert_int_equal(f.n, 0);
    scan_text(r, "I said you never\ncall", &f); /* a single newline does not */
    assert_int_equal(f.n, 1);
    kl_rules_free(r);

    /* a dot after a common abbreviation does not end a sentence */
    r = rules_from(ONE_RULE("\\bdr\\. who\\b", ""));
    scan_text(r, "Ask Dr. Who about it.", &f);
    assert_int_equal(f.n, 1);
    kl_rules_free(r);

    /* ^ and $ are the sentence's edges */
    r = rules_from(ONE_RULE("^whatever[.!]*$", ""));
    scan_text(r, "Fine. Whatever! You decide.", &f);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0].text, "Whatever!");
    scan_text(r, "Whatever you decide is fine.", &f);
    assert_int_equal(f.n, 0);
    kl_rules_free(r);
}

static void test_unless_drops_sentence(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    found_list f;
    scan_text(r, "Never mind, you never call.", &f);
    assert_int_equal(f.n, 0);
    scan_text(r, "Never mind. You never call.", &f); /* unless looks at its own sentence */
    assert_int_equal(f.n, 1);
    kl_rules_free(r);
}

/* A rule runs in the interpreter on its first KL_JIT_AFTER candidate
 * sentences and as JIT code after: the findings (unless-patterns
 * included) are the same either way. */
static void test_jit_after_some_candidates(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    kl_rule *rule = r->rules[0];
    found_list f;
    for (unsigned i = 0; i < KL_JIT_AFTER + 8; i++) {
        /* two candidate sentences a scan; the first is dropped by unless */
        scan_text(r, "Never mind, you never call. You never write!", &f);
        assert_int_equal(f.n, 1);
        assert_string_equal(f.items[0].text, "You never write");
        assert_int_equal(f.items[0].offset, 28);
        if (i == 0)
            assert_int_equal(atomic_load(&rule->jit_state), 0); /* interpreted */
    }
    uint32_t jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    if (jit)
        assert_int_equal(atomic_load(&rule->jit_state), KL_JIT_ON);
    kl_rules_free(r);
}

static void test_overlaps_reported_once(void **state)
{
    (void)state;
    kl_rules *r = rules_from(ONE_RULE("you (?:never )+", ""));
    found_list f;
    scan_text(r, "you never never never listen", &f);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0].text, "you never never never ");
    scan_text(r, "you never listen and you never call", &f);
    assert_int_equal(f.n, 2);
    assert_true(f.items[0].offset < f.items[1].offset);
    kl_rules_free(r);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    found_list f;
    /* an invalid byte before: the finding in the valid part is reported */
    const char text[] = "\xC0\xAF\xFF\xFE ok \xED\xA0\x80 you never call";
    scan_text(r, text, &f);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0].text, "you never call");
    assert_int_equal(f.items[0].offset, sizeof text - 1 - 14);
    /* no match crosses an invalid byte, and the scan goes on after it */
    scan_text(r, "you never\xFF call. And you never write", &f);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0].text, "you never write");
    /* a truncated sequence at the very end */
    scan_text(r, "you never call \xE2\x80", &f);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0].text, "you never call");
    kl_rules_free(r);
}

static void test_nul_bom_and_utf16(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    found_list f;
    const char with_nul[] = "you never\0call. you never ask";
    assert_int_equal(scan_kind(r, KL_DOC_TEXT, with_nul, sizeof with_nul - 1, &f, NULL), KL_OK);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0].text, "you never ask");

    scan_text(r, "\xEF\xBB\xBFyou never call", &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.items[0].offset, 3);

    const char utf16[] = "\xFF\xFEy\0o\0u\0";
    assert_int_equal(scan_kind(r, KL_DOC_TEXT, utf16, sizeof utf16 - 1, &f, NULL), KL_ERR_INPUT);
    const char utf16_nobom[] = "y\0o\0u\0 \0n\0e\0v\0e\0r\0 \0c\0a\0l\0l\0";
    assert_int_equal(scan_kind(r, KL_DOC_TEXT, utf16_nobom, sizeof utf16_nobom - 1, &f, NULL),
                     KL_ERR_INPUT);
    kl_rules_free(r);
}

static void test_empty_and_whitespace(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    found_list f;
    assert_int_equal(scan_kind(r, KL_DOC_TEXT, "", 0, &f, NULL), KL_OK);
    assert_int_equal(f.n, 0);
    assert_int_equal(scan_kind(r, KL_DOC_TEXT, NULL, 0, &f, NULL), KL_OK);
    scan_text(r, " \n\n\t\r\n ", &f);
    assert_int_equal(f.n, 0);
    kl_rules_free(r);
}

static void test_big_line_without_newline(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    size_t n = 10u * 1024u * 1024u;
    char *big = malloc(n + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)("abcdefgh "[i % 9]);
    memcpy(big + n / 2, " you never call ", 16);
    big[n] = '\0';
    found_list f;
    scan_text(r, big, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.items[0].line, 1);
    assert_memory_equal(big + f.items[0].offset, "you never call", 14);
    free(big);
    kl_rules_free(r);
}

static void test_policy_and_order(void **state)
{
    (void)state;
    const char *yaml = "pack: t\nrules:\n"
                       "  - id: a\n    category: absolute\n    severity: info\n    message: m\n"
                       "    match: 'never'\n"
                       "  - id: b\n    category: blame\n    severity: warning\n    message: m\n"
                       "    match: 'you never'\n";
    kl_rules *r = rules_from(yaml);
    found_list f;
    scan_text(r, "you never call", &f);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.items[0].rule, "b"); /* earlier offset first */
    assert_string_equal(f.items[1].rule, "a");

    kl_policy *p = kl_policy_new(r);
    assert_int_equal(kl_policy_enable(p, "b", 0), KL_OK);
    assert_int_equal(kl_policy_set_severity(p, "absolute", KL_SEVERITY_ERROR), KL_OK);
    assert_int_equal(kl_policy_enable(p, "no-such-rule", 0), KL_ERR_USAGE);
    assert_int_equal(scan_kind(r, KL_DOC_TEXT, "you never call", 14, &f, p), KL_OK);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0].rule, "a");
    assert_int_equal(f.items[0].severity, KL_SEVERITY_ERROR);
    assert_int_equal(kl_policy_enable(p, "all", 0), KL_OK);
    assert_int_equal(scan_kind(r, KL_DOC_TEXT, "you never call", 14, &f, p), KL_OK);
    assert_int_equal(f.n, 0);
    kl_policy_free(p);
    kl_rules_free(r);
}

static void test_catastrophic_pattern_is_bounded(void **state)
{
    (void)state;
    kl_rules *r = rules_from(ONE_RULE("(\\w+\\s?)*$", ""));
    char line[4000];
    for (size_t i = 0; i < sizeof line - 2; i++)
        line[i] = (char)("abcde "[i % 6]);
    line[sizeof line - 2] = '!';
    line[sizeof line - 1] = '\0';
    found_list f;
    scan_text(r, line, &f); /* must return (limit), not hang */
    kl_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions_ascii),
        cmocka_unit_test(test_positions_multibyte),
        cmocka_unit_test(test_crlf_and_last_line),
        cmocka_unit_test(test_sentence_bounds),
        cmocka_unit_test(test_unless_drops_sentence),
        cmocka_unit_test(test_jit_after_some_candidates),
        cmocka_unit_test(test_overlaps_reported_once),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_nul_bom_and_utf16),
        cmocka_unit_test(test_empty_and_whitespace),
        cmocka_unit_test(test_big_line_without_newline),
        cmocka_unit_test(test_policy_and_order),
        cmocka_unit_test(test_catastrophic_pattern_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_template.c -- suggestion templates: captures, {feeling}, [blanks],
 * escapes and capitalisation that follows the matched span.
 */
#include "helpers.h"

static const char rule_yaml[] =
    ONE_RULE("\\byou\\s+never\\s+(?<act>[a-z][^.!?;,]*)(?<tail>!)?",
             "    suggest:\n"
             "      - \"I feel {feeling} when you don't {act}{tail}\"\n"
             "      - \"When [what happened], I felt {feeling}. {{{act}}} [[x]]\"\n"
             "    feelings:\n"
             "      - {word: listen, feeling: unheard}\n"
             "      - {word: help, feeling: alone}\n"
             "      - {word: \"*\", feeling: hurt}\n");

/* Renders suggestion i for the first finding in text. */
static char *render(const kl_rules *r, const char *text, size_t i, int *blank);

typedef struct one {
    size_t i;
    char *out;
    int blank;
} one;

static int first_only(const kl_finding *f, void *ud)
{
    one *o = ud;
    if (!o->out)
        assert_int_equal(kl_finding_suggestion(f, o->i, &o->out, NULL, &o->blank), KL_OK);
    return 1;
}

static char *render(const kl_rules *r, const char *text, size_t i, int *blank)
{
    kl_scanner *sc = kl_scanner_new(r);
    one o = {.i = i};
    kl_scan_options opt;
    memset(&opt, 0, sizeof opt);
    opt.abi_version = KL_ABI_VERSION;
    opt.on_finding = first_only;
    opt.userdata = &o;
    kl_diag d;
    assert_int_equal(kl_scan(sc, &opt, text, strlen(text), &d), KL_OK);
    kl_scanner_free(sc);
    if (blank)
        *blank = o.blank;
    assert_non_null(o.out);
    return o.out;
}

static void check(const kl_rules *r, const char *text, size_t i, const char *want)
{
    char *got = render(r, text, i, NULL);
    assert_string_equal(got, want);
    free(got);
}

static void test_feelings_lookup(void **state)
{
    (void)state;
    kl_rules *r = rules_from(rule_yaml);
    check(r, "You never listen to me", 0, "I feel unheard when you don't listen to me");
    check(r, "You never listening", 0, "I feel unheard when you don't listening");
    check(r, "You never help out", 0, "I feel alone when you don't help out");
    check(r, "You never call", 0, "I feel hurt when you don't call"); /* the "*" default */
    kl_rules_free(r);
}

static void test_optional_capture_and_escapes(void **state)
{
    (void)state;
    kl_rules *r = rules_from(rule_yaml);
    check(r, "You never call!", 0, "I feel hurt when you don't call!");
    int blank = 0;
    char *s = render(r, "You never call", 1, &blank);
    assert_string_equal(s, "When [what happened], I felt hurt. {call} [x]");
    assert_int_equal(blank, 1);
    free(s);
    s = render(r, "You never call", 0, &blank);
    assert_int_equal(blank, 0);
    free(s);
    kl_rules_free(r);

    /* a lone ']' is literal text, and so is what follows it */
    r = rules_from(
        ONE_RULE("\\byou\\s+never\\s+(?<act>[a-z]+)", "    suggest: [\"a ] b, {act} ]c\"]\n"));
    check(r, "You never call", 0, "A ] b, call ]c");
    kl_rules_free(r);
}

static void test_capitalisation_follows_span(void **state)
{
    (void)state;
    kl_rules *r = rules_from(
        ONE_RULE("\\b(?:it''s|its)\\s+your\\s+fault", "    suggest: [\"this is hard for me\"]\n"));
    check(r, "It's your fault", 0, "This is hard for me");
    check(r, "well, it's your fault", 0, "this is hard for me");
    kl_rules_free(r);

    /* the pronoun I stays upper case after a lower-case span */
    r = rules_from(rule_yaml);
    check(r, "ugh you never listen", 0, "I feel unheard when you don't listen");
    check(r, "YOU NEVER LISTEN", 0, "I feel unheard when you don't LISTEN");
    kl_rules_free(r);

    r = rules_from(ONE_RULE("\\bcalm down\\b", "    suggest: [\"I can see this matters\"]\n"));
    check(r, "ok calm down", 0, "I can see this matters");
    check(r, "Calm down", 0, "I can see this matters");
    kl_rules_free(r);

    r = rules_from(ONE_RULE("\\bcalm down\\b", "    suggest: [\"Tell me more\"]\n"));
    check(r, "ok calm down", 0, "tell me more");
    kl_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feelings_lookup),
        cmocka_unit_test(test_optional_capture_and_escapes),
        cmocka_unit_test(test_capitalisation_follows_span),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

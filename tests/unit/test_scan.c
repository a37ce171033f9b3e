/*
 * test_scan.c -- matching and positions: sentences, unless, overlaps,
 * multi-byte text, CRLF, the last line without a newline, invalid UTF-8,
 * UTF-16 and big inputs, and which sentences run a rule's ASCII twin.
 */
#include "helpers.h"

#include "kl_internal.h"
#include <pthread.h>

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
    /* the longest, and one with inner dots; a longer word ends it */
    static const struct {
        const char *yaml, *text;
        size_t n;
    } abbr[] = {
        {ONE_RULE("\\b(?:approx|e\\.g)\\. two\\b", ""),
         "It takes approx. two hours, e.g. two days.", 2},
        {ONE_RULE("\\b(?:approx|e\\.g)\\. two\\b", ""), "Its first word was Approx. Two came next.",
         1},
        {ONE_RULE("\\w+\\. two\\b", ""), "We reapprox. Two came next.", 0},
        /* a word that only starts an abbreviation, or has one inside, ends it */
        {ONE_RULE("\\w+\\. two\\b", ""), "It was Pro. Two came next.", 0},
        {ONE_RULE("\\w+\\. two\\b", ""), "It was Xmr. Two came next.", 0},
        {ONE_RULE("\\w+\\. two\\b", ""), "It was MRS. Two came next.", 1},
    };
    for (size_t i = 0; i < sizeof abbr / sizeof abbr[0]; i++) {
        r = rules_from(abbr[i].yaml);
        scan_text(r, abbr[i].text, &f);
        assert_int_equal(f.n, abbr[i].n);
        kl_rules_free(r);
    }

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
    if (jit) {
        assert_int_equal(atomic_load(&rule->jit_state), KL_JIT_ON);
        /* ASCII text only: the twin ran, the pattern's own JIT code was
         * never needed */
        assert_non_null(rule->jit_ascii);
        assert_null(rule->jit_re);
    }
    kl_rules_free(r);
}

/* Streams the text with the size hint expect (0: none); returns the
 * rule's JIT state after one scan. */
static int jit_state_after_stream(uint64_t expect, found_list *f)
{
    kl_rules *r = rules_from(never_rule);
    const char *text = "Never mind, you never call. You never write!";
    assert_int_equal(stream_all(r, KL_DOC_TEXT, text, strlen(text), strlen(text), f, expect),
                     KL_OK);
    int state = atomic_load(&r->rules[0]->jit_state);
    kl_rules_free(r);
    return state;
}

/* A stream said to be large JIT-compiles a rule at its first candidate;
 * a smaller one, or one without the hint, interprets it first. The
 * findings are the same. */
static void test_jit_at_once_for_large_input(void **state)
{
    (void)state;
    uint32_t jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    static const uint64_t hints[] = {0, KL_JIT_EAGER_BYTES - 1, KL_JIT_EAGER_BYTES,
                                     (uint64_t)1 << 40};
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        found_list f;
        int st = jit_state_after_stream(hints[i], &f);
        assert_int_equal(st, hints[i] >= KL_JIT_EAGER_BYTES && jit ? KL_JIT_ON : 0);
        assert_int_equal(f.n, 1);
        assert_string_equal(f.items[0].text, "You never write");
        assert_int_equal(f.items[0].offset, 28);
    }
}

/* Once JIT-compiled, a rule runs its ASCII twin (compiled without UTF and
 * UCP) on sentences of ASCII only, and its own code on the others: a
 * typographic apostrophe and a letter outside ASCII are still read as
 * characters. The pattern's own code is interpreted until its
 * KL_JIT_AFTER-th sentence that is not ASCII only, then JIT-compiled. */
static void test_ascii_twin_only_on_ascii(void **state)
{
    (void)state;
    kl_rules *r = rules_from(ONE_RULE("\\b(?:you''re|\\w+)\\s+always\\b", ""));
    kl_rule *rule = r->rules[0];
    static const char *const want[] = {"You\xE2\x80\x99re always", "Zo\xC3\xAB always",
                                       "Bob always", "You're always"};
    found_list f;
    for (unsigned i = 0; i < KL_JIT_AFTER + 20; i++) {
        if (i == KL_JIT_AFTER / 2 + 2) {
            /* the twin is there; the pattern's own code is not, yet */
            assert_int_not_equal(atomic_load(&rule->jit_state), 0);
            assert_int_equal(atomic_load(&rule->utf_state), 0);
        }
        scan_text(r,
                  "You\xE2\x80\x99re always late. Zo\xC3\xAB always forgets. Bob always "
                  "forgets. You're always late.",
                  &f);
        assert_int_equal(f.n, 4);
        for (size_t k = 0; k < 4; k++)
            assert_string_equal(f.items[k].text, want[k]);
    }
    uint32_t jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    if (jit) {
        assert_int_equal(atomic_load(&rule->jit_state), KL_JIT_ON);
        assert_non_null(rule->jit_ascii);
        assert_int_equal(atomic_load(&rule->utf_state), KL_JIT_ON);
        assert_non_null(rule->jit_re);
    }
    kl_rules_free(r);
}

/* The twin is made only where it matches ASCII as the pattern does. */
static void test_ascii_twin_when_safe(void **state)
{
    (void)state;
    static const struct {
        const char *pattern;
        int twin;
    } cases[] = {
        {"you'?re\\s+always", 1},     /* ' becomes a class: quantified whole */
        {"caf\xC3\xA9s?", 1},         /* the s is quantified, not the é */
        {"[\xC3\xA9\xC3\xA8]?te", 1}, /* a class is one item */
        {"caf\xC3\xA9?", 0},          /* without UTF, ? would take one byte of é */
        {"caf\xC3\xA9*x", 0},
        {"caf\xC3\xA9{0,2}x", 0},
        {"(?x) caf \xC3\xA9 ? x", 0}, /* (?x): white space before the ? */
        {"\\Qcaf\xC3\xA9\\E?", 0},    /* \Q...\E: the ? follows the é */
        {"\xF0\x9F\x99\x84(?#c)?", 0},
        {"\\x{2019}", 0},             /* past 0xFF: no twin without UTF */
        {"(?x)you\xE2\x80\xA8re", 0}, /* U+2028 is white space under (?x) */
        {"(?x)you\xC2\x85re", 0},     /* and so is NEL */
        {"\\x{e9}?x", 1},             /* one byte without UTF too */
        {"(", 0},                     /* does not compile */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pcre2_code *re = kl_pattern_compile_ascii(cases[i].pattern);
        if ((re != NULL) != cases[i].twin)
            fail_msg("%s: twin %s", cases[i].pattern, re ? "made" : "not made");
        pcre2_code_free(re);
    }
    /* and the twin of a safe one finds on ASCII what the pattern finds */
    kl_diag d;
    const char *pat = "\\b(?:you'?re|u\\s*r)\\s+(?:so\\s+)?[[:alpha:]]+\\b";
    pcre2_code *utf = kl_pattern_compile(pat, "t", "r", "match", NULL, NULL, &d);
    pcre2_code *asc = kl_pattern_compile_ascii(pat);
    assert_non_null(utf);
    assert_non_null(asc);
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    static const char *const subjects[] = {"YOU'RE so LATE",    "ur\tlate_ish", "you re late",
                                           "Youre  SO\v\fnice", "x:u r 2late",  "yours late"};
    for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
        size_t n = strlen(subjects[i]);
        int a = pcre2_match(utf, (PCRE2_SPTR)subjects[i], n, 0, 0, md, NULL);
        PCRE2_SIZE as = a >= 0 ? pcre2_get_ovector_pointer(md)[0] : 0;
        PCRE2_SIZE ae = a >= 0 ? pcre2_get_ovector_pointer(md)[1] : 0;
        int b = pcre2_match(asc, (PCRE2_SPTR)subjects[i], n, 0, 0, md, NULL);
        assert_int_equal(a, b);
        if (b >= 0) {
            assert_int_equal(as, pcre2_get_ovector_pointer(md)[0]);
            assert_int_equal(ae, pcre2_get_ovector_pointer(md)[1]);
        }
    }
    pcre2_match_data_free(md);
    pcre2_code_free(utf);
    pcre2_code_free(asc);
}

/* Threads that share a rule set JIT-compile each rule once, at its
 * KL_JIT_AFTER-th candidate, whichever thread gets there: the others go on
 * interpreting meanwhile, and every scan finds the same. (No cmocka
 * assertions in the threads: they count what differs.) */
enum { JIT_THREADS = 4, JIT_SCANS = 60 };

typedef struct jit_job {
    const kl_rules *rules;
    const char *text;
    size_t want_n, want_sum; /* findings of a scan, and the sum of their offsets */
    int bad;
} jit_job;

static int count_finding(const kl_finding *f, void *userdata)
{
    size_t *acc = userdata;
    acc[0]++;
    acc[1] += f->offset;
    return 0;
}

static void *jit_worker(void *arg)
{
    jit_job *j = arg;
    kl_scanner *sc = kl_scanner_new(j->rules);
    if (!sc) {
        j->bad++;
        return NULL;
    }
    for (int i = 0; i < JIT_SCANS; i++) {
        size_t acc[2] = {0, 0};
        kl_scan_options o = scan_options(KL_DOC_TEXT, count_finding, acc);
        kl_diag d;
        if (kl_scan(sc, &o, j->text, strlen(j->text), &d) != KL_OK || acc[0] != j->want_n ||
            acc[1] != j->want_sum)
            j->bad++;
    }
    kl_scanner_free(sc);
    return NULL;
}

static void test_jit_shared_by_threads(void **state)
{
    (void)state;
    const char *text = "You never listen to me. Calm down, you are overreacting. You always do "
                       "this! It's your fault. I'm sorry you feel that way. You're such an "
                       "idiot. Why do you always forget? You\xE2\x80\x99re never on time.";
    kl_diag d;
    kl_rules *rules = kl_rules_new();
    assert_int_equal(kl_rules_add_defaults(rules, &d), KL_OK);
    assert_int_equal(kl_rules_compile(rules, &d), KL_OK);
    found_list f;
    scan_text(rules, text, &f); /* the first scan interprets every rule */
    assert_true(f.n >= 6);
    jit_job jobs[JIT_THREADS];
    pthread_t t[JIT_THREADS];
    size_t sum = 0;
    for (size_t i = 0; i < f.n; i++)
        sum += f.items[i].offset;
    for (int k = 0; k < JIT_THREADS; k++) {
        jobs[k] = (jit_job){rules, text, f.n, sum, 0};
        assert_int_equal(pthread_create(&t[k], NULL, jit_worker, &jobs[k]), 0);
    }
    for (int k = 0; k < JIT_THREADS; k++) {
        pthread_join(t[k], NULL);
        assert_int_equal(jobs[k].bad, 0);
    }
    uint32_t jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    size_t on = 0;
    for (size_t i = 0; i < rules->count; i++)
        on += atomic_load(&rules->rules[i]->jit_state) == KL_JIT_ON;
    if (jit)
        assert_true(on >= 6); /* the rules that found something, at least */
    kl_rules_free(rules);
}

/* kl_skip_none_of never passes a byte of its set, and passes over
 * sixteen bytes at a time where none is (with vector extensions). */
static void test_skip_none_of(void **state)
{
    (void)state;
    static const unsigned char pool[] = {'a', ' ',  '.',  '!',  '?',  '\n', '\r', 0x1E,
                                         '"', '\'', 0xE2, 0x80, 0x99, 0xC3, 'z',  0};
    uint64_t x = 0x9E3779B97F4A7C15u;
    size_t skipped = 0;
    for (int round = 0; round < 20000; round++) {
        unsigned char buf[96], set[8];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = x % sizeof buf;
        int sparse = (x >> 8) % 2; /* mostly 'a', so whole blocks hold no target */
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = sparse && x % 8 ? 'a' : pool[x % sizeof pool];
        }
        int n = 1 + (int)((x >> 16) % 8);
        for (int k = 0; k < n; k++)
            set[k] = pool[(x >> (20 + 3 * k)) % sizeof pool];
        size_t from = len ? (x >> 44) % len : 0, to = len;
        size_t at = kl_skip_none_of(buf, from, to, set, n);
        assert_true(at >= from && at <= to);
        for (size_t i = from; i < at; i++)
            assert_null(memchr(set, buf[i], (size_t)n));
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* in a block of sixteen, it stops at the byte itself */
        assert_true(to - at < 16 || memchr(set, buf[at], (size_t)n));
#endif
        skipped += at - from;
    }
#if defined(__GNUC__)
    assert_true(skipped > 10000);
#endif
}

/* kl_skip_no_pair never passes the start of the pair, also where the
 * pair straddles two blocks of sixteen, and passes over whole blocks
 * where it is not. */
static void test_skip_no_pair(void **state)
{
    (void)state;
    static const unsigned char pool[] = {'k', 'i', 'n', 'a', ' ', 0xE2};
    uint64_t x = 0x2545F4914F6CDD1Du;
    size_t skipped = 0;
    for (int round = 0; round < 20000; round++) {
        unsigned char buf[96];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = x % sizeof buf;
        int sparse = (x >> 8) % 2;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = sparse && x % 16 ? 'a' : pool[x % sizeof pool];
        }
        size_t from = len ? (x >> 44) % len : 0;
        size_t at = kl_skip_no_pair(buf, from, len, 'k', 'i');
        assert_true(at >= from && at <= len);
        for (size_t i = from; i + 1 < len && i < at; i++)
            assert_false(buf[i] == 'k' && buf[i + 1] == 'i');
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        assert_true(len - at < 17 || (buf[at] == 'k' && buf[at + 1] == 'i'));
#endif
        skipped += at - from;
    }
#if defined(__GNUC__)
    assert_true(skipped > 10000);
#endif
    /* the pair across a block's last byte */
    unsigned char t[40];
    memset(t, 'a', sizeof t);
    t[15] = 'k', t[16] = 'i';
    assert_true(kl_skip_no_pair(t, 0, sizeof t, 'k', 'i') <= 15);
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

/* An invalid byte ends the sentence wherever it is: before, inside or
 * after a block of sixteen ASCII bytes, or the first of one. */
static void test_invalid_utf8_anywhere(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    found_list f;
    for (size_t p = 0; p <= 48; p++) {
        char text[96];
        memset(text, 'a', p);
        strcpy(text + p, " you never call\xFFit");
        scan_text(r, text, &f);
        assert_int_equal(f.n, 1);
        assert_string_equal(f.items[0].text, "you never call");
        assert_int_equal(f.items[0].offset, p + 1);
        /* a NUL too */
        text[p + 15] = '\0';
        memcpy(text + p + 16, "it", 2);
        assert_int_equal(scan_kind(r, KL_DOC_TEXT, text, p + 18, &f, NULL), KL_OK);
        assert_int_equal(f.n, 1);
        assert_string_equal(f.items[0].text, "you never call");
    }
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

/* The cursor's reading of a byte-at-a-time walk, written out here as the
 * reference: a line ends at \n, \r\n or a lone \r; an invalid byte is one
 * column; a character beyond U+FFFF is two UTF-16 units; a BOM at the very
 * start is no column. */
static void ref_position(const unsigned char *s, size_t len, size_t target, unsigned *line,
                         unsigned *col, unsigned *col16)
{
    size_t pos = len >= 3 && target > 0 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF ? 3 : 0;
    *line = *col = *col16 = 1;
    while (pos < target) {
        if (s[pos] == '\n' || (s[pos] == '\r' && !(pos + 1 < len && s[pos + 1] == '\n'))) {
            (*line)++;
            *col = *col16 = 1;
            pos++;
        } else if (s[pos] == '\r') {
            pos++;
        } else {
            uint32_t cp;
            size_t n = s[pos] < 0x80 ? 1 : kl_utf8_decode(s + pos, len - pos, &cp);
            if (n == 0)
                n = 1;
            (*col)++;
            *col16 += n == 4 ? 2 : 1;
            pos += n;
        }
    }
}

/* Moving the cursor in steps of any size gives the reference's line and
 * columns at every step, whatever mix of line endings and characters
 * comes in between (the cursor skips whole lines at a time). */
static void test_cursor_in_steps(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "a",    "bc ",  "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\n", "\r", "\r\n", "\n\n",
        "\xFF", "\xC3", "\t"};
    unsigned seed = 12345;
    for (int round = 0; round < 2000; round++) {
        unsigned char text[600];
        size_t len = 0;
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 16) % 5 == 0) {
            memcpy(text, "\xEF\xBB\xBF", 3);
            len = 3;
        }
        /* some texts without any \r, so the fast path has long runs */
        int no_cr = round % 2;
        while (len < 500) {
            seed = seed * 1103515245u + 12345u;
            const char *p = pieces[(seed >> 16) % 12];
            if (no_cr && strchr(p, '\r'))
                continue;
            memcpy(text + len, p, strlen(p));
            len += strlen(p);
        }
        kl_cursor c;
        kl_cursor_init(&c);
        size_t target = 0;
        while (target < len) {
            seed = seed * 1103515245u + 12345u;
            target += 1 + (seed >> 16) % 90;
            if (target > len)
                target = len;
            /* a target inside a character is where no finding starts */
            while (target < len && (text[target] & 0xC0) == 0x80)
                target++;
            kl_cursor_advance(&c, (const char *)text, len, target);
            unsigned line, col, col16;
            ref_position(text, len, c.pos, &line, &col, &col16);
            assert_true(c.pos >= target);
            assert_int_equal(c.line, line);
            assert_int_equal(c.col, col);
            assert_int_equal(c.col16, col16);
        }
    }
}

/* kl_utf8_clean: valid UTF-8 unchanged, each invalid byte one U+FFFD. */
static void test_utf8_clean(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"plain", 5, "plain"},
        {"caf\xC3\xA9 \xF0\x9F\x98\x80", 10, "caf\xC3\xA9 \xF0\x9F\x98\x80"},
        {"a\xFF.txt", 6, "a\xEF\xBF\xBD.txt"},
        /* a truncated sequence, then an overlong "/": a U+FFFD per byte */
        {"\xE2\x82x\xC0\xAF", 5, "\xEF\xBF\xBD\xEF\xBF\xBDx\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"", 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = kl_utf8_clean(cases[i].in, cases[i].len);
        assert_non_null(got);
        assert_string_equal(got, cases[i].out);
        free(got);
    }
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
        cmocka_unit_test(test_jit_at_once_for_large_input),
        cmocka_unit_test(test_ascii_twin_only_on_ascii),
        cmocka_unit_test(test_ascii_twin_when_safe),
        cmocka_unit_test(test_jit_shared_by_threads),
        cmocka_unit_test(test_skip_none_of),
        cmocka_unit_test(test_skip_no_pair),
        cmocka_unit_test(test_overlaps_reported_once),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_invalid_utf8_anywhere),
        cmocka_unit_test(test_nul_bom_and_utf16),
        cmocka_unit_test(test_empty_and_whitespace),
        cmocka_unit_test(test_big_line_without_newline),
        cmocka_unit_test(test_policy_and_order),
        cmocka_unit_test(test_catastrophic_pattern_is_bounded),
        cmocka_unit_test(test_cursor_in_steps),
        cmocka_unit_test(test_utf8_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_documents.c -- the kind readers (Markdown, commit, email, chat),
 * sentence boundaries between blocks, directives, blanking and path globs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "kl_internal.h"

#include <cmocka.h>

static const char never_rule[] = ONE_RULE("\\byou\\s+never\\s+(?<act>[a-z]+)",
                                         "    suggest: [\"I feel hurt when you don't {act}\"]\n");
/* matches only when "never" and "listen" sit in one sentence */
static const char across_rule[] = ONE_RULE("\\bnever\\W+listen\\b", "");

static void assert_slices(const char *input, const found_list *f)
{
    for (size_t i = 0; i < f->n; i++) {
        assert_true(f->items[i].offset + f->items[i].length <= strlen(input));
        assert_memory_equal(input + f->items[i].offset, f->items[i].text, f->items[i].length);
    }
}

static void test_markdown_offsets_in_lists_tables_emphasis(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    const char *md = "# Title\n"
                     "\n"
                     "- one: you never call\n"
                     "  1. nested: you never write\n"
                     "\n"
                     "| a | b |\n"
                     "|---|---|\n"
                     "| x | you never ask |\n"
                     "\n"
                     "Some *emphasis*: you **never** smile, and `you never code`.\n";
    found_list f;
    assert_int_equal(scan_kind(r, KL_DOC_MARKDOWN, md, strlen(md), &f, NULL), KL_OK);
    assert_int_equal(f.n, 4);
    assert_string_equal(f.items[0].text, "you never call");
    assert_int_equal(f.items[0].line, 3);
    assert_int_equal(f.items[0].column, 8);
    assert_string_equal(f.items[1].text, "you never write");
    assert_int_equal(f.items[1].line, 4);
    assert_int_equal(f.items[1].column, 14);
    assert_string_equal(f.items[2].text, "you never ask");
    assert_int_equal(f.items[2].line, 8);
    assert_int_equal(f.items[2].column, 7);
    /* emphasis markers are blank to the rules but inside the span */
    assert_string_equal(f.items[3].text, "you **never** smile");
    assert_string_equal(f.items[3].fix, "I feel hurt when you don't smile");
    assert_slices(md, &f);
    kl_rules_free(r);
}

static void test_markdown_skips_code_html_quotes_front_matter(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    const char *md = "---\nsubject: you never call\n---\n"
                     "```\nyou never build\n```\n"
                     "    you never indent\n\n"
                     "<div>you never render</div>\n\n"
                     "> you never quote\n\n"
                     "[a link](<https://x.org/you never call>) and [you never click](x.md)\n";
    found_list f;
    assert_int_equal(scan_kind(r, KL_DOC_MARKDOWN, md, strlen(md), &f, NULL), KL_OK);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0].text, "you never click");
    assert_slices(md, &f);
    kl_rules_free(r);
}

static void test_sentences_stop_at_blocks(void **state)
{
    (void)state;
    kl_rules *r = rules_from(across_rule);
    found_list f;
    const char *joined = "You never\nlisten.\n"; /* one paragraph: one sentence */
    assert_int_equal(scan_kind(r, KL_DOC_MARKDOWN, joined, strlen(joined), &f, NULL), KL_OK);
    assert_int_equal(f.n, 1);
    const char *blocks[] = {
        "- you never\n- listen\n",              /* list items */
        "| never | listen |\n|---|---|\n",      /* table cells */
        "# you never\nlisten\n",                /* heading, then a paragraph */
        "you never\n\nlisten\n",                /* paragraphs */
        "> never\n\nlisten\n",                  /* a quote and a paragraph */
    };
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        assert_int_equal(
            scan_kind(r, KL_DOC_MARKDOWN, blocks[i], strlen(blocks[i]), &f, NULL), KL_OK);
        if (f.n)
            fail_msg("a sentence ran across a block boundary in: %s", blocks[i]);
    }
    kl_rules_free(r);
}

static void test_commit_comments_and_scissors(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    const char *msg = "Subject\n\nyou never test\n# you never comment\n"
                      "# ------------------------ >8 ------------------------\n"
                      "+you never diff\n";
    found_list f;
    assert_int_equal(scan_kind(r, KL_DOC_COMMIT, msg, strlen(msg), &f, NULL), KL_OK);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.items[0].line, 3);
    kl_rules_free(r);
}

static void test_email_parts(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    const char *mail = "From: a@b.c\nSubject: you never header\n"
                       "Content-Type: multipart/alternative; boundary=\"XX\"\n\n"
                       "preamble you never see\n"
                       "--XX\nContent-Type: text/plain\n\nyou never plain\n"
                       "> you never quoted\n"
                       "--XX\nContent-Type: text/html\n\n<p>you never html</p>\n"
                       "--XX--\n";
    found_list f;
    assert_int_equal(scan_kind(r, KL_DOC_EMAIL, mail, strlen(mail), &f, NULL), KL_OK);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0].text, "you never plain");
    kl_rules_free(r);
}

static void test_chat_speakers(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    const char *chat = "Alex: you never call\n"
                       "Sam Lee: well you never write\n"
                       "and you never ask\n"
                       "31.12.23, 9:04\xE2\x80\xAFPM - Alex: you never visit\n";
    found_list f;
    assert_int_equal(scan_kind(r, KL_DOC_CHAT, chat, strlen(chat), &f, NULL), KL_OK);
    assert_int_equal(f.n, 4);
    assert_string_equal(f.items[0].speaker, "Alex");
    assert_string_equal(f.items[1].speaker, "Sam Lee");
    assert_string_equal(f.items[2].speaker, "Sam Lee"); /* a continuation line */
    assert_string_equal(f.items[3].speaker, "Alex");
    assert_string_equal(f.items[3].text, "you never visit");
    assert_slices(chat, &f);
    kl_rules_free(r);
}

static void test_directive_ids_and_ranges(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    const char *text = "kindlint-disable absolute\nyou never a\nkindlint-enable absolute\n"
                       "you never b\nkindlint-disable-next-line r, other\nyou never c\n"
                       "you never d\n";
    found_list f;
    assert_int_equal(scan_kind(r, KL_DOC_TEXT, text, strlen(text), &f, NULL), KL_OK);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.items[0].text, "you never b");
    assert_string_equal(f.items[1].text, "you never d");
    kl_rules_free(r);
}

/* A paragraph of more than 64 KiB: md4c reads its brackets as
 * parentheses (it is quadratic in them), so its links are text, and
 * the paragraphs around it are read as before. */
static void test_markdown_giant_paragraph(void **state)
{
    (void)state;
    kl_rules *r = rules_from(ONE_RULE("\\bnevermore\\b", ""));
    size_t cap = 200000, n = 0;
    char *md = malloc(cap);
    assert_non_null(md);
    n += (size_t)sprintf(md + n, "[one](http://x/nevermore) is a link.\n\n");
    size_t giant = n;
    n += (size_t)sprintf(md + n, "[two](http://x/nevermore) is text here.\n");
    while (n < 100000)
        n += (size_t)sprintf(md + n, "[some words](http://example.com) more words\n");
    n += (size_t)sprintf(md + n, "\n[three](http://x/nevermore) is a link.\n");
    found_list f;
    assert_int_equal(scan_kind(r, KL_DOC_MARKDOWN, md, n, &f, NULL), KL_OK);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.items[0].offset, giant + strlen("[two](http://x/"));
    assert_slices(md, &f);
    /* the same paragraph under the size is read as Markdown */
    n = giant + (size_t)sprintf(md + giant, "[two](http://x/nevermore) is a link.\n");
    assert_int_equal(scan_kind(r, KL_DOC_MARKDOWN, md, n, &f, NULL), KL_OK);
    assert_int_equal(f.n, 0);
    free(md);
    kl_rules_free(r);
}

/* Directives against a plain replay of what they mean, line by line, on
 * random mixes of disables, enables and next-line directives, with and
 * without IDs (the rule's id, pack and category, "all", unknown ones). */
static void test_directive_replay(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule); /* rule r, pack t, category absolute */
    static const char *const ids[] = {"r", "t", "absolute", "all", "other", "r, other", ""};
    enum { NIDS = sizeof ids / sizeof ids[0], NKEYS = 6 };
    /* keys: every rule (a directive without IDs), then the IDs one by one */
    static const char *const keys[NKEYS] = {"", "r", "t", "absolute", "all", "other"};
    uint64_t x = 0xD1B54A32D192ED03u;
    for (int round = 0; round < 2000; round++) {
        char text[8192];
        size_t n = 0;
        int open[NKEYS] = {0}, next[NKEYS] = {0}, expect[64], nexpect = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int lines = 1 + (int)(x % 90);
        for (int l = 0; l < lines && nexpect < 60; l++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int kind = (int)(x % 8); /* 0-1 disable, 2-3 enable, 4 next line, else text */
            const char *id = ids[(x >> 8) % NIDS];
            int now[NKEYS];
            memcpy(now, next, sizeof now);
            memset(next, 0, sizeof next);
            int named[NKEYS] = {0}; /* the keys the directive names */
            named[0] = !*id;
            for (int k = 1; k < NKEYS; k++)
                named[k] = strstr(id, keys[k]) && *id &&
                           (strcmp(id, keys[k]) == 0 || (k == 1 && strcmp(id, "r, other") == 0) ||
                            (k == 5 && strcmp(id, "r, other") == 0));
            if (kind <= 4) {
                static const char *const verb[] = {"disable", "disable", "enable", "enable",
                                                   "disable-next-line"};
                n +=
                    (size_t)snprintf(text + n, sizeof text - n, "kindlint-%s %s\n", verb[kind], id);
                for (int k = 0; k < NKEYS; k++) {
                    if (kind <= 1 && named[k])
                        open[k] = 1;
                    if ((kind == 2 || kind == 3) && (named[k] || (!*id)))
                        open[k] = 0;
                    if (kind == 4 && named[k])
                        next[k] = 1;
                }
                continue;
            }
            int off = 0;
            for (int k = 0; k < NKEYS - 1; k++) /* "other" names no key of rule r */
                off |= open[k] || now[k];
            n += (size_t)snprintf(text + n, sizeof text - n, "you never x%c%c\n", 'a' + l / 26,
                                  'a' + l % 26);
            if (!off)
                expect[nexpect++] = l;
        }
        found_list f;
        assert_int_equal(scan_kind(r, KL_DOC_TEXT, text, n, &f, NULL), KL_OK);
        if ((int)f.n != nexpect)
            fail_msg("round %d: %zu findings, %d expected in:\n%s", round, f.n, nexpect, text);
        for (int i = 0; i < nexpect; i++) {
            char want[32];
            snprintf(want, sizeof want, "you never x%c%c", 'a' + expect[i] / 26,
                     'a' + expect[i] % 26);
            assert_string_equal(f.items[i].text, want);
        }
    }
    kl_rules_free(r);
}

/* A directive is found wherever it starts, also after text that holds
 * "k" and "ki" and across the blocks of sixteen bytes the first look
 * reads. */
static void test_directive_found_anywhere(void **state)
{
    (void)state;
    kl_rules *r = rules_from(never_rule);
    static const char filler[] = "a kiwi kit, kk ki k; skis ";
    for (size_t pad = 0; pad <= 40; pad++) {
        char text[160];
        size_t n = 0;
        for (size_t i = 0; i < pad; i++)
            text[n++] = filler[i % (sizeof filler - 1)];
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "%skindlint-disable-next-line\nyou never a\nyou never b",
                              pad ? "\n" : "");
        found_list f;
        assert_int_equal(scan_kind(r, KL_DOC_TEXT, text, n, &f, NULL), KL_OK);
        if (f.n != 1 || strcmp(f.items[0].text, "you never b") != 0)
            fail_msg("directive after %zu bytes: %zu findings", pad, f.n);
    }
    kl_rules_free(r);
}

/* kl_blank_bytes blanks every byte of its range but \n and \r, and
 * nothing outside it, whatever the range's length and alignment. */
static void test_blank_bytes(void **state)
{
    (void)state;
    static const char pool[] = {'a', '\n', '\r', ' ', '\t', (char)0xE2, (char)0x80, 'z'};
    uint64_t x = 0x853C49E6748FEA9Bu;
    for (int round = 0; round < 5000; round++) {
        char buf[80], want[80];
        for (size_t i = 0; i < sizeof buf; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = pool[x % sizeof pool];
        }
        size_t from = (x >> 20) % sizeof buf, to = from + (x >> 40) % (sizeof buf - from + 1);
        memcpy(want, buf, sizeof buf);
        for (size_t i = from; i < to; i++)
            if (want[i] != '\n' && want[i] != '\r')
                want[i] = KL_BLANK;
        kl_blank_bytes(buf, from, to);
        if (memcmp(buf, want, sizeof buf) != 0)
            fail_msg("range [%zu, %zu): blanked wrongly", from, to);
    }
}

static void test_globs(void **state)
{
    (void)state;
    assert_true(kl_glob_match("*.md", "a/b/c.md", 0));
    assert_false(kl_glob_match("*.md", "a/b/c.txt", 0));
    assert_true(kl_glob_match("docs/*.md", "docs/a.md", 0));
    assert_false(kl_glob_match("docs/*.md", "x/docs/a.md", 0)); /* anchored */
    assert_false(kl_glob_match("docs/*.md", "docs/sub/a.md", 0));
    assert_true(kl_glob_match("docs/**/*.md", "docs/a.md", 0));
    assert_true(kl_glob_match("docs/**/*.md", "docs/x/y/a.md", 0));
    assert_true(kl_glob_match("**/drafts", "a/b/drafts", 1));
    assert_true(kl_glob_match("build/", "x/build", 1));
    assert_false(kl_glob_match("build/", "x/build", 0)); /* directories only */
    assert_true(kl_glob_match("/top.txt", "top.txt", 0));
    assert_false(kl_glob_match("/top.txt", "sub/top.txt", 0));
    assert_true(kl_glob_match_path("vendor/", "vendor/lib/a.txt", 0));
    assert_false(kl_glob_match_path("vendor/", "src/vendorx/a.txt", 0));
}

/* Quotations are blanked the same whether a search for a closing mark
 * starts where the last one of its kind found none (kl_quotes_memo) or
 * goes to its end: random texts of quotes, apostrophes, words and breaks. */
static void test_quotes_memo_blanks_the_same(void **state)
{
    (void)state;
    static const char *const pool[] = {"\xE2\x80\x9C",
                                       "\xE2\x80\x9D",
                                       "\xE2\x80\x98",
                                       "\xE2\x80\x99",
                                       "'",
                                       "\"",
                                       " ",
                                       " ",
                                       "you",
                                       "never",
                                       "a",
                                       "don't",
                                       ".",
                                       "!",
                                       ",",
                                       "\n",
                                       "\n\n",
                                       "(",
                                       "\t",
                                       "it's"};
    uint64_t x = 0x853C49E6748FEA9Bu;
    int blanked = 0;
    for (int round = 0; round < 3000; round++) {
        char text[2048];
        size_t len = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t parts = 1 + x % 400;
        for (size_t k = 0; k < parts; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const char *p = pool[x % (sizeof pool / sizeof pool[0])];
            size_t n = strlen(p);
            if (len + n >= sizeof text)
                break;
            memcpy(text + len, p, n);
            len += n;
        }
        char *out[2];
        for (int memo = 0; memo < 2; memo++) {
            kl_doc doc;
            memset(&doc, 0, sizeof doc);
            doc.input = doc.text = text;
            doc.len = len;
            kl_quotes_memo = memo;
            assert_int_equal(kl_doc_blank_quotes(&doc), KL_OK);
            out[memo] = malloc(len + 1);
            assert_non_null(out[memo]);
            memcpy(out[memo], doc.text, len);
            blanked += memo && memcmp(doc.text, text, len) != 0;
            kl_doc_close(&doc);
        }
        assert_memory_equal(out[0], out[1], len);
        free(out[0]);
        free(out[1]);
    }
    kl_quotes_memo = 1;
    assert_true(blanked > 100); /* the texts hold quotations */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown_offsets_in_lists_tables_emphasis),
        cmocka_unit_test(test_markdown_skips_code_html_quotes_front_matter),
        cmocka_unit_test(test_quotes_memo_blanks_the_same),
        cmocka_unit_test(test_sentences_stop_at_blocks),
        cmocka_unit_test(test_commit_comments_and_scissors),
        cmocka_unit_test(test_email_parts),
        cmocka_unit_test(test_chat_speakers),
        cmocka_unit_test(test_markdown_giant_paragraph),
        cmocka_unit_test(test_directive_ids_and_ranges),
        cmocka_unit_test(test_directive_replay),
        cmocka_unit_test(test_directive_found_anywhere),
        cmocka_unit_test(test_blank_bytes),
        cmocka_unit_test(test_globs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

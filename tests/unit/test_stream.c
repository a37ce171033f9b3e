/*
 * test_stream.c -- kl_stream gives the same findings, at the same
 * positions, as kl_scan on the whole input, however the input is cut into
 * pieces: across window edges, inside one endless line, with a disable
 * directive open across windows.
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

static const char rules_yaml[] = ONE_RULE("\\byou\\s+never\\s+(?<act>[a-z]+)", "");

static void assert_same(const found_list *a, const found_list *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->items[i].offset, b->items[i].offset);
        assert_int_equal(a->items[i].length, b->items[i].length);
        assert_int_equal(a->items[i].line, b->items[i].line);
        assert_int_equal(a->items[i].column, b->items[i].column);
        assert_int_equal(a->items[i].end_line, b->items[i].end_line);
        assert_int_equal(a->items[i].end_column, b->items[i].end_column);
        assert_string_equal(a->items[i].text, b->items[i].text);
    }
}

/* filler text of n bytes made of lines, with a multi-byte character in
 * each so columns and bytes differ */
static size_t fill(char *buf, size_t n, int newlines)
{
    static const char line[] = "caf\xC3\xA9 notes about the week, nothing to see here. ";
    size_t k = 0;
    while (k + sizeof line < n) {
        memcpy(buf + k, line, sizeof line - 1);
        k += sizeof line - 1;
        if (newlines && (k / 700) % 3 == 0)
            buf[k - 1] = '\n';
    }
    return k;
}

static void test_stream_equals_scan(void **state)
{
    (void)state;
    kl_rules *r = rules_from(rules_yaml);
    size_t cap = 3u * 1024u * 1024u;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t n = 0;
    /* a finding every ~200 KiB, one of them right at the 1 MiB mark */
    size_t marks[] = {1000, 200000, 1048560, 1048576 + 400000, 2500000};
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        n += fill(text + n, marks[m] - n, 1);
        n += (size_t)sprintf(text + n, "Well, you never listen. ");
    }
    n += fill(text + n, cap - n - 100, 1);
    found_list *whole = malloc(sizeof *whole), *part = malloc(sizeof *part);
    assert_non_null(whole);
    assert_non_null(part);
    assert_int_equal(scan_kind(r, KL_DOC_TEXT, text, n, whole, NULL), KL_OK);
    assert_int_equal(whole->n, 5);
    size_t pieces[] = {1, 4093, 65536, 1u << 20, 3u << 20};
    for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
        if (pieces[p] == 1) /* byte by byte over the first 1.2 MiB only */
            assert_int_equal(stream_all(r, KL_DOC_TEXT, text, 1300000, 1, part, 0), KL_OK);
        else
            assert_int_equal(stream_all(r, KL_DOC_TEXT, text, n, pieces[p], part, 0), KL_OK);
        if (pieces[p] == 1) {
            found_list *head = malloc(sizeof *head);
            assert_non_null(head);
            assert_int_equal(scan_kind(r, KL_DOC_TEXT, text, 1300000, head, NULL), KL_OK);
            assert_same(head, part);
            free(head);
        } else {
            assert_same(whole, part);
        }
    }
    free(whole);
    free(part);
    free(text);
    kl_rules_free(r);
}

static void test_stream_one_endless_line(void **state)
{
    (void)state;
    kl_rules *r = rules_from(rules_yaml);
    size_t n = 5u * 1024u * 1024u;
    char *text = malloc(n);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        text[i] = "abc "[i % 4];
    memcpy(text + 1048570, " you never call ", 16); /* across the first window's end */
    memcpy(text + 3000000, " you never write ", 17);
    found_list *part = malloc(sizeof *part);
    assert_non_null(part);
    assert_int_equal(stream_all(r, KL_DOC_TEXT, text, n, 65536, part, 0), KL_OK);
    assert_int_equal(part->n, 2);
    assert_int_equal(part->items[0].offset, 1048571);
    assert_string_equal(part->items[0].text, "you never call");
    assert_int_equal(part->items[0].line, 1);
    assert_int_equal(part->items[0].column, 1048572);
    assert_int_equal(part->items[1].offset, 3000001);
    free(part);
    free(text);
    kl_rules_free(r);
}

static void test_stream_disable_across_windows(void **state)
{
    (void)state;
    kl_rules *r = rules_from(rules_yaml);
    size_t cap = 4u * 1024u * 1024u;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t n = (size_t)sprintf(text, "kindlint-disable\nyou never a\n\n");
    n += fill(text + n, 1500000, 1);
    n += (size_t)sprintf(text + n, "\n\nyou never b\n\nkindlint-enable\n\nyou never c\n");
    found_list *whole = malloc(sizeof *whole), *part = malloc(sizeof *part);
    assert_non_null(whole);
    assert_non_null(part);
    assert_int_equal(scan_kind(r, KL_DOC_TEXT, text, n, whole, NULL), KL_OK);
    assert_int_equal(whole->n, 1);
    assert_string_equal(whole->items[0].text, "you never c");
    assert_int_equal(stream_all(r, KL_DOC_TEXT, text, n, 65536, part, 0), KL_OK);
    assert_same(whole, part);

    /* a disable of the rule's id (and of a name that suppresses nothing)
     * carried over three window ends: a window passes on the IDs it
     * inherited itself */
    n = (size_t)sprintf(text, "kindlint-disable r other-name\nyou never a\n\n");
    n += fill(text + n, 3500000, 1);
    n += (size_t)sprintf(text + n, "\n\nyou never b\n\nkindlint-enable r\n\nyou never c\n");
    assert_int_equal(scan_kind(r, KL_DOC_TEXT, text, n, whole, NULL), KL_OK);
    assert_int_equal(whole->n, 1);
    assert_string_equal(whole->items[0].text, "you never c");
    assert_int_equal(stream_all(r, KL_DOC_TEXT, text, n, 65536, part, 0), KL_OK);
    assert_same(whole, part);
    free(whole);
    free(part);
    free(text);
    kl_rules_free(r);
}

/* The window cut, written out here as the reference: one simple pass
 * per rule (kl_window_cut makes one pass, sixteen bytes at a time). */
/* The end of the line that starts at a (before its \n, or len). */
static size_t ref_line_end(const char *b, size_t len, size_t a)
{
    const char *nl = memchr(b + a, '\n', len - a);
    return nl ? (size_t)(nl - b) : len;
}

/* One rule after the other, each the last place in the second half where
 * it holds: after a blank line; in chat, before a turn; after a line that
 * ends a sentence; after any line break; after white space (cutting a
 * line: overlap); at a character boundary. */
static size_t ref_cut(const char *b, size_t len, int chat, int *overlap)
{
    size_t lo = len / 2;
    *overlap = 0;
    for (size_t i = len; i-- > lo;) {
        if (b[i] != '\n')
            continue;
        size_t j = i + 1 + strspn(b + i + 1, " \t\r"); /* b[len] is '\0' */
        if (j < len && b[j] == '\n')
            return j + 1;
    }
    for (size_t i = len; chat && i-- > lo;)
        if (b[i] == '\n' && i + 1 < len && kl_chat_turn_line(b, i + 1, ref_line_end(b, len, i + 1)))
            return i + 1;
    for (size_t i = len; i-- > lo;) {
        if (b[i] != '\n')
            continue;
        size_t ls = i;
        while (ls > 0 && b[ls - 1] != '\n')
            ls--;
        if (kl_line_ends_sentence(b, ls, i))
            return i + 1;
    }
    for (size_t i = len; i-- > lo;)
        if (b[i] == '\n')
            return i + 1;
    *overlap = 1;
    size_t cut = len;
    while (cut > lo && b[cut - 1] != ' ' && b[cut - 1] != '\t')
        cut--;
    if (cut > lo)
        return cut; /* after the last white space */
    for (cut = len; cut > lo; cut--)
        if (((unsigned char)b[cut] & 0xC0) != 0x80)
            break;
    return cut;
}

/* kl_window_cut cuts where the reference does, on texts made of words,
 * sentence ends, quotes, ellipses, blank lines, chat turns, \r and
 * characters of several bytes, with line breaks dense or sparse. */
static void test_window_cut_matches_reference(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "word ",       "words",   ". ",   "!",        "?\")",          "\n",
        "\n\n",        "\n \t\n", "\r\n", "\nAlex: ", "\nSam Lee: hi", "\xE2\x80\xA6",
        "caf\xC3\xA9", "\t",      "x"};
    uint64_t x = 0x9E3779B97F4A7C15u;
    char buf[700];
    for (int round = 0; round < 20000; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t want = x % 600, len = 0;
        int sparse = (x >> 10) % 3; /* 0: any piece; else few line breaks */
        while (len < want) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const char *p = pieces[x % (sizeof pieces / sizeof pieces[0])];
            if (sparse && strchr(p, '\n') && x % 16)
                continue;
            size_t n = strlen(p);
            if (len + n >= sizeof buf - 1)
                break;
            memcpy(buf + len, p, n);
            len += n;
        }
        buf[len] = '\0';
        for (int chat = 0; chat <= 1; chat++) {
            int o1, o2;
            size_t got = kl_window_cut(buf, len, chat, &o1), ref = ref_cut(buf, len, chat, &o2);
            if (got != ref || o1 != o2)
                fail_msg("round %d, %zu bytes, chat %d: cut %zu (overlap %d), want %zu (%d)", round,
                         len, chat, got, o1, ref, o2);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_equals_scan),
        cmocka_unit_test(test_stream_one_endless_line),
        cmocka_unit_test(test_stream_disable_across_windows),
        cmocka_unit_test(test_window_cut_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

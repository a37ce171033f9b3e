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
    free(whole);
    free(part);
    free(text);
    kl_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_equals_scan),
        cmocka_unit_test(test_stream_one_endless_line),
        cmocka_unit_test(test_stream_disable_across_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

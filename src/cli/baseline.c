/*
 * baseline.c -- adopting kindlint on text that already has findings.
 *
 * --write-baseline FILE records every finding of the run by path, rule and
 * fingerprint (kl_finding_fingerprint: the matched text and its sentence,
 * not the line), so edits elsewhere in a file leave it valid. --baseline
 * FILE then drops findings recorded there: each entry excuses as many
 * findings as it was recorded times, so a second copy of an old sentence
 * is still reported. The file is JSON, sorted, with the matched text for
 * the human reviewing it; paths and text that are not valid UTF-8 are
 * recorded and looked up with U+FFFD for each invalid byte, as the json
 * formats show them. It is written entry by entry, so memory holds the
 * entries and no copy of the file:
 *
 *   {"version": 1, "findings": [
 *     {"path": "docs/a.md", "rule": "you-never", "fingerprint": "…", "text": "…"}]}
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

typedef struct entry {
    char *path, *rule, *text;
    char fp[KL_FINGERPRINT_LEN + 1];
    size_t count; /* loaded: how many more findings it excuses */
} entry;

struct cli_baseline {
    entry *items;
    size_t n, cap;
    int sorted;
};

cli_baseline *cli_baseline_new(void)
{
    return calloc(1, sizeof(cli_baseline));
}

void cli_baseline_free(cli_baseline *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->items[i].path);
        free(b->items[i].rule);
        free(b->items[i].text);
    }
    free(b->items);
    free(b);
}

static int cmp_entry(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    int c = strcmp(a->path, b->path);
    if (!c)
        c = strcmp(a->rule, b->rule);
    if (!c)
        c = strcmp(a->fp, b->fp);
    return c;
}

int cli_baseline_add(cli_baseline *b, const char *path, const char *rule, const char *fp,
                     const char *text, size_t tlen)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        entry *p = realloc(b->items, cap * sizeof *p);
        if (!p)
            return -1;
        b->items = p;
        b->cap = cap;
    }
    entry *e = &b->items[b->n];
    memset(e, 0, sizeof *e);
    e->path = kl_utf8_clean(path, strlen(path));
    e->rule = strdup(rule);
    e->text = text ? kl_utf8_clean(text, tlen) : strdup("");
    snprintf(e->fp, sizeof e->fp, "%s", fp);
    e->count = 1;
    if (!e->path || !e->rule || !e->text) {
        free(e->path);
        free(e->rule);
        free(e->text);
        return -1;
    }
    b->n++;
    b->sorted = 0;
    return 0;
}

cli_baseline *cli_baseline_load(const char *path)
{
    json_error_t err;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        if (err.line > 0)
            fprintf(stderr, "%s:%d:%d: error: %s\n", path, err.line, err.column, err.text);
        else
            fprintf(stderr, "%s: error: %s\n", path, err.text);
        return NULL;
    }
    cli_baseline *b = cli_baseline_new();
    json_t *list = json_object_get(root, "findings");
    json_t *version = json_object_get(root, "version");
    if (!b || !json_is_array(list) || !json_is_integer(version) ||
        json_integer_value(version) != 1) {
        fprintf(stderr,
                "%s: error: not a kindlint baseline (expected {\"version\": 1, \"findings\": "
                "[...]}; make one with --write-baseline)\n",
                path);
        json_decref(root);
        cli_baseline_free(b);
        return NULL;
    }
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *p = json_string_value(json_object_get(item, "path"));
        const char *r = json_string_value(json_object_get(item, "rule"));
        const char *f = json_string_value(json_object_get(item, "fingerprint"));
        if (!p || !r || !f || strlen(f) != KL_FINGERPRINT_LEN) {
            fprintf(stderr,
                    "%s: error: finding %zu needs \"path\", \"rule\" and a %d-digit "
                    "\"fingerprint\"\n",
                    path, i + 1, KL_FINGERPRINT_LEN);
            json_decref(root);
            cli_baseline_free(b);
            return NULL;
        }
        if (cli_baseline_add(b, p, r, f, NULL, 0) != 0) {
            fputs("kindlint: error: out of memory\n", stderr);
            json_decref(root);
            cli_baseline_free(b);
            return NULL;
        }
    }
    json_decref(root);
    /* sort, and fold repeats into counts */
    if (b->n)
        qsort(b->items, b->n, sizeof *b->items, cmp_entry);
    size_t w = 0;
    for (size_t k = 0; k < b->n; k++) {
        if (w > 0 && cmp_entry(&b->items[w - 1], &b->items[k]) == 0) {
            b->items[w - 1].count++;
            free(b->items[k].path);
            free(b->items[k].rule);
            free(b->items[k].text);
        } else {
            b->items[w++] = b->items[k];
        }
    }
    b->n = w;
    b->sorted = 1;
    return b;
}

int cli_baseline_take(cli_baseline *b, const char *path, const char *rule, const char *fp)
{
    entry key;
    memset(&key, 0, sizeof key);
    /* as recorded: valid UTF-8 (a path that is not is rare; OOM: no match) */
    char *clean = kl_utf8_clean(path, strlen(path));
    key.path = clean ? clean : "";
    key.rule = (char *)rule;
    snprintf(key.fp, sizeof key.fp, "%s", fp);
    entry *e = b->n && clean ? bsearch(&key, b->items, b->n, sizeof *b->items, cmp_entry) : NULL;
    free(clean);
    if (!e || e->count == 0)
        return 0;
    e->count--;
    return 1;
}

/* s (valid UTF-8) as a JSON string, escaped as jansson escapes it. */
static int put_string(FILE *f, const char *s)
{
    json_t *j = json_string(s);
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    int rc = t && fputs(t, f) >= 0 ? 0 : -1;
    free(t);
    return rc;
}

/* The baseline as JSON_INDENT(2) would print it, an entry at a time. */
static int put_baseline(FILE *f, const cli_baseline *b)
{
    int rc = fputs("{\n  \"version\": 1,\n  \"findings\": ", f) < 0;
    rc |= fputs(b->n ? "[\n" : "[]", f) < 0;
    for (size_t i = 0; i < b->n && !rc; i++) {
        const entry *e = &b->items[i];
        rc |= fputs("    {\n      \"path\": ", f) < 0 || put_string(f, e->path) != 0;
        rc |= fputs(",\n      \"rule\": ", f) < 0 || put_string(f, e->rule) != 0;
        rc |= fputs(",\n      \"fingerprint\": ", f) < 0 || put_string(f, e->fp) != 0;
        rc |= fputs(",\n      \"text\": ", f) < 0 || put_string(f, e->text) != 0;
        rc |= fputs(i + 1 < b->n ? "\n    },\n" : "\n    }\n  ]", f) < 0;
    }
    rc |= fputs("\n}\n", f) < 0;
    return rc ? -1 : 0;
}

int cli_baseline_write(cli_baseline *b, const char *path)
{
    if (b->n)
        qsort(b->items, b->n, sizeof *b->items, cmp_entry);
    /* written whole to a temporary file, then renamed over the old one */
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    int rc = -1;
    if (tmp) {
        snprintf(tmp, n, "%s.tmp-XXXXXX", path);
        int fd = mkstemp(tmp);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (f && put_baseline(f, b) == 0 && fflush(f) == 0 && fsync(fileno(f)) == 0 &&
            fclose(f) == 0) {
            f = NULL;
            if (chmod(tmp, 0644) == 0 && rename(tmp, path) == 0)
                rc = 0;
        } else if (f) {
            fclose(f);
        } else if (fd >= 0) {
            close(fd);
        }
        if (rc != 0) {
            perror(path);
            unlink(tmp);
        }
    }
    free(tmp);
    return rc;
}

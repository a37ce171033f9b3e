/*
 * directives.c -- inline suppression.
 *
 *   kindlint-disable-next-line [ID...]   the line after the directive
 *   kindlint-disable [ID...]             from here ...
 *   kindlint-enable [ID...]              ... to here (or the end of input)
 *
 * An ID is a rule id, a pack or a category; no ID means every rule. IDs
 * are separated by spaces or commas; "--" starts a free-text reason
 * ("kindlint-disable-next-line you-never -- quoting the ticket"). The
 * kind readers find directives (in <!-- --> comments in Markdown, on a
 * line of their own elsewhere) and call kl_directive_parse; resolve turns
 * them into regions. A "kindlint-enable ID" ends a "kindlint-disable ID";
 * a bare "kindlint-enable" ends them all.
 */
#include <stdlib.h>
#include <string.h>

#include "kl_internal.h"

static int is_id_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '*';
}

static void free_directive(kl_directive *d)
{
    for (size_t i = 0; i < d->nids; i++)
        free(d->ids[i]);
    free(d->ids);
}

int kl_directive_parse(kl_doc *doc, const char *s, size_t n, size_t offset, size_t line_end)
{
    static const struct {
        const char *word;
        kl_directive_kind kind;
    } words[] = {
        {"kindlint-disable-next-line", KL_DIRECTIVE_NEXT_LINE},
        {"kindlint-disable", KL_DIRECTIVE_DISABLE},
        {"kindlint-enable", KL_DIRECTIVE_ENABLE},
    };
    kl_directive d;
    memset(&d, 0, sizeof d);
    size_t i = 0;
    size_t w;
    for (w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t k = strlen(words[w].word);
        if (n >= k && memcmp(s, words[w].word, k) == 0 &&
            (n == k || s[k] == ' ' || s[k] == '\t' || s[k] == ':' ||
             (s[k] == '-' && n >= k + 3 && memcmp(s + k, "-->", 3) == 0) || s[k] == '\r' ||
             s[k] == '\n')) {
            i = k;
            break;
        }
    }
    if (w == sizeof words / sizeof words[0])
        return 0;
    d.kind = words[w].kind;
    d.offset = offset;
    d.line_end = line_end;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ',' || s[i] == ':'))
            i++;
        if (i >= n || s[i] == '\r' || s[i] == '\n')
            break;
        if (n - i >= 2 && s[i] == '-' && s[i + 1] == '-')
            break; /* "-->" or a "-- reason" */
        size_t b = i;
        while (i < n && is_id_byte(s[i]))
            i++;
        if (i == b)
            break; /* anything else ends the list */
        char **p = realloc(d.ids, (d.nids + 1) * sizeof *p);
        if (!p)
            goto oom;
        d.ids = p;
        if (!(d.ids[d.nids] = malloc(i - b + 1)))
            goto oom;
        memcpy(d.ids[d.nids], s + b, i - b);
        d.ids[d.nids][i - b] = '\0';
        d.nids++;
    }
    if (doc->ndirs == doc->dirs_cap) {
        size_t cap = doc->dirs_cap ? doc->dirs_cap * 2 : 8;
        kl_directive *p = realloc(doc->dirs, cap * sizeof *p);
        if (!p)
            goto oom;
        doc->dirs = p;
        doc->dirs_cap = cap;
    }
    doc->dirs[doc->ndirs++] = d;
    return 1;
oom:
    free_directive(&d);
    return -1;
}

void kl_directives_free(kl_doc *doc)
{
    for (size_t i = 0; i < doc->ndirs; i++)
        free_directive(&doc->dirs[i]);
    free(doc->dirs);
    free(doc->regions);
    doc->dirs = NULL;
    doc->regions = NULL;
    doc->ndirs = doc->nregions = 0;
}

static int push_region(kl_region **arr, size_t *n, size_t *cap, size_t start, size_t end,
                       const char *id)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        kl_region *p = realloc(*arr, c * sizeof *p);
        if (!p)
            return -1;
        *arr = p;
        *cap = c;
    }
    (*arr)[(*n)++] = (kl_region){start, end, id, 0};
    return 0;
}

kl_status kl_directives_resolve(kl_doc *doc)
{
    const char *s = doc->input;
    size_t len = doc->len, cap = 0;
    /* disables still open: indexes into doc->regions, end not yet known */
    size_t *open = NULL, nopen = 0;
    if (doc->ninherit) {
        if (!(open = malloc(doc->ninherit * sizeof *open)))
            return KL_ERR_NOMEM;
        for (size_t i = 0; i < doc->ninherit; i++) {
            open[nopen++] = doc->nregions;
            if (push_region(&doc->regions, &doc->nregions, &cap, 0, len, doc->inherit[i]) != 0)
                goto oom;
        }
    }
    for (size_t k = 0; k < doc->ndirs; k++) {
        const kl_directive *d = &doc->dirs[k];
        size_t le = d->line_end < len ? d->line_end : len;
        if (d->kind == KL_DIRECTIVE_NEXT_LINE) {
            size_t a = le;
            if (a < len && s[a] == '\r')
                a++;
            if (a < len && s[a] == '\n')
                a++;
            size_t b = a;
            while (b < len && s[b] != '\n' && s[b] != '\r')
                b++;
            if (d->nids == 0) {
                if (push_region(&doc->regions, &doc->nregions, &cap, a, b, NULL) != 0)
                    goto oom;
            }
            for (size_t i = 0; i < d->nids; i++)
                if (push_region(&doc->regions, &doc->nregions, &cap, a, b, d->ids[i]) != 0)
                    goto oom;
        } else if (d->kind == KL_DIRECTIVE_DISABLE) {
            size_t want = d->nids ? d->nids : 1;
            size_t *p = realloc(open, (nopen + want) * sizeof *p);
            if (!p)
                goto oom;
            open = p;
            for (size_t i = 0; i < want; i++) {
                open[nopen++] = doc->nregions;
                if (push_region(&doc->regions, &doc->nregions, &cap, le, len,
                                d->nids ? d->ids[i] : NULL) != 0)
                    goto oom;
            }
        } else {
            for (size_t j = 0; j < nopen;) {
                kl_region *r = &doc->regions[open[j]];
                int match = d->nids == 0;
                for (size_t i = 0; i < d->nids && !match; i++)
                    match = r->id && strcmp(r->id, d->ids[i]) == 0;
                if (match) {
                    r->end = d->offset;
                    r->open = 0;
                    open[j] = open[--nopen];
                } else {
                    j++;
                }
            }
        }
    }
    for (size_t j = 0; j < nopen; j++)
        doc->regions[open[j]].open = 1;
    free(open);
    return KL_OK;
oom:
    free(open);
    return KL_ERR_NOMEM;
}

int kl_doc_suppressed(const kl_doc *doc, const kl_rule *r, size_t offset)
{
    for (size_t i = 0; i < doc->nregions; i++) {
        const kl_region *g = &doc->regions[i];
        if (offset < g->start || offset >= g->end)
            continue;
        if (!g->id || strcmp(g->id, r->id) == 0 || strcmp(g->id, r->pack->name) == 0 ||
            strcmp(g->id, kl_category_name(r->category)) == 0 || strcmp(g->id, "all") == 0)
            return 1;
    }
    return 0;
}

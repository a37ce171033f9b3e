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

/* The disables still open while directives are resolved: for each ID (and
 * NULL, every rule) at most one, found by a hash of the ID; an enable
 * costs the IDs it names, a bare enable the disables it closes. */
typedef struct open_set {
    const char **key; /* a slot's ID; slots are never emptied */
    size_t *region;   /* its open region, or NONE */
    size_t cap;       /* a power of two, at least twice the IDs */
    size_t *list;     /* slots that were opened, in order (some closed since) */
    size_t nlist;
    size_t null_region; /* the open disable of every rule, or NONE */
} open_set;

#define NONE ((size_t)-1)

static size_t *open_slot(open_set *o, const char *id)
{
    size_t i = kl_hash_bytes(id, strlen(id)) & (o->cap - 1);
    while (o->key[i] && strcmp(o->key[i], id) != 0)
        i = (i + 1) & (o->cap - 1);
    if (!o->key[i]) {
        o->key[i] = id;
        o->region[i] = NONE;
    }
    return &o->region[i];
}

/* Opens a disable of id (NULL: every rule) at start, unless one is open. */
static int open_disable(kl_doc *doc, open_set *o, size_t *cap, const char *id, size_t start)
{
    size_t *at = id ? open_slot(o, id) : &o->null_region;
    if (*at != NONE)
        return 0; /* the open one covers this one too */
    *at = doc->nregions;
    if (id)
        o->list[o->nlist++] = (size_t)(at - o->region);
    return push_region(&doc->regions, &doc->nregions, cap, start, doc->len, id);
}

static void close_disable(kl_doc *doc, size_t *at, size_t end)
{
    if (*at == NONE)
        return;
    doc->regions[*at].end = end;
    *at = NONE;
}

/* Are a and b the same ID (NULL: every rule)? */
static int same_id(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Regions by ID (NULL first), then by start. */
static int cmp_region(const void *a, const void *b)
{
    const kl_region *p = a, *q = b;
    if (p->id != q->id) {
        if (!p->id || !q->id)
            return p->id ? 1 : -1;
        int c = strcmp(p->id, q->id);
        if (c)
            return c;
    }
    return (p->start > q->start) - (p->start < q->start);
}

kl_status kl_directives_resolve(kl_doc *doc)
{
    const char *s = doc->input;
    size_t len = doc->len, cap = 0;
    size_t nids = doc->ninherit;
    for (size_t k = 0; k < doc->ndirs; k++)
        nids += doc->dirs[k].nids;
    open_set o = {NULL, NULL, 16, NULL, 0, NONE};
    while (o.cap < 2 * nids)
        o.cap *= 2;
    o.key = calloc(o.cap, sizeof *o.key);
    o.region = malloc(o.cap * sizeof *o.region);
    o.list = malloc((nids ? nids : 1) * sizeof *o.list);
    if (!o.key || !o.region || !o.list)
        goto oom;
    for (size_t i = 0; i < doc->ninherit; i++)
        if (open_disable(doc, &o, &cap, doc->inherit[i], 0) != 0)
            goto oom;
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
            if (d->nids == 0 && open_disable(doc, &o, &cap, NULL, le) != 0)
                goto oom;
            for (size_t i = 0; i < d->nids; i++)
                if (open_disable(doc, &o, &cap, d->ids[i], le) != 0)
                    goto oom;
        } else if (d->nids == 0) {
            /* a bare enable ends every disable */
            close_disable(doc, &o.null_region, d->offset);
            for (size_t j = 0; j < o.nlist; j++)
                close_disable(doc, &o.region[o.list[j]], d->offset);
            o.nlist = 0;
        } else {
            for (size_t i = 0; i < d->nids; i++)
                close_disable(doc, open_slot(&o, d->ids[i]), d->offset);
        }
    }
    if (o.null_region != NONE)
        doc->regions[o.null_region].open = 1;
    for (size_t j = 0; j < o.nlist; j++)
        if (o.region[o.list[j]] != NONE)
            doc->regions[o.region[o.list[j]]].open = 1;
    free(o.key);
    free(o.region);
    free(o.list);
    /* by ID, and a run of one ID's regions made disjoint: kl_doc_suppressed
     * looks each ID up by halves */
    if (doc->nregions > 1)
        qsort(doc->regions, doc->nregions, sizeof *doc->regions, cmp_region);
    size_t n = 0;
    for (size_t i = 0; i < doc->nregions; i++) {
        kl_region *g = &doc->regions[i], *last = n ? &doc->regions[n - 1] : NULL;
        if (last && same_id(last->id, g->id) && g->start <= last->end) {
            if (g->end > last->end)
                last->end = g->end;
            last->open |= g->open;
            continue;
        }
        doc->regions[n++] = *g;
    }
    doc->nregions = n;
    return KL_OK;
oom:
    free(o.key);
    free(o.region);
    free(o.list);
    return KL_ERR_NOMEM;
}

/* Is offset in one of the regions of id (NULL: of every rule)? */
static int in_regions_of(const kl_doc *doc, const char *id, size_t offset)
{
    /* the first region of id or after it, then the last of id starting at
     * or before offset */
    size_t lo = 0, hi = doc->nregions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const kl_region *g = &doc->regions[mid];
        kl_region key = {offset, offset, id, 0};
        if (cmp_region(g, &key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return 0;
    const kl_region *g = &doc->regions[lo - 1];
    return same_id(g->id, id) && g->start <= offset && offset < g->end;
}

int kl_doc_suppressed(const kl_doc *doc, const kl_rule *r, size_t offset)
{
    return in_regions_of(doc, NULL, offset) || in_regions_of(doc, "all", offset) ||
           in_regions_of(doc, r->id, offset) || in_regions_of(doc, r->pack->name, offset) ||
           in_regions_of(doc, kl_category_name(r->category), offset);
}

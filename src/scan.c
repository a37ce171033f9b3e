/*
 * scan.c -- sentences, rule matching and findings.
 *
 * The scanner walks the match buffer of a document (document.c) one
 * sentence at a time. A sentence ends after a run of . ! ? or an ellipsis
 * that is followed by a space, at a blank line, at a hard boundary byte, or
 * after KL_MAX_SENTENCE bytes. Sentences are found SCAN_BATCH at a time;
 * the prefilter (prefilter.c) says for each which rules can match; each of
 * those runs on the sentence alone, so
 * ^ and $ in a pattern are the sentence's edges and no match crosses a
 * sentence. A rule's unless-patterns are tried on the same sentence and drop
 * all of its matches there. Findings of one sentence are sorted by offset,
 * given positions by one forward-only cursor, and handed to the caller.
 * Once a rule is JIT-compiled, a sentence of ASCII only runs its ASCII
 * twin (kl_pattern_compile_ascii), which matches there alike, faster.
 *
 * The scanner owns PCRE2 match data, a match context with limits and a JIT
 * stack, so one scanner per thread shares a read-only kl_rules.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kl_internal.h"

/* Sentences are found this many at a time, then the prefilter reads them
 * (kl_prefilter_batch), then the rules run on them in order. */
#define SCAN_BATCH 16

/* How far a window reaches back over a forced sentence cut, so a match of
 * up to this many bytes that straddles the cut is still seen whole. */
#define SENTENCE_OVERLAP 1024u

struct kl_scanner {
    const kl_rules *rules;
    pcre2_match_data *md;
    pcre2_match_context *mctx; /* for unless-patterns */
    pcre2_match_context *rctx; /* the same, for a rule's pattern: its offset limit */
    pcre2_jit_stack *jit_stack;
    unsigned char *mark[SCAN_BATCH]; /* kl_prefilter_batch's scratch */
    uint32_t *cand[SCAN_BATCH];      /* the candidate rules of a batch of sentences */
    uint32_t *lim[SCAN_BATCH];       /* and how far into each a rule's match can start */
    unsigned char *limited;          /* rules that hit a PCRE2 limit in this scan */
    uint64_t scanned;                /* bytes of sentences scanned, in all scans */
    kl_finding *found;
    size_t nfound, capfound;
};

kl_scanner *kl_scanner_new(const kl_rules *rules)
{
    if (!rules || !rules->compiled)
        return NULL;
    kl_scanner *sc = calloc(1, sizeof *sc);
    if (!sc)
        return NULL;
    sc->rules = rules;
    uint32_t pairs = 1;
    for (size_t i = 0; i < rules->count; i++) {
        uint32_t n = 0;
        pcre2_pattern_info(rules->rules[i]->re, PCRE2_INFO_CAPTURECOUNT, &n);
        if (n + 1 > pairs)
            pairs = n + 1;
    }
    sc->md = pcre2_match_data_create(pairs, NULL);
    sc->mctx = pcre2_match_context_create(NULL);
    sc->jit_stack = pcre2_jit_stack_create(KL_JIT_STACK_MIN, KL_JIT_STACK_MAX, NULL);
    size_t n = rules->count ? rules->count : 1;
    int ok = 1;
    for (int k = 0; k < SCAN_BATCH; k++) {
        sc->mark[k] = calloc(1, n);
        sc->cand[k] = malloc(n * sizeof *sc->cand[k]);
        sc->lim[k] = malloc(n * sizeof *sc->lim[k]);
        ok &= sc->mark[k] && sc->cand[k] && sc->lim[k];
    }
    sc->limited = malloc(n);
    if (!sc->md || !sc->mctx || !sc->jit_stack || !ok || !sc->limited) {
        kl_scanner_free(sc);
        return NULL;
    }
    pcre2_set_match_limit(sc->mctx, KL_MATCH_LIMIT);
    pcre2_set_depth_limit(sc->mctx, KL_DEPTH_LIMIT);
    pcre2_set_heap_limit(sc->mctx, KL_HEAP_LIMIT_KIB);
    pcre2_jit_stack_assign(sc->mctx, NULL, sc->jit_stack);
    if (!(sc->rctx = pcre2_match_context_copy(sc->mctx))) {
        kl_scanner_free(sc);
        return NULL;
    }
    return sc;
}

void kl_scanner_free(kl_scanner *sc)
{
    if (!sc)
        return;
    pcre2_match_data_free(sc->md);
    pcre2_match_context_free(sc->mctx);
    pcre2_match_context_free(sc->rctx);
    pcre2_jit_stack_free(sc->jit_stack);
    for (int k = 0; k < SCAN_BATCH; k++) {
        free(sc->mark[k]);
        free(sc->cand[k]);
        free(sc->lim[k]);
    }
    free(sc->limited);
    free(sc->found);
    free(sc);
}

/* ------------------------------------------------------------------------ */
/* Sentences                                                                 */
/* ------------------------------------------------------------------------ */

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_closer(const unsigned char *s, size_t i, size_t len, size_t *n)
{
    unsigned char c = s[i];
    if (c == ')' || c == ']' || c == '}' || c == '"' || c == '\'' || c == '*' || c == '_') {
        *n = 1;
        return 1;
    }
    /* ’ ” » */
    if (c == 0xE2 && i + 2 < len && s[i + 1] == 0x80 && (s[i + 2] == 0x99 || s[i + 2] == 0x9D)) {
        *n = 3;
        return 1;
    }
    if (c == 0xC2 && i + 1 < len && s[i + 1] == 0xBB) {
        *n = 2;
        return 1;
    }
    return 0;
}

static int is_ellipsis(const unsigned char *s, size_t i, size_t len)
{
    return s[i] == 0xE2 && i + 2 < len && s[i + 1] == 0x80 && s[i + 2] == 0xA6;
}

static int is_ascii_letter(unsigned char c)
{
    return (unsigned)((c | 0x20) - 'a') < 26;
}

/* A '.' after these does not end a sentence. */
static int is_abbreviation(const unsigned char *s, size_t start, size_t dot)
{
    static const char *const abbr[] = {"mr", "mrs", "ms",  "dr", "prof",   "sr",  "jr",
                                       "st", "vs",  "etc", "cf", "approx", "e.g", "i.e"};
    size_t b = dot;
    while (b > start && (is_ascii_letter(s[b - 1]) || (s[b - 1] == '.' && b - 1 > start)))
        if (dot - --b > 6) /* longer than "approx", the longest: none */
            return 0;
    size_t n = dot - b;
    if (n == 0)
        return 0;
    if (n == 1 && b > start && s[b - 1] == '.')
        return 1; /* U.S., e.g. (inner dots) */
    char w[8];    /* the word in lowercase ('.' stays '.') */
    for (size_t i = 0; i < n; i++)
        w[i] = (char)(s[b + i] | 0x20);
    for (size_t i = 0; i < sizeof abbr / sizeof abbr[0]; i++)
        if (abbr[i][0] == w[0] && strlen(abbr[i]) == n && memcmp(abbr[i], w, n) == 0)
            return 1;
    return 0;
}

/* The bytes next_sentence stops at: a hard boundary, a line break, a
 * sentence mark, and the first byte of an ellipsis (as a table, and as a
 * list for kl_skip_none_of). */
static const unsigned char ends_here[256] = {[(unsigned char)KL_BOUNDARY] = 1,
                                             ['\n'] = 1,
                                             ['\r'] = 1,
                                             ['.'] = 1,
                                             ['!'] = 1,
                                             ['?'] = 1,
                                             [0xE2] = 1};

static const unsigned char ends_in[] = {KL_BOUNDARY, '\n', '\r', '.', '!', '?', 0xE2};

/* Finds the next sentence at or after *pos. Returns 0 at the end. *forced
 * is set when the sentence was cut at KL_MAX_SENTENCE rather than ended. */
static int next_sentence(const unsigned char *s, size_t len, size_t *pos, size_t *ss, size_t *se,
                         int *forced)
{
    size_t i = *pos;
    for (;;) {
        while (i < len && (is_space(s[i]) || s[i] == (unsigned char)KL_BOUNDARY))
            i++;
        if (i >= len) {
            *pos = len;
            return 0;
        }
        size_t start = i, end = len, next = len;
        size_t lim = len - start > KL_MAX_SENTENCE ? start + KL_MAX_SENTENCE : len;
        *forced = 0;
        while (i < len) {
            /* most bytes neither end a sentence nor reach its longest */
            i = kl_skip_none_of(s, i, lim, ends_in, sizeof ends_in);
            while (i < lim && !ends_here[s[i]])
                i++;
            if (i >= len)
                break;
            unsigned char c = s[i];
            if (c == (unsigned char)KL_BOUNDARY) {
                end = i;
                next = i + 1;
                break;
            }
            if (c == '\n' || c == '\r') {
                size_t j = i + 1;
                if (c == '\r' && j < len && s[j] == '\n')
                    j++;
                size_t k = j;
                while (k < len && (s[k] == ' ' || s[k] == '\t'))
                    k++;
                if (k >= len || s[k] == '\n' || s[k] == '\r' ||
                    s[k] == (unsigned char)KL_BOUNDARY) {
                    end = i;
                    next = k;
                    break;
                }
                i = j;
                continue;
            }
            if (c == '.' || c == '!' || c == '?' || is_ellipsis(s, i, len)) {
                size_t j = i, n;
                while (j < len &&
                       (s[j] == '.' || s[j] == '!' || s[j] == '?' || is_ellipsis(s, j, len)))
                    j += s[j] == 0xE2 ? 3 : 1;
                while (j < len && is_closer(s, j, len, &n))
                    j += n;
                if (j >= len || is_space(s[j]) || s[j] == (unsigned char)KL_BOUNDARY) {
                    if (!(j == i + 1 && c == '.' && is_abbreviation(s, start, i))) {
                        end = j;
                        next = j;
                        break;
                    }
                }
                i = j;
                continue;
            }
            if (i - start >= KL_MAX_SENTENCE) {
                /* cut an overlong run at the last space in its second half */
                size_t cut = i;
                while (cut > start + KL_MAX_SENTENCE / 2 && !is_space(s[cut - 1]))
                    cut--;
                if (cut <= start + KL_MAX_SENTENCE / 2) {
                    cut = i;
                    while (cut > start && (s[cut] & 0xC0) == 0x80)
                        cut--;
                }
                end = cut;
                next = cut;
                *forced = 1;
                break;
            }
            i++;
        }
        while (end > start && is_space(s[end - 1]))
            end--;
        *pos = next;
        if (end > start) {
            *ss = start;
            *se = end;
            return 1;
        }
        i = next;
    }
}

/* ------------------------------------------------------------------------ */
/* Matching                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct scan_ctx {
    kl_scanner *sc;
    const kl_scan_options *opt;
    kl_doc *doc;
    size_t base; /* offset of doc->input[0] in the whole input */
    /* stream windows that overlap: findings starting at or after drop_from
     * belong to the next window, those starting before guard_end were the
     * last window's (both local offsets) */
    size_t drop_from, guard_end;
    size_t reported_end; /* local end of the last finding reported */
    kl_cursor cursor;
    int stop;
    int large; /* the whole input is large: JIT-compile rules at once */
} scan_ctx;

/* A rule's pattern from off on, within the offset limit set on sc->rctx. */
static int match_at(kl_scanner *sc, const pcre2_code *re, int jit, const unsigned char *subj,
                    size_t slen, size_t off)
{
    if (jit)
        return pcre2_jit_match(re, subj, slen, off, 0, sc->md, sc->rctx);
    return pcre2_match(re, subj, slen, off, PCRE2_NO_UTF_CHECK, sc->md, sc->rctx);
}

static void notice(scan_ctx *c, size_t offset, const kl_rule *r, const char *fmt, const char *a)
{
    if (!c->opt->on_notice)
        return;
    kl_cursor_advance(&c->cursor, c->doc->input, c->doc->len, offset);
    kl_diag d;
    kl_diag_set(&d, KL_ERR_LIMIT, c->opt->path, c->cursor.line, c->cursor.col, r ? r->id : NULL,
                fmt, a);
    c->opt->on_notice(&d, c->opt->userdata);
}

static int is_limit_error(int rc)
{
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
           rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT;
}

/* Does one of the rule's unless-patterns match the sentence? A pattern that
 * hits a limit counts as a match: when in doubt, stay quiet. */
static int unless_hits(scan_ctx *c, kl_rule *r, int eager, const unsigned char *subj, size_t slen,
                       size_t sstart)
{
    if (!r->nunless)
        return 0;
    int jit = kl_rule_prepare_unless(r, eager) == KL_JIT_ON;
    for (size_t u = 0; u < r->nunless; u++) {
        int rc = pcre2_match(jit ? r->jit_unless[u] : r->unless[u], subj, slen, 0,
                             PCRE2_NO_UTF_CHECK, c->sc->md, c->sc->mctx);
        if (rc >= 0)
            return 1;
        if (is_limit_error(rc)) {
            notice(c, sstart, r,
                   "rule '%s': an unless-pattern is too complex for this sentence "
                   "(PCRE2 match limit); the sentence is skipped for this rule",
                   r->id);
            return 1;
        }
    }
    return 0;
}

static int push_finding(kl_scanner *sc, const kl_finding *f)
{
    if (sc->nfound == sc->capfound) {
        size_t cap = sc->capfound ? sc->capfound * 2 : 16;
        kl_finding *p = realloc(sc->found, cap * sizeof *p);
        if (!p)
            return -1;
        sc->found = p;
        sc->capfound = cap;
    }
    sc->found[sc->nfound++] = *f;
    return 0;
}

static int cmp_finding(const void *a, const void *b)
{
    const kl_finding *x = a, *y = b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    if (x->rule->index != y->rule->index)
        return x->rule->index < y->rule->index ? -1 : 1;
    return 0;
}

static kl_span speaker_at(const kl_doc *doc, size_t offset)
{
    kl_span none = {0, 0};
    size_t lo = 0, hi = doc->nturns;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (offset < doc->turns[mid].start)
            hi = mid;
        else if (offset >= doc->turns[mid].end)
            lo = mid + 1;
        else
            return doc->turns[mid].speaker;
    }
    return none;
}

/* Is byte i of the match buffer skipped markup (blank there, not white
 * space in the input)? */
static int is_markup(const kl_doc *doc, size_t i)
{
    return doc->text[i] == KL_BLANK && !is_space((unsigned char)doc->input[i]);
}

/* Drops from each end of [*a, *b) (offsets in the sentence at ss) a run of
 * white space and markup that holds markup; plain spaces a pattern chose
 * to match stay. */
static void trim_markup(const kl_doc *doc, size_t ss, const unsigned char *subj, size_t *a,
                        size_t *b)
{
    size_t e = *b;
    int markup = 0;
    while (e > *a && (is_space(subj[e - 1]) || subj[e - 1] == KL_BLANK)) {
        markup |= is_markup(doc, ss + e - 1);
        e--;
    }
    if (markup)
        *b = e;
    size_t s = *a;
    markup = 0;
    while (s < *b && (is_space(subj[s]) || subj[s] == KL_BLANK)) {
        markup |= is_markup(doc, ss + s);
        s++;
    }
    if (markup)
        *a = s;
}

/* A sentence [ss, se) and where the scan goes on after it. Around a forced
 * cut the windows overlap: findings that end before keep_from were reported
 * by the previous window, and findings that reach this window's forced end
 * and start at or after next_start are left to the next window, which sees
 * them whole. */
typedef struct sentence {
    size_t ss, se, keep_from, next_start;
    int forced;
    size_t ncand; /* its candidate rules, in kl_scanner.cand[k] */
} sentence;

/* Is s[0..n) ASCII only? */
static int all_ascii(const unsigned char *s, size_t n)
{
    size_t i = 0;
    uint64_t high = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        high |= w;
    }
    for (; i < n; i++)
        high |= s[i];
    return !(high & UINT64_C(0x8080808080808080));
}

/* Scans one sentence with its candidate rules. */
static kl_status scan_sentence(scan_ctx *c, const sentence *sn, const uint32_t *cand,
                               const uint32_t *lim)
{
    kl_scanner *sc = c->sc;
    const kl_rules *rules = sc->rules;
    const unsigned char *text = (const unsigned char *)c->doc->text;
    size_t ss = sn->ss, se = sn->se, keep_from = sn->keep_from, next_start = sn->next_start;
    int forced = sn->forced;
    const unsigned char *subj = text + ss;
    size_t slen = se - ss;

    int ascii = -1; /* not known yet */
    int eager = c->large || sc->scanned >= KL_JIT_EAGER_BYTES;
    sc->nfound = 0;
    for (size_t ci = 0; ci < sn->ncand; ci++) {
        size_t ri = cand[ci];
        if (sc->limited[ri])
            continue;
        const kl_rule *r = rules->rules[ri];
        if (!kl_policy_is_enabled(c->opt->policy, r))
            continue;
        /* JIT code for this pattern: the ASCII twin, or the pattern's own */
        int jit = kl_rule_prepare(rules->rules[ri], eager) == KL_JIT_ON, jit_main = jit;
        const pcre2_code *re = r->re;
        if (jit) {
            if (r->jit_ascii && ascii < 0)
                ascii = all_ascii(subj, slen);
            if (r->jit_ascii && ascii)
                re = r->jit_ascii;
            else if ((jit_main = kl_rule_prepare_utf(rules->rules[ri], eager) == KL_JIT_ON))
                re = r->jit_re;
        }
        /* no match starts past the last literal that anchors the rule */
        pcre2_set_offset_limit(sc->rctx, lim[ri] == KL_NO_LIMIT ? PCRE2_UNSET : lim[ri]);
        size_t off = 0;
        int first = 1;
        while (off <= slen) {
            int rc = match_at(sc, re, jit_main, subj, slen, off);
            if (rc == PCRE2_ERROR_NOMATCH)
                break;
            if (rc < 0) {
                if (is_limit_error(rc)) {
                    /* one warning, then the rule rests for the rest of the
                     * input: a pathological pattern costs one limit, not one
                     * per sentence */
                    sc->limited[ri] = 1;
                    notice(c, ss, r,
                           "rule '%s' is too complex for this text (PCRE2 match limit) and "
                           "is skipped from here to the end of the input",
                           r->id);
                }
                break;
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
            size_t ms = ov[0], me = ov[1];
            if (me <= ms) { /* empty match: step one character on */
                if (me >= slen)
                    break;
                off = me + 1;
                while (off < slen && (subj[off] & 0xC0) == 0x80)
                    off++;
                continue;
            }
            /* skipped markup (blank in the match buffer: a closing tag, a
             * link's destination) that a greedy pattern ran into is not the
             * finding, nor are the spaces around it */
            off = me;
            trim_markup(c->doc, ss, subj, &ms, &me);
            kl_finding f;
            memset(&f, 0, sizeof f);
            f.rule = r;
            f.offset = ss + ms;
            f.length = me - ms;
            for (size_t k = 0; k < r->ncaps; k++) {
                uint32_t g = r->cap_group[k];
                if ((int)g < rc && ov[2 * g] != PCRE2_UNSET && ov[2 * g + 1] >= ov[2 * g]) {
                    size_t cs = ov[2 * g], ce = ov[2 * g + 1];
                    trim_markup(c->doc, ss, subj, &cs, &ce);
                    f.captures[k].offset = ss + cs;
                    f.captures[k].length = ce - cs;
                } else {
                    f.captures[k].offset = (size_t)-1;
                }
            }
            for (size_t k = r->ncaps; k < KL_MAX_TEMPLATE_CAPTURES; k++)
                f.captures[k].offset = (size_t)-1;
            if (first) {
                first = 0;
                if (unless_hits(c, rules->rules[ri], eager, subj, slen, ss))
                    break;
            }
            if (f.offset + f.length < keep_from ||
                (forced && f.offset + f.length >= se && f.offset >= next_start))
                continue;
            if (push_finding(sc, &f) != 0)
                return KL_ERR_NOMEM;
        }
    }
    if (sc->nfound > 1)
        qsort(sc->found, sc->nfound, sizeof *sc->found, cmp_finding);

    for (size_t i = 0; i < sc->nfound && !c->stop; i++) {
        kl_finding *f = &sc->found[i];
        if (f->offset >= c->drop_from || f->offset < c->guard_end)
            continue;
        if (c->doc->nregions && kl_doc_suppressed(c->doc, f->rule, f->offset))
            continue;
        if (f->offset + f->length > c->reported_end)
            c->reported_end = f->offset + f->length;
        f->severity = kl_policy_severity(c->opt->policy, f->rule);
        f->sentence.offset = ss;
        f->sentence.length = slen;
        f->speaker = speaker_at(c->doc, f->offset);
        for (size_t k = f->offset; k < f->offset + f->length; k++) {
            if (c->doc->text[k] == KL_BLANK && !is_space((unsigned char)c->doc->input[k])) {
                f->flags |= KL_FINDING_CROSSES_MARKUP;
                break;
            }
        }
        f->base = c->doc->input;
        f->base_offset = c->base;
        f->base_length = c->doc->len;
        kl_cursor_advance(&c->cursor, c->doc->input, c->doc->len, f->offset);
        f->line = c->cursor.line;
        f->column = c->cursor.col;
        f->column_utf16 = c->cursor.col16;
        kl_cursor end = c->cursor;
        kl_cursor_advance(&end, c->doc->input, c->doc->len, f->offset + f->length);
        f->end_line = end.line;
        f->end_column = end.col;
        f->end_column_utf16 = end.col16;
        /* offsets into the whole input from here on */
        f->offset += c->base;
        f->sentence.offset += c->base;
        if (f->speaker.length)
            f->speaker.offset += c->base;
        for (size_t k = 0; k < KL_MAX_TEMPLATE_CAPTURES; k++)
            if (f->captures[k].offset != (size_t)-1)
                f->captures[k].offset += c->base;
        if (c->opt->on_finding && c->opt->on_finding(f, c->opt->userdata))
            c->stop = 1;
    }
    return KL_OK;
}

/* Is name a rule id, a pack or a category of this rule set? */
static int known_name(const kl_rules *rules, const char *name)
{
    if (strcmp(name, "all") == 0 || kl_category_parse(name) != KL_CATEGORY_UNSET ||
        kl_rules_find(rules, name))
        return 1;
    for (size_t i = 0; i < rules->npacks; i++)
        if (strcmp(rules->packs[i]->name, name) == 0)
            return 1;
    return 0;
}

/* Unknown names in directives are said, not silently ignored: a typo
 * must not pass for a suppression. Notices come in input order, before
 * the findings, while the cursor can still move forward to them. */
static void check_directives(scan_ctx *c)
{
    for (size_t k = 0; k < c->doc->ndirs && c->opt->on_notice; k++) {
        const kl_directive *d = &c->doc->dirs[k];
        for (size_t i = 0; i < d->nids; i++) {
            if (known_name(c->sc->rules, d->ids[i]))
                continue;
            kl_cursor_advance(&c->cursor, c->doc->input, c->doc->len, d->offset);
            kl_diag n;
            kl_diag_set(&n, KL_ERR_USAGE, c->opt->path, c->cursor.line, c->cursor.col, NULL,
                        "unknown rule, pack or category '%s' in a kindlint directive; it "
                        "suppresses nothing",
                        d->ids[i]);
            c->opt->on_notice(&n, c->opt->userdata);
        }
    }
    kl_cursor_init(&c->cursor);
}

/* One window of input: the whole of it for kl_scan, or a stretch of a
 * stream that ends at a paragraph or line break. base is the offset of
 * input[0] in the whole input; cursor holds the line and column at
 * input[0] and, when another window follows (more), is left where that
 * one starts. */
typedef struct window {
    const char *input;
    size_t len;
    size_t base;
    kl_cursor *cursor;
    const char *const *inherit; /* disables still open from before */
    size_t ninherit;
    int first; /* the start of the input (a BOM may be there) */
    size_t drop_from;  /* see scan_ctx; SIZE_MAX when the window stands alone */
    size_t guard_end;
    size_t reported_end; /* out */
    int speaker_seen;
    int large;    /* see scan_ctx */
    int more;     /* another window follows: it needs the cursor */
    kl_doc *keep; /* when set, the document is handed back open */
} window;

static kl_status scan_window(kl_scanner *sc, const kl_scan_options *opt, window *w,
                             kl_diag *diag)
{
    kl_doc doc;
    kl_status st = kl_doc_open_window(&doc, opt, w->input, w->len, w->first, w->inherit,
                                      w->ninherit, diag);
    if (st != KL_OK)
        return st;
    w->speaker_seen = doc.speaker_seen;
    scan_ctx c = {.sc = sc,
                  .opt = opt,
                  .doc = &doc,
                  .base = w->base,
                  .drop_from = w->drop_from,
                  .guard_end = w->guard_end,
                  .large = w->large};
    c.cursor = *w->cursor;
    check_directives(&c);
    c.cursor = *w->cursor;
    const unsigned char *text = (const unsigned char *)doc.text;
    const struct kl_prefilter *pf = sc->rules->prefilter;
    size_t len = w->len, pos = doc.start, keep_from = 0;
    sentence sn[SCAN_BATCH];
    kl_prefilter_text pt[SCAN_BATCH];
    while (!c.stop && st == KL_OK) {
        int n = 0;
        while (n < SCAN_BATCH &&
               next_sentence(text, len, &pos, &sn[n].ss, &sn[n].se, &sn[n].forced)) {
            sentence *x = &sn[n++];
            x->keep_from = keep_from;
            x->next_start = pos;
            if (x->forced) {
                /* the next window starts SENTENCE_OVERLAP bytes back, at a space */
                size_t back =
                    x->se - x->ss > SENTENCE_OVERLAP ? x->se - SENTENCE_OVERLAP : x->ss + 1;
                while (back < x->se && !is_space(text[back]))
                    back++;
                x->next_start = pos = back;
            }
            keep_from = x->forced ? x->se : 0;
        }
        if (!n)
            break;
        for (int k = 0; k < n; k++)
            pt[k] = (kl_prefilter_text){.text = doc.text + sn[k].ss,
                                        .len = sn[k].se - sn[k].ss,
                                        .mark = sc->mark[k],
                                        .list = sc->cand[k],
                                        .n = &sn[k].ncand,
                                        .lim = sc->lim[k]};
        kl_prefilter_batch(pf, pt, (size_t)n);
        for (int k = 0; k < n && !c.stop; k++) {
            st = scan_sentence(&c, &sn[k], sc->cand[k], sc->lim[k]);
            sc->scanned += sn[k].se - sn[k].ss;
            if (st != KL_OK) {
                kl_diag_set(diag, st, opt->path, 0, 0, NULL, "out of memory");
                break;
            }
        }
    }
    if (w->more) {
        size_t to = w->drop_from < w->len ? w->drop_from : w->len;
        kl_cursor_advance(&c.cursor, w->input, w->len, to);
        *w->cursor = c.cursor;
    }
    w->reported_end = c.reported_end;
    if (w->keep && st == KL_OK)
        *w->keep = doc;
    else
        kl_doc_close(&doc);
    return c.stop && st == KL_OK ? KL_OK : st;
}

static void speaker_notice(const kl_scan_options *opt)
{
    if (opt->kind == KL_DOC_CHAT && opt->speaker && opt->speaker[0] && opt->on_notice) {
        kl_diag d;
        kl_diag_set(&d, KL_OK, opt->path, 0, 0, NULL, "no messages from speaker '%s'",
                    opt->speaker);
        opt->on_notice(&d, opt->userdata);
    }
}

static int bad_args(kl_scanner *sc, const kl_scan_options *opt, kl_diag *diag)
{
    if (sc && opt && opt->abi_version == KL_ABI_VERSION)
        return 0;
    kl_diag_set(diag, KL_ERR_USAGE, opt ? opt->path : NULL, 0, 0, NULL,
                "kl_scan: bad arguments (scanner, options with abi_version, input)");
    return 1;
}

kl_status kl_scan(kl_scanner *sc, const kl_scan_options *opt, const char *input, size_t len,
                  kl_diag *diag)
{
    kl_diag_clear(diag);
    if (bad_args(sc, opt, diag) || (!input && len)) {
        if (diag->code == KL_OK)
            kl_diag_set(diag, KL_ERR_USAGE, opt->path, 0, 0, NULL, "kl_scan: input is NULL");
        return KL_ERR_USAGE;
    }
    kl_cursor cur;
    kl_cursor_init(&cur);
    memset(sc->limited, 0, sc->rules->count);
    window w = {.input = input ? input : "",
                .len = len,
                .cursor = &cur,
                .first = 1,
                .drop_from = SIZE_MAX,
                .large = len >= KL_JIT_EAGER_BYTES};
    kl_status st = scan_window(sc, opt, &w, diag);
    if (st == KL_OK && !w.speaker_seen)
        speaker_notice(opt);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                   */
/* ------------------------------------------------------------------------ */

/* The stream's first buffer, at least; it doubles up to KL_STREAM_WINDOW. */
#define STREAM_FIRST_CAP 4096u

struct kl_stream {
    kl_scanner *sc;
    kl_scan_options opt;
    char *buf;
    size_t len, cap;
    size_t base; /* offset of buf[0] in the whole input */
    kl_cursor cursor;
    char **inherit; /* disables open at the end of the last window */
    size_t ninherit;
    int speaker_seen;
    size_t guard; /* findings before this (in the whole input) were reported */
    int failed;
    uint64_t expect; /* kl_stream_expect */
};

kl_stream *kl_stream_new(kl_scanner *sc, const kl_scan_options *opt)
{
    if (!sc || !opt || opt->abi_version != KL_ABI_VERSION)
        return NULL;
    kl_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->sc = sc;
    s->opt = *opt;
    kl_cursor_init(&s->cursor);
    memset(sc->limited, 0, sc->rules->count);
    return s;
}

void kl_stream_expect(kl_stream *s, uint64_t bytes)
{
    if (s)
        s->expect = bytes;
}

static void free_inherit(kl_stream *s)
{
    for (size_t i = 0; i < s->ninherit; i++)
        free(s->inherit[i]);
    free(s->inherit);
    s->inherit = NULL;
    s->ninherit = 0;
}

void kl_stream_free(kl_stream *s)
{
    if (!s)
        return;
    free_inherit(s);
    free(s->buf);
    free(s);
}

int kl_line_ends_sentence(const char *b, size_t ls, size_t le)
{
    while (le > ls && (b[le - 1] == ' ' || b[le - 1] == '\t' || b[le - 1] == '\r'))
        le--;
    while (le > ls && strchr("\"')]*_", b[le - 1]))
        le--;
    if (le > ls && (b[le - 1] == '.' || b[le - 1] == '!' || b[le - 1] == '?'))
        return 1;
    if (le >= ls + 3 && memcmp(b + le - 3, "\xE2\x80\xA6", 3) == 0)
        return 1;
    return 0;
}

/* Where to end a window of a stream: after the last blank line; else (in
 * chat) at the start of the last turn; else at the start of a line after
 * one that ends a sentence; else after the last line break; else after
 * the last white space; else at a character boundary. Looks only in the
 * second half of the buffer, so every window moves on by half of it, and
 * passes over sixteen bytes at a time back to each line break. The last
 * two cut through a sentence: *overlap is set, and the next window starts
 * STREAM_OVERLAP bytes earlier so a match across the cut is seen whole
 * there. */
#define STREAM_OVERLAP 4096u

size_t kl_window_cut(const char *b, size_t len, int chat, int *overlap)
{
    *overlap = 0;
    size_t lo = len / 2;
    size_t last_nl = 0, sent = 0, turn = 0;
    for (size_t i = len; i > lo;) {
#if defined(__GNUC__)
        /* back to the next \n sixteen bytes at a time */
        while (i >= lo + 16) {
            kl_v16 v;
            memcpy(&v, b + i - 16, 16);
            if (kl_v16_any((kl_v16)(v == (kl_v16){0} + '\n')))
                break;
            i -= 16;
        }
        if (i <= lo)
            break;
#endif
        if (b[--i] != '\n')
            continue;
        if (!last_nl)
            last_nl = i + 1;
        /* a blank line: only spaces between this and the next \n */
        size_t j = i + 1;
        while (j < len && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r'))
            j++;
        if (j < len && b[j] == '\n')
            return j + 1;
        if (!sent || (chat && !turn)) {
            size_t ls = i;
            while (ls > 0 && b[ls - 1] != '\n')
                ls--;
            if (!sent && kl_line_ends_sentence(b, ls, i))
                sent = i + 1;
            if (!turn && chat && i + 1 < len) {
                size_t le = i + 1;
                while (le < len && b[le] != '\n')
                    le++;
                if (kl_chat_turn_line(b, i + 1, le))
                    turn = i + 1;
            }
        }
    }
    if (chat && turn)
        return turn;
    if (sent)
        return sent;
    if (last_nl)
        return last_nl;
    *overlap = 1;
    /* no line break: after the last white space */
    for (size_t i = len; i-- > lo;)
        if (b[i] == ' ' || b[i] == '\t')
            return i + 1;
    size_t cut = len;
    while (cut > lo && ((unsigned char)b[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

/* Scans buf[0, n) as a window and keeps the rest for the next one (from
 * next, before n when the windows overlap). */
static kl_status stream_window(kl_stream *s, size_t n, size_t next, int final, kl_diag *diag)
{
    kl_doc doc;
    memset(&doc, 0, sizeof doc);
    window w = {.input = s->buf ? s->buf : "", /* nothing was fed: an empty input */
                .len = n,
                .base = s->base,
                .cursor = &s->cursor,
                .inherit = (const char *const *)s->inherit,
                .ninherit = s->ninherit,
                .first = s->base == 0,
                .drop_from = next < n ? next : SIZE_MAX,
                .guard_end = s->guard > s->base ? s->guard - s->base : 0,
                .keep = final ? NULL : &doc,
                .large = s->expect >= KL_JIT_EAGER_BYTES,
                .more = !final};
    kl_status st = scan_window(s->sc, &s->opt, &w, diag);
    s->speaker_seen |= w.speaker_seen;
    if (st != KL_OK)
        return st;
    if (!final) {
        /* carry the disables still open into the next window: those of
         * names that suppress something, one per name, so that they stay
         * a few hundred however many the input opens. The regions' IDs
         * may be the old list's strings: they are copied before it goes */
        char **carry = NULL;
        size_t ncarry = 0;
        for (size_t i = 0; i < doc.nregions; i++) {
            if (!doc.regions[i].open ||
                (doc.regions[i].id && !known_name(s->sc->rules, doc.regions[i].id)))
                continue;
            char **p = realloc(carry, (ncarry + 1) * sizeof *p);
            if (!p) {
                st = KL_ERR_NOMEM;
                break;
            }
            carry = p;
            carry[ncarry] = doc.regions[i].id ? strdup(doc.regions[i].id) : NULL;
            if (doc.regions[i].id && !carry[ncarry]) {
                st = KL_ERR_NOMEM;
                break;
            }
            ncarry++;
        }
        kl_doc_close(&doc);
        free_inherit(s);
        s->inherit = carry;
        s->ninherit = ncarry;
        if (st != KL_OK) {
            kl_diag_set(diag, st, s->opt.path, 0, 0, NULL, "out of memory");
            return st;
        }
    }
    s->guard = s->base + w.reported_end;
    if (s->len > next)
        memmove(s->buf, s->buf + next, s->len - next);
    s->len -= next;
    s->base += next;
    /* the cursor counts from the new buf[0] */
    s->cursor.pos = 0;
    return KL_OK;
}

kl_status kl_stream_feed(kl_stream *s, const char *data, size_t len, kl_diag *diag)
{
    kl_diag_clear(diag);
    if (s->failed) {
        kl_diag_set(diag, KL_ERR_USAGE, s->opt.path, 0, 0, NULL, "the stream failed before");
        return KL_ERR_USAGE;
    }
    while (len > 0) {
        size_t room = KL_STREAM_WINDOW - s->len;
        size_t take = len < room ? len : room;
        if (s->cap < s->len + take) {
            /* the buffer grows to the window as input comes: a small
             * input (most files) is not given, and made to zero, a whole
             * window; every byte up to cap + KL_SUBJECT_PAD is defined */
            size_t cap = s->cap ? s->cap : STREAM_FIRST_CAP;
            while (cap < s->len + take)
                cap *= 2;
            cap = cap < KL_STREAM_WINDOW ? cap : KL_STREAM_WINDOW;
            char *p =
                s->buf ? realloc(s->buf, cap + KL_SUBJECT_PAD) : calloc(1, cap + KL_SUBJECT_PAD);
            if (!p) {
                s->failed = 1;
                kl_diag_set(diag, KL_ERR_NOMEM, s->opt.path, 0, 0, NULL, "out of memory");
                return KL_ERR_NOMEM;
            }
            if (s->buf)
                memset(p + s->cap, 0, cap + KL_SUBJECT_PAD - s->cap);
            s->buf = p;
            s->cap = cap;
        }
        memcpy(s->buf + s->len, data, take);
        s->len += take;
        data += take;
        len -= take;
        if (s->len == KL_STREAM_WINDOW) {
            int overlap;
            size_t cut = kl_window_cut(s->buf, s->len, s->opt.kind == KL_DOC_CHAT, &overlap),
                   next = cut;
            if (overlap) {
                /* back to a space (or a character start) before the cut */
                next = cut > STREAM_OVERLAP ? cut - STREAM_OVERLAP : cut;
                while (next < cut && s->buf[next] != ' ' && s->buf[next] != '\t')
                    next++;
                while (next < cut && ((unsigned char)s->buf[next] & 0xC0) == 0x80)
                    next++;
            }
            kl_status st = stream_window(s, cut, next, 0, diag);
            if (st != KL_OK) {
                s->failed = 1;
                return st;
            }
        }
    }
    return KL_OK;
}

kl_status kl_stream_finish(kl_stream *s, kl_diag *diag)
{
    kl_diag_clear(diag);
    if (s->failed) {
        kl_diag_set(diag, KL_ERR_USAGE, s->opt.path, 0, 0, NULL, "the stream failed before");
        return KL_ERR_USAGE;
    }
    kl_status st = stream_window(s, s->len, s->len, 1, diag);
    if (st == KL_OK && !s->speaker_seen)
        speaker_notice(&s->opt);
    s->failed = 1; /* finished */
    return st;
}

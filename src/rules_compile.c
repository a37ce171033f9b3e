/*
 * rules_compile.c -- loaded YAML packs into compiled kl_rule values.
 *
 * Everything libcyaml cannot check is checked here: ids are kebab-case and
 * unique across the set, patterns compile (with the typographic quote
 * expansion of DESIGN.md section 3), templates name real capture groups,
 * {feeling} has a feelings list to draw from. Errors name the file, line and
 * column of the offending node, found through yaml_index.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "kl_internal.h"
#include "rules_schema.h"

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

/* A copy of a text that will be scanned, with KL_SUBJECT_PAD zero bytes
 * after it for the matcher. */
static char *subject_dup(const char *t)
{
    size_t n = strlen(t);
    char *p = calloc(1, n + 1 + KL_SUBJECT_PAD);
    if (p)
        memcpy(p, t, n);
    return p;
}

static const char *const severity_names[] = {"unset", "info", "warning", "error"};

static const char *const category_names[] = {
    "unset",         "absolute",  "blame",        "criticism",    "contempt", "non-apology",
    "defensiveness", "dismissal", "mind-reading", "stonewalling", "demand",   "blame-question",
};

const char *kl_severity_name(kl_severity s)
{
    return (s >= KL_SEVERITY_UNSET && s <= KL_SEVERITY_ERROR) ? severity_names[s] : "unset";
}

kl_severity kl_severity_parse(const char *name)
{
    for (int i = KL_SEVERITY_INFO; i <= KL_SEVERITY_ERROR; i++)
        if (name && strcmp(name, severity_names[i]) == 0)
            return (kl_severity)i;
    return KL_SEVERITY_UNSET;
}

const char *kl_category_name(kl_category c)
{
    return (c > KL_CATEGORY_UNSET && c < KL_CATEGORY_COUNT) ? category_names[c] : "unset";
}

kl_category kl_category_parse(const char *name)
{
    for (int i = KL_CATEGORY_UNSET + 1; i < KL_CATEGORY_COUNT; i++)
        if (name && strcmp(name, category_names[i]) == 0)
            return (kl_category)i;
    return KL_CATEGORY_UNSET;
}

/* ------------------------------------------------------------------------ */
/* Quote expansion                                                           */
/* ------------------------------------------------------------------------ */

#define APOS_CLASS_BODY "'\xE2\x80\x99\xCA\xBC\xE2\x80\x98" /* ' ’ ʼ ‘ */
#define QUOTE_CLASS_BODY "\"\xE2\x80\x9C\xE2\x80\x9D"       /* " “ ” */

static int emit(kl_buf *out, size_t **map, size_t *mapcap, const char *s, size_t n, size_t from)
{
    if (kl_buf_append(out, s, n) != 0)
        return -1;
    if (out->len > *mapcap) {
        size_t cap = *mapcap ? *mapcap : 64;
        while (cap < out->len)
            cap *= 2;
        size_t *p = realloc(*map, cap * sizeof *p);
        if (!p)
            return -1;
        *map = p;
        *mapcap = cap;
    }
    for (size_t i = out->len - n; i < out->len; i++)
        (*map)[i] = from;
    return 0;
}

char *kl_pattern_expand_quotes(const char *pat, size_t **map_out)
{
    kl_buf out;
    kl_buf_init(&out);
    size_t *map = NULL, mapcap = 0;
    size_t n = strlen(pat);
    int in_class = 0, literal = 0, failed = 0;
    size_t class_start = 0;

    for (size_t i = 0; i < n && !failed;) {
        char c = pat[i];
        if (literal) { /* inside \Q ... \E */
            if (c == '\\' && i + 1 < n && pat[i + 1] == 'E') {
                failed |= emit(&out, &map, &mapcap, "\\E", 2, i);
                literal = 0;
                i += 2;
            } else if (c == '\'' || c == '"') {
                const char *cls =
                    c == '\'' ? "\\E[" APOS_CLASS_BODY "]\\Q" : "\\E[" QUOTE_CLASS_BODY "]\\Q";
                failed |= emit(&out, &map, &mapcap, cls, strlen(cls), i);
                i++;
            } else {
                failed |= emit(&out, &map, &mapcap, &pat[i], 1, i);
                i++;
            }
            continue;
        }
        if (c == '\\' && i + 1 < n) {
            char d = pat[i + 1];
            if (d == 'Q') {
                literal = 1;
                failed |= emit(&out, &map, &mapcap, "\\Q", 2, i);
                i += 2;
            } else if (d == '\'' || d == '"') {
                const char *body = d == '\'' ? APOS_CLASS_BODY : QUOTE_CLASS_BODY;
                if (in_class) {
                    failed |= emit(&out, &map, &mapcap, body, strlen(body), i);
                } else {
                    failed |= emit(&out, &map, &mapcap, "[", 1, i);
                    failed |= emit(&out, &map, &mapcap, body, strlen(body), i);
                    failed |= emit(&out, &map, &mapcap, "]", 1, i);
                }
                i += 2;
            } else if ((d == 'k' || d == 'g') && i + 2 < n && pat[i + 2] == '\'') {
                /* \k'name' or \g'name': the quotes are syntax */
                size_t j = i + 3;
                while (j < n && pat[j] != '\'')
                    j++;
                size_t end = j < n ? j + 1 : n;
                failed |= emit(&out, &map, &mapcap, &pat[i], end - i, i);
                i = end;
            } else {
                failed |= emit(&out, &map, &mapcap, &pat[i], 2, i);
                i += 2;
            }
            continue;
        }
        if (in_class) {
            if (c == '[' && i + 1 < n && pat[i + 1] == ':') { /* [:alpha:] */
                const char *e = strstr(pat + i + 2, ":]");
                size_t end = e ? (size_t)(e - pat) + 2 : i + 1;
                failed |= emit(&out, &map, &mapcap, &pat[i], end - i, i);
                i = end;
                continue;
            }
            if (c == ']' && i > class_start) {
                in_class = 0;
                failed |= emit(&out, &map, &mapcap, "]", 1, i);
                i++;
                continue;
            }
            if (c == '\'' || c == '"') {
                const char *body = c == '\'' ? APOS_CLASS_BODY : QUOTE_CLASS_BODY;
                failed |= emit(&out, &map, &mapcap, body, strlen(body), i);
                i++;
                continue;
            }
            failed |= emit(&out, &map, &mapcap, &pat[i], 1, i);
            i++;
            continue;
        }
        if (c == '[') {
            in_class = 1;
            failed |= emit(&out, &map, &mapcap, "[", 1, i);
            i++;
            if (i < n && pat[i] == '^') {
                failed |= emit(&out, &map, &mapcap, "^", 1, i);
                i++;
            }
            class_start = i + 1; /* a ']' right here is a literal */
            if (i < n && pat[i] == ']') {
                failed |= emit(&out, &map, &mapcap, "]", 1, i);
                i++;
            }
            continue;
        }
        if (c == '(' && i + 2 < n && pat[i + 1] == '?' &&
            (pat[i + 2] == '\'' || pat[i + 2] == '#')) {
            /* (?'name' ...) or (?# comment ) */
            char close = pat[i + 2] == '\'' ? '\'' : ')';
            size_t j = i + 3;
            while (j < n && pat[j] != close)
                j++;
            size_t end = j < n ? j + 1 : n;
            failed |= emit(&out, &map, &mapcap, &pat[i], end - i, i);
            i = end;
            continue;
        }
        if (c == '\'' || c == '"') {
            const char *body = c == '\'' ? APOS_CLASS_BODY : QUOTE_CLASS_BODY;
            failed |= emit(&out, &map, &mapcap, "[", 1, i);
            failed |= emit(&out, &map, &mapcap, body, strlen(body), i);
            failed |= emit(&out, &map, &mapcap, "]", 1, i);
            i++;
            continue;
        }
        failed |= emit(&out, &map, &mapcap, &pat[i], 1, i);
        i++;
    }
    if (!failed && kl_buf_reserve(&out, 0) == 0 && emit(&out, &map, &mapcap, "", 0, n) == 0) {
        /* map[len] = n: an error offset at the end maps to the end */
        size_t *p = realloc(map, (out.len + 1) * sizeof *p);
        if (p) {
            map = p;
            map[out.len] = n;
            *map_out = map;
            return kl_buf_detach(&out, NULL);
        }
    }
    free(map);
    kl_buf_free(&out);
    *map_out = NULL;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Compiling                                                                 */
/* ------------------------------------------------------------------------ */

/* The column of byte `offset` of a pattern written as the scalar at pos. */
static unsigned pattern_column(const kl_yaml_pos *pos, const char *pattern, size_t offset)
{
    if (!pos)
        return 0;
    /* plain = 1, single-quoted = 2, double-quoted = 3 (yaml_scalar_style_t) */
    if (pos->style < 1 || pos->style > 3 || strchr(pattern, '\n'))
        return pos->column;
    unsigned col = pos->column + (pos->style == 1 ? 0 : 1);
    for (size_t i = 0; i < offset && pattern[i]; i++)
        if (((unsigned char)pattern[i] & 0xC0) != 0x80)
            col++;
    return col;
}

pcre2_code *kl_pattern_compile(const char *pattern, const char *file, const char *rule_id,
                               const char *what, const kl_yaml_index *idx, const char *path,
                               kl_diag *diag)
{
    size_t *map = NULL;
    char *expanded = kl_pattern_expand_quotes(pattern, &map);
    if (!expanded) {
        kl_diag_set(diag, KL_ERR_NOMEM, file, 0, 0, rule_id, "out of memory");
        return NULL;
    }
    int errcode = 0;
    PCRE2_SIZE erroff = 0;
    /* USE_OFFSET_LIMIT: the scan tells a rule's pattern how far into a
     * sentence a match can start (kl_prefilter_text.lim) */
    uint32_t opts =
        PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_NEVER_BACKSLASH_C | PCRE2_USE_OFFSET_LIMIT;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)expanded, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        size_t orig = map ? map[erroff <= strlen(expanded) ? erroff : strlen(expanded)] : erroff;
        const kl_yaml_pos *pos = idx ? kl_yaml_index_find(idx, path) : NULL;
        kl_diag_set(diag, KL_ERR_REGEX, file, pos ? pos->line : 0,
                    pattern_column(pos, pattern, orig), rule_id,
                    "rule '%s': %s: regex: %s (pattern offset %zu)", rule_id, what, (char *)msg,
                    orig);
    }
    free(map);
    free(expanded);
    return re;
}

/* Does a pattern, compiled without UTF, do on a subject of ASCII only what
 * it does compiled with UTF? Without UTF, a character outside ASCII is the
 * bytes of its UTF-8 form, and a quantifier after it takes only its last
 * byte: "é?" would demand the first byte. Nothing else differs on such a
 * subject (kl_pattern_compile_ascii) but under (?x): with UTF, NEL,
 * U+200E, U+200F, U+2028 and U+2029 are white space there, and without
 * UTF their bytes would be literals. The check reads the pattern as text
 * and is conservative: any of those five, or a character outside ASCII
 * followed, white space aside, by a quantifier, a comment or \E, is a no. */
static int ascii_twin_safe(const char *p)
{
    for (size_t i = 0; p[i];) {
        const unsigned char *u = (const unsigned char *)p + i;
        if (u[0] < 0x80) {
            i++;
            continue;
        }
        if ((u[0] == 0xC2 && u[1] == 0x85) ||
            (u[0] == 0xE2 && u[1] == 0x80 &&
             (u[2] == 0x8E || u[2] == 0x8F || u[2] == 0xA8 || u[2] == 0xA9)))
            return 0;
        i++;
        while (((unsigned char)p[i] & 0xC0) == 0x80)
            i++;
        size_t k = i;
        while (p[k] == ' ' || p[k] == '\t' || p[k] == '\n' || p[k] == '\r' || p[k] == '\f' ||
               p[k] == '\v')
            k++;
        if (p[k] && strchr("?*+{#", p[k]))
            return 0;
        if ((p[k] == '\\' && p[k + 1] == 'E') || strncmp(p + k, "(?#", 3) == 0)
            return 0;
    }
    return 1;
}

pcre2_code *kl_pattern_compile_ascii(const char *pattern)
{
    size_t *map = NULL;
    char *expanded = kl_pattern_expand_quotes(pattern, &map);
    free(map);
    pcre2_code *re = NULL;
    if (expanded && ascii_twin_safe(expanded)) {
        int errcode = 0;
        PCRE2_SIZE erroff = 0;
        /* \x{2019} and the like do not compile without UTF: no twin */
        re = pcre2_compile((PCRE2_SPTR)expanded, PCRE2_ZERO_TERMINATED,
                           PCRE2_CASELESS | PCRE2_NEVER_BACKSLASH_C | PCRE2_USE_OFFSET_LIMIT,
                           &errcode, &erroff, NULL);
    }
    free(expanded);
    return re;
}

/* ------------------------------------------------------------------------ */
/* Set management                                                            */
/* ------------------------------------------------------------------------ */

kl_rules *kl_rules_new(void)
{
    return calloc(1, sizeof(kl_rules));
}

static void rule_free(kl_rule *r)
{
    if (!r)
        return;
    if (!r->texts_borrowed) {
        free(r->id);
        free(r->message);
        free(r->pattern);
        for (size_t i = 0; i < r->nfeelings; i++) {
            free(r->feelings[i].word);
            free(r->feelings[i].feeling);
        }
        for (size_t i = 0; i < r->nflag; i++) {
            free(r->flag[i].text);
            free(r->flag[i].fix);
        }
        for (size_t i = 0; i < r->npass; i++)
            free(r->pass[i].text);
    }
    free(r->explain);
    pcre2_code_free(r->re);
    pcre2_code_free(r->jit_re);
    pcre2_code_free(r->jit_ascii);
    for (size_t i = 0; i < r->nunless; i++) {
        pcre2_code_free(r->unless[i]);
        if (r->jit_unless)
            pcre2_code_free(r->jit_unless[i]);
    }
    free(r->unless);
    free(r->jit_unless);
    for (size_t i = 0; i < r->nsuggest; i++)
        kl_template_free(&r->suggest[i]);
    free(r->suggest);
    free(r->feelings);
    for (size_t i = 0; i < r->ncaps; i++)
        free(r->cap_name[i]);
    free(r->flag);
    free(r->pass);
    kl_rule_clauses_free(r);
    free(r);
}

void kl_rules_free(kl_rules *rules)
{
    if (!rules)
        return;
    for (size_t i = 0; i < rules->count; i++)
        rule_free(rules->rules[i]);
    free(rules->rules);
    for (size_t i = 0; i < rules->npacks; i++) {
        free(rules->packs[i]->name);
        free(rules->packs[i]->summary);
        free(rules->packs[i]->lang);
        free(rules->packs[i]->source);
        free(rules->packs[i]);
    }
    free(rules->packs);
    kl_prefilter_free(rules->prefilter);
    free(rules);
}

static int is_kebab(const char *s)
{
    if (!*s || *s == '-')
        return 0;
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
        if (*p == '-' && (p[1] == '-' || p[1] == '\0'))
            return 0;
    }
    return 1;
}

static int is_feeling_word(const char *s)
{
    if (strcmp(s, "*") == 0)
        return 1;
    for (const char *p = s; *p; p++)
        if (!isalpha((unsigned char)*p) && *p != '\'' && *p != '-')
            return 0;
    return *s != '\0';
}

/* Position of a node for messages; falls back to the rule's own start. */
static void where(const kl_yaml_index *idx, const char *path, size_t rule_i, unsigned *line,
                  unsigned *col)
{
    const kl_yaml_pos *p = kl_yaml_index_find(idx, path);
    if (!p) {
        char rp[64];
        snprintf(rp, sizeof rp, "rules[%zu]", rule_i);
        p = kl_yaml_index_find(idx, rp);
    }
    *line = p ? p->line : 0;
    *col = p ? p->column : 0;
}

/* Builds one rule; on error fills diag using the position index, which is
 * built lazily (the happy path never parses the file twice). */
typedef struct build_ctx {
    const char *name;
    const char *data;
    size_t len;
    kl_yaml_index idx;
    int have_idx;
    /* precompiled patterns, taken in order (NULL: compile them), and how
     * many rules the set held before the precompiled packs came */
    pcre2_code **codes;
    size_t ncodes, next_code, first;
} build_ctx;

/* The next precompiled pattern, which must be there: a pack that does
 * not line up with its precompiled form is an internal error. */
static pcre2_code *take_code(build_ctx *c, const char *rule_id, kl_diag *diag)
{
    if (c->next_code >= c->ncodes || !c->codes[c->next_code]) {
        kl_diag_set(diag, KL_ERR_RULES, c->name, 0, 0, rule_id,
                    "precompiled patterns do not match the pack");
        return NULL;
    }
    pcre2_code *re = c->codes[c->next_code];
    c->codes[c->next_code++] = NULL;
    return re;
}

static const kl_yaml_index *ctx_index(build_ctx *c)
{
    if (!c->have_idx) {
        kl_yaml_index_build(&c->idx, c->data, c->len);
        c->have_idx = 1;
    }
    return &c->idx;
}

static kl_status fail_at(build_ctx *c, kl_diag *diag, kl_status code, size_t rule_i,
                         const char *path, const char *rule_id, const char *fmt, const char *a,
                         const char *b)
{
    unsigned line, col;
    char full[96];
    snprintf(full, sizeof full, "rules[%zu]%s%s", rule_i, path[0] ? "." : "", path);
    where(ctx_index(c), full, rule_i, &line, &col);
    char msg[600];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    kl_diag_set(diag, code, c->name, line, col, rule_id, "%s", msg);
    return code;
}

static kl_status compile_rule(kl_rules *set, build_ctx *c, const kl_pack *pack, const kl_y_rule *y,
                              size_t rule_i, kl_rule **out, kl_diag *diag)
{
    *out = NULL;
    if (!is_kebab(y->id))
        return fail_at(c, diag, KL_ERR_RULES, rule_i, "id", y->id,
                       "rule id '%s' must be kebab-case (lowercase letters, digits and '-')", y->id,
                       NULL);
    /* precompiled packs were checked among themselves when they were made:
     * only the rules loaded before them can clash */
    size_t upto = c->codes ? c->first : set->count;
    for (size_t i = 0; i < upto; i++) {
        const kl_rule *other = set->rules[i];
        if (strcmp(other->id, y->id) == 0)
            return fail_at(c, diag, KL_ERR_RULES, rule_i, "id", y->id,
                           "duplicate rule id '%s' (already defined in %s)", y->id,
                           other->pack->source);
    }
    if (y->category <= KL_CATEGORY_UNSET || y->category >= KL_CATEGORY_COUNT)
        return fail_at(c, diag, KL_ERR_RULES, rule_i, "category", y->id,
                       "rule '%s': missing or invalid category", y->id, NULL);
    if (y->severity < KL_SEVERITY_INFO || y->severity > KL_SEVERITY_ERROR)
        return fail_at(c, diag, KL_ERR_RULES, rule_i, "severity", y->id,
                       "rule '%s': missing or invalid severity", y->id, NULL);

    kl_rule *r = calloc(1, sizeof *r);
    if (!r)
        goto nomem;
    *out = r;
    r->pack = pack;
    r->category = (kl_category)y->category;
    r->severity = (kl_severity)y->severity;
    r->act_slot = -1;
    /* the precompiled packs' texts are static and outlive the rules */
    int borrow = r->texts_borrowed = c->codes != NULL;
    if (borrow) {
        r->id = y->id;
        r->message = y->message;
        r->pattern = y->match;
    } else if (!(r->id = strdup(y->id)) || !(r->message = strdup(y->message)) ||
               !(r->pattern = strdup(y->match))) {
        goto nomem;
    }
    if (!(r->explain = strdup(y->explain ? y->explain : "")))
        goto nomem;
    /* a folded YAML block ends with a line break: not part of the text */
    for (size_t n = strlen(r->explain);
         n > 0 && (r->explain[n - 1] == '\n' || r->explain[n - 1] == ' ');)
        r->explain[--n] = '\0';

    /* patterns: compile errors need positions, so build the index first */
    if (c->codes) {
        if (!(r->re = take_code(c, y->id, diag)))
            return KL_ERR_RULES;
    } else {
        r->re = kl_pattern_compile(y->match, c->name, y->id, "match", NULL, NULL, diag);
    }
    if (!r->re) {
        char path[64];
        snprintf(path, sizeof path, "rules[%zu].match", rule_i);
        pcre2_code_free(
            kl_pattern_compile(y->match, c->name, y->id, "match", ctx_index(c), path, diag));
        return diag ? diag->code : KL_ERR_REGEX;
    }
    if (y->unless_count) {
        r->unless = calloc(y->unless_count, sizeof *r->unless);
        if (!r->unless)
            goto nomem;
        for (unsigned i = 0; i < y->unless_count; i++) {
            if (c->codes) {
                if (!(r->unless[i] = take_code(c, y->id, diag)))
                    return KL_ERR_RULES;
            } else {
                r->unless[i] =
                    kl_pattern_compile(y->unless[i], c->name, y->id, "unless", NULL, NULL, diag);
            }
            if (!r->unless[i]) {
                char path[64];
                snprintf(path, sizeof path, "rules[%zu].unless[%u]", rule_i, i);
                pcre2_code_free(kl_pattern_compile(y->unless[i], c->name, y->id, "unless",
                                                   ctx_index(c), path, diag));
                return diag ? diag->code : KL_ERR_REGEX;
            }
            r->nunless++;
        }
    }

    /* feelings before templates: {feeling} needs them */
    if (y->feelings_count) {
        r->feelings = calloc(y->feelings_count, sizeof *r->feelings);
        if (!r->feelings)
            goto nomem;
        for (unsigned i = 0; i < y->feelings_count; i++) {
            if (!is_feeling_word(y->feelings[i].word)) {
                char path[64];
                snprintf(path, sizeof path, "feelings[%u].word", i);
                return fail_at(c, diag, KL_ERR_RULES, rule_i, path, y->id,
                               "feelings: word '%s' must be a single word or \"*\"%s",
                               y->feelings[i].word, "");
            }
            if (borrow) {
                r->feelings[i].word = y->feelings[i].word;
                r->feelings[i].feeling = y->feelings[i].feeling;
            } else if (!(r->feelings[i].word = strdup(y->feelings[i].word)) ||
                       !(r->feelings[i].feeling = strdup(y->feelings[i].feeling))) {
                goto nomem;
            }
            r->nfeelings++;
        }
    }
    if (y->suggest_count) {
        r->suggest = calloc(y->suggest_count, sizeof *r->suggest);
        if (!r->suggest)
            goto nomem;
        for (unsigned i = 0; i < y->suggest_count; i++) {
            char err[300];
            kl_status st = kl_template_parse(&r->suggest[i], y->suggest[i], r, err, sizeof err);
            if (st == KL_ERR_NOMEM)
                goto nomem;
            r->nsuggest++;
            if (st != KL_OK) {
                char path[64];
                snprintf(path, sizeof path, "suggest[%u]", i);
                return fail_at(c, diag, KL_ERR_RULES, rule_i, path, y->id, "rule '%s': %s", y->id,
                               err);
            }
        }
    }
    if (y->tests) {
        const kl_y_tests *t = y->tests;
        if (t->flag_count && !(r->flag = calloc(t->flag_count, sizeof *r->flag)))
            goto nomem;
        /* static texts read past their end read other static bytes */
        for (unsigned i = 0; i < t->flag_count; i++) {
            if (borrow) {
                r->flag[i].text = t->flag[i].text;
                r->flag[i].fix = t->flag[i].fix;
                r->nflag++;
                continue;
            }
            if (!(r->flag[i].text = subject_dup(t->flag[i].text)))
                goto nomem;
            r->nflag++;
            if (t->flag[i].fix && !(r->flag[i].fix = subject_dup(t->flag[i].fix)))
                goto nomem;
        }
        if (t->pass_count && !(r->pass = calloc(t->pass_count, sizeof *r->pass)))
            goto nomem;
        for (unsigned i = 0; i < t->pass_count; i++) {
            if (borrow)
                r->pass[i].text = t->pass[i];
            else if (!(r->pass[i].text = subject_dup(t->pass[i])))
                goto nomem;
            r->npass++;
        }
    }
    if (y->triggers_count) {
        /* explicit prefilter: one clause of the given literals */
        r->triggered = 1;
        r->clauses = calloc(1, sizeof *r->clauses);
        if (!r->clauses || !(r->clauses[0].lits = calloc(y->triggers_count, sizeof(char *))))
            goto nomem;
        r->nclauses = 1;
        for (unsigned i = 0; i < y->triggers_count; i++) {
            char *lit = strdup(y->triggers[i]);
            if (!lit)
                goto nomem;
            for (char *p = lit; *p; p++) {
                if ((unsigned char)*p >= 0x80 || !(isalnum((unsigned char)*p) || *p == ' ')) {
                    free(lit);
                    char path[64];
                    snprintf(path, sizeof path, "triggers[%u]", i);
                    return fail_at(c, diag, KL_ERR_RULES, rule_i, path, y->id,
                                   "trigger '%s' must be ASCII letters, digits and spaces%s",
                                   y->triggers[i], "");
                }
                *p = (char)tolower((unsigned char)*p);
            }
            r->clauses[0].lits[r->clauses[0].nlits++] = lit;
        }
    }
    return KL_OK;
nomem:
    kl_diag_set(diag, KL_ERR_NOMEM, c->name, 0, 0, y->id, "out of memory");
    return KL_ERR_NOMEM;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = n;
    return 0;
}

kl_status kl_rules_from_yaml(kl_rules *set, const struct kl_y_pack *yp, const char *name,
                             const char *data, size_t len, kl_diag *diag)
{
    return kl_rules_from_yaml_codes(set, yp, name, data, len, NULL, 0, 0, NULL, diag);
}

kl_status kl_rules_from_yaml_codes(kl_rules *set, const struct kl_y_pack *yp, const char *name,
                                   const char *data, size_t len, pcre2_code **codes, size_t ncodes,
                                   size_t checked_from, size_t *used, kl_diag *diag)
{
    build_ctx c = {.name = name,
                   .data = data,
                   .len = len,
                   .codes = codes,
                   .ncodes = ncodes,
                   .first = checked_from};
    kl_status st = KL_OK;

    if (!is_kebab(yp->pack)) {
        const kl_yaml_pos *p = kl_yaml_index_find(ctx_index(&c), "pack");
        kl_diag_set(diag, KL_ERR_RULES, name, p ? p->line : 0, p ? p->column : 0, NULL,
                    "pack name '%s' must be kebab-case", yp->pack);
        st = KL_ERR_RULES;
        goto out;
    }
    if (kl_rules_has_pack(set, yp->pack)) {
        const kl_yaml_pos *p = kl_yaml_index_find(ctx_index(&c), "pack");
        const char *other = "";
        for (size_t i = 0; i < set->npacks; i++)
            if (strcmp(set->packs[i]->name, yp->pack) == 0)
                other = set->packs[i]->source;
        kl_diag_set(diag, KL_ERR_RULES, name, p ? p->line : 0, p ? p->column : 0, NULL,
                    "duplicate pack '%s' (already loaded from %s)", yp->pack, other);
        st = KL_ERR_RULES;
        goto out;
    }
    if (yp->lang && strcmp(yp->lang, "en") != 0) {
        const kl_yaml_pos *p = kl_yaml_index_find(ctx_index(&c), "lang");
        kl_diag_set(diag, KL_ERR_RULES, name, p ? p->line : 0, p ? p->column : 0, NULL,
                    "unsupported lang '%s' (only 'en' is supported)", yp->lang);
        st = KL_ERR_RULES;
        goto out;
    }

    kl_pack *pack = calloc(1, sizeof *pack);
    if (!pack || grow((void **)&set->packs, &set->packs_cap, set->npacks + 1, sizeof pack) != 0) {
        free(pack);
        kl_diag_set(diag, KL_ERR_NOMEM, name, 0, 0, NULL, "out of memory");
        st = KL_ERR_NOMEM;
        goto out;
    }
    pack->name = strdup(yp->pack);
    pack->summary = strdup(yp->summary ? yp->summary : "");
    pack->lang = strdup(yp->lang ? yp->lang : "en");
    pack->source = strdup(name);
    set->packs[set->npacks++] = pack;
    if (!pack->name || !pack->summary || !pack->lang || !pack->source) {
        kl_diag_set(diag, KL_ERR_NOMEM, name, 0, 0, NULL, "out of memory");
        st = KL_ERR_NOMEM;
        goto out;
    }

    size_t first = set->count;
    for (unsigned i = 0; i < yp->rules_count; i++) {
        kl_rule *r = NULL;
        st = compile_rule(set, &c, pack, &yp->rules[i], i, &r, diag);
        if (st == KL_OK && grow((void **)&set->rules, &set->cap, set->count + 1, sizeof r) != 0) {
            kl_diag_set(diag, KL_ERR_NOMEM, name, 0, 0, NULL, "out of memory");
            st = KL_ERR_NOMEM;
        }
        if (st != KL_OK) {
            rule_free(r);
            /* roll back the whole pack: a set never holds half a file */
            while (set->count > first)
                rule_free(set->rules[--set->count]);
            set->npacks--;
            free(pack->name);
            free(pack->summary);
            free(pack->lang);
            free(pack->source);
            free(pack);
            goto out;
        }
        r->index = set->count;
        set->rules[set->count++] = r;
    }
out:
    if (c.have_idx)
        kl_yaml_index_free(&c.idx);
    if (used)
        *used = c.next_code;
    return st;
}

kl_status kl_rules_compile(kl_rules *rules, kl_diag *diag)
{
    kl_diag_clear(diag);
    if (rules->compiled)
        return KL_OK;
    for (size_t i = 0; i < rules->count; i++) {
        kl_rule *r = rules->rules[i];
        if (!r->clauses_final && kl_rule_derive_clauses(r) != KL_OK) {
            kl_diag_set(diag, KL_ERR_NOMEM, r->pack->source, 0, 0, r->id, "out of memory");
            return KL_ERR_NOMEM;
        }
    }
    if (rules->nprecompiled && rules->nprecompiled == rules->count &&
        kl_precompiled_packs.prefilter && kl_precompiled_packs.prefilter->nrules == rules->count &&
        !kl_env_on("KINDLINT_NO_PREFILTER"))
        rules->prefilter = kl_prefilter_from_image(kl_precompiled_packs.prefilter);
    else
        rules->prefilter = kl_prefilter_build(rules);
    if (!rules->prefilter) {
        kl_diag_set(diag, KL_ERR_NOMEM, NULL, 0, 0, NULL, "out of memory");
        return KL_ERR_NOMEM;
    }
    rules->compiled = 1;
    return KL_OK;
}

/* JIT compiling all of a rule set's patterns takes longer than loading and
 * compiling them (about 110 ms for the default packs), and most rules meet
 * few candidate sentences, so a rule is interpreted on its first
 * KL_JIT_AFTER candidates and JIT-compiled only when it keeps coming up,
 * or at once when the scanner is eager (it has read a large input).
 * pcre2_jit_compile changes the pattern it compiles, so the one thread
 * that claims a rule compiles copies while other threads may still
 * interpret the originals; a thread that sees the state set (acquire) sees
 * the copies.
 *
 * jit_claim claims a JIT compilation tracked by state and uses: returns 0
 * when this thread is to compile now, else what to run (KL_JIT_ON,
 * KL_JIT_OFF, or KL_JIT_NOT_YET: interpret). */
static int jit_claim(atomic_int *state, atomic_uint *uses, int eager)
{
    int st = atomic_load_explicit(state, memory_order_acquire);
    if (st == KL_JIT_ON || st == KL_JIT_OFF)
        return st;
    if (st == KL_JIT_BUSY ||
        (atomic_fetch_add_explicit(uses, 1, memory_order_relaxed) < KL_JIT_AFTER && !eager))
        return KL_JIT_NOT_YET;
    /* one thread compiles; the others go on interpreting, never waiting */
    int expected = 0;
    if (!atomic_compare_exchange_strong_explicit(state, &expected, KL_JIT_BUSY,
                                                 memory_order_acquire, memory_order_acquire))
        return expected == KL_JIT_BUSY ? KL_JIT_NOT_YET : expected;
    return 0;
}

/* c, JIT-compiled; NULL (c freed) when it or its JIT code is missing. */
static pcre2_code *jit_or_free(pcre2_code *c)
{
    if (c && pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) != 0) {
        pcre2_code_free(c);
        c = NULL;
    }
    return c;
}

/* r's ASCII twin, not yet JIT-compiled: decoded when precompiled, else
 * compiled (NULL: none). */
static pcre2_code *rule_twin(const kl_rule *r)
{
    if (!r->twin_known)
        return kl_pattern_compile_ascii(r->pattern);
    pcre2_code *twin = NULL;
    if (r->twin_image && pcre2_serialize_decode(&twin, 1, r->twin_image, NULL) != 1)
        return kl_pattern_compile_ascii(r->pattern); /* no memory to decode it */
    return twin;
}

int kl_rule_prepare(kl_rule *r, int eager)
{
    int state = jit_claim(&r->jit_state, &r->jit_uses, eager);
    if (state)
        return state;
    /* the ASCII twin: a sentence of ASCII only runs it, faster */
    pcre2_code *ascii = jit_or_free(rule_twin(r));
    /* without a twin, every sentence needs the pattern's own JIT code */
    pcre2_code *re = ascii ? NULL : jit_or_free(pcre2_code_copy(r->re));
    state = KL_JIT_OFF;
    if (ascii || re) {
        r->jit_ascii = ascii;
        if (re) {
            r->jit_re = re;
            atomic_store_explicit(&r->utf_state, KL_JIT_ON, memory_order_release);
        }
        state = KL_JIT_ON;
    }
    atomic_store_explicit(&r->jit_state, state, memory_order_release);
    return state;
}

int kl_rule_prepare_unless(kl_rule *r, int eager)
{
    int state = jit_claim(&r->unless_state, &r->unless_uses, eager);
    if (state)
        return state;
    pcre2_code **unless = r->nunless ? calloc(r->nunless, sizeof *unless) : NULL;
    int ok = unless != NULL;
    /* pcre2_match runs an unless-pattern's JIT code when it has some */
    for (size_t u = 0; ok && u < r->nunless; u++) {
        ok = (unless[u] = pcre2_code_copy(r->unless[u])) != NULL;
        if (ok)
            pcre2_jit_compile(unless[u], PCRE2_JIT_COMPLETE);
    }
    state = KL_JIT_OFF;
    if (ok) {
        r->jit_unless = unless;
        state = KL_JIT_ON;
    } else {
        for (size_t u = 0; unless && u < r->nunless; u++)
            pcre2_code_free(unless[u]);
        free(unless);
    }
    atomic_store_explicit(&r->unless_state, state, memory_order_release);
    return state;
}

int kl_rule_prepare_utf(kl_rule *r, int eager)
{
    int state = jit_claim(&r->utf_state, &r->utf_uses, eager);
    if (state)
        return state;
    pcre2_code *re = jit_or_free(pcre2_code_copy(r->re));
    r->jit_re = re;
    state = re ? KL_JIT_ON : KL_JIT_OFF;
    atomic_store_explicit(&r->utf_state, state, memory_order_release);
    return state;
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                 */
/* ------------------------------------------------------------------------ */

size_t kl_rules_count(const kl_rules *rules)
{
    return rules ? rules->count : 0;
}

const kl_rule *kl_rules_at(const kl_rules *rules, size_t i)
{
    return rules && i < rules->count ? rules->rules[i] : NULL;
}

const kl_rule *kl_rules_find(const kl_rules *rules, const char *id)
{
    for (size_t i = 0; rules && id && i < rules->count; i++)
        if (strcmp(rules->rules[i]->id, id) == 0)
            return rules->rules[i];
    return NULL;
}

int kl_rules_has_pack(const kl_rules *rules, const char *pack)
{
    for (size_t i = 0; rules && pack && i < rules->npacks; i++)
        if (strcmp(rules->packs[i]->name, pack) == 0)
            return 1;
    return 0;
}

size_t kl_rule_index(const kl_rule *r)
{
    return r->index;
}
const char *kl_rule_id(const kl_rule *r)
{
    return r->id;
}
const char *kl_rule_pack(const kl_rule *r)
{
    return r->pack->name;
}
const char *kl_rule_pack_summary(const kl_rule *r)
{
    return r->pack->summary;
}
const char *kl_rule_source(const kl_rule *r)
{
    return r->pack->source;
}
kl_category kl_rule_category(const kl_rule *r)
{
    return r->category;
}
kl_severity kl_rule_severity(const kl_rule *r)
{
    return r->severity;
}
const char *kl_rule_message(const kl_rule *r)
{
    return r->message;
}
const char *kl_rule_explain(const kl_rule *r)
{
    return r->explain;
}
const char *kl_rule_pattern(const kl_rule *r)
{
    return r->pattern;
}
size_t kl_rule_suggestion_count(const kl_rule *r)
{
    return r->nsuggest;
}
size_t kl_rule_test_count(const kl_rule *r)
{
    return r->nflag + r->npass;
}
const char *kl_rule_triggers(const kl_rule *r)
{
    return r->triggers_desc ? r->triggers_desc : "";
}

const char *kl_rule_suggestion_template(const kl_rule *r, size_t i)
{
    return i < r->nsuggest ? r->suggest[i].source : NULL;
}

int kl_rule_example(const kl_rule *r, size_t i, const char **text, const char **fix)
{
    if (i >= r->nflag)
        return -1;
    *text = r->flag[i].text;
    *fix = r->flag[i].fix;
    return 0;
}

/*
 * prefilter.c -- which rules can match a sentence, without running them.
 *
 * Running every rule's regex on every sentence costs about N x (1/900 MB/s)
 * (ENGINEERING.md 3.7), so a rule set of a hundred rules would crawl. This
 * stage gives each rule a condition on plain text that every sentence the
 * rule can match meets, and checks all the conditions in one pass.
 *
 * The condition is a conjunction of clauses, each a disjunction of lowercase
 * ASCII literals (kl_clause in kl_internal.h): `"never" & ("you"|"yours")`
 * means the sentence holds "never" and one of "you", "yours", as ASCII
 * case-insensitive substrings. The clauses come from:
 *  - a rule's `triggers:` list (rules_compile.c), one clause the author
 *    vouches for;
 *  - kl_rule_derive_clauses, which reads the pattern as PCRE2 parses it and
 *    keeps the literal runs every match must contain. It is conservative:
 *    whatever it does not understand (classes, \w, backreferences, lookaround
 *    contents, optional parts, a branch without a literal) contributes
 *    nothing, and constructs that change how the rest of the pattern parses
 *    ((?x), (?(cond)...), (*ACCEPT), an odd "{") give the rule no derived
 *    clause at all. It assumes the compile options of kl_pattern_compile
 *    (UTF, UCP, CASELESS; not EXTENDED) and its quote expansion: ' and " are
 *    read as "some character", never as a literal.
 *
 * CASELESS with UCP lets 'k' match U+212A KELVIN SIGN and 's' match U+017F
 * LONG S; these are the only non-ASCII characters that fold to ASCII in
 * PCRE2 10.42 (test_prefilter.c checks it). A sentence holding either makes
 * every rule a candidate.
 *
 * kl_prefilter_build compiles every literal of every rule into one
 * Aho-Corasick automaton over ASCII-folded bytes: a dense transition table
 * over byte classes (bytes that occur in no literal share class 0), with
 * failure links resolved at build time, so a scan is one table load per
 * byte. States with outputs are numbered last, so "is there an output
 * here?" is one compare. Each output says (rule, clause bit); during a scan
 * the caller's cand array collects the hit bits of each rule (at most
 * KL_PREFILTER_MAX_CLAUSES clauses, one byte), and at the end a rule is a
 * candidate when its bits equal its mask. The scan allocates nothing and
 * writes only to cand, so one prefilter serves many scanner threads.
 *
 * KINDLINT_NO_PREFILTER=1 in the environment when the rule set is compiled
 * turns the prefilter off (every rule is a candidate for every sentence): for
 * measuring what it saves (bench/speed.sh) and for differential tests.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kl_internal.h"

/* The clause bits of a rule live in one byte of cand during a scan. */
#define KL_PREFILTER_MAX_CLAUSES 8
/* A literal run longer than this is cut; every piece is still required. */
#define LIT_MAX 32
/* A disjunction with more literals than this is dropped (it would match
 * nearly everything and bloat the automaton). */
#define CLAUSE_MAX_LITS 64
/* Clauses kept while a (sub)pattern is analysed; the weakest go first. */
#define CONJ_MAX 24
/* Groups nested deeper than this give up (PCRE2 allows 250). */
#define DEPTH_MAX 64

/* ------------------------------------------------------------------------ */
/* Clauses                                                                   */
/* ------------------------------------------------------------------------ */

/* A conjunction of clauses being built. */
typedef struct conj {
    kl_clause *cl;
    size_t n, cap;
} conj;

static void clause_free(kl_clause *c)
{
    for (size_t i = 0; i < c->nlits; i++)
        free(c->lits[i]);
    free(c->lits);
    c->lits = NULL;
    c->nlits = 0;
}

static void conj_free(conj *k)
{
    for (size_t i = 0; i < k->n; i++)
        clause_free(&k->cl[i]);
    free(k->cl);
    memset(k, 0, sizeof *k);
}

/* Words so frequent in messages that a clause of them filters little. */
static int is_common_word(const char *s)
{
    static const char *const common[] = {
        "you",  "your",  "the",   "and",   "that", "this", "are",     "not",  "for",  "with",
        "have", "was",   "but",   "all",   "can",  "just", "what",    "one",  "out",  "get",
        "like", "about", "would", "there", "they", "them", "then",    "been", "will", "from",
        "its",  "don",   "know",  "when",  "how",  "why",  "yourself"};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        if (strcmp(s, common[i]) == 0)
            return 1;
    return 0;
}

static size_t alnum_count(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += isalnum((unsigned char)*s) != 0;
    return n;
}

/* How much a literal narrows the sentences (higher: rarer). */
static int lit_score(const char *s)
{
    size_t len = strlen(s), an = alnum_count(s);
    int score = (int)(an * 10 + (len - an) * 2);
    /* the literal without its edge spaces, for the common-word check */
    char w[LIT_MAX + 1];
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    if (n <= LIT_MAX) {
        memcpy(w, s, n);
        w[n] = '\0';
        if (is_common_word(w))
            score -= 15;
    }
    return score;
}

/* A clause is worth scanning for when each of its literals has three
 * letters or digits: shorter ones are in most sentences anyway. */
static int clause_useful(const kl_clause *c)
{
    if (c->nlits == 0)
        return 0;
    for (size_t i = 0; i < c->nlits; i++)
        if (alnum_count(c->lits[i]) < 3)
            return 0;
    return 1;
}

static int clause_score(const kl_clause *c)
{
    int min = 1 << 20;
    for (size_t i = 0; i < c->nlits; i++) {
        int s = lit_score(c->lits[i]);
        if (s < min)
            min = s;
    }
    int n = (int)c->nlits, penalty = 0;
    while (n > 1) {
        penalty += 3;
        n /= 2;
    }
    return clause_useful(c) ? min - penalty : -1000;
}

/* Is clause a implied by clause b, that is, does every literal of b hold
 * one of a's literals? Then a says nothing b does not. */
static int clause_implied_by(const kl_clause *a, const kl_clause *b)
{
    if (b->nlits == 0)
        return 0;
    for (size_t i = 0; i < b->nlits; i++) {
        size_t j = 0;
        while (j < a->nlits && !strstr(b->lits[i], a->lits[j]))
            j++;
        if (j == a->nlits)
            return 0;
    }
    return 1;
}

/* Drops from a clause the literals that contain another of its literals
 * ("abcd" next to "abc" adds nothing to a disjunction) and duplicates. */
static void clause_simplify(kl_clause *c)
{
    size_t out = 0;
    for (size_t i = 0; i < c->nlits; i++) {
        int redundant = 0;
        for (size_t j = 0; j < c->nlits && !redundant; j++) {
            if (i == j || !c->lits[j])
                continue;
            if (strstr(c->lits[i], c->lits[j]) && (strcmp(c->lits[i], c->lits[j]) != 0 || j < i))
                redundant = 1;
        }
        if (redundant) {
            free(c->lits[i]);
            c->lits[i] = NULL;
        }
    }
    for (size_t i = 0; i < c->nlits; i++)
        if (c->lits[i])
            c->lits[out++] = c->lits[i];
    c->nlits = out;
}

static int cmp_clause_score(const void *a, const void *b)
{
    int x = clause_score(a), y = clause_score(b);
    return (x < y) - (x > y); /* best first */
}

/* Removes clauses implied by others, then keeps the max best. */
static void conj_prune(conj *k, size_t max)
{
    for (size_t i = 0; i < k->n; i++) {
        for (size_t j = 0; j < k->n; j++) {
            if (i == j || k->cl[j].nlits == 0 || k->cl[i].nlits == 0)
                continue;
            if (clause_implied_by(&k->cl[i], &k->cl[j]) &&
                (!clause_implied_by(&k->cl[j], &k->cl[i]) || j < i)) {
                clause_free(&k->cl[i]);
                break;
            }
        }
    }
    size_t out = 0;
    for (size_t i = 0; i < k->n; i++)
        if (k->cl[i].nlits)
            k->cl[out++] = k->cl[i];
    k->n = out;
    if (k->n > 1)
        qsort(k->cl, k->n, sizeof *k->cl, cmp_clause_score);
    while (k->n > max)
        clause_free(&k->cl[--k->n]);
}

/* ------------------------------------------------------------------------ */
/* Reading a pattern                                                         */
/* ------------------------------------------------------------------------ */

typedef struct deriv {
    const unsigned char *p;
    size_t i, n;
    int in_q; /* inside \Q...\E */
    int bail; /* the pattern is beyond this reader: derive nothing */
    int oom;
    int depth;
} deriv;

/* What one atom of a pattern is, for the literal runs around it. */
typedef enum item_kind {
    ITEM_LIT,   /* one ASCII character, matched caselessly */
    ITEM_OTHER, /* anything else: a class, an assertion, an escape... */
    ITEM_GROUP  /* a group whose required clauses are in g */
} item_kind;

typedef struct item {
    item_kind kind;
    char c;
    int quantifiable;
    conj g;
} item;

static void parse_alt(deriv *d, conj *out);

static int conj_push(deriv *d, conj *k, kl_clause c)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 8;
        kl_clause *p = realloc(k->cl, cap * sizeof *p);
        if (!p) {
            clause_free(&c);
            d->oom = 1;
            return -1;
        }
        k->cl = p;
        k->cap = cap;
    }
    k->cl[k->n++] = c;
    return 0;
}

static void conj_push_lit(deriv *d, conj *k, const char *s, size_t n)
{
    kl_clause c = {NULL, 0};
    c.lits = malloc(sizeof *c.lits);
    char *lit = malloc(n + 1);
    if (!c.lits || !lit) {
        free(c.lits);
        free(lit);
        d->oom = 1;
        return;
    }
    memcpy(lit, s, n);
    lit[n] = '\0';
    c.lits[0] = lit;
    c.nlits = 1;
    conj_push(d, k, c);
}

/* Moves the clauses of src into dst. */
static void conj_merge(deriv *d, conj *dst, conj *src)
{
    for (size_t i = 0; i < src->n && !d->oom; i++) {
        conj_push(d, dst, src->cl[i]);
        src->cl[i].lits = NULL;
        src->cl[i].nlits = 0;
    }
    conj_free(src);
    if (dst->n > CONJ_MAX)
        conj_prune(dst, CONJ_MAX);
}

static int at(const deriv *d, size_t k)
{
    return d->i + k < d->n ? d->p[d->i + k] : -1;
}

/* Moves past the next `close`; bails when there is none. */
static void skip_past(deriv *d, unsigned char close)
{
    while (d->i < d->n && d->p[d->i] != close)
        d->i++;
    if (d->i >= d->n)
        d->bail = 1;
    else
        d->i++;
}

static void skip_utf8(deriv *d)
{
    d->i++;
    while (d->i < d->n && (d->p[d->i] & 0xC0) == 0x80)
        d->i++;
}

/* A class [...]: where it ends, nothing more. */
static void skip_class(deriv *d)
{
    d->i++; /* [ */
    if (at(d, 0) == '^')
        d->i++;
    if (at(d, 0) == ']')
        d->i++; /* a ']' first is literal */
    while (d->i < d->n) {
        int c = d->p[d->i];
        if (c == '\\') {
            if (at(d, 1) == 'Q') {
                d->i += 2;
                while (d->i < d->n && !(d->p[d->i] == '\\' && at(d, 1) == 'E'))
                    d->i++;
                if (d->i >= d->n) {
                    d->bail = 1;
                    return;
                }
            }
            d->i += 2;
            continue;
        }
        if (c == '[' && (at(d, 1) == ':' || at(d, 1) == '.' || at(d, 1) == '=')) {
            /* [:alpha:] and its kin: up to the matching ":]" */
            int kind = at(d, 1);
            size_t j = d->i + 2;
            while (j + 1 < d->n && !(d->p[j] == kind && d->p[j + 1] == ']'))
                j++;
            if (j + 1 < d->n) {
                d->i = j + 2;
                continue;
            }
        }
        d->i++;
        if (c == ']')
            return;
    }
    d->bail = 1; /* unterminated */
}

/* An escape outside a class; d->i is at the backslash. */
static void parse_escape(deriv *d, item *it)
{
    d->i++;
    if (d->i >= d->n) {
        d->bail = 1;
        return;
    }
    int e = d->p[d->i];
    it->kind = ITEM_OTHER;
    if (e >= 0x80) {
        skip_utf8(d);
        return;
    }
    if (!isalnum(e)) {
        d->i++;
        if (e >= 0x20 && e < 0x7F && e != '\'' && e != '"') {
            it->kind = ITEM_LIT;
            it->c = (char)e;
        }
        return;
    }
    d->i++;
    /* assertions, classes and single-character escapes: no literal */
    if (strchr("bBAzZGKdDwWsShHvVRXCaefnrt", e))
        return;
    switch (e) {
    case 'Q':
        d->in_q = 1;
        it->quantifiable = 0;
        if (at(d, 0) == '\\' && at(d, 1) == 'E') {
            d->i += 2;
            d->in_q = 0;
        }
        return;
    case 'E': it->quantifiable = 0; return;
    case 'N':
        if (at(d, 0) == '{' && at(d, 1) == 'U' && at(d, 2) == '+')
            skip_past(d, '}');
        return;
    case 'p':
    case 'P':
        if (at(d, 0) == '{')
            skip_past(d, '}');
        else if (d->i < d->n)
            d->i++;
        return;
    case 'x':
        if (at(d, 0) == '{') {
            skip_past(d, '}');
        } else {
            for (int k = 0; k < 2 && at(d, 0) >= 0 && isxdigit(at(d, 0)); k++)
                d->i++;
        }
        return;
    case 'o':
        if (at(d, 0) == '{')
            skip_past(d, '}');
        else
            d->bail = 1;
        return;
    case '0':
        for (int k = 0; k < 2 && at(d, 0) >= '0' && at(d, 0) <= '7'; k++)
            d->i++;
        return;
    case 'g':
        if (at(d, 0) == '{')
            skip_past(d, '}');
        else if (at(d, 0) == '<')
            skip_past(d, '>');
        else if (at(d, 0) == '\'') {
            d->i++;
            skip_past(d, '\'');
        } else {
            if (at(d, 0) == '+' || at(d, 0) == '-')
                d->i++;
            if (!(at(d, 0) >= '0' && at(d, 0) <= '9'))
                d->bail = 1;
            while (at(d, 0) >= '0' && at(d, 0) <= '9')
                d->i++;
        }
        return;
    case 'k':
        if (at(d, 0) == '{')
            skip_past(d, '}');
        else if (at(d, 0) == '<')
            skip_past(d, '>');
        else if (at(d, 0) == '\'') {
            d->i++;
            skip_past(d, '\'');
        } else
            d->bail = 1;
        return;
    case 'c':
        if (d->i < d->n && d->p[d->i] < 0x80)
            d->i++;
        else
            d->bail = 1;
        return;
    default:
        /* \1..\9 is a back reference; \10 and up may be one or an octal
         * character depending on the groups: too subtle to guess */
        if (e >= '1' && e <= '9' && !(at(d, 0) >= '0' && at(d, 0) <= '9'))
            return;
        d->bail = 1;
        return;
    }
}

/* A group: ( has been read up to where its contents start. Lookarounds
 * are read (to find their end) and then forgotten. */
static void parse_group_body(deriv *d, item *it, int keep)
{
    if (++d->depth > DEPTH_MAX) {
        d->bail = 1;
        return;
    }
    conj g = {NULL, 0, 0};
    parse_alt(d, &g);
    d->depth--;
    if (!d->bail && at(d, 0) != ')')
        d->bail = 1;
    if (!d->bail)
        d->i++;
    if (keep && !d->bail) {
        it->kind = ITEM_GROUP;
        it->g = g;
    } else {
        conj_free(&g);
    }
}

static int is_one_of(const char *name, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && memcmp(list[i], name, n) == 0)
            return 1;
    return 0;
}

/* (*VERB), (*VERB:NAME) or an alpha assertion (*name: ...). */
static void parse_star_group(deriv *d, item *it)
{
    static const char *const groups[] = {"atomic", "sr", "script_run", "asr", "atomic_script_run"};
    static const char *const looks[] = {"pla",
                                        "plb",
                                        "nla",
                                        "nlb",
                                        "napla",
                                        "naplb",
                                        "positive_lookahead",
                                        "positive_lookbehind",
                                        "negative_lookahead",
                                        "negative_lookbehind",
                                        "non_atomic_positive_lookahead",
                                        "non_atomic_positive_lookbehind"};
    size_t start = d->i;
    while (d->i < d->n && (isalpha(d->p[d->i]) || d->p[d->i] == '_'))
        d->i++;
    const char *name = (const char *)d->p + start;
    size_t len = d->i - start;
    if (len && islower(d->p[start]) && at(d, 0) == ':') {
        d->i++;
        if (is_one_of(name, len, groups, sizeof groups / sizeof groups[0]))
            parse_group_body(d, it, 1);
        else if (is_one_of(name, len, looks, sizeof looks / sizeof looks[0]))
            parse_group_body(d, it, 0);
        else
            d->bail = 1;
        return;
    }
    /* a match may end at (*ACCEPT) before the literals after it */
    if (len >= 6 && memcmp(name, "ACCEPT", 6) == 0) {
        d->bail = 1;
        return;
    }
    skip_past(d, ')');
}

/* d->i is at '('. */
static void parse_group(deriv *d, item *it)
{
    d->i++;
    it->kind = ITEM_OTHER;
    if (at(d, 0) == '*') {
        d->i++;
        parse_star_group(d, it);
        return;
    }
    if (at(d, 0) != '?') {
        parse_group_body(d, it, 1); /* capture */
        return;
    }
    int c = at(d, 1), c2 = at(d, 2);
    switch (c) {
    case '#':
        skip_past(d, ')');
        it->quantifiable = 0;
        return;
    case ':':
    case '|':
    case '>':
        d->i += 2;
        parse_group_body(d, it, 1);
        return;
    case '=':
    case '!':
    case '*':
        d->i += 2;
        parse_group_body(d, it, 0);
        return;
    case '<':
        if (c2 == '=' || c2 == '!' || c2 == '*') {
            d->i += 3;
            parse_group_body(d, it, 0);
        } else {
            d->i += 2;
            skip_past(d, '>');
            if (!d->bail)
                parse_group_body(d, it, 1);
        }
        return;
    case '\'':
        d->i += 2;
        skip_past(d, '\'');
        if (!d->bail)
            parse_group_body(d, it, 1);
        return;
    case 'P':
        if (c2 == '<') {
            d->i += 3;
            skip_past(d, '>');
            if (!d->bail)
                parse_group_body(d, it, 1);
        } else if (c2 == '=' || c2 == '>') {
            skip_past(d, ')'); /* back reference or subroutine call */
        } else {
            d->bail = 1;
        }
        return;
    case 'R':
    case '&':
    case '+':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        skip_past(d, ')'); /* recursion or subroutine call */
        return;
    case '-':
        if (c2 >= '0' && c2 <= '9') {
            skip_past(d, ')');
            return;
        }
        break;
    default: break;
    }
    /* option settings: (?i) (?-i) (?s:...) (?^) ...; x changes how the rest
     * parses, (?( is a condition, (?C a callout: give up on those */
    size_t j = d->i + 1;
    while (j < d->n && (isalpha(d->p[j]) || d->p[j] == '-' || d->p[j] == '^')) {
        if (d->p[j] == 'x')
            d->bail = 1;
        if (d->p[j] == 'C' && j == d->i + 1)
            d->bail = 1;
        j++;
    }
    if (d->bail || j >= d->n || j == d->i + 1) {
        d->bail = 1;
        return;
    }
    if (d->p[j] == ')') {
        d->i = j + 1;
        it->quantifiable = 0;
    } else if (d->p[j] == ':') {
        d->i = j + 1;
        parse_group_body(d, it, 1);
    } else {
        d->bail = 1;
    }
}

/* Reads the atom at d->i. */
static void next_item(deriv *d, item *it)
{
    memset(it, 0, sizeof *it);
    it->quantifiable = 1;
    int c = d->p[d->i];
    if (d->in_q) {
        if (c == '\\' && at(d, 1) == 'E') {
            d->i += 2;
            d->in_q = 0;
            it->kind = ITEM_OTHER;
            it->quantifiable = 0;
            return;
        }
        if (c >= 0x80) {
            skip_utf8(d);
            it->kind = ITEM_OTHER;
        } else {
            d->i++;
            it->kind = (c >= 0x20 && c < 0x7F && c != '\'' && c != '"') ? ITEM_LIT : ITEM_OTHER;
            it->c = (char)tolower(c);
        }
        /* a quantifier applies to the last character of \Q...\E */
        if (at(d, 0) == '\\' && at(d, 1) == 'E') {
            d->i += 2;
            d->in_q = 0;
        } else {
            it->quantifiable = 0;
        }
        return;
    }
    switch (c) {
    case '\\': parse_escape(d, it); return;
    case '[':
        it->kind = ITEM_OTHER;
        skip_class(d);
        return;
    case '(': parse_group(d, it); return;
    case '*':
    case '+':
    case '?':
    case '{':
        /* a quantifier with nothing before it, or a literal "{" whose
         * reading changed across PCRE2 versions ({,3} in 10.43) */
        d->bail = 1;
        return;
    default: break;
    }
    if (c >= 0x80) {
        it->kind = ITEM_OTHER;
        skip_utf8(d);
        return;
    }
    d->i++;
    if (c < 0x20 || c >= 0x7F || c == '.' || c == '^' || c == '$' || c == '}' || c == '\'' ||
        c == '"') {
        it->kind = ITEM_OTHER;
        return;
    }
    it->kind = ITEM_LIT;
    it->c = (char)tolower(c);
}

static int read_number(deriv *d, long *v)
{
    if (!(at(d, 0) >= '0' && at(d, 0) <= '9'))
        return 0;
    long n = 0;
    while (at(d, 0) >= '0' && at(d, 0) <= '9') {
        if (n < 100000)
            n = n * 10 + (at(d, 0) - '0');
        d->i++;
    }
    *v = n;
    return 1;
}

/* Reads a quantifier if one follows: sets *min and *max (-1: unbounded).
 * A "{" that is not {n}, {n,} or {n,m} gives up on the pattern. */
static void parse_quantifier(deriv *d, long *min, long *max)
{
    *min = *max = 1;
    int c = at(d, 0);
    if (c == '?' || c == '*' || c == '+') {
        d->i++;
        *min = c == '+' ? 1 : 0;
        *max = c == '?' ? 1 : -1;
    } else if (c == '{') {
        d->i++;
        long lo = 0, hi = -1;
        if (!read_number(d, &lo)) {
            d->bail = 1;
            return;
        }
        if (at(d, 0) == ',') {
            d->i++;
            if (!read_number(d, &hi))
                hi = -1;
        } else {
            hi = lo;
        }
        if (at(d, 0) != '}') {
            d->bail = 1;
            return;
        }
        d->i++;
        *min = lo;
        *max = hi;
    } else {
        return;
    }
    if (at(d, 0) == '?' || at(d, 0) == '+')
        d->i++; /* lazy or possessive: same strings */
}

/* One branch: a sequence of atoms up to '|' or ')'. */
static void parse_seq(deriv *d, conj *out)
{
    char run[LIT_MAX];
    size_t rl = 0;
#define FLUSH()                                                                                    \
    do {                                                                                           \
        if (rl)                                                                                    \
            conj_push_lit(d, out, run, rl);                                                        \
        rl = 0;                                                                                    \
    } while (0)
#define ADD(ch)                                                                                    \
    do {                                                                                           \
        if (rl == LIT_MAX)                                                                         \
            FLUSH();                                                                               \
        run[rl++] = (ch);                                                                          \
    } while (0)

    while (!d->bail && !d->oom && d->i < d->n) {
        int c = d->p[d->i];
        if (!d->in_q && (c == '|' || c == ')'))
            break;
        item it;
        next_item(d, &it);
        if (d->bail)
            break;
        long min = 1, max = 1;
        if (it.quantifiable && !d->in_q)
            parse_quantifier(d, &min, &max);
        if (d->bail) {
            if (it.kind == ITEM_GROUP)
                conj_free(&it.g);
            break;
        }
        if (it.kind == ITEM_LIT) {
            if (min == 0) {
                FLUSH();
                continue;
            }
            for (long k = 0; k < min && k < LIT_MAX; k++)
                ADD(it.c);
            if (max != min) {
                /* "ab+c" matches "abbc": "ab" and "bc" are required */
                FLUSH();
                ADD(it.c);
            }
            continue;
        }
        FLUSH();
        if (it.kind == ITEM_GROUP) {
            if (min >= 1)
                conj_merge(d, out, &it.g);
            else
                conj_free(&it.g);
        }
    }
    FLUSH();
#undef ADD
#undef FLUSH
}

/* Joins one clause from each branch into a disjunction. */
static void join_branches(deriv *d, conj *branches, size_t nb, size_t k, conj *out)
{
    size_t total = 0;
    for (size_t b = 0; b < nb; b++)
        total += branches[b].cl[k].nlits;
    if (total > CLAUSE_MAX_LITS)
        return;
    kl_clause c = {calloc(total, sizeof(char *)), 0};
    if (!c.lits) {
        d->oom = 1;
        return;
    }
    for (size_t b = 0; b < nb; b++) {
        kl_clause *src = &branches[b].cl[k];
        for (size_t i = 0; i < src->nlits; i++) {
            size_t j = 0;
            while (j < c.nlits && strcmp(c.lits[j], src->lits[i]) != 0)
                j++;
            if (j < c.nlits)
                continue;
            if (!(c.lits[c.nlits] = strdup(src->lits[i]))) {
                clause_free(&c);
                d->oom = 1;
                return;
            }
            c.nlits++;
        }
    }
    clause_simplify(&c);
    conj_push(d, out, c);
}

/* Alternatives up to ')' or the end. A group is as strong as its weakest
 * branch: the k-th best clause of every branch, joined, is required. */
static void parse_alt(deriv *d, conj *out)
{
    conj *br = NULL;
    size_t nb = 0, cap = 0;
    for (;;) {
        if (nb == cap) {
            size_t nc = cap ? cap * 2 : 4;
            conj *p = realloc(br, nc * sizeof *p);
            if (!p) {
                d->oom = 1;
                break;
            }
            br = p;
            cap = nc;
        }
        memset(&br[nb], 0, sizeof br[nb]);
        parse_seq(d, &br[nb++]);
        if (d->bail || d->oom || at(d, 0) != '|')
            break;
        d->i++;
    }
    if (nb == 1 && !d->bail && !d->oom) {
        *out = br[0];
    } else if (!d->bail && !d->oom) {
        size_t kmax = (size_t)-1;
        for (size_t b = 0; b < nb; b++) {
            conj_prune(&br[b], CONJ_MAX);
            if (br[b].n < kmax)
                kmax = br[b].n;
        }
        if (kmax > KL_PREFILTER_MAX_CLAUSES)
            kmax = KL_PREFILTER_MAX_CLAUSES;
        for (size_t k = 0; k < kmax && !d->oom; k++)
            join_branches(d, br, nb, k, out);
        for (size_t b = 0; b < nb; b++)
            conj_free(&br[b]);
    } else {
        for (size_t b = 0; b < nb; b++)
            conj_free(&br[b]);
    }
    free(br);
}

/* ------------------------------------------------------------------------ */
/* Deriving a rule's clauses                                                 */
/* ------------------------------------------------------------------------ */

/* `"never" & ("you"|"u")` */
static char *describe(const kl_rule *r)
{
    kl_buf b;
    kl_buf_init(&b);
    size_t n = r->nclauses < KL_PREFILTER_MAX_CLAUSES ? r->nclauses : KL_PREFILTER_MAX_CLAUSES;
    for (size_t i = 0; i < n; i++) {
        const kl_clause *c = &r->clauses[i];
        if (i)
            kl_buf_puts(&b, " & ");
        if (c->nlits > 1)
            kl_buf_putc(&b, '(');
        for (size_t j = 0; j < c->nlits; j++)
            kl_buf_printf(&b, "%s\"%s\"", j ? "|" : "", c->lits[j]);
        if (c->nlits > 1)
            kl_buf_putc(&b, ')');
    }
    if (kl_buf_reserve(&b, 0) != 0) {
        kl_buf_free(&b);
        return NULL;
    }
    return kl_buf_detach(&b, NULL);
}

kl_status kl_rule_derive_clauses(kl_rule *rule)
{
    conj got = {NULL, 0, 0};
    if (rule->pattern) {
        deriv d = {.p = (const unsigned char *)rule->pattern, .n = strlen(rule->pattern)};
        parse_alt(&d, &got);
        if (!d.bail && !d.oom && d.i < d.n)
            d.bail = 1; /* an unbalanced ')' */
        if (d.oom) {
            conj_free(&got);
            return KL_ERR_NOMEM;
        }
        if (d.bail)
            conj_free(&got);
    }
    /* keep the useful ones, strongest first, within the clause budget;
     * clauses already there (triggers:) stay first */
    size_t out = 0;
    for (size_t i = 0; i < got.n; i++) {
        int keep = clause_useful(&got.cl[i]);
        for (size_t j = 0; j < rule->nclauses && keep; j++)
            if (clause_implied_by(&got.cl[i], &rule->clauses[j]))
                keep = 0;
        if (keep)
            got.cl[out++] = got.cl[i];
        else
            clause_free(&got.cl[i]);
    }
    got.n = out;
    size_t room =
        rule->nclauses < KL_PREFILTER_MAX_CLAUSES ? KL_PREFILTER_MAX_CLAUSES - rule->nclauses : 0;
    conj_prune(&got, room);
    if (got.n) {
        kl_clause *p = realloc(rule->clauses, (rule->nclauses + got.n) * sizeof *p);
        if (!p) {
            conj_free(&got);
            return KL_ERR_NOMEM;
        }
        rule->clauses = p;
        for (size_t i = 0; i < got.n; i++)
            rule->clauses[rule->nclauses++] = got.cl[i];
        got.n = 0;
    }
    conj_free(&got);
    free(rule->triggers_desc);
    rule->triggers_desc = NULL;
    if (rule->nclauses && !(rule->triggers_desc = describe(rule)))
        return KL_ERR_NOMEM;
    return KL_OK;
}

/* ------------------------------------------------------------------------ */
/* The automaton                                                             */
/* ------------------------------------------------------------------------ */

/* An output entry: rule index << 3 | clause bit, or this for "every rule". */
#define OUT_ALL UINT32_MAX
#define NO_STATE UINT32_MAX

struct kl_prefilter {
    size_t nrules;
    unsigned char *mask; /* per rule: the clause bits that must all be hit */
    unsigned char cls[256];
    uint32_t width;      /* a row: one column per class, then the output index */
    uint32_t *trans;     /* rows of width; targets are row offsets; NULL: off */
    uint32_t out_first;  /* rows at or after this offset have outputs */
    uint32_t *out_start; /* per output row: where its entries start (+1 end) */
    uint32_t *outs;
};

typedef struct lit_ref {
    const char *s;
    size_t len;
    uint32_t entry;
} lit_ref;

void kl_prefilter_free(struct kl_prefilter *pf)
{
    if (!pf)
        return;
    free(pf->mask);
    free(pf->trans);
    free(pf->out_start);
    free(pf->outs);
    free(pf);
}

static int prefilter_disabled(void)
{
    const char *e = getenv("KINDLINT_NO_PREFILTER");
    return e && *e && strcmp(e, "0") != 0;
}

/* Builds the automaton of lits into pf; returns -1 on OOM. */
static int build_automaton(struct kl_prefilter *pf, const lit_ref *lits, size_t nlits)
{
    /* byte classes: one per byte that occurs (case-folded), 0 for the rest */
    uint32_t ncls = 1;
    size_t maxstates = 1;
    for (size_t i = 0; i < nlits; i++) {
        maxstates += lits[i].len;
        for (size_t j = 0; j < lits[i].len; j++) {
            unsigned char b = (unsigned char)tolower((unsigned char)lits[i].s[j]);
            if (!pf->cls[b]) {
                pf->cls[b] = (unsigned char)ncls;
                if (b >= 'a' && b <= 'z')
                    pf->cls[b - 'a' + 'A'] = (unsigned char)ncls;
                ncls++;
            }
        }
    }
    if (maxstates > UINT32_MAX / (ncls + 1) / 2)
        return -1;

    int rc = -1;
    uint32_t *g = malloc(maxstates * ncls * sizeof *g); /* trie, then DFA */
    uint32_t *fail = malloc(maxstates * sizeof *fail);
    uint32_t *queue = malloc(maxstates * sizeof *queue);
    uint32_t *own = calloc(maxstates + 1, sizeof *own); /* own outputs, counted */
    uint32_t *ownv = malloc((nlits ? nlits : 1) * sizeof *ownv);
    uint32_t *cnt = calloc(maxstates, sizeof *cnt);    /* all outputs, counted */
    uint32_t *at_end = malloc(nlits * sizeof *at_end); /* literal -> its state */
    uint32_t *perm = malloc(maxstates * sizeof *perm);
    uint32_t *first = NULL;
    if (!g || !fail || !queue || !own || !ownv || !cnt || !at_end || !perm)
        goto out;
    memset(g, 0xFF, ncls * sizeof *g);
    uint32_t nstates = 1;
    for (size_t i = 0; i < nlits; i++) {
        uint32_t s = 0;
        for (size_t j = 0; j < lits[i].len; j++) {
            uint32_t c = pf->cls[(unsigned char)lits[i].s[j]];
            if (g[s * ncls + c] == NO_STATE) {
                memset(g + (size_t)nstates * ncls, 0xFF, ncls * sizeof *g);
                g[s * ncls + c] = nstates++;
            }
            s = g[s * ncls + c];
        }
        at_end[i] = s;
        own[s + 1]++;
    }
    /* own outputs grouped by state (counting sort) */
    for (uint32_t s = 0; s < nstates; s++)
        own[s + 1] += own[s];
    {
        uint32_t *fill = malloc(nstates * sizeof *fill);
        if (!fill)
            goto out;
        memcpy(fill, own, nstates * sizeof *fill);
        for (size_t i = 0; i < nlits; i++)
            ownv[fill[at_end[i]]++] = lits[i].entry;
        free(fill);
    }
    /* failure links in breadth-first order; missing moves become the
     * failure state's moves, so the scan never follows a link */
    size_t qh = 0, qt = 0;
    fail[0] = 0;
    for (uint32_t c = 0; c < ncls; c++) {
        uint32_t t = g[c];
        if (t == NO_STATE) {
            g[c] = 0;
        } else {
            fail[t] = 0;
            queue[qt++] = t;
        }
    }
    while (qh < qt) {
        uint32_t s = queue[qh++];
        for (uint32_t c = 0; c < ncls; c++) {
            uint32_t t = g[(size_t)s * ncls + c];
            if (t == NO_STATE) {
                g[(size_t)s * ncls + c] = g[(size_t)fail[s] * ncls + c];
            } else {
                fail[t] = g[(size_t)fail[s] * ncls + c];
                queue[qt++] = t;
            }
        }
    }
    /* all outputs of a state: its own and its failure state's */
    cnt[0] = own[1] - own[0];
    for (size_t k = 0; k < qt; k++) {
        uint32_t s = queue[k];
        cnt[s] = (own[s + 1] - own[s]) + cnt[fail[s]];
    }
    /* numbering: states without outputs first (the root is 0) */
    uint32_t nplain = 0, nout = 0;
    for (uint32_t s = 0; s < nstates; s++)
        if (!cnt[s])
            perm[s] = nplain++;
    for (uint32_t s = 0; s < nstates; s++)
        if (cnt[s])
            perm[s] = nplain + nout++;
    if (cnt[0]) /* an empty literal: cannot happen, literals are checked */
        goto out;
    size_t total = 0;
    for (uint32_t s = 0; s < nstates; s++)
        total += cnt[s];
    if (total >= UINT32_MAX)
        goto out;
    uint32_t width = ncls + 1;
    pf->width = width;
    pf->trans = malloc((size_t)nstates * width * sizeof *pf->trans);
    pf->out_start = malloc(((size_t)nout + 1) * sizeof *pf->out_start);
    pf->outs = malloc((total ? total : 1) * sizeof *pf->outs);
    first = malloc(nstates * sizeof *first); /* where a state's outputs start */
    if (!pf->trans || !pf->out_start || !pf->outs || !first)
        goto out;
    pf->out_first = nplain * width;
    /* lay out the outputs in breadth-first order: a state copies its failure
     * state's list, which is complete by then */
    size_t pos = 0;
    for (size_t k = 0; k < qt; k++) {
        uint32_t s = queue[k];
        if (!cnt[s])
            continue;
        first[s] = (uint32_t)pos;
        pf->out_start[perm[s] - nplain] = (uint32_t)pos;
        for (uint32_t o = own[s]; o < own[s + 1]; o++)
            pf->outs[pos++] = ownv[o];
        if (cnt[fail[s]]) {
            memcpy(pf->outs + pos, pf->outs + first[fail[s]], cnt[fail[s]] * sizeof *pf->outs);
            pos += cnt[fail[s]];
        }
    }
    pf->out_start[nout] = (uint32_t)pos;
    for (uint32_t s = 0; s < nstates; s++) {
        uint32_t *row = pf->trans + (size_t)perm[s] * width;
        for (uint32_t c = 0; c < ncls; c++)
            row[c] = perm[g[(size_t)s * ncls + c]] * width;
        row[ncls] = cnt[s] ? perm[s] - nplain : 0;
    }
    rc = 0;
out:
    free(g);
    free(fail);
    free(queue);
    free(own);
    free(ownv);
    free(cnt);
    free(at_end);
    free(perm);
    free(first);
    return rc;
}

struct kl_prefilter *kl_prefilter_build(const kl_rules *rules)
{
    struct kl_prefilter *pf = calloc(1, sizeof *pf);
    if (!pf)
        return NULL;
    pf->nrules = rules->count;
    pf->mask = calloc(rules->count ? rules->count : 1, 1);
    if (!pf->mask || rules->count >= (1u << 28))
        goto fail;
    if (prefilter_disabled())
        return pf;

    size_t nlits = 2, n = 0;
    for (size_t r = 0; r < rules->count; r++)
        for (size_t c = 0; c < rules->rules[r]->nclauses && c < KL_PREFILTER_MAX_CLAUSES; c++)
            nlits += rules->rules[r]->clauses[c].nlits;
    lit_ref *lits = malloc(nlits * sizeof *lits);
    if (!lits)
        goto fail;
    for (size_t r = 0; r < rules->count; r++) {
        const kl_rule *rule = rules->rules[r];
        for (size_t c = 0; c < rule->nclauses && c < KL_PREFILTER_MAX_CLAUSES; c++) {
            const kl_clause *cl = &rule->clauses[c];
            int usable = cl->nlits > 0;
            for (size_t j = 0; j < cl->nlits; j++)
                if (!cl->lits[j] || !cl->lits[j][0])
                    usable = 0; /* an empty literal is in every sentence */
            if (!usable)
                continue;
            for (size_t j = 0; j < cl->nlits; j++)
                lits[n++] = (lit_ref){cl->lits[j], strlen(cl->lits[j]), (uint32_t)(r << 3 | c)};
            pf->mask[r] |= (unsigned char)(1u << c);
        }
    }
    if (n) {
        /* K (KELVIN SIGN) and ſ (LONG S) match k and s caselessly */
        lits[n++] = (lit_ref){"\xE2\x84\xAA", 3, OUT_ALL};
        lits[n++] = (lit_ref){"\xC5\xBF", 2, OUT_ALL};
        if (build_automaton(pf, lits, n) != 0) {
            free(lits);
            goto fail;
        }
    }
    free(lits);
    return pf;
fail:
    kl_prefilter_free(pf);
    return NULL;
}

void kl_prefilter_candidates(const struct kl_prefilter *pf, const char *text, size_t len,
                             unsigned char *cand)
{
    size_t nrules = pf->nrules;
    if (!pf->trans) {
        memset(cand, 1, nrules);
        return;
    }
    memset(cand, 0, nrules);
    const unsigned char *t = (const unsigned char *)text;
    const unsigned char *cls = pf->cls;
    const uint32_t *trans = pf->trans;
    const uint32_t out_first = pf->out_first, ncls = pf->width - 1;
    uint32_t s = 0;
    for (size_t i = 0; i < len; i++) {
        s = trans[s + cls[t[i]]];
        if (s < out_first)
            continue;
        uint32_t k = trans[s + ncls];
        for (uint32_t o = pf->out_start[k]; o < pf->out_start[k + 1]; o++) {
            uint32_t e = pf->outs[o];
            if (e == OUT_ALL) {
                memset(cand, 1, nrules);
                return;
            }
            cand[e >> 3] |= (unsigned char)(1u << (e & 7));
        }
    }
    const unsigned char *mask = pf->mask;
    for (size_t r = 0; r < nrules; r++)
        cand[r] = cand[r] == mask[r];
}

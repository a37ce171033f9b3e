/*
 * prefilter.c -- which rules can match a sentence, without running them.
 *
 * Running every rule's regex on every sentence costs about N x (1/900 MB/s)
 * (ENGINEERING.md 3.7), so a rule set of a hundred rules would crawl. This
 * stage gives each rule a condition on plain text that every sentence the
 * rule can match meets, and checks all the conditions in one pass.
 *
 * The condition is a conjunction of clauses, each a disjunction of
 * literals (kl_clause in kl_internal.h): `"\bnever" & ("you"|"yours")`
 * means the sentence holds "never" at the start of a word and one of "you",
 * "yours". Literals are matched against the sentence as the scan folds it:
 * ASCII letters in lowercase, every run of white space (ASCII, and what \s
 * matches under UCP) as one space, and the typographic apostrophes and
 * quotes as ' and " (fold_char). A literal may start or end with KL_WB, a
 * word boundary: one at the start is part of the automaton
 * (build_automaton), one at the end the scan checks where it finds the
 * literal. The clauses
 * come from:
 *  - a rule's `triggers:` list (rules_compile.c), one clause the author
 *    vouches for;
 *  - kl_rule_derive_clauses, which reads the pattern as PCRE2 parses it and
 *    keeps the phrases every match must contain. A run of literal
 *    characters is a phrase; \s, \s+ and a space add one space; ' and "
 *    are characters; assertions (\b, lookarounds, (?(DEFINE)...)) do not
 *    cut it; a group that can match only a few strings, a class of a few
 *    characters ([Nn], ['"], emoji) and an optional character multiply it
 *    ("you (?:did|do) it" is "you did it" or "you do it", at most RUN_MAX
 *    strings); \b at its edges is kept, and so is the start of a word
 *    that the pattern puts after white space, punctuation or ^ (in
 *    "you\s+(?:so\s+)*(?:idiot|fool)", "idiot" and "fool" start words: the
 *    scan does not take "tomfoolery"). A positive lookahead outside any
 *    group adds the clauses its body requires (the sentence is the
 *    subject, so it holds them); a lookbehind adds none (see below). An
 *    emoji (U+1F000 to U+1FAFF, which no case folding touches) is its
 *    UTF-8 bytes. It is conservative: whatever it does not understand
 *    (other classes, \w, backreferences, negative lookarounds,
 *    conditional groups, repetition, a branch without a literal)
 *    contributes nothing, and constructs it cannot read with certainty
 *    ((?C callouts, (*ACCEPT), a "{" that is not {n}, {n,} or {n,m}, \10
 *    and up) give the rule no derived clause at all. It follows (?x)
 *    (white space and # comments), \Q...\E, named groups and subroutine
 *    calls ((?&name), (?1), \g<name>, with (?(DEFINE)...)): a call
 *    requires what the called group requires. It assumes the compile
 *    options of kl_pattern_compile (UTF, UCP, CASELESS) and its quote
 *    expansion.
 * An alternation requires, of each branch's best clauses, the k-th joined;
 * a joined clause of more than CLAUSE_MAX_LITS phrases falls back to each
 * phrase's rarest word.
 *
 * CASELESS with UCP lets 'k' match U+212A KELVIN SIGN and 's' match U+017F
 * LONG S; these are the only non-ASCII characters that fold to ASCII in
 * PCRE2 10.42 (test_prefilter.c checks it). A sentence holding either makes
 * every rule a candidate: the scan looks for them where it folds
 * characters (pass_step).
 *
 * kl_prefilter_build compiles every literal of every rule into one
 * Aho-Corasick automaton over ASCII-folded bytes: a dense transition table
 * over byte classes (bytes that occur in no literal share class 0; the rare
 * letters j, q, x and z share one, as do the bytes past ASCII, so that a
 * row of the default packs is 32 entries: 64 bytes, one cache line), with
 * failure links resolved at build time, so a scan is one table load per
 * byte. A literal that must start a word is found only there: the automaton
 * reads the boundary after each character that is not a word character in
 * the same load (build_automaton). The table's entries are 16 bits when
 * there are at most 65,535 states (the default packs have about 61,100),
 * else 32. States with outputs are numbered last, so "is there an output
 * here?" is one compare, and they are noted without a branch and handled in
 * batches. Each rule has an anchor, its rarest clause; a hit on an anchor
 * literal queues the rule, and at the end of the sentence only queued rules
 * have their other clauses checked against a small bitmap on the stack,
 * where a hit on a literal of such a clause sets its bit (each distinct
 * literal has an id). A word such as "you", in the clauses of a hundred
 * rules, thus costs one bit, not a hundred writes. The scan allocates
 * nothing and writes only to the caller's mark and list, so one prefilter
 * serves many scanner threads. The table is megabytes and each load waits
 * for the one before, so kl_prefilter_batch runs four sentences' passes in
 * step: four loads are in flight at once. They step in blocks with no
 * per-byte check of the text's end.
 *
 * kindlint-precompile writes the automaton of the default packs as C
 * (kl_prefilter_write_c); kl_prefilter_from_image serves it as it is.
 *
 * KINDLINT_NO_PREFILTER=1 in the environment when the rule set is compiled
 * turns the prefilter off (every rule is a candidate for every sentence): for
 * measuring what it saves (bench/speed.sh) and for differential tests.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kl_internal.h"

/* Every literal a clause derived from a pattern holds lies in the text a
 * match reads from its start on: in what it consumes, or in a lookahead
 * (which reads on from where it stands). So a match cannot start after
 * the end of the last literal of any such clause in the sentence, and the
 * scan gives PCRE2 that offset limit (kl_prefilter_text.lim): it stops
 * trying once past it. A lookbehind reads text before the match, which is
 * why its body adds no clause; `triggers:` (which the author vouches the
 * sentence holds, not the match) set no limit (ENTRY_BOUND). */

/* In a literal, a word boundary (\\b) at its start or end: "\x01idiot\x01"
 * is "idiot" as a whole word. The automaton finds a literal only where its
 * start mark holds; the scan checks its end mark where it finds it;
 * anywhere else in a literal it is dropped. */
#define KL_WB '\x01'

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Clauses derived for one rule: more add little and cost bits. */
#define KL_PREFILTER_MAX_CLAUSES 8
/* A literal run longer than this is cut; every piece is still required.
 * Long literals add states and filter little more: with RUN_MAX, the
 * default packs' automaton keeps under 65,535 states (61,100), so its
 * table stays 16-bit (test_prefilter.c checks it). */
#define LIT_MAX 26
/* A disjunction with more literals than this is dropped (it would match
 * nearly everything and bloat the automaton). */
#define CLAUSE_MAX_LITS 512
/* The strings a literal run or a group can be, at most: "you (did|do)
 * (it|that)" is four phrases; past this, the run is cut.
 * "(you|u|ya)( (guys|two|people|lot|all))?('?re| are| r)" is 72 phrases:
 * cut at 64, a clause of "you", "u" and "ya" would be left, too common to
 * use (on 30 MB, 43% more candidate rules than at 128). */
#define RUN_MAX 128
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

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void clause_free(kl_clause *c)
{
    free_strings(c->lits, c->nlits);
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

/* Words so frequent in messages that a clause of them filters little: the
 * most frequent English words of conversation (function words, pronouns,
 * common verbs), sorted for bsearch. */
static const char *const common_words[] = {
    "a",     "about", "after", "again", "all",     "also",   "always", "am",      "and",
    "any",   "are",   "back",  "be",    "because", "been",   "being",  "but",     "can",
    "come",  "could", "day",   "did",   "didn",    "do",     "does",   "doing",   "don",
    "down",  "even",  "ever",  "every", "feel",    "for",    "from",   "get",     "getting",
    "go",    "going", "good",  "got",   "had",     "has",    "have",   "he",      "her",
    "here",  "him",   "his",   "how",   "i",       "if",     "in",     "into",    "is",
    "isn",   "it",    "its",   "just",  "know",    "like",   "little", "look",    "make",
    "man",   "many",  "me",    "more",  "much",    "my",     "need",   "never",   "new",
    "no",    "not",   "now",   "of",    "off",     "oh",     "ok",     "okay",    "on",
    "one",   "only",  "or",    "other", "our",     "out",    "over",   "people",  "really",
    "right", "said",  "say",   "see",   "she",     "should", "so",     "some",    "something",
    "still", "such",  "take",  "than",  "that",    "the",    "their",  "them",    "then",
    "there", "these", "they",  "thing", "things",  "think",  "this",   "those",   "time",
    "to",    "too",   "up",    "us",    "very",    "want",   "was",    "way",     "we",
    "well",  "were",  "what",  "when",  "where",   "which",  "who",    "why",     "will",
    "with",  "would", "yeah",  "yes",   "you",     "your",   "yours",  "yourself"};

/* tolower for ASCII only, whatever the locale (tr_TR has its own 'I'). */
static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* A literal as the scan sees text: ASCII lowercase, each run of white
 * space one space. In place; returns the new length. */
static size_t fold_literal(char *s)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') {
            if (o && s[o - 1] == ' ')
                continue;
            c = ' ';
        }
        s[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    s[o] = '\0';
    return o;
}

static int cmp_word(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

static int is_common_word(const char *s)
{
    return bsearch(s, common_words, sizeof common_words / sizeof common_words[0],
                   sizeof common_words[0], cmp_word) != NULL;
}

static size_t alnum_count(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += isalnum((unsigned char)*s) != 0;
    return n;
}

/* Emoji in a literal (their UTF-8 starts with 0xF0 to 0xF4). */
static size_t symbol_count(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += (unsigned char)*s >= 0xF0;
    return n;
}

/* Does the literal open or close a quotation: a quote mark next to a
 * space? (An apostrophe inside a word is in most sentences.) */
static int has_spaced_quote(const char *s)
{
    return strstr(s, " '") || strstr(s, "' ") || strstr(s, " \"") || strstr(s, "\" ");
}

/* How much a literal narrows the sentences (higher: rarer). An emoji
 * counts as three letters. */
static int lit_score(const char *s)
{
    size_t len = strlen(s), an = alnum_count(s), sym = symbol_count(s);
    int score = (int)(an * 10 + sym * 30 + (len - an - 4 * sym) * 2);
    /* the literal without its edge spaces, for the common-word check */
    char w[LIT_MAX + 1];
    while (*s == ' ' || *s == KL_WB)
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == KL_WB))
        n--;
    if (n <= LIT_MAX) {
        memcpy(w, s, n);
        w[n] = '\0';
        if (is_common_word(w))
            score -= 25;
    }
    return score;
}

/* Is the literal whole words, none of them common ("\\bur\\b", "\\bu r "):
 * it starts a word, and each word ends at a space or a word boundary? A
 * letter alone only before a space: "\\bu\\b" is found in most words, and
 * each time the scan must check and drop it. */
static int rare_whole_words(const char *s)
{
    if (s[0] != KL_WB || !is_word_byte((unsigned char)s[1]))
        return 0;
    s++;
    char w[LIT_MAX + 1];
    for (size_t i = 0;;) {
        size_t j = i;
        while (is_word_byte((unsigned char)s[j]))
            j++;
        if (j == i || j - i > LIT_MAX)
            return 0;
        if (j - i == 1 && s[j] != ' ')
            return 0;
        memcpy(w, s + i, j - i);
        w[j - i] = '\0';
        if (is_common_word(w))
            return 0;
        if (s[j] == KL_WB)
            return s[j + 1] == '\0';
        if (s[j] != ' ')
            return 0;
        if (s[j + 1] == '\0')
            return 1;
        i = j + 1;
    }
}

/* A clause is worth scanning for when each of its literals has three
 * letters or digits, an emoji, a quote mark by a space, or is whole words
 * that are not common: shorter ones are in most sentences anyway. */
static int clause_useful(const kl_clause *c)
{
    if (c->nlits == 0)
        return 0;
    for (size_t i = 0; i < c->nlits; i++)
        if (alnum_count(c->lits[i]) < 3 && !symbol_count(c->lits[i]) &&
            !has_spaced_quote(c->lits[i]) && !rare_whole_words(c->lits[i]))
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

/* Does literal h hold literal n? A word boundary at an edge of n holds
 * where h has one there, or a character that is not a word character. */
static int lit_contains(const char *h, const char *n)
{
    int before = n[0] == KL_WB;
    size_t len = strlen(n + before);
    int after = len && n[before + len - 1] == KL_WB;
    size_t core = len - (size_t)after;
    if (!before && !after)
        return strstr(h, n) != NULL;
    if (!core)
        return 1;
    for (const char *p = strchr(h, n[before]); p; p = strchr(p + 1, n[before])) {
        if (strncmp(p, n + before, core) != 0)
            continue;
        if (before && (p == h || is_word_byte((unsigned char)p[-1])))
            continue;
        if (after && (!p[core] || is_word_byte((unsigned char)p[core])))
            continue;
        return 1;
    }
    return 0;
}

/* Is clause a implied by clause b, that is, does every literal of b hold
 * one of a's literals? Then a says nothing b does not. */
static int clause_implied_by(const kl_clause *a, const kl_clause *b)
{
    if (b->nlits == 0)
        return 0;
    for (size_t i = 0; i < b->nlits; i++) {
        size_t j = 0;
        while (j < a->nlits && !lit_contains(b->lits[i], a->lits[j]))
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
    /* a literal holds no other one longer than itself (the two word
     * boundary marks aside): most pairs need no look */
    size_t *len = malloc((c->nlits ? c->nlits : 1) * sizeof *len);
    for (size_t i = 0; len && i < c->nlits; i++)
        len[i] = strlen(c->lits[i]);
    for (size_t i = 0; i < c->nlits; i++) {
        int redundant = 0;
        for (size_t j = 0; j < c->nlits && !redundant; j++) {
            if (i == j || !c->lits[j] || (len && len[j] > len[i] + 2))
                continue;
            if (lit_contains(c->lits[i], c->lits[j]) &&
                (strcmp(c->lits[i], c->lits[j]) != 0 || j < i))
                redundant = 1;
        }
        if (redundant) {
            free(c->lits[i]);
            c->lits[i] = NULL;
        }
    }
    free(len);
    for (size_t i = 0; i < c->nlits; i++)
        if (c->lits[i])
            c->lits[out++] = c->lits[i];
    c->nlits = out;
}

static int cmp_clause_score(const void *a, const void *b)
{
    const kl_clause *p = a, *q = b;
    int x = clause_score(p), y = clause_score(q);
    if (x != y)
        return (x < y) - (x > y); /* best first */
    /* a stable order for ties: the same pattern always says the same */
    for (size_t i = 0; i < p->nlits && i < q->nlits; i++) {
        int c = strcmp(p->lits[i], q->lits[i]);
        if (c)
            return c;
    }
    return (p->nlits > q->nlits) - (p->nlits < q->nlits);
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

/* A set of strings of the folded text (ASCII lowercase, white space as
 * one space): the phrases a literal run can be, or everything a group can
 * match. valid: the set is complete (a group's strings are all known). */
typedef struct strset {
    char **s;
    size_t n;
    int valid;
} strset;

static void strset_free(strset *x)
{
    free_strings(x->s, x->n);
    x->s = NULL;
    x->n = 0;
    x->valid = 0;
}

/* Adds a copy of the n bytes at p unless already there. Returns -1 on OOM. */
static int strset_add(strset *x, const char *p, size_t n)
{
    for (size_t i = 0; i < x->n; i++)
        if (strlen(x->s[i]) == n && memcmp(x->s[i], p, n) == 0)
            return 0;
    char **q = realloc(x->s, (x->n + 1) * sizeof *q);
    if (!q)
        return -1;
    x->s = q;
    if (!(x->s[x->n] = malloc(n + 1)))
        return -1;
    memcpy(x->s[x->n], p, n);
    x->s[x->n][n] = '\0';
    x->n++;
    return 0;
}

/* Does every string of an item end with a character that is not a word
 * character? (A byte past ASCII may end a letter: no.) */
static int ends_non_word(const strset *x)
{
    for (size_t k = 0; k < x->n; k++) {
        size_t n = strlen(x->s[k]);
        unsigned char c = n ? (unsigned char)x->s[k][n - 1] : 'a';
        if (c >= 0x80 || is_word_byte(c))
            return 0;
    }
    return x->n > 0;
}

/* A capture group, for subroutine calls such as (?&name) and (?1): a call
 * requires what the group requires. Groups are found by a first reading of
 * the whole pattern (calls may come before the group, as with DEFINE);
 * what a group requires is derived on its first call. */
typedef struct group_def {
    const unsigned char *name; /* NULL: unnamed */
    size_t nlen;
    uint32_t number;
    size_t body; /* where its contents start */
    int ext;     /* (?x) in force there */
    /* what a call requires, by the deriv.nw it is called with */
    int state[2]; /* GROUP_* */
    conj need[2];
    strset ex[2];
    int nw_out[2];
} group_def;

enum { GROUP_NEW, GROUP_BUSY, GROUP_DONE, GROUP_UNUSABLE };

typedef struct group_table {
    group_def *g;
    size_t n, cap;
    int numbers_unsure; /* (?| or (?n) renumber groups */
    int has_calls;
} group_table;

typedef struct deriv {
    const unsigned char *p;
    size_t i, n;
    int in_q; /* inside \Q...\E */
    int ext;  /* (?x): white space and # comments are ignored */
    int bail; /* the pattern is beyond this reader: derive nothing */
    int oom;
    int depth;
    int nl_verb; /* (*CR) and the like: # comments end elsewhere */
    group_table *groups;
    int resolve;       /* the second reading: calls are resolved */
    uint32_t ncapture; /* capture groups opened so far */
    /* at this point of the pattern, the character before is not a word
     * character (white space, punctuation; or ^): a literal that starts
     * here with a letter starts a word, and the scan checks that */
    int nw;
    /* the branch parse_seq is reading notes here the phrases of its run at
     * its first flush: phrases one of which starts the branch's match */
    strset *lead;
    int lead_taken;
} deriv;

/* What one atom of a pattern is, for the literal runs around it. */
typedef enum item_kind {
    ITEM_LIT,   /* one ASCII character, matched caselessly */
    ITEM_SPACE, /* \s or a literal space: one space in the folded text */
    ITEM_ZERO,  /* an assertion: \b, ^, a lookaround, (?(DEFINE)...) */
    ITEM_OTHER, /* anything else: a class, an escape, a condition... */
    ITEM_GROUP, /* a group whose required clauses are in g */
    ITEM_ASSERT /* a positive lookaround: no character, but the sentence
                 * (the subject, so lookbehinds too) holds what g requires;
                 * kept outside groups only (parse_seq) */
} item_kind;

typedef struct item {
    item_kind kind;
    char c;
    int boundary;   /* ITEM_ZERO: \\b */
    int word_start; /* ITEM_ZERO: ^, \\A or (?<!\\w): no word character before */
    int nw_out;     /* ITEM_GROUP: deriv.nw after it; ITEM_OTHER: it is never a
                     * word character (\\W, [^\\w...]) */
    int quantifiable;
    conj g;
    strset ex;   /* a group: every string it can match, when few (valid) */
    strset lead; /* a group: phrases one of which starts each match (valid) */
} item;

/* Frees what an item holds (a group's or a lookaround's clauses and
 * strings); other kinds hold nothing. */
static void item_release(item *it)
{
    if (it->kind == ITEM_GROUP || it->kind == ITEM_ASSERT) {
        conj_free(&it->g);
        strset_free(&it->ex);
        strset_free(&it->lead);
    }
}

static void parse_alt(deriv *d, conj *out, strset *ex, strset *lead);

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

static conj conj_copy(deriv *d, const conj *src)
{
    conj out = {NULL, 0, 0};
    for (size_t i = 0; i < src->n && !d->oom; i++) {
        const kl_clause *c = &src->cl[i];
        kl_clause n = {calloc(c->nlits ? c->nlits : 1, sizeof(char *)), 0};
        if (!n.lits) {
            d->oom = 1;
            break;
        }
        for (size_t j = 0; j < c->nlits; j++) {
            if (!(n.lits[j] = strdup(c->lits[j]))) {
                d->oom = 1;
                break;
            }
            n.nlits++;
        }
        if (d->oom)
            clause_free(&n);
        else
            conj_push(d, &out, n);
    }
    return out;
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

/* A code point the scan can look for as its bytes: a symbol of the emoji
 * blocks (U+1F000 to U+1FAFF), which caseless matching leaves as it is. */
static int is_caseless_symbol(uint32_t cp)
{
    return cp >= 0x1F000 && cp <= 0x1FAFF;
}

static size_t fold_char(const unsigned char *t, size_t n, unsigned char *as);

/* A code point as the folded text reads it, in out (up to 4 bytes):
 * printable ASCII lowercased, what fold_char reads as an ASCII character
 * other than a space (the typographic quotes), an emoji as its UTF-8.
 * Returns the length, 0 for anything else (white space, letters with case
 * beyond ASCII...). */
static size_t folded_char(uint32_t cp, char *out)
{
    if (cp > 0x20 && cp < 0x7F) {
        out[0] = (char)ascii_lower((int)cp);
        return 1;
    }
    unsigned char u[4], as;
    size_t n = kl_utf8_encode(cp, u);
    if (n > 1 && fold_char(u, n, &as) == n && as != ' ') {
        out[0] = (char)as;
        return 1;
    }
    if (!n || !is_caseless_symbol(cp))
        return 0;
    memcpy(out, u, n);
    return n;
}

static int hex_value(int c)
{
    return isdigit(c) ? c - '0' : ascii_lower(c) - 'a' + 10;
}

/* Reads the code point of \x{h...} or \xhh (d->i just past the x); -1 if
 * malformed. */
static long read_hex_escape(deriv *d)
{
    long v = 0;
    if (at(d, 0) == '{') {
        size_t j = d->i + 1, k = 0;
        for (; j < d->n && isxdigit(d->p[j]) && k < 8; j++, k++)
            v = v * 16 + hex_value(d->p[j]);
        if (!k || j >= d->n || d->p[j] != '}')
            return -1;
        d->i = j + 1;
        return v;
    }
    for (int k = 0; k < 2 && d->i < d->n && isxdigit(d->p[d->i]); k++, d->i++)
        v = v * 16 + hex_value(d->p[d->i]);
    return v;
}

/* An emoji: an item that is the one string of its bytes. */
static void symbol_item(deriv *d, item *it, uint32_t cp)
{
    char f[4];
    size_t flen = folded_char(cp, f);
    it->kind = ITEM_GROUP;
    it->ex = (strset){NULL, 0, 1};
    if (strset_add(&it->ex, f, flen) != 0)
        d->oom = 1;
    it->nw_out = ends_non_word(&it->ex);
}

/* A class of a few characters that the folded text holds as such: [Yy],
 * ['"], [\x{1F644}\x{1F612}]. d->i is at '['. Returns 0 (d->i as it was)
 * for any other class: negated, a range, an escape such as \w, white
 * space, a letter with case beyond ASCII. */
static int parse_small_class(deriv *d, item *it)
{
    size_t start = d->i;
    strset set = {NULL, 0, 1};
    int ok = 0;
    d->i++;
    if (at(d, 0) != '^') {
        for (int first = 1; d->i < d->n && set.n <= 16; first = 0) {
            int c = d->p[d->i];
            long cp;
            if (c == ']' && !first) {
                d->i++;
                ok = set.n > 0;
                break;
            }
            if (c == '\\') {
                int e = at(d, 1);
                d->i += 2;
                if (e == 'x')
                    cp = read_hex_escape(d);
                else if (e == 's' || e == 'h' || e == 'v')
                    cp = ' '; /* white space: the folded text's one space */
                else if (e > 0x20 && e < 0x7F && !isalnum(e))
                    cp = e;
                else
                    break;
            } else if (c == '[') {
                break; /* [:alpha:] and its kin */
            } else if (c < 0x80) {
                cp = c;
                d->i++;
            } else {
                uint32_t u;
                size_t k = kl_utf8_decode(d->p + d->i, d->n - d->i, &u);
                if (!k)
                    break;
                cp = (long)u;
                d->i += k;
            }
            char f[4];
            size_t flen = cp >= 0 && cp <= 0x10FFFF ? folded_char((uint32_t)cp, f) : 0;
            if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v') {
                f[0] = ' '; /* white space is one space in the folded text */
                flen = 1;
            }
            if (!flen || (at(d, 0) == '-' && at(d, 1) != ']'))
                break; /* not a character the scan knows, or a range */
            if (strset_add(&set, f, flen) != 0) {
                d->oom = 1;
                break;
            }
        }
    }
    if (ok && set.n <= 16) {
        it->kind = ITEM_GROUP;
        it->ex = set; /* the strings the class can be */
        it->nw_out = ends_non_word(&set);
        return 1;
    }
    d->i = start;
    strset_free(&set);
    return 0;
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

static void call_group(deriv *d, item *it, size_t name, size_t nlen);
static void parse_group(deriv *d, item *it);

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
        if (e >= 0x20 && e < 0x7F) {
            it->kind = ITEM_LIT;
            it->c = (char)e;
        }
        return;
    }
    d->i++;
    /* assertions match no character: the run goes on across them */
    if (strchr("bBAzZGK", e)) {
        it->kind = ITEM_ZERO;
        it->boundary = e == 'b';
        it->word_start = e == 'A';
        return;
    }
    if (e == 's') {
        it->kind = ITEM_SPACE;
        return;
    }
    /* classes and single-character escapes: no literal; some are never
     * a word character */
    if (strchr("dDwWShHvVRXCaefnrt", e)) {
        it->nw_out = strchr("WhvRaefnrt", e) != NULL;
        return;
    }
    switch (e) {
    case 'Q':
        d->in_q = 1;
        it->kind = ITEM_ZERO;
        it->quantifiable = 0;
        if (at(d, 0) == '\\' && at(d, 1) == 'E') {
            d->i += 2;
            d->in_q = 0;
        }
        return;
    case 'E':
        it->kind = ITEM_ZERO;
        it->quantifiable = 0;
        return;
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
    case 'x': {
        long cp = read_hex_escape(d);
        char f[4];
        size_t flen = cp >= 0 && cp <= 0x10FFFF ? folded_char((uint32_t)cp, f) : 0;
        if (cp < 0)
            d->bail = 1;
        else if (flen == 1 && cp < 0x80) {
            it->kind = ITEM_LIT;
            it->c = f[0];
        } else if (flen && is_caseless_symbol((uint32_t)cp)) {
            symbol_item(d, it, (uint32_t)cp);
        }
        return;
    }
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
        if (at(d, 0) == '{') {
            skip_past(d, '}'); /* back reference */
        } else if (at(d, 0) == '<' || at(d, 0) == '\'') {
            /* \g<name> \g'1': subroutine calls */
            unsigned char close = at(d, 0) == '<' ? '>' : '\'';
            size_t start = ++d->i;
            skip_past(d, close);
            if (!d->bail)
                call_group(d, it, start, d->i - 1 - start);
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
    strset ex = {NULL, 0, 0}, lead = {NULL, 0, 0};
    int ext = d->ext; /* an option set inside ends with the group */
    parse_alt(d, &g, &ex, &lead);
    d->ext = ext;
    d->depth--;
    if (!d->bail && at(d, 0) != ')')
        d->bail = 1;
    if (!d->bail)
        d->i++;
    if (keep && !d->bail) {
        it->kind = ITEM_GROUP;
        it->g = g;
        it->ex = ex;
        it->lead = lead;
        it->nw_out = d->nw;
    } else {
        conj_free(&g);
        strset_free(&ex);
        strset_free(&lead);
    }
}

/* Is a negative lookbehind's body \\w, or a class that holds \\w ([\\w']):
 * then no word character comes before? */
static int no_word_before(const unsigned char *b, size_t n)
{
    if (n == 2 && b[0] == '\\' && b[1] == 'w')
        return 1;
    if (n < 4 || b[0] != '[' || b[1] == '^' || b[n - 1] != ']')
        return 0;
    for (size_t k = 1; k + 1 < n; k++) {
        if (b[k] == '[' || b[k] == ']')
            return 0; /* [:alpha:] and the like, or a class that ends early */
        if (b[k] == '\\') {
            if (b[k + 1] == 'w')
                return 1;
            if (isalnum(b[k + 1]))
                return 0; /* \\Q, \\x{...}, \\p{...}: beyond this check */
            k++;
        }
    }
    return 0;
}

/* A lookaround's body: a positive one keeps the clauses it requires. */
static void parse_lookaround(deriv *d, item *it, int positive)
{
    parse_group_body(d, it, positive);
    if (it->kind == ITEM_GROUP) {
        strset_free(&it->ex);
        strset_free(&it->lead);
        it->kind = ITEM_ASSERT;
    } else {
        it->kind = ITEM_ZERO;
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
    /* the positive lookaheads, whose bodies add clauses (a lookbehind's
     * text is before the match) */
    static const char *const ahead[] = {"pla", "napla", "positive_lookahead",
                                        "non_atomic_positive_lookahead"};
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
            parse_lookaround(d, it, is_one_of(name, len, ahead, sizeof ahead / sizeof ahead[0]));
        else
            d->bail = 1;
        return;
    }
    /* a match may end at (*ACCEPT) before the literals after it */
    if (len >= 6 && memcmp(name, "ACCEPT", 6) == 0) {
        d->bail = 1;
        return;
    }
    static const char *const newlines[] = {"CR", "LF", "CRLF", "ANYCRLF", "ANY", "NUL"};
    if (is_one_of(name, len, newlines, sizeof newlines / sizeof newlines[0]))
        d->nl_verb = 1;
    skip_past(d, ')'); /* a verb or a setting: no character */
    it->kind = ITEM_ZERO;
}

/* Notes a capture group opening at d->i (its body) on the first reading. */
static void open_capture(deriv *d, const unsigned char *name, size_t nlen)
{
    d->ncapture++;
    if (d->resolve)
        return;
    group_table *t = d->groups;
    for (size_t k = 0; name && k < t->n; k++) {
        if (t->g[k].name && t->g[k].nlen == nlen && memcmp(t->g[k].name, name, nlen) == 0) {
            /* (?J): which one is called? */
            t->g[k].state[0] = t->g[k].state[1] = GROUP_UNUSABLE;
            return;
        }
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        group_def *p = realloc(t->g, cap * sizeof *p);
        if (!p) {
            d->oom = 1;
            return;
        }
        t->g = p;
        t->cap = cap;
    }
    group_def *g = &t->g[t->n++];
    memset(g, 0, sizeof *g);
    g->name = name;
    g->nlen = nlen;
    g->number = d->ncapture;
    g->body = d->i;
    g->ext = d->ext;
}

/* (?<name>, (?'name' or (?P<name>: d->i is at the name. */
static void parse_named_group(deriv *d, item *it, unsigned char close)
{
    size_t name = d->i;
    skip_past(d, close);
    if (d->bail)
        return;
    open_capture(d, d->p + name, d->i - 1 - name);
    if (!d->oom)
        parse_group_body(d, it, 1);
}

/* What a call to a group requires: what the group does, derived once. A
 * group that calls itself, directly or not, is unknown inside itself. */
static void call_group(deriv *d, item *it, size_t name, size_t nlen)
{
    d->groups->has_calls = 1;
    if (!d->resolve)
        return;
    group_table *t = d->groups;
    const unsigned char *s = d->p + name;
    int numeric = nlen > 0;
    uint32_t number = 0;
    for (size_t k = 0; k < nlen; k++) {
        if (!(s[k] >= '0' && s[k] <= '9') || number > 100000)
            numeric = 0;
        else
            number = number * 10 + (uint32_t)(s[k] - '0');
    }
    if (numeric && t->numbers_unsure)
        return;
    group_def *g = NULL;
    for (size_t k = 0; k < t->n && !g; k++) {
        if (numeric ? t->g[k].number == number
                    : (t->g[k].name && t->g[k].nlen == nlen && memcmp(t->g[k].name, s, nlen) == 0))
            g = &t->g[k];
    }
    int e = d->nw != 0;
    if (!g || g->state[0] == GROUP_BUSY || g->state[1] == GROUP_BUSY ||
        g->state[e] == GROUP_UNUSABLE)
        return;
    if (g->state[e] == GROUP_NEW) {
        deriv sub = *d;
        sub.i = g->body;
        sub.ext = g->ext;
        sub.in_q = 0;
        sub.depth = d->depth + 1;
        conj need = {NULL, 0, 0};
        strset ex = {NULL, 0, 0};
        g->state[e] = GROUP_BUSY;
        if (sub.depth > DEPTH_MAX)
            sub.bail = 1;
        else
            parse_alt(&sub, &need, &ex, NULL);
        if (sub.oom)
            d->oom = 1;
        if (sub.bail || sub.oom || at(&sub, 0) != ')') {
            conj_free(&need);
            strset_free(&ex);
            g->state[e] = GROUP_UNUSABLE;
            return;
        }
        g->need[e] = need;
        g->ex[e] = ex;
        g->nw_out[e] = sub.nw;
        g->state[e] = GROUP_DONE;
    }
    it->kind = ITEM_GROUP;
    it->g = conj_copy(d, &g->need[e]);
    it->nw_out = g->nw_out[e];
    if (g->ex[e].valid) {
        for (size_t k = 0; k < g->ex[e].n && !d->oom; k++)
            if (strset_add(&it->ex, g->ex[e].s[k], strlen(g->ex[e].s[k])) != 0)
                d->oom = 1;
        it->ex.valid = !d->oom;
    }
}

/* (?&name), (?P>name) or (?1): d->i is at the name or number. */
static void parse_call(deriv *d, item *it)
{
    size_t name = d->i;
    skip_past(d, ')');
    if (!d->bail)
        call_group(d, it, name, d->i - 1 - name);
}

/* (?(condition)yes|no), (?(DEFINE)...) included: read to its end, and
 * taken to require nothing. d->i is at the '?'. */
static void parse_conditional(deriv *d, item *it)
{
    d->i++; /* at the condition's '(' */
    int define = d->i + 8 <= d->n && memcmp(d->p + d->i, "(DEFINE)", 8) == 0;
    if (at(d, 1) == '?' || at(d, 1) == '*') {
        item cond;
        memset(&cond, 0, sizeof cond);
        parse_group(d, &cond); /* an assertion */
        item_release(&cond);
    } else {
        skip_past(d, ')'); /* (1) (<name>) ('name') (R) (R&name) (DEFINE) ... */
    }
    if (!d->bail)
        parse_group_body(d, it, 0);
    if (define)
        it->kind = ITEM_ZERO; /* matches the empty string */
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
        open_capture(d, NULL, 0);
        parse_group_body(d, it, 1);
        return;
    }
    int c = at(d, 1), c2 = at(d, 2);
    switch (c) {
    case '#':
        skip_past(d, ')');
        it->kind = ITEM_ZERO;
        it->quantifiable = 0;
        return;
    case '|':
        d->groups->numbers_unsure = 1;
        /* fall through */
    case ':':
    case '>':
        d->i += 2;
        parse_group_body(d, it, 1);
        return;
    case '(': parse_conditional(d, it); return;
    case '=':
    case '!':
    case '*':
        d->i += 2;
        parse_lookaround(d, it, c != '!');
        return;
    case '<':
        if (c2 == '=' || c2 == '!' || c2 == '*') {
            d->i += 3;
            size_t body = d->i;
            parse_lookaround(d, it, 0); /* before the match: no clause */
            if (c2 == '!' && !d->bail && no_word_before(d->p + body, d->i - 1 - body))
                it->word_start = 1;
        } else {
            d->i += 2;
            parse_named_group(d, it, '>');
        }
        return;
    case '\'':
        d->i += 2;
        parse_named_group(d, it, '\'');
        return;
    case 'P':
        if (c2 == '<') {
            d->i += 3;
            parse_named_group(d, it, '>');
        } else if (c2 == '>' || c2 == '&') {
            d->i += 3;
            parse_call(d, it);
        } else if (c2 == '=') {
            skip_past(d, ')'); /* back reference */
        } else {
            d->bail = 1;
        }
        return;
    case '&':
        d->i += 2;
        parse_call(d, it);
        return;
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
        d->i += 1;
        parse_call(d, it);
        return;
    case 'R':
    case '+':
        skip_past(d, ')'); /* recursion, relative call */
        return;
    case '-':
        if (c2 >= '0' && c2 <= '9') {
            skip_past(d, ')');
            return;
        }
        break;
    default: break;
    }
    /* option settings: (?i) (?-i) (?x) (?s:...) (?^) ...; only x matters
     * here. (?( is a condition and (?C a callout: give up on those */
    size_t j = d->i + 1;
    int ext = d->ext, unset = 0;
    while (j < d->n && (isalpha(d->p[j]) || d->p[j] == '-' || d->p[j] == '^')) {
        if (d->p[j] == 'C' && j == d->i + 1)
            d->bail = 1;
        if (d->p[j] == '-')
            unset = 1;
        if (d->p[j] == '^')
            ext = 0;
        if (d->p[j] == 'x')
            ext = !unset;
        if (d->p[j] == 'n')
            d->groups->numbers_unsure = 1;
        j++;
    }
    if (d->bail || j >= d->n || j == d->i + 1) {
        d->bail = 1;
        return;
    }
    if (d->p[j] == ')') {
        /* for the rest of the enclosing group, branches included */
        d->i = j + 1;
        d->ext = ext;
        it->kind = ITEM_ZERO;
        it->quantifiable = 0;
    } else if (d->p[j] == ':') {
        d->i = j + 1;
        int outer = d->ext;
        d->ext = ext;
        parse_group_body(d, it, 1);
        d->ext = outer;
    } else {
        d->bail = 1;
    }
}

/* With (?x), skips white space (PCRE2's list, UTF included) and comments
 * from # to the end of the line. Comments assume PCRE2's newline is LF. */
static void skip_ignored(deriv *d)
{
    if (!d->ext)
        return;
    while (d->i < d->n) {
        int c = d->p[d->i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') {
            d->i++;
        } else if (c == 0xC2 && at(d, 1) == 0x85) { /* NEL */
            d->i += 2;
        } else if (c == 0xE2 && at(d, 1) == 0x80 &&
                   (at(d, 2) == 0x8E || at(d, 2) == 0x8F || at(d, 2) == 0xA8 ||
                    at(d, 2) == 0xA9)) { /* LRM, RLM, LS, PS */
            d->i += 3;
        } else if (c == '#') {
            uint32_t newline = 0;
            pcre2_config(PCRE2_CONFIG_NEWLINE, &newline);
            if (newline != PCRE2_NEWLINE_LF || d->nl_verb) {
                d->bail = 1;
                return;
            }
            while (d->i < d->n && d->p[d->i] != '\n')
                d->i++;
        } else {
            return;
        }
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
            it->kind = ITEM_ZERO;
            it->quantifiable = 0;
            return;
        }
        if (c >= 0x80) {
            skip_utf8(d);
            it->kind = ITEM_OTHER;
        } else {
            d->i++;
            it->kind = (c >= 0x20 && c < 0x7F) ? ITEM_LIT : ITEM_OTHER;
            it->c = (char)ascii_lower(c);
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
        if (!parse_small_class(d, it)) {
            /* [^\w...]: no word character */
            it->nw_out = at(d, 1) == '^' && at(d, 2) == '\\' && at(d, 3) == 'w';
            skip_class(d);
        }
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
        uint32_t cp;
        size_t k = kl_utf8_decode(d->p + d->i, d->n - d->i, &cp);
        if (k && is_caseless_symbol(cp)) {
            d->i += k;
            symbol_item(d, it, cp);
            return;
        }
        skip_utf8(d);
        return;
    }
    d->i++;
    if (c == '^' || c == '$') {
        it->kind = ITEM_ZERO;
        it->word_start = c == '^';
        return;
    }
    /* ' and " are literal characters too: kl_pattern_expand_quotes makes
     * each a class of its typographic forms, which the scan reads as ' and
     * " (fold_char) */
    if (c < 0x20 || c >= 0x7F || c == '.' || c == '}') {
        it->kind = ITEM_OTHER;
        return;
    }
    it->kind = ITEM_LIT;
    it->c = (char)ascii_lower(c);
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

/* The run's phrases become a clause of out, unless one is empty (met by
 * every sentence); the run starts again empty. */
static void run_flush(deriv *d, conj *out, strset *run)
{
    if (d->lead && !d->lead_taken) {
        d->lead_taken = 1;
        d->lead->valid = 1;
        for (size_t i = 0; i < run->n && !d->oom; i++)
            if (strset_add(d->lead, run->s[i], strlen(run->s[i])) != 0)
                d->oom = 1;
    }
    int empty = run->n == 0;
    for (size_t i = 0; i < run->n; i++)
        empty |= run->s[i][0] == '\0' || (run->s[i][0] == KL_WB && run->s[i][1] == '\0');
    if (!empty) {
        kl_clause c = {run->s, run->n};
        clause_simplify(&c);
        run->s = NULL;
        run->n = 0;
        conj_push(d, out, c);
    }
    strset_free(run);
    run->valid = 1;
    if (strset_add(run, "", 0) != 0)
        d->oom = 1;
}

/* Every string of a followed by every string of b, into out; in the folded
 * text a space ending one and a space starting the other are one. Returns
 * 1 when the result would be too big (more than RUN_MAX strings, or longer
 * than LIT_MAX), -1 on OOM. */
static int strset_cross(const strset *a, const strset *b, strset *out)
{
    strset r = {NULL, 0, 1};
    char buf[2 * LIT_MAX + 1];
    for (size_t i = 0; i < a->n; i++) {
        size_t la = strlen(a->s[i]);
        for (size_t j = 0; j < b->n; j++) {
            const char *y = b->s[j];
            size_t lx = la;
            /* a word boundary inside a literal is dropped (only its edges
             * are checked), and two in a row are one */
            if (lx && a->s[i][lx - 1] == KL_WB && y[0] && (lx > 1 || y[0] == KL_WB))
                lx--;
            if (y[0] == KL_WB && lx && y[1])
                y++;
            if (lx && a->s[i][lx - 1] == ' ' && y[0] == ' ')
                y++;
            size_t ly = strlen(y);
            if (lx + ly > LIT_MAX) {
                strset_free(&r);
                return 1;
            }
            memcpy(buf, a->s[i], lx);
            memcpy(buf + lx, y, ly);
            if (strset_add(&r, buf, lx + ly) != 0) {
                strset_free(&r);
                return -1;
            }
            if (r.n > RUN_MAX) {
                strset_free(&r);
                return 1;
            }
        }
    }
    *out = r;
    return 0;
}

/* The length of the longest string that ends every string of x. */
static size_t common_suffix(const strset *x)
{
    if (!x->n)
        return 0;
    size_t l0 = strlen(x->s[0]), n = l0;
    for (size_t i = 1; i < x->n && n; i++) {
        size_t li = strlen(x->s[i]), k = 0;
        while (k < n && k < li && x->s[0][l0 - 1 - k] == x->s[i][li - 1 - k])
            k++;
        n = k;
    }
    return n;
}

/* The run followed by one of the strings of b. When that is too much, the
 * run so far becomes a clause, and the end all its strings share, followed
 * by b, starts the next ("(just |only |)to " then a long list of verbs:
 * "to hurt", "to annoy", ...); the branch is then no longer known string
 * by string. */
static void run_extend(deriv *d, conj *out, strset *run, const strset *b, int *exact)
{
    strset r;
    int rc = strset_cross(run, b, &r);
    if (rc < 0) {
        d->oom = 1;
        return;
    }
    if (rc == 0) {
        strset_free(run);
        *run = r;
        return;
    }
    char tail[LIT_MAX + 1];
    size_t nt = common_suffix(run);
    if (nt > LIT_MAX)
        nt = 0;
    if (nt)
        memcpy(tail, run->s[0] + strlen(run->s[0]) - nt, nt);
    tail[nt] = '\0';
    run_flush(d, out, run);
    *exact = 0;
    strset one = {NULL, 0, 1};
    rc = strset_add(&one, tail, nt) != 0 ? -1 : strset_cross(&one, b, &r);
    if (rc > 0 && nt) { /* the shared end and b are too much: b alone */
        strset_free(&one);
        one.valid = 1;
        rc = strset_add(&one, "", 0) != 0 ? -1 : strset_cross(&one, b, &r);
    }
    strset_free(&one);
    if (rc < 0)
        d->oom = 1;
    if (rc != 0)
        return; /* b alone is too much: the run stays empty */
    strset_free(run);
    *run = r;
}

/* The run followed by one character, or (opt) by it or nothing. */
static void run_extend_char(deriv *d, conj *out, strset *run, char c, int opt, int *exact)
{
    char one[2] = {c, '\0'};
    char *v[2] = {one, (char *)""};
    strset b = {v, opt ? 2 : 1, 1};
    run_extend(d, out, run, &b, exact);
}

/* The run's phrases that are empty so far start with a word boundary:
 * the character before them is not a word character ("x\\W\\s*fool" is
 * " fool" or "fool", which starts a word). */
static void run_mark_word_start(deriv *d, strset *run)
{
    for (size_t k = 0; k < run->n; k++) {
        if (run->s[k][0] != '\0')
            continue;
        char *w = malloc(2);
        if (!w) {
            d->oom = 1;
            return;
        }
        w[0] = KL_WB;
        w[1] = '\0';
        free(run->s[k]);
        run->s[k] = w;
    }
}

/* deriv.nw after an item (min to max times) that nw was before. */
static int next_nw(const item *it, int nw, long min, long max)
{
    int after = 0; /* after one time */
    switch (it->kind) {
    case ITEM_ZERO: after = nw || it->word_start; break;
    case ITEM_ASSERT: after = nw; break;
    case ITEM_SPACE: after = 1; break;
    case ITEM_LIT: after = !is_word_byte((unsigned char)it->c); break;
    case ITEM_GROUP:
    case ITEM_OTHER: after = it->nw_out; break;
    default: break;
    }
    if (max == 0)
        return nw;
    return min == 0 ? nw && after : after;
}

/* One branch: a sequence of atoms up to '|' or ')'. Its required clauses
 * go to out, and when every string it can match is known (a few phrases),
 * they go to ex (valid). White space (\s, a space) is one space: the
 * prefilter folds runs of white space in the text to one. */
static void parse_seq(deriv *d, conj *out, strset *ex, strset *lead)
{
    strset run = {NULL, 0, 1};
    int exact = 1;
    /* the run's first flush notes lead (groups read meanwhile note their
     * own) */
    strset *outer_lead = d->lead;
    int outer_taken = d->lead_taken;
    d->lead = lead;
    d->lead_taken = 0;
    if (strset_add(&run, "", 0) != 0)
        d->oom = 1;
    while (!d->bail && !d->oom && d->i < d->n) {
        if (!d->in_q) {
            skip_ignored(d);
            if (d->bail || d->i >= d->n)
                break;
        }
        int c = d->p[d->i];
        if (!d->in_q && (c == '|' || c == ')'))
            break;
        int nw = d->nw;
        item it;
        next_item(d, &it);
        if (d->bail) {
            item_release(&it);
            break;
        }
        long min = 1, max = 1;
        if (it.quantifiable && !d->in_q) {
            skip_ignored(d); /* "a +" is "a+" under (?x) */
            parse_quantifier(d, &min, &max);
        }
        if (d->bail) {
            item_release(&it);
            break;
        }
        if (it.kind == ITEM_LIT && it.c == ' ')
            it.kind = ITEM_SPACE;
        /* a literal that starts where a word must start gets a boundary */
        if (nw && (it.kind == ITEM_LIT || (it.kind == ITEM_GROUP && it.ex.valid)))
            run_mark_word_start(d, &run);
        d->nw = next_nw(&it, nw, min, max);
        switch (it.kind) {
        case ITEM_ZERO:
            if (it.boundary && max >= 1 && min >= 1) {
                /* a word boundary, kept where it ends up at a literal's edge */
                char *v[1] = {(char *)"\x01"};
                strset b = {v, 1, 1};
                run_extend(d, out, &run, &b, &exact);
            }
            break;
        case ITEM_ASSERT:
            /* only outside groups: inside one, the branches are joined by
             * their best clauses, and a lookahead's words often overlap
             * the words after the group ("will(?=\s+stop)|must" would
             * join as "stop"|"must" in front of "stop") */
            if (min >= 1 && d->depth == 0)
                conj_merge(d, out, &it.g);
            else
                conj_free(&it.g);
            break;
        case ITEM_SPACE:
            /* any run of white space folds to one space, or none */
            run_extend_char(d, out, &run, ' ', min == 0, &exact);
            break;
        case ITEM_LIT:
            if (min == 0 && max == 1) {
                run_extend_char(d, out, &run, it.c, 1, &exact);
            } else if (min == 0) {
                run_flush(d, out, &run);
                exact = 0;
            } else {
                for (long k = 0; k < min && k < LIT_MAX && !d->oom; k++)
                    run_extend_char(d, out, &run, it.c, 0, &exact);
                if (max != min) {
                    /* "ab+c" matches "abbc": "ab" and "bc" are required */
                    run_flush(d, out, &run);
                    exact = 0;
                    run_extend_char(d, out, &run, it.c, 0, &exact);
                }
            }
            break;
        case ITEM_GROUP:
            if (it.ex.valid && min <= 1 && max == 1 && it.ex.n) {
                if (min == 0 && strset_add(&it.ex, "", 0) != 0)
                    d->oom = 1;
                run_extend(d, out, &run, &it.ex, &exact);
            } else {
                /* the run goes on with a phrase each match of the group
                 * starts with ("you" then "('ve got|\s+(really )?need)"
                 * is "you've got", "you really need", "you need"...) */
                if (it.lead.valid && it.lead.n && min >= 1)
                    run_extend(d, out, &run, &it.lead, &exact);
                run_flush(d, out, &run);
                exact = 0;
            }
            if (min >= 1)
                conj_merge(d, out, &it.g);
            else
                conj_free(&it.g);
            strset_free(&it.ex);
            strset_free(&it.lead);
            break;
        case ITEM_OTHER:
        default:
            run_flush(d, out, &run);
            exact = 0;
            break;
        }
    }
    if (exact && !d->bail && !d->oom) {
        for (size_t k = 0; k < run.n && !d->oom; k++)
            if (strset_add(ex, run.s[k], strlen(run.s[k])) != 0)
                d->oom = 1;
        ex->valid = !d->oom;
    }
    run_flush(d, out, &run);
    strset_free(&run);
    d->lead = outer_lead;
    d->lead_taken = outer_taken;
}

/* Makes a clause of too many phrases smaller: each phrase becomes its
 * rarest word ("no big deal" -> "deal"), which the phrase holds, so the
 * clause is weaker but still met wherever it was. Returns -1 on OOM. */
static int clause_to_words(kl_clause *c)
{
    for (size_t i = 0; i < c->nlits; i++) {
        const char *s = c->lits[i], *best = NULL;
        size_t best_len = 0;
        int best_score = 0;
        char w[LIT_MAX + 1];
        for (size_t j = 0; s[j];) {
            if (!isalnum((unsigned char)s[j])) {
                j++;
                continue;
            }
            size_t e = j;
            while (s[e] && isalnum((unsigned char)s[e]))
                e++;
            if (e - j >= 3 && e - j <= LIT_MAX) {
                memcpy(w, s + j, e - j);
                w[e - j] = '\0';
                int sc = lit_score(w);
                if (!best || sc > best_score) {
                    best = s + j;
                    best_len = e - j;
                    best_score = sc;
                }
            }
            j = e;
        }
        if (!best || best_len == strlen(s))
            continue; /* no word of three letters: the phrase stays */
        char *nw = malloc(best_len + 1);
        if (!nw)
            return -1;
        memcpy(nw, best, best_len);
        nw[best_len] = '\0';
        free(c->lits[i]);
        c->lits[i] = nw;
    }
    clause_simplify(c);
    return 0;
}

/* The clause of branch b that the k-th joined clause takes: its k-th best,
 * or its best when it has fewer or the k-th is of no use. */
static const kl_clause *branch_clause(const conj *b, size_t k)
{
    return k < b->n && clause_useful(&b->cl[k]) ? &b->cl[k] : &b->cl[0];
}

/* Joins one clause from each branch into a disjunction. */
static void join_branches(deriv *d, conj *branches, size_t nb, size_t k, conj *out)
{
    size_t total = 0;
    for (size_t b = 0; b < nb; b++)
        total += branch_clause(&branches[b], k)->nlits;
    kl_clause c = {calloc(total ? total : 1, sizeof(char *)), 0};
    if (!c.lits) {
        d->oom = 1;
        return;
    }
    for (size_t b = 0; b < nb; b++) {
        const kl_clause *src = branch_clause(&branches[b], k);
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
    if (c.nlits > CLAUSE_MAX_LITS && clause_to_words(&c) != 0) {
        clause_free(&c);
        d->oom = 1;
        return;
    }
    if (c.nlits > CLAUSE_MAX_LITS) {
        clause_free(&c);
        return;
    }
    conj_push(d, out, c);
}

/* A branch's strings b join those of the branches before, acc, and are
 * freed: acc stays valid while every branch's are, and at most RUN_MAX. */
static void strset_union(deriv *d, strset *acc, strset *b)
{
    if (b->valid && acc->valid)
        for (size_t k = 0; k < b->n && !d->oom; k++)
            if (strset_add(acc, b->s[k], strlen(b->s[k])) != 0)
                d->oom = 1;
    if (!b->valid || acc->n > RUN_MAX)
        strset_free(acc); /* no longer valid */
    strset_free(b);
}

/* Alternatives up to ')' or the end. A group is as strong as its weakest
 * branch: the k-th best clause of every branch, joined, is required. When
 * every branch's strings are known and together few, so are the group's
 * (ex, valid), and likewise the phrases its every match starts with (lead,
 * when not NULL). */
static void parse_alt(deriv *d, conj *out, strset *ex, strset *lead)
{
    conj *br = NULL;
    size_t nb = 0, cap = 0;
    strset all = {NULL, 0, 1}, leads = {NULL, 0, 1};
    int nw_in = d->nw, nw_out = 1;
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
        strset bex = {NULL, 0, 0}, blead = {NULL, 0, 0};
        d->nw = nw_in;
        parse_seq(d, &br[nb++], &bex, lead ? &blead : NULL);
        nw_out &= d->nw;
        strset_union(d, &leads, &blead);
        strset_union(d, &all, &bex);
        if (d->bail || d->oom || at(d, 0) != '|')
            break;
        d->i++;
    }
    if (nb == 1 && !d->bail && !d->oom) {
        *out = br[0];
    } else if (!d->bail && !d->oom) {
        /* the k-th joined clause takes each branch's k-th best, or its best
         * when it has fewer: every clause of a branch is required by it */
        size_t kmax = 0;
        for (size_t b = 0; b < nb; b++) {
            conj_prune(&br[b], CONJ_MAX);
            if (br[b].n > kmax)
                kmax = br[b].n;
        }
        for (size_t b = 0; b < nb; b++)
            if (!br[b].n)
                kmax = 0; /* a branch that needs nothing: neither does the group */
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
    d->nw = nw_out; /* after the group: what every branch ends with */
    if (all.valid && !d->bail && !d->oom) {
        strset_free(ex);
        *ex = all;
    } else {
        strset_free(&all);
    }
    if (lead && leads.valid && !d->bail && !d->oom) {
        strset_free(lead);
        *lead = leads;
    } else {
        strset_free(&leads);
    }
}

/* ------------------------------------------------------------------------ */
/* Deriving a rule's clauses                                                 */
/* ------------------------------------------------------------------------ */

/* `"never" & ("you"|"\\bu\\b")`: \\b a word boundary, \\" and \\\\ a quote and a
 * backslash of the literal */
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
        for (size_t j = 0; j < c->nlits; j++) {
            kl_buf_puts(&b, j ? "|\"" : "\"");
            for (const char *q = c->lits[j]; *q; q++) {
                if (*q == KL_WB)
                    kl_buf_puts(&b, "\\b");
                else if (*q == '"' || *q == '\\')
                    kl_buf_printf(&b, "\\%c", *q);
                else
                    kl_buf_putc(&b, *q);
            }
            kl_buf_putc(&b, '"');
        }
        if (c->nlits > 1)
            kl_buf_putc(&b, ')');
    }
    if (kl_buf_reserve(&b, 0) != 0) {
        kl_buf_free(&b);
        return NULL;
    }
    return kl_buf_detach(&b, NULL);
}

/* Reads a pattern once to find its groups and, when it calls them, once
 * more with the calls resolved. Returns -1 on OOM. */
static int derive_pattern(const char *pattern, conj *out)
{
    group_table t = {NULL, 0, 0, 0, 0};
    deriv d = {.p = (const unsigned char *)pattern, .n = strlen(pattern), .groups = &t};
    strset ex = {NULL, 0, 0};
    parse_alt(&d, out, &ex, NULL);
    strset_free(&ex);
    if (!d.bail && !d.oom && d.i < d.n)
        d.bail = 1; /* an unbalanced ')' */
    if (!d.bail && !d.oom && t.has_calls) {
        conj_free(out);
        deriv again = {.p = d.p, .n = d.n, .groups = &t, .resolve = 1};
        parse_alt(&again, out, &ex, NULL);
        strset_free(&ex);
        if (!again.bail && !again.oom && again.i < again.n)
            again.bail = 1;
        d.bail = again.bail;
        d.oom = again.oom;
    }
    for (size_t k = 0; k < t.n; k++) {
        for (int e = 0; e < 2; e++) {
            conj_free(&t.g[k].need[e]);
            strset_free(&t.g[k].ex[e]);
        }
    }
    free(t.g);
    if (d.oom || d.bail)
        conj_free(out);
    return d.oom ? -1 : 0;
}

kl_status kl_rule_derive_clauses(kl_rule *rule)
{
    conj got = {NULL, 0, 0};
    for (size_t i = 0; i < rule->nclauses; i++) /* triggers: as the scan reads text */
        for (size_t j = 0; j < rule->clauses[i].nlits; j++)
            if (rule->clauses[i].lits[j])
                fold_literal(rule->clauses[i].lits[j]);
    if (rule->pattern && derive_pattern(rule->pattern, &got) != 0)
        return KL_ERR_NOMEM;
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

/* Literal hits of one sentence are bits on the stack; with more distinct
 * literals than this, ids share bits (a false hit, never a missed one).
 * The default packs have about 5,800 in the clauses rule_met checks; a
 * pass clears only the words its rule set uses. */
#define HIT_BITS 16384u
/* Rules anchored in one sentence that are queued for their other clauses;
 * past this, all rules are looked at. */
#define QUEUE_MAX 128u
/* The record of a state with more entries than a record counts (every
 * rule is a candidate). */
#define OUT_ALL UINT32_MAX
#define NO_STATE UINT32_MAX
/* An output state's record (recs): where its entries start in outs, the
 * number of rule entries (low 16 bits) and of literal entries (high 16
 * bits), then its first two entries, so that most states take one load.
 * 16 bytes: a record never straddles cache lines. */
#define REC_WORDS 4u
#define REC_INLINE 2u
/* Output entries: a rule to check, or a literal id with this bit. */
#define ENTRY_LIT 0x80000000u
/* ... or a rule whose anchor is its only clause: a hit makes it a candidate */
#define ENTRY_SURE 0x40000000u
/* ... counted only where the literal ends a word: the byte after it is
 * not an ASCII letter, digit or '_' (a literal that must start a word is
 * found only there: build_automaton) */
#define ENTRY_WB_AFTER 0x10000000u
/* take_marks also gives this, for a literal that must start a word */
#define ENTRY_WB_BEFORE 0x20000000u
/* ... on a rule's anchor literal: where it ends bounds where the rule's
 * match can start (a derived clause, not `triggers:`) */
#define ENTRY_BOUND 0x08000000u
#define ENTRY_ID 0x003FFFFFu /* a rule index or a literal id */

struct kl_prefilter {
    size_t nrules;
    unsigned char *base; /* cand before a scan: 1 for rules without clauses */
    unsigned char cls[256];
    uint32_t space_cls; /* the class of ' ' (0: no literal holds one) */
    uint32_t width;     /* a row: one column per class */
    /* rows of width; the targets are row offsets in trans, row numbers in
     * trans16. An automaton of at most 65,535 states has trans16 only:
     * half the memory (most of a scan's cache misses, and of the binary
     * with the precompiled packs); a larger one has trans. Neither: off */
    uint32_t *trans;
    uint16_t *trans16;
    uint32_t out_first; /* rows at or after this offset have outputs */
    /* output row k (at offset out_first + k * width) has record
     * recs[REC_WORDS * k]; its entries are outs[recs[REC_WORDS * k]] on:
     * anchored rules, then literal ids. k is found with out_magic, the
     * division by width as a multiplication */
    uint32_t *recs;
    uint32_t *outs;
    uint64_t out_magic;
    size_t hit_words; /* 64-bit words of literal hits in use */
    /* what a queued rule needs besides its anchor: clauses rule_cl[r] to
     * rule_cl[r+1]; clause c is met when hit[cl_word[k]] & cl_mask[k] for
     * some k from cl_at[c] to cl_at[c+1] (its literal ids, a word of bits
     * at a time) */
    uint32_t *rule_cl, *cl_at, *cl_word;
    uint64_t *cl_mask;
    /* sizes, for kl_prefilter_write_c */
    size_t ntrans, nrecs, nouts, ncl;
    int borrowed; /* the arrays are a precompiled image's: not freed */
    uint32_t *always; /* the rules base marks, in order (always owned) */
    size_t nalways;
};

typedef struct lit_ref {
    const char *s;
    size_t len;
    uint32_t rule;
    int anchor;     /* in its rule's anchor clause: 1, and 2 when the only one */
    int checked;    /* in a clause rule_met checks (not the anchor): has an id */
    uint32_t state; /* where it ends in the trie */
    uint32_t wb;    /* ENTRY_WB_*, or 0 */
    uint32_t bound; /* ENTRY_BOUND, or 0 */
} lit_ref;

/* Takes the word-boundary marks off a folded literal (in place) and
 * returns the ENTRY_WB_* it asks for: a mark at an edge next to a letter
 * or digit. */
static uint32_t take_marks(char *f, size_t *len)
{
    size_t n = *len, o = 0;
    int before = n && f[0] == KL_WB, after = n > 1 && f[n - 1] == KL_WB;
    for (size_t i = 0; i < n; i++)
        if (f[i] != KL_WB)
            f[o++] = f[i];
    f[o] = '\0';
    *len = o;
    uint32_t wb = 0;
    if (!o)
        return 0;
    if (before && is_word_byte((unsigned char)f[0]))
        wb |= ENTRY_WB_BEFORE;
    if (after && is_word_byte((unsigned char)f[o - 1]))
        wb |= ENTRY_WB_AFTER;
    return wb;
}

void kl_prefilter_free(struct kl_prefilter *pf)
{
    if (!pf)
        return;
    free(pf->always);
    if (pf->borrowed) {
        free(pf);
        return;
    }
    free(pf->base);
    free(pf->trans);
    free(pf->trans16);
    free(pf->recs);
    free(pf->outs);
    free(pf->rule_cl);
    free(pf->cl_at);
    free(pf->cl_word);
    free(pf->cl_mask);
    free(pf);
}

int kl_env_on(const char *name)
{
    const char *e = getenv(name);
    return e && *e && strcmp(e, "0") != 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* A literal's slot in litid: its trie state and its word-boundary kind. */
static size_t lit_key(const lit_ref *l)
{
    return (size_t)l->state * 2 + ((l->wb & ENTRY_WB_AFTER) != 0);
}

/* Does pf have an automaton (else it is off: every rule is a candidate)? */
static int has_table(const struct kl_prefilter *pf)
{
    return pf->trans || pf->trans16;
}

/* The multiplier that divides a row offset by width without a division:
 * for x = k * width < 2^32, (x * m) >> 32 is k. With m = ceil(2^32 /
 * width) = (2^32 + e) / width, e < width, x * m is k * 2^32 + k * e, and
 * k * e < k * width < 2^32. */
static uint64_t out_magic(uint32_t width)
{
    return width ? (((uint64_t)1 << 32) + width - 1) / width : 0;
}

/* Makes pf's table trans16 (its states fit in 16 bits). Returns -1 on
 * OOM. */
static int narrow_table(struct kl_prefilter *pf)
{
    /* rows of 64 bytes start on cache lines */
    pf->trans16 = aligned_alloc(64, (pf->ntrans * sizeof *pf->trans16 + 63) / 64 * 64);
    if (!pf->trans16)
        return -1;
    for (size_t at = 0; at < pf->ntrans; at++)
        pf->trans16[at] = (uint16_t)(pf->trans[at] / pf->width);
    free(pf->trans);
    pf->trans = NULL;
    return 0;
}

/* Builds the automaton of lits into pf and gives each distinct literal
 * (string and word boundaries) an id, in litid by lit_key. Returns -1 on
 * OOM.
 *
 * Word boundaries before a literal are part of the automaton. The trie
 * reads a symbol B besides the byte classes: the text is read as if a B
 * followed each character that is not a word character (a byte's class
 * tells which), and a literal that must start a word starts with B. So
 * "\byou" is found after a space or at the start of a text (the scan
 * starts where a B was read), never inside "bayou", and the states a scan
 * passes through inside words are those of the few literals that may
 * start there. The table reads no B: the move on a character that is not
 * a word character is the move on it, then on B. States that end in such
 * a character before their B are never rested in and get no row; where
 * one has outputs (a literal ending in a space, say), a copy of the row it
 * moves to on B carries them. */
static int build_automaton(struct kl_prefilter *pf, lit_ref *lits, size_t nlits, uint32_t **litid)
{
    /* byte classes: one per byte that occurs (case-folded), 0 for the rest;
     * the letters j, q, x and z (rare in text) share one, and so do the
     * bytes past ASCII: a literal then stands for a few more strings, which
     * the text seldom holds, and the rows are narrower */
    uint32_t ncls = 1, rare = 0, high = 0;
    size_t maxstates = 1;
    for (size_t i = 0; i < nlits; i++) {
        maxstates += 2 * lits[i].len + 1; /* with a B after each non-word character */
        for (size_t j = 0; j < lits[i].len; j++) {
            unsigned char b = (unsigned char)ascii_lower((unsigned char)lits[i].s[j]);
            if (pf->cls[b])
                continue;
            uint32_t *shared = b >= 0x80 ? &high : strchr("jqxz", b) ? &rare : NULL;
            uint32_t c = shared && *shared ? *shared : ncls++;
            if (shared)
                *shared = c;
            pf->cls[b] = (unsigned char)c;
            if (b >= 'a' && b <= 'z')
                pf->cls[b - 'a' + 'A'] = (unsigned char)c;
        }
    }
    /* the word bytes no literal holds (digits, '_') share a class apart
     * from the other bytes of class 0: each class is all word bytes or
     * none */
    uint32_t wcls = 0;
    for (int b = 0; b < 256; b++) {
        if (pf->cls[b] || !is_word_byte((unsigned char)b))
            continue;
        if (!wcls)
            wcls = ncls++;
        pf->cls[b] = (unsigned char)wcls;
    }
    /* a row of 32 entries, when a few unused classes make it so: rows
     * start on cache lines, and a row offset is a shift away */
    if (ncls >= 28 && ncls < 32)
        ncls = 32;
    const uint32_t B = ncls, nsym = ncls + 1; /* the trie's symbols: the classes and B */
    if (maxstates > UINT32_MAX / (nsym + 1) / 4)
        return -1;
    unsigned char wordc[256] = {0}; /* the class is of word bytes */
    for (int b = 0; b < 256; b++)
        if (is_word_byte((unsigned char)b))
            wordc[pf->cls[b]] = 1;
    /* white space folds to one space: every ASCII white space byte is a
     * space (the scan reads non-ASCII white space as one too) */
    pf->space_cls = pf->cls[' '];
    if (pf->space_cls) {
        static const char ws[] = "\t\n\v\f\r";
        for (const char *w = ws; *w; w++)
            pf->cls[(unsigned char)*w] = (unsigned char)pf->space_cls;
    }

    int rc = -1;
    uint32_t *g = malloc(maxstates * nsym * sizeof *g); /* trie, then DFA */
    uint32_t *fail = malloc(maxstates * sizeof *fail);
    uint32_t *queue = malloc(maxstates * sizeof *queue);
    uint32_t *own = calloc(maxstates + 1, sizeof *own); /* own entries, counted */
    uint32_t *ownv = malloc(2 * nlits * sizeof *ownv);
    uint32_t *cnt = calloc(maxstates, sizeof *cnt); /* all entries, counted */
    uint32_t *perm = malloc(maxstates * sizeof *perm);
    uint32_t *first = malloc(maxstates * sizeof *first);
    uint32_t *fill = malloc(maxstates * sizeof *fill);
    uint32_t *src = malloc(maxstates * sizeof *src); /* a row's state; its outputs' */
    uint32_t *osrc = malloc(maxstates * sizeof *osrc);
    uint32_t *merged = NULL;
    /* 1: the state's string ends in a space and B; 2: in a character that
     * is not a word character (it has no row) */
    unsigned char *kind = calloc(maxstates, 1);
    *litid = malloc(maxstates * 2 * sizeof **litid);
    if (!g || !fail || !queue || !own || !ownv || !cnt || !perm || !first || !fill || !src ||
        !osrc || !*litid || !kind)
        goto out;
    memset(g, 0xFF, nsym * sizeof *g);
    memset(*litid, 0xFF, maxstates * 2 * sizeof **litid);
    uint32_t nstates = 1, nids = 0;
    int empty = 0;
    for (size_t i = 0; i < nlits; i++) {
        uint32_t s = 0;
        int before = (lits[i].wb & ENTRY_WB_BEFORE) != 0;
        for (size_t j = 0; j < lits[i].len + (size_t)before; j++) {
            /* B first for a word start; a B after each non-word
             * character but the last */
            size_t at = j - (size_t)before;
            uint32_t c = before && j == 0 ? B : pf->cls[(unsigned char)lits[i].s[at]];
            int then_b = c != B && !wordc[c] && at + 1 < lits[i].len;
            for (int k = 0; k < 1 + then_b; k++) {
                uint32_t sym = k ? B : c;
                if (g[(size_t)s * nsym + sym] == NO_STATE) {
                    memset(g + (size_t)nstates * nsym, 0xFF, nsym * sizeof *g);
                    kind[nstates] = sym == B ? (k && c == pf->space_cls && c) : !wordc[sym] ? 2 : 0;
                    g[(size_t)s * nsym + sym] = nstates++;
                }
                s = g[(size_t)s * nsym + sym];
            }
        }
        lits[i].state = s;
        empty |= lits[i].len == 0;
        if (lits[i].checked && (*litid)[lit_key(&lits[i])] == NO_STATE)
            (*litid)[lit_key(&lits[i])] = nids++;
        /* a state's own entries: its literal id when a clause is checked
         * for it, and the rules it anchors (an anchor clause needs no bit:
         * a queued rule has met it) */
        own[s + 1] += (uint32_t)lits[i].checked + (lits[i].anchor != 0);
    }
    pf->hit_words = ((nids < HIT_BITS ? nids : HIT_BITS) + 63) / 64;
    for (uint32_t s = 0; s < nstates; s++)
        own[s + 1] += own[s];
    memcpy(fill, own, nstates * sizeof *fill);
    for (size_t i = 0; i < nlits; i++) {
        uint32_t s = lits[i].state, wb = lits[i].wb & ENTRY_WB_AFTER;
        if (lits[i].checked)
            ownv[fill[s]++] = ENTRY_LIT | wb | ((*litid)[lit_key(&lits[i])] % HIT_BITS);
        if (lits[i].anchor)
            ownv[fill[s]++] =
                lits[i].rule | wb | lits[i].bound | (lits[i].anchor == 2 ? ENTRY_SURE : 0);
    }
    /* failure links in breadth-first order; missing moves become the
     * failure state's moves, so the scan never follows a link */
    size_t qh = 0, qt = 0;
    fail[0] = 0;
    for (uint32_t c = 0; c < nsym; c++) {
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
        for (uint32_t c = 0; c < nsym; c++) {
            uint32_t t = g[(size_t)s * nsym + c];
            if (t == NO_STATE) {
                g[(size_t)s * nsym + c] = g[(size_t)fail[s] * nsym + c];
            } else {
                fail[t] = g[(size_t)fail[s] * nsym + c];
                queue[qt++] = t;
            }
        }
    }
    /* all entries of a state: its own and its failure state's, merged in
     * breadth-first order (the failure state's list is complete by then) */
    size_t total = 0;
    for (size_t k = 0; k < qt; k++) {
        uint32_t s = queue[k];
        cnt[s] = (own[s + 1] - own[s]) + cnt[fail[s]];
        total += cnt[s];
    }
    if (empty || total >= UINT32_MAX / 2)
        goto out;
    merged = malloc((total ? total : 1) * sizeof *merged);
    if (!merged)
        goto out;
    size_t pos = 0;
    for (size_t k = 0; k < qt; k++) {
        uint32_t s = queue[k];
        first[s] = (uint32_t)pos;
        memcpy(merged + pos, ownv + own[s], (own[s + 1] - own[s]) * sizeof *merged);
        pos += own[s + 1] - own[s];
        if (cnt[fail[s]]) {
            memcpy(merged + pos, merged + first[fail[s]], cnt[fail[s]] * sizeof *merged);
            pos += cnt[fail[s]];
        }
    }
    /* rows: first the states without outputs, the start (after a B: the
     * start of a text is a word boundary) as row 0, then the root, then
     * breadth-first, so the shallow states a scan mostly visits share
     * cache lines; then the states with outputs, and the copies that
     * carry a non-word character's outputs (perm of that state) */
    uint32_t start = g[B], nplain = 0, nout = 0;
    src[nplain++] = start;
    if (start != 0)
        src[nplain++] = 0;
    for (size_t k = 0; k < qt; k++)
        if (queue[k] != start && kind[queue[k]] != 2 && !cnt[queue[k]])
            src[nplain++] = queue[k];
    for (uint32_t r = 0; r < nplain; r++)
        perm[src[r]] = r;
    for (size_t k = 0; k < qt; k++) {
        uint32_t s = queue[k];
        if (!cnt[s])
            continue;
        perm[s] = nplain + nout;
        src[nplain + nout] = kind[s] == 2 ? g[(size_t)s * nsym + B] : s;
        osrc[nout++] = s;
    }
    uint32_t nrows = nplain + nout;
    uint32_t width = ncls;
    pf->width = width;
    pf->out_magic = out_magic(width);
    pf->out_first = nplain * width;
    pf->ntrans = (size_t)nrows * width;
    pf->nrecs = (size_t)nout * REC_WORDS;
    pf->nouts = total;
    pf->trans = malloc(pf->ntrans * sizeof *pf->trans);
    pf->recs = calloc(pf->nrecs ? pf->nrecs : 1, sizeof *pf->recs);
    pf->outs = malloc((total ? total : 1) * sizeof *pf->outs);
    if (!pf->trans || !pf->recs || !pf->outs)
        goto out;
    /* each output state's entries sorted (rules, then literal ids) and
     * without repeats */
    pos = 0;
    for (uint32_t r = 0; r < nrows; r++) {
        uint32_t s = src[r], *row = pf->trans + (size_t)r * width;
        for (uint32_t c = 0; c < ncls; c++) {
            uint32_t t = g[(size_t)s * nsym + c];
            if (c == pf->space_cls && c && kind[s] == 1)
                t = s; /* the text's white space folds to one space: after a
                        * space, more leaves the automaton where it is (a
                        * literal never holds two spaces in a row) */
            else if (!wordc[c] && !cnt[t])
                t = g[(size_t)t * nsym + B];
            row[c] = perm[t] * width;
        }
        if (r < nplain)
            continue;
        uint32_t *rec = pf->recs + (size_t)(r - nplain) * REC_WORDS;
        uint32_t *e = merged + first[osrc[r - nplain]], n = cnt[osrc[r - nplain]];
        qsort(e, n, sizeof *e, cmp_u32);
        if (e[n - 1] == OUT_ALL) {
            rec[0] = OUT_ALL;
            continue;
        }
        uint32_t at = (uint32_t)pos, nrule = 0;
        for (uint32_t j = 0; j < n; j++) {
            if (j && e[j] == e[j - 1])
                continue;
            nrule += !(e[j] & ENTRY_LIT);
            pf->outs[pos++] = e[j] & ~ENTRY_LIT;
        }
        /* the counts are 16 bits: a state with more rules or literals
         * than that (never seen: the default packs have at most a few
         * dozen) makes every rule a candidate, like KELVIN SIGN */
        if (nrule > UINT16_MAX || pos - at - nrule > UINT16_MAX) {
            rec[0] = OUT_ALL;
            continue;
        }
        rec[0] = at;
        rec[1] = nrule | (uint32_t)(pos - at - nrule) << 16;
        for (uint32_t j = 0; j < REC_INLINE && at + j < pos; j++)
            rec[2 + j] = pf->outs[at + j];
    }
    if (nrows <= UINT16_MAX && narrow_table(pf) != 0)
        goto out;
    rc = 0;
out:
    free(g);
    free(fail);
    free(queue);
    free(own);
    free(ownv);
    free(cnt);
    free(perm);
    free(first);
    free(fill);
    free(src);
    free(osrc);
    free(merged);
    free(kind);
    return rc;
}

/* Lists the rules that are candidates in every sentence. */
static int list_always(struct kl_prefilter *pf)
{
    pf->always = malloc((pf->nrules ? pf->nrules : 1) * sizeof *pf->always);
    if (!pf->always)
        return -1;
    pf->nalways = 0;
    for (size_t r = 0; r < pf->nrules; r++)
        if (pf->base[r])
            pf->always[pf->nalways++] = (uint32_t)r;
    return 0;
}

/* The clause a rule is found by: its rarest. */
static size_t anchor_clause(const kl_rule *r, const unsigned char *usable)
{
    size_t best = 0;
    int best_score = -(1 << 30);
    for (size_t c = 0; c < r->nclauses; c++) {
        if (!usable[c])
            continue;
        int s = clause_score(&r->clauses[c]);
        if (s > best_score) {
            best = c;
            best_score = s;
        }
    }
    return best;
}

/* The literal ids of each clause as (word, mask) pairs for rule_met. */
static int build_clause_masks(struct kl_prefilter *pf, const uint32_t *first_lit,
                              const uint32_t *end_lit, size_t ncl, const uint32_t *ids)
{
    size_t nlits = 0;
    for (size_t c = 0; c < ncl; c++)
        nlits += end_lit[c] - first_lit[c];
    pf->ncl = ncl;
    pf->cl_at = malloc((ncl + 1) * sizeof *pf->cl_at);
    pf->cl_word = malloc((nlits ? nlits : 1) * sizeof *pf->cl_word);
    pf->cl_mask = malloc((nlits ? nlits : 1) * sizeof *pf->cl_mask);
    uint32_t *tmp = malloc((nlits ? nlits : 1) * sizeof *tmp);
    if (!pf->cl_at || !pf->cl_word || !pf->cl_mask || !tmp) {
        free(tmp);
        return -1;
    }
    size_t k = 0;
    for (size_t c = 0; c < ncl; c++) {
        pf->cl_at[c] = (uint32_t)k;
        size_t n = end_lit[c] - first_lit[c];
        memcpy(tmp, ids + first_lit[c], n * sizeof *tmp);
        qsort(tmp, n, sizeof *tmp, cmp_u32);
        for (size_t j = 0; j < n; j++) {
            if (j == 0 || tmp[j] / 64 != tmp[j - 1] / 64) {
                pf->cl_word[k] = tmp[j] / 64;
                pf->cl_mask[k++] = 0;
            }
            pf->cl_mask[k - 1] |= (uint64_t)1 << (tmp[j] % 64);
        }
    }
    pf->cl_at[ncl] = (uint32_t)k;
    free(tmp);
    return 0;
}

struct kl_prefilter *kl_prefilter_build(const kl_rules *rules)
{
    struct kl_prefilter *pf = calloc(1, sizeof *pf);
    lit_ref *lits = NULL;
    char *arena = NULL;
    uint32_t *litid = NULL, *first_lit = NULL, *end_lit = NULL, *ids = NULL;
    if (!pf)
        return NULL;
    size_t nrules = rules->count;
    pf->nrules = nrules;
    pf->base = malloc(nrules ? nrules : 1);
    if (!pf->base || nrules > ENTRY_ID)
        goto fail;
    memset(pf->base, 1, nrules);
    if (kl_env_on("KINDLINT_NO_PREFILTER"))
        return list_always(pf) == 0 ? pf : (kl_prefilter_free(pf), NULL);

    size_t nlits = 1, ncl = 0, n = 0, bytes = 1, used = 0; /* 1: never malloc(0) */
    for (size_t r = 0; r < nrules; r++) {
        for (size_t c = 0; c < rules->rules[r]->nclauses; c++) {
            const kl_clause *cl = &rules->rules[r]->clauses[c];
            nlits += cl->nlits;
            for (size_t j = 0; j < cl->nlits; j++)
                bytes += (cl->lits[j] ? strlen(cl->lits[j]) : 0) + 1;
            ncl++;
        }
    }
    /* the literals folded as the scan reads text (hand-built rule sets
     * may hold "A  b") */
    arena = malloc(bytes);
    lits = malloc(nlits * sizeof *lits);
    first_lit = malloc((ncl + 1) * sizeof *first_lit);
    end_lit = malloc((ncl + 1) * sizeof *end_lit);
    ids = malloc(nlits * sizeof *ids);
    pf->rule_cl = malloc((nrules + 1) * sizeof *pf->rule_cl);
    if (!arena || !lits || !first_lit || !end_lit || !ids || !pf->rule_cl)
        goto fail;
    ncl = 0;
    for (size_t r = 0; r < nrules; r++) {
        const kl_rule *rule = rules->rules[r];
        /* a clause with an empty literal is met by every sentence: left out */
        unsigned char usable[KL_PREFILTER_MAX_CLAUSES * 4];
        size_t nc = rule->nclauses < sizeof usable ? rule->nclauses : sizeof usable;
        int any = 0, nusable = 0;
        for (size_t c = 0; c < nc; c++) {
            const kl_clause *cl = &rule->clauses[c];
            usable[c] = cl->nlits > 0;
            for (size_t j = 0; j < cl->nlits; j++)
                if (!cl->lits[j] || !cl->lits[j][strspn(cl->lits[j], "\x01")])
                    usable[c] = 0; /* empty, or only a word boundary */
            any |= usable[c];
            nusable += usable[c];
        }
        pf->rule_cl[r] = (uint32_t)ncl;
        if (!any)
            continue;
        pf->base[r] = 0;
        /* the anchor clause queues the rule (or, when the only one, lists
         * it); rule_met checks the others */
        size_t anchor = anchor_clause(rule, usable);
        for (size_t c = 0; c < nc; c++) {
            if (!usable[c])
                continue;
            const kl_clause *cl = &rule->clauses[c];
            int checked = c != anchor;
            if (checked)
                first_lit[ncl] = (uint32_t)n;
            for (size_t j = 0; j < cl->nlits; j++) {
                char *f = arena + used;
                strcpy(f, cl->lits[j]);
                size_t flen = fold_literal(f);
                used += flen + 1;
                uint32_t wb = take_marks(f, &flen);
                /* 2: the rule's only clause; bound: see ENTRY_BOUND */
                int role = checked ? 0 : nusable == 1 ? 2 : 1;
                uint32_t bound = checked || (rule->triggered && c == 0) ? 0 : ENTRY_BOUND;
                lits[n++] = (lit_ref){.s = f,
                                      .len = flen,
                                      .rule = (uint32_t)r,
                                      .anchor = role,
                                      .checked = checked,
                                      .wb = wb,
                                      .bound = bound};
            }
            if (checked)
                end_lit[ncl++] = (uint32_t)n;
        }
    }
    pf->rule_cl[nrules] = (uint32_t)ncl;
    if (n) {
        if (build_automaton(pf, lits, n, &litid) != 0)
            goto fail;
        for (size_t i = 0; i < n; i++)
            ids[i] = lits[i].checked ? litid[lit_key(&lits[i])] % HIT_BITS : 0;
        if (build_clause_masks(pf, first_lit, end_lit, ncl, ids) != 0)
            goto fail;
    }
    if (list_always(pf) != 0)
        goto fail;
    free(arena);
    free(lits);
    free(litid);
    free(first_lit);
    free(end_lit);
    free(ids);
    return pf;
fail:
    free(arena);
    free(lits);
    free(litid);
    free(first_lit);
    free(end_lit);
    free(ids);
    kl_prefilter_free(pf);
    return NULL;
}

/* Are the clauses of rule r met by the literals hit? (Those rule_met
 * checks: all but the anchor, which a queued rule has met.) */
static int rule_met(const struct kl_prefilter *pf, size_t r, const uint64_t *hit)
{
    for (uint32_t c = pf->rule_cl[r]; c < pf->rule_cl[r + 1]; c++) {
        uint32_t k = pf->cl_at[c], end = pf->cl_at[c + 1];
        while (k < end && !(hit[pf->cl_word[k]] & pf->cl_mask[k]))
            k++;
        if (k == end)
            return 0;
    }
    return 1;
}

/* Output states met in a pass are noted without a branch and handled in
 * batches of this many. */
#define SEEN_BATCH 64u

/* An output state met, and where: the byte its character ends at. */
typedef struct noted {
    const unsigned char *at;
    uint32_t s;
} noted;

/* A character other than ASCII that the folded text reads as an ASCII
 * one: white space (what \\s matches under UCP, the separators Zs, Zl,
 * Zp, and NEL and U+180E besides) as ' ', the typographic apostrophes ’ ʼ
 * ‘ as \' and the quotes “ ” as ", the forms kl_pattern_expand_quotes
 * gives ' and ". Returns its length (0: none) and the character in *as. */
static size_t fold_char(const unsigned char *t, size_t n, unsigned char *as)
{
    *as = ' ';
    if (n >= 2 && t[0] == 0xC2 && (t[1] == 0x85 || t[1] == 0xA0))
        return 2;
    if (n >= 2 && t[0] == 0xCA && t[1] == 0xBC) {
        *as = '\'';
        return 2;
    }
    if (n < 3)
        return 0;
    if (t[0] == 0xE1)
        return (t[1] == 0x9A && t[2] == 0x80) || (t[1] == 0xA0 && t[2] == 0x8E) ? 3 : 0;
    if (t[0] == 0xE2 && t[1] == 0x80) {
        if (t[2] == 0x98 || t[2] == 0x99 || t[2] == 0x9C || t[2] == 0x9D) {
            *as = t[2] <= 0x99 ? '\'' : '"';
            return 3;
        }
        return (t[2] >= 0x80 && t[2] <= 0x8A) || t[2] == 0xA8 || t[2] == 0xA9 || t[2] == 0xAF ? 3
                                                                                              : 0;
    }
    if (t[0] == 0xE2)
        return t[1] == 0x81 && t[2] == 0x9F ? 3 : 0;
    if (t[0] == 0xE3)
        return t[1] == 0x80 && t[2] == 0x80 ? 3 : 0;
    return 0;
}

/* One pass of the automaton over a text: a literal of a rule's anchor
 * clause (its rarest) queues the rule, whose other clauses are checked at
 * the end against the bits in hit, which their literals set. A common word
 * ("you") thus costs one bit, not one write per rule that mentions it.
 * mark (a byte per rule) is all 0 before and after: in between, 1 for a
 * rule listed, 2 for one queued. */
typedef struct pass {
    const unsigned char *t;
    size_t len, i;
    uint32_t s;
    unsigned char *mark;
    uint32_t *list;
    uint32_t *lim; /* kl_prefilter_text.lim */
    size_t n;
    int all; /* every rule: KELVIN SIGN, LONG S, or an OUT_ALL state */
    size_t nq, nseen;
    int overflow;
    uint32_t queue[QUEUE_MAX];
    noted seen[SEEN_BATCH];
    uint64_t hit[HIT_BITS / 64];
    /* the words of hit that are not 0, cleared for the next text (a text
     * sets a few of the hundred or so); take_outputs writes one past the
     * last before it counts it */
    uint16_t dirty[HIT_BITS / 64 + 1];
    size_t ndirty;
} pass;

/* Handles p's noted output states: literal bits (the words of hit that
 * were 0 go on dirty), queued rules, listed ones. Returns 0 at a state
 * with more entries than its record counts (OUT_ALL: every rule a
 * candidate). */
static int take_outputs(const struct kl_prefilter *pf, pass *p)
{
    const uint32_t *outs = pf->outs;
    const noted *seen = p->seen;
    const unsigned char *t = p->t;
    uint64_t *hit = p->hit;
    unsigned char *cand = p->mark;
    for (size_t i = 0; i < p->nseen; i++) {
        uint64_t k = ((uint64_t)(seen[i].s - pf->out_first) * pf->out_magic) >> 32;
        const uint32_t *rec = pf->recs + k * REC_WORDS;
        if (rec[0] == OUT_ALL)
            return 0;
        uint32_t nrule = rec[1] & 0xFFFF, n = nrule + (rec[1] >> 16);
        for (uint32_t j = 0; j < n; j++) {
            uint32_t e = j < REC_INLINE ? rec[2 + j] : outs[rec[0] + j];
            /* a literal that must end a word, before a word byte */
            if ((e & ENTRY_WB_AFTER) && seen[i].at + 1 < t + p->len && is_word_byte(seen[i].at[1]))
                continue;
            if (j >= nrule) { /* a literal id */
                e &= ENTRY_ID;
                p->dirty[p->ndirty] = (uint16_t)(e / 64);
                p->ndirty += hit[e / 64] == 0;
                hit[e / 64] |= (uint64_t)1 << (e % 64);
                continue;
            }
            uint32_t r = e & ENTRY_ID;
            /* in order: the last write is the last hit */
            if (p->lim)
                p->lim[r] = e & ENTRY_BOUND ? (uint32_t)(seen[i].at + 1 - t) : KL_NO_LIMIT;
            if (e & ENTRY_SURE) {
                if (!cand[r]) {
                    cand[r] = 1;
                    p->list[p->n++] = r;
                }
                continue;
            }
            if (cand[r])
                continue;
            cand[r] = 2; /* queued */
            if (p->nq < QUEUE_MAX)
                p->queue[p->nq++] = r;
            else
                p->overflow = 1;
        }
    }
    return 1;
}

static void pass_init(const struct kl_prefilter *pf, pass *p, const char *text, size_t len,
                      unsigned char *mark, uint32_t *list, uint32_t *lim)
{
    p->t = (const unsigned char *)text;
    p->lim = lim;
    p->len = has_table(pf) ? len : 0;
    p->i = 0;
    p->s = 0;
    p->mark = mark;
    p->list = list;
    p->n = pf->nalways;
    memcpy(list, pf->always, p->n * sizeof *list);
    p->all = 0;
    p->nq = p->nseen = 0;
    p->overflow = 0;
    for (size_t k = 0; k < p->ndirty; k++)
        p->hit[p->dirty[k]] = 0;
    p->ndirty = 0;
}

/* Handles p's batch of output states when it is full. */
static void pass_flush(const struct kl_prefilter *pf, pass *p)
{
    if (p->nseen < SEEN_BATCH)
        return;
    if (!take_outputs(pf, p)) {
        p->all = 1;
        p->i = p->len; /* nothing more to learn */
    }
    p->nseen = 0;
}

/* The class of the character at t[*i], a lead byte that fold_char may
 * read as an ASCII one (*i then moves to its last byte). */
static inline uint32_t fold_class(const struct kl_prefilter *pf, const unsigned char *t, size_t len,
                                  size_t *i, uint32_t c)
{
    unsigned char as;
    size_t k = fold_char(t + *i, len - *i, &as);
    if (!k)
        return c;
    *i += k - 1;
    return pf->cls[as];
}

/* Is b a lead byte that fold_char may read as an ASCII character? */
static inline int may_fold(unsigned char b)
{
    return (unsigned)(b - 0xC2) <= 0xE3 - 0xC2;
}

/* Reads the character at p->i into p's state, noting the state when it
 * has outputs: the step for a lead byte that may fold, or start KELVIN
 * SIGN or LONG S. */
static void pass_step(const struct kl_prefilter *pf, pass *p)
{
    /* KELVIN SIGN or LONG S: every rule; nothing more to learn */
    const unsigned char *u = p->t + p->i;
    size_t left = p->len - p->i;
    if ((left >= 3 && u[0] == 0xE2 && u[1] == 0x84 && u[2] == 0xAA) ||
        (left >= 2 && u[0] == 0xC5 && u[1] == 0xBF)) {
        p->all = 1;
        p->i = p->len;
        return;
    }
    uint32_t c = pf->cls[p->t[p->i]];
    if (may_fold(p->t[p->i]))
        c = fold_class(pf, p->t, p->len, &p->i, c);
    p->s = pf->trans16 ? pf->trans16[p->s + c] * pf->width : pf->trans[p->s + c];
    p->seen[p->nseen] = (noted){p->t + p->i++, p->s};
    p->nseen += p->s >= pf->out_first;
}

/* The passes kl_prefilter_batch runs in step. The automaton's table is
 * megabytes, and each load waits for the one before: with four passes,
 * four loads are in flight at once. */
#define NPASS 4

/* A pass that has no text (idle) reads these zero bytes: class 0, which
 * leaves the automaton at its root, where no phrase ends. A block of
 * steps reads at most SEEN_BATCH bytes. */
static const unsigned char idle_text[SEEN_BATCH];

/* One step of a pass in a block: the byte at t read into state s,
 * through table tr (16-bit rows times width, or 32-bit offsets times 1);
 * the state is noted at w, and w moves on past an output state. */
#define STEP(t, s, w)                                                                              \
    do {                                                                                           \
        (s) = (uint32_t)tr[(s) + cls[*(t)]] * mul;                                                 \
        *(w) = (noted){(t), (s)};                                                                  \
        (w) += (s) >= out_first;                                                                   \
        (t)++;                                                                                     \
    } while (0)

/* Runs the passes p[0..NPASS-1] in step until one that has a text (its
 * len is not 0) has read it, in blocks of steps with no check of a text's
 * end or of the batches of output states: a block is as long as the
 * shortest rest of a text and the least room in a batch (a step notes at
 * most one state). Each step reads one byte; a lead byte that may fold
 * ends the block, and pass_step reads its character. Idle passes read
 * idle_text and stay at the root. Each pass's text, state and place in
 * its batch live in registers for the block. */
#define DEFINE_RUN(name, table_type, table, multiplier)                                            \
    static void name(const struct kl_prefilter *pf, pass *p)                                       \
    {                                                                                              \
        const table_type *tr = pf->table;                                                          \
        const uint32_t mul = (multiplier), out_first = pf->out_first;                              \
        const unsigned char *cls = pf->cls;                                                        \
        for (;;) {                                                                                 \
            size_t m = SEEN_BATCH;                                                                 \
            for (int q = 0; q < NPASS; q++) {                                                      \
                if (!p[q].len)                                                                     \
                    continue;                                                                      \
                if (p[q].i >= p[q].len)                                                            \
                    return;                                                                        \
                pass_flush(pf, &p[q]);                                                             \
                if (p[q].i >= p[q].len) /* the flush learnt all */                                 \
                    return;                                                                        \
                size_t rest = p[q].len - p[q].i, room = SEEN_BATCH - p[q].nseen;                   \
                m = rest < m ? rest : m;                                                           \
                m = room < m ? room : m;                                                           \
            }                                                                                      \
            const unsigned char *t0 = p[0].len ? p[0].t + p[0].i : idle_text,                      \
                                *t1 = p[1].len ? p[1].t + p[1].i : idle_text,                      \
                                *t2 = p[2].len ? p[2].t + p[2].i : idle_text,                      \
                                *t3 = p[3].len ? p[3].t + p[3].i : idle_text;                      \
            uint32_t s0 = p[0].s, s1 = p[1].s, s2 = p[2].s, s3 = p[3].s;                           \
            noted *w0 = p[0].seen + p[0].nseen, *w1 = p[1].seen + p[1].nseen,                      \
                  *w2 = p[2].seen + p[2].nseen, *w3 = p[3].seen + p[3].nseen;                      \
            size_t k;                                                                              \
            for (k = 0; k < m; k++) {                                                              \
                if (may_fold(*t0) || may_fold(*t1) || may_fold(*t2) || may_fold(*t3))              \
                    break;                                                                         \
                STEP(t0, s0, w0);                                                                  \
                STEP(t1, s1, w1);                                                                  \
                STEP(t2, s2, w2);                                                                  \
                STEP(t3, s3, w3);                                                                  \
            }                                                                                      \
            p[0].s = s0, p[1].s = s1, p[2].s = s2, p[3].s = s3;                                    \
            p[0].nseen = (size_t)(w0 - p[0].seen), p[1].nseen = (size_t)(w1 - p[1].seen);          \
            p[2].nseen = (size_t)(w2 - p[2].seen), p[3].nseen = (size_t)(w3 - p[3].seen);          \
            for (int q = 0; q < NPASS; q++) {                                                      \
                if (!p[q].len)                                                                     \
                    continue;                                                                      \
                p[q].i += k;                                                                       \
                if (k < m && may_fold(p[q].t[p[q].i]))                                             \
                    pass_step(pf, &p[q]);                                                          \
            }                                                                                      \
        }                                                                                          \
    }

/* DEFINE_RUN for one pass, when no other pass has a text and no text is
 * left for them: the tail of a batch, or a batch of one (a short message).
 * The idle passes' steps cost as much as a busy one's, so a lone pass
 * steps alone. */
#define DEFINE_RUN1(name, table_type, table, multiplier)                                           \
    static void name(const struct kl_prefilter *pf, pass *p)                                       \
    {                                                                                              \
        const table_type *tr = pf->table;                                                          \
        const uint32_t mul = (multiplier), out_first = pf->out_first;                              \
        const unsigned char *cls = pf->cls;                                                        \
        while (p->i < p->len) {                                                                    \
            pass_flush(pf, p);                                                                     \
            if (p->i >= p->len) /* the flush learnt all */                                         \
                return;                                                                            \
            size_t rest = p->len - p->i, room = SEEN_BATCH - p->nseen;                             \
            size_t m = rest < room ? rest : room;                                                  \
            const unsigned char *t0 = p->t + p->i;                                                 \
            uint32_t s0 = p->s;                                                                    \
            noted *w0 = p->seen + p->nseen;                                                        \
            size_t k;                                                                              \
            for (k = 0; k < m; k++) {                                                              \
                if (may_fold(*t0))                                                                 \
                    break;                                                                         \
                STEP(t0, s0, w0);                                                                  \
            }                                                                                      \
            p->s = s0;                                                                             \
            p->nseen = (size_t)(w0 - p->seen);                                                     \
            p->i += k;                                                                             \
            if (k < m)                                                                             \
                pass_step(pf, p);                                                                  \
        }                                                                                          \
    }

DEFINE_RUN(pass_run_narrow, uint16_t, trans16, pf->width)
DEFINE_RUN(pass_run_narrow32, uint16_t, trans16, 32) /* a shift */
DEFINE_RUN(pass_run_wide, uint32_t, trans, 1)
DEFINE_RUN1(pass_run1_narrow, uint16_t, trans16, pf->width)
DEFINE_RUN1(pass_run1_narrow32, uint16_t, trans16, 32)
DEFINE_RUN1(pass_run1_wide, uint32_t, trans, 1)

/* The outputs still pending, the queued rules, and the list in rule order.
 * Returns its length. */
static size_t pass_finish(const struct kl_prefilter *pf, pass *p)
{
    size_t nrules = pf->nrules;
    uint32_t *list = p->list;
    unsigned char *mark = p->mark;
    for (size_t k = 0; p->lim && k < pf->nalways; k++)
        p->lim[pf->always[k]] = KL_NO_LIMIT;
    if (!has_table(pf))
        return p->n;
    if (p->all || !take_outputs(pf, p)) {
        for (size_t r = 0; p->lim && r < nrules; r++)
            p->lim[r] = KL_NO_LIMIT;
        memset(mark, 0, nrules);
        for (size_t r = 0; r < nrules; r++)
            list[r] = (uint32_t)r;
        return nrules;
    }
    size_t n = p->n;
    if (!p->overflow) {
        for (size_t q = 0; q < p->nq; q++) {
            uint32_t r = p->queue[q];
            mark[r] = 0;
            if (rule_met(pf, r, p->hit))
                list[n++] = r;
        }
    } else {
        for (size_t r = 0; r < nrules; r++) {
            if (mark[r] == 2) {
                mark[r] = 0;
                if (rule_met(pf, r, p->hit))
                    list[n++] = (uint32_t)r;
            }
        }
    }
    for (size_t k = pf->nalways; k < n; k++)
        mark[list[k]] = 0;
    /* in rule order (few: an insertion sort) */
    for (size_t k = 1; k < n; k++) {
        uint32_t r = list[k];
        size_t j = k;
        for (; j > 0 && list[j - 1] > r; j--)
            list[j] = list[j - 1];
        list[j] = r;
    }
    return n;
}

size_t kl_prefilter_list(const struct kl_prefilter *pf, const char *text, size_t len,
                         unsigned char *mark, uint32_t *list)
{
    size_t n = 0;
    kl_prefilter_text one = {text, len, mark, list, &n, NULL};
    kl_prefilter_batch(pf, &one, 1);
    return n;
}

/* Makes p idle: no text, at the root, nothing noted. */
static void pass_idle(pass *p)
{
    p->len = p->i = 0;
    p->s = 0;
    p->nseen = 0;
}

void kl_prefilter_batch(const struct kl_prefilter *pf, const kl_prefilter_text *texts, size_t n)
{
    /* each pass takes the next text when it has read one, so the passes
     * stay in step until the last texts */
    pass p[NPASS];
    size_t at[NPASS] = {0}, next = 0;
    for (int q = 0; q < NPASS; q++) {
        pass_idle(&p[q]);
        memset(p[q].hit, 0, pf->hit_words * sizeof p[q].hit[0]);
        p[q].ndirty = 0;
    }
    for (;;) {
        int busy = 0;
        for (int q = 0; q < NPASS; q++) {
            if (p[q].len && p[q].i >= p[q].len) {
                texts[at[q]].n[0] = pass_finish(pf, &p[q]);
                pass_idle(&p[q]);
            }
            while (!p[q].len && next < n) {
                at[q] = next++;
                pass_init(pf, &p[q], texts[at[q]].text, texts[at[q]].len, texts[at[q]].mark,
                          texts[at[q]].list, texts[at[q]].lim);
                if (!p[q].len) { /* an empty text, or the prefilter off: done */
                    texts[at[q]].n[0] = pass_finish(pf, &p[q]);
                    pass_idle(&p[q]);
                }
            }
            busy += p[q].len != 0;
        }
        if (!busy)
            return;
        if (busy == 1 && next >= n) {
            int q = 0;
            while (!p[q].len)
                q++;
            if (pf->trans16 && pf->width == 32)
                pass_run1_narrow32(pf, &p[q]);
            else if (pf->trans16)
                pass_run1_narrow(pf, &p[q]);
            else
                pass_run1_wide(pf, &p[q]);
            continue;
        }
        if (pf->trans16 && pf->width == 32)
            pass_run_narrow32(pf, p);
        else if (pf->trans16)
            pass_run_narrow(pf, p);
        else
            pass_run_wide(pf, p);
    }
}

void kl_prefilter_candidates(const struct kl_prefilter *pf, const char *text, size_t len,
                             unsigned char *cand)
{
    size_t nrules = pf->nrules;
    uint32_t *list = malloc((nrules ? nrules : 1) * sizeof *list);
    unsigned char *mark = calloc(1, nrules ? nrules : 1);
    if (!list || !mark) {
        memset(cand, 1, nrules); /* no memory: every rule may match */
    } else {
        memset(cand, 0, nrules);
        size_t n = kl_prefilter_list(pf, text, len, mark, list);
        for (size_t k = 0; k < n; k++)
            cand[list[k]] = 1;
    }
    free(list);
    free(mark);
}

/* ------------------------------------------------------------------------ */
/* Precompiled                                                               */
/* ------------------------------------------------------------------------ */

struct kl_prefilter *kl_prefilter_from_image(const kl_prefilter_image *img)
{
    struct kl_prefilter *pf = calloc(1, sizeof *pf);
    if (!pf)
        return NULL;
    /* the image is only ever read: the casts lend it, never write it */
    pf->borrowed = 1;
    pf->nrules = img->nrules;
    pf->base = (unsigned char *)img->base;
    memcpy(pf->cls, img->cls, sizeof pf->cls);
    pf->space_cls = img->space_cls;
    pf->width = img->width;
    pf->out_first = img->out_first;
    pf->trans = (uint32_t *)img->trans;
    pf->trans16 = (uint16_t *)img->trans16;
    pf->out_magic = out_magic(img->width);
    pf->recs = (uint32_t *)img->recs;
    pf->outs = (uint32_t *)img->outs;
    pf->hit_words = img->hit_words;
    pf->rule_cl = (uint32_t *)img->rule_cl;
    pf->cl_at = (uint32_t *)img->cl_at;
    pf->cl_word = (uint32_t *)img->cl_word;
    pf->cl_mask = (uint64_t *)img->cl_mask;
    if (list_always(pf) != 0) {
        kl_prefilter_free(pf);
        return NULL;
    }
    return pf;
}

static int write_u16s(FILE *out, const char *name, const char *part, const uint16_t *v, size_t n)
{
    /* the transition table: rows of 64 bytes start on cache lines */
    fprintf(out, "static _Alignas(64) const uint16_t %s_%s[%zu] = {", name, part, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%u,", i % 24 ? "" : "\n", (unsigned)v[i]);
    if (!n)
        fputs("0", out);
    return fputs("};\n", out) < 0 ? -1 : 0;
}

static int write_u32s(FILE *out, const char *name, const char *part, const uint32_t *v, size_t n)
{
    /* 16-byte aligned: an output record never straddles cache lines */
    fprintf(out, "static _Alignas(16) const uint32_t %s_%s[%zu] = {", name, part, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%" PRIu32 ",", i % 16 ? "" : "\n", v[i]);
    if (!n)
        fputs("0", out);
    return fputs("};\n", out) < 0 ? -1 : 0;
}

int kl_prefilter_write_c(const struct kl_prefilter *pf, FILE *out, const char *name)
{
    if (!pf || !has_table(pf) || pf->borrowed)
        return -1;
    size_t nwords = pf->cl_at[pf->ncl];
    fprintf(out, "static const unsigned char %s_base[%zu] = {", name, pf->nrules ? pf->nrules : 1);
    for (size_t i = 0; i < pf->nrules; i++)
        fprintf(out, "%s%u,", i % 32 ? "" : "\n", pf->base[i]);
    if (!pf->nrules)
        fputs("0", out);
    fputs("};\n", out);
    if ((pf->trans16 ? write_u16s(out, name, "trans16", pf->trans16, pf->ntrans)
                     : write_u32s(out, name, "trans", pf->trans, pf->ntrans)) != 0 ||
        write_u32s(out, name, "recs", pf->recs, pf->nrecs) != 0 ||
        write_u32s(out, name, "outs", pf->outs, pf->nouts) != 0 ||
        write_u32s(out, name, "rule_cl", pf->rule_cl, pf->nrules + 1) != 0 ||
        write_u32s(out, name, "cl_at", pf->cl_at, pf->ncl + 1) != 0 ||
        write_u32s(out, name, "cl_word", pf->cl_word, nwords) != 0)
        return -1;
    fprintf(out, "static const uint64_t %s_cl_mask[%zu] = {", name, nwords ? nwords : 1);
    for (size_t i = 0; i < nwords; i++)
        fprintf(out, "%s0x%" PRIx64 "u,", i % 8 ? "" : "\n", pf->cl_mask[i]);
    if (!nwords)
        fputs("0", out);
    fputs("};\n", out);
    fprintf(out, "const kl_prefilter_image %s = {\n    %zu, %s_base, {", name, pf->nrules, name);
    for (size_t i = 0; i < 256; i++)
        fprintf(out, "%s%u,", i % 32 ? "" : "\n    ", pf->cls[i]);
    fprintf(out,
            "},\n    %" PRIu32 ", %" PRIu32 ", %" PRIu32 ", %s%s, %s%s, %s_recs, %s_outs, %zu,\n",
            pf->space_cls, pf->width, pf->out_first, pf->trans ? name : "NULL",
            pf->trans ? "_trans" : "", pf->trans16 ? name : "NULL", pf->trans16 ? "_trans16" : "",
            name, name, pf->hit_words);
    fprintf(out, "    %s_rule_cl, %s_cl_at, %s_cl_word, %s_cl_mask};\n", name, name, name, name);
    return ferror(out) ? -1 : 0;
}

void kl_rule_clauses_free(kl_rule *rule)
{
    for (size_t i = 0; i < rule->nclauses && !rule->clauses_borrowed; i++)
        clause_free(&rule->clauses[i]);
    if (!rule->clauses_borrowed)
        free(rule->triggers_desc);
    free(rule->clauses);
    rule->clauses = NULL;
    rule->nclauses = 0;
    rule->triggers_desc = NULL;
    rule->clauses_borrowed = 0;
}

kl_status kl_rule_set_clauses(kl_rule *rule, size_t nclauses, const uint32_t *clause_lits,
                              const char *const *lits, const char *desc)
{
    kl_clause *cl = calloc(nclauses ? nclauses : 1, sizeof *cl);
    if (!cl)
        return KL_ERR_NOMEM;
    /* the casts lend static strings that are only ever read: clauses
     * marked final are not derived (which folds literals in place) */
    for (size_t c = 0, k = 0; c < nclauses; k += clause_lits[c++]) {
        cl[c].lits = (char **)(uintptr_t)(lits + k);
        cl[c].nlits = clause_lits[c];
    }
    kl_rule_clauses_free(rule);
    rule->clauses = cl;
    rule->nclauses = nclauses;
    rule->clauses_final = 1;
    rule->clauses_borrowed = 1;
    rule->triggers_desc = (char *)(uintptr_t)desc;
    return KL_OK;
}

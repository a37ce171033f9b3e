/*
 * test_prefilter.c -- the literal prefilter: clauses derived from patterns
 * (by hand-written expectations), the Aho-Corasick scan against a naive
 * evaluation of the same clauses, and soundness: whenever a rule's regex
 * matches a text, the prefilter must let the rule run on it. Soundness is
 * checked on random patterns with random texts, and on the built-in rules
 * with sentences made from their examples (case changes, inserted and
 * dropped words, typographic apostrophes, KELVIN SIGN and LONG S, word
 * soup), both rule by rule against PCRE2 and as whole scans compared with
 * KINDLINT_NO_PREFILTER=1. The ASCII twins of patterns (compiled without
 * UTF, kl_pattern_compile_ascii) are checked against the patterns on the
 * ASCII texts of both kinds, every match with every group.
 */
#include "helpers.h"
#include "kl_internal.h"

#include <ctype.h>
#include <stdio.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (uint32_t)(rng_state % n) : 0;
}

static void rule_clear_clauses(kl_rule *r)
{
    for (size_t i = 0; i < r->nclauses; i++) {
        for (size_t j = 0; j < r->clauses[i].nlits; j++)
            free(r->clauses[i].lits[j]);
        free(r->clauses[i].lits);
    }
    free(r->clauses);
    free(r->triggers_desc);
    r->clauses = NULL;
    r->nclauses = 0;
    r->triggers_desc = NULL;
}

/* The description of the clauses derived from pattern ("" for none). */
static char *derive(const char *pattern)
{
    kl_rule r;
    memset(&r, 0, sizeof r);
    r.pattern = (char *)pattern;
    assert_int_equal(kl_rule_derive_clauses(&r), KL_OK);
    char *desc = strdup(r.triggers_desc ? r.triggers_desc : "");
    rule_clear_clauses(&r);
    return desc;
}

/* A rule set built by hand (no YAML), freed by kl_rules_free. */
static kl_rule *add_rule(kl_rules *set, const char *pattern)
{
    if (set->count == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 16;
        set->rules = realloc(set->rules, set->cap * sizeof *set->rules);
        assert_non_null(set->rules);
    }
    kl_rule *r = calloc(1, sizeof *r);
    assert_non_null(r);
    char id[32];
    snprintf(id, sizeof id, "r%zu", set->count);
    r->id = strdup(id);
    r->index = set->count;
    if (pattern) {
        r->pattern = strdup(pattern);
        kl_diag d;
        r->re = kl_pattern_compile(pattern, "t", id, "match", NULL, NULL, &d);
        if (r->re)
            pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
    }
    set->rules[set->count++] = r;
    return r;
}

static int has_fold_char(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if ((unsigned char)s[i] == 0xC5 && (unsigned char)s[i + 1] == 0xBF)
            return 1;
        if (i + 2 < n && (unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x84 &&
            (unsigned char)s[i + 2] == 0xAA)
            return 1;
    }
    return 0;
}

/* The length of the white space character at s (0: none): ASCII, and
 * every character PCRE2's \s matches with UCP (Unicode Z), written out
 * here independently of prefilter.c; and of a typographic apostrophe or
 * quote (*as: the ASCII one). */
static size_t space_len(const unsigned char *s, size_t n, char *as)
{
    static const char *const q[] = {"\xE2\x80\x99", "\xCA\xBC", "\xE2\x80\x98", "\xE2\x80\x9C",
                                    "\xE2\x80\x9D"};
    for (size_t k = 0; k < sizeof q / sizeof q[0]; k++) {
        size_t m = strlen(q[k]);
        if (m <= n && memcmp(s, q[k], m) == 0) {
            *as = k < 3 ? '\'' : '"';
            return m;
        }
    }
    *as = ' ';
    static const char *const u[] = {"\xC2\x85",     "\xC2\xA0",     "\xE1\x9A\x80", "\xE1\xA0\x8E",
                                    "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82", "\xE2\x80\x83",
                                    "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87",
                                    "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A", "\xE2\x80\xA8",
                                    "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80"};
    if (n && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
        return 1;
    for (size_t k = 0; k < sizeof u / sizeof u[0]; k++) {
        size_t m = strlen(u[k]);
        if (m <= n && memcmp(s, u[k], m) == 0)
            return m;
    }
    return 0;
}

/* s with each run of white space as one space and typographic quotes as
 * ASCII ones (caller frees). */
static char *fold_spaces(const char *s, size_t n, size_t *outlen)
{
    char *o = malloc(n + 1);
    size_t k = 0;
    assert_non_null(o);
    for (size_t i = 0; i < n;) {
        char as;
        size_t m = space_len((const unsigned char *)s + i, n - i, &as);
        if (m) {
            if (as != ' ' || !k || o[k - 1] != ' ')
                o[k++] = as;
            i += m;
        } else {
            o[k++] = s[i++];
        }
    }
    o[k] = '\0';
    *outlen = k;
    return o;
}

static int word_byte(unsigned char c)
{
    return isalnum(c) || c == '_';
}

/* Does the folded text hold the literal, with the word boundaries it is
 * marked with (\x01 at its start or end: the character before or after it
 * is not an ASCII letter, digit or '_'; only next to a letter or digit)? */
static int contains_marked(const char *hay, size_t n, const char *lit)
{
    char core[256];
    size_t m = 0;
    for (const char *p = lit; *p && m < sizeof core - 1; p++)
        if (*p != '\x01')
            core[m++] = *p;
    core[m] = '\0';
    size_t l = strlen(lit);
    int before = lit[0] == '\x01' && m && word_byte((unsigned char)core[0]);
    int after = l > 1 && lit[l - 1] == '\x01' && m && word_byte((unsigned char)core[m - 1]);
    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;
        while (j < m && tolower((unsigned char)hay[i + j]) == (unsigned char)core[j])
            j++;
        if (j < m)
            continue;
        if (before && i > 0 && word_byte((unsigned char)hay[i - 1]))
            continue;
        if (after && i + m < n && word_byte((unsigned char)hay[i + m]))
            continue;
        return 1;
    }
    return 0;
}

/* What the prefilter should say, evaluated the slow way: every clause has
 * a literal in the text, both with white space folded and ASCII case
 * ignored. */
static int naive_met(const kl_rule *r, const char *text, size_t n)
{
    if (has_fold_char(text, n))
        return 1;
    size_t fn;
    char *folded = fold_spaces(text, n, &fn);
    int met = 1;
    for (size_t c = 0; c < r->nclauses && met; c++) {
        int hit = 0;
        for (size_t j = 0; j < r->clauses[c].nlits && !hit; j++) {
            size_t ln;
            char *lit = fold_spaces(r->clauses[c].lits[j], strlen(r->clauses[c].lits[j]), &ln);
            for (char *p = lit; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            hit = contains_marked(folded, fn, lit);
            free(lit);
        }
        met = hit;
    }
    free(folded);
    return met;
}

/* Is the prefilter's answer for rule r the naive one? */
static int naive_agrees(const kl_rule *r, const char *text, size_t n, int cand)
{
    return naive_met(r, text, n) == cand;
}

/* Does re match text? Random patterns can backtrack badly: a match that
 * hits the (low) limit counts as no match, which only weakens the test. */
static pcre2_match_context *mctx;

static int regex_matches(pcre2_code *re, const char *text, size_t n, pcre2_match_data *md)
{
    if (!mctx) {
        mctx = pcre2_match_context_create(NULL);
        pcre2_set_match_limit(mctx, 20000);
    }
    int rc = pcre2_match(re, (PCRE2_SPTR)text, n, 0, 0, md, mctx);
    return rc >= 0;
}

static int is_ascii_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* Does the ASCII twin find in an ASCII text what re finds: each match of
 * the scanner's loop (on from the end of the last, a byte on after an
 * empty one), with every group? Returns the number of matches, or -1 when
 * a match limit cut in. */
static int twin_agrees(const pcre2_code *re, const pcre2_code *twin, const char *text, size_t n,
                       pcre2_match_data *a, pcre2_match_data *b, const char *what)
{
    if (!mctx) {
        mctx = pcre2_match_context_create(NULL);
        pcre2_set_match_limit(mctx, 20000);
    }
    int count = 0;
    for (size_t off = 0; off <= n;) {
        int x = pcre2_match(re, (PCRE2_SPTR)text, n, off, 0, a, mctx);
        int y = pcre2_match(twin, (PCRE2_SPTR)text, n, off, 0, b, mctx);
        if (x < PCRE2_ERROR_NOMATCH || y < PCRE2_ERROR_NOMATCH)
            return -1;
        if (x != y)
            fail_msg("%s on \"%s\" from %zu: %d, its ASCII twin %d", what, text, off, x, y);
        if (x < 0)
            break;
        const PCRE2_SIZE *va = pcre2_get_ovector_pointer(a), *vb = pcre2_get_ovector_pointer(b);
        for (int g = 0; g < 2 * x; g++)
            if (va[g] != vb[g])
                fail_msg("%s on \"%s\": group %d at %zu, in its ASCII twin at %zu", what, text,
                         g / 2, (size_t)va[g], (size_t)vb[g]);
        count++;
        off = va[1] > va[0] ? va[1] : va[1] + 1;
    }
    return count;
}

/* ------------------------------------------------------------------------ */
/* Derivation, case by case                                                  */
/* ------------------------------------------------------------------------ */

static void test_derive_table(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *want;
    } cases[] = {
        /* plain runs; the rarer literal first */
        {"\\byou\\s+never\\b", "\"\\byou never\\b\""},
        {"you never", "\"you never\""},
        {"Sorry", "\"sorry\""},
        /* ' matches its typographic forms too, which the folded text reads
         * as ' */
        {"\\bI'm\\s+sorry", "\"\\bi'm sorry\""},
        {"don'?t\\s+care", "(\"don't care\"|\"dont care\")"},
        {"\"nope\\b", "\"\\\"nope\\b\""}, /* a quote in a literal shows as \" */
        {"\\bjust\\s+relax\\b", "\"\\bjust relax\\b\""},
        /* alternation: one literal from every branch, or nothing */
        {"\\b(?:always|never)\\b", "(\"\\balways\\b\"|\"\\bnever\\b\")"},
        {"\\b(?:always|u)\\b", ""}, /* a letter alone is in most words */
        /* whole words that are not common count, though short */
        {"\\bur\\b", "\"\\bur\\b\""},
        {"\\bok\\b", ""},
        {"\\b(?:you|u)\\s+\\w+\\s+(?:idiot|fool)",
         "(\" idiot\"|\" fool\") & (\"\\byou \"|\"\\bu \")"},
        {"\\b(?:ur|u\\s*r)\\s+\\w+\\s+(?:idiot|fool)",
         "(\" idiot\"|\" fool\") & (\"\\bur \"|\"\\bu r \")"},
        {"(?:never|)\\s+again", "\" again\""},
        /* phrases: white space is one space, and a few alternatives multiply */
        {"(?:do|did)\\s++it\\s++too", "(\"do it too\"|\"did it too\")"},
        {"\\bat\\s*+least\\b", "(\"\\bat least\\b\"|\"\\batleast\\b\")"},
        {"calm\\s{2,}down", "\"calm down\""},
        {"\\bwell\\b,?\\s++maybe", "(\"\\bwell, maybe\"|\"\\bwell maybe\")"},
        {"(?=\\b[a-z])you(?!r)\\s++too", "\"you too\""},
        /* 11 x 48 phrases are too many for one clause: each becomes its word */
        {"(?:(?:aa|bb|cc|dd|ee|ff|gg|hh)(?:ii|jj|kk|ll|mm|nn)\\s++alpha|(?:aa|bb|cc|dd|ee|ff|gg|hh)"
         "(?:ii|jj|kk|ll|mm|nn)\\s++baker|(?:aa|bb|cc|dd|ee|ff|gg|hh)(?:ii|jj|kk|ll|mm|nn)\\s++"
         "charlie|(?:aa|bb|cc|dd|ee|ff|gg|hh)(?:ii|jj|kk|ll|mm|nn)\\s++delta|(?:aa|bb|cc|dd|ee|ff|"
         "gg|hh)(?:ii|jj|kk|ll|mm|nn)\\s++eagle|(?:aa|bb|cc|dd|ee|ff|gg|hh)(?:ii|jj|kk|ll|mm|nn)"
         "\\s++foxtrot|(?:aa|bb|cc|dd|ee|ff|gg|hh)(?:ii|jj|kk|ll|mm|nn)\\s++gamma|(?:aa|bb|cc|dd|"
         "ee|ff|gg|hh)(?:ii|jj|kk|ll|mm|nn)\\s++hotel|(?:aa|bb|cc|dd|ee|ff|gg|hh)(?:ii|jj|kk|ll|mm|"
         "nn)\\s++india|(?:aa|bb|cc|dd|ee|ff|gg|hh)(?:ii|jj|kk|ll|mm|nn)\\s++juliet|(?:aa|bb|cc|dd|"
         "ee|ff|gg|hh)(?:ii|jj|kk|ll|mm|nn)\\s++kappa)",
         "(\"alpha\"|\"baker\"|\"charlie\"|\"delta\"|\"eagle\"|\"foxtrot\"|\"gamma\"|\"hotel\"|"
         "\"india\"|\"juliet\"|\"kappa\")"},
        /* a branch with fewer clauses gives its best to each joined one */
        {"(?:alpha\\w+omega|beta)", "(\"alpha\"|\"beta\") & (\"omega\"|\"beta\")"},
        /* too many: the run starts again */
        {"(?:a|b|c|d|e|f|g)(?:a|b|c|d|e|f|g)(?:a|b|c|d|e|f|g)xyz",
         "(\"axyz\"|\"bxyz\"|\"cxyz\"|\"dxyz\"|\"exyz\"|\"fxyz\"|\"gxyz\")"},
        /* ... with the end the run's phrases share (7 x 20 phrases are
         * too many: " to " and the 20 are not) */
        {"(?:aa|bb|cc|dd|ee|ff|gg)\\s+to\\s+(?:ab|ac|ad|ae|af|ag|ah|ai|aj|ak|al|am|an|ao|ap|aq|ar|"
         "as|at|"
         "au)x",
         "(\" to abx\"|\" to acx\"|\" to adx\"|\" to aex\"|\" to afx\"|\" to agx\"|\" to ahx\"|"
         "\" to aix\"|\" to ajx\"|\" to akx\"|\" to alx\"|\" to amx\"|\" to anx\"|\" to aox\"|"
         "\" to apx\"|\" to aqx\"|\" to arx\"|\" to asx\"|\" to atx\"|\" to aux\") & (\"aa to \"|"
         "\"bb to \"|\"cc to \"|\"dd to \"|\"ee to \"|\"ff to \"|\"gg to \")"},
        {"(?:aab|bbb|cbb|dbb|ebb)\\s+(?:ab|ac|ad|ae|af|ag|ah|ai|aj|ak|al|am|an|ao|ap|aq|ar|as|at|"
         "au|av|aw|"
         "ax|ay|az|ba|bc|bd)x",
         "(\"b abx\"|\"b acx\"|\"b adx\"|\"b aex\"|\"b afx\"|\"b agx\"|\"b ahx\"|\"b aix\"|"
         "\"b ajx\"|\"b akx\"|\"b alx\"|\"b amx\"|\"b anx\"|\"b aox\"|\"b apx\"|\"b aqx\"|"
         "\"b arx\"|\"b asx\"|\"b atx\"|\"b aux\"|\"b avx\"|\"b awx\"|\"b axx\"|\"b ayx\"|"
         "\"b azx\"|\"b bax\"|\"b bcx\"|\"b bdx\") & (\"aab \"|\"bbb \"|\"cbb \"|\"dbb \"|"
         "\"ebb \")"},
        {"never|", ""},
        {"\\b(?:you|u)\\s+(?:always|never)",
         "(\"\\byou always\"|\"\\byou never\"|\"\\bu always\"|\"\\bu never\")"},
        /* a word boundary inside a literal is dropped, and one alone is none */
        {"\\bsay\\b\\s\\bwhat\\b", "\"\\bsay what\\b\""},
        {"\\b\\b", ""},
        {"(?:calm down|relax)", "(\"calm down\"|\"relax\")"},
        {"(?:abcd|abc|xyzw)", "(\"abc\"|\"xyzw\")"}, /* "abcd" holds "abc" */
        {"(?:that\\s+way|like\\s+that)", "(\"that way\"|\"like that\")"},
        {"overreact(?:ing)?", "\"overreact\""},
        /* a literal where the character before cannot be a word
         * character starts a word: the scan checks the boundary */
        {"you\\s+(?:so\\s+){0,3}(?:idiot|fool)", "(\"\\bidiot\"|\"\\bfool\") & \"you \""},
        {"^(?:idiot|fool)", "(\"\\bidiot\"|\"\\bfool\")"},
        {"\\Amoron", "\"\\bmoron\""},
        {"[.!]\\s*(?:so\\s+)*idiot", "\"\\bidiot\""},
        {"(?:yes|no)[,;]?(?:\\s*+\\w+)?\\s+fool", "\" fool\""},
        {"you\\w*(?:idiot|fool)", "(\"idiot\"|\"fool\") & \"you\""},
        {"x\\s+(?:a\\w+)?\\s*(?:idiot|fool)", "(\"idiot\"|\"fool\")"},
        {"(?<=\\s)(?:idiot|fool)", "(\"idiot\"|\"fool\")"},
        {"(?<![\\w'])(?:idiot|fool)", "(\"\\bidiot\"|\"\\bfool\")"},
        {"(?<!\\w)idiot", "\"\\bidiot\""},
        {"(?<![^\\w])idiot", "\"idiot\""},
        {"(?<![\\Q\\w\\E])idiot", "\"idiot\""},
        {"(?<!\\w|x)idiot", "\"idiot\""},
        /* after \\W, \\h, [^\\w...]: never a word character; \\D, \\W* and
         * [^\\W] prove nothing */
        {"ok\\W+idiot", "\"\\bidiot\""},
        {"ok\\h+idiot", "\"\\bidiot\""},
        {"[^\\w\\s]idiot", "\"\\bidiot\""},
        {"ok\\W\\s*idiot", "\"\\bidiot\""}, /* " idiot" or "idiot" */
        {"ok\\D+idiot", "\"idiot\""},
        {"ok\\W*idiot", "\"idiot\""},
        {"ok[^\\W]idiot", "\"idiot\""},
        /* white space in a small class is the folded text's one space */
        {"abc[\\s,]def", "(\"abc def\"|\"abc,def\")"},
        {"abc[ \\t]+def", "\"abc\" & \"def\""},
        {"know[\\s-]it", "(\"know it\"|\"know-it\")"},
        /* a group called where a word starts and where none need start */
        {"(?:so\\s+)+(?&w)(?(DEFINE)(?<w>idiot|fool))", "(\"\\bidiot\"|\"\\bfool\")"},
        {"(?:so\\s+)+(?&w)|z(?&w)(?(DEFINE)(?<w>idiot|fool))",
         "(\"\\bidiot\"|\"\\bfool\"|\"zidiot\"|\"zfool\")"},
        /* a group that is not a few strings: the run before it goes on
         * with the phrases its branches start with */
        {"you(?:'ve\\s+got\\s+to|\\s+(?:really\\s+){0,2}must)\\s+go",
         "(\"'ve got to\"|\"\\bmust\") & (\"you've got to\"|\"you \")"},
        {"you(?:\\s+(?:really\\s+){0,2}must|\\s+(?:just\\s+)?have\\s+to)+\\s+go",
         "(\"\\bmust\"|\" have to\") & \"you \""},
        {"youz(?:\\w+|ing)zz", "\"youz\""}, /* a branch that starts with no phrase */
        /* quantifiers */
        {"hello?world", "(\"helloworld\"|\"hellworld\")"},
        {"hel+o", "\"hel\""},
        {"a++bcd", "\"abcd\""},
        {"never{2}", "\"neverr\""},
        {"nev(?:er){2,3}", "\"never\""},
        {"(?:foo)?barbaz", "\"barbaz\""},
        {"(?:foo)*barbaz", "\"barbaz\""},
        {"(?:always )+wrong", "\"\\bwrong\" & \"always \""},
        {"(?:always ){0,2}wrong", "\"wrong\""},
        {"(?:nope)??", ""},
        /* a positive lookaround: the sentence holds what it requires */
        {"(?=never)abc", "\"abc\" & \"never\""},
        {"(*pla:never)abc", "\"abc\" & \"never\""},
        {"(*napla:.*never)abc", "\"abc\" & \"never\""},
        {"(*non_atomic_positive_lookahead:never)abc", "\"abc\" & \"never\""},
        {"(?=.*\\bnever\\b)", "\"\\bnever\\b\""},
        /* a class of a few characters is the strings it can be; the
         * typographic quotes are the ' and " the folded text has */
        {"[abc]lame", "(\"alame\"|\"blame\"|\"clame\")"},
        {"[]x]yes", "(\"]yes\"|\"xyes\")"},
        {"[\\]a]yes", "(\"]yes\"|\"ayes\")"},
        {"[Nn]ever", "\"never\""},
        {"you [\"\xE2\x80\x9C]", "\"you \\\"\""},
        {"you [\xE2\x80\x98\xE2\x80\x99]", "\"you '\""},
        {"\\x41bc", "\"abc\""},
        {"\\x{41}bcd", "\"abcd\""},
        /* an emoji is its bytes (no case); a quote mark by a space and an
         * emoji are rare enough to scan for */
        {"[\\x{1F644}\\x{1F612}]", "(\"\xF0\x9F\x99\x84\"|\"\xF0\x9F\x98\x92\")"},
        {"\xF0\x9F\x99\x84", "\"\xF0\x9F\x99\x84\""},
        {"\\x{1F644}!", "\"\xF0\x9F\x99\x84!\""},
        {"\\s['\"]\\w", "(\" '\"|\" \\\"\")"},
        {"a['\"]\\w", ""},
        {"\\x{10400}", ""},
        /* what contributes nothing */
        {"(?=never)?abc", "\"abc\""},
        {"(?:(?=never)abc)", "\"abc\""},
        {"(?:must|will(?=\\s+stop))\\s+stop", "(\"must stop\"|\"will stop\")"},
        {"(?!(?=never))abc", "\"abc\""},
        {"(*nla:never)abc", "\"abc\""},
        {"(*negative_lookahead:never)abc", "\"abc\""},
        {"(?!never)abc", "\"abc\""},
        {"(?<!not )sorry", "\"sorry\""},
        /* a lookbehind reads before the match, and each literal must lie
         * in what a match reads from its start on (ENTRY_BOUND) */
        {"(?<=oh )sorry", "\"sorry\""},
        {"(?<=really )sorry", "\"sorry\""},
        {"(*plb:really )sorry", "\"sorry\""},
        {"(*positive_lookbehind:really )sorry", "\"sorry\""},
        {"(*naplb:really )sorry", "\"sorry\""},
        {"(?<*really )sorry", "\"sorry\""},
        {"(?=.*(?<=really )sorry)", "\"sorry\""},
        {"[a-c]lame", "\"lame\""},
        {"[^]]yes", "\"yes\""},
        {"[[:alpha:]]yes", "\"yes\""},
        {"[\\sx]yes", "(\" yes\"|\"xyes\")"}, /* white space: one space */
        {"[ x]yes", "(\" yes\"|\"xyes\")"},
        {"[\xE9x]yes", "\"yes\""},
        {"[\xC3\xA9x]yes", "\"yes\""},
        {"[\\Q]\\E]yes", "\"yes\""},
        {"\\w+ness", "\"ness\""},
        {"\\p{L}+ish", "\"ish\""},
        {"\\p{L}ish", "\"ish\""},
        {"(never)\\1", "\"never\""},
        {"(?<w>never) \\k<w>", "\"never \""},
        {"(never) \\g{1}", "\"never \""},
        {"\\x20bcd", "\"bcd\""},
        {"\\xE9bcd", "\"bcd\""},
        {"\\101bc", ""},
        {"nev(?#comment)er", "\"never\""},
        {"caf\xC3\xA9s", "\"caf\""},
        {"a.b.c.def", "\"def\""},
        {"(?i)never", "\"never\""},
        {"(?-i:NeVer)", "\"never\""},
        {"(?s:never)", "\"never\""},
        {"(*UCP)never", "\"never\""},
        {"(?<act>listen|hear)", "(\"listen\"|\"hear\")"},
        {"(?P<act>listen)", "\"listen\""},
        {"(?'act'listen)", "\"listen\""},
        {"(?|(abc)|(abd))", "(\"abc\"|\"abd\")"},
        {"(?>atomic)", "\"atomic\""},
        {"\\Qa.b|c\\E", "\"a.b|c\""},
        {"\\Qabcde\\E?", "\"abcd\""},
        {"\\Qabcd\\E?x", "(\"abcdx\"|\"abcx\")"},
        {"x\\.y\\.z", "\"x.y.z\""},
        {"\\bk(?:ee)?p it up", "(\"\\bkeep it up\"|\"\\bkp it up\")"},
        {"abcdefghijklmnopqrstuvwxyz0123456789", "\"abcdefghijklmnopqrstuvwxyz\" & \"0123456789\""},
        /* (?x): white space and comments are not there; options are scoped */
        {"(?x) never", "\"never\""},
        {"(?x: n e v e r )", "\"never\""},
        {"(?x) sorry \\s+ you  # a comment | with ) in it\n | apologies",
         "(\"sorry you\"|\"apologies\")"},
        {"(?x) ab c +d", "\"abc\""},
        {"(?x) abc\\ def", "\"abc def\""},
        {"(?x) a b c d e (?-x) f g", "\"abcde f g\""},
        {"(?x: a b c ) d e f", "\"abc d e f\""},
        {"((?x) a b c ) d e f", "\"abc d e f\""},
        {"(?x)(?:a b c|(?-x)d e f| g h i)", "(\"abc\"|\"d e f\"|\" g h i\")"},
        {"(?x)abcd\xE2\x80\xA8?e", "(\"abcde\"|\"abce\")"},
        {"(?x)abcd\xC2\x85?e", "(\"abcde\"|\"abce\")"},
        {"(?x)[ #]abc", "(\" abc\"|\"#abc\")"}, /* (?x) keeps a class's space */
        {"(?x)\\#abc", "\"#abc\""},
        {"(?xi)abc", "\"abc\""},
        {"(?x-x) abc", "\" abc\""},
        {"(?x)(?^) abc", "\" abc\""},
        /* subroutine calls require what the group requires; DEFINE and
         * conditions require nothing */
        {"(?&w)\\s+never(?(DEFINE)(?<w>you|u))", "\"u never\""},
        {"(?&w)\\s+never(?(DEFINE)(?<w>always|forever))", "(\"always never\"|\"forever never\")"},
        {"(?(DEFINE)(?<a>xyz))abc(?&a)", "\"abcxyz\""},
        {"(?1)x(abc)", "\"abcxabc\""},
        {"(?<r>hello(?&r)?)", "\"hello\""},
        {"(?<r>a(?&r)b)c", ""},
        {"(?P<w>sorry) (?P>w)", "\"sorry sorry\""},
        {"\\g<w> (?<w>oops)", "\"oops oops\""},
        {"\\g'1' (oops)", "\"oops oops\""},
        {"(?J)(?<w>abc)(?<w>def)x(?&w)", "\"abcdefx\""},
        {"(?|(abc)|(abd))(?1)", "(\"abc\"|\"abd\")"},
        {"(?n)(abc)(xyz)(?1)", "\"abcxyz\""},
        {"(?(1)abc|def)", ""},
        {"(?(?=x)abc|abd)ghi", "\"ghi\""},
        {"(?(?<!x)abc)ghi", "\"ghi\""},
        {"(?x)(?&a)(?(DEFINE)(?<a> h e l l o ))", "\"hello\""},
        {"(?&a) (?x:(?<a> h e y o u ))", "\"heyou heyou\""},
        {"(?&nope)abc", "\"abc\""},
        /* beyond the reader: nothing derived at all */
        {"(*CR)(?x)abc # x\n def", ""},
        {"a{,3}never", ""},
        {"never{x}", ""},
        {"(*ACCEPT)never", ""},
        {"abc(?#x)?", ""},
        {"abc\\E?", ""},
        {"(?C1)abc", ""},
        {"\\12abc", ""},
        {"abc)", ""},
        {"(abc", ""},
    };
    size_t bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = derive(cases[i].pattern);
        if (strcmp(got, cases[i].want) != 0) {
            print_error("pattern %s: derived [%s], expected [%s]\n", cases[i].pattern, got,
                        cases[i].want);
            bad++;
        }
        free(got);
    }
    if (bad)
        fail_msg("%zu of %zu patterns derived otherwise", bad, sizeof cases / sizeof cases[0]);
}

static void test_derive_keeps_triggers(void **state)
{
    (void)state;
    static const struct {
        const char *lits[3];
        const char *want;
    } cases[] = {
        /* a derived clause the author's already says is not repeated */
        {{"you never", NULL, NULL}, "\"you never\""},
        {{"YOU  never", NULL, NULL}, "\"you never\""}, /* folded as the text is */
        /* a stronger one is added */
        {{"nev", NULL, NULL}, "\"nev\" & \"you never\""},
        {{"never", "nevr", NULL}, "(\"never\"|\"nevr\") & \"you never\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kl_rule r;
        memset(&r, 0, sizeof r);
        r.pattern = "you\\s+never";
        r.clauses = calloc(1, sizeof *r.clauses);
        r.clauses[0].lits = calloc(3, sizeof(char *));
        for (size_t j = 0; j < 3 && cases[i].lits[j]; j++)
            r.clauses[0].lits[r.clauses[0].nlits++] = strdup(cases[i].lits[j]);
        r.nclauses = 1;
        assert_int_equal(kl_rule_derive_clauses(&r), KL_OK);
        assert_string_equal(r.triggers_desc, cases[i].want);
        /* deriving again changes nothing */
        size_t n = r.nclauses;
        assert_int_equal(kl_rule_derive_clauses(&r), KL_OK);
        assert_string_equal(r.triggers_desc, cases[i].want);
        assert_int_equal(r.nclauses, n);
        rule_clear_clauses(&r);
    }
}

/* The only characters outside ASCII that PCRE2 (UTF, UCP, CASELESS) folds
 * to ASCII are U+212A KELVIN SIGN (k) and U+017F LONG S (s): the prefilter
 * relies on it. */
static void test_caseless_ascii_folds(void **state)
{
    (void)state;
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR) "^[\\x01-\\x7f]$", PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &err, &off, NULL);
    pcre2_code *lit = pcre2_compile((PCRE2_SPTR) "^(?:a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|"
                                                 "v|w|x|y|z)$",
                                    PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS,
                                    &err, &off, NULL);
    assert_non_null(re);
    assert_non_null(lit);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    for (uint32_t cp = 0x80; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        unsigned char u[4];
        size_t n;
        if (cp < 0x800) {
            u[0] = (unsigned char)(0xC0 | cp >> 6);
            u[1] = (unsigned char)(0x80 | (cp & 0x3F));
            n = 2;
        } else if (cp < 0x10000) {
            u[0] = (unsigned char)(0xE0 | cp >> 12);
            u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (unsigned char)(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            u[0] = (unsigned char)(0xF0 | cp >> 18);
            u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
            u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            u[3] = (unsigned char)(0x80 | (cp & 0x3F));
            n = 4;
        }
        int a = pcre2_match(re, u, n, 0, 0, md, NULL) >= 0;
        int b = pcre2_match(lit, u, n, 0, 0, md, NULL) >= 0;
        if ((a || b) && cp != 0x212A && cp != 0x17F)
            fail_msg("U+%04X matches an ASCII character caselessly", (unsigned)cp);
        if ((cp == 0x212A || cp == 0x17F) && !b)
            fail_msg("U+%04X no longer folds to ASCII", (unsigned)cp);
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    pcre2_code_free(lit);
}

/* ------------------------------------------------------------------------ */
/* The automaton                                                             */
/* ------------------------------------------------------------------------ */

/* Derives every rule's clauses and builds the set's prefilter. */
static void prefilter_ready(kl_rules *set)
{
    for (size_t i = 0; i < set->count; i++)
        assert_int_equal(kl_rule_derive_clauses(set->rules[i]), KL_OK);
    set->prefilter = kl_prefilter_build(set);
    assert_non_null(set->prefilter);
    set->compiled = 1;
}

/* The offset limit of each rule listed for a text: the end of the last
 * literal of its anchor clause there; none for a rule without clauses, one
 * whose anchor is its `triggers:`, or a text that makes every rule a
 * candidate. */
static void test_offset_limits(void **state)
{
    (void)state;
    kl_rules *set = kl_rules_new();
    add_rule(set, "\\byou\\s+never\\b");
    add_rule(set, "\\b(?:always|constantly)\\b");
    add_rule(set, "\\w+!!"); /* no clause */
    kl_rule *t = add_rule(set, "\\byou\\b.*\\bnever\\b");
    t->clauses = calloc(1, sizeof *t->clauses);
    assert_non_null(t->clauses);
    t->clauses[0].lits = calloc(1, sizeof(char *));
    assert_non_null(t->clauses[0].lits);
    t->clauses[0].lits[t->clauses[0].nlits++] = strdup("xylophone");
    t->nclauses = 1;
    t->triggered = 1;
    add_rule(set, "(?<=\\bwell )you\\s+never"); /* its lookbehind adds no clause */
    prefilter_ready(set);
    assert_string_equal(set->rules[4]->triggers_desc, "\"you never\"");
    enum { NR = 5, NO = 0 /* not listed */, ANY = -1 /* KL_NO_LIMIT */ };
    const struct {
        const char *text;
        long want[NR];
    } cases[] = {
        {"you never, and you  never listen", {25, NO, ANY, NO, 25}},
        {"always then constantly", {NO, 22, ANY, NO, NO}},
        {"constantly, always!", {NO, 18, ANY, NO, NO}},
        {"xylophone: you never", {20, NO, ANY, ANY, 20}},
        {"you\xC2\xA0never", {10, NO, ANY, NO, 10}},
        {"well, you never\xE2\x80\x99"
         "d",
         {15, NO, ANY, NO, 15}},
        {"\xE2\x84\xAA you never", {ANY, ANY, ANY, ANY, ANY}}, /* KELVIN SIGN */
    };
    unsigned char mark[NR] = {0};
    uint32_t list[NR], lim[NR];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = 0;
        kl_prefilter_text one = {cases[i].text, strlen(cases[i].text), mark, list, &n, lim};
        kl_prefilter_batch(set->prefilter, &one, 1);
        long got[NR] = {NO, NO, NO, NO, NO};
        for (size_t j = 0; j < n; j++)
            got[list[j]] = lim[list[j]] == KL_NO_LIMIT ? ANY : (long)lim[list[j]];
        for (size_t r = 0; r < NR; r++)
            if (got[r] != cases[i].want[r])
                fail_msg("\"%s\": rule %zu: offset limit %ld, want %ld", cases[i].text, r, got[r],
                         cases[i].want[r]);
    }
    kl_rules_free(set);
}

/* A literal that the pattern puts where a word starts is taken only at a
 * word start: "fool" after white space is not the "fool" of "tomfoolery". */
static void test_candidates_word_start(void **state)
{
    (void)state;
    kl_rules *set = kl_rules_new();
    add_rule(set, "you\\s+(?:so\\s+){0,2}(?:idiot|fool)");
    add_rule(set, "(?<![\\w'])(?:nitwit|dimwit)");
    add_rule(set, "[.!]\\s*(?:so\\s+)*sorry");
    add_rule(set, "\\b(?:u|ur)\\s+\\w+\\s+(?:dumb|lame)"); /* "\\bu ", "\\bur " */
    prefilter_ready(set);
    unsigned char cand[4];
    const struct {
        const char *text;
        unsigned char want[4];
    } cases[] = {
        {"you so fool", {1, 0, 0, 0}},
        {"you tomfoolery", {0, 0, 0, 0}},
        {"fool, you see", {1, 0, 0, 0}}, /* unordered, as ever */
        {"you 2fool", {0, 0, 0, 0}},
        {"you _fool", {0, 0, 0, 0}},
        {"you -fool", {1, 0, 0, 0}},
        {"you â"
         "fool",
         {1, 0, 0, 0}},                 /* a byte past ASCII before */
        {"Fool you see", {1, 0, 0, 0}}, /* at the start of the text */
        {"dimwit", {0, 1, 0, 0}},
        {"a dimwit", {0, 1, 0, 0}},
        {"the dimwits", {0, 1, 0, 0}},
        {"adimwit", {0, 0, 0, 0}},
        {"hi. sorry", {0, 0, 1, 0}},
        {"hi. unsorry", {0, 0, 0, 0}},
        /* a literal with a space starts a word too, however the text's
         * white space and quotes are written */
        {"ur so dumb", {0, 0, 0, 1}},
        {"(u r so lame)", {0, 0, 0, 1}},
        {"your so dumb", {0, 0, 0, 0}},
        {"you are so dumb", {0, 0, 0, 0}},
        {"tour  is dumb", {0, 0, 0, 0}},
        {"our\xC2\xA0so dumb", {0, 0, 0, 0}},
        {"our\tis  dumb", {0, 0, 0, 0}},
        {"so\xC2\xA0ur\xC2\xA0\xC2\xA0so dumb", {0, 0, 0, 1}},
        {"\xE2\x80\x9Cur so dumb", {0, 0, 0, 1}}, /* after a typographic quote */
        {"so,u are dumb", {0, 0, 0, 1}},
        {"2u are dumb", {0, 0, 0, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kl_prefilter_candidates(set->prefilter, cases[i].text, strlen(cases[i].text), cand);
        if (memcmp(cand, cases[i].want, 4) != 0)
            fail_msg("\"%s\": got %d%d%d%d", cases[i].text, cand[0], cand[1], cand[2], cand[3]);
        /* the prefilter never skips what a pattern matches */
        pcre2_match_data *md = pcre2_match_data_create(4, NULL);
        for (size_t r = 0; r < set->count; r++)
            if (!cand[r] &&
                regex_matches(set->rules[r]->re, cases[i].text, strlen(cases[i].text), md))
                fail_msg("\"%s\": rule %zu matches but was skipped", cases[i].text, r);
        pcre2_match_data_free(md);
    }
    kl_rules_free(set);
}

static void test_candidates_basic(void **state)
{
    (void)state;
    kl_rules *set = kl_rules_new();
    kl_rule *a = add_rule(set, "\\byou\\s+never\\b");
    kl_rule *b = add_rule(set, "\\b(?:always|constantly)\\b");
    kl_rule *c = add_rule(set, "\\w+!!"); /* no clause: always a candidate */
    kl_rule *k = add_rule(set, "\\bkeep\\s+calm\\b");
    kl_rule *j = add_rule(set, "jazz|\xF0\x9F\x99\x84");
    prefilter_ready(set);
    assert_int_equal(c->nclauses, 0);
    assert_null(c->triggers_desc);
    unsigned char cand[5];
    const struct {
        const char *text;
        unsigned char want[5];
    } cases[] = {
        {"I never said that", {0, 0, 1, 0, 0}},
        {"YOU NEVER LISTEN", {1, 0, 1, 0, 0}},
        {"never, you say?", {0, 0, 1, 0, 0}},      /* "you never" is a phrase */
        {"you\t \n never", {1, 0, 1, 0, 0}},       /* white space folds to one space */
        {"you\xC2\xA0never", {1, 0, 1, 0, 0}},     /* NO-BREAK SPACE is white space */
        {"you\xE2\x80\x89never", {1, 0, 1, 0, 0}}, /* THIN SPACE */
        {"you\xE2\x80\x99never", {0, 0, 1, 0, 0}}, /* RIGHT SINGLE QUOTATION MARK is not */
        {"youne ver", {0, 0, 1, 0, 0}},
        {"keep  calm", {0, 0, 1, 1, 0}},
        {"You Always do this", {0, 1, 1, 0, 0}},
        {"constantly you never", {1, 1, 1, 0, 0}},
        {"Keep calm", {0, 0, 1, 1, 0}},
        {"\xE2\x84\xAA"
         "eep calm",
         {1, 1, 1, 1, 1}}, /* KELVIN SIGN: every rule */
        {"\xC5\xBF"
         "o",
         {1, 1, 1, 1, 1}},                                /* LONG S */
        {"you never sang \xE2\x84\xAA", {1, 1, 1, 1, 1}}, /* after other phrases */
        {"", {0, 0, 1, 0, 0}},
        /* j, q, x and z (those in phrases) share a class, and so do the
         * bytes past ASCII: a phrase also stands for the strings with
         * others of its class in their place, which the text seldom holds */
        {"All that JAZZ", {0, 0, 1, 0, 1}},
        {"a zajj", {0, 0, 1, 0, 1}},
        {"a buzz", {0, 0, 1, 0, 0}},
        {"eye roll \xF0\x9F\x99\x84", {0, 0, 1, 0, 1}},
        {"\xF0\x9F\x84\x99", {0, 0, 1, 0, 1}},
        {"\xF0\x9F\x98\x8A", {0, 0, 1, 0, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kl_prefilter_candidates(set->prefilter, cases[i].text, strlen(cases[i].text), cand);
        if (memcmp(cand, cases[i].want, 5) != 0)
            fail_msg("\"%s\": got %d%d%d%d%d", cases[i].text, cand[0], cand[1], cand[2], cand[3],
                     cand[4]);
    }
    (void)a;
    (void)b;
    (void)k;
    (void)j;
    kl_rules_free(set);
}

static void test_no_prefilter_env(void **state)
{
    (void)state;
    kl_rules *set = kl_rules_new();
    add_rule(set, "\\byou\\s+never\\b");
    assert_int_equal(kl_rule_derive_clauses(set->rules[0]), KL_OK);
    setenv("KINDLINT_NO_PREFILTER", "1", 1);
    set->prefilter = kl_prefilter_build(set);
    unsetenv("KINDLINT_NO_PREFILTER");
    assert_non_null(set->prefilter);
    unsigned char cand[1] = {0};
    kl_prefilter_candidates(set->prefilter, "hello", 5, cand);
    assert_int_equal(cand[0], 1);
    kl_rules_free(set);
}

/* Random clauses over a small alphabet, random texts over the same: the
 * automaton must agree with a naive substring check exactly. */
/* Is the automaton's table the 16-bit one? (Its C form says.) */
static int table_is_narrow(const struct kl_prefilter *pf)
{
    char *c = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&c, &n);
    assert_non_null(f);
    assert_int_equal(kl_prefilter_write_c(pf, f, "t"), 0);
    fclose(f);
    int narrow = strstr(c, "t_trans16[") != NULL;
    assert_int_not_equal(narrow, strstr(c, "t_trans[") != NULL);
    free(c);
    return narrow;
}

/* A random text for test_automaton_matches_naive (t: its number) into
 * text (160 bytes): the alphabet, with the characters the scan folds or
 * that make every rule a candidate; in a set of long literals (big), one
 * of them. One in four is long: more output states than a batch holds. */
static size_t random_text(const kl_rules *set, int big, char *text, int t)
{
    static const char alpha[] = "abcsk AB_9";
    size_t len = rnd(t % 4 == 0 ? 95 : 40), n = 0;
    const kl_rule *from = set->rules[rnd((uint32_t)set->count)];
    if (big && from->nclauses) {
        /* a literal of the set, so long ones are found too */
        const kl_clause *cl = &from->clauses[rnd((uint32_t)from->nclauses)];
        for (const char *q = cl->lits[rnd((uint32_t)cl->nlits)]; *q; q++)
            if (*q != '\x01')
                text[n++] = rnd(2) ? (char)toupper((unsigned char)*q) : *q;
        len += n;
    }
    while (n < len) {
        uint32_t p = rnd(100);
        if (p == 0 && n + 3 <= len) {
            memcpy(text + n, "\xE2\x84\xAA", 3);
            n += 3;
        } else if (p == 1 && n + 2 <= len) {
            memcpy(text + n, "\xC5\xBF", 2);
            n += 2;
        } else if (p == 2) {
            text[n++] = (char)0xE2; /* a lone lead byte */
        } else if (p < 6 && n + 2 <= len) {
            memcpy(text + n, "\xC2\xA0", 2); /* NO-BREAK SPACE */
            n += 2;
        } else if (p < 9) {
            text[n++] = p == 6 ? '\t' : '\n';
        } else {
            text[n++] = alpha[rnd(sizeof alpha - 1)];
        }
    }
    return n;
}

/* The last two rounds have long literals: an automaton of more than 65535
 * states, whose table is 32-bit. */
static void test_automaton_matches_naive(void **state)
{
    (void)state;
    static const char alpha[] = "abcsk AB_9";
    for (int round = 0; round < 22; round++) {
        kl_rules *set = kl_rules_new();
        int big = round >= 20;
        size_t nrules = big ? 600 : 1 + rnd(300);
        for (size_t i = 0; i < nrules; i++) {
            kl_rule *r = add_rule(set, NULL);
            r->nclauses = rnd(9); /* 0..8 */
            r->clauses = calloc(r->nclauses + 1, sizeof *r->clauses);
            for (size_t c = 0; c < r->nclauses; c++) {
                kl_clause *cl = &r->clauses[c];
                cl->nlits = 1 + rnd(4);
                cl->lits = calloc(cl->nlits, sizeof(char *));
                for (size_t j = 0; j < cl->nlits; j++) {
                    size_t len = 1 + rnd(big ? 60 : 5);
                    char *s = calloc(len + 3, 1);
                    for (size_t q = 0; q < len; q++)
                        s[q] = (char)tolower((unsigned char)alpha[rnd(sizeof alpha - 1)]);
                    /* word boundaries at an edge, now and then */
                    if (rnd(3) == 0) {
                        memmove(s + 1, s, len + 1);
                        s[0] = '\x01';
                        len++;
                    }
                    if (rnd(3) == 0)
                        s[len] = '\x01';
                    cl->lits[j] = s;
                }
            }
        }
        set->prefilter = kl_prefilter_build(set);
        assert_non_null(set->prefilter);
        assert_int_equal(table_is_narrow(set->prefilter), !big);
        /* the texts, in batches of 1 to 9 (passes in step, and a text
         * taken when the one before is done) */
        enum { MAXB = 9 };
        char text[MAXB][160];
        unsigned char *cand = malloc(nrules), *mark[MAXB];
        uint32_t *list[MAXB];
        size_t count[MAXB];
        kl_prefilter_text pt[MAXB];
        for (int k = 0; k < MAXB; k++) {
            mark[k] = calloc(1, nrules);
            list[k] = malloc(nrules * sizeof *list[k]);
            assert_non_null(mark[k]);
            assert_non_null(list[k]);
        }
        for (int t = 0; t < (big ? 150 : 300);) {
            size_t nb = 1 + rnd(MAXB);
            for (size_t k = 0; k < nb; k++, t++)
                pt[k] = (kl_prefilter_text){
                    text[k], random_text(set, big, text[k], t), mark[k], list[k], &count[k], NULL};
            kl_prefilter_batch(set->prefilter, pt, nb);
            for (size_t k = 0; k < nb; k++) {
                memset(cand, 0, nrules);
                for (size_t j = 0; j < count[k]; j++)
                    cand[list[k][j]] = 1;
                for (size_t i = 0; i < nrules; i++)
                    if (!naive_agrees(set->rules[i], text[k], pt[k].len, cand[i]))
                        fail_msg("round %d rule %zu text \"%.*s\" (%zu of a batch of %zu): "
                                 "prefilter %d",
                                 round, i, (int)pt[k].len, text[k], k, nb, cand[i]);
            }
        }
        for (int k = 0; k < MAXB; k++) {
            free(mark[k]);
            free(list[k]);
        }
        free(cand);
        kl_rules_free(set);
    }
}

/* ------------------------------------------------------------------------ */
/* Soundness on random patterns                                              */
/* ------------------------------------------------------------------------ */

typedef struct gen {
    kl_buf re;   /* the pattern */
    kl_buf text; /* a text meant to match it (often does) */
    int groups;
    int depth;
    int ext;    /* under (?x): white space and comments between atoms */
    int define; /* (?&d0) was used: the pattern ends with its DEFINE */
} gen;

/* Under (?x), something PCRE2 ignores, now and then. */
static void gen_space(gen *g)
{
    static const char *const sp[] = {" ", "\n  ", "\t", " # note | ) ( [\n", "\xE2\x80\xA8"};
    if (g->ext && rnd(3) == 0)
        kl_buf_puts(&g->re, sp[rnd(sizeof sp / sizeof sp[0])]);
}

static const char *const gen_words[] = {"you", "never", "always", "sorry", "kiss",
                                        "ok",  "so",    "ask",    "a",     "b"};

static void gen_word_case(kl_buf *b, const char *w)
{
    for (; *w; w++) {
        char c = *w;
        kl_buf_putc(b, rnd(4) == 0 ? (char)toupper((unsigned char)c) : c);
    }
}

static void gen_alt(gen *g);

static void gen_atom(gen *g)
{
    uint32_t k = rnd(g->depth > 3 ? 10 : 26);
    const char *w = gen_words[rnd(sizeof gen_words / sizeof gen_words[0])];
    size_t before = g->text.len;
    gen_space(g);
    switch (k) {
    case 0:
    case 1:
    case 2:
    case 3:
        for (const char *c = w; *c; c++) { /* "ne ver" is "never" under (?x) */
            char one[2] = {*c, '\0'};
            gen_word_case(&g->re, one);
            if (c[1])
                gen_space(g);
        }
        gen_word_case(&g->text, w);
        break;
    case 4: {
        /* white space, which the prefilter folds to one space */
        static const char *const re[] = {"\\s+", "\\s", "\\s*", "\\s{2}", "\\ ", "\\s?"};
        static const char *const ws[] = {" ",    "\t",           "  ",          "\xC2\xA0",
                                         " \n ", "\xE2\x80\x89", "\xE3\x80\x80"};
        uint32_t v = rnd(sizeof re / sizeof re[0]);
        kl_buf_puts(&g->re, re[v]);
        if (v == 3) {
            kl_buf_puts(&g->text, ws[rnd(sizeof ws / sizeof ws[0])]);
            kl_buf_puts(&g->text, rnd(2) ? " " : "\t");
        } else if (v == 4) {
            kl_buf_putc(&g->text, ' ');
        } else if (!(v == 2 || v == 5) || rnd(2)) {
            kl_buf_puts(&g->text,
                        v == 1 ? (rnd(2) ? "\t" : "\xC2\xA0") : ws[rnd(sizeof ws / sizeof ws[0])]);
        }
        break;
    }
    case 5: kl_buf_puts(&g->re, "\\b"); break;
    case 6:
        kl_buf_puts(&g->re, "[sk]");
        kl_buf_putc(&g->text, rnd(2) ? 's' : 'K');
        break;
    case 7:
        kl_buf_puts(&g->re, "'");
        kl_buf_puts(&g->text, rnd(2) ? "'" : "\xE2\x80\x99");
        break;
    case 8:
        kl_buf_puts(&g->re, "\\w");
        kl_buf_putc(&g->text, 'x');
        break;
    case 9:
        kl_buf_puts(&g->re, ".");
        kl_buf_putc(&g->text, '.');
        break;
    case 10:
    case 11:
        g->depth++;
        kl_buf_puts(&g->re, rnd(2) ? "(?:" : (g->groups++, "("));
        gen_alt(g);
        kl_buf_putc(&g->re, ')');
        g->depth--;
        break;
    case 12:
        g->depth++;
        kl_buf_puts(&g->re, rnd(2) ? "(?=" : "(?!");
        {
            size_t t = g->text.len;
            gen_alt(g);
            g->text.len = t; /* lookaheads consume nothing */
        }
        kl_buf_putc(&g->re, ')');
        g->depth--;
        break;
    case 13:
        if (g->groups) {
            kl_buf_printf(&g->re, "\\%d", 1 + (int)rnd((uint32_t)g->groups));
            break;
        }
        /* fall through */
    case 14:
        kl_buf_puts(&g->re, "\\Q");
        kl_buf_puts(&g->re, w);
        kl_buf_puts(&g->re, "|(\\E");
        kl_buf_puts(&g->text, w);
        kl_buf_puts(&g->text, "|(");
        break;
    case 15:
        kl_buf_printf(&g->re, "(?i:%s)", w);
        kl_buf_puts(&g->text, w);
        break;
    case 16:
        kl_buf_printf(&g->re, "(?<=%s)", w); /* the text before may hold it */
        break;
    case 17:
    case 18:
        g->depth++;
        if (rnd(2)) {
            kl_buf_puts(&g->re, "(?>");
        } else {
            kl_buf_printf(&g->re, "(?<n%d>", g->groups);
            g->groups++;
        }
        gen_alt(g);
        kl_buf_putc(&g->re, ')');
        g->depth--;
        break;
    case 19:
        if (rnd(2)) {
            kl_buf_printf(&g->re, "(?&n%u)", rnd((uint32_t)g->groups + 2));
        } else {
            kl_buf_puts(&g->re, "(?&d0)");
            kl_buf_puts(&g->text, "sorry");
            g->define = 1;
        }
        break;
    case 22: /* no word character before: a word starts after it */
        kl_buf_puts(&g->re, rnd(2) ? "(?<![\\w'])" : "(?<!\\w)");
        break;
    case 23: kl_buf_puts(&g->re, rnd(2) ? "^" : "\\A"); break;
    case 24:
        kl_buf_puts(&g->re, rnd(2) ? "[,;]" : "-");
        kl_buf_putc(&g->text, rnd(2) ? ',' : '-');
        break;
    case 25: { /* never a word character: a word starts after it */
        static const char *const re[] = {"\\W", "[^\\w\\s]", "\\W+", "\\h", "[\\s-]", "[ ,]"};
        static const char text[] = {',', '!', ',', ' ', '\t', ' '};
        uint32_t v = rnd(sizeof re / sizeof re[0]);
        kl_buf_puts(&g->re, re[v]);
        kl_buf_putc(&g->text, rnd(4) ? text[v] : '-');
        break;
    }
    default:
        kl_buf_puts(&g->re, rnd(2) ? "[^a]" : "\\x{61}");
        kl_buf_putc(&g->text, rnd(2) ? 'a' : 'b');
        break;
    }
    /* a quantifier on the atom now and then (the text repeats it) */
    size_t alen = g->text.len - before;
    char piece[256];
    if (alen >= sizeof piece)
        alen = 0;
    memcpy(piece, g->text.data ? g->text.data + before : "", alen);
    gen_space(g);
    switch (rnd(12)) {
    case 0:
        kl_buf_putc(&g->re, '?');
        if (rnd(2))
            g->text.len = before;
        break;
    case 1:
        kl_buf_putc(&g->re, '*');
        if (rnd(2))
            g->text.len = before;
        break;
    case 2:
        kl_buf_putc(&g->re, '+');
        if (rnd(2))
            kl_buf_append(&g->text, piece, alen);
        break;
    case 3:
        kl_buf_puts(&g->re, "{2}");
        kl_buf_append(&g->text, piece, alen);
        break;
    case 4: kl_buf_puts(&g->re, "{1,3}?"); break;
    default: break;
    }
}

static void gen_seq(gen *g)
{
    size_t n = 1 + rnd(4);
    for (size_t i = 0; i < n; i++)
        gen_atom(g);
}

static void gen_alt(gen *g)
{
    size_t nb = rnd(3) == 0 ? 2 + rnd(2) : 1;
    size_t pick = rnd((uint32_t)nb);
    for (size_t b = 0; b < nb; b++) {
        if (b)
            kl_buf_putc(&g->re, '|');
        size_t t = g->text.len;
        gen_seq(g);
        if (b != pick)
            g->text.len = t; /* the text follows one branch */
    }
}

/* A text mutated: case flips, letters swapped for their non-ASCII folds,
 * a word of noise inserted, words run together (a word start inside a
 * word). */
static void mutate(kl_buf *out, const char *s, size_t n)
{
    uint32_t how = rnd(7);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (how == 0 && rnd(3) == 0)
            c = (char)(isupper((unsigned char)c) ? tolower((unsigned char)c)
                                                 : toupper((unsigned char)c));
        if (how == 1 && (c == 'k' || c == 'K') && rnd(2)) {
            kl_buf_puts(out, "\xE2\x84\xAA");
            continue;
        }
        if (how == 2 && (c == 's' || c == 'S') && rnd(2)) {
            kl_buf_puts(out, "\xC5\xBF");
            continue;
        }
        if (how == 3 && c == ' ' && rnd(3) == 0)
            kl_buf_puts(out, " so ");
        if (how == 4 && c == ' ' && rnd(2)) {
            kl_buf_puts(out, rnd(2) ? "\t\xC2\xA0" : "\xE2\x80\xA8");
            continue;
        }
        if (how == 5 && (c == ' ' || c == ',' || c == '-') && rnd(2))
            continue;
        kl_buf_putc(out, c);
    }
}

/* The matches of re in s one after another, as the scan takes them (from
 * the end of each, a character on after an empty one), within the offset
 * limit lim (KL_NO_LIMIT: none), into ov (pairs, at most max). Returns how
 * many, or -1 on a PCRE2 error. */
static int all_matches(const pcre2_code *re, const char *s, size_t len, uint32_t lim, size_t *ov,
                       int max)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    assert_non_null(md);
    assert_non_null(mc);
    pcre2_set_match_limit(mc, KL_MATCH_LIMIT);
    pcre2_set_offset_limit(mc, lim == KL_NO_LIMIT ? PCRE2_UNSET : lim);
    int n = 0;
    size_t off = 0;
    while (off <= len && n < max) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, len, off, 0, md, mc);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            n = -1;
            break;
        }
        PCRE2_SIZE *v = pcre2_get_ovector_pointer(md);
        ov[2 * n] = v[0];
        ov[2 * n + 1] = v[1];
        n++;
        off = v[1] > v[0] ? v[1] : v[1] + 1;
        while (off < len && ((unsigned char)s[off] & 0xC0) == 0x80)
            off++;
    }
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    return n;
}

/* Each rule the batch lists with an offset limit (lim) finds within it
 * every match it finds without one. Returns the rules checked. */
static size_t check_limits(const kl_rules *set, const kl_prefilter_text *pt)
{
    size_t checked = 0;
    for (size_t j = 0; j < *pt->n; j++) {
        uint32_t r = pt->list[j];
        if (pt->lim[r] == KL_NO_LIMIT)
            continue;
        assert_true(pt->lim[r] >= 1 && pt->lim[r] <= pt->len);
        size_t want[64], got[64];
        int nw = all_matches(set->rules[r]->re, pt->text, pt->len, KL_NO_LIMIT, want, 32);
        int ng = all_matches(set->rules[r]->re, pt->text, pt->len, pt->lim[r], got, 32);
        if (nw != ng || (nw > 0 && memcmp(want, got, 2 * (size_t)nw * sizeof *want) != 0))
            fail_msg("rule %s (%s) on \"%s\": %d matches, %d within the offset limit %u",
                     set->rules[r]->id, set->rules[r]->triggers_desc, pt->text, nw, ng, pt->lim[r]);
        checked++;
    }
    return checked;
}

static void test_random_patterns_sound(void **state)
{
    (void)state;
    pcre2_match_data *md = pcre2_match_data_create(16, NULL);
    pcre2_match_data *md2 = pcre2_match_data_create(16, NULL);
    size_t matched = 0, filtered = 0, checked_rules = 0, limited = 0;
    size_t ntwins = 0, twin_runs = 0, twin_matches = 0;
    for (int round = 0; round < 8; round++) {
        kl_rules *set = kl_rules_new();
        pcre2_code *twins[400] = {NULL};
        kl_buf texts[400];
        size_t ntexts = 0;
        for (int i = 0; i < 400; i++) {
            gen g;
            memset(&g, 0, sizeof g);
            kl_buf_init(&g.re);
            kl_buf_init(&g.text);
            if (rnd(3) == 0) {
                g.ext = 1;
                kl_buf_puts(&g.re, "(?x)");
            }
            gen_alt(&g);
            if (g.define)
                kl_buf_puts(&g.re, "(?(DEFINE)(?<d0>sorry|kisses))");
            kl_buf_putc(&g.re, '\0');
            kl_buf_putc(&g.text, '\0');
            kl_rule *r = add_rule(set, g.re.data);
            if (!r->re) { /* e.g. a back reference to a later group */
                kl_buf_free(&g.re);
                kl_buf_free(&g.text);
                free(r->id);
                free(r->pattern);
                free(r);
                set->count--;
                continue;
            }
            assert_int_equal(kl_rule_derive_clauses(r), KL_OK);
            twins[set->count - 1] = kl_pattern_compile_ascii(g.re.data);
            if (twins[set->count - 1]) {
                pcre2_jit_compile(twins[set->count - 1], PCRE2_JIT_COMPLETE);
                ntwins++;
            }
            checked_rules++;
            texts[ntexts] = g.text;
            ntexts++;
            kl_buf_free(&g.re);
        }
        set->prefilter = kl_prefilter_build(set);
        assert_non_null(set->prefilter);
        unsigned char *cand = malloc(set->count), *mark = calloc(1, set->count);
        uint32_t *list = malloc(set->count * sizeof *list), *lim = malloc(set->count * sizeof *lim);
        assert_true(cand && mark && list && lim);
        for (size_t t = 0; t < ntexts; t++) {
            for (int m = 0; m < 4; m++) {
                kl_buf text;
                kl_buf_init(&text);
                if (m == 0)
                    kl_buf_puts(&text, texts[t].data);
                else
                    mutate(&text, texts[t].data, strlen(texts[t].data));
                if (m == 3) { /* two texts run together */
                    kl_buf_putc(&text, ' ');
                    kl_buf_puts(&text, texts[rnd((uint32_t)ntexts)].data);
                }
                kl_buf_putc(&text, '\0');
                size_t len = strlen(text.data);
                kl_prefilter_candidates(set->prefilter, text.data, len, cand);
                size_t nlisted = 0;
                kl_prefilter_text one = {text.data, len, mark, list, &nlisted, lim};
                kl_prefilter_batch(set->prefilter, &one, 1);
                limited += check_limits(set, &one);
                for (size_t i = 0; i < set->count; i++) {
                    const kl_rule *r = set->rules[i];
                    int hit = regex_matches(r->re, text.data, len, md);
                    matched += hit;
                    filtered += !cand[i];
                    if (hit && !cand[i])
                        fail_msg("pattern %s matches \"%s\" but the prefilter (%s) skips it",
                                 r->pattern, text.data, r->triggers_desc);
                    if (!naive_agrees(r, text.data, len, cand[i]))
                        fail_msg("automaton and naive check differ on %s / \"%s\"", r->pattern,
                                 text.data);
                    if (twins[i] && is_ascii_text(text.data)) {
                        int k = twin_agrees(r->re, twins[i], text.data, len, md, md2, r->pattern);
                        twin_matches += k > 0 ? (size_t)k : 0;
                        twin_runs++;
                    }
                }
                kl_buf_free(&text);
            }
        }
        for (size_t t = 0; t < ntexts; t++)
            kl_buf_free(&texts[t]);
        free(cand);
        free(mark);
        free(list);
        free(lim);
        for (size_t i = 0; i < set->count; i++)
            pcre2_code_free(twins[i]);
        kl_rules_free(set);
    }
    pcre2_match_data_free(md);
    pcre2_match_data_free(md2);
    /* the test means something only if both happen a lot */
    assert_true(matched > 1000);
    assert_true(filtered > 10000);
    assert_true(twin_matches > 1000);
    assert_true(limited > 10000);
    print_message("random patterns: %zu rules, %zu matches, %zu rule runs skipped, %zu with an "
                  "offset limit that loses no match\n",
                  checked_rules, matched, filtered, limited);
    print_message("ASCII twins: %zu of %zu rules, %zu runs on ASCII texts, %zu matches alike\n",
                  ntwins, checked_rules, twin_runs, twin_matches);
}

/* ------------------------------------------------------------------------ */
/* Soundness on the built-in rules                                           */
/* ------------------------------------------------------------------------ */

typedef struct text_list {
    char **items;
    size_t n, cap;
} text_list;

static void texts_add(text_list *l, const char *s, size_t n)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->items = realloc(l->items, l->cap * sizeof *l->items);
        assert_non_null(l->items);
    }
    char *p = malloc(n + 1);
    assert_non_null(p);
    memcpy(p, s, n);
    p[n] = '\0';
    l->items[l->n++] = p;
}

/* Splits s into words (by spaces) into w, at most max. */
static size_t split_words(const char *s, char w[][48], size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        while (*s == ' ')
            s++;
        size_t k = 0;
        while (s[k] && s[k] != ' ')
            k++;
        if (k && k < 48) {
            memcpy(w[n], s, k);
            w[n][k] = '\0';
            n++;
        }
        s += k;
    }
    return n;
}

/* Variations on an example sentence. */
static void vary(text_list *out, const char *s, char vocab[][48], size_t nvocab)
{
    kl_buf b;
    size_t n = strlen(s);
    texts_add(out, s, n);
    /* all upper, all lower, random case */
    for (int mode = 0; mode < 3; mode++) {
        kl_buf_init(&b);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            int up = mode == 0 || (mode == 2 && rnd(2));
            kl_buf_putc(&b, (char)(up ? toupper(c) : tolower(c)));
        }
        texts_add(out, b.data, b.len);
        kl_buf_free(&b);
    }
    /* apostrophes and quotes in their typographic forms, and back */
    static const char *const apos[] = {"\xE2\x80\x99", "\xCA\xBC", "\xE2\x80\x98", "'"};
    for (int v = 0; v < 4; v++) {
        kl_buf_init(&b);
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '\'' || (i + 2 < n && memcmp(s + i, "\xE2\x80\x99", 3) == 0)) {
                kl_buf_puts(&b, apos[v]);
                i += s[i] == '\'' ? 0 : 2;
            } else if (s[i] == '"') {
                kl_buf_puts(&b, v % 2 ? "\xE2\x80\x9C" : "\xE2\x80\x9D");
            } else {
                kl_buf_putc(&b, s[i]);
            }
        }
        texts_add(out, b.data, b.len);
        kl_buf_free(&b);
    }
    /* KELVIN SIGN and LONG S for k and s */
    kl_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == 'k' || s[i] == 'K')
            kl_buf_puts(&b, "\xE2\x84\xAA");
        else if (s[i] == 's')
            kl_buf_puts(&b, "\xC5\xBF");
        else
            kl_buf_putc(&b, s[i]);
    }
    texts_add(out, b.data, b.len);
    kl_buf_free(&b);
    /* a word inserted, a word dropped, words doubled */
    char w[64][48];
    size_t nw = split_words(s, w, 64);
    for (int v = 0; v < 6 && nw; v++) {
        kl_buf_init(&b);
        size_t at = rnd((uint32_t)nw + 1), drop = rnd((uint32_t)nw);
        for (size_t i = 0; i <= nw; i++) {
            if (i == at && nvocab)
                kl_buf_printf(&b, "%s ", vocab[rnd((uint32_t)nvocab)]);
            if (i < nw && !(v % 3 == 1 && i == drop))
                kl_buf_printf(&b, "%s ", w[i]);
            if (i < nw && v % 3 == 2 && i == drop)
                kl_buf_printf(&b, "%s ", w[i]);
        }
        texts_add(out, b.data, b.len ? b.len - 1 : 0);
        kl_buf_free(&b);
    }
}

/* Every word of every example of the set's rules, at most max, into vocab;
 * the examples themselves into texts when not NULL. */
static size_t examples_vocab(const kl_rules *set, char vocab[][48], size_t max, text_list *texts)
{
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++) {
        const kl_rule *r = set->rules[i];
        for (size_t j = 0; j < r->nflag + r->npass; j++) {
            const char *s = j < r->nflag ? r->flag[j].text : r->pass[j - r->nflag].text;
            if (texts)
                texts_add(texts, s, strlen(s));
            n += split_words(s, vocab + n, max - n);
        }
    }
    return n;
}

/* The default packs, compiled, with env (if not NULL) set to 1 meanwhile. */
static kl_rules *defaults_with(const char *env)
{
    kl_diag d;
    kl_rules *set = kl_rules_new();
    if (env)
        setenv(env, "1", 1);
    if (kl_rules_add_defaults(set, &d) != KL_OK || kl_rules_compile(set, &d) != KL_OK)
        fail_msg("the built-in rules do not load: %s:%u:%u: %s", d.file, d.line, d.column,
                 d.message);
    if (env)
        unsetenv(env);
    return set;
}

/* kl_prefilter_batch, two texts in step, lists for each text what
 * kl_prefilter_list does for it alone, in batches of every size. */
static void check_batches(const kl_rules *set, const text_list *texts)
{
    enum { MAXB = 20 };
    size_t nr = set->count ? set->count : 1;
    unsigned char *mark[MAXB], *one_mark = calloc(1, nr);
    uint32_t *list[MAXB], *lim[MAXB], *one = malloc(nr * sizeof *one);
    size_t n[MAXB], limited = 0;
    kl_prefilter_text pt[MAXB];
    assert_non_null(one_mark);
    assert_non_null(one);
    for (int k = 0; k < MAXB; k++) {
        mark[k] = calloc(1, nr);
        list[k] = malloc(nr * sizeof *list[k]);
        lim[k] = malloc(nr * sizeof *lim[k]);
        assert_non_null(mark[k]);
        assert_non_null(list[k]);
        assert_non_null(lim[k]);
    }
    size_t batches = 0;
    for (size_t t = 0; t < texts->n;) {
        size_t b = rnd(MAXB + 1); /* 0 too */
        if (b > texts->n - t)
            b = texts->n - t;
        for (size_t k = 0; k < b; k++)
            pt[k] = (kl_prefilter_text){
                texts->items[t + k], strlen(texts->items[t + k]), mark[k], list[k], &n[k], lim[k]};
        kl_prefilter_batch(set->prefilter, pt, b);
        for (size_t k = 0; k < b; k++) {
            size_t m = kl_prefilter_list(set->prefilter, pt[k].text, pt[k].len, one_mark, one);
            if (m != n[k] || memcmp(one, list[k], m * sizeof *one) != 0)
                fail_msg("batch of %zu, text %zu (\"%s\"): %zu candidates, alone %zu", b, k,
                         pt[k].text, n[k], m);
            for (size_t r = 0; r < set->count; r++)
                assert_int_equal(mark[k][r], 0); /* left clean */
            limited += check_limits(set, &pt[k]);
        }
        t += b;
        batches++;
    }
    print_message("batches: %zu texts in %zu batches, as alone; %zu candidates with an offset "
                  "limit lose no match\n",
                  texts->n, batches, limited);
    assert_true(limited > 0);
    for (int k = 0; k < MAXB; k++) {
        free(mark[k]);
        free(list[k]);
        free(lim[k]);
    }
    free(one_mark);
    free(one);
}

/* Texts made from the examples of the set's rules: each varied, word
 * soup of their words, and two of them run together. */
static void builtin_texts(const kl_rules *set, text_list *out)
{
    /* the vocabulary: every word of every example */
    static char vocab[4096][48];
    size_t nvocab = examples_vocab(set, vocab, 4096, NULL);
    text_list texts = {NULL, 0, 0};
    for (size_t i = 0; i < set->count; i++) {
        const kl_rule *r = set->rules[i];
        for (size_t j = 0; j < r->nflag + r->npass; j++) {
            const char *s = j < r->nflag ? r->flag[j].text : r->pass[j - r->nflag].text;
            vary(&texts, s, vocab, nvocab);
        }
    }
    /* word soup, and two examples run together */
    for (int k = 0; k < 2000 && nvocab; k++) {
        kl_buf b;
        kl_buf_init(&b);
        size_t nw = 3 + rnd(15);
        for (size_t i = 0; i < nw; i++)
            kl_buf_printf(&b, "%s%s", i ? " " : "", vocab[rnd((uint32_t)nvocab)]);
        texts_add(&texts, b.data, b.len);
        kl_buf_free(&b);
    }
    size_t nbase = texts.n;
    for (int k = 0; k < 500 && nbase; k++) {
        kl_buf b;
        kl_buf_init(&b);
        kl_buf_printf(&b, "%s %s", texts.items[rnd((uint32_t)nbase)],
                      texts.items[rnd((uint32_t)nbase)]);
        texts_add(&texts, b.data, b.len);
        kl_buf_free(&b);
    }
    /* long texts, ten to thirty run together: a pass meets more output
     * states than one batch of them holds */
    for (int k = 0; k < 100 && nbase; k++) {
        kl_buf b;
        kl_buf_init(&b);
        size_t nt = 10 + rnd(21);
        for (size_t i = 0; i < nt; i++)
            kl_buf_printf(&b, "%s%s", i ? " " : "", texts.items[rnd((uint32_t)nbase)]);
        texts_add(&texts, b.data, b.len);
        kl_buf_free(&b);
    }
    *out = texts;
}

static void test_builtin_rules_sound(void **state)
{
    (void)state;
    kl_rules *set = defaults_with(NULL);
    kl_rules *all = defaults_with("KINDLINT_NO_PREFILTER");
    text_list texts;
    builtin_texts(set, &texts);

    /* the KELVIN SIGN and LONG S make every rule a candidate */
    static const char *const everyone[] = {"\xE2\x84\xAA you never listen",
                                           "you never li\xC5\xBFten"};
    for (size_t i = 0; i < 2; i++)
        texts_add(&texts, everyone[i], strlen(everyone[i]));
    check_batches(set, &texts);

    pcre2_match_data *md = pcre2_match_data_create(32, NULL);
    pcre2_match_context *big = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(big, KL_MATCH_LIMIT);
    unsigned char *cand = malloc(set->count ? set->count : 1);
    size_t matches = 0, skipped = 0;
    for (size_t t = 0; t < texts.n; t++) {
        const char *s = texts.items[t];
        size_t len = strlen(s);
        /* rule by rule: a rule the prefilter skips must not match (one pair
         * in three, at random: the big rules take ~100 us a run) */
        kl_prefilter_candidates(set->prefilter, s, len, cand);
        for (size_t i = 0; i < set->count; i++) {
            if (cand[i] || rnd(3) != 0)
                continue;
            skipped++;
            if (pcre2_match(set->rules[i]->re, (PCRE2_SPTR)s, len, 0, 0, md, big) >= 0)
                fail_msg("rule %s (%s) matches \"%s\" but the prefilter skips it",
                         set->rules[i]->id, set->rules[i]->triggers_desc, s);
        }
        /* whole scans, for one text in 16: the same findings with
         * and without the prefilter */
        if (t % 16 == 0) {
            found_list a, b;
            scan_text(set, s, &a);
            scan_text(all, s, &b);
            assert_int_equal(a.n, b.n);
            matches += a.n;
            for (size_t i = 0; i < a.n; i++) {
                assert_string_equal(a.items[i].rule, b.items[i].rule);
                assert_int_equal(a.items[i].offset, b.items[i].offset);
                assert_int_equal(a.items[i].length, b.items[i].length);
            }
        }
        free(texts.items[t]);
    }
    assert_true(matches > 0);
    print_message("built-in rules: %zu texts, %zu findings in the scans compared, %zu rule runs "
                  "skipped and checked\n",
                  texts.n, matches, skipped);
    free(texts.items);
    free(cand);
    pcre2_match_context_free(big);
    pcre2_match_data_free(md);
    kl_rules_free(set);
    kl_rules_free(all);
}

/* Each built-in rule's ASCII twin (kl_pattern_compile_ascii), which the
 * scanner runs on sentences of ASCII only, finds there what the rule
 * finds: on the example texts that are ASCII, and on their words strung
 * together with ASCII punctuation, digits and control characters. Each
 * rule runs where the prefilter lets it and on one text in eight besides. */
static void test_builtin_ascii_twins(void **state)
{
    (void)state;
    kl_rules *set = defaults_with(NULL);
    text_list texts;
    builtin_texts(set, &texts);
    static char vocab[4096][48];
    size_t nvocab = examples_vocab(set, vocab, 4096, NULL);
    static const char noise[] = " \t\n\v\f\r\x1e.,;:!?'\"-_()[]{}<>/\\|@#$%^&*+=~`0123456789";
    for (int k = 0; k < 3000 && nvocab; k++) {
        kl_buf b;
        kl_buf_init(&b);
        size_t nw = 2 + rnd(12);
        for (size_t i = 0; i < nw; i++) {
            size_t nn = rnd(3) ? 1 : 1 + rnd(3);
            for (size_t j = 0; i && j < nn; j++)
                kl_buf_putc(&b, noise[rnd(sizeof noise - 1)]);
            kl_buf_puts(&b, vocab[rnd((uint32_t)nvocab)]);
        }
        texts_add(&texts, b.data, b.len);
        kl_buf_free(&b);
    }
    pcre2_code **re = calloc(set->count, sizeof *re), **twin = calloc(set->count, sizeof *twin);
    assert_non_null(re);
    assert_non_null(twin);
    size_t ntwins = 0;
    for (size_t i = 0; i < set->count; i++) {
        re[i] = pcre2_code_copy(set->rules[i]->re);
        twin[i] = kl_pattern_compile_ascii(set->rules[i]->pattern);
        assert_non_null(re[i]);
        pcre2_jit_compile(re[i], PCRE2_JIT_COMPLETE);
        if (twin[i]) {
            pcre2_jit_compile(twin[i], PCRE2_JIT_COMPLETE);
            ntwins++;
        }
    }
    /* the rules are written to have one: a rule without is slower */
    assert_true(ntwins + 2 >= set->count);
    pcre2_match_data *a = pcre2_match_data_create(32, NULL), *b = pcre2_match_data_create(32, NULL);
    size_t nr = set->count ? set->count : 1, ascii = 0, runs = 0, matches = 0, limited = 0;
    unsigned char *mark = calloc(1, nr);
    uint32_t *list = malloc(nr * sizeof *list);
    unsigned char *cand = calloc(1, nr);
    assert_non_null(mark);
    assert_non_null(list);
    assert_non_null(cand);
    for (size_t t = 0; t < texts.n; t++) {
        const char *s = texts.items[t];
        if (is_ascii_text(s)) {
            ascii++;
            size_t len = strlen(s), n = kl_prefilter_list(set->prefilter, s, len, mark, list);
            for (size_t k = 0; k < n; k++)
                cand[list[k]] = 1;
            for (size_t i = 0; i < set->count; i++) {
                if (!twin[i] || (!cand[i] && rnd(8) != 0))
                    continue;
                int m = twin_agrees(re[i], twin[i], s, len, a, b, set->rules[i]->id);
                runs++;
                matches += m > 0 ? (size_t)m : 0;
                limited += m < 0;
            }
            memset(cand, 0, nr);
        }
        free(texts.items[t]);
    }
    assert_true(matches > 1000);
    assert_true(limited < runs / 1000);
    print_message("ASCII twins: %zu of %zu built-in rules; %zu ASCII texts, %zu runs, %zu matches "
                  "alike, %zu cut by the match limit\n",
                  ntwins, set->count, ascii, runs, matches, limited);
    for (size_t i = 0; i < set->count; i++) {
        pcre2_code_free(re[i]);
        pcre2_code_free(twin[i]);
    }
    free(re);
    free(twin);
    free(mark);
    free(list);
    free(cand);
    free(texts.items);
    pcre2_match_data_free(a);
    pcre2_match_data_free(b);
    kl_rules_free(set);
}

/* ------------------------------------------------------------------------ */
/* The precompiled default packs                                             */
/* ------------------------------------------------------------------------ */

static void assert_same_str(const char *what, const char *id, const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
        fail_msg("rule %s: %s differs: [%s] vs [%s]", id, what, a ? a : "(null)", b ? b : "(null)");
}

static size_t pattern_info(const pcre2_code *re, uint32_t what)
{
    size_t v = 0;
    uint32_t u = 0;
    if (what == PCRE2_INFO_SIZE) {
        assert_int_equal(pcre2_pattern_info(re, what, &v), 0);
        return v;
    }
    assert_int_equal(pcre2_pattern_info(re, what, &u), 0);
    return u;
}

/* The default packs from their precompiled form (the build's
 * kindlint-precompile) and from their YAML must be the same rule set: same
 * rules field by field, same compiled patterns, same clauses, a prefilter
 * image that proposes the same rules as one built from scratch, and the
 * same findings and suggestions. */
static void test_precompiled_matches_yaml(void **state)
{
    (void)state;
    kl_rules *pre = defaults_with(NULL);
    kl_rules *yaml = defaults_with("KINDLINT_NO_PRECOMPILED");
    /* the build made a precompiled form, and each set came its own way */
    assert_true(kl_precompiled_packs.npacks > 0);
    assert_true(pre->count > 100);
    assert_int_equal(pre->nprecompiled, pre->count);
    assert_int_equal(yaml->nprecompiled, 0);
    assert_int_equal(pre->count, yaml->count);
    assert_int_equal(pre->npacks, yaml->npacks);
    /* the automaton has fewer than 65,535 states: its table is the 16-bit
     * one, half the memory (LIT_MAX and RUN_MAX in prefilter.c) */
    assert_true(table_is_narrow(yaml->prefilter));
    /* rows of 32 entries, 64 bytes on a cache line each: the rare letters
     * and the bytes past ASCII share classes */
    assert_int_equal(kl_precompiled_packs.prefilter->width, 32);
    assert_int_equal((uintptr_t)kl_precompiled_packs.prefilter->trans16 % 64, 0);

    for (size_t i = 0; i < pre->count; i++) {
        const kl_rule *a = pre->rules[i], *b = yaml->rules[i];
        const char *id = b->id;
        assert_same_str("id", id, a->id, b->id);
        assert_same_str("pack", id, a->pack->name, b->pack->name);
        assert_same_str("source", id, a->pack->source, b->pack->source);
        assert_same_str("summary", id, a->pack->summary, b->pack->summary);
        assert_int_equal(a->category, b->category);
        assert_int_equal(a->severity, b->severity);
        assert_same_str("message", id, a->message, b->message);
        assert_same_str("explain", id, a->explain, b->explain);
        assert_same_str("match", id, a->pattern, b->pattern);
        assert_same_str("triggers", id, a->triggers_desc, b->triggers_desc);
        assert_int_equal(a->nunless, b->nunless);
        assert_int_equal(a->nsuggest, b->nsuggest);
        assert_int_equal(a->nfeelings, b->nfeelings);
        assert_int_equal(a->ncaps, b->ncaps);
        assert_int_equal(a->act_slot, b->act_slot);
        for (size_t k = 0; k < a->ncaps; k++)
            assert_int_equal(a->cap_group[k], b->cap_group[k]);
        assert_int_equal(a->nflag, b->nflag);
        assert_int_equal(a->npass, b->npass);
        for (size_t k = 0; k < a->nflag; k++) {
            assert_same_str("flag", id, a->flag[k].text, b->flag[k].text);
            assert_same_str("fix", id, a->flag[k].fix, b->flag[k].fix);
        }
        for (size_t k = 0; k < a->npass; k++)
            assert_same_str("pass", id, a->pass[k].text, b->pass[k].text);
        assert_int_equal(a->nclauses, b->nclauses);
        for (size_t c = 0; c < a->nclauses; c++) {
            assert_int_equal(a->clauses[c].nlits, b->clauses[c].nlits);
            for (size_t j = 0; j < a->clauses[c].nlits; j++)
                assert_same_str("literal", id, a->clauses[c].lits[j], b->clauses[c].lits[j]);
        }
        static const uint32_t infos[] = {PCRE2_INFO_SIZE, PCRE2_INFO_CAPTURECOUNT,
                                         PCRE2_INFO_NAMECOUNT, PCRE2_INFO_ALLOPTIONS};
        for (size_t k = 0; k < sizeof infos / sizeof infos[0]; k++) {
            assert_int_equal(pattern_info(a->re, infos[k]), pattern_info(b->re, infos[k]));
            for (size_t u = 0; u < a->nunless; u++)
                assert_int_equal(pattern_info(a->unless[u], infos[k]),
                                 pattern_info(b->unless[u], infos[k]));
        }
        /* the ASCII twin: decoded from the precompiled packs, compiled from
         * the YAML; the same pattern either way, or none either way */
        assert_int_equal(a->twin_known, 1);
        assert_int_equal(b->twin_known, 0);
        assert_int_equal(kl_rule_prepare(pre->rules[i], 1), kl_rule_prepare(yaml->rules[i], 1));
        assert_int_equal(a->jit_ascii != NULL, b->jit_ascii != NULL);
        for (size_t k = 0; a->jit_ascii && k < sizeof infos / sizeof infos[0]; k++)
            assert_int_equal(pattern_info(a->jit_ascii, infos[k]),
                             pattern_info(b->jit_ascii, infos[k]));
    }

    /* texts: every example, and word soup from them */
    text_list texts = {NULL, 0, 0};
    static char vocab[4096][48];
    size_t nvocab = examples_vocab(yaml, vocab, 4096, &texts);
    for (int k = 0; k < 3000 && nvocab; k++) {
        kl_buf b;
        kl_buf_init(&b);
        size_t nw = 3 + rnd(15);
        for (size_t i = 0; i < nw; i++)
            kl_buf_printf(&b, "%s%s", i ? (rnd(9) ? " " : "\t\xC2\xA0") : "",
                          vocab[rnd((uint32_t)nvocab)]);
        texts_add(&texts, b.data, b.len);
        kl_buf_free(&b);
    }
    unsigned char *ca = malloc(pre->count), *cb = malloc(pre->count);
    found_list *fa = malloc(sizeof *fa), *fb = malloc(sizeof *fb);
    assert_true(ca && cb && fa && fb);
    size_t findings = 0;
    for (size_t t = 0; t < texts.n; t++) {
        const char *s = texts.items[t];
        kl_prefilter_candidates(pre->prefilter, s, strlen(s), ca);
        kl_prefilter_candidates(yaml->prefilter, s, strlen(s), cb);
        if (memcmp(ca, cb, pre->count) != 0)
            fail_msg("the precompiled prefilter proposes other rules for \"%s\"", s);
        if (t % 4 == 0) {
            scan_text(pre, s, fa);
            scan_text(yaml, s, fb);
            assert_int_equal(fa->n, fb->n);
            for (size_t i = 0; i < fa->n; i++) {
                assert_string_equal(fa->items[i].rule, fb->items[i].rule);
                assert_int_equal(fa->items[i].offset, fb->items[i].offset);
                assert_int_equal(fa->items[i].length, fb->items[i].length);
                assert_string_equal(fa->items[i].fix, fb->items[i].fix);
            }
            findings += fa->n;
        }
        free(texts.items[t]);
    }
    assert_true(findings > 100);
    print_message("precompiled packs: %zu rules, %zu texts, %zu findings alike\n", pre->count,
                  texts.n, findings);
    free(texts.items);
    free(ca);
    free(cb);
    free(fa);
    free(fb);
    kl_rules_free(pre);
    kl_rules_free(yaml);
}

/* A set that holds more than the default packs builds its own prefilter
 * (the image is for those alone), and a user's rule is derived as usual. */
static void test_precompiled_with_user_pack(void **state)
{
    (void)state;
    kl_diag d;
    kl_rules *set = kl_rules_new();
    assert_int_equal(kl_rules_add_defaults(set, &d), KL_OK);
    const char *yaml = ONE_RULE("\\bsnarky\\s+comment\\b", "");
    assert_int_equal(kl_rules_add_buffer(set, "user.yml", yaml, strlen(yaml), &d), KL_OK);
    assert_int_equal(kl_rules_compile(set, &d), KL_OK);
    assert_int_equal(set->nprecompiled + 1, set->count);
    const kl_rule *r = set->rules[set->count - 1];
    assert_string_equal(r->triggers_desc, "\"\\bsnarky comment\\b\"");
    unsigned char *cand = malloc(set->count);
    assert_non_null(cand);
    kl_prefilter_candidates(set->prefilter, "what a SNARKY\tcomment", 21, cand);
    assert_int_equal(cand[set->count - 1], 1);
    kl_prefilter_candidates(set->prefilter, "what a comment", 14, cand);
    assert_int_equal(cand[set->count - 1], 0);
    free(cand);
    kl_rules_free(set);
}

/* A user's pack loaded before the default packs: an id they share is
 * still reported, as it is when both come from YAML. */
static void test_precompiled_after_user_pack(void **state)
{
    (void)state;
    for (int yaml = 0; yaml < 2; yaml++) {
        kl_diag d;
        kl_rules *set = kl_rules_new();
        const char *pack = "pack: mine\n"
                           "rules:\n"
                           "  - id: you-never\n"
                           "    category: absolute\n"
                           "    severity: warning\n"
                           "    message: m\n"
                           "    match: 'you\\s+never'\n";
        assert_int_equal(kl_rules_add_buffer(set, "mine.yml", pack, strlen(pack), &d), KL_OK);
        if (yaml)
            setenv("KINDLINT_NO_PRECOMPILED", "1", 1);
        assert_int_equal(kl_rules_add_defaults(set, &d), KL_ERR_RULES);
        unsetenv("KINDLINT_NO_PRECOMPILED");
        assert_non_null(strstr(d.message, "duplicate rule id 'you-never' (already defined in "
                                          "mine.yml)"));
        kl_rules_free(set);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive_table),
        cmocka_unit_test(test_derive_keeps_triggers),
        cmocka_unit_test(test_offset_limits),
        cmocka_unit_test(test_caseless_ascii_folds),
        cmocka_unit_test(test_candidates_basic),
        cmocka_unit_test(test_candidates_word_start),
        cmocka_unit_test(test_no_prefilter_env),
        cmocka_unit_test(test_automaton_matches_naive),
        cmocka_unit_test(test_random_patterns_sound),
        cmocka_unit_test(test_builtin_rules_sound),
        cmocka_unit_test(test_builtin_ascii_twins),
        cmocka_unit_test(test_precompiled_matches_yaml),
        cmocka_unit_test(test_precompiled_with_user_pack),
        cmocka_unit_test(test_precompiled_after_user_pack),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pcre2_match_context_free(mctx);
    return failed;
}

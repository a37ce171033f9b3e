/*
 * kl_internal.h -- private structures shared by the stages of libkindlint.
 *
 * Nothing here is part of the public API (kindlint.h). The stages are:
 * rules_load.c (YAML -> raw packs), rules_compile.c (patterns, templates,
 * validation), yaml_index.c (positions for messages), prefilter.c (literal
 * triggers), document.c (input bytes -> match buffer), scan.c (sentences,
 * matching, findings), template.c (suggestions), position.c (lines and
 * columns), policy.c, rule_tests.c, fix.c and the report_*.c reporters.
 */
#ifndef KL_INTERNAL_H
#define KL_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kindlint.h"

/* ------------------------------------------------------------------------ */
/* Limits, with the reason for each                                          */
/* ------------------------------------------------------------------------ */

/* A rule file is a few dozen KiB; anything near this is a mistake or an
 * attack on the loader (libyaml holds the whole event stream per scalar). */
#define KL_MAX_RULE_FILE (4u * 1024u * 1024u)
/* A pattern longer than this is refused: real rules are under 1 KiB, and
 * PCRE2's compile time and memory grow with the pattern. */
#define KL_MAX_PATTERN 16384u
/* Text fields (message, explain, templates, test texts). */
#define KL_MAX_TEXT_FIELD 16384u
#define KL_MAX_RULES_PER_PACK 2000u
#define KL_MAX_LIST_ENTRIES 1000u
/* PCRE2 match limit: the count restarts at each start position; one
 * million stops catastrophic backtracking in milliseconds while no real
 * rule on a real sentence comes near it. */
#define KL_MATCH_LIMIT 1000000u
/* Interpreter-only limits (JIT ignores depth; heap is in KiB). */
#define KL_DEPTH_LIMIT 10000u
#define KL_HEAP_LIMIT_KIB 8192u
/* JIT stack per scanner. */
#define KL_JIT_STACK_MIN (32u * 1024u)
#define KL_JIT_STACK_MAX (512u * 1024u)
/* A "sentence" longer than this (a 200 MB line with no punctuation) is cut
 * at a space, so that each regex runs on a bounded subject. A match that
 * would straddle the cut is not reported. */
#define KL_MAX_SENTENCE 8192u
/* Streams are scanned in windows of at most this many bytes, cut at a
 * paragraph or line break (scan.c), so memory stays flat on any input. */
#define KL_STREAM_WINDOW (1024u * 1024u)

/* Bytes in the match buffer that the document stage writes: a hard
 * boundary no sentence or match crosses (invalid UTF-8, NUL, a block or
 * turn boundary), and the blank that replaces text not to be linted. */
#define KL_BOUNDARY '\x1e'
/* Zeroed bytes kept after buffers the matcher reads: PCRE2's JIT may load
 * a vector past the subject's end (within the page, so it is safe), and
 * memory checkers should see defined bytes there. */
#define KL_SUBJECT_PAD 64u
#define KL_BLANK ' '

/* ------------------------------------------------------------------------ */
/* Diagnostics helpers (diag.c)                                              */
/* ------------------------------------------------------------------------ */

void kl_diag_set(kl_diag *diag, kl_status code, const char *file, unsigned line, unsigned column,
                 const char *rule_id, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;
void kl_diag_clear(kl_diag *diag);

/* ------------------------------------------------------------------------ */
/* Growable byte buffer (buf.c)                                              */
/* ------------------------------------------------------------------------ */

typedef struct kl_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* an allocation failed; later appends are no-ops */
} kl_buf;

void kl_buf_init(kl_buf *b);
void kl_buf_free(kl_buf *b);
int kl_buf_reserve(kl_buf *b, size_t extra);
int kl_buf_append(kl_buf *b, const char *s, size_t n);
int kl_buf_puts(kl_buf *b, const char *s);
int kl_buf_putc(kl_buf *b, char c);
int kl_buf_printf(kl_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Returns the NUL-terminated data and gives up ownership (caller frees). */
char *kl_buf_detach(kl_buf *b, size_t *len);

/* ------------------------------------------------------------------------ */
/* UTF-8 (utf8.c)                                                            */
/* ------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when the bytes at s
 * are not a valid sequence (overlong, surrogate, truncated, > U+10FFFF). *cp
 * receives the code point when valid. */
size_t kl_utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp);
/* Writes cp as UTF-8 to out (room for 4) and returns the length, or 0 for
 * a surrogate or a code point above U+10FFFF. */
size_t kl_utf8_encode(uint32_t cp, unsigned char *out);
/* Columns a code point takes on a terminal (0, 1 or 2). */
int kl_codepoint_width(uint32_t cp);

/* ------------------------------------------------------------------------ */
/* YAML position index (yaml_index.c)                                        */
/* ------------------------------------------------------------------------ */

/* Positions of nodes in a YAML document by path, e.g. "rules[3].match" or
 * "rules[3].tests.flag[0].text"; keys are recorded as "KEY:path". Built
 * with libyaml only when a message needs a position. */
typedef struct kl_yaml_pos {
    char *path;
    unsigned line, column; /* 1-based */
    int style;             /* yaml_scalar_style_t of scalars, 0 otherwise */
} kl_yaml_pos;

typedef struct kl_yaml_index {
    kl_yaml_pos *items;
    size_t count, cap;
    /* the libyaml parser problem, when the document does not parse */
    char problem[256];
    unsigned problem_line, problem_column;
    char context[128];
    unsigned context_line, context_column;
    unsigned alias_line, alias_column; /* the first alias (*name), 0 if none */
} kl_yaml_index;

void kl_yaml_index_build(kl_yaml_index *idx, const char *data, size_t len);
void kl_yaml_index_free(kl_yaml_index *idx);
const kl_yaml_pos *kl_yaml_index_find(const kl_yaml_index *idx, const char *path);

/* Turns libcyaml's logged backtrace into FILE:LINE:COL plus a message (used
 * by the rule and config loaders). */
typedef struct kl_cyaml_log {
    char text[4096];
    size_t len;
} kl_cyaml_log;

void kl_cyaml_log_fn(int level, void *ctx, const char *fmt, va_list args);
void kl_cyaml_error_to_diag(const kl_cyaml_log *log, int cyaml_err, const char *name,
                            const char *data, size_t len, kl_status code, kl_diag *diag);

/* ------------------------------------------------------------------------ */
/* Rules                                                                     */
/* ------------------------------------------------------------------------ */

typedef enum kl_tpart_kind {
    KL_TPART_LITERAL,
    KL_TPART_CAPTURE, /* {name}: captures[slot] */
    KL_TPART_FEELING, /* {feeling} */
    KL_TPART_BLANK    /* [hint]: literal text the writer must replace */
} kl_tpart_kind;

typedef struct kl_tpart {
    kl_tpart_kind kind;
    char *text; /* literal or blank text (blank includes its brackets) */
    size_t len;
    int slot; /* capture slot */
} kl_tpart;

typedef struct kl_template {
    char *source;
    kl_tpart *parts;
    size_t nparts;
    int has_blank;
} kl_template;

typedef struct kl_feeling {
    char *word; /* "*" is the default */
    char *feeling;
} kl_feeling;

typedef struct kl_example {
    char *text;
    char *fix; /* flag examples only; may be NULL */
} kl_example;

typedef struct kl_pack {
    char *name;
    char *summary;
    char *lang;
    char *source; /* file name or builtin:NAME */
} kl_pack;

/* A conjunction of disjunctions of lowercase ASCII literals: the rule can
 * only match a sentence that holds, for every clause, one of its literals
 * (prefilter.c). */
typedef struct kl_clause {
    char **lits;
    size_t nlits;
} kl_clause;

struct kl_rule {
    size_t index;
    const kl_pack *pack;
    char *id;
    kl_category category;
    kl_severity severity;
    char *message;
    char *explain;
    char *pattern;
    pcre2_code *re;
    /* JIT compilation is lazy: a rule's first KL_JIT_AFTER candidate
     * sentences (none in a large input, KL_JIT_EAGER_BYTES) run in PCRE2's
     * interpreter (re), and then its ASCII twin is JIT-compiled
     * (jit_ascii) by kl_rule_prepare, so a rule that meets few candidates
     * never pays for JIT code. The originals are never changed, so other
     * threads may go on interpreting them meanwhile. jit_state: 0 not yet,
     * KL_JIT_BUSY a thread is compiling (the others interpret), KL_JIT_ON
     * the copies exist, KL_JIT_OFF JIT is unavailable; read with acquire,
     * claimed by compare-and-swap, set with release. */
    atomic_int jit_state;
    atomic_uint jit_uses;
    /* the unless-patterns run only where the pattern matched, far more
     * seldom: copies of them are JIT-compiled (jit_unless) at the rule's
     * KL_JIT_AFTER-th match (its first when eager), by
     * kl_rule_prepare_unless (unless_state and unless_uses, as jit_state
     * and jit_uses) */
    atomic_int unless_state;
    atomic_uint unless_uses;
    /* the pattern's own JIT code (jit_re) is made at once for a rule
     * without an ASCII twin, else at its KL_JIT_AFTER-th candidate sentence
     * that is not ASCII only (utf_state and utf_uses, as jit_state and
     * jit_uses): a rule that meets little such text never pays for it */
    atomic_int utf_state;
    atomic_uint utf_uses;
    pcre2_code *jit_re;
    /* the pattern compiled without UTF and UCP, JIT-compiled (NULL: none):
     * on a sentence of ASCII only it matches as re does, in about three
     * quarters of the time (kl_pattern_compile_ascii) */
    pcre2_code *jit_ascii;
    /* a rule of the precompiled packs has its twin precompiled too
     * (kl_pre_rule.twin): kl_rule_prepare decodes it, not compiles it */
    int twin_known;
    const unsigned char *twin_image;
    pcre2_code **jit_unless;
    pcre2_code **unless;
    size_t nunless;
    kl_template *suggest;
    size_t nsuggest;
    kl_feeling *feelings;
    size_t nfeelings;
    /* capture group numbers referred to by templates, by slot */
    uint32_t cap_group[KL_MAX_TEMPLATE_CAPTURES];
    char *cap_name[KL_MAX_TEMPLATE_CAPTURES];
    size_t ncaps;
    int act_slot; /* slot of the "act" capture, -1 when not referred */
    kl_example *flag;
    size_t nflag;
    kl_example *pass;
    size_t npass;
    /* prefilter */
    kl_clause *clauses;
    size_t nclauses;
    /* clauses[0] is the rule's `triggers:`, which the author vouches a
     * sentence holds, not that a match does: it does not bound where a
     * match starts (kl_prefilter_text.lim) */
    int triggered;
    char *triggers_desc;
    /* id, message, pattern, feelings and examples are the precompiled
     * packs' (static, never written): not copied at load, not freed */
    int texts_borrowed;
    int clauses_final;    /* set from precompiled packs: not derived again */
    int clauses_borrowed; /* their literals and triggers_desc are the
                           * precompiled packs' (static): not freed */
};

struct kl_prefilter; /* prefilter.c */

struct kl_rules {
    kl_rule **rules;
    size_t count, cap;
    kl_pack **packs;
    size_t npacks, packs_cap;
    int compiled;
    struct kl_prefilter *prefilter;
    /* rules 0..nprecompiled-1 came from the precompiled default packs, in
     * their order: the precompiled prefilter serves the set when it holds
     * those and nothing else */
    size_t nprecompiled;
};

enum { KL_JIT_ON = 1, KL_JIT_OFF = 2, KL_JIT_NOT_YET = 3, KL_JIT_BUSY = 4 };

/* Candidate sentences a rule is interpreted on before it is JIT-compiled
 * (compiling a large pattern costs as much as ~50 interpreted runs). */
#define KL_JIT_AFTER 24u
/* ... unless the input is at least this large (kl_scan's length,
 * kl_stream_expect), or the scanner has read this much text: the rule will
 * meet such text again and again, and its interpreted runs would cost more
 * than the compiling they put off (on 100 MB of messages, 0.12 s of about
 * 2 s). Smaller inputs stay lazy: on 30 MB, compiling every rule at once
 * costs about what it saves, on 2 MB much more. */
#define KL_JIT_EAGER_BYTES (32u << 20)

/* Makes r ready for one more candidate sentence, from any thread: counts
 * it, and at the KL_JIT_AFTER-th (at once when eager) JIT-compiles the
 * rule's ASCII twin (or a copy of its pattern when it has no twin); while
 * one thread compiles, others are told to interpret. Returns KL_JIT_ON
 * (run jit_ascii on ASCII), else KL_JIT_NOT_YET or KL_JIT_OFF (interpret
 * re). */
int kl_rule_prepare(kl_rule *r, int eager);
/* The same for r's unless-patterns, before they run on a sentence where
 * the pattern matched: JIT-compiles copies of them at the KL_JIT_AFTER-th
 * (at once when eager). Returns KL_JIT_ON (run jit_unless), else
 * KL_JIT_NOT_YET or KL_JIT_OFF (run unless). */
int kl_rule_prepare_unless(kl_rule *r, int eager);
/* After kl_rule_prepare gave KL_JIT_ON, for a sentence jit_ascii cannot
 * take: counts it and JIT-compiles a copy of the pattern (jit_re) at the
 * KL_JIT_AFTER-th (at once when eager). Returns KL_JIT_ON (run jit_re),
 * else KL_JIT_NOT_YET or KL_JIT_OFF (interpret re). */
int kl_rule_prepare_utf(kl_rule *r, int eager);

/* rules_compile.c: turns one loaded YAML pack into rules appended to set. */
struct kl_y_pack;
kl_status kl_rules_from_yaml(kl_rules *rules, const struct kl_y_pack *yp, const char *name,
                             const char *data, size_t len, kl_diag *diag);

/* Expands ' and " in a pattern to the typographic forms. Returns a new
 * string (caller frees) and, in *map (caller frees), for each byte of the
 * result the offset in the original. */
char *kl_pattern_expand_quotes(const char *pattern, size_t **map);

/* Compiles a pattern with the project's options (UTF, UCP, CASELESS,
 * NEVER_BACKSLASH_C and USE_OFFSET_LIMIT); on error fills diag. */
pcre2_code *kl_pattern_compile(const char *pattern, const char *file, const char *rule_id,
                               const char *what, const kl_yaml_index *idx, const char *path,
                               kl_diag *diag);

/* Compiles a pattern without UTF and UCP, for subjects of ASCII only: on
 * those it matches as kl_pattern_compile's code does (\b, \w, \s, \d, the
 * POSIX classes and caseless letters agree on ASCII; characters outside
 * ASCII cannot match either way). NULL when it could not: a character
 * outside ASCII that a quantifier may follow, \x{...} past 0xFF, or any
 * other error. */
pcre2_code *kl_pattern_compile_ascii(const char *pattern);

/* FNV-1a of s[0, n), for the hash tables of names (directive IDs, chat
 * speakers). */
static inline size_t kl_hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
    return (size_t)h;
}

#if defined(__GNUC__)
/* Sixteen bytes in a vector register (GCC's and clang's vector
 * extensions); a comparison gives 0xFF where it holds, else 0. */
typedef unsigned char kl_v16 __attribute__((vector_size(16)));

/* Does any byte of v hold something other than 0? */
static inline int kl_v16_any(kl_v16 v)
{
    uint64_t h[2];
    memcpy(h, &v, 16);
    return (h[0] | h[1]) != 0;
}

/* Of a v that kl_v16_any holds: no byte before the index returned holds
 * something other than 0 (the first that does, where bytes are little
 * endian; 0 elsewhere). */
static inline size_t kl_v16_first(kl_v16 v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t h[2];
    memcpy(h, &v, 16);
    return h[0] ? (size_t)__builtin_ctzll(h[0]) / 8 : 8 + (size_t)__builtin_ctzll(h[1]) / 8;
#else
    (void)v;
    return 0;
#endif
}
#endif

/* Where a scan for the n (at most 8) bytes of set may start in s[from,
 * to): no byte before the index returned is one of them. Sixteen bytes
 * are passed over at a time where the compiler has vector extensions, and
 * the index is then the first of them (kl_v16_first); the caller reads on
 * from there byte by byte as before. */
static inline size_t kl_skip_none_of(const unsigned char *s, size_t from, size_t to,
                                     const unsigned char *set, int n)
{
    size_t i = from;
#if defined(__GNUC__)
    kl_v16 want[8] = {{0}};
    n = n < 8 ? n : 8;
    /* unrolled, with set constant where inlined, the vectors are constants */
#pragma GCC unroll 8
    for (int k = 0; k < n; k++)
        want[k] = (kl_v16){0} + set[k];
    for (; i + 16 <= to; i += 16) {
        kl_v16 b, hit = {0};
        memcpy(&b, s + i, 16);
#pragma GCC unroll 8
        for (int k = 0; k < n; k++)
            hit |= (kl_v16)(b == want[k]);
        if (kl_v16_any(hit))
            return i + kl_v16_first(hit);
    }
#else
    (void)s, (void)to, (void)set, (void)n;
#endif
    return i;
}

/* Where a scan for the two bytes a, b in a row may start in s[from, to):
 * no pair starts before the index returned. As kl_skip_none_of, sixteen
 * starts at a time. */
static inline size_t kl_skip_no_pair(const unsigned char *s, size_t from, size_t to,
                                     unsigned char a, unsigned char b)
{
    size_t i = from;
#if defined(__GNUC__)
    const kl_v16 va = (kl_v16){0} + a, vb = (kl_v16){0} + b;
    for (; i + 17 <= to; i += 16) {
        kl_v16 x, y;
        memcpy(&x, s + i, 16);
        memcpy(&y, s + i + 1, 16);
        kl_v16 hit = (kl_v16)(x == va) & (kl_v16)(y == vb);
        if (kl_v16_any(hit))
            return i + kl_v16_first(hit);
    }
#else
    (void)s, (void)to, (void)a, (void)b;
#endif
    return i;
}

/* template.c */
kl_status kl_template_parse(kl_template *t, const char *source, kl_rule *rule, char *err,
                            size_t errlen);
void kl_template_free(kl_template *t);
kl_status kl_template_render(const kl_rule *rule, const kl_template *t, const kl_finding *f,
                             kl_buf *out);

/* prefilter.c */
kl_status kl_rule_derive_clauses(kl_rule *rule);
struct kl_prefilter *kl_prefilter_build(const kl_rules *rules);
void kl_prefilter_free(struct kl_prefilter *pf);
/* Lists in list (room for one entry per rule), in rule order, the rules
 * whose clauses are all met by the text, and returns how many. Rules
 * without clauses are always listed. mark is a byte per rule, all 0 before
 * the call and after it. */
size_t kl_prefilter_list(const struct kl_prefilter *pf, const char *text, size_t len,
                         unsigned char *mark, uint32_t *list);
/* kl_prefilter_list of n texts, four at a time (faster than one after the
 * other); each has its own mark and list, and its count goes to *n. */
typedef struct kl_prefilter_text {
    const char *text;
    size_t len;
    unsigned char *mark;
    uint32_t *list;
    size_t *n;
    /* NULL, or a word per rule: for each rule listed, how far into the
     * text a match of it can start (the end of the last literal of its
     * anchor clause there, which every match holds at or after its start),
     * or KL_NO_LIMIT; the scan gives it to PCRE2 as the offset limit */
    uint32_t *lim;
} kl_prefilter_text;
#define KL_NO_LIMIT UINT32_MAX
void kl_prefilter_batch(const struct kl_prefilter *pf, const kl_prefilter_text *texts, size_t n);
/* The same as a byte per rule in cand, 1 for a candidate (for tests). */
void kl_prefilter_candidates(const struct kl_prefilter *pf, const char *text, size_t len,
                             unsigned char *cand);

/* The prefilter of a rule set as constant tables: what
 * kindlint-precompile writes for the default packs, and what
 * kl_prefilter_from_image serves without building anything. */
typedef struct kl_prefilter_image {
    size_t nrules;
    const unsigned char *base;
    unsigned char cls[256];
    uint32_t space_cls, width, out_first;
    const uint32_t *trans;
    const uint16_t *trans16;
    const uint32_t *recs, *outs;
    size_t hit_words;
    const uint32_t *rule_cl, *cl_at, *cl_word;
    const uint64_t *cl_mask;
} kl_prefilter_image;

struct kl_prefilter *kl_prefilter_from_image(const kl_prefilter_image *img);
/* Writes pf as C source defining `const kl_prefilter_image name`.
 * Returns -1 when pf is not a built automaton or on a write error. */
int kl_prefilter_write_c(const struct kl_prefilter *pf, FILE *out, const char *name);
/* Sets the rule's clauses to the given ones (nclauses clauses, clause k
 * with clause_lits[k] literals, taken in order from lits) and marks them
 * final; desc is their description. The literals and desc are borrowed,
 * not copied (the precompiled packs' static data): a start makes no copy
 * of its thousands of phrases. */
kl_status kl_rule_set_clauses(kl_rule *rule, size_t nclauses, const uint32_t *clause_lits,
                              const char *const *lits, const char *desc);
/* Frees a rule's clauses and their description (unless borrowed). */
void kl_rule_clauses_free(kl_rule *rule);
/* Is the environment variable set, and not to "" or "0"? */
int kl_env_on(const char *name);

/* The default packs precompiled at build time (kindlint-precompile): what
 * libcyaml loaded from each embedded pack, every rule's patterns as
 * pcre2_serialize_encode wrote them (and each rule's ASCII twin apart),
 * every rule's prefilter clauses and the default set's prefilter. Loading
 * them skips parsing YAML, compiling patterns, deriving clauses and
 * building the automaton. npacks is 0 in the build of kindlint-precompile
 * itself. */
typedef struct kl_pre_rule {
    uint32_t nclauses;
    const uint32_t *clause_lits;
    const char *const *lits;
    const char *desc;          /* kl_rule.triggers_desc */
    const unsigned char *twin; /* its ASCII twin, serialized; NULL: none */
} kl_pre_rule;

struct kl_y_pack;
typedef struct kl_precompiled {
    size_t npacks; /* equals kl_embedded_pack_count, or 0: none */
    const struct kl_y_pack *packs;
    size_t nrules;
    const kl_pre_rule *rules;
    const unsigned char *codes; /* match, then unless patterns, rule by rule */
    size_t codes_len;
    const kl_prefilter_image *prefilter;
} kl_precompiled;
extern const kl_precompiled kl_precompiled_packs;

/* rules_load.c: one pack's YAML as libcyaml loads it, for the tool */
kl_status kl_pack_parse(const char *name, const char *data, size_t len, struct kl_y_pack **out,
                        kl_diag *diag);
void kl_pack_free(struct kl_y_pack *yp);

/* rules_compile.c: kl_rules_from_yaml with the patterns already compiled
 * (codes: one per match and unless pattern, in order; taken over and set
 * to NULL as they are used). The packs were checked among themselves when
 * they were precompiled: rule ids are checked against rules[0..checked_from)
 * only. */
kl_status kl_rules_from_yaml_codes(kl_rules *rules, const struct kl_y_pack *yp, const char *name,
                                   const char *data, size_t len, pcre2_code **codes, size_t ncodes,
                                   size_t checked_from, size_t *used, kl_diag *diag);

/* Embedded packs (generated at build time). */
typedef struct kl_embedded_pack {
    const char *name;
    const unsigned char *data;
    size_t len;
} kl_embedded_pack;
extern const kl_embedded_pack kl_embedded_packs[];
extern const size_t kl_embedded_pack_count;

/* ------------------------------------------------------------------------ */
/* Documents (document.c)                                                    */
/* ------------------------------------------------------------------------ */

typedef struct kl_turn {
    size_t start, end; /* bytes of the turn's message */
    kl_span speaker;
} kl_turn;

/* An inline directive (kindlint-disable-next-line, -disable, -enable). */
typedef enum kl_directive_kind {
    KL_DIRECTIVE_NEXT_LINE,
    KL_DIRECTIVE_DISABLE,
    KL_DIRECTIVE_ENABLE
} kl_directive_kind;

typedef struct kl_directive {
    kl_directive_kind kind;
    size_t offset;    /* where "kindlint-" starts, for messages */
    size_t line_end;  /* end of the line the directive ends on */
    char **ids;       /* rule ids, packs or categories; none: all */
    size_t nids;
} kl_directive;

/* Findings of the named rules (all when nids is 0) in [start, end) are
 * suppressed. */
typedef struct kl_region {
    size_t start, end;
    const char *id; /* NULL: every rule; points into a kl_directive */
    int open;       /* a disable not yet enabled again (end is the input's end) */
} kl_region;

typedef struct kl_doc {
    const char *input;
    size_t len;
    const char *text; /* match buffer: same length as input */
    char *owned;      /* text when it had to be rewritten */
    size_t start;     /* first byte to lint (after a BOM) */
    kl_turn *turns;   /* chat only, sorted */
    size_t nturns, turns_cap;
    int speaker_seen; /* chat with a speaker filter: a turn of theirs exists */
    kl_directive *dirs;
    size_t ndirs, dirs_cap;
    kl_region *regions;
    size_t nregions;
    const char *const *inherit; /* disables open before this window */
    size_t ninherit;
} kl_doc;

kl_status kl_doc_open(kl_doc *doc, const kl_scan_options *opt, const char *input, size_t len,
                      kl_diag *diag);
/* The same for a window of a stream: first says it starts the input (a
 * BOM may be there); inherit lists disables still open before it (an
 * entry NULL: every rule). */
kl_status kl_doc_open_window(kl_doc *doc, const kl_scan_options *opt, const char *input,
                             size_t len, int first, const char *const *inherit, size_t ninherit,
                             kl_diag *diag);
/* doc_lines.c: does the line s[a, b) start a chat turn? */
int kl_chat_turn_line(const char *s, size_t a, size_t b);
/* scan.c: where a stream's window of len bytes at b ends (chat: a turn
 * is a place to cut); *overlap is set when the cut is inside a line. b[len]
 * must be readable. */
size_t kl_window_cut(const char *b, size_t len, int chat, int *overlap);
/* Does the line b[ls, le) end a sentence (. ! ? or an ellipsis, before
 * closing quotes and brackets and trailing blanks)? */
int kl_line_ends_sentence(const char *b, size_t ls, size_t le);
void kl_doc_close(kl_doc *doc);
/* Writable match buffer, copied from the input on first use (NULL on OOM). */
char *kl_doc_mutable(kl_doc *doc);
/* Writable match buffer in which everything but line breaks is blank: the
 * readers that pick what to lint (Markdown) copy the chosen text back in. */
char *kl_doc_blank_all(kl_doc *doc);
/* Makes m[from, to) KL_BLANK but for its \n and \r (sixteen bytes at a
 * time where the compiler has vector extensions). */
void kl_blank_bytes(char *m, size_t from, size_t to);
/* Blanks [from, to) of the match buffer, keeping line breaks. */
int kl_doc_blank(kl_doc *doc, size_t from, size_t to);
/* Makes offset a hard boundary no sentence crosses (when it is not text). */
int kl_doc_boundary(kl_doc *doc, size_t offset);
/* quotes.c: blanks quotations that read as reported speech. */
kl_status kl_doc_blank_quotes(kl_doc *doc);
/* 1 (the default): a search for a closing mark starts where the last one
 * of its kind found none. 0, for tests: each goes to its end, the plain
 * way, which must blank the same. */
extern int kl_quotes_memo;
/* The kind readers: each leaves in the match buffer only what is to be
 * linted, records directives and (chat) turns. */
kl_status kl_doc_read_markdown(kl_doc *doc, const kl_scan_options *opt, kl_diag *diag);
kl_status kl_doc_read_lines(kl_doc *doc, const kl_scan_options *opt, kl_diag *diag);

/* directives.c */
/* Parses a directive at s (which starts with "kindlint-"); on success adds
 * it to doc (offset is s's offset in the input, line_end the end of its
 * line) and returns 1; 0 when s is not a directive; -1 on OOM. */
int kl_directive_parse(kl_doc *doc, const char *s, size_t n, size_t offset, size_t line_end);
void kl_directives_free(kl_doc *doc);
/* Turns the directives into regions. */
kl_status kl_directives_resolve(kl_doc *doc);
/* Is a finding of rule r at offset suppressed? */
int kl_doc_suppressed(const kl_doc *doc, const kl_rule *r, size_t offset);

/* ------------------------------------------------------------------------ */
/* Positions (position.c)                                                    */
/* ------------------------------------------------------------------------ */

typedef struct kl_cursor {
    size_t pos;
    unsigned line, col, col16;
    int at_start; /* nothing read yet: a BOM may come */
} kl_cursor;

void kl_cursor_init(kl_cursor *c);
/* Moves forward to target (>= c->pos), counting \n, \r\n and lone \r as
 * line breaks and code points (and UTF-16 units) as columns. */
void kl_cursor_advance(kl_cursor *c, const char *input, size_t len, size_t target);

/* ------------------------------------------------------------------------ */
/* Fixes (fix.c)                                                             */
/* ------------------------------------------------------------------------ */

typedef struct kl_edit {
    size_t offset, length;
    char *replacement; /* owned */
    size_t rlen;
} kl_edit;

/* Applies sorted, non-overlapping edits to input; result in out. */
int kl_edits_apply(const char *input, size_t len, const kl_edit *edits, size_t nedits, kl_buf *out);

#endif /* KL_INTERNAL_H */

/*
 * kindlint.h -- the one public header of libkindlint.
 *
 * libkindlint finds blaming and unkind communication patterns in text and
 * suggests kinder rewrites. Rules are data (YAML rule packs); this library
 * loads them, compiles their regular expressions, reads documents of several
 * kinds, scans them and hands back findings as byte spans into the caller's
 * buffer, plus the reporters that print them.
 *
 * Ownership, once for the whole header: every kl_*_new() result is freed by
 * the matching kl_*_free(). Strings passed in are borrowed for the duration
 * of the call unless a declaration says otherwise. Strings returned by
 * accessors point into the rule set and live as long as it does. A finding
 * handed to a callback is valid only during that callback. Functions that
 * return a heap string say "caller frees with free()".
 *
 * Errors: functions return kl_status (0 = KL_OK, negative = error) and fill
 * an optional kl_diag with a message and, where known, file, line and column.
 * The library never prints (except through a reporter the caller created and
 * pointed at a FILE) and never exits.
 *
 * Threads: there is no global mutable state. A kl_rules set is read-only
 * once compiled and may be shared by threads; each thread scans with its own
 * kl_scanner.
 */
#ifndef KINDLINT_H
#define KINDLINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this header's structs that callers fill (kl_scan_options). */
#define KL_ABI_VERSION 1

/** The library's version string, e.g. "0.1.0" (from CMake's project()). */
const char *kl_version(void);

/* ------------------------------------------------------------------------ */
/* Status and diagnostics                                                    */
/* ------------------------------------------------------------------------ */

typedef enum kl_status {
    KL_OK = 0,
    KL_ERR_NOMEM = -1,  /**< an allocation failed */
    KL_ERR_IO = -2,     /**< a file could not be read or written */
    KL_ERR_RULES = -3,  /**< a rule file is malformed or invalid */
    KL_ERR_REGEX = -4,  /**< a rule's regular expression does not compile */
    KL_ERR_CONFIG = -5, /**< a configuration file is malformed or invalid */
    KL_ERR_INPUT = -6,  /**< input that cannot be linted (e.g. UTF-16, too large) */
    KL_ERR_USAGE = -7,  /**< a bad argument (unknown rule id, bad option value) */
    KL_ERR_LIMIT = -8   /**< a safety limit was exceeded */
} kl_status;

/** A message with the place it is about. line/column are 1-based, 0 when
 *  unknown; file and rule_id are empty strings when they do not apply. */
typedef struct kl_diag {
    kl_status code;
    char file[512];
    unsigned line;
    unsigned column;
    char rule_id[64];
    char message[768];
} kl_diag;

/** A short English name for a status code. Static string. */
const char *kl_status_name(kl_status status);

/** Reads a whole file (or standard input when path is "-") into memory,
 *  refusing more than limit bytes (0: no limit). *data is NUL-terminated
 *  for convenience (the NUL is not counted in *len); caller frees with
 *  free(). */
kl_status kl_read_file(const char *path, size_t limit, char **data, size_t *len, kl_diag *diag);

/* ------------------------------------------------------------------------ */
/* Severities and categories                                                 */
/* ------------------------------------------------------------------------ */

/** Ordered: a larger value is more severe. 0 means "not given". */
typedef enum kl_severity {
    KL_SEVERITY_UNSET = 0,
    KL_SEVERITY_INFO,
    KL_SEVERITY_WARNING,
    KL_SEVERITY_ERROR
} kl_severity;

/** The eleven categories of DESIGN.md section 4. 0 means "not given". */
typedef enum kl_category {
    KL_CATEGORY_UNSET = 0,
    KL_CATEGORY_ABSOLUTE,
    KL_CATEGORY_BLAME,
    KL_CATEGORY_CRITICISM,
    KL_CATEGORY_CONTEMPT,
    KL_CATEGORY_NON_APOLOGY,
    KL_CATEGORY_DEFENSIVENESS,
    KL_CATEGORY_DISMISSAL,
    KL_CATEGORY_MIND_READING,
    KL_CATEGORY_STONEWALLING,
    KL_CATEGORY_DEMAND,
    KL_CATEGORY_BLAME_QUESTION,
    KL_CATEGORY_COUNT
} kl_category;

/** "info", "warning", "error"; "unset" for 0. Static string. */
const char *kl_severity_name(kl_severity severity);
/** Parses a severity name; returns KL_SEVERITY_UNSET when unknown. */
kl_severity kl_severity_parse(const char *name);
/** "absolute", "blame", ..., "blame-question". Static string. */
const char *kl_category_name(kl_category category);
/** Parses a category name; returns KL_CATEGORY_UNSET when unknown. */
kl_category kl_category_parse(const char *name);

/* ------------------------------------------------------------------------ */
/* Rule sets                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct kl_rules kl_rules; /* opaque: loaded and compiled rule packs */
typedef struct kl_rule kl_rule;   /* opaque: one rule inside a kl_rules */

/** A new, empty rule set. Caller frees with kl_rules_free(). NULL on OOM. */
kl_rules *kl_rules_new(void);
void kl_rules_free(kl_rules *rules);

/** Adds the rule packs embedded in the library at build time. */
kl_status kl_rules_add_defaults(kl_rules *rules, kl_diag *diag);

/** Adds the rule pack in a YAML file. Patterns are compiled here, so a bad
 *  regex is reported with the file, line and column of its rule. */
kl_status kl_rules_add_file(kl_rules *rules, const char *path, kl_diag *diag);

/** Adds every *.yml / *.yaml file of a directory (sorted by name, not
 *  recursive), or the single file when path is a file. */
kl_status kl_rules_add_path(kl_rules *rules, const char *path, kl_diag *diag);

/** Adds a rule pack from memory. name is used in messages (e.g. a file
 *  name); data need not be NUL-terminated and is not kept. */
kl_status kl_rules_add_buffer(kl_rules *rules, const char *name, const char *data, size_t len,
                              kl_diag *diag);

/** Finishes the set: builds the matcher index. Must be called once, after
 *  the last kl_rules_add_*() and before scanning. The set is read-only
 *  afterwards and can be shared by threads. */
kl_status kl_rules_compile(kl_rules *rules, kl_diag *diag);

size_t kl_rules_count(const kl_rules *rules);
/** The i-th rule in load order (packs in the order added, rules in file
 *  order). NULL when out of range. */
const kl_rule *kl_rules_at(const kl_rules *rules, size_t i);
/** The rule with this id, or NULL. */
const kl_rule *kl_rules_find(const kl_rules *rules, const char *id);
/** Non-zero when a pack of this name was loaded. */
int kl_rules_has_pack(const kl_rules *rules, const char *pack);

size_t kl_rule_index(const kl_rule *rule);
const char *kl_rule_id(const kl_rule *rule);
const char *kl_rule_pack(const kl_rule *rule);
const char *kl_rule_pack_summary(const kl_rule *rule); /* "" when none */
const char *kl_rule_source(const kl_rule *rule);       /* file name of its pack */
kl_category kl_rule_category(const kl_rule *rule);
kl_severity kl_rule_severity(const kl_rule *rule);
const char *kl_rule_message(const kl_rule *rule);
const char *kl_rule_explain(const kl_rule *rule); /* "" when none */
const char *kl_rule_pattern(const kl_rule *rule); /* the match pattern as written */
size_t kl_rule_suggestion_count(const kl_rule *rule);
const char *kl_rule_suggestion_template(const kl_rule *rule, size_t i);
/** The i-th "flag" example of the rule's tests: its text and expected fix
 *  (*fix NULL when none). Returns -1 when there is no such example. */
int kl_rule_example(const kl_rule *rule, size_t i, const char **text, const char **fix);
/** Number of flag and pass examples in the rule's tests. */
size_t kl_rule_test_count(const kl_rule *rule);
/** A one-line description of the literal prefilter derived for the rule,
 *  e.g. "never & you"; "" when the rule has none and runs on every
 *  sentence. */
const char *kl_rule_triggers(const kl_rule *rule);

/* ------------------------------------------------------------------------ */
/* Policies: which rules run, at which severity                              */
/* ------------------------------------------------------------------------ */

typedef struct kl_policy kl_policy; /* opaque */

/** All rules enabled at their own severities. Caller frees with
 *  kl_policy_free(). The policy borrows rules, which must outlive it. */
kl_policy *kl_policy_new(const kl_rules *rules);
/** A copy. Caller frees with kl_policy_free(). */
kl_policy *kl_policy_copy(const kl_policy *policy);
void kl_policy_free(kl_policy *policy);

/** Enables or disables a rule id, a pack name, a category name, or "all".
 *  KL_ERR_USAGE when the name matches nothing. */
kl_status kl_policy_enable(kl_policy *policy, const char *name, int enabled);
/** Sets the severity of a rule id, pack, category or "all". */
kl_status kl_policy_set_severity(kl_policy *policy, const char *name, kl_severity severity);
int kl_policy_is_enabled(const kl_policy *policy, const kl_rule *rule);
kl_severity kl_policy_severity(const kl_policy *policy, const kl_rule *rule);

/* ------------------------------------------------------------------------ */
/* Documents                                                                 */
/* ------------------------------------------------------------------------ */

typedef enum kl_doc_kind {
    KL_DOC_TEXT = 0,
    KL_DOC_MARKDOWN,
    KL_DOC_COMMIT,
    KL_DOC_EMAIL,
    KL_DOC_CHAT
} kl_doc_kind;

/** The kind a file name implies: .md/.markdown markdown, COMMIT_EDITMSG and
 *  *_EDITMSG commit, .eml email, else text. Chat is never implied. */
kl_doc_kind kl_doc_kind_for_path(const char *path);
const char *kl_doc_kind_name(kl_doc_kind kind);
/** Returns 0 and sets *kind, or -1 when the name is unknown. */
int kl_doc_kind_parse(const char *name, kl_doc_kind *kind);

/* ------------------------------------------------------------------------ */
/* Scanning                                                                  */
/* ------------------------------------------------------------------------ */

/** Byte span. */
typedef struct kl_span {
    size_t offset;
    size_t length;
} kl_span;

/** Most named captures a rule's templates may refer to. */
#define KL_MAX_TEMPLATE_CAPTURES 8

/**
 * One finding. Offsets are bytes into the scanned input; input[offset ..
 * offset+length) is exactly the matched text. Lines are 1-based; columns are
 * 1-based code points (column_utf16: UTF-16 code units), end_column is
 * exclusive. Valid only during the callback that receives it.
 */
typedef struct kl_finding {
    const kl_rule *rule;
    kl_severity severity; /**< effective severity (policy applied) */
    size_t offset;
    size_t length;
    kl_span sentence; /**< the sentence that holds the match */
    kl_span speaker;  /**< chat: the speaker's name; length 0 otherwise */
    unsigned line, column, end_line, end_column;
    unsigned column_utf16, end_column_utf16;
    /** Bytes of the input: text for offset X is at base[X - base_offset].
     *  Lets a finding be read while a stream window is in memory. */
    const char *base;
    size_t base_offset;
    size_t base_length; /**< bytes available at base */
    unsigned flags;     /**< KL_FINDING_* */
    /** Internal: spans of the captures the rule's templates refer to. */
    kl_span captures[KL_MAX_TEMPLATE_CAPTURES];
} kl_finding;

/** Markdown larger than this is refused (md4c 0.4.8 has inputs that take
 *  quadratic time); lint such a file as text. */
#define KL_MAX_MARKDOWN_INPUT (32u * 1024u * 1024u)

/** The finding's span holds markup that is not linted (Markdown emphasis
 *  markers, a link's destination): a rewrite of the span would drop it, so
 *  --fix leaves such findings to the writer. */
#define KL_FINDING_CROSSES_MARKUP 1u

/** Length of a fingerprint in hex digits. */
#define KL_FINGERPRINT_LEN 16

/** A fingerprint of the finding that does not depend on where it is: its
 *  rule, its text and its sentence, white space folded. Same on every run
 *  and machine (baselines, SARIF partialFingerprints). */
void kl_finding_fingerprint(const kl_finding *f, char out[KL_FINGERPRINT_LEN + 1]);

/** Pointer to the matched text (length f->length). */
const char *kl_finding_text(const kl_finding *f);

/** Renders suggestion i of the finding's rule. *out is NUL-terminated;
 *  caller frees with free(). *has_blank (optional) is set to 1 when the
 *  text contains a [blank] the writer must fill. */
kl_status kl_finding_suggestion(const kl_finding *f, size_t i, char **out, size_t *out_len,
                                int *has_blank);

/** Called for every finding in input order. Return non-zero to stop. */
typedef int (*kl_finding_fn)(const kl_finding *finding, void *userdata);

/** A non-fatal problem met while scanning (a rule skipped on a too-complex
 *  sentence, an unknown rule id in a directive). line/column locate it. */
typedef void (*kl_notice_fn)(const kl_diag *notice, void *userdata);

/** What to scan and where findings go. Zero-initialise, then set
 *  abi_version = KL_ABI_VERSION. */
typedef struct kl_scan_options {
    unsigned abi_version;
    kl_doc_kind kind;
    const kl_policy *policy; /**< NULL: every rule at its own severity */
    int lint_quotes;         /**< non-zero: lint quoted (reported) speech too */
    const char *speaker;     /**< chat: lint only this speaker's turns */
    const char *path;        /**< used in notices; may be NULL */
    kl_finding_fn on_finding;
    kl_notice_fn on_notice; /**< may be NULL */
    void *userdata;
} kl_scan_options;

typedef struct kl_scanner kl_scanner; /* opaque: per-thread scan state */

/** A scanner over a compiled rule set. Caller frees with kl_scanner_free().
 *  The scanner borrows rules. NULL on OOM or if rules are not compiled. */
kl_scanner *kl_scanner_new(const kl_rules *rules);
void kl_scanner_free(kl_scanner *scanner);

/** Scans a whole buffer. Findings arrive in order of offset. Invalid UTF-8
 *  does not stop the scan: no match crosses an invalid byte. Returns
 *  KL_ERR_INPUT for input that is not UTF-8 text (UTF-16). */
kl_status kl_scan(kl_scanner *scanner, const kl_scan_options *options, const char *input,
                  size_t len, kl_diag *diag);

/* ------------------------------------------------------------------------ */
/* Rule self-tests (--test-rules)                                            */
/* ------------------------------------------------------------------------ */

typedef struct kl_test_result {
    const kl_rule *rule;
    int is_flag; /**< 1: a "flag" example, 0: a "pass" example */
    int passed;
    const char *text;     /**< the example text */
    const char *expected; /**< flag: the expected fix, or NULL */
    const char *got;      /**< the fix produced, or NULL */
    const char *problem;  /**< why it failed, or NULL */
    unsigned line;        /**< where the example is in its file, 0 if unknown */
    unsigned column;
} kl_test_result;

typedef void (*kl_test_fn)(const kl_test_result *result, void *userdata);

/** Runs each enabled rule's own tests with only that rule active. Calls fn
 *  for every example; *failed gets the number that failed and *untested the
 *  number of rules without tests. */
kl_status kl_rules_run_tests(const kl_rules *rules, kl_test_fn fn, void *userdata, size_t *failed,
                             size_t *untested, kl_diag *diag);

/* ------------------------------------------------------------------------ */
/* Reporters                                                                 */
/* ------------------------------------------------------------------------ */

typedef enum kl_format {
    KL_FORMAT_TEXT = 0,
    KL_FORMAT_LINE,
    KL_FORMAT_JSON,
    KL_FORMAT_JSONL,
    KL_FORMAT_SARIF, /**< SARIF 2.1.0, one log for the whole run */
    KL_FORMAT_GITHUB /**< GitHub Actions workflow commands (annotations) */
} kl_format;

/** Returns 0 and sets *format, or -1 when the name is unknown. */
int kl_format_parse(const char *name, kl_format *format);

typedef struct kl_reporter kl_reporter; /* opaque */

/** A reporter writing to out (borrowed). color: non-zero for ANSI colours
 *  (text format only). Caller frees with kl_reporter_free(). */
kl_reporter *kl_reporter_new(kl_format format, FILE *out, int color);
void kl_reporter_free(kl_reporter *reporter);
/** Starts a file: path as shown to the user; input is the whole buffer
 *  (used to print the source line in the text format). */
void kl_reporter_begin_file(kl_reporter *reporter, const char *path, const char *input, size_t len);
void kl_reporter_finding(kl_reporter *reporter, const kl_finding *finding);
void kl_reporter_end_file(kl_reporter *reporter);
/** Ends the report (json: closes the document with its summary; text: a
 *  summary line). Call once. */
void kl_reporter_finish(kl_reporter *reporter);

/** One finding as the compact JSON object of the json formats; "path" is
 *  left out when path is NULL. Caller frees with free(); NULL on OOM. */
char *kl_finding_json(const kl_finding *f, const char *path);

/** s[0..len) as valid UTF-8, NUL-terminated, each invalid byte replaced by
 *  U+FFFD, as the json formats show text and paths. Caller frees with
 *  free(); NULL on OOM. */
char *kl_utf8_clean(const char *s, size_t len);

/** A stream: input fed in pieces of any size and scanned in windows that
 *  end at a paragraph or line break, so memory stays flat whatever the
 *  input's size and findings come before the input ends. For the kinds
 *  text and chat (Markdown, commit messages and email need the whole
 *  document: use kl_scan). Findings carry offsets into the whole input;
 *  their text is readable (through base) only during the callback. */
typedef struct kl_stream kl_stream; /* opaque */

/** Caller frees with kl_stream_free(). The scanner and options (copied;
 *  the pointers in them are borrowed) must outlive the stream. */
kl_stream *kl_stream_new(kl_scanner *scanner, const kl_scan_options *opt);
/** A hint, before the first feed: the input holds about this many bytes (a
 *  regular file's size). Rules meet a large input's text again and again,
 *  so they are JIT-compiled at their first candidate sentence instead of
 *  after some interpreted runs. Findings are the same either way. */
void kl_stream_expect(kl_stream *stream, uint64_t bytes);
kl_status kl_stream_feed(kl_stream *stream, const char *data, size_t len, kl_diag *diag);
/** Scans what is left. Call once, after the last feed. */
kl_status kl_stream_finish(kl_stream *stream, kl_diag *diag);
void kl_stream_free(kl_stream *stream);

/* ------------------------------------------------------------------------ */
/* Fixing                                                                     */
/* ------------------------------------------------------------------------ */

/** Apply suggestions that hold a [blank] too (the blank stays as text). */
#define KL_FIX_BLANKS 1u

typedef struct kl_fix_request {
    unsigned flags;        /**< KL_FIX_* */
    const char *diff_path; /**< non-NULL: also make a unified diff of this path */
} kl_fix_request;

typedef struct kl_fix_result {
    char *text; /**< the fixed input (NUL-terminated; caller frees) */
    size_t len;
    char *diff; /**< the diff when asked ("" when nothing changed) */
    size_t diff_len;
    size_t applied; /**< findings fixed */
} kl_fix_result;

/** Scans input as kl_scan does and applies, in order, the first suggestion
 *  of every finding, except when the finding overlaps one already fixed,
 *  its rule has no suggestion, the suggestion holds a [blank] (without
 *  KL_FIX_BLANKS) or the span crosses markup. opt->on_finding is called for
 *  each finding left unfixed, so the caller can report it. Every byte
 *  outside the fixed spans is copied unchanged. Free the result with
 *  kl_fix_result_free(). */
kl_status kl_fix(kl_scanner *scanner, const kl_scan_options *opt, const char *input, size_t len,
                 const kl_fix_request *request, kl_fix_result *result, kl_diag *diag);
void kl_fix_result_free(kl_fix_result *result);

/* ------------------------------------------------------------------------ */
/* Configuration (.kindlint.yml)                                              */
/* ------------------------------------------------------------------------ */

/** One loaded configuration file. See examples/.kindlint.yml for the keys.
 *  Settings for a file come from a chain of configs, from the nearest
 *  directory up to the first with root: true; apply them farthest first. */
typedef struct kl_config kl_config; /* opaque */

/** The name looked for in each directory. */
#define KL_CONFIG_NAME ".kindlint.yml"

/** Loads a config file. On error (unreadable, not YAML, unknown key, bad
 *  value) returns KL_ERR_CONFIG or KL_ERR_IO with FILE:LINE:COL in diag.
 *  Caller frees *out with kl_config_free(). */
kl_status kl_config_load(const char *path, kl_config **out, kl_diag *diag);
/** The same from memory; dir is the directory relative paths and globs
 *  in it are taken from. */
kl_status kl_config_load_buffer(const char *name, const char *dir, const char *data, size_t len,
                                kl_config **out, kl_diag *diag);
void kl_config_free(kl_config *config);
/** Looks for KL_CONFIG_NAME in dir and its parents; returns a malloc'd
 *  path (caller frees) or NULL when there is none. */
char *kl_config_find(const char *dir);

const char *kl_config_path(const kl_config *config);
/** The directory the config's relative paths are taken from (absolute). */
const char *kl_config_dir(const kl_config *config);
/** root: true -- stop looking in parent directories. */
int kl_config_is_root(const kl_config *config);
/** default-rules: 1 true, 0 false, -1 not set. */
int kl_config_default_rules(const kl_config *config);
/** The rule paths it adds, already joined to its directory. */
size_t kl_config_rule_path_count(const kl_config *config);
const char *kl_config_rule_path(const kl_config *config, size_t i);

/** What a config chain says about one file, beyond the policy. Fields
 *  stay as they were when the config does not set them. */
typedef struct kl_file_settings {
    int quotes;          /**< -1 not set, 0 skip quoted speech, 1 lint it */
    int kind_set;        /**< the kind below was set by an override */
    kl_doc_kind kind;
    int fail_on_set;     /**< fail_on/fail_never below were set */
    kl_severity fail_on; /**< with fail_never == 0 */
    int fail_never;
} kl_file_settings;

/** Applies the config to the file at path (as the user named it): its
 *  enable/disable/severity lists, then those of every override whose files
 *  match, to policy; quotes, type and fail-on to settings. An unknown rule,
 *  pack or category name fails with KL_ERR_CONFIG and its FILE:LINE:COL. */
kl_status kl_config_apply(const kl_config *config, const char *path, kl_policy *policy,
                          kl_file_settings *settings, kl_diag *diag);
/** Does one of the config's ignore globs match path (a file, or a
 *  directory when is_dir)? */
int kl_config_ignores(const kl_config *config, const char *path, int is_dir);

/** Matches a path relative to a pattern's base directory against a
 *  .gitignore-style pattern (see glob.c): 1 when it matches. */
int kl_glob_match(const char *pattern, const char *relpath, int is_dir);
/** The same, also matching when a parent directory of relpath matches. */
int kl_glob_match_path(const char *pattern, const char *relpath, int is_dir);

#ifdef __cplusplus
}
#endif

#endif /* KINDLINT_H */

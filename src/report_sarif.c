/*
 * report_sarif.c -- SARIF 2.1.0, for GitHub code scanning and other tools
 * that read static-analysis results.
 *
 * One log for the whole run, built with jansson and written by finish:
 *
 *   runs[0].tool.driver   kindlint, its version, and a reportingDescriptor
 *                         for every rule that produced a result, in order of
 *                         first result (result.ruleIndex points into it)
 *   runs[0].artifacts     every file linted, once (roles: analysisTarget)
 *   runs[0].results       one per finding: rule, level, message (with the
 *                         first rewrite), a region, the rewrites as fixes and
 *                         a partialFingerprints entry
 *
 * Regions. columnKind is unicodeCodePoints because kl_finding's columns
 * count code points; charOffset/charLength count the same way (an invalid
 * byte is one character, a byte order mark none: SARIF says text positions
 * do not depend on a BOM). byteOffset/byteLength are the same span in bytes
 * of the file as read. A fix's deletedRegion holds the text properties only,
 * since a binary deletedRegion would require binary insertedContent.
 *
 * charOffset needs the code points from the start of the file, which the
 * reporter counts from finding to finding in the buffer the finding points
 * into (kl_finding.base). A stream (the CLI streams text files and stdin)
 * hands over windows of the input; when a window with no finding was
 * skipped, the count is lost and charOffset/charLength are left out for the
 * rest of that file, rather than guessed.
 *
 * Paths. A relative path is a URI reference against %SRCROOT% (declared in
 * originalUriBaseIds as the working directory), every byte but RFC 3986's
 * unreserved ones and '/' percent-encoded; an absolute path is a file: URI;
 * standard input is the relative URI "stdin" with no base, as no file of
 * that name is meant.
 *
 * Fingerprints. partialFingerprints["kindlintFindingHash/v1"] is
 * kl_finding_fingerprint() (rule, matched text and sentence, white space
 * folded: unchanged when lines are added above) with ":N" for the N-th
 * result of that hash in the file, so two identical sentences in one file
 * stay two alerts (the scheme of GitHub's primaryLocationLineHash).
 *
 * Every string from the input or a rule pack goes through kl_utf8_sanitize,
 * so the log is valid UTF-8 whatever the input held; jansson escapes
 * control characters.
 */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

#define SARIF_SCHEMA                                                                               \
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#define SARIF_INFORMATION_URI "https://github.com/kindlint/kindlint"
#define SARIF_SRCROOT "%SRCROOT%"
#define SARIF_FINGERPRINT_KEY "kindlintFindingHash/v1"
#define SARIF_STDIN_PATH "<stdin>"

typedef struct sarif_log {
    json_t *root; /* the log; the three arrays below are borrowed from it */
    json_t *rules;
    json_t *artifacts;
    json_t *results;
    json_t *artifact_index; /* uri -> index into artifacts */
    const kl_rule **rule_of; /* rules[i] describes rule_of[i] */
    size_t nrules, caprules;
    /* the current file */
    json_t *location;     /* its artifactLocation, shared by its results */
    json_t *occurrences;  /* fingerprint -> results with it so far */
    int chars_known;      /* chars is the count of code points before pos */
    size_t pos, chars;
} sarif_log;

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

/* A JSON string of s as valid UTF-8. NULL only when out of memory. */
static json_t *text_value(const char *s, size_t len)
{
    kl_buf b;
    kl_buf_init(&b);
    kl_utf8_sanitize(s, len, &b);
    json_t *j = b.failed ? NULL : json_stringn(b.data ? b.data : "", b.len);
    kl_buf_free(&b);
    return j;
}

static json_t *text_value_str(const char *s)
{
    return text_value(s, strlen(s));
}

/* A message (or multiformatMessageString) object: {"text": s}. */
static json_t *message_new(const char *s, size_t len)
{
    return json_pack("{s:o}", "text", text_value(s, len));
}

static const char *level_name(kl_severity s)
{
    return s == KL_SEVERITY_ERROR ? "error" : s == KL_SEVERITY_WARNING ? "warning" : "note";
}

/* RFC 3986: unreserved bytes and '/' stay, every other byte is %XX. Also
 * keeps a relative reference whose first segment holds ':' from reading as
 * a scheme, since ':' is encoded. */
static void percent_encode(kl_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            kl_buf_putc(b, (char)c);
        } else {
            kl_buf_putc(b, '%');
            kl_buf_putc(b, hex[c >> 4]);
            kl_buf_putc(b, hex[c & 15]);
        }
    }
}

/* Code points in s[0, n), counted as position.c counts columns: a valid
 * sequence is one, an invalid byte is one. */
static size_t count_code_points(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, count = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = u[i] < 0x80 ? 1 : kl_utf8_decode(u + i, n - i, &cp);
        i += len ? len : 1;
        count++;
    }
    return count;
}

/* ------------------------------------------------------------------------ */
/* The log                                                                   */
/* ------------------------------------------------------------------------ */

/* %SRCROOT% as the working directory's file: URI (ending in '/', as SARIF
 * requires of a base). NULL when the directory is unknown. */
static json_t *srcroot_new(void)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/')
        return NULL;
    kl_buf b;
    kl_buf_init(&b);
    kl_buf_puts(&b, "file://");
    percent_encode(&b, cwd);
    if (b.len == 0 || b.data[b.len - 1] != '/')
        kl_buf_putc(&b, '/');
    json_t *base = NULL;
    if (!b.failed)
        base = json_pack("{s:{s:s%, s:{s:s}}}", SARIF_SRCROOT, "uri", b.data, b.len,
                         "description", "text", "The directory kindlint ran in.");
    kl_buf_free(&b);
    return base;
}

int kl_report_sarif_begin(kl_reporter *r)
{
    sarif_log *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->rules = json_array();
    s->artifacts = json_array();
    s->results = json_array();
    s->artifact_index = json_object();
    json_t *driver = json_pack("{s:s, s:s, s:s, s:s, s:O}", "name", "kindlint", "version",
                               kl_version(), "semanticVersion", kl_version(), "informationUri",
                               SARIF_INFORMATION_URI, "rules", s->rules);
    json_t *run = json_pack("{s:{s:o}, s:O, s:O, s:s, s:s}", "tool", "driver", driver,
                            "artifacts", s->artifacts, "results", s->results, "defaultEncoding",
                            "utf-8", "columnKind", "unicodeCodePoints");
    json_t *base = srcroot_new();
    if (run && base)
        json_object_set_new(run, "originalUriBaseIds", base);
    else
        json_decref(base);
    s->root = json_pack("{s:s, s:s, s:[o]}", "$schema", SARIF_SCHEMA, "version", "2.1.0", "runs",
                        run);
    /* the arrays now belong to the log */
    json_decref(s->rules);
    json_decref(s->artifacts);
    json_decref(s->results);
    if (!s->root || !s->artifact_index) {
        json_decref(s->root);
        json_decref(s->artifact_index);
        free(s);
        return -1;
    }
    r->sarif = s;
    return 0;
}

void kl_report_sarif_free(kl_reporter *r)
{
    sarif_log *s = r->sarif;
    if (!s)
        return;
    json_decref(s->root);
    json_decref(s->artifact_index);
    json_decref(s->location);
    json_decref(s->occurrences);
    free(s->rule_of);
    free(s);
    r->sarif = NULL;
}

/* The URI of a path as the user gave it; caller frees. */
static char *path_uri(const char *path, int *relative)
{
    kl_buf b;
    kl_buf_init(&b);
    *relative = 0;
    if (strcmp(path, SARIF_STDIN_PATH) == 0) {
        kl_buf_puts(&b, "stdin");
    } else if (path[0] == '/') {
        kl_buf_puts(&b, "file://");
        percent_encode(&b, path);
    } else {
        while (path[0] == '.' && path[1] == '/')
            for (path += 2; path[0] == '/'; path++)
                ;
        percent_encode(&b, path);
        *relative = 1;
    }
    return kl_buf_detach(&b, NULL);
}

/* A new file starts: its artifact (once per URI) and its artifactLocation,
 * and the per-file counts start again. */
void kl_report_sarif_file(kl_reporter *r)
{
    sarif_log *s = r->sarif;
    if (!s)
        return;
    json_decref(s->location);
    json_decref(s->occurrences);
    s->location = NULL;
    s->occurrences = json_object();
    s->chars_known = 1;
    s->pos = s->chars = 0;

    const char *path = r->path ? r->path : SARIF_STDIN_PATH;
    int relative;
    char *uri = path_uri(path, &relative);
    if (!uri)
        return;
    json_t *loc = json_pack("{s:s}", "uri", uri);
    if (loc && relative)
        json_object_set_new(loc, "uriBaseId", json_string(SARIF_SRCROOT));
    json_t *known = json_object_get(s->artifact_index, uri);
    json_int_t index = 0;
    if (known) {
        index = json_integer_value(known);
    } else if (loc) {
        json_t *artifact = json_pack("{s:O, s:[s]}", "location", loc, "roles", "analysisTarget");
        if (artifact && strcmp(path, SARIF_STDIN_PATH) == 0)
            json_object_set_new(artifact, "description",
                                json_pack("{s:s}", "text", "Standard input."));
        index = (json_int_t)json_array_size(s->artifacts);
        if (!artifact || json_array_append_new(s->artifacts, artifact) != 0 ||
            json_object_set_new(s->artifact_index, uri, json_integer(index)) != 0) {
            json_decref(loc);
            free(uri);
            return;
        }
    }
    free(uri);
    if (loc)
        json_object_set_new(loc, "index", json_integer(index));
    s->location = loc;
}

/* The index of the rule's reportingDescriptor, added on its first result;
 * -1 when out of memory. */
static int rule_index(sarif_log *s, const kl_rule *rule)
{
    for (size_t i = 0; i < s->nrules; i++)
        if (s->rule_of[i] == rule)
            return (int)i;
    if (s->nrules == s->caprules) {
        size_t cap = s->caprules ? s->caprules * 2 : 16;
        const kl_rule **p = realloc(s->rule_of, cap * sizeof *p);
        if (!p)
            return -1;
        s->rule_of = p;
        s->caprules = cap;
    }
    const char *msg = kl_rule_message(rule);
    const char *explain = kl_rule_explain(rule);
    const char *category = kl_category_name(kl_rule_category(rule));
    kl_buf help;
    kl_buf_init(&help);
    kl_buf_puts(&help, explain[0] ? explain : msg);
    const char *example, *fix;
    if (kl_rule_example(rule, 0, &example, &fix) == 0) {
        kl_buf_printf(&help, "\n\nExample: %s", example);
        if (fix)
            kl_buf_printf(&help, "\nTry: %s", fix);
    }
    json_t *d = json_pack(
        "{s:o, s:o, s:o, s:o, s:{s:s}, s:{s:o, s:o, s:[s, o]}}", "id", text_value_str(kl_rule_id(rule)),
        "name", text_value_str(kl_rule_id(rule)), "shortDescription", message_new(msg, strlen(msg)),
        "help", message_new(help.data ? help.data : "", help.len), "defaultConfiguration", "level",
        level_name(kl_rule_severity(rule)), "properties", "category", json_string(category), "pack",
        text_value_str(kl_rule_pack(rule)), "tags", "communication", json_string(category));
    kl_buf_free(&help);
    if (d && explain[0])
        json_object_set_new(d, "fullDescription", message_new(explain, strlen(explain)));
    if (!d || json_array_append_new(s->rules, d) != 0)
        return -1;
    s->rule_of[s->nrules] = rule;
    return (int)s->nrules++;
}

/* The finding's offset in code points from the start of the file, when it
 * can be counted from the last finding within the buffer at f->base. */
static int char_offset(sarif_log *s, const kl_finding *f, size_t *out)
{
    size_t end = f->base_offset + f->base_length;
    if (!s->chars_known || s->pos < f->base_offset || f->offset < s->pos || f->offset > end) {
        s->chars_known = 0;
        return -1;
    }
    const char *p = f->base + (s->pos - f->base_offset);
    size_t n = f->offset - s->pos;
    if (s->pos == 0 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3; /* a byte order mark is no character */
        n -= 3;
    }
    s->chars += count_code_points(p, n);
    s->pos = f->offset;
    *out = s->chars;
    return 0;
}

/* The finding's text region; with the binary region and snippet when
 * whole (a fix's deletedRegion must be text only). chars_len < 0: no
 * charOffset/charLength. */
static json_t *region_new(const kl_finding *f, long long chars_at, long long chars_len, int whole)
{
    json_t *g = json_pack("{s:I, s:I, s:I, s:I}", "startLine", (json_int_t)f->line, "startColumn",
                          (json_int_t)f->column, "endLine", (json_int_t)f->end_line, "endColumn",
                          (json_int_t)f->end_column);
    if (!g)
        return NULL;
    if (chars_len >= 0) {
        json_object_set_new(g, "charOffset", json_integer(chars_at));
        json_object_set_new(g, "charLength", json_integer(chars_len));
    }
    if (whole) {
        json_object_set_new(g, "byteOffset", json_integer((json_int_t)f->offset));
        json_object_set_new(g, "byteLength", json_integer((json_int_t)f->length));
        json_object_set_new(g, "snippet", message_new(kl_finding_text(f), f->length));
    }
    return g;
}

/* One fix per rewrite the rule suggests; none when the span crosses markup
 * the rewrite would drop (--fix leaves those to the writer too). The first
 * rewrite is also appended to the result's message. */
static json_t *fixes_new(sarif_log *s, const kl_finding *f, long long chars_at,
                         long long chars_len, kl_buf *msg)
{
    json_t *fixes = json_array();
    for (size_t i = 0; fixes && i < kl_rule_suggestion_count(f->rule); i++) {
        char *sug = NULL;
        size_t slen = 0;
        int blank = 0;
        if (kl_finding_suggestion(f, i, &sug, &slen, &blank) != KL_OK) {
            free(sug);
            continue;
        }
        if (i == 0) {
            kl_buf_puts(msg, " Try: ");
            kl_buf_append(msg, sug, slen);
        }
        if (!(f->flags & KL_FINDING_CROSSES_MARKUP) && s->location) {
            kl_buf desc;
            kl_buf_init(&desc);
            kl_buf_puts(&desc, blank ? "Rewrite, then fill in the part in brackets: "
                                     : "Rewrite as: ");
            kl_buf_append(&desc, sug, slen);
            json_t *fix = json_pack("{s:o, s:[{s:O, s:[{s:o, s:{s:o}}]}]}", "description",
                                    message_new(desc.data ? desc.data : "", desc.len),
                                    "artifactChanges", "artifactLocation", s->location,
                                    "replacements", "deletedRegion",
                                    region_new(f, chars_at, chars_len, 0), "insertedContent",
                                    "text", text_value(sug, slen));
            kl_buf_free(&desc);
            if (fix)
                json_array_append_new(fixes, fix);
        }
        free(sug);
    }
    return fixes;
}

/* The fingerprint with ":N", N counting results of that hash in the file. */
static json_t *fingerprints_new(sarif_log *s, const kl_finding *f)
{
    char fp[KL_FINGERPRINT_LEN + 1], value[KL_FINGERPRINT_LEN + 24];
    kl_finding_fingerprint(f, fp);
    json_int_t n = 1;
    if (s->occurrences) {
        n = json_integer_value(json_object_get(s->occurrences, fp)) + 1;
        json_object_set_new(s->occurrences, fp, json_integer(n));
    }
    snprintf(value, sizeof value, "%s:%lld", fp, (long long)n);
    return json_pack("{s:s}", SARIF_FINGERPRINT_KEY, value);
}

void kl_report_sarif_finding(kl_reporter *r, const kl_finding *f)
{
    sarif_log *s = r->sarif;
    if (!s)
        return;
    if (!s->location && !s->occurrences)
        kl_report_sarif_file(r); /* a caller that did not begin a file */
    if (!s->location)
        return;
    int ri = rule_index(s, f->rule);
    if (ri < 0)
        return;
    size_t at;
    long long chars_at = 0, chars_len = -1;
    if (char_offset(s, f, &at) == 0) {
        chars_at = (long long)at;
        chars_len = (long long)count_code_points(kl_finding_text(f), f->length);
    }
    kl_buf msg;
    kl_buf_init(&msg);
    kl_buf_puts(&msg, kl_rule_message(f->rule));
    json_t *fixes = fixes_new(s, f, chars_at, chars_len, &msg);
    json_t *res = json_pack(
        "{s:o, s:i, s:s, s:o, s:[{s:{s:O, s:o}}], s:o}", "ruleId", text_value_str(kl_rule_id(f->rule)),
        "ruleIndex", ri, "level", level_name(f->severity), "message",
        message_new(msg.data ? msg.data : "", msg.len), "locations", "physicalLocation",
        "artifactLocation", s->location, "region", region_new(f, chars_at, chars_len, 1),
        "partialFingerprints", fingerprints_new(s, f));
    kl_buf_free(&msg);
    if (res && json_array_size(fixes))
        json_object_set(res, "fixes", fixes);
    json_decref(fixes);
    if (res && f->speaker.length)
        json_object_set_new(
            res, "properties",
            json_pack("{s:o}", "speaker",
                      text_value(f->base + (f->speaker.offset - f->base_offset), f->speaker.length)));
    if (res)
        json_array_append_new(s->results, res);
}

/* The log is complete only now: rules and artifacts grow to the last file. */
void kl_report_sarif_finish(kl_reporter *r)
{
    sarif_log *s = r->sarif;
    if (!s)
        return;
    json_t *run = json_array_get(json_object_get(s->root, "runs"), 0);
    json_object_set_new(run, "invocations", json_pack("[{s:b}]", "executionSuccessful", 1));
    if (json_dumpf(s->root, r->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0)
        fputc('\n', r->out);
}

/*
 * report_sarif.c -- SARIF 2.1.0, for GitHub code scanning and other tools
 * that read static-analysis results.
 *
 * One log for the whole run. Each result is written as it comes (built
 * with jansson, then freed), so memory does not grow with the results;
 * the run's other members, known at the end, follow them (a JSON object's
 * members have no order): tool.driver with a reportingDescriptor for every
 * rule that produced a result, an artifact for every file with results.
 * Results carry the rule,
 * level, message, a region (lines, and columns in UTF-16 code units,
 * SARIF's default, plus the byte offset and length), the rewrites as
 * fixes, and a partialFingerprints entry that does not move when lines are
 * added above (kl_finding_fingerprint). Relative paths are URIs against
 * %SRCROOT%, the working directory; absolute ones are file: URIs.
 */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
#define INFORMATION_URI "https://github.com/kindlint/kindlint"

typedef struct sarif {
    json_t *run;   /* the run's members but its results */
    json_t *rules; /* driver.rules */
    json_t *artifacts;
    size_t nresults; /* written */
    int head_written;
    const kl_rule **rule_of; /* rules[i] describes rule_of[i] */
    size_t nrules, caprules;
    int artifact; /* index of the current file */
    char *uri;    /* of the current file */
    int uri_relative;
} sarif;

static json_t *text_value(const char *s, size_t len)
{
    kl_buf b;
    kl_buf_init(&b);
    kl_utf8_sanitize(s, len, &b);
    json_t *j = b.failed ? json_string("") : json_stringn(b.data ? b.data : "", b.len);
    kl_buf_free(&b);
    return j;
}

static json_t *message(const char *s)
{
    return json_pack("{s:o}", "text", text_value(s, strlen(s)));
}

/* RFC 3986: unreserved bytes and '/' stay, everything else is %XX. */
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

static const char *level_name(kl_severity s)
{
    return s == KL_SEVERITY_ERROR ? "error" : s == KL_SEVERITY_WARNING ? "warning" : "note";
}

int kl_report_sarif_begin(kl_reporter *r)
{
    sarif *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->rules = json_array();
    s->artifacts = json_array();
    json_t *driver = json_pack("{s:s, s:s, s:s, s:s, s:O}", "name", "kindlint", "version",
                               kl_version(), "semanticVersion", kl_version(), "informationUri",
                               INFORMATION_URI, "rules", s->rules);
    char cwd[PATH_MAX];
    json_t *base = NULL;
    if (getcwd(cwd, sizeof cwd)) {
        kl_buf b;
        kl_buf_init(&b);
        kl_buf_puts(&b, "file://");
        percent_encode(&b, cwd);
        if (b.len == 0 || b.data[b.len - 1] != '/')
            kl_buf_putc(&b, '/');
        if (!b.failed)
            base = json_pack("{s:{s:s%}}", "%SRCROOT%", "uri", b.data, b.len);
        kl_buf_free(&b);
    }
    s->run = json_pack("{s:{s:o}, s:O, s:s}", "tool", "driver", driver, "artifacts", s->artifacts,
                       "columnKind", "utf16CodeUnits");
    if (s->run && base)
        json_object_set_new(s->run, "originalUriBaseIds", base);
    else
        json_decref(base);
    if (!s->run || !s->rules || !s->artifacts) {
        json_decref(s->run);
        json_decref(s->rules);
        json_decref(s->artifacts);
        free(s);
        return -1;
    }
    s->artifact = -1;
    r->sarif = s;
    return 0;
}

void kl_report_sarif_free(kl_reporter *r)
{
    sarif *s = r->sarif;
    if (!s)
        return;
    json_decref(s->run);
    json_decref(s->rules);
    json_decref(s->artifacts);
    free(s->rule_of);
    free(s->uri);
    free(s);
    r->sarif = NULL;
}

/* The artifact of the current file, added when its first result comes. */
static int current_artifact(kl_reporter *r, sarif *s)
{
    if (s->artifact >= 0 && s->uri)
        return s->artifact;
    free(s->uri);
    s->uri = NULL;
    const char *path = r->path;
    kl_buf b;
    kl_buf_init(&b);
    s->uri_relative = path[0] != '/' && strcmp(path, "<stdin>") != 0;
    if (strcmp(path, "<stdin>") == 0) {
        kl_buf_puts(&b, "stdin");
    } else if (path[0] == '/') {
        kl_buf_puts(&b, "file://");
        percent_encode(&b, path);
    } else {
        percent_encode(&b, strncmp(path, "./", 2) == 0 ? path + 2 : path);
    }
    s->uri = kl_buf_detach(&b, NULL);
    if (!s->uri)
        return -1;
    json_t *loc = json_pack("{s:s}", "uri", s->uri);
    if (s->uri_relative)
        json_object_set_new(loc, "uriBaseId", json_string("%SRCROOT%"));
    json_array_append_new(s->artifacts, json_pack("{s:o, s:s, s:s}", "location", loc, "encoding",
                                                  "utf-8", "sourceLanguage",
                                                  kl_doc_kind_name(kl_doc_kind_for_path(path))));
    s->artifact = (int)json_array_size(s->artifacts) - 1;
    return s->artifact;
}

static json_t *artifact_location(const sarif *s)
{
    json_t *loc = json_pack("{s:s, s:i}", "uri", s->uri, "index", s->artifact);
    if (s->uri_relative)
        json_object_set_new(loc, "uriBaseId", json_string("%SRCROOT%"));
    return loc;
}

/* The index of the rule's reportingDescriptor, added on first use. */
static int rule_index(sarif *s, const kl_rule *rule)
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
    const char *explain = kl_rule_explain(rule);
    const char *msg = kl_rule_message(rule);
    const char *cat = kl_category_name(kl_rule_category(rule));
    kl_buf help;
    kl_buf_init(&help);
    kl_buf_puts(&help, explain[0] ? explain : msg);
    const char *text, *fix;
    if (kl_rule_example(rule, 0, &text, &fix) == 0) {
        kl_buf_printf(&help, "\n\nExample: %s", text);
        if (fix)
            kl_buf_printf(&help, "\nTry: %s", fix);
    }
    json_t *d = json_pack("{s:s, s:s, s:o, s:o, s:{s:o}, s:{s:s}, s:{s:s, s:s, s:[s, s]}}", "id",
                          kl_rule_id(rule), "name", kl_rule_id(rule), "shortDescription",
                          message(msg), "fullDescription", message(explain[0] ? explain : msg),
                          "help", "text", text_value(help.data ? help.data : "", help.len),
                          "defaultConfiguration", "level", level_name(kl_rule_severity(rule)),
                          "properties", "category", cat, "pack", kl_rule_pack(rule), "tags",
                          "communication", cat);
    kl_buf_free(&help);
    if (!d || json_array_append_new(s->rules, d) != 0)
        return -1;
    s->rule_of[s->nrules] = rule;
    return (int)s->nrules++;
}

static json_t *region(const kl_finding *f, int snippet)
{
    json_t *g = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "startLine", (json_int_t)f->line,
                          "startColumn", (json_int_t)f->column_utf16, "endLine",
                          (json_int_t)f->end_line, "endColumn", (json_int_t)f->end_column_utf16,
                          "byteOffset", (json_int_t)f->offset, "byteLength",
                          (json_int_t)f->length);
    if (g && snippet)
        json_object_set_new(g, "snippet",
                            json_pack("{s:o}", "text", text_value(kl_finding_text(f), f->length)));
    return g;
}

/* s with indent more spaces after each line break (JSON text holds none
 * inside its strings). */
static void put_indented(FILE *out, const char *s, int indent)
{
    for (const char *nl; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
        fwrite(s, 1, (size_t)(nl - s + 1), out);
        fprintf(out, "%*s", indent, "");
    }
    fputs(s, out);
}

/* The log up to the first result, once. */
static void put_head(FILE *out, sarif *s)
{
    if (s->head_written)
        return;
    s->head_written = 1;
    fputs("{\n  \"$schema\": \"" SARIF_SCHEMA "\",\n  \"version\": \"2.1.0\",\n"
          "  \"runs\": [\n    {\n      \"results\": [",
          out);
}

static void put_result(FILE *out, sarif *s, const json_t *res)
{
    char *text = json_dumps(res, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text)
        return;
    put_head(out, s);
    fputs(s->nresults++ ? ",\n        " : "\n        ", out);
    put_indented(out, text, 8);
    free(text);
}

void kl_report_sarif_finding(kl_reporter *r, const kl_finding *f)
{
    sarif *s = r->sarif;
    if (!s || current_artifact(r, s) < 0)
        return;
    int ri = rule_index(s, f->rule);
    if (ri < 0)
        return;
    char fp[KL_FINGERPRINT_LEN + 1];
    kl_finding_fingerprint(f, fp);
    kl_buf text;
    kl_buf_init(&text);
    kl_buf_puts(&text, kl_rule_message(f->rule));
    json_t *fixes = json_array();
    for (size_t i = 0; i < kl_rule_suggestion_count(f->rule); i++) {
        char *sug = NULL;
        size_t slen = 0;
        if (kl_finding_suggestion(f, i, &sug, &slen, NULL) != KL_OK)
            continue;
        if (i == 0)
            kl_buf_printf(&text, " Try: %s", sug);
        kl_buf desc;
        kl_buf_init(&desc);
        kl_buf_printf(&desc, "Rewrite as: %s", sug);
        json_t *fix = json_pack("{s:{s:o}, s:[{s:o, s:[{s:o, s:{s:o}}]}]}", "description", "text",
                                text_value(desc.data ? desc.data : "", desc.len),
                                "artifactChanges", "artifactLocation", artifact_location(s),
                                "replacements", "deletedRegion", region(f, 0), "insertedContent",
                                "text", text_value(sug, slen));
        kl_buf_free(&desc);
        free(sug);
        if (fix)
            json_array_append_new(fixes, fix);
    }
    json_t *res = json_pack("{s:s, s:i, s:s, s:{s:o}, s:[{s:{s:o, s:o}}], s:{s:s}}", "ruleId",
                            kl_rule_id(f->rule), "ruleIndex", ri, "level",
                            level_name(f->severity), "message", "text",
                            text_value(text.data ? text.data : "", text.len), "locations",
                            "physicalLocation", "artifactLocation", artifact_location(s), "region",
                            region(f, 1), "partialFingerprints", "kindlint/v1", fp);
    kl_buf_free(&text);
    if (!res) {
        json_decref(fixes);
        return;
    }
    if (json_array_size(fixes))
        json_object_set_new(res, "fixes", fixes);
    else
        json_decref(fixes);
    if (f->speaker.length)
        json_object_set_new(res, "properties",
                            json_pack("{s:o}", "speaker",
                                      text_value(f->base + (f->speaker.offset - f->base_offset),
                                                 f->speaker.length)));
    put_result(r->out, s, res);
    json_decref(res);
}

/* A new file starts: its artifact is made when it has a result. */
void kl_report_sarif_file(kl_reporter *r)
{
    sarif *s = r->sarif;
    if (s) {
        s->artifact = -1;
        free(s->uri);
        s->uri = NULL;
    }
}

void kl_report_sarif_finish(kl_reporter *r)
{
    sarif *s = r->sarif;
    if (!s)
        return;
    put_head(r->out, s);
    fputs(s->nresults ? "\n      ]" : "]", r->out);
    json_object_set_new(s->run, "invocations", json_pack("[{s:b}]", "executionSuccessful", 1));
    /* the other members, as the run's object gives them without its braces */
    char *rest = json_dumps(s->run, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    size_t n = rest ? strlen(rest) : 0;
    if (n > 4 && rest[0] == '{' && rest[1] == '\n' && rest[n - 2] == '\n' && rest[n - 1] == '}') {
        rest[n - 2] = '\0';
        fputs(",\n    ", r->out);
        put_indented(r->out, rest + 2, 4);
    }
    free(rest);
    fputs("\n    }\n  ]\n}\n", r->out);
}

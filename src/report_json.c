/*
 * report_json.c -- the json and jsonl formats, built with jansson.
 *
 * A finding is the object of DESIGN.md section 6, keys in a fixed order.
 * json streams one document: each finding is printed as soon as it is
 * known, and the summary closes it, so memory does not grow with the
 * number of findings. jsonl prints one finding per line.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static json_t *utf8_string(const char *s, size_t len)
{
    kl_buf b;
    kl_buf_init(&b);
    kl_utf8_sanitize(s, len, &b);
    json_t *j = b.failed ? NULL : json_stringn(b.data ? b.data : "", b.len);
    kl_buf_free(&b);
    return j;
}

static json_t *finding_object_path(const char *path, const kl_finding *f)
{
    const kl_rule *rule = f->rule;
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (path)
        json_object_set_new(o, "path", utf8_string(path, strlen(path)));
    json_object_set_new(o, "rule", json_string(kl_rule_id(rule)));
    json_object_set_new(o, "pack", json_string(kl_rule_pack(rule)));
    json_object_set_new(o, "category", json_string(kl_category_name(kl_rule_category(rule))));
    json_object_set_new(o, "severity", json_string(kl_severity_name(f->severity)));
    json_object_set_new(o, "message",
                        utf8_string(kl_rule_message(rule), strlen(kl_rule_message(rule))));
    json_object_set_new(o, "line", json_integer(f->line));
    json_object_set_new(o, "column", json_integer(f->column));
    json_object_set_new(o, "end_line", json_integer(f->end_line));
    json_object_set_new(o, "end_column", json_integer(f->end_column));
    json_object_set_new(o, "offset", json_integer((json_int_t)f->offset));
    json_object_set_new(o, "length", json_integer((json_int_t)f->length));
    json_object_set_new(o, "text", utf8_string(kl_finding_text(f), f->length));
    if (f->speaker.length)
        json_object_set_new(
            o, "speaker",
            utf8_string(f->base + (f->speaker.offset - f->base_offset), f->speaker.length));
    json_t *sugg = json_array();
    for (size_t i = 0; i < kl_rule_suggestion_count(rule); i++) {
        char *s = NULL;
        size_t slen = 0;
        if (kl_finding_suggestion(f, i, &s, &slen, NULL) == KL_OK)
            json_array_append_new(sugg, utf8_string(s, slen));
        free(s);
    }
    json_object_set_new(o, "suggestions", sugg);
    return o;
}

static json_t *finding_object(kl_reporter *r, const kl_finding *f)
{
    return finding_object_path(r->path, f);
}

char *kl_finding_json(const kl_finding *f, const char *path)
{
    json_t *o = finding_object_path(path, f);
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(o);
    return s;
}

void kl_report_json_begin(kl_reporter *r)
{
    fputs("{\"version\": 1, \"findings\": [", r->out);
}

void kl_report_json_finding(kl_reporter *r, const kl_finding *f)
{
    json_t *o = finding_object(r, f);
    if (!o)
        return;
    char *s =
        json_dumps(o, JSON_PRESERVE_ORDER | (r->format == KL_FORMAT_JSONL ? JSON_COMPACT : 0));
    json_decref(o);
    if (!s)
        return;
    if (r->format == KL_FORMAT_JSON) {
        fputs(r->json_first ? "\n  " : ",\n  ", r->out);
        r->json_first = 0;
        fputs(s, r->out);
    } else {
        fputs(s, r->out);
        fputc('\n', r->out);
    }
    free(s);
}

void kl_report_json_finish(kl_reporter *r)
{
    json_t *sum = json_object();
    json_object_set_new(sum, "files", json_integer((json_int_t)r->files));
    json_object_set_new(sum, "files_with_findings",
                        json_integer((json_int_t)r->files_with_findings));
    json_object_set_new(sum, "findings", json_integer((json_int_t)r->findings));
    for (int s = KL_SEVERITY_ERROR; s >= KL_SEVERITY_INFO; s--)
        json_object_set_new(sum, kl_severity_name((kl_severity)s),
                            json_integer((json_int_t)r->by_severity[s]));
    json_t *cats = json_object();
    for (int c = KL_CATEGORY_UNSET + 1; c < KL_CATEGORY_COUNT; c++)
        json_object_set_new(cats, kl_category_name((kl_category)c),
                            json_integer((json_int_t)r->by_category[c]));
    json_object_set_new(sum, "by_category", cats);
    if (r->nspeakers) {
        json_t *sp = json_object();
        for (size_t i = 0; i < r->nspeakers; i++) {
            json_t *one = json_object(), *bc = json_object();
            json_object_set_new(one, "findings", json_integer((json_int_t)r->speakers[i].findings));
            for (int c = KL_CATEGORY_UNSET + 1; c < KL_CATEGORY_COUNT; c++)
                if (r->speakers[i].by_category[c])
                    json_object_set_new(bc, kl_category_name((kl_category)c),
                                        json_integer((json_int_t)r->speakers[i].by_category[c]));
            json_object_set_new(one, "by_category", bc);
            json_object_set_new(sp, r->speakers[i].name, one);
        }
        json_object_set_new(sum, "by_speaker", sp);
    }
    char *s = json_dumps(sum, JSON_PRESERVE_ORDER);
    json_decref(sum);
    fprintf(r->out, "%s], \"summary\": %s}\n", r->json_first ? "" : "\n", s ? s : "{}");
    free(s);
}

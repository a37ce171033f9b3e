/*
 * records.c -- --input jsonl: kindlint as the map step of a bigger engine.
 *
 * Reads one JSON object a line ({"id": ..., "text": "..."}; the field
 * names can be changed) and writes one line per record, in the same order:
 *
 *   {"id": ID, "findings": [F...]}          F as in --format jsonl, with
 *                                            offsets into the record's text
 *   {"id": ID, "line": N, "error": "..."}    a record that cannot be read
 *
 * A bad record is answered in place and the rest go on, so one odd line
 * does not fail a map task; the exit status is 1 when a record has a
 * finding at or above --fail-on, else 0 (2 only for a read error of the
 * input itself). Memory holds one record at a time.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct record_ctx {
    const cli_opts *o;
    char **items; /* the findings' JSON */
    size_t n, cap;
    int failing;
    int oom;
} record_ctx;

static int record_finding(const kl_finding *f, void *ud)
{
    record_ctx *r = ud;
    if (!r->o->fail_never && f->severity >= r->o->fail_on)
        r->failing = 1;
    char *s = kl_finding_json(f, NULL);
    if (s && r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        char **p = realloc(r->items, cap * sizeof *p);
        if (p) {
            r->items = p;
            r->cap = cap;
        }
    }
    if (!s || r->n == r->cap) {
        free(s);
        r->oom = 1;
        return 1;
    }
    r->items[r->n++] = s;
    return 0;
}

static void put_error(FILE *out, json_t *id, size_t line, const char *msg)
{
    json_t *o = json_object();
    json_object_set(o, "id", id ? id : json_null());
    json_object_set_new(o, "line", json_integer((json_int_t)line));
    json_object_set_new(o, "error", json_string(msg));
    char *s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(o);
    if (s) {
        fputs(s, out);
        fputc('\n', out);
        free(s);
    }
}

int cli_lint_records(const cli_opts *o, kl_scanner *sc, const kl_policy *pol, FILE *in,
                     FILE *out)
{
    const char *idf = o->id_field ? o->id_field : "id";
    const char *textf = o->text_field ? o->text_field : "text";
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int failing = 0, status = CLI_OK;
    while ((n = getline(&line, &cap, in)) > 0) {
        lineno++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0) {
            put_error(out, NULL, lineno, "empty line: expected a JSON object");
            continue;
        }
        json_error_t err;
        json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
        if (!rec || !json_is_object(rec)) {
            char msg[300];
            if (rec)
                snprintf(msg, sizeof msg, "expected a JSON object");
            else
                snprintf(msg, sizeof msg, "column %d: %s", err.column, err.text);
            put_error(out, NULL, lineno, msg);
            json_decref(rec);
            continue;
        }
        json_t *id = json_object_get(rec, idf);
        json_t *text = json_object_get(rec, textf);
        if (!json_is_string(text)) {
            char msg[300];
            snprintf(msg, sizeof msg, "the record has no string field \"%s\"", textf);
            put_error(out, id, lineno, msg);
            json_decref(rec);
            continue;
        }
        record_ctx r = {.o = o};
        kl_scan_options so;
        memset(&so, 0, sizeof so);
        so.abi_version = KL_ABI_VERSION;
        so.kind = o->kind_set ? o->kind : KL_DOC_TEXT;
        so.policy = pol;
        so.lint_quotes = o->lint_quotes;
        so.speaker = o->speaker;
        so.on_finding = record_finding;
        so.userdata = &r;
        kl_diag d;
        kl_status st = kl_scan(sc, &so, json_string_value(text), json_string_length(text), &d);
        if (st != KL_OK || r.oom) {
            put_error(out, id, lineno, st != KL_OK ? d.message : "out of memory");
        } else {
            char *ids = json_dumps(id ? id : json_null(), JSON_ENCODE_ANY | JSON_COMPACT);
            fprintf(out, "{\"id\":%s,\"findings\":[", ids ? ids : "null");
            for (size_t i = 0; i < r.n; i++)
                fprintf(out, "%s%s", i ? "," : "", r.items[i]);
            fputs("]}\n", out);
            free(ids);
            failing |= r.failing;
        }
        for (size_t i = 0; i < r.n; i++)
            free(r.items[i]);
        free(r.items);
        json_decref(rec);
    }
    if (ferror(in)) {
        perror("kindlint: error: reading the records");
        status = CLI_ERROR;
    }
    free(line);
    if (fflush(out) != 0)
        status = CLI_ERROR;
    return status != CLI_OK ? status : failing ? CLI_FINDINGS : CLI_OK;
}

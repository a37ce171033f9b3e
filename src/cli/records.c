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
 * A "\u0000" in the text is a NUL, as in a file: a boundary no match
 * crosses, not a bad record.
 *
 * A bad record is answered in place and the rest go on, so one odd line
 * does not fail a map task; the exit status is 1 when a record has a
 * finding at or above --fail-on, else 0 (2 only for a read error of the
 * input itself). Memory holds one record at a time; with -j N, a few
 * chunks of records per thread (lint_records_parallel).
 */
#include <jansson.h>
#include <pthread.h>
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

/* Answers one record: line (len bytes, its line break trimmed) is line
 * lineno of the input. Sets *failing when a finding is at or above
 * --fail-on. */
static void lint_record(const cli_opts *o, kl_scanner *sc, const kl_policy *pol, const char *line,
                        size_t len, size_t lineno, FILE *out, int *failing)
{
    const char *idf = o->id_field ? o->id_field : "id";
    const char *textf = o->text_field ? o->text_field : "text";
    if (len == 0) {
        put_error(out, NULL, lineno, "empty line: expected a JSON object");
        return;
    }
    json_error_t err;
    json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!rec || !json_is_object(rec)) {
        char msg[300];
        if (rec)
            snprintf(msg, sizeof msg, "expected a JSON object");
        else
            snprintf(msg, sizeof msg, "column %d: %s", err.column, err.text);
        put_error(out, NULL, lineno, msg);
        json_decref(rec);
        return;
    }
    json_t *id = json_object_get(rec, idf);
    json_t *text = json_object_get(rec, textf);
    if (!json_is_string(text)) {
        char msg[300];
        snprintf(msg, sizeof msg, "the record has no string field \"%s\"", textf);
        put_error(out, id, lineno, msg);
        json_decref(rec);
        return;
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
        *failing |= r.failing;
    }
    for (size_t i = 0; i < r.n; i++)
        free(r.items[i]);
    free(r.items);
    json_decref(rec);
}

/* Answers the lines of buf[0..len), the first of them line first_line:
 * each ends at a '\n' (the last may not). */
static void lint_lines(const cli_opts *o, kl_scanner *sc, const kl_policy *pol, const char *buf,
                       size_t len, size_t first_line, FILE *out, int *failing)
{
    size_t lineno = first_line;
    while (len > 0) {
        const char *nl = memchr(buf, '\n', len);
        size_t n = nl ? (size_t)(nl - buf) + 1 : len, k = n;
        while (k && (buf[k - 1] == '\n' || buf[k - 1] == '\r'))
            k--;
        lint_record(o, sc, pol, buf, k, lineno++, out, failing);
        buf += n;
        len -= n;
    }
}

/* -j N: the input is cut into chunks of whole lines; N workers answer
 * them, each with its own scanner, into memory; the reading thread writes
 * the answers chunk after chunk, in input order. At most RING_PER_THREAD
 * chunks per worker are read and not yet written, so memory holds a few
 * chunks, not the input. */
#define CHUNK_BYTES (128u * 1024)
#define RING_PER_THREAD 4

typedef struct chunk {
    char *in; /* whole lines, each with its '\n' (the last of the input may lack it) */
    size_t len, cap;
    size_t first_line;
    char *out; /* the answers: in memory, or NULL when the reader is to lint it */
    size_t outlen;
    int failing;
    int done;
} chunk;

typedef struct rpool {
    const cli_opts *o;
    const kl_policy *pol;
    chunk *ring;
    size_t nring;
    size_t filled; /* chunks read so far: chunk k is ring[k % nring] until written */
    size_t taken;  /* chunks taken by a worker */
    int eof;
    pthread_mutex_t mu;
    pthread_cond_t work; /* a chunk to take, or the end */
    pthread_cond_t done; /* a chunk answered */
} rpool;

typedef struct worker_arg {
    rpool *p;
    kl_scanner *sc;
} worker_arg;

static void *record_worker(void *arg)
{
    worker_arg *a = arg;
    rpool *p = a->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->taken == p->filled && !p->eof)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->taken == p->filled)
            break;
        chunk *c = &p->ring[p->taken++ % p->nring];
        pthread_mutex_unlock(&p->mu);
        FILE *out = open_memstream(&c->out, &c->outlen);
        if (out) {
            lint_lines(p->o, a->sc, p->pol, c->in, c->len, c->first_line, out, &c->failing);
            if (fclose(out) != 0) {
                free(c->out);
                c->out = NULL;
            }
        } else {
            c->out = NULL; /* no memory: the reader lints it */
        }
        pthread_mutex_lock(&p->mu);
        c->done = 1;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Writes the oldest chunk read, waiting for its answers; sc lints it
 * when no worker could. */
static void write_oldest(rpool *p, size_t *printed, kl_scanner *sc, FILE *out, int *failing)
{
    chunk *c = &p->ring[*printed % p->nring];
    pthread_mutex_lock(&p->mu);
    while (!c->done)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    if (c->out)
        fwrite(c->out, 1, c->outlen, out);
    else
        lint_lines(p->o, sc, p->pol, c->in, c->len, c->first_line, out, &c->failing);
    *failing |= c->failing;
    free(c->out);
    c->out = NULL;
    c->outlen = 0;
    c->len = 0;
    if (c->cap > 4 * CHUNK_BYTES) { /* a long line's: not kept for the next */
        free(c->in);
        c->in = NULL;
        c->cap = 0;
    }
    c->failing = c->done = 0;
    (*printed)++;
}

/* The input of -j: getline's buffer, and a long line already read for
 * the next chunk. */
typedef struct reader {
    FILE *in;
    char *line;
    size_t cap;
    size_t pending; /* the length of that line in line, or 0 */
    size_t lineno;  /* the lines put in chunks */
} reader;

/* Makes rd's line of n bytes the empty chunk c's: the buffers change
 * hands, nothing is copied. */
static void take_line(chunk *c, reader *rd, size_t n)
{
    char *t = c->in;
    size_t tcap = c->cap;
    c->in = rd->line;
    c->cap = rd->cap;
    rd->line = t;
    rd->cap = tcap;
    c->len = n;
    rd->lineno++;
}

/* Reads lines into the empty chunk c, up to CHUNK_BYTES; a line of
 * CHUNK_BYTES or more is a chunk of its own. Returns 0 at the end of the
 * input, -1 when out of memory. */
static int read_chunk(chunk *c, reader *rd)
{
    c->first_line = rd->lineno + 1;
    if (rd->pending) {
        take_line(c, rd, rd->pending);
        rd->pending = 0;
        return 1;
    }
    ssize_t n;
    while (c->len < CHUNK_BYTES && (n = getline(&rd->line, &rd->cap, rd->in)) > 0) {
        if ((size_t)n >= CHUNK_BYTES) {
            if (c->len == 0)
                take_line(c, rd, (size_t)n);
            else
                rd->pending = (size_t)n;
            break;
        }
        if (c->len + (size_t)n > c->cap) {
            size_t ncap = c->cap ? c->cap : CHUNK_BYTES;
            while (ncap < c->len + (size_t)n)
                ncap *= 2;
            char *q = realloc(c->in, ncap);
            if (!q)
                return -1;
            c->in = q;
            c->cap = ncap;
        }
        memcpy(c->in + c->len, rd->line, (size_t)n);
        c->len += (size_t)n;
        rd->lineno++;
    }
    return c->len > 0;
}

/* Returns the status, or -1 when there is no memory to start (nothing
 * read yet). */
static int lint_records_parallel(const cli_opts *o, const kl_rules *rules, kl_scanner *sc,
                                 const kl_policy *pol, FILE *in, FILE *out, int *failing)
{
    int threads = o->jobs;
    rpool p;
    memset(&p, 0, sizeof p);
    p.o = o;
    p.pol = pol;
    p.nring = (size_t)threads * RING_PER_THREAD;
    p.ring = calloc(p.nring, sizeof *p.ring);
    worker_arg *args = calloc((size_t)threads, sizeof *args);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    if (!p.ring || !args || !tids) {
        free(p.ring);
        free(args);
        free(tids);
        return -1;
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.work, NULL);
    pthread_cond_init(&p.done, NULL);
    int started = 0;
    for (int i = 0; i < threads; i++) {
        args[started].p = &p;
        args[started].sc = kl_scanner_new(rules);
        if (!args[started].sc)
            break;
        if (pthread_create(&tids[started], NULL, record_worker, &args[started]) != 0) {
            kl_scanner_free(args[started].sc);
            break;
        }
        started++;
    }
    reader rd = {.in = in};
    size_t printed = 0;
    int status = CLI_OK;
    for (;;) {
        if (p.filled - printed == p.nring)
            write_oldest(&p, &printed, sc, out, failing);
        chunk *c = &p.ring[p.filled % p.nring];
        int got = read_chunk(c, &rd);
        if (got < 0) {
            fputs("kindlint: error: out of memory\n", stderr);
            status = CLI_ERROR;
            c->len = 0;
        }
        if (got <= 0)
            break;
        pthread_mutex_lock(&p.mu);
        if (!started)
            c->done = 1; /* no worker: c->out is NULL, the reader lints it */
        p.filled++;
        pthread_cond_signal(&p.work);
        pthread_mutex_unlock(&p.mu);
        /* write what is ready, so output flows while input is read */
        while (printed < p.filled) {
            pthread_mutex_lock(&p.mu);
            int ready = p.ring[printed % p.nring].done;
            pthread_mutex_unlock(&p.mu);
            if (!ready)
                break;
            write_oldest(&p, &printed, sc, out, failing);
        }
    }
    pthread_mutex_lock(&p.mu);
    p.eof = 1;
    pthread_cond_broadcast(&p.work);
    pthread_mutex_unlock(&p.mu);
    while (printed < p.filled)
        write_oldest(&p, &printed, sc, out, failing);
    for (int i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
        kl_scanner_free(args[i].sc);
    }
    for (size_t i = 0; i < p.nring; i++)
        free(p.ring[i].in);
    free(rd.line);
    pthread_cond_destroy(&p.done);
    pthread_cond_destroy(&p.work);
    pthread_mutex_destroy(&p.mu);
    free(p.ring);
    free(args);
    free(tids);
    return status;
}

int cli_lint_records(const cli_opts *o, const kl_rules *rules, kl_scanner *sc, const kl_policy *pol,
                     FILE *in, FILE *out)
{
    int failing = 0, status = -1;
    if (o->jobs > 1)
        status = lint_records_parallel(o, rules, sc, pol, in, out, &failing);
    if (status == -1) { /* one at a time (or no memory for the workers) */
        status = CLI_OK;
        char *line = NULL;
        size_t cap = 0, lineno = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, in)) > 0)
            lint_lines(o, sc, pol, line, (size_t)n, ++lineno, out, &failing);
        free(line);
    }
    if (ferror(in)) {
        perror("kindlint: error: reading the records");
        status = CLI_ERROR;
    }
    if (fflush(out) != 0)
        status = CLI_ERROR;
    return status != CLI_OK ? status : failing ? CLI_FINDINGS : CLI_OK;
}

/*
 * lsp.c -- kindlint as a Language Server (LSP 3.17) on stdin and stdout.
 *
 * The wire: messages framed by a Content-Length header (names matched
 * without regard to case, other headers ignored), JSON-RPC 2.0 bodies read
 * with jansson. A body that is not JSON is answered with ParseError, one
 * over LSP_MAX_MESSAGE is read past and answered with InvalidRequest; the
 * connection stays up in both cases. Standard output carries protocol
 * bytes only: problems go to window/logMessage, and to stderr with -v.
 *
 * Documents: the client syncs them incrementally; each open document keeps
 * its text, a table of line starts and the findings of its last scan, with
 * their rendered suggestions. Byte offsets stay the one truth; positions
 * are converted at the wire in the encoding negotiated at initialize
 * (utf-8 when the client offers it, else utf-16, or utf-32). A line ends at
 * \n, \r\n or a lone \r, as the protocol says.
 *
 * A change is scanned and its findings pushed with
 * textDocument/publishDiagnostics once no more messages wait to be read:
 * a burst of changes (fast typing in a large document) costs one scan,
 * not one each (LSP_MAX_DEFERRED messages at most), and a request is
 * answered after the findings of what came before it. Closing a document
 * pushes an empty list.
 * Code actions rewrite a finding with one of its suggestions or insert a
 * kindlint-disable-next-line directive above it; hover shows the rule's
 * message, explanation and rewrites. A document on disk gets the rules and
 * policy of its own .kindlint.yml chain (setup.c), as the CLI would.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

/* Larger messages are skipped and answered with an error. */
#define LSP_MAX_MESSAGE (64u * 1024u * 1024u)
#define LSP_MAX_HEADER_LINE 1024
/* Standard input is read this much at a time. */
#define LSP_INPUT_CHUNK 65536
/* Changed documents are scanned after at most this many messages, even
 * while more wait: a client that never pauses still sees findings. */
#define LSP_MAX_DEFERRED 64u

enum {
    RPC_PARSE_ERROR = -32700,
    RPC_INVALID_REQUEST = -32600,
    RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602,
    RPC_SERVER_NOT_INITIALIZED = -32002
};

/* The position encodings: what one unit of Position.character counts. */
typedef enum lsp_encoding { LSP_UTF8, LSP_UTF16, LSP_UTF32 } lsp_encoding;
static const char *const encoding_names[] = {"utf-8", "utf-16", "utf-32"};

/* window/logMessage types */
enum { LSP_LOG_ERROR = 1, LSP_LOG_WARNING = 2, LSP_LOG_INFO = 3 };

/* A finding of the last scan, kept for diagnostics, code actions and hover. */
typedef struct lsp_finding {
    size_t offset, length;
    const kl_rule *rule; /* lives as long as its rule set: to the end */
    kl_severity severity;
    unsigned flags;
    size_t nsuggestions;
    char **suggestions;
    int *has_blank;
} lsp_finding;

/* A notice of the last scan (unknown id in a directive, a skipped rule). */
typedef struct lsp_notice {
    size_t offset;
    int warning;
    char *message;
} lsp_notice;

typedef struct lsp_doc {
    char *uri;
    char *path;        /* the file, for file: URIs; else NULL */
    char *language;    /* languageId, "" when not given */
    kl_doc_kind kind;  /* as last linted */
    int config_failed; /* said once */
    long long version;
    char *text;
    size_t len;
    size_t *lines; /* start offset of each line */
    size_t nlines;
    lsp_finding *found;
    size_t nfound, capfound;
    lsp_notice *notices;
    size_t nnotices;
    int dirty; /* changed since its findings were pushed */
} lsp_doc;

typedef struct lsp_server {
    cli_opts opts; /* the command line's, with initializationOptions applied */
    char *config_path;
    const kl_policy *pol; /* and scanner: for documents not on disk */
    kl_scanner *scanner;
    cli_setups *setups; /* per-directory configuration, made on first use */
    lsp_encoding enc;
    int initialized, shut_down, write_failed;
    int hover_markdown, document_changes;
    lsp_doc **docs;
    size_t ndocs;
    /* standard input's descriptor, read with read(2) so that what waits to
     * be read is known */
    int in_fd;
    char in[LSP_INPUT_CHUNK];
    size_t in_pos, in_len;
    unsigned deferred; /* messages read since the last refresh_all */
} lsp_server;

/* ------------------------------------------------------------------------ */
/* The wire                                                                  */
/* ------------------------------------------------------------------------ */

/* Sends a message and frees it. */
static void send_message(lsp_server *s, json_t *msg)
{
    if (!msg)
        return;
    json_object_set_new(msg, "jsonrpc", json_string("2.0"));
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text) {
        fputs("kindlint: lsp: out of memory\n", stderr);
        return;
    }
    size_t n = strlen(text);
    if (printf("Content-Length: %zu\r\n\r\n", n) < 0 || fwrite(text, 1, n, stdout) != n ||
        fflush(stdout) != 0)
        s->write_failed = 1;
    free(text);
}

/* A response with a result (taken, NULL meaning null) to the request id. */
static void reply(lsp_server *s, json_t *id, json_t *result)
{
    json_t *m = json_object();
    if (!m) {
        json_decref(result);
        return;
    }
    json_object_set_new(m, "id", id ? json_incref(id) : json_null());
    json_object_set_new(m, "result", result ? result : json_null());
    send_message(s, m);
}

static void reply_error(lsp_server *s, json_t *id, int code, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (s->opts.verbose)
        fprintf(stderr, "kindlint: lsp: error %d: %s\n", code, text);
    json_t *m = json_object();
    if (!m)
        return;
    json_object_set_new(m, "id", id ? json_incref(id) : json_null());
    json_object_set_new(m, "error",
                        json_pack("{s:i,s:s%}", "code", code, "message", text, strlen(text)));
    send_message(s, m);
}

static void notify(lsp_server *s, const char *method, json_t *params)
{
    json_t *m = json_object();
    if (!m || !params) {
        json_decref(m);
        json_decref(params);
        return;
    }
    json_object_set_new(m, "method", json_string(method));
    json_object_set_new(m, "params", params);
    send_message(s, m);
}

static void log_message(lsp_server *s, int type, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (s->opts.verbose)
        fprintf(stderr, "kindlint: lsp: %s\n", text);
    notify(s, "window/logMessage",
           json_pack("{s:i,s:s%}", "type", type, "message", text, strlen(text)));
}

/* Refills the input buffer when it is empty. Returns 0 at the end of
 * input (or a read error). */
static int fill_input(lsp_server *s)
{
    if (s->in_pos < s->in_len)
        return 1;
    for (;;) {
        ssize_t got = read(s->in_fd, s->in, sizeof s->in);
        if (got > 0) {
            s->in_pos = 0;
            s->in_len = (size_t)got;
            return 1;
        }
        if (got < 0 && errno == EINTR)
            continue;
        return 0;
    }
}

static int next_byte(lsp_server *s)
{
    return fill_input(s) ? (unsigned char)s->in[s->in_pos++] : EOF;
}

/* Reads n bytes into dst (NULL: drops them). Returns 0 when the input
 * ends first. */
static int read_input(lsp_server *s, char *dst, unsigned long long n)
{
    while (n > 0) {
        if (!fill_input(s))
            return 0;
        size_t k = s->in_len - s->in_pos;
        if (k > n)
            k = (size_t)n;
        if (dst) {
            memcpy(dst, s->in + s->in_pos, k);
            dst += k;
        }
        s->in_pos += k;
        n -= k;
    }
    return 1;
}

/* Does more input wait to be read, without blocking? (The end of input
 * counts: reading it ends the loop.) */
static int input_waits(lsp_server *s)
{
    if (s->in_pos < s->in_len)
        return 1;
    struct pollfd p = {.fd = s->in_fd, .events = POLLIN};
    int r;
    while ((r = poll(&p, 1, 0)) < 0 && errno == EINTR)
        ;
    return r > 0;
}

/* Reads the next message's content into *body (caller frees). Returns 1,
 * 0 at the end of input, or -1 for a message that cannot be had (already
 * answered and read past). */
static int read_message(lsp_server *s, char **body, size_t *len)
{
    char line[LSP_MAX_HEADER_LINE];
    unsigned long long n = 0;
    int have_length = 0, bad_length = 0, headers = 0;
    for (;;) {
        size_t k = 0;
        int c, long_line = 0;
        while ((c = next_byte(s)) != EOF && c != '\n') {
            if (k < sizeof line - 1)
                line[k++] = (char)c;
            else
                long_line = 1;
        }
        if (c == EOF)
            return 0;
        if (k > 0 && line[k - 1] == '\r')
            k--;
        line[k] = '\0';
        if (k == 0) {
            if (headers)
                break;
            continue; /* stray line breaks between messages */
        }
        headers++;
        char *colon = strchr(line, ':');
        if (!colon || long_line) {
            if (s->opts.verbose)
                fprintf(stderr, "kindlint: lsp: ignoring a malformed header line\n");
            continue;
        }
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = '\0';
        if (strcasecmp(line, "Content-Length") == 0) {
            char *end;
            unsigned long long value = strtoull(v, &end, 10);
            if (!isdigit((unsigned char)v[0]) || *end != '\0' || value == ULLONG_MAX ||
                (have_length && value != n))
                bad_length = 1;
            n = value;
            have_length = 1;
        } else if (strcasecmp(line, "Content-Type") == 0) {
            const char *cs = strstr(v, "charset=");
            if (cs && strncasecmp(cs + 8, "utf-8", 5) != 0 && strncasecmp(cs + 8, "utf8", 4) != 0)
                log_message(s, LSP_LOG_WARNING, "Content-Type '%s': reading it as UTF-8", v);
        }
    }
    if (!have_length || bad_length) {
        reply_error(s, NULL, RPC_PARSE_ERROR, "a message without a valid Content-Length header");
        return -1;
    }
    if (n > LSP_MAX_MESSAGE) {
        if (!read_input(s, NULL, n))
            return 0;
        reply_error(s, NULL, RPC_INVALID_REQUEST,
                    "a message of %llu bytes is over the limit of %u MiB; it was skipped", n,
                    LSP_MAX_MESSAGE / (1024u * 1024u));
        return -1;
    }
    char *b = malloc((size_t)n + 1);
    if (!b) {
        if (!read_input(s, NULL, n))
            return 0;
        reply_error(s, NULL, RPC_INVALID_REQUEST, "out of memory for a message of %llu bytes", n);
        return -1;
    }
    if (!read_input(s, b, n)) {
        free(b);
        return 0;
    }
    b[n] = '\0';
    *body = b;
    *len = (size_t)n;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Positions                                                                 */
/* ------------------------------------------------------------------------ */

static int index_lines(lsp_doc *d)
{
    size_t n = 1;
    for (size_t i = 0; i < d->len; i++)
        if (d->text[i] == '\n' ||
            (d->text[i] == '\r' && (i + 1 >= d->len || d->text[i + 1] != '\n')))
            n++;
    size_t *lines = malloc(n * sizeof *lines);
    if (!lines)
        return -1;
    size_t k = 0;
    lines[k++] = 0;
    for (size_t i = 0; i < d->len; i++)
        if (d->text[i] == '\n' ||
            (d->text[i] == '\r' && (i + 1 >= d->len || d->text[i + 1] != '\n')))
            lines[k++] = i + 1;
    free(d->lines);
    d->lines = lines;
    d->nlines = n;
    return 0;
}

/* The line holding offset off: a binary search of the line starts. */
static size_t line_of(const lsp_doc *d, size_t off)
{
    size_t lo = 0, hi = d->nlines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->lines[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Where the text of a line ends: before its line break. */
static size_t line_end(const lsp_doc *d, size_t line)
{
    size_t start = d->lines[line];
    size_t end = line + 1 < d->nlines ? d->lines[line + 1] : d->len;
    if (end > start && d->text[end - 1] == '\n')
        end--;
    if (end > start && d->text[end - 1] == '\r')
        end--;
    return end;
}

/* The bytes of the code point at s (1 for an invalid byte, which counts as
 * one U+FFFD) and the units it takes in the encoding. */
static unsigned code_point_units(const unsigned char *s, size_t avail, lsp_encoding enc,
                                 size_t *bytes)
{
    size_t n = s[0] < 0x80                   ? 1
               : s[0] >= 0xC2 && s[0] < 0xE0 ? 2
               : s[0] >= 0xE0 && s[0] < 0xF0 ? 3
               : s[0] >= 0xF0 && s[0] < 0xF5 ? 4
                                             : 0;
    if (n == 0 || n > avail)
        n = 1;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            n = 1;
    *bytes = n;
    if (enc == LSP_UTF8)
        return (unsigned)n;
    return enc == LSP_UTF16 && n == 4 ? 2 : 1;
}

static json_t *position_json(const lsp_server *s, const lsp_doc *d, size_t off)
{
    size_t line = line_of(d, off);
    size_t p = d->lines[line];
    json_int_t ch = 0;
    if (s->enc == LSP_UTF8) {
        ch = (json_int_t)(off - p);
    } else {
        while (p < off) {
            size_t b;
            ch += code_point_units((const unsigned char *)d->text + p, d->len - p, s->enc, &b);
            p += b;
        }
    }
    return json_pack("{s:I,s:I}", "line", (json_int_t)line, "character", ch);
}

static json_t *range_json(const lsp_server *s, const lsp_doc *d, size_t a, size_t b)
{
    return json_pack("{s:o,s:o}", "start", position_json(s, d, a), "end", position_json(s, d, b));
}

/* A Position to an offset. A character past the line's end means the end
 * of the line, a line past the last the end of the text; a position inside
 * a code point (a UTF-16 surrogate pair) snaps to its start. */
static int position_offset(const lsp_server *s, const lsp_doc *d, json_t *pos, size_t *off)
{
    json_int_t line, ch;
    if (json_unpack(pos, "{s:I,s:I}", "line", &line, "character", &ch) != 0 || line < 0 || ch < 0)
        return -1;
    if ((unsigned long long)line >= d->nlines) {
        *off = d->len;
        return 0;
    }
    size_t p = d->lines[line], end = line_end(d, (size_t)line);
    json_int_t units = 0;
    while (p < end && units < ch) {
        size_t b;
        unsigned u = code_point_units((const unsigned char *)d->text + p, end - p, s->enc, &b);
        if (units + u > ch)
            break;
        units += u;
        p += b;
    }
    *off = p;
    return 0;
}

static int range_offsets(const lsp_server *s, const lsp_doc *d, json_t *range, size_t *a, size_t *b)
{
    if (position_offset(s, d, json_object_get(range, "start"), a) != 0 ||
        position_offset(s, d, json_object_get(range, "end"), b) != 0 || *b < *a)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Documents                                                                 */
/* ------------------------------------------------------------------------ */

static void clear_findings(lsp_doc *d)
{
    for (size_t i = 0; i < d->nfound; i++) {
        for (size_t k = 0; k < d->found[i].nsuggestions; k++)
            free(d->found[i].suggestions[k]);
        free(d->found[i].suggestions);
        free(d->found[i].has_blank);
    }
    d->nfound = 0;
    for (size_t i = 0; i < d->nnotices; i++)
        free(d->notices[i].message);
    free(d->notices);
    d->notices = NULL;
    d->nnotices = 0;
}

static void free_doc(lsp_doc *d)
{
    if (!d)
        return;
    clear_findings(d);
    free(d->found);
    free(d->uri);
    free(d->path);
    free(d->language);
    free(d->text);
    free(d->lines);
    free(d);
}

static lsp_doc *find_doc(lsp_server *s, const char *uri, size_t *index)
{
    for (size_t i = 0; uri && i < s->ndocs; i++) {
        if (strcmp(s->docs[i]->uri, uri) == 0) {
            if (index)
                *index = i;
            return s->docs[i];
        }
    }
    return NULL;
}

/* The file a file: URI names (percent escapes decoded), or NULL. */
static char *uri_path(const char *uri)
{
    if (strncasecmp(uri, "file://", 7) != 0)
        return NULL;
    const char *p = uri + 7;
    if (strncasecmp(p, "localhost/", 10) == 0)
        p += 9;
    if (*p != '/')
        return NULL; /* a remote host */
    char *out = malloc(strlen(p) + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (; *p && *p != '?' && *p != '#'; p++) {
        if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], '\0'};
            out[n++] = (char)strtol(hex, NULL, 16);
            p += 2;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    if (strlen(out) != n) { /* %00 */
        free(out);
        return NULL;
    }
    return out;
}

/* The kind of a document: --type, then the configuration's override, then
 * the file name, then the client's languageId. */
static kl_doc_kind doc_kind(const lsp_server *s, const lsp_doc *d, const kl_file_settings *fs)
{
    if (s->opts.kind_set)
        return s->opts.kind;
    if (fs->kind_set)
        return fs->kind;
    const char *name = d->path;
    if (!name) {
        name = strrchr(d->uri, '/');
        name = name ? name + 1 : d->uri;
    }
    kl_doc_kind kind = kl_doc_kind_for_path(name);
    if (kind != KL_DOC_TEXT)
        return kind;
    static const struct {
        const char *language;
        kl_doc_kind kind;
    } languages[] = {{"markdown", KL_DOC_MARKDOWN}, {"gfm", KL_DOC_MARKDOWN},
                     {"gitcommit", KL_DOC_COMMIT},  {"git-commit", KL_DOC_COMMIT},
                     {"mail", KL_DOC_EMAIL},        {"email", KL_DOC_EMAIL},
                     {"eml", KL_DOC_EMAIL}};
    for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++)
        if (strcasecmp(d->language, languages[i].language) == 0)
            return languages[i].kind;
    return KL_DOC_TEXT;
}

typedef struct scan_state {
    lsp_server *server;
    lsp_doc *doc;
    int failed;
} scan_state;

static int keep_finding(const kl_finding *f, void *ud)
{
    scan_state *st = ud;
    lsp_doc *d = st->doc;
    if (d->nfound == d->capfound) {
        size_t cap = d->capfound ? d->capfound * 2 : 16;
        lsp_finding *p = realloc(d->found, cap * sizeof *p);
        if (!p)
            return st->failed = 1;
        d->found = p;
        d->capfound = cap;
    }
    lsp_finding *k = &d->found[d->nfound];
    memset(k, 0, sizeof *k);
    k->offset = f->offset;
    k->length = f->length;
    k->rule = f->rule;
    k->severity = f->severity;
    k->flags = f->flags;
    size_t n = kl_rule_suggestion_count(f->rule);
    if (n) {
        k->suggestions = calloc(n, sizeof *k->suggestions);
        k->has_blank = calloc(n, sizeof *k->has_blank);
        if (!k->suggestions || !k->has_blank) {
            free(k->suggestions);
            free(k->has_blank);
            return st->failed = 1;
        }
    }
    d->nfound++;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *text;
        int blank = 0;
        if (kl_finding_suggestion(f, i, &text, &len, &blank) != KL_OK)
            continue;
        k->suggestions[k->nsuggestions] = text;
        k->has_blank[k->nsuggestions++] = blank;
    }
    return 0;
}

/* A notice says 1-based line and code-point column; keep it as an offset. */
static void keep_notice(const kl_diag *n, void *ud)
{
    scan_state *st = ud;
    lsp_doc *d = st->doc;
    lsp_notice *p = realloc(d->notices, (d->nnotices + 1) * sizeof *p);
    if (!p)
        return;
    d->notices = p;
    size_t off = 0;
    if (n->line >= 1 && n->line <= d->nlines) {
        off = d->lines[n->line - 1];
        size_t end = line_end(d, n->line - 1);
        if (n->line == 1 && d->len >= 3 && memcmp(d->text, "\xEF\xBB\xBF", 3) == 0)
            off = 3; /* the library does not count a byte order mark */
        for (unsigned col = 1; col < n->column && off < end; col++) {
            size_t b;
            code_point_units((const unsigned char *)d->text + off, end - off, LSP_UTF32, &b);
            off += b;
        }
    }
    if (!(p[d->nnotices].message = strdup(n->message)))
        return;
    p[d->nnotices].offset = off;
    p[d->nnotices].warning = n->code == KL_ERR_USAGE;
    d->nnotices++;
}

/* Scans the document again with the rules and policy that apply to it. */
static void lint_doc(lsp_server *s, lsp_doc *d)
{
    clear_findings(d);
    kl_scanner *scanner = s->scanner;
    const kl_policy *pol = s->pol;
    kl_policy *own = NULL;
    kl_file_settings fs = {.quotes = -1};
    if (d->path) {
        if (s->setups && cli_setups_stale(s->setups)) {
            /* a .kindlint.yml changed on disk: read the configurations again */
            cli_setups_free(s->setups);
            s->setups = NULL;
        }
        if (!s->setups)
            s->setups = cli_setups_new(&s->opts);
        cli_setup *u = s->setups ? cli_setup_for(s->setups, d->path) : NULL;
        if (cli_setup_failed(u) || !(own = cli_policy_for(u, &s->opts, d->path, &fs))) {
            if (!d->config_failed) {
                char text[1024];
                d->config_failed = 1;
                snprintf(text, sizeof text,
                         "kindlint: %s: its configuration or rules do not load (the server's "
                         "stderr says why); linting it as in the working directory",
                         d->path);
                notify(s, "window/showMessage",
                       json_pack("{s:i,s:s}", "type", LSP_LOG_ERROR, "message", text));
            }
            memset(&fs, 0, sizeof fs);
            fs.quotes = -1;
        } else if (cli_setup_ignores(u, d->path, 0)) {
            kl_policy_free(own);
            return; /* the configuration's ignore list holds it */
        } else {
            scanner = cli_setup_scanner(u);
            pol = own;
        }
    }
    if (!scanner) {
        kl_policy_free(own);
        return;
    }
    scan_state st = {s, d, 0};
    kl_scan_options so;
    memset(&so, 0, sizeof so);
    so.abi_version = KL_ABI_VERSION;
    so.kind = d->kind = doc_kind(s, d, &fs);
    if (so.kind == KL_DOC_MARKDOWN && d->len > KL_MAX_MARKDOWN_INPUT)
        so.kind = KL_DOC_TEXT;
    so.policy = pol;
    so.lint_quotes = s->opts.lint_quotes || fs.quotes == 1;
    so.speaker = s->opts.speaker;
    so.path = d->path ? d->path : d->uri;
    so.on_finding = keep_finding;
    so.on_notice = keep_notice;
    so.userdata = &st;
    kl_diag diag;
    if (kl_scan(scanner, &so, d->text, d->len, &diag) != KL_OK)
        log_message(s, LSP_LOG_ERROR, "%s: %s", so.path, diag.message);
    else if (st.failed)
        log_message(s, LSP_LOG_ERROR, "%s: out of memory while linting", so.path);
    kl_policy_free(own);
}

static int severity_code(kl_severity sev)
{
    return sev == KL_SEVERITY_ERROR ? 1 : sev == KL_SEVERITY_WARNING ? 2 : 3;
}

static json_t *diagnostic_json(const lsp_server *s, const lsp_doc *d, const lsp_finding *f)
{
    json_t *sugg = json_array();
    for (size_t i = 0; sugg && i < f->nsuggestions; i++)
        json_array_append_new(
            sugg, json_pack("{s:s,s:b}", "text", f->suggestions[i], "blank", f->has_blank[i]));
    return json_pack("{s:o,s:i,s:s,s:s,s:s,s:{s:s,s:o}}", "range",
                     range_json(s, d, f->offset, f->offset + f->length), "severity",
                     severity_code(f->severity), "source", "kindlint", "code", kl_rule_id(f->rule),
                     "message", kl_rule_message(f->rule), "data", "rule", kl_rule_id(f->rule),
                     "suggestions", sugg);
}

static void publish(lsp_server *s, const char *uri, lsp_doc *d)
{
    json_t *list = json_array();
    for (size_t i = 0; d && list && i < d->nfound; i++)
        json_array_append_new(list, diagnostic_json(s, d, &d->found[i]));
    for (size_t i = 0; d && list && i < d->nnotices; i++) {
        const lsp_notice *n = &d->notices[i];
        json_array_append_new(
            list,
            json_pack("{s:o,s:i,s:s,s:s}", "range",
                      range_json(s, d, n->offset, line_end(d, line_of(d, n->offset))), "severity",
                      n->warning ? 2 : 3, "source", "kindlint", "message", n->message));
    }
    json_t *params = json_pack("{s:s,s:o}", "uri", uri, "diagnostics", list);
    if (params && d)
        json_object_set_new(params, "version", json_integer(d->version));
    notify(s, "textDocument/publishDiagnostics", params);
}

/* Scans a changed document and pushes its findings. */
static void refresh(lsp_server *s, lsp_doc *d)
{
    if (!d->dirty)
        return;
    d->dirty = 0;
    lint_doc(s, d);
    publish(s, d->uri, d);
}

/* Brings every changed document's findings up to date, in the order the
 * documents were opened. */
static void refresh_all(lsp_server *s)
{
    s->deferred = 0;
    for (size_t i = 0; i < s->ndocs && !s->write_failed; i++)
        refresh(s, s->docs[i]);
}

/* Replaces [a, b) of the text with t. */
static int splice(lsp_doc *d, size_t a, size_t b, const char *t, size_t tlen)
{
    size_t len = d->len - (b - a) + tlen;
    char *text = malloc(len + 1);
    if (!text)
        return -1;
    memcpy(text, d->text, a);
    memcpy(text + a, t, tlen);
    memcpy(text + a + tlen, d->text + b, d->len - b);
    text[len] = '\0';
    free(d->text);
    d->text = text;
    d->len = len;
    return index_lines(d);
}

/* ------------------------------------------------------------------------ */
/* Notifications                                                             */
/* ------------------------------------------------------------------------ */

static void did_open(lsp_server *s, json_t *params)
{
    const char *uri, *language = "";
    json_t *text;
    json_int_t version = 0;
    if (json_unpack(params, "{s:{s:s,s?s,s?I,s:o}}", "textDocument", "uri", &uri, "languageId",
                    &language, "version", &version, "text", &text) != 0 ||
        !json_is_string(text)) {
        log_message(s, LSP_LOG_ERROR, "textDocument/didOpen: invalid params");
        return;
    }
    size_t index;
    lsp_doc *d = find_doc(s, uri, &index);
    if (d) { /* opened again: start over */
        free_doc(d);
        s->docs[index] = s->docs[--s->ndocs];
    }
    lsp_doc **docs = realloc(s->docs, (s->ndocs + 1) * sizeof *docs);
    if (docs)
        s->docs = docs;
    d = calloc(1, sizeof *d);
    if (!docs || !d || !(d->uri = strdup(uri)) || !(d->language = strdup(language)) ||
        !(d->text = malloc(json_string_length(text) + 1))) {
        free_doc(d);
        log_message(s, LSP_LOG_ERROR, "%s: out of memory", uri);
        return;
    }
    d->len = json_string_length(text);
    memcpy(d->text, json_string_value(text), d->len);
    d->text[d->len] = '\0';
    d->path = uri_path(uri);
    d->version = version;
    if (index_lines(d) != 0) {
        free_doc(d);
        log_message(s, LSP_LOG_ERROR, "%s: out of memory", uri);
        return;
    }
    s->docs[s->ndocs++] = d;
    d->dirty = 1;
}

static void did_change(lsp_server *s, json_t *params)
{
    const char *uri;
    json_t *changes;
    json_int_t version = 0;
    if (json_unpack(params, "{s:{s:s,s?I},s:o}", "textDocument", "uri", &uri, "version", &version,
                    "contentChanges", &changes) != 0 ||
        !json_is_array(changes)) {
        log_message(s, LSP_LOG_ERROR, "textDocument/didChange: invalid params");
        return;
    }
    lsp_doc *d = find_doc(s, uri, NULL);
    if (!d) {
        log_message(s, LSP_LOG_ERROR, "textDocument/didChange: %s is not open", uri);
        return;
    }
    size_t i;
    json_t *change;
    json_array_foreach(changes, i, change)
    {
        json_t *text = json_object_get(change, "text");
        json_t *range = json_object_get(change, "range");
        size_t a = 0, b = d->len;
        if (!json_is_string(text) || (range && range_offsets(s, d, range, &a, &b) != 0)) {
            log_message(s, LSP_LOG_ERROR, "textDocument/didChange: invalid change %zu of %s", i,
                        uri);
            continue;
        }
        if (splice(d, a, b, json_string_value(text), json_string_length(text)) != 0) {
            log_message(s, LSP_LOG_ERROR, "%s: out of memory", uri);
            return;
        }
    }
    d->version = version;
    d->dirty = 1;
}

static void did_save(lsp_server *s, json_t *params)
{
    const char *uri;
    json_t *text = NULL;
    if (json_unpack(params, "{s:{s:s},s?o}", "textDocument", "uri", &uri, "text", &text) != 0)
        return;
    lsp_doc *d = find_doc(s, uri, NULL);
    if (!d)
        return;
    if (json_is_string(text) &&
        splice(d, 0, d->len, json_string_value(text), json_string_length(text)) != 0)
        return;
    d->dirty = 1;
}

static void did_close(lsp_server *s, json_t *params)
{
    const char *uri;
    if (json_unpack(params, "{s:{s:s}}", "textDocument", "uri", &uri) != 0)
        return;
    size_t index;
    lsp_doc *d = find_doc(s, uri, &index);
    if (d) {
        s->docs[index] = s->docs[--s->ndocs];
        publish(s, uri, NULL); /* the empty list clears what was pushed */
        free_doc(d);
    }
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                  */
/* ------------------------------------------------------------------------ */

static int offers(json_t *list, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
            return 1;
    }
    return 0;
}

static json_t *initialize(lsp_server *s, json_t *params)
{
    json_t *caps = json_object_get(params, "capabilities");
    json_t *encodings = json_object_get(json_object_get(caps, "general"), "positionEncodings");
    json_t *clangd = json_object_get(caps, "offsetEncoding"); /* the older extension */
    json_t *offered = json_is_array(encodings) ? encodings : clangd;
    /* utf-8 when offered (no conversion at all), else the client's first
     * choice of the other two; utf-16 when it says nothing */
    s->enc = LSP_UTF16;
    if (offers(offered, "utf-8")) {
        s->enc = LSP_UTF8;
    } else {
        size_t i;
        json_t *v;
        json_array_foreach(offered, i, v)
        {
            const char *name = json_string_value(v);
            if (name && (strcmp(name, "utf-16") == 0 || strcmp(name, "utf-32") == 0)) {
                s->enc = name[4] == '3' ? LSP_UTF32 : LSP_UTF16;
                break;
            }
        }
    }
    json_t *formats = json_object_get(
        json_object_get(json_object_get(caps, "textDocument"), "hover"), "contentFormat");
    s->hover_markdown = !json_is_array(formats) || offers(formats, "markdown");
    s->document_changes = json_is_true(json_object_get(
        json_object_get(json_object_get(caps, "workspace"), "workspaceEdit"), "documentChanges"));

    json_t *init = json_object_get(params, "initializationOptions");
    const char *config = json_string_value(json_object_get(init, "config"));
    if (config && !s->config_path && (s->config_path = strdup(config)))
        s->opts.config_path = s->config_path;
    if (json_is_true(json_object_get(init, "lintQuotes")))
        s->opts.lint_quotes = 1;

    json_t *result = json_pack(
        "{s:{s:s,s:{s:b,s:i,s:{s:b}},s:{s:[s]},s:b},s:{s:s,s:s}}", "capabilities",
        "positionEncoding", encoding_names[s->enc], "textDocumentSync", "openClose", 1, "change", 2,
        "save", "includeText", 0, "codeActionProvider", "codeActionKinds", "quickfix",
        "hoverProvider", 1, "serverInfo", "name", "kindlint", "version", kl_version());
    if (result && !json_is_array(encodings) && json_is_array(clangd))
        json_object_set_new(result, "offsetEncoding", json_string(encoding_names[s->enc]));
    return result;
}

/* A WorkspaceEdit replacing [a, b) of the document with text. */
static json_t *edit_json(const lsp_server *s, const lsp_doc *d, size_t a, size_t b,
                         const char *text)
{
    json_t *edits = json_pack("[{s:o,s:s}]", "range", range_json(s, d, a, b), "newText", text);
    if (!edits)
        return NULL;
    if (s->document_changes)
        return json_pack("{s:[{s:{s:s,s:I},s:o}]}", "documentChanges", "textDocument", "uri",
                         d->uri, "version", (json_int_t)d->version, "edits", edits);
    return json_pack("{s:{s:o}}", "changes", d->uri, edits);
}

static json_t *action_json(const char *title, json_t *diag, int preferred, json_t *edit)
{
    json_t *a = json_pack("{s:s,s:s,s:[O],s:o}", "title", title, "kind", "quickfix", "diagnostics",
                          diag, "edit", edit);
    if (a && preferred)
        json_object_set_new(a, "isPreferred", json_true());
    return a;
}

/* The directive that keeps the rule off the finding's line, on a line of
 * its own above it, indented as that line is. */
static json_t *disable_action(const lsp_server *s, const lsp_doc *d, const lsp_finding *f,
                              json_t *diag)
{
    size_t line = line_of(d, f->offset), start = d->lines[line], end = line_end(d, line);
    size_t indent = 0;
    while (start + indent < end &&
           (d->text[start + indent] == ' ' || d->text[start + indent] == '\t'))
        indent++;
    const char *eol = end < d->len && d->text[end] == '\r'
                          ? (end + 1 < d->len && d->text[end + 1] == '\n' ? "\r\n" : "\r")
                          : "\n";
    kl_doc_kind kind = d->kind;
    const char *id = kl_rule_id(f->rule);
    const char *open = kind == KL_DOC_MARKDOWN ? "<!-- " : kind == KL_DOC_COMMIT ? "# " : "";
    const char *close = kind == KL_DOC_MARKDOWN ? " -->" : "";
    size_t n = indent + strlen(open) + strlen(id) + strlen(close) + 40;
    char *text = malloc(n), *title = malloc(strlen(id) + 40);
    json_t *a = NULL;
    if (text && title) {
        snprintf(text, n, "%.*s%skindlint-disable-next-line %s%s%s", (int)indent, d->text + start,
                 open, id, close, eol);
        snprintf(title, strlen(id) + 40, "Disable %s for this line", id);
        a = action_json(title, diag, 0, edit_json(s, d, start, start, text));
    }
    free(text);
    free(title);
    return a;
}

static json_int_t range_line(json_t *range, const char *which)
{
    json_t *line = json_object_get(json_object_get(range, which), "line");
    return json_is_integer(line) ? json_integer_value(line) : -1;
}

/* The diagnostic the client sent for a finding, or NULL: the same code and
 * range, or failing that the same code and lines (Neovim 0.7 sends back
 * byte columns whatever the encoding). */
static json_t *client_diagnostic(const lsp_server *s, const lsp_doc *d, const lsp_finding *f,
                                 json_t *given)
{
    json_t *range = range_json(s, d, f->offset, f->offset + f->length);
    json_t *g, *same_lines = NULL, *found = NULL;
    size_t i;
    json_array_foreach(given, i, g)
    {
        const char *code = json_string_value(json_object_get(g, "code"));
        json_t *r = json_object_get(g, "range");
        if (found || !code || strcmp(code, kl_rule_id(f->rule)) != 0)
            continue;
        if (json_equal(r, range))
            found = g;
        else if (!same_lines && range_line(r, "start") == range_line(range, "start") &&
                 range_line(r, "end") == range_line(range, "end"))
            same_lines = g;
    }
    json_decref(range);
    found = found ? found : same_lines;
    return found ? json_incref(found) : NULL;
}

static json_t *code_action(lsp_server *s, json_t *params, int *invalid)
{
    const char *uri;
    json_t *range, *context = NULL;
    if (json_unpack(params, "{s:{s:s},s:o,s?o}", "textDocument", "uri", &uri, "range", &range,
                    "context", &context) != 0) {
        *invalid = 1;
        return NULL;
    }
    json_t *only = json_object_get(context, "only");
    json_t *given = json_object_get(context, "diagnostics");
    lsp_doc *d = find_doc(s, uri, NULL);
    size_t a, b;
    json_t *actions = json_array();
    if (!d || !actions || (json_is_array(only) && !offers(only, "quickfix")))
        return actions;
    if (range_offsets(s, d, range, &a, &b) != 0) {
        *invalid = 1;
        json_decref(actions);
        return NULL;
    }
    size_t *disabled = calloc(d->nfound + 1, sizeof *disabled);
    size_t ndisabled = 0;
    for (size_t i = 0; i < d->nfound; i++) {
        const lsp_finding *f = &d->found[i];
        json_t *diag = client_diagnostic(s, d, f, given);
        if (!diag && (f->offset > b || f->offset + f->length < a))
            continue; /* neither in the range nor among the client's diagnostics */
        if (!diag)
            diag = diagnostic_json(s, d, f);
        int preferred = 1; /* the first rewrite that needs no more work */
        for (size_t k = 0; k < f->nsuggestions; k++) {
            const char *t = f->suggestions[k];
            const char *note = f->has_blank[k]                        ? " (fill in the blank)"
                               : f->flags & KL_FINDING_CROSSES_MARKUP ? " (drops the formatting)"
                                                                      : "";
            size_t n = strlen(t) + strlen(note) + 16;
            char *title = malloc(n);
            if (!title)
                continue;
            snprintf(title, n, "Rewrite as: %s%s", t, note);
            int is_preferred = preferred && !note[0];
            if (is_preferred)
                preferred = 0;
            json_array_append_new(
                actions, action_json(title, diag, is_preferred,
                                     edit_json(s, d, f->offset, f->offset + f->length, t)));
            free(title);
        }
        /* one directive per rule and line */
        size_t line = line_of(d, f->offset), j;
        for (j = 0; j < ndisabled; j++)
            if (line_of(d, d->found[disabled[j]].offset) == line &&
                d->found[disabled[j]].rule == f->rule)
                break;
        if (disabled && j == ndisabled) {
            disabled[ndisabled++] = i;
            json_array_append_new(actions, disable_action(s, d, f, diag));
        }
        json_decref(diag);
    }
    free(disabled);
    return actions;
}

static void append(char **buf, size_t *len, size_t *cap, const char *text)
{
    size_t n = strlen(text);
    if (!*buf && *cap)
        return; /* an allocation failed before */
    if (*len + n + 1 > *cap) {
        size_t c = (*len + n + 1) * 2;
        char *p = realloc(*buf, c);
        if (!p) {
            free(*buf);
            *buf = NULL;
            return;
        }
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, text, n + 1);
    *len += n;
}

static json_t *hover(lsp_server *s, json_t *params, int *invalid)
{
    const char *uri;
    json_t *pos;
    if (json_unpack(params, "{s:{s:s},s:o}", "textDocument", "uri", &uri, "position", &pos) != 0) {
        *invalid = 1;
        return NULL;
    }
    lsp_doc *d = find_doc(s, uri, NULL);
    size_t off;
    if (!d)
        return NULL;
    if (position_offset(s, d, pos, &off) != 0) {
        *invalid = 1;
        return NULL;
    }
    const lsp_finding *f = NULL;
    for (size_t i = 0; i < d->nfound && !f; i++)
        if (d->found[i].offset <= off && off < d->found[i].offset + d->found[i].length)
            f = &d->found[i];
    if (!f)
        return NULL;
    int md = s->hover_markdown;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    const kl_rule *r = f->rule;
    append(&buf, &len, &cap, md ? "**" : "");
    append(&buf, &len, &cap, kl_rule_id(r));
    append(&buf, &len, &cap, md ? "** (" : " (");
    append(&buf, &len, &cap, kl_severity_name(f->severity));
    append(&buf, &len, &cap, ", ");
    append(&buf, &len, &cap, kl_category_name(kl_rule_category(r)));
    append(&buf, &len, &cap, ")\n\n");
    append(&buf, &len, &cap, kl_rule_message(r));
    if (kl_rule_explain(r)[0]) {
        append(&buf, &len, &cap, "\n\n");
        append(&buf, &len, &cap, kl_rule_explain(r));
    }
    for (size_t i = 0; i < f->nsuggestions; i++) {
        append(&buf, &len, &cap, i == 0 ? "\n\nTry:\n" : "\n");
        append(&buf, &len, &cap, "- ");
        append(&buf, &len, &cap, f->suggestions[i]);
    }
    json_t *result = NULL;
    if (buf)
        result =
            json_pack("{s:{s:s,s:s},s:o}", "contents", "kind", md ? "markdown" : "plaintext",
                      "value", buf, "range", range_json(s, d, f->offset, f->offset + f->length));
    free(buf);
    return result;
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                  */
/* ------------------------------------------------------------------------ */

static void request(lsp_server *s, json_t *id, const char *method, json_t *params)
{
    if (!s->initialized && strcmp(method, "initialize") != 0) {
        reply_error(s, id, RPC_SERVER_NOT_INITIALIZED, "%s before initialize", method);
        return;
    }
    if (s->shut_down) {
        reply_error(s, id, RPC_INVALID_REQUEST, "%s after shutdown", method);
        return;
    }
    /* what the client sent before the request is answered first */
    refresh_all(s);
    int invalid = 0;
    json_t *result;
    if (strcmp(method, "initialize") == 0) {
        if (s->initialized) {
            reply_error(s, id, RPC_INVALID_REQUEST, "initialize was already sent");
            return;
        }
        if (!json_is_object(params)) {
            reply_error(s, id, RPC_INVALID_PARAMS, "initialize: invalid params");
            return;
        }
        result = initialize(s, params);
        s->initialized = 1;
    } else if (strcmp(method, "shutdown") == 0) {
        s->shut_down = 1;
        result = NULL;
    } else if (strcmp(method, "textDocument/codeAction") == 0) {
        result = code_action(s, params, &invalid);
    } else if (strcmp(method, "textDocument/hover") == 0) {
        result = hover(s, params, &invalid);
    } else {
        reply_error(s, id, RPC_METHOD_NOT_FOUND, "%s is not supported", method);
        return;
    }
    if (invalid)
        reply_error(s, id, RPC_INVALID_PARAMS, "%s: invalid params", method);
    else
        reply(s, id, result);
}

/* workspace/didChangeWatchedFiles (or a saved .kindlint.yml, for clients
 * that watch nothing): configurations and rule packs are read again, and
 * every open document linted again with them. */
static void config_changed(lsp_server *s)
{
    cli_setups_free(s->setups);
    s->setups = NULL;
    for (size_t i = 0; i < s->ndocs; i++) {
        s->docs[i]->config_failed = 0;
        s->docs[i]->dirty = 1;
    }
}

static int names_config(const char *uri)
{
    size_t n = uri ? strlen(uri) : 0, k = strlen(KL_CONFIG_NAME);
    return n >= k && strcmp(uri + n - k, KL_CONFIG_NAME) == 0 &&
           (n == k || uri[n - k - 1] == '/');
}

static void notification(lsp_server *s, const char *method, json_t *params)
{
    if (!s->initialized || s->shut_down)
        return; /* dropped, as the protocol says */
    if (strcmp(method, "textDocument/didOpen") == 0)
        did_open(s, params);
    else if (strcmp(method, "textDocument/didChange") == 0)
        did_change(s, params);
    else if (strcmp(method, "textDocument/didSave") == 0)
        did_save(s, params);
    else if (strcmp(method, "textDocument/didClose") == 0)
        did_close(s, params);
    else if (strcmp(method, "workspace/didChangeWatchedFiles") == 0)
        config_changed(s);
    if (strcmp(method, "textDocument/didSave") == 0) {
        const char *uri = NULL;
        if (json_unpack(params, "{s:{s:s}}", "textDocument", "uri", &uri) == 0 &&
            names_config(uri))
            config_changed(s);
    }
    /* initialized, $/cancelRequest, $/setTrace, ...: nothing to do */
}

/* Handles one message. Returns 1 after exit. */
static int handle(lsp_server *s, json_t *msg)
{
    if (!json_is_object(msg)) {
        reply_error(s, NULL, RPC_INVALID_REQUEST, "not a JSON-RPC request or notification");
        return 0;
    }
    json_t *id = json_object_get(msg, "id");
    json_t *method = json_object_get(msg, "method");
    if (id && !json_is_integer(id) && !json_is_string(id)) {
        reply_error(s, NULL, RPC_INVALID_REQUEST, "an id must be an integer or a string");
        return 0;
    }
    if (!method && id && (json_object_get(msg, "result") || json_object_get(msg, "error")))
        return 0; /* a response: this server sends no requests */
    if (!json_is_string(method)) {
        reply_error(s, id, RPC_INVALID_REQUEST, "a message without a method");
        return 0;
    }
    const char *m = json_string_value(method);
    if (s->opts.verbose)
        fprintf(stderr, "kindlint: lsp: %s\n", m);
    json_t *params = json_object_get(msg, "params");
    if (id)
        request(s, id, m, params);
    else if (strcmp(m, "exit") == 0)
        return 1;
    else
        notification(s, m, params);
    return 0;
}

int cli_lsp(const cli_opts *o, const kl_rules *rules, const kl_policy *pol)
{
    lsp_server s;
    memset(&s, 0, sizeof s);
    s.opts = *o;
    s.pol = pol;
    s.enc = LSP_UTF16;
    s.in_fd = fileno(stdin);
    s.scanner = kl_scanner_new(rules);
    if (!s.scanner) {
        fputs("kindlint: error: out of memory\n", stderr);
        return CLI_ERROR;
    }
    signal(SIGPIPE, SIG_IGN); /* a client gone is a write error, not a signal */
    int exited = 0;
    while (!exited && !s.write_failed) {
        /* changes are scanned once the client has sent all it has */
        if (s.deferred >= LSP_MAX_DEFERRED || !input_waits(&s))
            refresh_all(&s);
        s.deferred++;
        char *body;
        size_t len;
        int r = read_message(&s, &body, &len);
        if (r == 0)
            break;
        if (r < 0)
            continue;
        json_error_t err;
        json_t *msg =
            json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        free(body);
        if (!msg) {
            reply_error(&s, NULL, RPC_PARSE_ERROR, "invalid JSON at line %d, column %d: %s",
                        err.line, err.column, err.text);
            continue;
        }
        exited = handle(&s, msg);
        json_decref(msg);
    }
    if (!exited)
        refresh_all(&s); /* the input ended: what it changed is still told */
    if (s.write_failed)
        fputs("kindlint: error: cannot write to the client\n", stderr);
    for (size_t i = 0; i < s.ndocs; i++)
        free_doc(s.docs[i]);
    free(s.docs);
    cli_setups_free(s.setups);
    free(s.config_path);
    kl_scanner_free(s.scanner);
    return exited && s.shut_down ? CLI_OK : CLI_FINDINGS;
}

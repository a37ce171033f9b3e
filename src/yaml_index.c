/*
 * yaml_index.c -- where things are in a YAML file, for error messages.
 *
 * libcyaml hands back plain structs without positions, and for libyaml
 * syntax errors it drops libyaml's problem mark. This stage walks the same
 * bytes with libyaml's event parser and records the start of every node by
 * path ("rules[2].match", "rules[2].tests.flag[0].text") and of every key
 * ("KEY:rules[2].sugest"), plus the parser's problem and its position. It
 * runs only when a message needs a position, never on the happy path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "kl_internal.h"

#define INDEX_MAX_DEPTH 64
#define INDEX_MAX_ITEMS 200000

typedef struct frame {
    int is_seq;
    size_t index;    /* next sequence entry */
    int want_key;    /* mapping: next scalar is a key */
    char key[96];    /* mapping: current key */
    size_t path_len; /* length of this frame's own path */
} frame;

static void add_item(kl_yaml_index *idx, const char *path, const yaml_mark_t *m, int style)
{
    if (idx->count >= INDEX_MAX_ITEMS)
        return;
    if (idx->count == idx->cap) {
        size_t cap = idx->cap ? idx->cap * 2 : 64;
        kl_yaml_pos *p = realloc(idx->items, cap * sizeof *p);
        if (!p)
            return;
        idx->items = p;
        idx->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return;
    kl_yaml_pos *it = &idx->items[idx->count++];
    it->path = copy;
    it->line = (unsigned)m->line + 1;
    it->column = (unsigned)m->column + 1;
    it->style = style;
}

/* The path of the node that is about to start inside the top frame. */
static void child_path(char *out, size_t cap, const char *parent, const frame *f)
{
    if (!f) {
        snprintf(out, cap, "%s", "");
    } else if (f->is_seq) {
        snprintf(out, cap, "%s[%zu]", parent, f->index);
    } else if (parent[0]) {
        snprintf(out, cap, "%s.%s", parent, f->key);
    } else {
        snprintf(out, cap, "%s", f->key);
    }
}

void kl_yaml_index_build(kl_yaml_index *idx, const char *data, size_t len)
{
    memset(idx, 0, sizeof *idx);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return;
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);

    frame stack[INDEX_MAX_DEPTH];
    int depth = 0;
    char path[1024] = "";
    char child[1024];

    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            snprintf(idx->problem, sizeof idx->problem, "%s",
                     parser.problem ? parser.problem : "syntax error");
            idx->problem_line = (unsigned)parser.problem_mark.line + 1;
            idx->problem_column = (unsigned)parser.problem_mark.column + 1;
            if (parser.context) {
                snprintf(idx->context, sizeof idx->context, "%s", parser.context);
                idx->context_line = (unsigned)parser.context_mark.line + 1;
                idx->context_column = (unsigned)parser.context_mark.column + 1;
            }
            break;
        }
        int done = ev.type == YAML_STREAM_END_EVENT;
        frame *top = depth > 0 ? &stack[depth - 1] : NULL;

        switch (ev.type) {
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
            if (ev.type == YAML_ALIAS_EVENT && !idx->alias_line) {
                idx->alias_line = (unsigned)ev.start_mark.line + 1;
                idx->alias_column = (unsigned)ev.start_mark.column + 1;
            }
            if (top && !top->is_seq && top->want_key) {
                if (ev.type == YAML_SCALAR_EVENT) {
                    snprintf(top->key, sizeof top->key, "%.*s", (int)ev.data.scalar.length,
                             (const char *)ev.data.scalar.value);
                } else {
                    snprintf(top->key, sizeof top->key, "%s", "*");
                }
                child_path(child, sizeof child, path, top);
                char keypath[1100];
                snprintf(keypath, sizeof keypath, "KEY:%s", child);
                add_item(idx, keypath, &ev.start_mark, 0);
                top->want_key = 0;
            } else {
                child_path(child, sizeof child, path, top);
                add_item(idx, child, &ev.start_mark,
                         ev.type == YAML_SCALAR_EVENT ? (int)ev.data.scalar.style : 0);
                if (top) {
                    if (top->is_seq)
                        top->index++;
                    else
                        top->want_key = 1;
                }
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            child_path(child, sizeof child, path, top);
            add_item(idx, child, &ev.start_mark, 0);
            if (depth >= INDEX_MAX_DEPTH) {
                yaml_event_delete(&ev);
                goto out;
            }
            stack[depth].is_seq = ev.type == YAML_SEQUENCE_START_EVENT;
            stack[depth].index = 0;
            stack[depth].want_key = 1;
            stack[depth].key[0] = '\0';
            stack[depth].path_len = strlen(path);
            snprintf(path, sizeof path, "%s", child);
            depth++;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0) {
                depth--;
                path[stack[depth].path_len] = '\0';
                top = depth > 0 ? &stack[depth - 1] : NULL;
                if (top) {
                    if (top->is_seq)
                        top->index++;
                    else
                        top->want_key = 1;
                }
            }
            break;
        default: break;
        }
        yaml_event_delete(&ev);
        if (done)
            break;
    }
out:
    yaml_parser_delete(&parser);
}

void kl_yaml_index_free(kl_yaml_index *idx)
{
    for (size_t i = 0; i < idx->count; i++)
        free(idx->items[i].path);
    free(idx->items);
    memset(idx, 0, sizeof *idx);
}

const kl_yaml_pos *kl_yaml_index_find(const kl_yaml_index *idx, const char *path)
{
    for (size_t i = 0; i < idx->count; i++)
        if (strcmp(idx->items[i].path, path) == 0)
            return &idx->items[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* libcyaml error messages                                                   */
/* ------------------------------------------------------------------------ */

void kl_cyaml_log_fn(int level, void *ctx, const char *fmt, va_list args)
{
    (void)level;
    kl_cyaml_log *log = ctx;
    /* one log line at most 240 bytes: values (a 1 MB pattern) are quoted
     * in messages, and the backtrace after them must still fit */
    char line[240];
    int n = vsnprintf(line, sizeof line, fmt, args);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if ((size_t)n >= sizeof line && len > 0)
        line[len - 1] = '\n';
    if (log->len + len + 1 > sizeof log->text)
        return;
    memcpy(log->text + log->len, line, len);
    log->len += len;
    log->text[log->len] = '\0';
}

/* Copies the first line of s (without "Load: " / "ERROR: ") into out. */
static void first_message(const char *s, char *out, size_t cap)
{
    out[0] = '\0';
    while (*s) {
        const char *eol = strchr(s, '\n');
        size_t n = eol ? (size_t)(eol - s) : strlen(s);
        const char *line = s;
        if (n >= 7 && strncmp(line, "ERROR: ", 7) == 0) {
            line += 7;
            n -= 7;
        }
        if (n >= 6 && strncmp(line, "Load: ", 6) == 0) {
            line += 6;
            n -= 6;
        }
        if (n > 0 && strncmp(line, "Backtrace", 9) != 0 && strncmp(line, "  in ", 5) != 0) {
            if (n >= cap)
                n = cap - 1;
            memcpy(out, line, n);
            out[n] = '\0';
            /* drop a trailing '.' so messages can be composed */
            while (n > 0 && (out[n - 1] == '.' || out[n - 1] == ' '))
                out[--n] = '\0';
            return;
        }
        if (!eol)
            break;
        s = eol + 1;
    }
}

/* The innermost "(line: N, column: M)" of the backtrace, and the innermost
 * "in mapping field 'X'" name. */
static void backtrace_position(const char *s, unsigned *line, unsigned *col, char *field,
                               size_t fcap)
{
    *line = *col = 0;
    field[0] = '\0';
    const char *bt = strstr(s, "Backtrace");
    if (!bt)
        return;
    const char *p = strstr(bt, "(line: ");
    if (p) {
        unsigned l = 0, c = 0;
        if (sscanf(p, "(line: %u, column: %u)", &l, &c) == 2) {
            *line = l;
            *col = c;
        }
    }
    const char *f = strstr(bt, "in mapping field '");
    if (f && (!p || f < p + 40)) {
        f += strlen("in mapping field '");
        const char *e = strchr(f, '\'');
        if (e && (size_t)(e - f) < fcap) {
            memcpy(field, f, (size_t)(e - f));
            field[e - f] = '\0';
        }
    }
}

void kl_cyaml_error_to_diag(const kl_cyaml_log *log, int cyaml_err, const char *name,
                            const char *data, size_t len, kl_status code, kl_diag *diag)
{
    char msg[512];
    unsigned line, col;
    char field[96];
    first_message(log->text, msg, sizeof msg);
    backtrace_position(log->text, &line, &col, field, sizeof field);
    (void)cyaml_err;

    /* libyaml syntax errors: libcyaml drops the position; ask libyaml. */
    kl_yaml_index idx;
    kl_yaml_index_build(&idx, data, len);
    if (idx.problem[0]) {
        if (idx.context[0])
            kl_diag_set(diag, code, name, idx.problem_line, idx.problem_column, NULL,
                        "YAML syntax: %s (%s at %u:%u)", idx.problem, idx.context, idx.context_line,
                        idx.context_column);
        else
            kl_diag_set(diag, code, name, idx.problem_line, idx.problem_column, NULL,
                        "YAML syntax: %s", idx.problem);
        kl_yaml_index_free(&idx);
        return;
    }

    char text[700];
    if (strncmp(msg, "Unexpected key: ", 16) == 0) {
        const char *key = msg + 16;
        snprintf(text, sizeof text, "unknown key '%s'", key);
        /* libcyaml points at the previous value; find the key itself at or
         * after that position. */
        for (size_t i = 0; i < idx.count; i++) {
            const kl_yaml_pos *it = &idx.items[i];
            if (strncmp(it->path, "KEY:", 4) != 0)
                continue;
            const char *last = strrchr(it->path, '.');
            last = last ? last + 1 : it->path + 4;
            if (strcmp(last, key) == 0 &&
                (it->line > line || (it->line == line && it->column >= col))) {
                line = it->line;
                col = it->column;
                break;
            }
        }
    } else if (strncmp(msg, "Missing required mapping field: ", 32) == 0) {
        snprintf(text, sizeof text, "missing required key '%s'", msg + 32);
        /* libcyaml points at the last field it saw; point at the mapping
         * that lacks the key: the innermost sequence entry, or the top */
        const char *entry = strstr(log->text, "in sequence entry '");
        unsigned l = 0, cl = 0;
        const char *pos = entry ? strstr(entry, "(line: ") : NULL;
        if (pos && sscanf(pos, "(line: %u, column: %u)", &l, &cl) == 2) {
            line = l;
            col = cl;
        } else {
            line = col = 1;
        }
    } else if (strncmp(msg, "Invalid ENUM value: ", 20) == 0) {
        if (field[0])
            snprintf(text, sizeof text, "invalid value '%s' for '%s'", msg + 20, field);
        else
            snprintf(text, sizeof text, "invalid value '%s'", msg + 20);
    } else if (strncmp(msg, "Expecting SEQUENCE", 18) == 0 && field[0]) {
        snprintf(text, sizeof text, "'%s' must be a list (\"- item\" lines or [a, b])", field);
    } else if (strncmp(msg, "Expecting MAPPING", 17) == 0) {
        if (field[0])
            snprintf(text, sizeof text, "'%s' must be a mapping of keys to values", field);
        else
            snprintf(text, sizeof text, "%s",
                     "expected a mapping (key: value lines), found something else");
    } else if (strncmp(msg, "Expecting ", 10) == 0 && field[0]) {
        snprintf(text, sizeof text, "'%s': %s", field, msg);
    } else if (strncmp(msg, "Insufficient entries", 20) == 0 && field[0]) {
        snprintf(text, sizeof text, "'%s' needs at least one entry", field);
    } else if (strncmp(msg, "Too many entries", 16) == 0 && field[0]) {
        snprintf(text, sizeof text, "'%s' has too many entries (%s)", field, msg);
    } else if (strstr(msg, "length >") && field[0]) {
        unsigned max = 0;
        const char *gt = strstr(msg, "length > ");
        if (gt && sscanf(gt, "length > %u", &max) == 1)
            snprintf(text, sizeof text, "'%s' is too long (the limit is %u bytes)", field, max);
        else
            snprintf(text, sizeof text, "'%s' is too long", field);
    } else if (strcmp(msg, "") == 0 && cyaml_err != 0) {
        snprintf(text, sizeof text, "%s", "cannot load this YAML document");
    } else if (field[0]) {
        snprintf(text, sizeof text, "'%s': %s", field, msg);
    } else {
        snprintf(text, sizeof text, "%s", msg);
    }
    if (strstr(log->text, "lias")) {
        snprintf(text, sizeof text, "%s",
                 "YAML aliases (*name) are not allowed: write the value out in full");
        if (idx.alias_line) {
            line = idx.alias_line;
            col = idx.alias_column;
        }
    }
    if (line == 0)
        line = col = 1;
    kl_diag_set(diag, code, name, line, col, NULL, "%s", text);
    kl_yaml_index_free(&idx);
}

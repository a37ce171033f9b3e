/*
 * config.c -- .kindlint.yml, loaded with libcyaml.
 *
 *   root: true                 stop looking in parent directories
 *   default-rules: true        load the built-in packs (true|false)
 *   rules: [PATH...]           more packs, relative to this file
 *   enable: [NAME...]          rule ids, packs, categories or "all"
 *   disable: [NAME...]
 *   severity: [{name: NAME, level: info|warning|error}...]
 *   fail-on: info|warning|error|never
 *   quotes: skip|lint          reported speech in quotation marks
 *   ignore: [GLOB...]          not linted when walking (.gitignore style)
 *   overrides:                 for files matching a glob, applied in order
 *     - files: [GLOB...]
 *       enable/disable/severity/quotes/fail-on as above, and
 *       type: text|markdown|commit|email|chat
 *
 * libcyaml has no defaults and takes any string for a boolean, so yes/no
 * values are enums starting at 1 (0 means "not set"). Names in the lists
 * are checked against the rule set when applied, with the position of the
 * bad entry taken from a libyaml index of the file.
 */
#include <cyaml/cyaml.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kl_internal.h"

#define KL_MAX_CONFIG_FILE (1024u * 1024u)

typedef struct y_severity {
    char *name;
    int level;
} y_severity;

typedef struct y_override {
    char **files;
    unsigned files_count;
    char **enable;
    unsigned enable_count;
    char **disable;
    unsigned disable_count;
    y_severity *severity;
    unsigned severity_count;
    int quotes;
    int type;
    int fail_on;
} y_override;

typedef struct y_config {
    int root;
    int default_rules;
    char **rules;
    unsigned rules_count;
    char **enable;
    unsigned enable_count;
    char **disable;
    unsigned disable_count;
    y_severity *severity;
    unsigned severity_count;
    int fail_on;
    int quotes;
    char **ignore;
    unsigned ignore_count;
    y_override *overrides;
    unsigned overrides_count;
} y_config;

enum { YES_NO_FALSE = 1, YES_NO_TRUE = 2 };
enum { FAIL_INFO = 1, FAIL_WARNING, FAIL_ERROR, FAIL_NEVER };
enum { QUOTES_SKIP = 1, QUOTES_LINT = 2 };

static const cyaml_strval_t bool_strings[] = {
    {"false", YES_NO_FALSE},
    {"true", YES_NO_TRUE},
};
static const cyaml_strval_t level_strings[] = {
    {"info", KL_SEVERITY_INFO},
    {"warning", KL_SEVERITY_WARNING},
    {"error", KL_SEVERITY_ERROR},
};
static const cyaml_strval_t fail_strings[] = {
    {"info", FAIL_INFO},
    {"warning", FAIL_WARNING},
    {"error", FAIL_ERROR},
    {"never", FAIL_NEVER},
};
static const cyaml_strval_t quotes_strings[] = {
    {"skip", QUOTES_SKIP},
    {"lint", QUOTES_LINT},
};
static const cyaml_strval_t type_strings[] = {
    {"text", KL_DOC_TEXT + 1},   {"markdown", KL_DOC_MARKDOWN + 1}, {"commit", KL_DOC_COMMIT + 1},
    {"email", KL_DOC_EMAIL + 1}, {"chat", KL_DOC_CHAT + 1},
};

static const cyaml_schema_value_t name_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 256),
};
static const cyaml_schema_value_t path_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 1024),
};

static const cyaml_schema_field_t severity_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, y_severity, name, 1, 256),
    CYAML_FIELD_ENUM("level", CYAML_FLAG_STRICT, y_severity, level, level_strings,
                     CYAML_ARRAY_LEN(level_strings)),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t severity_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, y_severity, severity_fields),
};

#define LIST(key, type, member, entry)                                                          \
    CYAML_FIELD_SEQUENCE(key, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, type, member, entry, 0, \
                         KL_MAX_LIST_ENTRIES)
#define CHOICE(key, type, member, strings)                                                     \
    CYAML_FIELD_ENUM(key, CYAML_FLAG_STRICT | CYAML_FLAG_OPTIONAL, type, member, strings,     \
                     CYAML_ARRAY_LEN(strings))

static const cyaml_schema_field_t override_fields[] = {
    CYAML_FIELD_SEQUENCE("files", CYAML_FLAG_POINTER, y_override, files, &path_entry, 1,
                         KL_MAX_LIST_ENTRIES),
    LIST("enable", y_override, enable, &name_entry),
    LIST("disable", y_override, disable, &name_entry),
    LIST("severity", y_override, severity, &severity_entry),
    CHOICE("quotes", y_override, quotes, quotes_strings),
    CHOICE("type", y_override, type, type_strings),
    CHOICE("fail-on", y_override, fail_on, fail_strings),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t override_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, y_override, override_fields),
};

static const cyaml_schema_field_t config_fields[] = {
    CHOICE("root", y_config, root, bool_strings),
    CHOICE("default-rules", y_config, default_rules, bool_strings),
    LIST("rules", y_config, rules, &path_entry),
    LIST("enable", y_config, enable, &name_entry),
    LIST("disable", y_config, disable, &name_entry),
    LIST("severity", y_config, severity, &severity_entry),
    CHOICE("fail-on", y_config, fail_on, fail_strings),
    CHOICE("quotes", y_config, quotes, quotes_strings),
    LIST("ignore", y_config, ignore, &path_entry),
    LIST("overrides", y_config, overrides, &override_entry),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t config_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, y_config, config_fields),
};

struct kl_config {
    char *path;
    char *dir;
    y_config *y;
    char **rule_paths;
    kl_yaml_index idx;
};

static void cyaml_log_bridge(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    kl_cyaml_log_fn((int)level, ctx, fmt, args);
}

static const cyaml_config_t *cyaml_cfg(kl_cyaml_log *log)
{
    static cyaml_config_t quiet = {
        .log_fn = NULL,
        .mem_fn = cyaml_mem,
        .log_level = CYAML_LOG_ERROR,
        .flags = CYAML_CFG_NO_ALIAS,
    };
    if (!log)
        return &quiet;
    static _Thread_local cyaml_config_t c;
    c = quiet;
    c.log_fn = cyaml_log_bridge;
    c.log_ctx = log;
    return &c;
}

void kl_config_free(kl_config *c)
{
    if (!c)
        return;
    if (c->y) {
        for (unsigned i = 0; c->rule_paths && i < c->y->rules_count; i++)
            free(c->rule_paths[i]);
        cyaml_free(cyaml_cfg(NULL), &config_schema, c->y, 0);
    }
    free(c->rule_paths);
    kl_yaml_index_free(&c->idx);
    free(c->path);
    free(c->dir);
    free(c);
}

static char *join(const char *dir, const char *rel)
{
    if (rel[0] == '/')
        return strdup(rel);
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", rel);
    return p;
}

kl_status kl_config_load_buffer(const char *name, const char *dir, const char *data, size_t len,
                                kl_config **out, kl_diag *diag)
{
    kl_diag_clear(diag);
    *out = NULL;
    if (len > KL_MAX_CONFIG_FILE) {
        kl_diag_set(diag, KL_ERR_CONFIG, name, 0, 0, NULL,
                    "config file is %zu bytes; the limit is %u bytes", len, KL_MAX_CONFIG_FILE);
        return KL_ERR_CONFIG;
    }
    kl_config *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(name)) || !(c->dir = strdup(dir)))
        goto oom;
    /* an empty file (or only comments) is a valid config that sets nothing */
    int empty = 1;
    for (size_t i = 0; i < len && empty; i++) {
        if (data[i] == '#') {
            while (i < len && data[i] != '\n')
                i++;
        } else if (data[i] != ' ' && data[i] != '\t' && data[i] != '\n' && data[i] != '\r') {
            empty = 0;
        }
    }
    if (empty) {
        if (!(c->y = calloc(1, sizeof *c->y)))
            goto oom;
        /* freed by cyaml_free, which uses the same allocator as calloc */
        *out = c;
        return KL_OK;
    }
    kl_cyaml_log log;
    log.len = 0;
    log.text[0] = '\0';
    cyaml_err_t err = cyaml_load_data((const uint8_t *)data, len, cyaml_cfg(&log), &config_schema,
                                      (cyaml_data_t **)&c->y, NULL);
    if (err != CYAML_OK || !c->y) {
        if (log.len == 0 || err == CYAML_ERR_ALIAS) {
            kl_cyaml_log prefixed;
            int n = snprintf(prefixed.text, sizeof prefixed.text, "%s\n%s", cyaml_strerror(err),
                             log.text);
            prefixed.len = n < 0                              ? 0
                           : (size_t)n < sizeof prefixed.text ? (size_t)n
                                                              : sizeof prefixed.text - 1;
            log = prefixed;
        }
        kl_cyaml_error_to_diag(&log, (int)err, name, data, len, KL_ERR_CONFIG, diag);
        kl_config_free(c);
        return KL_ERR_CONFIG;
    }
    kl_yaml_index_build(&c->idx, data, len);
    if (c->y->rules_count) {
        if (!(c->rule_paths = calloc(c->y->rules_count, sizeof *c->rule_paths)))
            goto oom;
        for (unsigned i = 0; i < c->y->rules_count; i++)
            if (!(c->rule_paths[i] = join(dir, c->y->rules[i])))
                goto oom;
    }
    *out = c;
    return KL_OK;
oom:
    kl_config_free(c);
    kl_diag_set(diag, KL_ERR_NOMEM, name, 0, 0, NULL, "out of memory");
    return KL_ERR_NOMEM;
}

/* The absolute directory of path (physical, when it exists). */
static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *slash = strrchr(copy, '/');
    const char *d = ".";
    if (slash == copy)
        d = "/";
    else if (slash) {
        *slash = '\0';
        d = copy;
    }
    char *real = realpath(d, NULL);
    free(copy);
    return real;
}

kl_status kl_config_load(const char *path, kl_config **out, kl_diag *diag)
{
    kl_diag_clear(diag);
    *out = NULL;
    char *data;
    size_t len;
    kl_status st = kl_read_file(path, KL_MAX_CONFIG_FILE, &data, &len, diag);
    if (st != KL_OK)
        return st;
    char *dir = dir_of(path);
    if (!dir) {
        kl_diag_set(diag, KL_ERR_IO, path, 0, 0, NULL, "cannot resolve its directory: %s",
                    strerror(errno));
        free(data);
        return KL_ERR_IO;
    }
    st = kl_config_load_buffer(path, dir, data, len, out, diag);
    free(dir);
    free(data);
    return st;
}

char *kl_config_find(const char *start)
{
    char *dir = realpath(start && start[0] ? start : ".", NULL);
    while (dir) {
        char *cand = join(dir, KL_CONFIG_NAME);
        struct stat st;
        if (cand && stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
            free(dir);
            return cand;
        }
        free(cand);
        char *slash = strrchr(dir, '/');
        if (!slash || (slash == dir && dir[1] == '\0'))
            break;
        if (slash == dir)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    free(dir);
    return NULL;
}

const char *kl_config_path(const kl_config *c) { return c->path; }
const char *kl_config_dir(const kl_config *c) { return c->dir; }
int kl_config_is_root(const kl_config *c) { return c->y->root == YES_NO_TRUE; }

int kl_config_default_rules(const kl_config *c)
{
    return c->y->default_rules == 0 ? -1 : c->y->default_rules == YES_NO_TRUE;
}

size_t kl_config_rule_path_count(const kl_config *c) { return c->y->rules_count; }

const char *kl_config_rule_path(const kl_config *c, size_t i)
{
    return i < c->y->rules_count ? c->rule_paths[i] : NULL;
}

/* path relative to the config's directory, or NULL when outside it. The
 * path is made absolute lexically (it may name stdin, or not exist). */
static char *relative_to(const kl_config *c, const char *path)
{
    char *abs;
    if (path[0] == '/') {
        abs = strdup(path);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return NULL;
        abs = join(cwd, path);
    }
    if (!abs)
        return NULL;
    /* drop "." components and resolve ".." */
    char *out = malloc(strlen(abs) + 2);
    if (!out) {
        free(abs);
        return NULL;
    }
    size_t n = 0;
    for (char *p = abs; *p;) {
        while (*p == '/')
            p++;
        char *e = p;
        while (*e && *e != '/')
            e++;
        size_t k = (size_t)(e - p);
        if (k == 0 || (k == 1 && p[0] == '.')) {
            /* nothing */
        } else if (k == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && out[n - 1] != '/')
                n--;
            if (n > 0)
                n--;
        } else {
            out[n++] = '/';
            memcpy(out + n, p, k);
            n += k;
        }
        p = e;
    }
    out[n] = '\0';
    free(abs);
    size_t dl = strlen(c->dir);
    if (strcmp(c->dir, "/") == 0)
        dl = 0;
    if (strncmp(out, c->dir, dl) != 0 || out[dl] != '/') {
        free(out);
        return NULL;
    }
    memmove(out, out + dl + 1, strlen(out + dl + 1) + 1);
    return out;
}

static kl_status name_error(const kl_config *c, const char *ypath, const char *name,
                            kl_diag *diag)
{
    const kl_yaml_pos *p = kl_yaml_index_find(&c->idx, ypath);
    kl_diag_set(diag, KL_ERR_CONFIG, c->path, p ? p->line : 0, p ? p->column : 0, NULL,
                "no rule, pack or category named '%s' (see kindlint --list-rules)", name);
    return KL_ERR_CONFIG;
}

static kl_status apply_lists(const kl_config *c, const char *prefix, char **enable, unsigned ne,
                             char **disable, unsigned nd, const y_severity *sev, unsigned ns,
                             kl_policy *pol, kl_diag *diag)
{
    char ypath[128];
    for (unsigned i = 0; i < ne; i++) {
        if (kl_policy_enable(pol, enable[i], 1) != KL_OK) {
            snprintf(ypath, sizeof ypath, "%senable[%u]", prefix, i);
            return name_error(c, ypath, enable[i], diag);
        }
    }
    for (unsigned i = 0; i < nd; i++) {
        if (kl_policy_enable(pol, disable[i], 0) != KL_OK) {
            snprintf(ypath, sizeof ypath, "%sdisable[%u]", prefix, i);
            return name_error(c, ypath, disable[i], diag);
        }
    }
    for (unsigned i = 0; i < ns; i++) {
        if (kl_policy_set_severity(pol, sev[i].name, (kl_severity)sev[i].level) != KL_OK) {
            snprintf(ypath, sizeof ypath, "%sseverity[%u].name", prefix, i);
            return name_error(c, ypath, sev[i].name, diag);
        }
    }
    return KL_OK;
}

static void apply_fail_on(int v, kl_file_settings *fs)
{
    if (!v)
        return;
    fs->fail_on_set = 1;
    fs->fail_never = v == FAIL_NEVER;
    fs->fail_on = v == FAIL_INFO    ? KL_SEVERITY_INFO
                  : v == FAIL_ERROR ? KL_SEVERITY_ERROR
                                    : KL_SEVERITY_WARNING;
}

kl_status kl_config_apply(const kl_config *c, const char *path, kl_policy *pol,
                          kl_file_settings *fs, kl_diag *diag)
{
    kl_diag_clear(diag);
    const y_config *y = c->y;
    kl_status st = apply_lists(c, "", y->enable, y->enable_count, y->disable, y->disable_count,
                               y->severity, y->severity_count, pol, diag);
    if (st != KL_OK)
        return st;
    if (y->quotes)
        fs->quotes = y->quotes == QUOTES_LINT;
    apply_fail_on(y->fail_on, fs);
    if (!y->overrides_count || !path)
        return KL_OK;
    char *rel = relative_to(c, path);
    if (!rel)
        return KL_OK;
    for (unsigned k = 0; k < y->overrides_count && st == KL_OK; k++) {
        const y_override *o = &y->overrides[k];
        int hit = 0;
        for (unsigned i = 0; i < o->files_count && !hit; i++)
            hit = kl_glob_match_path(o->files[i], rel, 0);
        if (!hit)
            continue;
        char prefix[64];
        snprintf(prefix, sizeof prefix, "overrides[%u].", k);
        st = apply_lists(c, prefix, o->enable, o->enable_count, o->disable, o->disable_count,
                         o->severity, o->severity_count, pol, diag);
        if (o->quotes)
            fs->quotes = o->quotes == QUOTES_LINT;
        if (o->type) {
            fs->kind_set = 1;
            fs->kind = (kl_doc_kind)(o->type - 1);
        }
        apply_fail_on(o->fail_on, fs);
    }
    free(rel);
    return st;
}

int kl_config_ignores(const kl_config *c, const char *path, int is_dir)
{
    if (!c->y->ignore_count)
        return 0;
    char *rel = relative_to(c, path);
    if (!rel)
        return 0;
    int hit = 0;
    for (unsigned i = 0; i < c->y->ignore_count && !hit; i++)
        hit = kl_glob_match_path(c->y->ignore[i], rel, is_dir);
    free(rel);
    return hit;
}

/*
 * rules_load.c -- rule pack files (YAML) into memory, with libcyaml.
 *
 * The schema below is the rule format of DESIGN.md section 3 as static
 * data. libcyaml 1.3 has no defaults, so every optional field is 0/NULL when
 * absent and enums start at 1; defaults and all semantic checks live in
 * rules_compile.c, which turns the loaded structs into kl_rule values and
 * frees them at once. Unknown keys, duplicate keys, bad enums, YAML
 * aliases and oversized strings are refused by libcyaml itself.
 */
#include <cyaml/cyaml.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kl_internal.h"
#include "rules_schema.h"

/* ------------------------------------------------------------------------ */
/* Schema                                                                    */
/* ------------------------------------------------------------------------ */

static const cyaml_strval_t severity_strings[] = {
    {"info", KL_SEVERITY_INFO},
    {"warning", KL_SEVERITY_WARNING},
    {"error", KL_SEVERITY_ERROR},
};

static const cyaml_strval_t category_strings[] = {
    {"absolute", KL_CATEGORY_ABSOLUTE},
    {"blame", KL_CATEGORY_BLAME},
    {"criticism", KL_CATEGORY_CRITICISM},
    {"contempt", KL_CATEGORY_CONTEMPT},
    {"non-apology", KL_CATEGORY_NON_APOLOGY},
    {"defensiveness", KL_CATEGORY_DEFENSIVENESS},
    {"dismissal", KL_CATEGORY_DISMISSAL},
    {"mind-reading", KL_CATEGORY_MIND_READING},
    {"stonewalling", KL_CATEGORY_STONEWALLING},
    {"demand", KL_CATEGORY_DEMAND},
    {"blame-question", KL_CATEGORY_BLAME_QUESTION},
};

static const cyaml_schema_value_t pattern_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, KL_MAX_PATTERN),
};

static const cyaml_schema_value_t text_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, KL_MAX_TEXT_FIELD),
};

static const cyaml_schema_field_t feeling_fields[] = {
    CYAML_FIELD_STRING_PTR("word", CYAML_FLAG_POINTER, kl_y_feeling, word, 1, 64),
    CYAML_FIELD_STRING_PTR("feeling", CYAML_FLAG_POINTER, kl_y_feeling, feeling, 1, 64),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t feeling_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, kl_y_feeling, feeling_fields),
};

static const cyaml_schema_field_t flag_fields[] = {
    CYAML_FIELD_STRING_PTR("text", CYAML_FLAG_POINTER, kl_y_flag, text, 1, KL_MAX_TEXT_FIELD),
    CYAML_FIELD_STRING_PTR("fix", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, kl_y_flag, fix, 0,
                           KL_MAX_TEXT_FIELD),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t flag_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, kl_y_flag, flag_fields),
};

static const cyaml_schema_field_t tests_fields[] = {
    CYAML_FIELD_SEQUENCE("flag", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, kl_y_tests, flag,
                         &flag_entry, 0, KL_MAX_LIST_ENTRIES),
    CYAML_FIELD_SEQUENCE("pass", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, kl_y_tests, pass,
                         &text_entry, 0, KL_MAX_LIST_ENTRIES),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t rule_fields[] = {
    CYAML_FIELD_STRING_PTR("id", CYAML_FLAG_POINTER, kl_y_rule, id, 1, 63),
    CYAML_FIELD_ENUM("category", CYAML_FLAG_STRICT, kl_y_rule, category, category_strings,
                     CYAML_ARRAY_LEN(category_strings)),
    CYAML_FIELD_ENUM("severity", CYAML_FLAG_STRICT, kl_y_rule, severity, severity_strings,
                     CYAML_ARRAY_LEN(severity_strings)),
    CYAML_FIELD_STRING_PTR("message", CYAML_FLAG_POINTER, kl_y_rule, message, 1, 1024),
    CYAML_FIELD_STRING_PTR("explain", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, kl_y_rule, explain,
                           0, KL_MAX_TEXT_FIELD),
    CYAML_FIELD_STRING_PTR("match", CYAML_FLAG_POINTER, kl_y_rule, match, 1, KL_MAX_PATTERN),
    CYAML_FIELD_SEQUENCE("unless", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, kl_y_rule, unless,
                         &pattern_entry, 0, KL_MAX_LIST_ENTRIES),
    CYAML_FIELD_SEQUENCE("suggest", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, kl_y_rule, suggest,
                         &text_entry, 0, KL_MAX_LIST_ENTRIES),
    CYAML_FIELD_SEQUENCE("feelings", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, kl_y_rule, feelings,
                         &feeling_entry, 0, KL_MAX_LIST_ENTRIES),
    CYAML_FIELD_SEQUENCE("triggers", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, kl_y_rule, triggers,
                         &text_entry, 0, KL_MAX_LIST_ENTRIES),
    CYAML_FIELD_MAPPING_PTR("tests", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, kl_y_rule, tests,
                            tests_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t rule_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, kl_y_rule, rule_fields),
};

static const cyaml_schema_field_t pack_fields[] = {
    CYAML_FIELD_STRING_PTR("pack", CYAML_FLAG_POINTER, kl_y_pack, pack, 1, 63),
    CYAML_FIELD_STRING_PTR("summary", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, kl_y_pack, summary,
                           0, 1024),
    CYAML_FIELD_STRING_PTR("lang", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, kl_y_pack, lang, 0,
                           16),
    CYAML_FIELD_SEQUENCE("rules", CYAML_FLAG_POINTER, kl_y_pack, rules, &rule_entry, 1,
                         KL_MAX_RULES_PER_PACK),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t pack_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, kl_y_pack, pack_fields),
};

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

static void cyaml_log_bridge(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    kl_cyaml_log_fn((int)level, ctx, fmt, args);
}

kl_status kl_rules_add_buffer(kl_rules *rules, const char *name, const char *data, size_t len,
                              kl_diag *diag)
{
    kl_diag_clear(diag);
    if (!rules || rules->compiled) {
        kl_diag_set(diag, KL_ERR_USAGE, name, 0, 0, NULL,
                    "rules cannot be added after the set is compiled");
        return KL_ERR_USAGE;
    }
    if (len > KL_MAX_RULE_FILE) {
        kl_diag_set(diag, KL_ERR_LIMIT, name, 0, 0, NULL,
                    "rule file is %zu bytes; the limit is %u bytes", len, KL_MAX_RULE_FILE);
        return KL_ERR_LIMIT;
    }
    if (len == 0) {
        kl_diag_set(diag, KL_ERR_RULES, name, 1, 1, NULL,
                    "empty rule file: expected a mapping with 'pack' and 'rules'");
        return KL_ERR_RULES;
    }

    kl_y_pack *yp = NULL;
    kl_status st = kl_pack_parse(name, data, len, &yp, diag);
    if (st != KL_OK)
        return st;
    st = kl_rules_from_yaml(rules, yp, name, data, len, diag);
    kl_pack_free(yp);
    return st;
}

static const cyaml_config_t pack_cfg = {
    .mem_fn = cyaml_mem,
    .log_level = CYAML_LOG_ERROR,
    .flags = CYAML_CFG_NO_ALIAS,
};

void kl_pack_free(kl_y_pack *yp)
{
    if (yp)
        cyaml_free(&pack_cfg, &pack_schema, yp, 0);
}

kl_status kl_pack_parse(const char *name, const char *data, size_t len, kl_y_pack **out,
                        kl_diag *diag)
{
    kl_cyaml_log log;
    log.len = 0;
    log.text[0] = '\0';
    cyaml_config_t cfg = pack_cfg;
    cfg.log_fn = cyaml_log_bridge;
    cfg.log_ctx = &log;
    kl_y_pack *yp = NULL;
    *out = NULL;
    cyaml_err_t err =
        cyaml_load_data((const uint8_t *)data, len, &cfg, &pack_schema, (cyaml_data_t **)&yp, NULL);
    if (err != CYAML_OK || !yp) {
        if (log.len == 0 || err == CYAML_ERR_ALIAS) {
            kl_cyaml_log prefixed;
            int n = snprintf(prefixed.text, sizeof prefixed.text, "%s\n%s", cyaml_strerror(err),
                             log.text);
            prefixed.len = n < 0                              ? 0
                           : (size_t)n < sizeof prefixed.text ? (size_t)n
                                                              : sizeof prefixed.text - 1;
            log = prefixed;
        }
        kl_cyaml_error_to_diag(&log, (int)err, name, data, len, KL_ERR_RULES, diag);
        if (yp)
            cyaml_free(&cfg, &pack_schema, yp, 0);
        return KL_ERR_RULES;
    }
    *out = yp;
    return KL_OK;
}

kl_status kl_rules_add_file(kl_rules *rules, const char *path, kl_diag *diag)
{
    kl_diag_clear(diag);
    char *data;
    size_t len;
    kl_status st = kl_read_file(path, KL_MAX_RULE_FILE, &data, &len, diag);
    if (st != KL_OK)
        return st;
    st = kl_rules_add_buffer(rules, path, data, len, diag);
    free(data);
    return st;
}

static int has_yaml_suffix(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
           (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

kl_status kl_rules_add_path(kl_rules *rules, const char *path, kl_diag *diag)
{
    kl_diag_clear(diag);
    struct stat st;
    if (stat(path, &st) != 0) {
        kl_diag_set(diag, KL_ERR_IO, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
        return KL_ERR_IO;
    }
    if (!S_ISDIR(st.st_mode))
        return kl_rules_add_file(rules, path, diag);

    DIR *d = opendir(path);
    if (!d) {
        kl_diag_set(diag, KL_ERR_IO, path, 0, 0, NULL, "cannot open directory: %s",
                    strerror(errno));
        return KL_ERR_IO;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    kl_status result = KL_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !has_yaml_suffix(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                result = KL_ERR_NOMEM;
                break;
            }
            names = p;
        }
        if (!(names[n] = strdup(de->d_name))) {
            result = KL_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (result == KL_OK) {
        qsort(names, n, sizeof *names, cmp_str);
        for (size_t i = 0; i < n && result == KL_OK; i++) {
            size_t plen = strlen(path) + strlen(names[i]) + 2;
            char *full = malloc(plen);
            if (!full) {
                result = KL_ERR_NOMEM;
                break;
            }
            snprintf(full, plen, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                     names[i]);
            result = kl_rules_add_file(rules, full, diag);
            free(full);
        }
        if (n == 0) {
            kl_diag_set(diag, KL_ERR_RULES, path, 0, 0, NULL,
                        "no rule files (*.yml, *.yaml) in this directory");
            result = KL_ERR_RULES;
        }
    } else {
        kl_diag_set(diag, result, path, 0, 0, NULL, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return result;
}

/* The default packs from their precompiled form (kl_precompiled_packs).
 * Returns 1 when that form cannot serve (none was built, another PCRE2
 * build, KINDLINT_NO_PRECOMPILED=1): the caller loads the YAML. */
static int add_precompiled(kl_rules *rules, kl_status *st, kl_diag *diag)
{
    const kl_precompiled *pre = &kl_precompiled_packs;
    if (pre->npacks == 0 || pre->npacks != kl_embedded_pack_count ||
        kl_env_on("KINDLINT_NO_PRECOMPILED"))
        return 1;
    for (size_t i = 0; i < pre->npacks; i++)
        if (kl_rules_has_pack(rules, pre->packs[i].pack))
            return 1; /* the YAML path reports the duplicate */
    int32_t n = pcre2_serialize_get_number_of_codes(pre->codes);
    if (n <= 0)
        return 1;
    pcre2_code **codes = calloc((size_t)n, sizeof *codes);
    if (!codes)
        return 1;
    if (pcre2_serialize_decode(codes, n, pre->codes, NULL) != n) {
        free(codes); /* serialized by another PCRE2 build: compile instead */
        return 1;
    }
    size_t first = rules->count, next = 0;
    *st = KL_OK;
    for (size_t i = 0; i < pre->npacks && *st == KL_OK; i++) {
        char name[256];
        size_t used = 0;
        snprintf(name, sizeof name, "builtin:%s", kl_embedded_packs[i].name);
        *st = kl_rules_from_yaml_codes(
            rules, &pre->packs[i], name, (const char *)kl_embedded_packs[i].data,
            kl_embedded_packs[i].len, codes + next, (size_t)n - next, first, &used, diag);
        next += used;
    }
    if (*st == KL_OK && (next != (size_t)n || rules->count - first != pre->nrules)) {
        kl_diag_set(diag, KL_ERR_RULES, "builtin", 0, 0, NULL,
                    "the precompiled default packs do not match the embedded ones");
        *st = KL_ERR_RULES;
    }
    for (size_t k = 0; k < pre->nrules && *st == KL_OK; k++) {
        const kl_pre_rule *pr = &pre->rules[k];
        rules->rules[first + k]->twin_known = 1;
        rules->rules[first + k]->twin_image = pr->twin;
        if (kl_rule_set_clauses(rules->rules[first + k], pr->nclauses, pr->clause_lits, pr->lits,
                                pr->desc) != KL_OK) {
            kl_diag_set(diag, KL_ERR_NOMEM, "builtin", 0, 0, NULL, "out of memory");
            *st = KL_ERR_NOMEM;
        }
    }
    for (int32_t k = 0; k < n; k++)
        pcre2_code_free(codes[k]); /* those not taken over (NULL otherwise) */
    free(codes);
    if (*st == KL_OK && first == 0)
        rules->nprecompiled = rules->count;
    return 0;
}

kl_status kl_rules_add_defaults(kl_rules *rules, kl_diag *diag)
{
    kl_diag_clear(diag);
    if (!rules || rules->compiled) {
        kl_diag_set(diag, KL_ERR_USAGE, "builtin", 0, 0, NULL,
                    "rules cannot be added after the set is compiled");
        return KL_ERR_USAGE;
    }
    kl_status pst;
    if (add_precompiled(rules, &pst, diag) == 0)
        return pst;
    for (size_t i = 0; i < kl_embedded_pack_count; i++) {
        char name[256];
        snprintf(name, sizeof name, "builtin:%s", kl_embedded_packs[i].name);
        kl_status st = kl_rules_add_buffer(rules, name, (const char *)kl_embedded_packs[i].data,
                                           kl_embedded_packs[i].len, diag);
        if (st != KL_OK)
            return st;
    }
    return KL_OK;
}

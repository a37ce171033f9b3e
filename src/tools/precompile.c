/*
 * precompile.c -- kindlint-precompile, the build tool that precompiles the
 * default rule packs.
 *
 *   kindlint-precompile OUT.c
 *
 * Loads the embedded packs the way every pack is loaded (libcyaml, PCRE2,
 * the rule compiler, the prefilter), then writes C source holding the
 * result: what libcyaml read from each pack (kl_y_pack), every pattern
 * serialized by pcre2_serialize_encode, every rule's prefilter clauses and
 * the automaton of the default set. The library is built with that file,
 * so `echo ok | kindlint` starts without parsing YAML, compiling patterns
 * or building the automaton (kl_precompiled in kl_internal.h). The rules
 * stay data: rules/ *.yml are the source, and this runs again whenever
 * they change.
 *
 * A failure (a pack that does not load) prints the error and exits 1
 * without leaving OUT.c behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kl_internal.h"
#include "rules_schema.h"

/* The columns byte c takes in a C string literal: \" \\ \? escaped,
 * printable ASCII as it is, anything else as three-digit octal. */
static size_t char_width(unsigned char c)
{
    return c == '"' || c == '\\' || c == '?' ? 2 : c >= 0x20 && c < 0x7F ? 1 : 4;
}

static size_t str_width(const unsigned char *p)
{
    size_t n = 0;
    for (; *p; p++)
        n += char_width(*p);
    return n;
}

/* A C string literal for s (NULL for a null pointer): printable ASCII as
 * it is, everything else as three-digit octal, lines kept short. A literal
 * cut into pieces is in parentheses: in an array of strings, clang takes
 * pieces side by side for a missing comma (-Wstring-concatenation). */
static void put_str(FILE *o, const char *s)
{
    if (!s) {
        fputs("NULL", o);
        return;
    }
    int pieces = str_width((const unsigned char *)s) > 100;
    if (pieces)
        fputc('(', o);
    fputc('"', o);
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (col >= 100) {
            fputs("\"\n    \"", o);
            col = 0;
        }
        size_t w = char_width(*p);
        if (w == 2)
            fprintf(o, "\\%c", *p);
        else if (w == 1)
            fputc(*p, o);
        else
            fprintf(o, "\\%03o", *p);
        col += w;
    }
    fputc('"', o);
    if (pieces)
        fputc(')', o);
}

/* One {a, b} entry of an array of two-string structs. */
static void put_pair(FILE *o, const char *a, const char *b)
{
    fputs("    {", o);
    put_str(o, a);
    fputs(", ", o);
    put_str(o, b);
    fputs("},\n", o);
}

static void put_strs(FILE *o, const char *name, char **v, unsigned n)
{
    if (!n)
        return;
    fprintf(o, "static char *%s[%u] = {\n", name, n);
    for (unsigned i = 0; i < n; i++) {
        fputs("    ", o);
        put_str(o, v[i]);
        fputs(",\n", o);
    }
    fputs("};\n", o);
}

static void put_pack(FILE *o, size_t pi, const kl_y_pack *yp)
{
    char name[96];
    for (unsigned ri = 0; ri < yp->rules_count; ri++) {
        const kl_y_rule *y = &yp->rules[ri];
        snprintf(name, sizeof name, "p%zu_r%u_unless", pi, ri);
        put_strs(o, name, y->unless, y->unless_count);
        snprintf(name, sizeof name, "p%zu_r%u_suggest", pi, ri);
        put_strs(o, name, y->suggest, y->suggest_count);
        snprintf(name, sizeof name, "p%zu_r%u_triggers", pi, ri);
        put_strs(o, name, y->triggers, y->triggers_count);
        if (y->feelings_count) {
            fprintf(o, "static kl_y_feeling p%zu_r%u_feelings[%u] = {\n", pi, ri,
                    y->feelings_count);
            for (unsigned k = 0; k < y->feelings_count; k++)
                put_pair(o, y->feelings[k].word, y->feelings[k].feeling);
            fputs("};\n", o);
        }
        if (y->tests) {
            const kl_y_tests *t = y->tests;
            if (t->flag_count) {
                fprintf(o, "static kl_y_flag p%zu_r%u_flag[%u] = {\n", pi, ri, t->flag_count);
                for (unsigned k = 0; k < t->flag_count; k++)
                    put_pair(o, t->flag[k].text, t->flag[k].fix);
                fputs("};\n", o);
            }
            snprintf(name, sizeof name, "p%zu_r%u_pass", pi, ri);
            put_strs(o, name, t->pass, t->pass_count);
            fprintf(o, "static kl_y_tests p%zu_r%u_tests = {", pi, ri);
            if (t->flag_count)
                fprintf(o, "p%zu_r%u_flag, %u, ", pi, ri, t->flag_count);
            else
                fputs("NULL, 0, ", o);
            if (t->pass_count)
                fprintf(o, "p%zu_r%u_pass, %u};\n", pi, ri, t->pass_count);
            else
                fputs("NULL, 0};\n", o);
        }
    }
    fprintf(o, "static kl_y_rule p%zu_rules[%u] = {\n", pi, yp->rules_count);
    for (unsigned ri = 0; ri < yp->rules_count; ri++) {
        const kl_y_rule *y = &yp->rules[ri];
        fputs("  {.id = ", o);
        put_str(o, y->id);
        fprintf(o, ",\n   .category = %d, .severity = %d,\n   .message = ", y->category,
                y->severity);
        put_str(o, y->message);
        fputs(",\n   .explain = ", o);
        put_str(o, y->explain);
        fputs(",\n   .match = ", o);
        put_str(o, y->match);
#define SEQ(field, count)                                                                          \
    do {                                                                                           \
        if (y->count)                                                                              \
            fprintf(o, ",\n   ." #field " = p%zu_r%u_" #field ", ." #count " = %u", pi, ri,        \
                    y->count);                                                                     \
    } while (0)
        SEQ(unless, unless_count);
        SEQ(suggest, suggest_count);
        SEQ(feelings, feelings_count);
        SEQ(triggers, triggers_count);
#undef SEQ
        if (y->tests)
            fprintf(o, ",\n   .tests = &p%zu_r%u_tests", pi, ri);
        fputs("},\n", o);
    }
    fputs("};\n", o);
}

static int write_all(FILE *o, kl_y_pack **yp, const kl_rules *rules)
{
    fputs("/* Generated by kindlint-precompile from rules/ *.yml: do not edit. */\n"
          "#include <stddef.h>\n#include <stdint.h>\n\n"
          "#include \"kl_internal.h\"\n#include \"rules_schema.h\"\n\n"
          "#if defined(__GNUC__)\n#pragma GCC diagnostic ignored \"-Woverlength-strings\"\n"
          "#endif\n\n",
          o);
    for (size_t i = 0; i < kl_embedded_pack_count; i++)
        put_pack(o, i, yp[i]);
    fprintf(o, "static const kl_y_pack packs[%zu] = {\n", kl_embedded_pack_count);
    for (size_t i = 0; i < kl_embedded_pack_count; i++) {
        fputs("  {", o);
        put_str(o, yp[i]->pack);
        fputs(", ", o);
        put_str(o, yp[i]->summary);
        fputs(", ", o);
        put_str(o, yp[i]->lang);
        fprintf(o, ", p%zu_rules, %u},\n", i, yp[i]->rules_count);
    }
    fputs("};\n\n", o);

    /* the patterns, in the order the rule compiler takes them */
    size_t n = 0;
    for (size_t i = 0; i < rules->count; i++)
        n += 1 + rules->rules[i]->nunless;
    const pcre2_code **codes = malloc(n * sizeof *codes);
    if (!codes)
        return -1;
    n = 0;
    for (size_t i = 0; i < rules->count; i++) {
        codes[n++] = rules->rules[i]->re;
        for (size_t u = 0; u < rules->rules[i]->nunless; u++)
            codes[n++] = rules->rules[i]->unless[u];
    }
    uint8_t *bytes = NULL;
    PCRE2_SIZE size = 0;
    int32_t rc = pcre2_serialize_encode(codes, (int32_t)n, &bytes, &size, NULL);
    free(codes);
    if (rc != (int32_t)n) {
        fprintf(stderr, "kindlint-precompile: pcre2_serialize_encode failed (%d)\n", (int)rc);
        return -1;
    }
    fprintf(o, "_Alignas(16) static const unsigned char codes[%zu] = {", (size_t)size);
    for (size_t i = 0; i < size; i++)
        fprintf(o, "%s%u,", i % 32 ? "" : "\n", bytes[i]);
    fputs("};\n\n", o);
    pcre2_serialize_free(bytes);

    /* each rule's clauses */
    for (size_t i = 0; i < rules->count; i++) {
        const kl_rule *r = rules->rules[i];
        if (!r->nclauses)
            continue;
        fprintf(o, "static const uint32_t c%zu_n[%zu] = {", i, r->nclauses);
        for (size_t c = 0; c < r->nclauses; c++)
            fprintf(o, "%zu,", r->clauses[c].nlits);
        fprintf(o, "};\nstatic const char *const c%zu_l[] = {\n", i);
        for (size_t c = 0; c < r->nclauses; c++) {
            for (size_t j = 0; j < r->clauses[c].nlits; j++) {
                fputs("    ", o);
                put_str(o, r->clauses[c].lits[j]);
                fputs(",\n", o);
            }
        }
        fputs("};\n", o);
    }
    /* each rule's ASCII twin, serialized on its own: kl_rule_prepare
     * decodes one when the rule first needs it */
    unsigned char *has_twin = calloc(rules->count ? rules->count : 1, 1);
    if (!has_twin)
        return -1;
    for (size_t i = 0; i < rules->count; i++) {
        pcre2_code *twin = kl_pattern_compile_ascii(rules->rules[i]->pattern);
        if (!twin)
            continue;
        const pcre2_code *one[1] = {twin};
        rc = pcre2_serialize_encode(one, 1, &bytes, &size, NULL);
        pcre2_code_free(twin);
        if (rc != 1) {
            fprintf(stderr, "kindlint-precompile: pcre2_serialize_encode failed (%d)\n", (int)rc);
            free(has_twin);
            return -1;
        }
        fprintf(o, "_Alignas(16) static const unsigned char t%zu[%zu] = {", i, (size_t)size);
        for (size_t k = 0; k < size; k++)
            fprintf(o, "%s%u,", k % 32 ? "" : "\n", bytes[k]);
        fputs("};\n", o);
        pcre2_serialize_free(bytes);
        has_twin[i] = 1;
    }
    fprintf(o, "static const kl_pre_rule pre_rules[%zu] = {\n", rules->count);
    for (size_t i = 0; i < rules->count; i++) {
        if (rules->rules[i]->nclauses) {
            fprintf(o, "    {%zu, c%zu_n, c%zu_l, ", rules->rules[i]->nclauses, i, i);
            put_str(o, rules->rules[i]->triggers_desc);
        } else {
            fputs("    {0, NULL, NULL, NULL", o);
        }
        if (has_twin[i])
            fprintf(o, ", t%zu},\n", i);
        else
            fputs(", NULL},\n", o);
    }
    free(has_twin);
    fputs("};\n\n", o);

    if (kl_prefilter_write_c(rules->prefilter, o, "kl_pre_prefilter") != 0) {
        fputs("kindlint-precompile: the default set has no prefilter to write\n", stderr);
        return -1;
    }
    fprintf(o,
            "\nconst kl_precompiled kl_precompiled_packs = {%zu, packs, %zu, pre_rules, codes, "
            "sizeof codes,\n                                             &kl_pre_prefilter};\n",
            kl_embedded_pack_count, rules->count);
    return ferror(o) ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: kindlint-precompile OUT.c\n", stderr);
        return 2;
    }
    /* the set is built the way kindlint builds it, whatever the build's
     * environment says */
    unsetenv("KINDLINT_NO_PREFILTER");
    kl_diag d;
    int status = 1;
    kl_rules *rules = kl_rules_new();
    kl_y_pack **yp = calloc(kl_embedded_pack_count + 1, sizeof *yp);
    FILE *o = NULL;
    if (!rules || !yp) {
        fputs("kindlint-precompile: out of memory\n", stderr);
        goto out;
    }
    for (size_t i = 0; i < kl_embedded_pack_count; i++) {
        char name[256];
        snprintf(name, sizeof name, "builtin:%s", kl_embedded_packs[i].name);
        if (kl_pack_parse(name, (const char *)kl_embedded_packs[i].data, kl_embedded_packs[i].len,
                          &yp[i], &d) != KL_OK) {
            fprintf(stderr, "kindlint-precompile: %s:%u:%u: %s\n", d.file, d.line, d.column,
                    d.message);
            goto out;
        }
    }
    if (kl_rules_add_defaults(rules, &d) != KL_OK || kl_rules_compile(rules, &d) != KL_OK) {
        fprintf(stderr, "kindlint-precompile: %s:%u:%u: %s\n", d.file, d.line, d.column, d.message);
        goto out;
    }
    if (!(o = fopen(argv[1], "w"))) {
        perror(argv[1]);
        goto out;
    }
    int wrote = write_all(o, yp, rules) == 0;
    int closed = fclose(o) == 0;
    o = NULL;
    if (wrote && closed)
        status = 0;
    else
        fprintf(stderr, "kindlint-precompile: cannot write %s\n", argv[1]);
out:
    if (o)
        fclose(o);
    if (status != 0)
        remove(argv[1]);
    for (size_t i = 0; yp && i < kl_embedded_pack_count; i++)
        kl_pack_free(yp[i]);
    free(yp);
    kl_rules_free(rules);
    return status;
}

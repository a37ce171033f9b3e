/*
 * setup.c -- which configuration, rules and policy apply to each file.
 *
 * A file's settings come from a chain of .kindlint.yml files: the nearest
 * one above the file, then the next above that, up to one with root: true
 * (or just the --config file, or none with --no-config). Each chain gets
 * its own rule set (built-in packs unless turned off, the configs' packs,
 * then --rules) and scanner, built once and cached; most runs have one.
 * The policy is made per file: configs farthest first (their overrides
 * included), then --enable/--disable from the command line, which win.
 */
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct loaded_config {
    char *path;
    kl_config *config; /* NULL: it failed to load (said once) */
    struct timespec mtime; /* when it was loaded, to see it change */
    off_t size;
} loaded_config;

struct cli_setup {
    char *key; /* the chain's config paths, joined */
    kl_config **chain; /* nearest first */
    size_t nchain;
    kl_rules *rules;
    kl_scanner *scanner;
    int failed;
};

struct cli_setups {
    const cli_opts *o;
    loaded_config *configs;
    size_t nconfigs;
    cli_setup **setups;
    size_t nsetups;
    char *last_dir; /* the directory last asked about, and its answer */
    cli_setup *last;
};

cli_setups *cli_setups_new(const cli_opts *o)
{
    cli_setups *s = calloc(1, sizeof *s);
    if (s)
        s->o = o;
    return s;
}

void cli_setups_free(cli_setups *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nconfigs; i++) {
        free(s->configs[i].path);
        kl_config_free(s->configs[i].config);
    }
    free(s->configs);
    for (size_t i = 0; i < s->nsetups; i++) {
        cli_setup *u = s->setups[i];
        kl_scanner_free(u->scanner);
        kl_rules_free(u->rules);
        free(u->chain);
        free(u->key);
        free(u);
    }
    free(s->setups);
    free(s->last_dir);
    free(s);
}

/* A config by path, loaded once. *failed is set when it does not load. */
static kl_config *config_at(cli_setups *s, const char *path, int *failed)
{
    for (size_t i = 0; i < s->nconfigs; i++) {
        if (strcmp(s->configs[i].path, path) == 0) {
            if (!s->configs[i].config)
                *failed = 1;
            return s->configs[i].config;
        }
    }
    loaded_config *p = realloc(s->configs, (s->nconfigs + 1) * sizeof *p);
    if (!p) {
        *failed = 1;
        return NULL;
    }
    s->configs = p;
    loaded_config *lc = &s->configs[s->nconfigs];
    lc->config = NULL;
    struct stat st;
    memset(&lc->mtime, 0, sizeof lc->mtime);
    lc->size = -1;
    if (stat(path, &st) == 0) {
        lc->mtime = st.st_mtim;
        lc->size = st.st_size;
    }
    if (!(lc->path = strdup(path))) {
        *failed = 1;
        return NULL;
    }
    s->nconfigs++;
    kl_diag d;
    if (kl_config_load(path, &lc->config, &d) != KL_OK) {
        cli_print_diag(&d, "error");
        *failed = 1;
        return NULL;
    }
    return lc->config;
}

static kl_rules *build_rules(const cli_opts *o, kl_config **chain, size_t n)
{
    kl_rules *rules = kl_rules_new();
    kl_diag d;
    if (!rules) {
        fputs("kindlint: error: out of memory\n", stderr);
        return NULL;
    }
    int defaults = 1;
    for (size_t i = n; i-- > 0;) /* the nearest config that says, wins */
        if (kl_config_default_rules(chain[i]) >= 0)
            defaults = kl_config_default_rules(chain[i]);
    if (o->no_default_rules || o->test_rules_paths)
        defaults = 0;
    if (defaults && kl_rules_add_defaults(rules, &d) != KL_OK)
        goto fail;
    for (size_t i = n; i-- > 0;)
        for (size_t k = 0; k < kl_config_rule_path_count(chain[i]); k++)
            if (kl_rules_add_path(rules, kl_config_rule_path(chain[i], k), &d) != KL_OK)
                goto fail;
    for (size_t i = 0; i < o->nrule_paths; i++)
        if (kl_rules_add_path(rules, o->rule_paths[i], &d) != KL_OK)
            goto fail;
    if (o->test_rules_paths)
        for (size_t i = 0; i < o->npaths; i++)
            if (kl_rules_add_path(rules, o->paths[i], &d) != KL_OK)
                goto fail;
    if (kl_rules_compile(rules, &d) != KL_OK)
        goto fail;
    return rules;
fail:
    cli_print_diag(&d, "error");
    kl_rules_free(rules);
    return NULL;
}

/* The directory part of a path ("." for a bare name). */
static char *dir_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

cli_setup *cli_setup_for(cli_setups *s, const char *path)
{
    const cli_opts *o = s->o;
    char *dir = path ? dir_name(path) : strdup(".");
    if (!dir)
        return NULL;
    if (s->last_dir && strcmp(s->last_dir, dir) == 0) {
        free(dir);
        return s->last;
    }
    kl_config *chain[64];
    size_t n = 0;
    int failed = 0;
    char key[8192];
    key[0] = '\0';
    if (o->config_path) {
        kl_config *c = config_at(s, o->config_path, &failed);
        if (c)
            chain[n++] = c;
        snprintf(key, sizeof key, "%s", o->config_path);
    } else if (!o->no_config) {
        char *found = kl_config_find(dir);
        while (found && n < sizeof chain / sizeof chain[0]) {
            kl_config *c = config_at(s, found, &failed);
            size_t kl = strlen(key);
            snprintf(key + kl, sizeof key - kl, "%s\n", found);
            free(found);
            found = NULL;
            if (!c)
                break;
            chain[n++] = c;
            if (kl_config_is_root(c))
                break;
            /* look again from the parent of this config's directory */
            const char *cd = kl_config_dir(c);
            if (strcmp(cd, "/") == 0)
                break;
            char *parent = dir_name(cd);
            if (!parent)
                break;
            found = kl_config_find(parent);
            free(parent);
        }
        free(found);
    }
    cli_setup *u = NULL;
    for (size_t i = 0; i < s->nsetups && !u; i++)
        if (strcmp(s->setups[i]->key, key) == 0)
            u = s->setups[i];
    if (!u) {
        u = calloc(1, sizeof *u);
        cli_setup **p = u ? realloc(s->setups, (s->nsetups + 1) * sizeof *p) : NULL;
        if (!p) {
            free(u);
            free(dir);
            return NULL;
        }
        s->setups = p;
        s->setups[s->nsetups++] = u;
        u->key = strdup(key);
        u->failed = failed;
        if (!failed && n) {
            u->chain = malloc(n * sizeof *u->chain);
            if (u->chain) {
                memcpy(u->chain, chain, n * sizeof *chain);
                u->nchain = n;
            } else {
                u->failed = 1;
            }
        }
        if (!u->failed) {
            u->rules = build_rules(o, u->chain, u->nchain);
            u->scanner = u->rules ? kl_scanner_new(u->rules) : NULL;
            if (!u->rules || !u->scanner)
                u->failed = 1;
        }
    }
    free(s->last_dir);
    s->last_dir = dir;
    s->last = u;
    return u;
}

int cli_setup_failed(const cli_setup *u)
{
    return !u || u->failed;
}

const kl_rules *cli_setup_rules(const cli_setup *u)
{
    return u->rules;
}

kl_scanner *cli_setup_scanner(const cli_setup *u)
{
    return u->scanner;
}

kl_policy *cli_policy_for(const cli_setup *u, const cli_opts *o, const char *path,
                          kl_file_settings *fs)
{
    kl_policy *p = kl_policy_new(u->rules);
    if (!p) {
        fputs("kindlint: error: out of memory\n", stderr);
        return NULL;
    }
    kl_diag d;
    for (size_t i = u->nchain; i-- > 0;) {
        if (kl_config_apply(u->chain[i], path, p, fs, &d) != KL_OK) {
            cli_print_diag(&d, "error");
            kl_policy_free(p);
            return NULL;
        }
    }
    for (size_t i = 0; i < o->ntoggles; i++) {
        if (kl_policy_enable(p, o->toggles[i].name, o->toggles[i].enable) != KL_OK) {
            fprintf(stderr,
                    "kindlint: error: --%s %s: no rule, pack or category of that name "
                    "(see --list-rules)\n",
                    o->toggles[i].enable ? "enable" : "disable", o->toggles[i].name);
            kl_policy_free(p);
            return NULL;
        }
    }
    return p;
}

int cli_setup_ignores(const cli_setup *u, const char *path, int is_dir)
{
    for (size_t i = 0; u && i < u->nchain; i++)
        if (kl_config_ignores(u->chain[i], path, is_dir))
            return 1;
    return 0;
}

int cli_setups_stale(const cli_setups *s)
{
    for (size_t i = 0; s && i < s->nconfigs; i++) {
        struct stat st;
        const loaded_config *lc = &s->configs[i];
        if (stat(lc->path, &st) != 0) {
            if (lc->size >= 0)
                return 1; /* it was there, and is gone */
            continue;
        }
        if (st.st_size != lc->size || st.st_mtim.tv_sec != lc->mtime.tv_sec ||
            st.st_mtim.tv_nsec != lc->mtime.tv_nsec)
            return 1;
    }
    return 0;
}

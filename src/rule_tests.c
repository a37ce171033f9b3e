/*
 * rule_tests.c -- running each rule's own examples (--test-rules).
 *
 * Tests are data, as in jq's --run-tests: every rule carries "flag"
 * examples (text that must be reported, and the text after its first
 * suggestion is applied) and "pass" examples (near misses that must stay
 * clean). Each rule is tested alone, with a policy that enables only it, so
 * one rule's tests say nothing about another's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kl_internal.h"

typedef struct collect {
    const kl_rule *rule;
    kl_edit *edits;
    size_t nedits, cap;
    size_t hits;
    int failed;
} collect;

static int on_finding(const kl_finding *f, void *ud)
{
    collect *c = ud;
    if (f->rule != c->rule)
        return 0;
    c->hits++;
    if (f->rule->nsuggest == 0)
        return 0;
    if (c->nedits && c->edits[c->nedits - 1].offset + c->edits[c->nedits - 1].length > f->offset)
        return 0; /* overlapping: the first one wins, as with --fix */
    if (c->nedits == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        kl_edit *p = realloc(c->edits, cap * sizeof *p);
        if (!p) {
            c->failed = 1;
            return 1;
        }
        c->edits = p;
        c->cap = cap;
    }
    kl_edit *e = &c->edits[c->nedits];
    if (kl_finding_suggestion(f, 0, &e->replacement, &e->rlen, NULL) != KL_OK) {
        c->failed = 1;
        return 1;
    }
    e->offset = f->offset;
    e->length = f->length;
    c->nedits++;
    return 0;
}

/* The first finding a fix run would apply (a suggestion with no blank). */
typedef struct refix {
    const kl_rule *rule;
    int failed;
} refix;

static int on_refix(const kl_finding *f, void *ud)
{
    refix *c = ud;
    if (c->rule || f->rule->nsuggest == 0 || (f->flags & KL_FINDING_CROSSES_MARKUP))
        return 0;
    char *s = NULL;
    int blank = 0;
    if (kl_finding_suggestion(f, 0, &s, NULL, &blank) != KL_OK) {
        c->failed = 1;
        return 1;
    }
    free(s);
    if (!blank)
        c->rule = f->rule;
    return 0;
}

/* Fixing must be idempotent: --fix of its own output changes nothing.
 * The example is fixed as --fix would, with every rule of the set; when a
 * rule still rewrites that output, *by is that rule and *out the output. */
static kl_status refixed_by(kl_scanner *sc, const char *text, const kl_rule **by, char **out)
{
    refix c = {0};
    kl_scan_options opt;
    memset(&opt, 0, sizeof opt);
    opt.abi_version = KL_ABI_VERSION;
    kl_fix_request rq = {0, NULL};
    kl_fix_result res;
    kl_diag d;
    *by = NULL;
    *out = NULL;
    kl_status st = kl_fix(sc, &opt, text, strlen(text), &rq, &res, &d);
    if (st != KL_OK)
        return st;
    opt.on_finding = on_refix;
    opt.userdata = &c;
    st = kl_scan(sc, &opt, res.text, res.len, &d);
    if (st == KL_OK && c.rule) {
        *by = c.rule;
        *out = res.text;
        res.text = NULL;
    }
    kl_fix_result_free(&res);
    return st != KL_OK ? st : c.failed ? KL_ERR_NOMEM : KL_OK;
}

static void collect_free(collect *c)
{
    for (size_t i = 0; i < c->nedits; i++)
        free(c->edits[i].replacement);
    free(c->edits);
}

/* Finds where an example is in the rule's source, for failure messages. */
static void example_position(const kl_rule *r, int is_flag, size_t k, size_t rule_in_pack,
                             unsigned *line, unsigned *col)
{
    *line = *col = 0;
    const char *src = r->pack->source;
    const char *data = NULL;
    size_t len = 0;
    char *owned = NULL;
    if (strncmp(src, "builtin:", 8) == 0) {
        for (size_t i = 0; i < kl_embedded_pack_count; i++)
            if (strcmp(kl_embedded_packs[i].name, src + 8) == 0) {
                data = (const char *)kl_embedded_packs[i].data;
                len = kl_embedded_packs[i].len;
            }
    } else {
        FILE *f = fopen(src, "rb");
        if (f) {
            kl_buf b;
            kl_buf_init(&b);
            char chunk[8192];
            size_t n;
            while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < KL_MAX_RULE_FILE)
                kl_buf_append(&b, chunk, n);
            fclose(f);
            owned = kl_buf_detach(&b, &len);
            data = owned;
        }
    }
    if (data) {
        kl_yaml_index idx;
        kl_yaml_index_build(&idx, data, len);
        char path[128];
        if (is_flag)
            snprintf(path, sizeof path, "rules[%zu].tests.flag[%zu].text", rule_in_pack, k);
        else
            snprintf(path, sizeof path, "rules[%zu].tests.pass[%zu]", rule_in_pack, k);
        const kl_yaml_pos *p = kl_yaml_index_find(&idx, path);
        if (p) {
            *line = p->line;
            *col = p->column;
        }
        kl_yaml_index_free(&idx);
    }
    free(owned);
}

kl_status kl_rules_run_tests(const kl_rules *rules, kl_test_fn fn, void *userdata, size_t *failed,
                             size_t *untested, kl_diag *diag)
{
    kl_diag_clear(diag);
    *failed = 0;
    *untested = 0;
    kl_scanner *sc = kl_scanner_new(rules);
    kl_policy *pol = kl_policy_new(rules);
    kl_status st = KL_OK;
    if (!sc || !pol) {
        st = KL_ERR_NOMEM;
        goto out;
    }
    size_t rule_in_pack = 0;
    for (size_t ri = 0; ri < rules->count; ri++) {
        const kl_rule *r = rules->rules[ri];
        if (ri > 0 && rules->rules[ri - 1]->pack == r->pack)
            rule_in_pack++;
        else
            rule_in_pack = 0;
        if (r->nflag + r->npass == 0) {
            (*untested)++;
            continue;
        }
        kl_policy_enable(pol, "all", 0);
        kl_policy_enable(pol, r->id, 1);
        for (int pass_kind = 0; pass_kind < 2; pass_kind++) {
            int is_flag = pass_kind == 0;
            size_t n = is_flag ? r->nflag : r->npass;
            for (size_t k = 0; k < n; k++) {
                const kl_example *ex = is_flag ? &r->flag[k] : &r->pass[k];
                collect c = {.rule = r};
                kl_scan_options opt;
                memset(&opt, 0, sizeof opt);
                opt.abi_version = KL_ABI_VERSION;
                opt.policy = pol;
                opt.on_finding = on_finding;
                opt.userdata = &c;
                kl_diag d;
                st = kl_scan(sc, &opt, ex->text, strlen(ex->text), &d);
                if (st != KL_OK || c.failed) {
                    collect_free(&c);
                    st = st != KL_OK ? st : KL_ERR_NOMEM;
                    goto out;
                }
                kl_test_result res = {.rule = r, .is_flag = is_flag, .text = ex->text};
                char problem[512];
                char *got = NULL;
                if (is_flag) {
                    res.expected = ex->fix;
                    if (c.hits == 0) {
                        res.problem = "not flagged";
                    } else if (ex->fix) {
                        if (r->nsuggest == 0) {
                            res.problem = "a fix is expected but the rule has no suggestion";
                        } else {
                            kl_buf out;
                            kl_buf_init(&out);
                            if (kl_edits_apply(ex->text, strlen(ex->text), c.edits, c.nedits,
                                               &out) != 0) {
                                kl_buf_free(&out);
                                collect_free(&c);
                                st = KL_ERR_NOMEM;
                                goto out;
                            }
                            got = kl_buf_detach(&out, NULL);
                            res.got = got;
                            const kl_rule *by = NULL;
                            char *again = NULL;
                            if (!got || strcmp(got, ex->fix) != 0) {
                                res.problem = "the fix differs";
                            } else if ((st = refixed_by(sc, ex->text, &by, &again)) != KL_OK) {
                                free(got);
                                collect_free(&c);
                                goto out;
                            } else if (by) {
                                snprintf(problem, sizeof problem,
                                         "--fix with every rule gives \"%.80s\", which rule "
                                         "'%s' rewrites again (fixing must be idempotent)",
                                         again, by->id);
                                res.problem = problem;
                            }
                            free(again);
                        }
                    }
                } else if (c.hits) {
                    res.problem = "flagged, but it is a near miss that must stay clean";
                }
                res.passed = res.problem == NULL;
                if (!res.passed) {
                    (*failed)++;
                    example_position(r, is_flag, k, rule_in_pack, &res.line, &res.column);
                }
                if (fn)
                    fn(&res, userdata);
                free(got);
                collect_free(&c);
            }
        }
    }
out:
    if (st == KL_ERR_NOMEM)
        kl_diag_set(diag, st, NULL, 0, 0, NULL, "out of memory");
    kl_policy_free(pol);
    kl_scanner_free(sc);
    return st;
}

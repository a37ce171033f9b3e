/*
 * policy.c -- which rules run and at which severity.
 *
 * A policy is the per-file answer of --enable/--disable, the config file
 * and its per-path overrides. It is a flat array over the rule set, so the
 * scan loop asks it in O(1).
 */
#include <stdlib.h>
#include <string.h>

#include "kl_internal.h"

struct kl_policy {
    const kl_rules *rules;
    unsigned char *enabled;
    kl_severity *severity;
};

kl_policy *kl_policy_new(const kl_rules *rules)
{
    kl_policy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    size_t n = rules->count ? rules->count : 1;
    p->rules = rules;
    p->enabled = malloc(n);
    p->severity = malloc(n * sizeof *p->severity);
    if (!p->enabled || !p->severity) {
        kl_policy_free(p);
        return NULL;
    }
    for (size_t i = 0; i < rules->count; i++) {
        p->enabled[i] = 1;
        p->severity[i] = rules->rules[i]->severity;
    }
    return p;
}

kl_policy *kl_policy_copy(const kl_policy *src)
{
    kl_policy *p = kl_policy_new(src->rules);
    if (!p)
        return NULL;
    memcpy(p->enabled, src->enabled, src->rules->count);
    memcpy(p->severity, src->severity, src->rules->count * sizeof *p->severity);
    return p;
}

void kl_policy_free(kl_policy *p)
{
    if (!p)
        return;
    free(p->enabled);
    free(p->severity);
    free(p);
}

static int known_anyway(const char *name)
{
    return strcmp(name, "all") == 0 || kl_category_parse(name) != KL_CATEGORY_UNSET;
}

/* Does name select rule r: its id, its pack, its category, or "all"? */
static int selects(const char *name, const kl_rule *r)
{
    return strcmp(name, "all") == 0 || strcmp(name, r->id) == 0 ||
           strcmp(name, r->pack->name) == 0 || strcmp(name, kl_category_name(r->category)) == 0;
}

kl_status kl_policy_enable(kl_policy *p, const char *name, int enabled)
{
    int hit = 0;
    for (size_t i = 0; i < p->rules->count; i++) {
        if (selects(name, p->rules->rules[i])) {
            p->enabled[i] = enabled ? 1 : 0;
            hit = 1;
        }
    }
    /* a category is a known name even when no loaded rule is in it */
    return hit || known_anyway(name) ? KL_OK : KL_ERR_USAGE;
}

kl_status kl_policy_set_severity(kl_policy *p, const char *name, kl_severity severity)
{
    if (severity < KL_SEVERITY_INFO || severity > KL_SEVERITY_ERROR)
        return KL_ERR_USAGE;
    int hit = 0;
    for (size_t i = 0; i < p->rules->count; i++) {
        if (selects(name, p->rules->rules[i])) {
            p->severity[i] = severity;
            hit = 1;
        }
    }
    /* a category is a known name even when no loaded rule is in it */
    return hit || known_anyway(name) ? KL_OK : KL_ERR_USAGE;
}

int kl_policy_is_enabled(const kl_policy *p, const kl_rule *r)
{
    return p ? p->enabled[r->index] : 1;
}

kl_severity kl_policy_severity(const kl_policy *p, const kl_rule *r)
{
    return p ? p->severity[r->index] : r->severity;
}

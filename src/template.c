/*
 * template.c -- suggestion templates: parsed once at load, rendered per
 * finding.
 *
 * A template is literal text with {name} for a named capture of the rule's
 * pattern, {feeling} for a lookup in the rule's feelings list by the first
 * word of the capture named "act", and [hint] for a blank the writer must
 * fill. {{ }} [[ ]] are literal braces and brackets. Rendering replaces the
 * matched span, so the result's first letter follows the span's case
 * (except the pronoun "I", which stays upper case).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kl_internal.h"

static int add_part(kl_template *t, kl_tpart_kind kind, const char *text, size_t len, int slot)
{
    kl_tpart *p = realloc(t->parts, (t->nparts + 1) * sizeof *p);
    if (!p)
        return -1;
    t->parts = p;
    kl_tpart *part = &t->parts[t->nparts];
    part->kind = kind;
    part->slot = slot;
    part->len = len;
    part->text = NULL;
    if (text) {
        part->text = malloc(len + 1);
        if (!part->text)
            return -1;
        memcpy(part->text, text, len);
        part->text[len] = '\0';
    }
    t->nparts++;
    return 0;
}

/* The template slot of a named capture, adding it when new; -1 if the
 * pattern has no such group, -2 when the slots are full, -3 on OOM. */
static int capture_slot(kl_rule *rule, const char *name)
{
    for (size_t i = 0; i < rule->ncaps; i++)
        if (strcmp(rule->cap_name[i], name) == 0)
            return (int)i;
    int num = pcre2_substring_number_from_name(rule->re, (PCRE2_SPTR)name);
    if (num < 0)
        return -1;
    if (rule->ncaps >= KL_MAX_TEMPLATE_CAPTURES)
        return -2;
    if (!(rule->cap_name[rule->ncaps] = strdup(name)))
        return -3;
    rule->cap_group[rule->ncaps] = (uint32_t)num;
    return (int)rule->ncaps++;
}

kl_status kl_template_parse(kl_template *t, const char *src, kl_rule *rule, char *err,
                            size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (!(t->source = strdup(src)))
        return KL_ERR_NOMEM;
    kl_buf lit;
    kl_buf_init(&lit);
    kl_status st = KL_OK;

#define FLUSH()                                                                                    \
    do {                                                                                           \
        if (lit.len) {                                                                             \
            if (add_part(t, KL_TPART_LITERAL, lit.data, lit.len, -1) != 0) {                       \
                st = KL_ERR_NOMEM;                                                                 \
                goto out;                                                                          \
            }                                                                                      \
            lit.len = 0;                                                                           \
        }                                                                                          \
    } while (0)

    for (const char *p = src; *p;) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}') ||
            (p[0] == '[' && p[1] == '[') || (p[0] == ']' && p[1] == ']')) {
            kl_buf_putc(&lit, p[0]);
            p += 2;
        } else if (*p == '{') {
            const char *e = p + 1;
            while (isalnum((unsigned char)*e) || *e == '_')
                e++;
            if (*e != '}' || e == p + 1 || isdigit((unsigned char)p[1])) {
                snprintf(err, errlen, "template \"%s\": '{' must start {name} or be written {{",
                         src);
                st = KL_ERR_RULES;
                goto out;
            }
            char name[64];
            size_t n = (size_t)(e - p - 1);
            if (n >= sizeof name)
                n = sizeof name - 1;
            memcpy(name, p + 1, n);
            name[n] = '\0';
            FLUSH();
            if (strcmp(name, "feeling") == 0) {
                if (rule->nfeelings == 0) {
                    snprintf(err, errlen,
                             "template \"%s\" uses {feeling} but the rule has no "
                             "'feelings' list",
                             src);
                    st = KL_ERR_RULES;
                    goto out;
                }
                int act = capture_slot(rule, "act");
                if (act == -3) {
                    st = KL_ERR_NOMEM;
                    goto out;
                }
                int has_default = 0;
                for (size_t i = 0; i < rule->nfeelings; i++)
                    has_default |= strcmp(rule->feelings[i].word, "*") == 0;
                if (act < 0 && !has_default) {
                    snprintf(err, errlen,
                             "template \"%s\" uses {feeling}: the pattern needs a "
                             "group (?<act>...) or the feelings a \"*\" entry",
                             src);
                    st = KL_ERR_RULES;
                    goto out;
                }
                rule->act_slot = act >= 0 ? act : -1;
                if (add_part(t, KL_TPART_FEELING, NULL, 0, -1) != 0) {
                    st = KL_ERR_NOMEM;
                    goto out;
                }
            } else {
                int slot = capture_slot(rule, name);
                if (slot == -3) {
                    st = KL_ERR_NOMEM;
                    goto out;
                }
                if (slot < 0) {
                    if (slot == -2)
                        snprintf(err, errlen, "template \"%s\": more than %d named captures", src,
                                 KL_MAX_TEMPLATE_CAPTURES);
                    else
                        snprintf(err, errlen,
                                 "template \"%s\" refers to {%s}, but the pattern has no group "
                                 "(?<%s>...)",
                                 src, name, name);
                    st = KL_ERR_RULES;
                    goto out;
                }
                if (add_part(t, KL_TPART_CAPTURE, NULL, 0, slot) != 0) {
                    st = KL_ERR_NOMEM;
                    goto out;
                }
            }
            p = e + 1;
        } else if (*p == '}') {
            snprintf(err, errlen, "template \"%s\": a lone '}' must be written }}", src);
            st = KL_ERR_RULES;
            goto out;
        } else if (*p == '[') {
            const char *e = strchr(p + 1, ']');
            if (!e || e == p + 1) {
                snprintf(err, errlen,
                         "template \"%s\": '[' starts a [blank] that needs a "
                         "closing ']' (write [[ for a bracket)",
                         src);
                st = KL_ERR_RULES;
                goto out;
            }
            FLUSH();
            if (add_part(t, KL_TPART_BLANK, p, (size_t)(e - p + 1), -1) != 0) {
                st = KL_ERR_NOMEM;
                goto out;
            }
            t->has_blank = 1;
            p = e + 1;
        } else {
            /* literal text (a lone ']' too), up to the next brace or
             * bracket */
            size_t n = 1 + strcspn(p + 1, "{}[]");
            kl_buf_append(&lit, p, n);
            p += n;
        }
    }
    FLUSH();
    if (lit.failed)
        st = KL_ERR_NOMEM;
#undef FLUSH
out:
    kl_buf_free(&lit);
    return st;
}

void kl_template_free(kl_template *t)
{
    for (size_t i = 0; i < t->nparts; i++)
        free(t->parts[i].text);
    free(t->parts);
    free(t->source);
    memset(t, 0, sizeof *t);
}

static const char *span_ptr(const kl_finding *f, kl_span s)
{
    return f->base + (s.offset - f->base_offset);
}

static int capture_set(const kl_finding *f, int slot)
{
    return slot >= 0 && f->captures[slot].offset != (size_t)-1;
}

/* The feeling for this finding: the first entry whose word begins the first
 * word of the act capture, else the "*" entry. */
static const char *lookup_feeling(const kl_rule *rule, const kl_finding *f)
{
    const char *word = "";
    size_t wlen = 0;
    if (capture_set(f, rule->act_slot)) {
        kl_span s = f->captures[rule->act_slot];
        const char *p = span_ptr(f, s);
        size_t i = 0;
        while (i < s.length && isspace((unsigned char)p[i]))
            i++;
        word = p + i;
        while (i < s.length && !isspace((unsigned char)p[i]) && p[i] != ',' && p[i] != '.')
            i++, wlen++;
    }
    const char *fallback = NULL;
    for (size_t i = 0; i < rule->nfeelings; i++) {
        const char *w = rule->feelings[i].word;
        if (strcmp(w, "*") == 0) {
            if (!fallback)
                fallback = rule->feelings[i].feeling;
            continue;
        }
        size_t n = strlen(w);
        if (n <= wlen && strncasecmp(word, w, n) == 0)
            return rule->feelings[i].feeling;
    }
    return fallback ? fallback : "";
}

/* Index of the first ASCII letter in s, or len when none. */
static size_t first_letter(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (isalpha((unsigned char)s[i]))
            return i;
    return len;
}

static int is_pronoun_i(const char *s, size_t i, size_t len)
{
    if (s[i] != 'I')
        return 0;
    return i + 1 >= len || !isalpha((unsigned char)s[i + 1]);
}

kl_status kl_template_render(const kl_rule *rule, const kl_template *t, const kl_finding *f,
                             kl_buf *out)
{
    size_t start = out->len;
    for (size_t i = 0; i < t->nparts; i++) {
        const kl_tpart *p = &t->parts[i];
        switch (p->kind) {
        case KL_TPART_LITERAL:
        case KL_TPART_BLANK: kl_buf_append(out, p->text, p->len); break;
        case KL_TPART_CAPTURE:
            if (capture_set(f, p->slot))
                kl_buf_append(out, span_ptr(f, f->captures[p->slot]), f->captures[p->slot].length);
            break;
        case KL_TPART_FEELING: kl_buf_puts(out, lookup_feeling(rule, f)); break;
        }
    }
    if (kl_buf_reserve(out, 0) != 0)
        return KL_ERR_NOMEM;

    /* capitalisation follows the span's first letter */
    const char *span = f->base + (f->offset - f->base_offset);
    size_t si = first_letter(span, f->length);
    char *res = out->data + start;
    size_t rlen = out->len - start;
    size_t ri = first_letter(res, rlen);
    if (si < f->length && ri < rlen) {
        if (isupper((unsigned char)span[si]))
            res[ri] = (char)toupper((unsigned char)res[ri]);
        else if (!is_pronoun_i(res, ri, rlen))
            res[ri] = (char)tolower((unsigned char)res[ri]);
    }
    return KL_OK;
}

kl_status kl_finding_suggestion(const kl_finding *f, size_t i, char **out, size_t *out_len,
                                int *has_blank)
{
    const kl_rule *rule = f->rule;
    *out = NULL;
    if (i >= rule->nsuggest)
        return KL_ERR_USAGE;
    kl_buf b;
    kl_buf_init(&b);
    if (kl_template_render(rule, &rule->suggest[i], f, &b) != KL_OK) {
        kl_buf_free(&b);
        return KL_ERR_NOMEM;
    }
    if (has_blank)
        *has_blank = rule->suggest[i].has_blank;
    *out = kl_buf_detach(&b, out_len);
    return *out ? KL_OK : KL_ERR_NOMEM;
}

const char *kl_finding_text(const kl_finding *f)
{
    return f->base + (f->offset - f->base_offset);
}

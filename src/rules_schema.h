/*
 * rules_schema.h -- the C shapes libcyaml loads a rule pack into.
 *
 * Kept next to the schema in rules_load.c; rules_compile.c reads them.
 * Sequence counts are unsigned, as libcyaml writes them.
 */
#ifndef KL_RULES_SCHEMA_H
#define KL_RULES_SCHEMA_H

typedef struct kl_y_feeling {
    char *word;
    char *feeling;
} kl_y_feeling;

typedef struct kl_y_flag {
    char *text;
    char *fix;
} kl_y_flag;

typedef struct kl_y_tests {
    kl_y_flag *flag;
    unsigned flag_count;
    char **pass;
    unsigned pass_count;
} kl_y_tests;

typedef struct kl_y_rule {
    char *id;
    int category; /* kl_category; 0 only if libcyaml let it through */
    int severity; /* kl_severity */
    char *message;
    char *explain;
    char *match;
    char **unless;
    unsigned unless_count;
    char **suggest;
    unsigned suggest_count;
    kl_y_feeling *feelings;
    unsigned feelings_count;
    char **triggers;
    unsigned triggers_count;
    kl_y_tests *tests;
} kl_y_rule;

typedef struct kl_y_pack {
    char *pack;
    char *summary;
    char *lang;
    kl_y_rule *rules;
    unsigned rules_count;
} kl_y_pack;

_Static_assert(sizeof(((kl_y_rule *)0)->unless_count) == sizeof(unsigned), "cyaml count type");

#endif

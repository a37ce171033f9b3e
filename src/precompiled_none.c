/*
 * precompiled_none.c -- no precompiled default packs.
 *
 * Linked into kindlint-precompile, the build tool that makes them: it loads
 * the default packs from their YAML, the way every rule pack is loaded.
 */
#include "kl_internal.h"

const kl_precompiled kl_precompiled_packs = {0, NULL, 0, NULL, NULL, 0, NULL};

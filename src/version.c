/*
 * version.c -- the version CMake's project() sets.
 */
#include "kindlint.h"

#ifndef KINDLINT_VERSION
#error "KINDLINT_VERSION must be defined by the build"
#endif

const char *kl_version(void)
{
    return KINDLINT_VERSION;
}

/*
 * glob.c -- path patterns in the style of .gitignore, used by the
 * configuration's ignore and overrides lists and by the directory walker.
 *
 * A pattern is matched against a path relative to the directory that
 * holds the pattern's file, with '/' between components:
 *  - a pattern with no '/' but a trailing one matches a name at any depth
 *    ("*.md", "build/");
 *  - one with a '/' at the start or in the middle is anchored there
 *    ("/notes.md", "docs/" followed by "*.md");
 *  - "**" as a whole component matches any number of components
 *    ("docs", "**", "*.md" joined by '/': every .md file under docs);
 *  - a trailing '/' matches directories only;
 *  - within a component, * ? and [...] are fnmatch(3)'s (no component
 *    crosses a '/').
 */
#include <fnmatch.h>
#include <string.h>

#include "kl_internal.h"

#define MAX_PARTS 64

static size_t split(char *s, char **parts)
{
    size_t n = 0;
    char *p = s;
    while (*p && n < MAX_PARTS) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        if (*p)
            parts[n++] = p;
        if (!slash)
            break;
        p = slash + 1;
    }
    return n;
}

static int match_parts(char **pat, size_t np, char **comp, size_t nc)
{
    if (np == 0)
        return nc == 0;
    if (strcmp(pat[0], "**") == 0) {
        /* a trailing "**" needs at least one component: it stands for
         * what is inside a directory, not the directory itself */
        for (size_t k = np == 1 ? 1 : 0; k <= nc; k++)
            if (match_parts(pat + 1, np - 1, comp + k, nc - k))
                return 1;
        return 0;
    }
    if (nc == 0)
        return 0;
    return fnmatch(pat[0], comp[0], 0) == 0 && match_parts(pat + 1, np - 1, comp + 1, nc - 1);
}

int kl_glob_match(const char *pattern, const char *path, int is_dir)
{
    char pbuf[1024], sbuf[4096];
    size_t pl = strlen(pattern), sl = strlen(path);
    if (pl == 0 || pl >= sizeof pbuf || sl >= sizeof sbuf)
        return 0;
    memcpy(pbuf, pattern, pl + 1);
    int dir_only = 0;
    while (pl > 0 && pbuf[pl - 1] == '/') {
        pbuf[--pl] = '\0';
        dir_only = 1;
    }
    if (dir_only && !is_dir)
        return 0;
    int anchored = strchr(pbuf, '/') != NULL;
    char *pstart = pbuf;
    while (*pstart == '/')
        pstart++;
    memcpy(sbuf, path, sl + 1);
    char *pat[MAX_PARTS], *comp[MAX_PARTS];
    size_t np = split(pstart, pat), nc = split(sbuf, comp);
    if (np == 0)
        return 0;
    if (anchored)
        return match_parts(pat, np, comp, nc);
    /* unanchored: the name matches at any depth */
    return nc > 0 && fnmatch(pat[0], comp[nc - 1], 0) == 0 && np == 1;
}

int kl_glob_match_path(const char *pattern, const char *path, int is_dir)
{
    if (kl_glob_match(pattern, path, is_dir))
        return 1;
    /* a matching parent directory holds the path */
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, path, n + 1);
    for (size_t i = n; i > 0; i--) {
        if (buf[i - 1] != '/')
            continue;
        buf[i - 1] = '\0';
        if (buf[0] && kl_glob_match(pattern, buf, 1))
            return 1;
    }
    return 0;
}

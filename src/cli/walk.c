/*
 * walk.c -- the files under the paths given on the command line.
 *
 * Directories are walked depth-first with entries sorted by name, so the
 * output order is the same on every machine. Skipped: hidden entries
 * (".name"), what the configuration's ignore globs match (asked through
 * the skip callback), what the .gitignore files of the tree exclude (git's
 * rules: the last matching pattern wins, deeper files over shallower ones,
 * "!" re-includes, a trailing "/" matches directories only, a "/" at the
 * start or in the middle anchors the pattern to its file's directory; the
 * .gitignore files between the top of the repository and the walked
 * directory count too), files whose first block holds a NUL byte (binary),
 * and a directory already on the current path (a symlink loop). Skips are
 * said at -v. A path named on the command line is linted even when a
 * .gitignore would exclude it, as git lints what it is told to add; the
 * configuration's ignore globs apply to it.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define BINARY_PROBE 8192
#define MAX_DEPTH 256
#define MAX_GITIGNORE (1024u * 1024u)

typedef struct ignore_pat {
    char *pat;
    int negate;
} ignore_pat;

/* The patterns of one .gitignore, matched relative to base. */
typedef struct ignore_file {
    char *base; /* absolute directory, no trailing slash */
    ignore_pat *pats;
    size_t n;
} ignore_file;

typedef struct walk_ctx {
    int verbose;
    cli_file_fn fn;
    cli_skip_fn skip;
    void *ud;
    int errors;
    dev_t devs[MAX_DEPTH];
    ino_t inos[MAX_DEPTH];
    int depth;
    ignore_file *ign; /* a stack: shallowest first */
    size_t nign, capign;
} walk_ctx;

static void error_at(const char *path, const char *what)
{
    kl_diag d;
    memset(&d, 0, sizeof d);
    snprintf(d.file, sizeof d.file, "%s", path);
    snprintf(d.message, sizeof d.message, "%s", what);
    cli_print_diag(&d, "error");
}

static int is_binary(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0; /* the reader will say why */
    unsigned char buf[BINARY_PROBE];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* UTF-16 has NULs too, but is reported by the scanner, not skipped */
    if (n >= 2 && ((buf[0] == 0xFF && buf[1] == 0xFE) || (buf[0] == 0xFE && buf[1] == 0xFF)))
        return 0;
    return memchr(buf, 0, n) != NULL;
}

/* ------------------------------------------------------------------------ */
/* .gitignore                                                                */
/* ------------------------------------------------------------------------ */

static void ignore_file_free(ignore_file *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->pats[i].pat);
    free(f->pats);
    free(f->base);
}

/* Reads dir/.gitignore onto the stack; returns 1 when one was pushed. */
static int push_gitignore(walk_ctx *w, const char *dir, const char *abs)
{
    size_t n = strlen(dir) + 12;
    char *path = malloc(n);
    if (!path)
        return 0;
    snprintf(path, n, "%s/.gitignore", dir);
    char *data;
    size_t len;
    kl_diag d;
    struct stat st;
    int ok = stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
             kl_read_file(path, MAX_GITIGNORE, &data, &len, &d) == KL_OK;
    free(path);
    if (!ok)
        return 0;
    ignore_file f;
    memset(&f, 0, sizeof f);
    f.base = strdup(abs);
    size_t cap = 0;
    char *p = data, *end = data + len;
    while (p < end && f.base) {
        char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        char *line = p;
        size_t ll = (size_t)(e - p);
        p = e + 1;
        if (ll && line[ll - 1] == '\r')
            ll--;
        /* trailing spaces go unless escaped with a backslash */
        while (ll && line[ll - 1] == ' ' && !(ll >= 2 && line[ll - 2] == '\\'))
            ll--;
        if (ll == 0 || line[0] == '#')
            continue;
        int negate = 0;
        if (line[0] == '!') {
            negate = 1;
            line++;
            ll--;
        } else if (line[0] == '\\' && ll > 1 && (line[1] == '#' || line[1] == '!')) {
            line++;
            ll--;
        }
        if (ll == 0)
            continue;
        if (f.n == cap) {
            cap = cap ? cap * 2 : 16;
            ignore_pat *q = realloc(f.pats, cap * sizeof *q);
            if (!q)
                break;
            f.pats = q;
        }
        char *pat = malloc(ll + 1);
        if (!pat)
            break;
        memcpy(pat, line, ll);
        pat[ll] = '\0';
        f.pats[f.n].pat = pat;
        f.pats[f.n].negate = negate;
        f.n++;
    }
    free(data);
    if (w->nign == w->capign) {
        size_t c = w->capign ? w->capign * 2 : 8;
        ignore_file *q = realloc(w->ign, c * sizeof *q);
        if (!q) {
            ignore_file_free(&f);
            return 0;
        }
        w->ign = q;
        w->capign = c;
    }
    w->ign[w->nign++] = f;
    return 1;
}

static void pop_gitignore(walk_ctx *w)
{
    ignore_file_free(&w->ign[--w->nign]);
}

/* Is abs (an absolute path) excluded by the .gitignore stack? */
static int git_ignored(const walk_ctx *w, const char *abs, int is_dir)
{
    int ignored = 0;
    for (size_t i = 0; i < w->nign; i++) {
        const ignore_file *f = &w->ign[i];
        size_t bl = strlen(f->base);
        if (strcmp(f->base, "/") == 0)
            bl = 0;
        if (strncmp(abs, f->base, bl) != 0 || abs[bl] != '/')
            continue;
        const char *rel = abs + bl + 1;
        for (size_t k = 0; k < f->n; k++)
            if (kl_glob_match(f->pats[k].pat, rel, is_dir))
                ignored = !f->pats[k].negate;
    }
    return ignored;
}

/* The .gitignore files from the top of the repository holding abs down to
 * abs's parent, pushed shallowest first. */
static void push_ancestors(walk_ctx *w, const char *abs)
{
    char top[PATH_MAX];
    snprintf(top, sizeof top, "%s", abs);
    char *dirs[128];
    size_t n = 0;
    /* collect the ancestors, nearest first, up to the one with .git */
    for (;;) {
        char *slash = strrchr(top, '/');
        if (!slash || n == sizeof dirs / sizeof dirs[0])
            break;
        if (slash == top)
            slash[1] = '\0';
        else
            *slash = '\0';
        if (!(dirs[n] = strdup(top)))
            break;
        n++;
        char git[PATH_MAX + 8];
        struct stat st;
        snprintf(git, sizeof git, "%s/.git", strcmp(top, "/") == 0 ? "" : top);
        if (stat(git, &st) == 0)
            break; /* the top of the repository */
        if (strcmp(top, "/") == 0) {
            /* no repository above: only the walked tree's own files count */
            for (size_t i = 0; i < n; i++)
                free(dirs[i]);
            return;
        }
    }
    for (size_t i = n; i-- > 0;) {
        push_gitignore(w, dirs[i], dirs[i]);
        free(dirs[i]);
    }
}

/* ------------------------------------------------------------------------ */
/* Walking                                                                   */
/* ------------------------------------------------------------------------ */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_dir(walk_ctx *w, const char *path, const char *abs, const struct stat *st);

static void note(const walk_ctx *w, const char *path, const char *why)
{
    if (w->verbose)
        fprintf(stderr, "kindlint: note: %s: skipped (%s)\n", path, why);
}

static void walk_entry(walk_ctx *w, const char *path, const char *abs, int top)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
        error_at(path, msg);
        w->errors++;
        return;
    }
    int is_dir = S_ISDIR(st.st_mode);
    if (!top && abs && git_ignored(w, abs, is_dir)) {
        note(w, path, "matched by .gitignore");
        return;
    }
    if (w->skip && w->skip(path, is_dir, w->ud)) {
        note(w, path, "matched by an ignore pattern of the configuration");
        return;
    }
    if (is_dir) {
        walk_dir(w, path, abs, &st);
    } else if (S_ISREG(st.st_mode)) {
        if (!top && is_binary(path)) {
            note(w, path, "binary file");
            return;
        }
        w->fn(path, w->ud);
    } else if (top) {
        w->fn(path, w->ud); /* a named FIFO or device: read it as asked */
    } else {
        note(w, path, "not a regular file");
    }
}

static void walk_dir(walk_ctx *w, const char *path, const char *abs, const struct stat *st)
{
    for (int i = 0; i < w->depth; i++) {
        if (w->devs[i] == st->st_dev && w->inos[i] == st->st_ino) {
            note(w, path, "symlink loop");
            return;
        }
    }
    if (w->depth >= MAX_DEPTH) {
        error_at(path, "directory nesting is too deep");
        w->errors++;
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        char msg[300];
        snprintf(msg, sizeof msg, "cannot open directory: %s", strerror(errno));
        error_at(path, msg);
        w->errors++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **p = realloc(names, cap * sizeof *p);
            if (!p)
                break;
            names = p;
        }
        if ((names[n] = strdup(de->d_name)) != NULL)
            n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    w->devs[w->depth] = st->st_dev;
    w->inos[w->depth] = st->st_ino;
    w->depth++;
    int pushed = abs ? push_gitignore(w, path, abs) : 0;
    size_t plen = strlen(path);
    int slash = plen > 0 && path[plen - 1] == '/';
    for (size_t i = 0; i < n; i++) {
        size_t len = plen + strlen(names[i]) + 2;
        size_t alen = abs ? strlen(abs) + strlen(names[i]) + 2 : 0;
        char *child = malloc(len);
        char *cabs = abs ? malloc(alen) : NULL;
        if (child && (!abs || cabs)) {
            snprintf(child, len, "%s%s%s", path, slash ? "" : "/", names[i]);
            if (cabs)
                snprintf(cabs, alen, "%s/%s", strcmp(abs, "/") == 0 ? "" : abs, names[i]);
            walk_entry(w, child, cabs, 0);
        }
        free(child);
        free(cabs);
        free(names[i]);
    }
    free(names);
    if (pushed)
        pop_gitignore(w);
    w->depth--;
}

int cli_walk(const char *path, int verbose, cli_file_fn fn, cli_skip_fn skip, void *ud)
{
    walk_ctx w;
    memset(&w, 0, sizeof w);
    w.verbose = verbose;
    w.fn = fn;
    w.skip = skip;
    w.ud = ud;
    char *abs = realpath(path, NULL);
    struct stat st;
    if (abs && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        push_ancestors(&w, abs);
    walk_entry(&w, path, abs, 1);
    while (w.nign)
        pop_gitignore(&w);
    free(w.ign);
    free(abs);
    return w.errors;
}

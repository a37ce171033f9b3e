/*
 * walk.c -- the files under the paths given on the command line.
 *
 * Directories are walked depth-first with entries sorted by name, so the
 * output order is the same on every machine. Hidden entries (".name") are
 * skipped, symlinks are followed but a directory already on the current
 * path (a loop) is not entered again, and files whose first block holds a
 * NUL byte are taken for binary and skipped (said at -v).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define BINARY_PROBE 8192
#define MAX_DEPTH 256

typedef struct walk_ctx {
    int verbose;
    cli_file_fn fn;
    void *ud;
    int errors;
    dev_t devs[MAX_DEPTH];
    ino_t inos[MAX_DEPTH];
    int depth;
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

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_dir(walk_ctx *w, const char *path, const struct stat *st);

static void walk_entry(walk_ctx *w, const char *path, int top)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
        error_at(path, msg);
        w->errors++;
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        walk_dir(w, path, &st);
    } else if (S_ISREG(st.st_mode)) {
        if (!top && is_binary(path)) {
            if (w->verbose)
                fprintf(stderr, "kindlint: note: %s: skipped (binary file)\n", path);
            return;
        }
        w->fn(path, w->ud);
    } else if (top) {
        w->fn(path, w->ud); /* a named FIFO or device: read it as asked */
    } else if (w->verbose) {
        fprintf(stderr, "kindlint: note: %s: skipped (not a regular file)\n", path);
    }
}

static void walk_dir(walk_ctx *w, const char *path, const struct stat *st)
{
    for (int i = 0; i < w->depth; i++) {
        if (w->devs[i] == st->st_dev && w->inos[i] == st->st_ino) {
            if (w->verbose)
                fprintf(stderr, "kindlint: note: %s: skipped (symlink loop)\n", path);
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
    size_t plen = strlen(path);
    int slash = plen > 0 && path[plen - 1] == '/';
    for (size_t i = 0; i < n; i++) {
        size_t len = plen + strlen(names[i]) + 2;
        char *child = malloc(len);
        if (child) {
            snprintf(child, len, "%s%s%s", path, slash ? "" : "/", names[i]);
            walk_entry(w, child, 0);
            free(child);
        }
        free(names[i]);
    }
    free(names);
    w->depth--;
}

int cli_walk(const char *path, int verbose, cli_file_fn fn, void *ud)
{
    walk_ctx w;
    memset(&w, 0, sizeof w);
    w.verbose = verbose;
    w.fn = fn;
    w.ud = ud;
    walk_entry(&w, path, 1);
    return w.errors;
}

/*
 * git.c -- which lines changed since a git revision (--diff-base REF).
 *
 * Runs `git diff --unified=0 REF -- FILE` in the file's directory (no
 * shell, no libgit2) and reads the new-side ranges of its hunk headers.
 * A file that git does not track, or that did not exist at REF, is new:
 * all of it counts as changed. A file outside any git work tree is
 * linted whole, as the option's help says.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* Runs git with argv in dir; stdout into *out (NUL-terminated). Returns
 * git's exit status, or -1 when it could not run. */
static int run_git(const char *dir, char *const argv[], char **out, size_t *len)
{
    int fds[2];
    *out = NULL;
    *len = 0;
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDERR_FILENO);
        if (chdir(dir) != 0)
            _exit(127);
        execvp("git", argv);
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 0;
    char buf[8192];
    ssize_t n;
    int oom = 0;
    while ((n = read(fds[0], buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (*len + (size_t)n + 1 > cap) {
            size_t c = cap ? cap * 2 : 16384;
            while (c < *len + (size_t)n + 1)
                c *= 2;
            char *p = realloc(*out, c);
            if (!p) {
                oom = 1;
                continue; /* drain the pipe */
            }
            *out = p;
            cap = c;
        }
        memcpy(*out + *len, buf, (size_t)n);
        *len += (size_t)n;
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (*out)
        (*out)[*len] = '\0';
    if (oom)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int cli_changed_lines(const char *path, const char *ref, cli_lines *lines)
{
    memset(lines, 0, sizeof *lines);
    char *copy = strdup(path);
    if (!copy)
        return -1;
    char *slash = strrchr(copy, '/');
    const char *dir = ".", *base = copy;
    if (slash) {
        *slash = '\0';
        dir = slash == copy ? "/" : copy;
        base = slash + 1;
    }
    char *out;
    size_t len;
    char spec[4096];
    /* inside a work tree, and tracked at REF? */
    char *const inside[] = {"git", "rev-parse", "--is-inside-work-tree", NULL};
    if (run_git(dir, inside, &out, &len) != 0) {
        free(out);
        free(copy);
        lines->all = 1; /* not in git: the whole file */
        return 0;
    }
    free(out);
    snprintf(spec, sizeof spec, "%s^{commit}", ref);
    char *const verify[] = {"git", "rev-parse", "--verify", "--quiet", spec, NULL};
    if (run_git(dir, verify, &out, &len) != 0) {
        free(out);
        free(copy);
        return -1; /* not a revision */
    }
    free(out);
    snprintf(spec, sizeof spec, "%s:./%s", ref, base);
    char *const exists[] = {"git", "cat-file", "-e", spec, NULL};
    if (run_git(dir, exists, &out, &len) != 0) {
        free(out);
        free(copy);
        lines->all = 1; /* new since REF (or untracked): all of it */
        return 0;
    }
    free(out);
    char *const diff[] = {"git",  "diff", "--no-color", "--no-ext-diff", "--unified=0",
                          (char *)ref, "--", (char *)base, NULL};
    int rc = run_git(dir, diff, &out, &len);
    free(copy);
    if (rc != 0) {
        free(out);
        return -1;
    }
    for (char *p = out; p && *p;) {
        char *e = strchr(p, '\n');
        if (strncmp(p, "@@ ", 3) == 0) {
            char *plus = strchr(p, '+');
            if (plus) {
                unsigned long start = strtoul(plus + 1, &plus, 10), count = 1;
                if (*plus == ',')
                    count = strtoul(plus + 1, NULL, 10);
                if (count > 0) {
                    cli_range *r = realloc(lines->ranges, (lines->n + 1) * sizeof *r);
                    if (!r) {
                        free(out);
                        return -1;
                    }
                    lines->ranges = r;
                    lines->ranges[lines->n].first = (unsigned)start;
                    lines->ranges[lines->n].last = (unsigned)(start + count - 1);
                    lines->n++;
                }
            }
        }
        p = e ? e + 1 : NULL;
    }
    free(out);
    return 0;
}

int cli_lines_touch(const cli_lines *lines, unsigned first, unsigned last)
{
    if (lines->all)
        return 1;
    for (size_t i = 0; i < lines->n; i++)
        if (first <= lines->ranges[i].last && last >= lines->ranges[i].first)
            return 1;
    return 0;
}

void cli_lines_free(cli_lines *lines)
{
    free(lines->ranges);
    memset(lines, 0, sizeof *lines);
}

/*
 * write.c -- replacing a file's contents atomically (--write).
 *
 * The new text goes to a temporary file in the same directory, which is
 * flushed to disk, given the original's mode (and owner, where allowed),
 * and renamed over the original: a reader sees the old file or the new
 * one, never half of either. Before the rename the original is checked
 * again: if it changed on disk since it was read, nothing is replaced. A
 * symbolic link is refused: writing through it would change a file
 * somewhere else, and renaming over it would replace the link.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_same_file_state(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int cli_write_atomic(const char *path, const struct stat *before, const char *data, size_t len,
                     char *err, size_t errlen)
{
    struct stat lst;
    if (lstat(path, &lst) != 0) {
        snprintf(err, errlen, "cannot stat: %s", strerror(errno));
        return -1;
    }
    if (S_ISLNK(lst.st_mode)) {
        snprintf(err, errlen, "is a symbolic link; not written (fix the file it points to)");
        return -1;
    }
    char *target = strdup(path);
    if (!target) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct stat now;
    if (stat(target, &now) != 0 || !cli_same_file_state(before, &now)) {
        snprintf(err, errlen, "changed on disk while it was being linted; not written");
        free(target);
        return -1;
    }
    if (!(now.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) || access(target, W_OK) != 0) {
        snprintf(err, errlen, "the file is read-only; not written");
        free(target);
        return -1;
    }
    char *dircopy = strdup(target), *basecopy = strdup(target);
    size_t tlen = strlen(target) + 32;
    char *tmp = malloc(tlen);
    if (!dircopy || !basecopy || !tmp) {
        snprintf(err, errlen, "out of memory");
        free(dircopy);
        free(basecopy);
        free(tmp);
        free(target);
        return -1;
    }
    const char *dir = dirname(dircopy);
    const char *base = basename(basecopy);
    snprintf(tmp, tlen, "%s/.%s.kindlint-XXXXXX", dir, base);
    int rc = -1;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file beside it: %s", strerror(errno));
        goto out;
    }
    if (write_all(fd, data, len) != 0 || fchmod(fd, now.st_mode & 07777) != 0) {
        snprintf(err, errlen, "cannot write the temporary file: %s", strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (fchown(fd, now.st_uid, now.st_gid) != 0) {
        /* not the owner: the new file is ours, as with any editor's save */
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        snprintf(err, errlen, "cannot flush the temporary file: %s", strerror(errno));
        unlink(tmp);
        goto out;
    }
    /* last look: nobody wrote the file while we worked */
    if (stat(target, &now) != 0 || !cli_same_file_state(before, &now)) {
        snprintf(err, errlen, "changed on disk while it was being linted; not written");
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, target) != 0) {
        snprintf(err, errlen, "cannot replace it: %s", strerror(errno));
        unlink(tmp);
        goto out;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd); /* the rename itself reaches the disk */
        close(dfd);
    }
    rc = 0;
out:
    free(tmp);
    free(dircopy);
    free(basecopy);
    free(target);
    return rc;
}

/*
 * eng_slot.c - the durable account -> tenant slot table (see eng_slot.h).
 *
 * File format: lines "<slot> <account>\n", slots strictly increasing from
 * 1. The file is only ever appended to. A lookup that misses in memory
 * takes the file lock, re-reads the whole file (another process of the
 * node may have appended), and only then appends a new line with the next
 * slot and fsyncs it, so a slot is recorded before any sandbox uses it.
 * Invariant: names[i] owns slot i + 1. Threads: t->mu guards everything.
 */
#include "engine/eng_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xalloc.h"

struct eng_slots {
    pthread_mutex_t mu;
    char *path;
    uint32_t max;
    char **names;
    size_t n, cap;
};

static void drop_all(struct eng_slots *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->names[i]);
    t->n = 0;
}

/* Re-reads the table from fd (positioned anywhere). 0 or -errno. */
static int reload(struct eng_slots *t, int fd, struct err *e)
{
    drop_all(t);
    FILE *f = fdopen(dup(fd), "r");
    if (!f)
        return err_set(e, -errno, "%s: %s", t->path, strerror(errno));
    rewind(f);
    char line[1024];
    unsigned lineno = 0;
    off_t good = 0;
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            /* a torn last line (crash mid-append) never got used: cut it
             * off so the next append starts on a line of its own */
            if (feof(f)) {
                if (ftruncate(fd, good) < 0)
                    rc = err_set(e, -errno, "%s: truncate: %s", t->path, strerror(errno));
                break;
            }
            rc = err_set(e, -EINVAL, "%s:%u: line too long", t->path, lineno);
            break;
        }
        line[len - 1] = '\0';
        char *sp = strchr(line, ' ');
        uint64_t slot;
        if (!sp || sp[1] == '\0') {
            rc = err_set(e, -EINVAL, "%s:%u: expected '<slot> <account>'", t->path, lineno);
            break;
        }
        *sp = '\0';
        if (parse_u64(line, &slot) < 0 || slot != t->n + 1) {
            rc = err_set(e, -EINVAL, "%s:%u: slot '%s' out of sequence (want %zu)", t->path,
                         lineno, line, t->n + 1);
            break;
        }
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 64;
            t->names = xrealloc(t->names, t->cap * sizeof(*t->names));
        }
        t->names[t->n++] = xstrdup(sp + 1);
        good += (off_t)len;
    }
    fclose(f);
    return rc;
}

static int find(const struct eng_slots *t, const char *account, uint32_t *slot)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->names[i], account) == 0) {
            *slot = (uint32_t)(i + 1);
            return 1;
        }
    }
    return 0;
}

static int open_locked(struct eng_slots *t, struct err *e)
{
    int fd = open(t->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(e, -errno, "%s: %s", t->path, strerror(errno));
    if (flock(fd, LOCK_EX) < 0) {
        int rc = err_set(e, -errno, "%s: lock: %s", t->path, strerror(errno));
        close(fd);
        return rc;
    }
    return fd;
}

struct eng_slots *eng_slots_open(const char *path, uint32_t max, struct err *e)
{
    struct eng_slots *t = xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    t->path = xstrdup(path);
    t->max = max;
    int fd = open_locked(t, e);
    if (fd < 0 || reload(t, fd, e) < 0) {
        if (fd >= 0)
            close(fd);
        eng_slots_free(t);
        return NULL;
    }
    close(fd);
    fsync_parent_dir(path);   /* the file's creation is durable too */
    return t;
}

int eng_slots_get(struct eng_slots *t, const char *account, uint32_t *slot, struct err *e)
{
    if (strchr(account, '\n') || account[0] == '\0')
        return err_set(e, -EINVAL, "account name not storable in the slot table");
    pthread_mutex_lock(&t->mu);
    int rc = 0;
    int fd = -1;
    if (find(t, account, slot))
        goto out;
    fd = open_locked(t, e);
    if (fd < 0) {
        rc = fd;
        goto out;
    }
    if ((rc = reload(t, fd, e)) < 0 || find(t, account, slot))
        goto out;
    if (t->n + 1 >= t->max) {
        rc = err_set(e, -ENOSPC, "no free sandbox identity for %s (%u in use)", account,
                     (unsigned)t->n);
        goto out;
    }
    char *line = xasprintf("%zu %s\n", t->n + 1, account);
    size_t len = strlen(line);
    ssize_t w = write(fd, line, len);
    free(line);
    if (w < 0 || fsync(fd) < 0) {
        rc = err_set(e, -errno, "%s: append: %s", t->path, strerror(errno));
        goto out;
    }
    if (w != (ssize_t)len) {   /* a torn line is cut off at the next reload */
        rc = err_set(e, -EIO, "%s: short append", t->path);
        goto out;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->names = xrealloc(t->names, t->cap * sizeof(*t->names));
    }
    t->names[t->n++] = xstrdup(account);
    *slot = (uint32_t)t->n;
out:
    if (fd >= 0)
        close(fd);
    pthread_mutex_unlock(&t->mu);
    return rc;
}

void eng_slots_free(struct eng_slots *t)
{
    if (!t)
        return;
    drop_all(t);
    free(t->names);
    free(t->path);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/*
 * eng_cache.c - the node's cache of storlet code, keyed by ETag, bounded.
 *
 * Layout under cache_dir:
 *   files/<md5(account "/" name)>.<etag>   one fetched object, verified
 *   code/<md5(key)>/                        a code directory (what the
 *                                           sandbox sees at /storlet)
 *   code/<md5(key)>.lock                    its use lock (below)
 *   tmp/                                    fills and directories being built
 * A file is only published (rename) after its bytes hashed to the ETag the
 * daemon got from a fresh HEAD with the caller's credentials, and a code
 * directory's key holds every ETag in it, so an updated storlet or
 * dependency is a new key: a stale copy can never be used. Nothing is ever
 * modified in place.
 *
 * Eviction (storlet_cache_size): after every new file or directory, and at
 * start, the least recently used entries go until the files and
 * directories together fit. "Used" is a touch of the entry's time (a
 * file's mtime, a directory's lock file's mtime) on every lookup, from a
 * per-process strictly increasing clock. An entry in use is never evicted,
 * and "in use" holds across processes sharing the directory, through
 * flock(2):
 *   - a code directory is in use while anyone holds a shared lock on its
 *     .lock file: eng_code_dir_hold's caller until the run is started, each
 *     run (eng_cache_hold) until it ends, and for the engine's life every
 *     directory that has warm sandboxes (eng_cache_pin: they bind it);
 *   - a file is in use while eng_code_dir copies it (a shared lock on it).
 * The evictor takes an exclusive lock without waiting, skips what it cannot
 * lock, renames a directory away before deleting it and unlinks its lock
 * file while still holding it; a holder re-checks after locking that its
 * lock file is still the one at the path and that the directory exists.
 * A file evicted between eng_cache_has() and eng_code_dir() makes the
 * latter return -ENOENT (eng_prep fetches again, once).
 *
 * Threading: any thread; publication is by rename, so concurrent fills of
 * the same file are harmless (the last rename wins with identical bytes);
 * one eviction pass at a time per process (cache_lock). Blocking file I/O:
 * the files are small (storlet code).
 */
#include "engine/eng.h"
#include "engine/eng_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_COMPONENT "engine"
#include "common/log.h"
#include "common/md5.h"
#include "common/util.h"
#include "common/xalloc.h"

struct eng_fill {
    struct eng *g;
    int fd;
    char tmp[4096];
    char final[4096];
    char etag[MD5_HEX_LEN];
    struct md5 md5;
    uint64_t bytes;
};

/* Pins (eng_cache_pin) live as long as the engine. */
struct eng_cache_pins {
    int *fd;
    size_t n;
};

static void trim(struct eng *g, const char *keep);

int eng_cache_init(struct eng *g, struct err *e)
{
    const char *sub[] = { "", "/files", "/code", "/tmp" };
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s%s", g->cache_dir, sub[i]);
        if (mkdir_p(p) < 0 && errno != EEXIST)
            return err_set(e, -errno, "storlet cache %s: %s", p, strerror(errno));
        /* the sandbox's init opens code directories below here */
        chmod(p, 0755);
    }
    pthread_mutex_init(&g->cache_lock, NULL);
    g->pins = xcalloc(1, sizeof(*g->pins));
    g->cache_ready = true;
    trim(g, NULL);   /* what an earlier run left may be over the bound */
    return 0;
}

void eng_cache_release_all(struct eng *g)
{
    if (!g->cache_ready)
        return;
    for (size_t i = 0; i < g->pins->n; i++)
        close(g->pins->fd[i]);
    free(g->pins->fd);
    free(g->pins);
    pthread_mutex_destroy(&g->cache_lock);
    g->cache_ready = false;
}

/*
 * The time of a use: wall-clock nanoseconds, strictly increasing within
 * this process, so that uses in one clock tick still order (file systems
 * stamp UTIME_NOW with a coarse clock).
 */
static struct timespec use_time(void)
{
    static _Atomic long long last;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long now = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    long long prev = atomic_load(&last);
    do {
        if (now <= prev)
            now = prev + 1;
    } while (!atomic_compare_exchange_weak(&last, &prev, now));
    return (struct timespec){ .tv_sec = now / 1000000000LL, .tv_nsec = now % 1000000000LL };
}

static void touch_path(const char *path)
{
    struct timespec t[2] = { use_time(), use_time() };
    t[0].tv_nsec = UTIME_OMIT;
    utimensat(AT_FDCWD, path, t, 0);
}

/* The ETag as 32 lower-case hex digits (quotes stripped), or -EINVAL. */
static int norm_etag(const char *in, char out[MD5_HEX_LEN])
{
    size_t n = strlen(in);
    if (n >= 2 && in[0] == '"' && in[n - 1] == '"') {
        in++;
        n -= 2;
    }
    if (n != MD5_HEX_LEN - 1)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -EINVAL;
        out[i] = c;
    }
    out[n] = '\0';
    return 0;
}

static int file_path(struct eng *g, const char *account, const char *name, const char *etag,
                     char *out, size_t n)
{
    char et[MD5_HEX_LEN];
    if (norm_etag(etag, et) < 0)
        return -EINVAL;
    struct md5 m;
    md5_init(&m);
    md5_update(&m, account, strlen(account));
    md5_update(&m, "/", 1);
    md5_update(&m, name, strlen(name));
    char h[MD5_HEX_LEN];
    md5_final_hex(&m, h);
    snprintf(out, n, "%s/files/%s.%s", g->cache_dir, h, et);
    return 0;
}

bool eng_cache_has(struct eng *g, const char *account, const char *name, const char *etag)
{
    char p[4096];
    struct stat st;
    if (file_path(g, account, name, etag, p, sizeof(p)) < 0 || stat(p, &st) != 0)
        return false;
    touch_path(p);
    return true;
}

int eng_cache_hold_file(struct eng *g, const char *account, const char *name, const char *etag)
{
    char p[4096];
    if (file_path(g, account, name, etag, p, sizeof(p)) < 0)
        return -ENOENT;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return -ENOENT;
    struct stat st;
    /* an evictor that got there first left a file with no name */
    if (flock(fd, LOCK_SH) == -1 || fstat(fd, &st) == -1 || st.st_nlink == 0) {
        close(fd);
        return -ENOENT;
    }
    touch_path(p);
    return fd;
}

struct eng_fill *eng_cache_begin(struct eng *g, const char *account, const char *name,
                                 const char *etag, struct err *e)
{
    struct eng_fill *f = xcalloc(1, sizeof(*f));
    f->g = g;
    f->fd = -1;
    if (norm_etag(etag, f->etag) < 0 ||
        file_path(g, account, name, etag, f->final, sizeof(f->final)) < 0) {
        err_set(e, -EINVAL, "storlet cache: %s: bad ETag '%.40s'", name, etag);
        free(f);
        return NULL;
    }
    snprintf(f->tmp, sizeof(f->tmp), "%s/tmp/f.XXXXXX", g->cache_dir);
    f->fd = mkostemp(f->tmp, O_CLOEXEC);
    if (f->fd == -1) {
        err_set(e, -errno, "storlet cache: %s: %s", f->tmp, strerror(errno));
        free(f);
        return NULL;
    }
    md5_init(&f->md5);
    return f;
}

int eng_cache_write(struct eng_fill *f, const void *buf, size_t len)
{
    /* a file larger than the bound can never fit it: without this, any
     * tenant's storlet of any size would fill the cache's disk */
    f->bytes += len;
    if (f->g->cache_max && f->bytes > f->g->cache_max)
        return -EFBIG;
    md5_update(&f->md5, buf, len);
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(f->fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

void eng_cache_abort(struct eng_fill *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    unlink(f->tmp);
    free(f);
}

int eng_cache_commit(struct eng_fill *f, struct err *e)
{
    char got[MD5_HEX_LEN];
    md5_final_hex(&f->md5, got);
    int rc = 0;
    struct timespec t[2] = { use_time(), use_time() };
    t[0].tv_nsec = UTIME_OMIT;
    if (strcmp(got, f->etag) != 0)
        rc = err_set(e, -EBADMSG, "storlet cache: fetched bytes hash to %s, not the ETag %s",
                     got, f->etag);
    else if (fchmod(f->fd, 0644) == -1 || futimens(f->fd, t) == -1 || close(f->fd) == -1)
        rc = err_set(e, -errno, "storlet cache: %s: %s", f->tmp, strerror(errno));
    else if ((f->fd = -1, rename(f->tmp, f->final) == -1))
        rc = err_set(e, -errno, "storlet cache: rename to %s: %s", f->final, strerror(errno));
    if (rc < 0) {
        eng_cache_abort(f);
        return rc;
    }
    struct eng *g = f->g;
    trim(g, f->final);
    free(f);
    return 0;
}

/* ------------------------------------------------------------ holding */

/*
 * Opens and share-locks lock (creating it), making sure the lock file is
 * still the one at that path once locked (an evictor may have unlinked
 * it meanwhile). Returns the fd or -errno.
 */
static int lock_shared(const char *lock)
{
    for (int tries = 0; tries < 16; tries++) {
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd == -1)
            return -errno;
        struct stat a, b;
        if (flock(fd, LOCK_SH) == -1) {
            int rc = -errno;
            close(fd);
            return rc;
        }
        if (fstat(fd, &a) == 0 && stat(lock, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev)
            return fd;
        close(fd);
    }
    return -EAGAIN;
}

/* Holds code_dir; with must_exist, -ENOENT when it is not there. */
static int hold_dir(const char *code_dir, bool must_exist)
{
    char lock[4200];
    snprintf(lock, sizeof(lock), "%s.lock", code_dir);
    int fd = lock_shared(lock);
    if (fd < 0)
        return fd;
    struct stat st;
    if (must_exist && stat(code_dir, &st) != 0) {
        close(fd);
        return -ENOENT;
    }
    struct timespec t[2] = { use_time(), use_time() };
    t[0].tv_nsec = UTIME_OMIT;
    futimens(fd, t);
    return fd;
}

/* Is dir one of this cache's code directories? */
static bool in_cache(struct eng *g, const char *dir)
{
    size_t n = strlen(g->cache_dir);
    return strncmp(dir, g->cache_dir, n) == 0 && strncmp(dir + n, "/code/", 6) == 0 &&
           !strchr(dir + n + 6, '/');
}

int eng_cache_hold(struct eng *g, const char *code_dir)
{
    if (!in_cache(g, code_dir))
        return -EINVAL;
    return hold_dir(code_dir, true);
}

void eng_cache_release(int hold)
{
    if (hold >= 0)
        close(hold);
}

int eng_cache_pin(struct eng *g, const char *code_dir)
{
    if (!in_cache(g, code_dir))
        return -EINVAL;
    int fd = hold_dir(code_dir, true);
    if (fd < 0)
        return fd;
    pthread_mutex_lock(&g->cache_lock);
    g->pins->fd = xrealloc(g->pins->fd, (g->pins->n + 1) * sizeof(int));
    g->pins->fd[g->pins->n++] = fd;
    pthread_mutex_unlock(&g->cache_lock);
    return 0;
}

/* ------------------------------------------------------------ code dirs */

static int copy_into(const char *from, const char *dir, const char *name, mode_t mode)
{
    char to[4096];
    snprintf(to, sizeof(to), "%s/%s", dir, name);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in == -1)
        return -errno;
    /* in use while copied: an evictor skips it; one that already
     * unlinked it leaves a file with no name, which counts as missing */
    struct stat st;
    if (flock(in, LOCK_SH) == -1 || fstat(in, &st) == -1 || st.st_nlink == 0) {
        close(in);
        return -ENOENT;
    }
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (out == -1) {
        int rc = -errno;
        close(in);
        return rc;
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                rc = -errno;
                goto out;
            }
            off += w;
        }
    }
    if (n < 0)
        rc = -errno;
    if (rc == 0 && fchmod(out, mode) == -1)
        rc = -errno;
out:
    close(in);
    close(out);
    return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Builds the directory for c at out (which does not exist yet). */
static int build_dir(struct eng *g, const struct eng_code *c, const char *out, struct err *e)
{
    bool py = strcmp(c->language, "python") == 0;
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s/tmp/d.XXXXXX", g->cache_dir);
    if (!mkdtemp(tmp))
        return err_set(e, -errno, "storlet cache: mkdtemp: %s", strerror(errno));
    chmod(tmp, 0755);
    char src[4096];
    struct stat st;
    int rc = 0;
    if (file_path(g, c->account, c->name, c->etag, src, sizeof(src)) < 0 ||
        stat(src, &st) != 0) {
        rc = err_set(e, -ENOENT, "storlet cache: %s not cached", c->name);
        goto fail;
    }
    if ((rc = copy_into(src, tmp, c->name, py ? 0644 : 0755)) < 0) {
        err_set(e, rc, "storlet cache: copying %s: %s", c->name, strerror(-rc));
        goto fail;
    }
    for (size_t i = 0; i < c->ndeps; i++) {
        if (file_path(g, c->account, c->deps[i].name, c->deps[i].etag, src, sizeof(src)) < 0 ||
            stat(src, &st) != 0) {
            rc = err_set(e, -ENOENT, "storlet cache: dependency %s not cached",
                         c->deps[i].name);
            goto fail;
        }
        unsigned mode = c->deps[i].mode ? c->deps[i].mode : 0644;
        if ((rc = copy_into(src, tmp, c->deps[i].name, (mode_t)(mode & 0755))) < 0) {
            err_set(e, rc, "storlet cache: copying %s: %s", c->deps[i].name, strerror(-rc));
            goto fail;
        }
    }
    if (py) {
        if (!g->sdk_path) {
            rc = err_set(e, -ENOENT, "storlet cache: no python SDK configured");
            goto fail;
        }
        if ((rc = copy_into(g->sdk_path, tmp, "cairn_storlet.py", 0644)) < 0) {
            err_set(e, rc, "storlet cache: copying the SDK %s: %s", g->sdk_path,
                    strerror(-rc));
            goto fail;
        }
    }
    if (rename(tmp, out) == -1) {
        if (errno == EEXIST || errno == ENOTEMPTY) {
            nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);   /* built by another */
            return 0;
        }
        rc = err_set(e, -errno, "storlet cache: rename to %s: %s", out, strerror(errno));
        goto fail;
    }
    return 0;
fail:
    nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    return rc;
}

int eng_code_dir_hold(struct eng *g, const struct eng_code *c, char *out, size_t outsz,
                      int *hold, struct err *e)
{
    *hold = -1;
    struct md5 m;
    md5_init(&m);
    char part[1024];
    snprintf(part, sizeof(part), "%s\n%s\n%s\n%s\n%s\n", c->account, c->name, c->etag,
             c->language, c->main);
    md5_update(&m, part, strlen(part));
    for (size_t i = 0; i < c->ndeps; i++) {
        snprintf(part, sizeof(part), "%s\n%s\n%o\n", c->deps[i].name, c->deps[i].etag,
                 c->deps[i].mode);
        md5_update(&m, part, strlen(part));
    }
    char key[MD5_HEX_LEN];
    md5_final_hex(&m, key);
    snprintf(out, outsz, "%s/code/%s", g->cache_dir, key);
    /* held before it is looked at, so that it cannot go in between */
    int fd = hold_dir(out, false);
    if (fd < 0)
        return err_set(e, fd, "storlet cache: locking %s: %s", out, strerror(-fd));
    struct stat st;
    if (stat(out, &st) != 0) {
        int rc = build_dir(g, c, out, e);
        if (rc < 0) {
            close(fd);
            return rc;
        }
        *hold = fd;
        trim(g, out);
        return 0;
    }
    *hold = fd;
    return 0;
}

int eng_code_dir(struct eng *g, const struct eng_code *c, char *out, size_t outsz,
                 struct err *e)
{
    int hold;
    int rc = eng_code_dir_hold(g, c, out, outsz, &hold, e);
    eng_cache_release(hold);
    return rc;
}

/* ------------------------------------------------------------ eviction */

struct entry {
    char *path;          /* file, or code directory */
    bool dir;
    uint64_t bytes;
    struct timespec used;
};

static _Thread_local uint64_t walk_bytes;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F)
        walk_bytes += (uint64_t)st->st_size;
    return 0;
}

static int by_use(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->used.tv_sec != y->used.tv_sec)
        return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    if (x->used.tv_nsec != y->used.tv_nsec)
        return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* Lists files/ and code/ with sizes and last uses; removes lock files of
 * directories that are gone (when nobody holds them). */
static size_t scan(struct eng *g, struct entry **out, uint64_t *total)
{
    size_t n = 0, cap = 0;
    struct entry *v = NULL;
    *total = 0;
    for (int pass = 0; pass < 2; pass++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%s", g->cache_dir, pass == 0 ? "files" : "code");
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            char path[4400];
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            struct stat st;
            size_t nl = strlen(de->d_name);
            bool lockf = pass == 1 && nl > 5 && strcmp(de->d_name + nl - 5, ".lock") == 0;
            if (lockf) {
                char owner[4400];
                snprintf(owner, sizeof(owner), "%.*s", (int)(strlen(path) - 5), path);
                if (stat(owner, &st) != 0) {
                    int fd = open(path, O_RDONLY | O_CLOEXEC);
                    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
                        unlink(path);
                    if (fd >= 0)
                        close(fd);
                }
                continue;
            }
            if (lstat(path, &st) != 0)
                continue;
            struct entry en = { .dir = S_ISDIR(st.st_mode), .used = st.st_mtim };
            if (en.dir) {
                walk_bytes = 0;
                nftw(path, add_size, 8, FTW_PHYS);
                en.bytes = walk_bytes;
                char lock[sizeof(path) + 5];   /* path + ".lock" always fits */
                struct stat ls;
                snprintf(lock, sizeof(lock), "%s.lock", path);
                if (stat(lock, &ls) == 0)
                    en.used = ls.st_mtim;
            } else if (S_ISREG(st.st_mode)) {
                en.bytes = (uint64_t)st.st_size;
            } else {
                continue;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                v = xrealloc(v, cap * sizeof(*v));
            }
            en.path = xstrdup(path);
            v[n++] = en;
            *total += en.bytes;
        }
        closedir(d);
    }
    *out = v;
    return n;
}

/* Evicts one entry unless it is in use. Returns true when it went. */
static bool evict(struct eng *g, const struct entry *en)
{
    if (!en->dir) {
        int fd = open(en->path, O_RDONLY | O_CLOEXEC);
        if (fd == -1)
            return errno == ENOENT;
        bool gone = flock(fd, LOCK_EX | LOCK_NB) == 0 && unlink(en->path) == 0;
        close(fd);
        return gone;
    }
    char lock[4400];
    snprintf(lock, sizeof(lock), "%s.lock", en->path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1)
        return false;
    struct stat a, b;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &a) != 0 || stat(lock, &b) != 0 ||
        a.st_ino != b.st_ino) {
        close(fd);
        return false;
    }
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s/tmp/evict.XXXXXX", g->cache_dir);
    bool gone = false;
    if (mkdtemp(tmp)) {
        char to[4200];
        snprintf(to, sizeof(to), "%s/d", tmp);
        gone = rename(en->path, to) == 0;
        if (gone)
            unlink(lock);
        nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    }
    close(fd);
    return gone;
}

/* Evicts least recently used entries until the cache fits, sparing keep
 * (the entry just added: evicting it would only make its user fetch it
 * again, over and over, when what is in use fills the bound). */
static void trim(struct eng *g, const char *keep)
{
    if (!g->cache_max || !g->cache_ready)
        return;
    pthread_mutex_lock(&g->cache_lock);
    struct entry *v;
    uint64_t total;
    size_t n = scan(g, &v, &total);
    if (total > g->cache_max) {
        qsort(v, n, sizeof(*v), by_use);
        uint64_t freed = 0;
        size_t gone = 0;
        for (size_t i = 0; i < n && total - freed > g->cache_max; i++) {
            if ((!keep || strcmp(v[i].path, keep) != 0) && evict(g, &v[i])) {
                freed += v[i].bytes;
                gone++;
            }
        }
        log_info("storlet cache: evicted %zu entries, %llu bytes; %llu bytes left "
                 "(storlet_cache_size %llu)", gone, (unsigned long long)freed,
                 (unsigned long long)(total - freed), (unsigned long long)g->cache_max);
        if (total - freed > g->cache_max)
            log_warn("storlet cache %s: %llu bytes in use or pinned by warm sandboxes, "
                     "over storlet_cache_size %llu (pins go when the daemon restarts)",
                     g->cache_dir, (unsigned long long)(total - freed),
                     (unsigned long long)g->cache_max);
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
    pthread_mutex_unlock(&g->cache_lock);
}

uint64_t eng_cache_bytes(struct eng *g)
{
    struct entry *v;
    uint64_t total;
    size_t n = scan(g, &v, &total);
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
    return total;
}

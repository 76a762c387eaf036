/*
 * eng_cache.c - the node's cache of storlet code, keyed by ETag.
 *
 * Layout under cache_dir:
 *   files/<md5(account "/" name)>.<etag>   one fetched object, verified
 *   code/<md5(key)>/                        a code directory (what the
 *                                           sandbox sees at /storlet)
 *   tmp/                                    fills and directories being built
 * A file is only published (rename) after its bytes hashed to the ETag the
 * daemon got from a fresh HEAD with the caller's credentials, and a code
 * directory's key holds every ETag in it, so an updated storlet or
 * dependency is a new key: a stale copy can never be used. Nothing is ever
 * modified in place; eviction is not done yet (old versions stay).
 *
 * Threading: any thread; publication is by rename, so concurrent fills of
 * the same file are harmless (the last rename wins with identical bytes).
 * Blocking file I/O: the files are small (storlet code).
 */
#include "engine/eng.h"
#include "engine/eng_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
};

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
    return 0;
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
    return file_path(g, account, name, etag, p, sizeof(p)) == 0 && stat(p, &st) == 0;
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
    if (strcmp(got, f->etag) != 0)
        rc = err_set(e, -EBADMSG, "storlet cache: fetched bytes hash to %s, not the ETag %s",
                     got, f->etag);
    else if (fchmod(f->fd, 0644) == -1 || close(f->fd) == -1)
        rc = err_set(e, -errno, "storlet cache: %s: %s", f->tmp, strerror(errno));
    else if ((f->fd = -1, rename(f->tmp, f->final) == -1))
        rc = err_set(e, -errno, "storlet cache: rename to %s: %s", f->final, strerror(errno));
    if (rc < 0) {
        eng_cache_abort(f);
        return rc;
    }
    free(f);
    return 0;
}

static int copy_into(const char *from, const char *dir, const char *name, mode_t mode)
{
    char to[4096];
    snprintf(to, sizeof(to), "%s/%s", dir, name);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in == -1)
        return -errno;
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

int eng_code_dir(struct eng *g, const struct eng_code *c, char *out, size_t outsz,
                 struct err *e)
{
    bool py = strcmp(c->language, "python") == 0;
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
    struct stat st;
    if (stat(out, &st) == 0)
        return 0;

    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s/tmp/d.XXXXXX", g->cache_dir);
    if (!mkdtemp(tmp))
        return err_set(e, -errno, "storlet cache: mkdtemp: %s", strerror(errno));
    chmod(tmp, 0755);
    char src[4096];
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

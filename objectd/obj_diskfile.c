/*
 * obj_diskfile.c - see obj_diskfile.h; the file format and the rules are
 * explained in docs/internals/diskfile.md.
 *
 * Every file under objects/ is "<internal timestamp><ext>" and starts with
 * a 64-byte header (magic, version, kind, metadata length, body length,
 * body MD5, body offset, header checksum) followed by the metadata JSON and
 * the body. The header of a .data is written twice: a placeholder when the
 * temp file is created and the final one (length, MD5, checksum) just
 * before the fsync; only the final one can ever be seen under objects/.
 *
 * Which files of a hash directory are "in effect" is decided by one
 * function, select_files(), used both by readers (which never delete) and
 * by cleanup (which deletes what it marks obsolete), so the two agree.
 */
#define LOG_COMPONENT "objectd"

#include "objectd/obj_diskfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/bug.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"

/* ------------------------------------------------------------ format */

#define HDR_LEN 64
#define HDR_MAGIC "CAIRNOBJ"
#define HDR_VERSION 1
#define HDR_SUM_AT 48 /* the checksum covers bytes [0, 48) and the JSON */
/* Bodies announced at least this big get their space reserved up front. */
#define PREALLOC_MIN (1u << 20)

enum kind { KIND_DATA = 'D', KIND_META = 'M', KIND_TS = 'T' };

struct hdr {
    uint8_t kind;
    uint32_t meta_len;
    uint64_t body_len;
    unsigned char body_md5[MD5_DIGEST_LEN];
    uint64_t body_off;
};

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/*
 * Layout (little-endian):
 *   0  magic[8]  8 version u16  10 kind u8  11 zero u8  12 meta_len u32
 *  16 body_len u64  24 body_md5[16]  40 body_off u64  48 checksum[16]
 * checksum = MD5(bytes 0..47 || JSON).
 */
static void hdr_encode(const struct hdr *h, const char *json,
                       unsigned char out[HDR_LEN])
{
    memset(out, 0, HDR_LEN);
    memcpy(out, HDR_MAGIC, 8);
    put_le(out + 8, HDR_VERSION, 2);
    out[10] = h->kind;
    put_le(out + 12, h->meta_len, 4);
    put_le(out + 16, h->body_len, 8);
    memcpy(out + 24, h->body_md5, MD5_DIGEST_LEN);
    put_le(out + 40, h->body_off, 8);
    struct md5 m;
    md5_init(&m);
    md5_update(&m, out, HDR_SUM_AT);
    md5_update(&m, json, h->meta_len);
    md5_final(&m, out + HDR_SUM_AT);
}

/* Reads and checks the header and metadata of an open file. Returns 0,
 * -EUCLEAN when the file is not a valid one of ours, or -errno. */
static int read_header(int fd, struct hdr *h, json_t **meta)
{
    unsigned char raw[HDR_LEN];
    ssize_t got = pread(fd, raw, HDR_LEN, 0);
    if (got == -1)
        return -errno;
    if (got != HDR_LEN || memcmp(raw, HDR_MAGIC, 8) != 0 ||
        get_le(raw + 8, 2) != HDR_VERSION)
        return -EUCLEAN;
    h->kind = raw[10];
    h->meta_len = (uint32_t)get_le(raw + 12, 4);
    h->body_len = get_le(raw + 16, 8);
    memcpy(h->body_md5, raw + 24, MD5_DIGEST_LEN);
    h->body_off = get_le(raw + 40, 8);
    if ((h->kind != KIND_DATA && h->kind != KIND_META && h->kind != KIND_TS) ||
        h->meta_len > OBJ_DF_META_MAX || h->body_off != HDR_LEN + h->meta_len)
        return -EUCLEAN;

    char *json = xmalloc(h->meta_len + 1);
    int rc = 0;
    got = pread(fd, json, h->meta_len, HDR_LEN);
    if (got == -1) {
        rc = -errno;
        goto out;
    }
    if ((size_t)got != h->meta_len) {
        rc = -EUCLEAN;
        goto out;
    }
    struct md5 m;
    unsigned char sum[MD5_DIGEST_LEN];
    md5_init(&m);
    md5_update(&m, raw, HDR_SUM_AT);
    md5_update(&m, json, h->meta_len);
    md5_final(&m, sum);
    if (memcmp(sum, raw + HDR_SUM_AT, MD5_DIGEST_LEN) != 0) {
        rc = -EUCLEAN;
        goto out;
    }
    json_error_t jerr;
    *meta = json_loadb(json, h->meta_len, 0, &jerr);
    if (!*meta || !json_is_object(*meta)) {
        json_decref(*meta);
        *meta = NULL;
        rc = -EUCLEAN;
    }
out:
    free(json);
    return rc;
}

/* ------------------------------------------------------------ faults */

/*
 * Test hook (STYLE R14): the n-th next system call on the write path fails
 * with io_fail_errno. Not thread-safe; only unit tests set it.
 */
static unsigned long io_fail_at;
static int io_fail_errno;

void obj_df_fail_after(unsigned long n, int err)
{
    io_fail_at = n;
    io_fail_errno = err;
}

/* True, with errno set, when this call is the one that must fail. */
static bool io_fault(void)
{
    if (io_fail_at == 0 || --io_fail_at != 0)
        return false;
    errno = io_fail_errno;
    return true;
}

#define IO(call) (io_fault() ? -1 : (call))

/* ------------------------------------------------------------ helpers */

struct obj_devices {
    char *root;
    bool mount_check;
    uint64_t reclaim_age;
};

struct obj_devices *obj_devices_new(const struct obj_devices_opts *opts)
{
    struct obj_devices *d = xcalloc(1, sizeof(*d));
    d->root = xstrdup(opts->root);
    d->mount_check = opts->mount_check;
    d->reclaim_age =
        opts->reclaim_age ? opts->reclaim_age : OBJ_DF_RECLAIM_AGE_DEFAULT;
    return d;
}

void obj_devices_free(struct obj_devices *d)
{
    if (!d)
        return;
    free(d->root);
    free(d);
}

static bool valid_dev_name(const char *dev)
{
    return dev && *dev && !strchr(dev, '/') && strcmp(dev, ".") != 0 &&
           strcmp(dev, "..") != 0 && strlen(dev) < NAME_MAX;
}

static bool valid_hash(const char *hash)
{
    if (!hash || strlen(hash) != 32)
        return false;
    return strspn(hash, "0123456789abcdef") == 32;
}

/* Swift's ismount: a different device than the parent, or the same inode
 * (the root of a filesystem mounted on itself). */
static bool is_mount_point(const char *path, const struct stat *st)
{
    char *parent = xasprintf("%s/..", path);
    struct stat pst;
    bool mp = false;
    if (stat(parent, &pst) == 0)
        mp = pst.st_dev != st->st_dev || pst.st_ino == st->st_ino;
    free(parent);
    return mp;
}

int obj_devices_check(const struct obj_devices *d, const char *dev)
{
    if (!valid_dev_name(dev))
        return -EINVAL;
    char *path = xasprintf("%s/%s", d->root, dev);
    struct stat st;
    int rc = 0;
    if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode))
        rc = -ENODEV;
    else if (d->mount_check && !is_mount_point(path, &st))
        rc = -ENODEV;
    free(path);
    return rc;
}

/* A full disk and a full quota are the same thing to a client: 507. */
static int disk_errno(int e)
{
    return e == EDQUOT ? -ENOSPC : -e;
}

static char *hash_dir_path(const struct obj_devices *d, const char *dev,
                           uint32_t part, const char *hash)
{
    return xasprintf("%s/%s/objects/%" PRIu32 "/%s/%s", d->root, dev, part,
                     hash + 29, hash);
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = IO(write(fd, p, len));
        if (w == -1) {
            if (errno == EINTR)
                continue;
            return disk_errno(errno);
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* pread that only stops short at the end of the file. */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done,
                          (off_t)(off + done));
        if (r == -1) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

/* mkdir that says whether it made the directory (*made): its parent must
 * then be fsync'ed before anything under it is acknowledged. An existing
 * directory is fine. */
static int mkdir_noting(const char *path, bool *made)
{
    if (IO(mkdir(path, 0755)) == 0) {
        *made = true;
        return io_fault() ? disk_errno(errno) : 0;
    }
    return errno == EEXIST ? 0 : disk_errno(errno);
}

static int fsync_dir(const char *path)
{
    int fd = IO(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd == -1)
        return -errno;
    int rc = IO(fsync(fd)) == -1 ? -errno : 0;
    close(fd);
    return rc;
}

/* Case-insensitive lookup of a string value in a metadata object. */
static const char *meta_get(const json_t *meta, const char *key)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)meta, k, v) {
        if (strcasecmp(k, key) == 0 && json_is_string(v))
            return json_string_value(v);
    }
    return NULL;
}

/* Removes every key equal to `key` ignoring case. */
static void meta_del(json_t *meta, const char *key)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(meta, tmp, k, v) {
        if (strcasecmp(k, key) == 0)
            json_object_del(meta, k);
    }
}

/* Sets key (replacing any case variant) to a string value. */
static void meta_set(json_t *meta, const char *key, const char *val)
{
    meta_del(meta, key);
    json_object_set_new(meta, key, json_string(val));
}

static bool meta_valid(const json_t *meta)
{
    if (!json_is_object(meta))
        return false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)meta, k, v) {
        if (!json_is_string(v))
            return false;
    }
    return true;
}

/* Keys a POST cannot change: they stay the .data's (Swift's reserved
 * datafile metadata and object sysmeta). */
static bool datafile_only_key(const char *k)
{
    return strcasecmp(k, "Content-Length") == 0 ||
           strcasecmp(k, "ETag") == 0 || strcasecmp(k, "Deleted") == 0 ||
           strcasecmp(k, "X-Static-Large-Object") == 0 ||
           strncasecmp(k, "X-Object-Sysmeta-", 17) == 0;
}

#define CTYPE_TS_KEY "Content-Type-Timestamp"

/* ------------------------------------------------------------ file sets */

enum ext { EXT_DATA, EXT_META, EXT_TS };
static const char *const ext_names[] = {".data", ".meta", ".ts"};

struct dfile {
    struct ts ts;
    enum ext ext;
    bool obsolete;
    char *name;
};

struct fileset {
    struct dfile *f;
    size_t n;
    int data, meta, ts; /* indexes of the files in effect, -1 if none */
    int stray_meta;     /* a .meta with no .data: reclaimable when old */
};

static void fileset_release(struct fileset *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        free(fs->f[i].name);
    free(fs->f);
    memset(fs, 0, sizeof(*fs));
    fs->data = fs->meta = fs->ts = fs->stray_meta = -1;
}

static bool parse_name(const char *name, struct ts *ts, enum ext *ext)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return false;
    size_t e;
    for (e = 0; e < ARRAY_SIZE(ext_names); e++)
        if (strcmp(dot, ext_names[e]) == 0)
            break;
    if (e == ARRAY_SIZE(ext_names))
        return false;
    char buf[TS_INTERNAL_LEN + 8];
    size_t len = (size_t)(dot - name);
    if (len >= sizeof(buf))
        return false;
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (ts_parse(buf, ts) != 0)
        return false;
    *ext = (enum ext)e;
    return true;
}

static int cmp_dfile_desc(const void *a, const void *b)
{
    const struct dfile *x = a, *y = b;
    return -ts_cmp(&x->ts, &y->ts);
}

/*
 * Swift's rules for a replicated policy (diskfile.get_ondisk_files):
 *   - the newest .ts makes every other file at or before it obsolete;
 *   - only the newest remaining .meta is kept;
 *   - the newest remaining .data makes older .data and any .ts/.meta at or
 *     before it obsolete; it is in effect with the kept .meta (if newer);
 *   - with no .data the .ts (if any) is in effect; a remaining .meta is a
 *     stray, removed only after reclaim_age.
 */
static void select_files(struct fileset *fs)
{
    if (fs->n > 1)
        qsort(fs->f, fs->n, sizeof(fs->f[0]), cmp_dfile_desc);
    fs->data = fs->meta = fs->ts = fs->stray_meta = -1;
    int newest_ts = -1;
    for (size_t i = 0; i < fs->n; i++)
        if (fs->f[i].ext == EXT_TS) {
            newest_ts = (int)i;
            break;
        }
    if (newest_ts >= 0) {
        const struct ts *t = &fs->f[newest_ts].ts;
        for (size_t i = 0; i < fs->n; i++)
            if ((int)i != newest_ts &&
                (fs->f[i].ext == EXT_TS || ts_cmp(&fs->f[i].ts, t) <= 0))
                fs->f[i].obsolete = true;
    }
    int meta = -1, data = -1;
    for (size_t i = 0; i < fs->n; i++) {
        struct dfile *f = &fs->f[i];
        if (f->obsolete)
            continue;
        if (f->ext == EXT_META) {
            if (meta < 0)
                meta = (int)i;
            else
                f->obsolete = true;
        } else if (f->ext == EXT_DATA) {
            if (data < 0)
                data = (int)i;
            else
                f->obsolete = true;
        }
    }
    if (data >= 0) {
        const struct ts *t = &fs->f[data].ts;
        for (size_t i = 0; i < fs->n; i++) {
            struct dfile *f = &fs->f[i];
            if (!f->obsolete && f->ext != EXT_DATA &&
                ts_cmp(&f->ts, t) <= 0)
                f->obsolete = true;
        }
        fs->data = data;
        if (meta >= 0 && !fs->f[meta].obsolete)
            fs->meta = meta;
    } else {
        fs->ts = newest_ts;
        fs->stray_meta = meta;
    }
}

/*
 * Lists a hash directory into fs (unknown names are left alone and not
 * listed). Returns 0 (an absent directory gives an empty set), -ENOTDIR
 * when the path is not a directory, or -errno.
 */
static int list_hash_dir(const char *path, struct fileset *fs)
{
    memset(fs, 0, sizeof(*fs));
    fs->data = fs->meta = fs->ts = fs->stray_meta = -1;
    DIR *dir = opendir(path);
    if (!dir)
        return errno == ENOENT ? 0 : -errno;
    size_t cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        struct ts ts;
        enum ext ext;
        if (!parse_name(de->d_name, &ts, &ext)) {
            log_warn("unexpected file %s/%s left alone", path, de->d_name);
            continue;
        }
        if (fs->n == cap) {
            cap = cap ? cap * 2 : 4;
            fs->f = xrealloc(fs->f, cap * sizeof(fs->f[0]));
        }
        fs->f[fs->n++] = (struct dfile){ts, ext, false, xstrdup(de->d_name)};
    }
    int rc = errno ? -errno : 0;
    closedir(dir);
    if (rc)
        fileset_release(fs);
    else
        select_files(fs);
    return rc;
}

static bool ts_is_zero(const struct ts *t)
{
    return t->units == 0 && t->offset == 0;
}

static bool older_than(const struct ts *ts, double now, uint64_t age)
{
    return now - ts_to_double(ts) > (double)age;
}

/*
 * Applies the rules to a hash directory: unlinks obsolete files, a
 * tombstone or stray .meta older than reclaim_age, and the directory itself
 * once empty. Leaves the selection of what remains in fs (caller releases).
 * Returns 0, -ENOTDIR or -errno.
 */
static int cleanup_hash_dir(const struct obj_devices *d, const char *path,
                            double now, struct fileset *fs)
{
    int rc = list_hash_dir(path, fs);
    if (rc)
        return rc;
    if (fs->ts >= 0 && older_than(&fs->f[fs->ts].ts, now, d->reclaim_age)) {
        fs->f[fs->ts].obsolete = true;
        fs->ts = -1;
    }
    if (fs->stray_meta >= 0 &&
        older_than(&fs->f[fs->stray_meta].ts, now, d->reclaim_age)) {
        fs->f[fs->stray_meta].obsolete = true;
        fs->stray_meta = -1;
    }
    size_t left = 0;
    for (size_t i = 0; i < fs->n; i++) {
        if (!fs->f[i].obsolete) {
            left++;
            continue;
        }
        char *p = xasprintf("%s/%s", path, fs->f[i].name);
        if (unlink(p) == -1 && errno != ENOENT) {
            log_warn("cannot remove obsolete %s: %s", p, strerror(errno));
            left++;
        }
        free(p);
    }
    if (left == 0 && fs->n > 0)
        rmdir(path); /* ENOTEMPTY: someone else's file, or a stray name */
    return 0;
}

/* ------------------------------------------------------------ quarantine */

static int quarantine_path(const struct obj_devices *d, const char *dev,
                           const char *hash_dir, const char *hash,
                           const char *why)
{
    char *qdir = xasprintf("%s/%s/quarantined/objects", d->root, dev);
    char *dst = NULL;
    int rc = mkdir_p(qdir);
    if (rc)
        goto out;
    dst = xasprintf("%s/%s", qdir, hash);
    if (rename(hash_dir, dst) == -1) {
        if (errno != EEXIST && errno != ENOTEMPTY && errno != ENOTDIR) {
            rc = -errno;
            goto out;
        }
        unsigned char rnd[8];
        char hex[17];
        if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
            uint64_t t = now_mono_ns();
            memcpy(rnd, &t, sizeof(rnd));
        }
        hex_encode(rnd, sizeof(rnd), hex);
        free(dst);
        dst = xasprintf("%s/%s-%s", qdir, hash, hex);
        if (rename(hash_dir, dst) == -1) {
            rc = -errno;
            goto out;
        }
    }
    log_warn("quarantined %s to %s: %s", hash_dir, dst, why);
out:
    if (rc)
        log_err("cannot quarantine %s (%s): %s", hash_dir, why, strerror(-rc));
    free(dst);
    free(qdir);
    return rc;
}

int obj_df_quarantine(struct obj_devices *d, const char *dev, uint32_t part,
                      const char *hash)
{
    int rc = obj_devices_check(d, dev);
    if (rc)
        return rc;
    if (!valid_hash(hash))
        return -EINVAL;
    char *path = hash_dir_path(d, dev, part, hash);
    struct stat st;
    if (lstat(path, &st) == -1)
        rc = -errno;
    else
        rc = quarantine_path(d, dev, path, hash, "asked to");
    free(path);
    return rc;
}

/* ------------------------------------------------------------ writer */

struct obj_df_writer {
    struct obj_devices *d;
    char *dev;
    uint32_t part;
    char hash[33];
    struct ts ts;
    enum kind kind;
    char *tmp_path;
    int fd;
    char *json;
    size_t json_len;
    struct md5 md5;
    uint64_t bytes;
    uint64_t kicked;    /* bytes handed to writeback (kick_writeback) */
    uint64_t max_size;
    int err;        /* sticky: once set, every call returns it */
    bool committed;
};

/* Drops the temp file and makes err sticky. Returns err. */
static int writer_fail(struct obj_df_writer *w, int err)
{
    if (w->fd != -1) {
        close(w->fd);
        w->fd = -1;
    }
    if (w->tmp_path) {
        unlink(w->tmp_path);
        free(w->tmp_path);
        w->tmp_path = NULL;
    }
    if (!w->err)
        w->err = err;
    return w->err;
}

void obj_df_writer_free(struct obj_df_writer *w)
{
    if (!w)
        return;
    if (!w->committed)
        writer_fail(w, -ECANCELED);
    free(w->json);
    free(w->dev);
    free(w);
}

static int writer_new(struct obj_devices *d, const char *dev, uint32_t part,
                      const char *hash, const struct ts *ts,
                      const json_t *meta, enum kind kind, uint64_t size_hint,
                      uint64_t max_size, struct obj_df_writer **out)
{
    *out = NULL;
    if (!valid_hash(hash) || !ts || ts_is_zero(ts) ||
        (meta && !meta_valid(meta)))
        return -EINVAL;
    int rc = obj_devices_check(d, dev);
    if (rc)
        return rc;

    struct obj_df_writer *w = xcalloc(1, sizeof(*w));
    w->d = d;
    w->dev = xstrdup(dev);
    w->part = part;
    memcpy(w->hash, hash, 33);
    w->ts = *ts;
    w->kind = kind;
    w->fd = -1;
    w->max_size = max_size;
    md5_init(&w->md5);
    json_t *empty = meta ? NULL : json_object();
    w->json = json_dumps(meta ? meta : empty, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(empty);
    if (!w->json) {
        rc = -EINVAL;
        goto fail;
    }
    w->json_len = strlen(w->json);
    if (w->json_len > OBJ_DF_META_MAX) {
        rc = -E2BIG;
        goto fail;
    }
    /* Strings made with jansson's *_nocheck calls may hold bytes that are
     * not UTF-8, which json_loadb would refuse when the file is read back
     * (and the object would be quarantined): refuse them now instead. */
    json_t *back = json_loadb(w->json, w->json_len, 0, NULL);
    if (!back) {
        rc = -EINVAL;
        goto fail;
    }
    json_decref(back);

    char *tmp_dir = xasprintf("%s/%s/tmp", d->root, dev);
    char tsbuf[TS_INTERNAL_LEN];
    ts_internal(ts, tsbuf);
    w->tmp_path = xasprintf("%s/%s.%s.XXXXXX", tmp_dir, hash, tsbuf);
    /* tmp/ exists but for a device's first write: make it only then */
    w->fd = IO(mkostemp(w->tmp_path, O_CLOEXEC));
    if (w->fd == -1 && errno == ENOENT) {
        if (IO(mkdir(tmp_dir, 0755)) == 0 || errno == EEXIST) {
            memcpy(w->tmp_path + strlen(w->tmp_path) - 6, "XXXXXX", 6);
            w->fd = IO(mkostemp(w->tmp_path, O_CLOEXEC));
        }
    }
    free(tmp_dir);
    if (w->fd == -1) {
        rc = disk_errno(errno);
        free(w->tmp_path);
        w->tmp_path = NULL;
        goto fail;
    }
    /* Small files are not reserved: on XFS the reservation is a journal
     * transaction of its own (an unwritten extent, converted again when
     * the data lands), which costs a small PUT more than it protects. */
    uint64_t reserve = HDR_LEN + w->json_len + size_hint;
    if (size_hint >= PREALLOC_MIN &&
        IO(fallocate(w->fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)reserve)) == -1 &&
        errno != EOPNOTSUPP && errno != ENOSYS && errno != EINTR) {
        rc = disk_errno(errno);
        goto fail;
    }
    /* A placeholder header (no length, no MD5, no valid checksum) then the
     * metadata; the body follows. commit() writes the real header. */
    unsigned char zero[HDR_LEN] = {0};
    rc = write_all(w->fd, zero, HDR_LEN);
    if (rc == 0)
        rc = write_all(w->fd, w->json, w->json_len);
    if (rc)
        goto fail;
    *out = w;
    return 0;
fail:
    writer_fail(w, rc);
    obj_df_writer_free(w);
    return rc;
}

int obj_df_create(struct obj_devices *d, const char *dev, uint32_t part,
                  const char *hash, const struct ts *ts, const json_t *meta,
                  uint64_t size_hint, uint64_t max_size,
                  struct obj_df_writer **out)
{
    return writer_new(d, dev, part, hash, ts, meta, KIND_DATA, size_hint,
                      max_size, out);
}

/*
 * Starts the writeback of what a large body has written so far, every
 * WRITEBACK_STEP bytes (Swift's mb_per_sync, without the wait). Without
 * it the page cache takes everything the clients send, up to the kernel's
 * dirty limit (gigabytes here), and the commit's fsync then writes all of
 * it at once: with many large PUTs on a node, longer than the proxy waits
 * for the answer (a 503 for a body that was received whole). With it the
 * kernel's own dirty throttling slows the writers down to the disk's pace
 * and the final fsync has little left. Durability still comes from that
 * fsync alone; this only moves the writes earlier.
 */
#define WRITEBACK_STEP (8u << 20)

static void kick_writeback(struct obj_df_writer *w)
{
    if (w->bytes - w->kicked < WRITEBACK_STEP)
        return;
    /* the whole file: whatever is dirty and not yet under writeback */
    if (sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE) == 0)
        w->kicked = w->bytes;
}

int obj_df_write(struct obj_df_writer *w, const void *buf, size_t len)
{
    struct iovec v = { .iov_base = (void *)buf, .iov_len = len };
    return obj_df_writev(w, &v, 1);
}

int obj_df_writev(struct obj_df_writer *w, const struct iovec *iov, int n)
{
    if (w->err)
        return w->err;
    if (w->committed || w->kind != KIND_DATA || n < 0)
        return -EINVAL;
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    if (w->max_size && (len > w->max_size || w->bytes > w->max_size - len))
        return writer_fail(w, -EFBIG);
    /* the pieces are hashed as they are: writev may stop anywhere */
    for (int i = 0; i < n; i++)
        md5_update(&w->md5, iov[i].iov_base, iov[i].iov_len);
    int i = 0;
    size_t skip = 0; /* bytes of iov[i] already written */
    for (;;) {
        while (i < n && iov[i].iov_len == skip) {   /* done or empty pieces */
            i++;
            skip = 0;
        }
        if (i == n)
            break;
        struct iovec v[64];
        int k = 0;
        for (int j = i; j < n && k < (int)ARRAY_SIZE(v); j++, k++) {
            v[k] = iov[j];
            if (j == i) {
                v[k].iov_base = (char *)v[k].iov_base + skip;
                v[k].iov_len -= skip;
            }
        }
        ssize_t wr = IO(writev(w->fd, v, k));
        if (wr == -1) {
            if (errno == EINTR)
                continue;
            return writer_fail(w, disk_errno(errno));
        }
        if (wr == 0)
            return writer_fail(w, -EIO);
        size_t done = (size_t)wr;
        while (i < n && done >= iov[i].iov_len - skip) {
            done -= iov[i].iov_len - skip;
            skip = 0;
            i++;
        }
        skip += done;
    }
    w->bytes += len;
    kick_writeback(w);
    return 0;
}

uint64_t obj_df_writer_bytes(const struct obj_df_writer *w)
{
    return w->bytes;
}

/* Compares an ETag as a client sends it (maybe quoted, any case). */
static bool etag_equal(const char *given, const char *hex)
{
    size_t n = strlen(given);
    if (n >= 2 && given[0] == '"' && given[n - 1] == '"') {
        given++;
        n -= 2;
    }
    return n == MD5_HEX_LEN - 1 && strncasecmp(given, hex, n) == 0;
}

/* The directories from objects/ down to a hash directory. */
enum { HD_OBJECTS, HD_PART, HD_SUFFIX, HD_HASH, HD_LEVELS };

static void hash_dir_levels(const struct obj_devices *d, const char *dev,
                            uint32_t part, const char *hash,
                            char *lv[HD_LEVELS])
{
    lv[HD_OBJECTS] = xasprintf("%s/%s/objects", d->root, dev);
    lv[HD_PART] = xasprintf("%s/%" PRIu32, lv[HD_OBJECTS], part);
    lv[HD_SUFFIX] = xasprintf("%s/%s", lv[HD_PART], hash + 29);
    lv[HD_HASH] = xasprintf("%s/%s", lv[HD_SUFFIX], hash);
}

/* Creates objects/<part>/<suffix>/<hash>, noting in made[] which levels
 * it created. Not durable by itself: see commit_dirs_durable. */
static int make_hash_dir(char *const lv[HD_LEVELS], bool made[HD_LEVELS])
{
    int rc = 0;
    for (int i = 0; i < HD_LEVELS && rc == 0; i++)
        rc = mkdir_noting(lv[i], &made[i]);
    return rc;
}

/*
 * Makes the new name durable: the hash directory (which gained it) and
 * the parent of every directory this commit created. All of them are
 * fsync'ed after the rename, not one after each mkdir: the file system's
 * journal commits the mkdirs and the rename together on the first fsync,
 * and the later ones find nothing left to write (XFS forces its log only
 * up to a directory's last change; ext4 finds its transaction committed),
 * so a new name costs one journal commit instead of one per level. The
 * guarantee is the one mkdir-fsync-rename-fsync gave: every directory on
 * the path is durable before the PUT is acknowledged.
 */
static int commit_dirs_durable(char *const lv[HD_LEVELS],
                               const bool made[HD_LEVELS])
{
    int rc = fsync_dir(lv[HD_HASH]);
    for (int i = HD_LEVELS - 1; i >= 0 && rc == 0; i--)
        if (made[i])
            rc = fsync_parent_dir(lv[i]);
    return rc;
}

int obj_df_commit(struct obj_df_writer *w, const char *expected_etag,
                  char etag[MD5_HEX_LEN])
{
    if (w->err)
        return w->err;
    if (w->committed)
        return -EINVAL;
    struct hdr h = {.kind = (uint8_t)w->kind,
                    .meta_len = (uint32_t)w->json_len,
                    .body_len = w->bytes,
                    .body_off = HDR_LEN + w->json_len};
    char hex[MD5_HEX_LEN];
    md5_final(&w->md5, h.body_md5);
    hex_encode(h.body_md5, MD5_DIGEST_LEN, hex);
    if (w->kind != KIND_DATA)
        memset(h.body_md5, 0, sizeof(h.body_md5));
    if (expected_etag && !etag_equal(expected_etag, hex))
        return writer_fail(w, -EBADMSG);

    unsigned char raw[HDR_LEN];
    hdr_encode(&h, w->json, raw);
    ssize_t n = IO(pwrite(w->fd, raw, HDR_LEN, 0));
    if (n == -1)
        return writer_fail(w, disk_errno(errno));
    if (n != HDR_LEN)
        return writer_fail(w, -EIO);
    if (IO(fsync(w->fd)) == -1)
        return writer_fail(w, disk_errno(errno));
    int cfd = w->fd;
    w->fd = -1;
    if (close(cfd) == -1 || io_fault())
        return writer_fail(w, disk_errno(errno));

    char *dir = hash_dir_path(w->d, w->dev, w->part, w->hash);
    char *lv[HD_LEVELS];
    bool made[HD_LEVELS] = {false};
    hash_dir_levels(w->d, w->dev, w->part, w->hash, lv);
    char tsbuf[TS_INTERNAL_LEN];
    ts_internal(&w->ts, tsbuf);
    const char *ext = w->kind == KIND_DATA   ? ".data"
                      : w->kind == KIND_META ? ".meta"
                                             : ".ts";
    char *dst = xasprintf("%s/%s%s", dir, tsbuf, ext);
    int rc;
    /* A concurrent cleanup may remove an empty hash (or suffix) directory
     * between our mkdir and rename, and a file may sit where a directory
     * belongs (quarantined, as Swift does): a few retries settle both. */
    for (int attempt = 0;; attempt++) {
        /* Most writes go to an existing hash directory (a DELETE, a
         * POST, an overwrite): rename first, make directories on ENOENT. */
        rc = 0;
        if (attempt > 0 || IO(rename(w->tmp_path, dst)) != 0) {
            rc = attempt > 0 || errno == ENOENT ? make_hash_dir(lv, made)
                                                : disk_errno(errno);
            if (rc == 0) {
                if (IO(rename(w->tmp_path, dst)) == 0)
                    break;
                rc = disk_errno(errno);
            }
        } else {
            break;
        }
        if (rc == -ENOTDIR && attempt < 3) {
            quarantine_path(w->d, w->dev, dir, w->hash, "not a directory");
            continue;
        }
        if (rc == -ENOENT && attempt < 3)
            continue;
        if (obj_devices_check(w->d, w->dev) == -ENODEV)
            rc = -ENODEV;
        break;
    }
    if (rc) {
        writer_fail(w, rc);
        goto out;
    }
    free(w->tmp_path);
    w->tmp_path = NULL;
    w->committed = true;
    rc = commit_dirs_durable(lv, made);
    if (rc) {
        /* The file is in place but its name may not be durable: report the
         * failure (no 201) rather than acknowledge what a crash could lose. */
        log_err("fsync of %s failed: %s", dir, strerror(-rc));
        rc = disk_errno(-rc);
        goto out;
    }
    /* A hash directory this commit made held nothing older to remove
     * (a writer racing into it runs its own cleanup after its rename). */
    struct fileset fs;
    if (!made[HD_HASH] && cleanup_hash_dir(w->d, dir, now_real(), &fs) == 0)
        fileset_release(&fs);
    if (etag)
        memcpy(etag, hex, MD5_HEX_LEN);
out:
    for (int i = 0; i < HD_LEVELS; i++)
        free(lv[i]);
    free(dst);
    free(dir);
    return rc;
}

static int write_small(struct obj_devices *d, const char *dev, uint32_t part,
                       const char *hash, const struct ts *ts,
                       const json_t *meta, enum kind kind)
{
    struct obj_df_writer *w;
    int rc = writer_new(d, dev, part, hash, ts, meta, kind, 0, 0, &w);
    if (rc)
        return rc;
    rc = obj_df_commit(w, NULL, NULL);
    obj_df_writer_free(w);
    return rc;
}

int obj_df_delete(struct obj_devices *d, const char *dev, uint32_t part,
                  const char *hash, const struct ts *ts, const json_t *meta)
{
    return write_small(d, dev, part, hash, ts, meta, KIND_TS);
}

/* ------------------------------------------------------------ reader */

struct obj_df_reader {
    struct obj_devices *d;
    char *dev;
    uint32_t part;
    char hash[33];
    struct obj_df_info info;
    json_t *meta_raw; /* the applied .meta's own JSON, or NULL */
    int fd;
    uint64_t body_off;
    unsigned char body_md5[MD5_DIGEST_LEN];
    /* obj_df_read() state */
    uint64_t seq_pos;
    struct md5 seq_md5;
    bool seq_done;
    int seq_err;
};

const struct obj_df_info *obj_df_info(const struct obj_df_reader *r)
{
    return &r->info;
}

void obj_df_reader_free(struct obj_df_reader *r)
{
    if (!r)
        return;
    if (r->fd != -1)
        close(r->fd);
    json_decref(r->info.meta);
    json_decref(r->meta_raw);
    free(r->dev);
    free(r);
}

/* Opens one file of the set and reads its header. -ENOENT when it went
 * away (a concurrent cleanup), -EUCLEAN when corrupt. The fd is returned
 * open in *fdp when fdp is not NULL. */
static int open_one(const char *dir, const struct dfile *f, struct hdr *h,
                    json_t **meta, int *fdp)
{
    char *p = xasprintf("%s/%s", dir, f->name);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    free(p);
    if (fd == -1)
        return -errno;
    int rc = read_header(fd, h, meta);
    if (rc == 0 && h->kind != (f->ext == EXT_DATA   ? KIND_DATA
                               : f->ext == EXT_META ? KIND_META
                                                    : KIND_TS)) {
        json_decref(*meta);
        *meta = NULL;
        rc = -EUCLEAN;
    }
    if (rc == 0 && f->ext == EXT_DATA) {
        struct stat st;
        if (fstat(fd, &st) == -1)
            rc = -errno;
        else if ((uint64_t)st.st_size != h->body_off + h->body_len)
            rc = -EUCLEAN;
        if (rc) {
            json_decref(*meta);
            *meta = NULL;
        }
    }
    if (rc == 0 && fdp)
        *fdp = fd;
    else
        close(fd);
    return rc;
}

/* The .data's metadata with a .meta's in its place (Swift's POST rules). */
static json_t *merge_meta(json_t *data_meta, json_t *meta_meta,
                          const struct ts *data_ts)
{
    if (!meta_meta)
        return json_incref(data_meta);
    json_t *m = json_deep_copy(meta_meta);
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(m, tmp, k, v) {
        if (datafile_only_key(k))
            json_object_del(m, k); /* a .meta cannot set these */
    }
    json_object_foreach(data_meta, k, v) {
        if (datafile_only_key(k))
            meta_set(m, k, json_string_value(v));
    }
    const char *mct = meta_get(meta_meta, "Content-Type");
    const char *mct_ts = meta_get(meta_meta, CTYPE_TS_KEY);
    struct ts ct_ts = {0, 0};
    bool meta_ctype_newer = mct && mct_ts && ts_parse(mct_ts, &ct_ts) == 0 &&
                            ts_cmp(&ct_ts, data_ts) > 0;
    const char *dct = meta_get(data_meta, "Content-Type");
    if (!meta_ctype_newer && dct)
        meta_set(m, "Content-Type", dct);
    meta_del(m, CTYPE_TS_KEY);
    return m;
}

static void reader_set_absent(struct obj_df_reader *r)
{
    if (r->fd != -1) {
        close(r->fd);
        r->fd = -1;
    }
    json_decref(r->info.meta);
    json_decref(r->meta_raw);
    r->meta_raw = NULL;
    memset(&r->info, 0, sizeof(r->info));
    r->info.state = OBJ_DF_ABSENT;
}

/* One attempt at reading the directory. -EAGAIN: a file went away between
 * listing and opening; list again. */
static int reader_load(struct obj_df_reader *r, const char *dir, double now)
{
    struct fileset fs;
    struct hdr h;
    json_t *data_meta = NULL;
    int rc = list_hash_dir(dir, &fs);
    if (rc == -ENOTDIR) {
        quarantine_path(r->d, r->dev, dir, r->hash, "not a directory");
        return 0;
    }
    if (rc)
        return rc;

    if (fs.data < 0 && fs.ts >= 0) {
        json_t *tmeta = NULL;
        rc = open_one(dir, &fs.f[fs.ts], &h, &tmeta, NULL);
        if (rc == -ENOENT) {
            rc = -EAGAIN;
        } else if (rc == -EUCLEAN) {
            quarantine_path(r->d, r->dev, dir, r->hash, "bad tombstone");
            rc = 0;
        } else if (rc == 0) {
            r->info.state = OBJ_DF_DELETED;
            r->info.ts_ts = fs.f[fs.ts].ts;
            r->info.meta = tmeta;
        }
        goto out;
    }
    if (fs.data < 0)
        goto out; /* ABSENT */

    rc = open_one(dir, &fs.f[fs.data], &h, &data_meta, &r->fd);
    if (rc == 0 && fs.meta >= 0) {
        struct hdr mh;
        rc = open_one(dir, &fs.f[fs.meta], &mh, &r->meta_raw, NULL);
    }
    if (rc == -ENOENT) {
        rc = -EAGAIN;
        goto out;
    }
    if (rc == -EUCLEAN) {
        quarantine_path(r->d, r->dev, dir, r->hash, "bad header or size");
        reader_set_absent(r);
        rc = 0;
        goto out;
    }
    if (rc)
        goto out;

    r->info.data_ts = fs.f[fs.data].ts;
    r->info.ts = r->info.data_ts;
    if (fs.meta >= 0) {
        r->info.meta_ts = fs.f[fs.meta].ts;
        r->info.ts = r->info.meta_ts;
    }
    r->info.content_length = h.body_len;
    r->body_off = h.body_off;
    memcpy(r->body_md5, h.body_md5, MD5_DIGEST_LEN);
    hex_encode(h.body_md5, MD5_DIGEST_LEN, r->info.etag);
    r->info.meta = merge_meta(data_meta, r->meta_raw, &r->info.data_ts);
    r->info.state = OBJ_DF_EXISTS;
    const char *da = meta_get(r->info.meta, "X-Delete-At");
    int64_t at;
    if (da && parse_i64(da, &at) == 0 && at > 0) {
        r->info.delete_at = at;
        if ((double)at <= now)
            r->info.state = OBJ_DF_EXPIRED;
    }
out:
    json_decref(data_meta);
    fileset_release(&fs);
    return rc;
}

int obj_df_open(struct obj_devices *d, const char *dev, uint32_t part,
                const char *hash, double now, struct obj_df_reader **out)
{
    *out = NULL;
    if (!valid_hash(hash))
        return -EINVAL;
    int rc = obj_devices_check(d, dev);
    if (rc)
        return rc;
    if (now <= 0)
        now = now_real();
    struct obj_df_reader *r = xcalloc(1, sizeof(*r));
    r->d = d;
    r->dev = xstrdup(dev);
    r->part = part;
    memcpy(r->hash, hash, 33);
    r->fd = -1;
    md5_init(&r->seq_md5);
    char *dir = hash_dir_path(d, dev, part, hash);
    for (int attempt = 0; attempt < 8; attempt++) {
        reader_set_absent(r);
        rc = reader_load(r, dir, now);
        if (rc != -EAGAIN)
            break;
    }
    free(dir);
    if (rc) {
        obj_df_reader_free(r);
        return rc == -EAGAIN ? -EIO : rc;
    }
    *out = r;
    return 0;
}

static bool has_body(const struct obj_df_reader *r)
{
    return r->info.state == OBJ_DF_EXISTS || r->info.state == OBJ_DF_EXPIRED;
}

int obj_df_body_fd(const struct obj_df_reader *r, int *fd, uint64_t *offset)
{
    if (!has_body(r))
        return -ENOENT;
    *fd = r->fd;
    *offset = r->body_off;
    return 0;
}

ssize_t obj_df_pread(struct obj_df_reader *r, void *buf, size_t len,
                     uint64_t off)
{
    if (!has_body(r))
        return -ENOENT;
    if (off >= r->info.content_length)
        return 0;
    uint64_t left = r->info.content_length - off;
    if (len > left)
        len = (size_t)left;
    return pread_full(r->fd, buf, len, r->body_off + off);
}

static int reader_quarantine(struct obj_df_reader *r, const char *why)
{
    char *dir = hash_dir_path(r->d, r->dev, r->part, r->hash);
    quarantine_path(r->d, r->dev, dir, r->hash, why);
    free(dir);
    return -EUCLEAN;
}

/* Checks a finished MD5 against the header's. */
static int check_md5(struct obj_df_reader *r, struct md5 *m)
{
    unsigned char got[MD5_DIGEST_LEN];
    md5_final(m, got);
    if (memcmp(got, r->body_md5, MD5_DIGEST_LEN) != 0)
        return reader_quarantine(r, "body MD5 does not match its ETag");
    return 0;
}

ssize_t obj_df_read(struct obj_df_reader *r, void *buf, size_t len)
{
    if (!has_body(r))
        return -ENOENT;
    if (r->seq_err)
        return r->seq_err;
    uint64_t left = r->info.content_length - r->seq_pos;
    if (left == 0) {
        if (!r->seq_done) { /* an empty body: verify it too */
            r->seq_done = true;
            r->seq_err = check_md5(r, &r->seq_md5);
            return r->seq_err;
        }
        return 0;
    }
    if (len > left)
        len = (size_t)left;
    ssize_t got = pread_full(r->fd, buf, len, r->body_off + r->seq_pos);
    if (got < 0)
        return got;
    if ((size_t)got < len) {
        r->seq_err = reader_quarantine(r, "body shorter than its length");
        return r->seq_err;
    }
    md5_update(&r->seq_md5, buf, len);
    r->seq_pos += len;
    if (r->seq_pos == r->info.content_length) {
        r->seq_done = true;
        r->seq_err = check_md5(r, &r->seq_md5);
        if (r->seq_err)
            return r->seq_err;
    }
    return (ssize_t)len;
}

int obj_df_verify(struct obj_df_reader *r)
{
    if (!has_body(r))
        return -ENOENT;
    enum { BUFSZ = 64 * 1024 };
    char *buf = xmalloc(BUFSZ);
    struct md5 m;
    md5_init(&m);
    uint64_t pos = 0;
    int rc = 0;
    while (pos < r->info.content_length) {
        size_t want = BUFSZ;
        if (r->info.content_length - pos < want)
            want = (size_t)(r->info.content_length - pos);
        ssize_t got = pread_full(r->fd, buf, want, r->body_off + pos);
        if (got < 0) {
            rc = (int)got;
            goto out;
        }
        if ((size_t)got < want) {
            rc = reader_quarantine(r, "body shorter than its length");
            goto out;
        }
        md5_update(&m, buf, want);
        pos += want;
    }
    rc = check_md5(r, &m);
out:
    free(buf);
    return rc;
}

/* ------------------------------------------------------------ POST */

int obj_df_post(struct obj_devices *d, const char *dev, uint32_t part,
                const char *hash, const struct ts *ts, const json_t *meta)
{
    if (!meta_valid(meta) || !ts)
        return -EINVAL;
    json_t *m = json_deep_copy(meta);
    char tsbuf[TS_INTERNAL_LEN];
    int rc = 0;
    if (meta_get(m, "Content-Type")) {
        if (!meta_get(m, CTYPE_TS_KEY)) {
            ts_internal(ts, tsbuf);
            meta_set(m, CTYPE_TS_KEY, tsbuf);
        }
    } else {
        /* Carry a Content-Type an earlier POST set, if it still beats the
         * .data's: Swift keeps it through content-type timestamps. */
        struct obj_df_reader *r;
        rc = obj_df_open(d, dev, part, hash, 0, &r);
        if (rc)
            goto out;
        if (has_body(r) && r->meta_raw) {
            const char *ct = meta_get(r->meta_raw, "Content-Type");
            const char *cts = meta_get(r->meta_raw, CTYPE_TS_KEY);
            struct ts t;
            if (ct && cts && ts_parse(cts, &t) == 0 &&
                ts_cmp(&t, &r->info.data_ts) > 0) {
                meta_set(m, "Content-Type", ct);
                meta_set(m, CTYPE_TS_KEY, cts);
            }
        }
        obj_df_reader_free(r);
    }
    rc = write_small(d, dev, part, hash, ts, m, KIND_META);
out:
    json_decref(m);
    return rc;
}

/* ------------------------------------------------------------ maintenance */

static bool is_suffix_name(const char *s)
{
    return strlen(s) == 3 && strspn(s, "0123456789abcdef") == 3;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of a directory's entries (no dot files). -errno on error. */
static int list_names(const char *path, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *dir = opendir(path);
    if (!dir)
        return -errno;
    size_t cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *names = xrealloc(*names, cap * sizeof(**names));
        }
        (*names)[(*n)++] = xstrdup(de->d_name);
    }
    int rc = errno ? -errno : 0;
    closedir(dir);
    if (*n)
        qsort(*names, *n, sizeof(**names), cmp_str);
    return rc;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void hash_file(struct md5 *m, const struct dfile *f)
{
    char tsbuf[TS_INTERNAL_LEN];
    ts_internal(&f->ts, tsbuf);
    md5_update(m, tsbuf, strlen(tsbuf));
    md5_update(m, ext_names[f->ext], strlen(ext_names[f->ext]));
}

/* Hashes one suffix directory. Returns 1 with md5 filled, 0 when the
 * suffix is gone (empty, removed), or -errno. */
static int hash_suffix(struct obj_devices *d, const char *dev, const char *path,
                       double now, char md5hex[MD5_HEX_LEN])
{
    char **names;
    size_t n;
    int rc = list_names(path, &names, &n);
    if (rc == -ENOENT || rc == -ENOTDIR)
        return 0;
    if (rc)
        return rc;
    struct md5 m;
    md5_init(&m);
    for (size_t i = 0; i < n; i++) {
        char *hpath = xasprintf("%s/%s", path, names[i]);
        struct fileset fs;
        rc = cleanup_hash_dir(d, hpath, now, &fs);
        if (rc == -ENOTDIR) {
            quarantine_path(d, dev, hpath, names[i], "not a directory");
            rc = 0;
        } else if (rc == 0) {
            if (fs.meta >= 0)
                hash_file(&m, &fs.f[fs.meta]);
            if (fs.ts >= 0)
                hash_file(&m, &fs.f[fs.ts]);
            if (fs.data >= 0)
                hash_file(&m, &fs.f[fs.data]);
            fileset_release(&fs);
        }
        free(hpath);
        if (rc)
            break;
    }
    free_names(names, n);
    if (rc)
        return rc;
    if (rmdir(path) == 0)
        return 0; /* it was empty: as if it never existed */
    md5_final_hex(&m, md5hex);
    return 1;
}

int obj_df_suffix_hashes(struct obj_devices *d, const char *dev,
                         uint32_t part, double now,
                         struct obj_df_suffix_hash **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    int rc = obj_devices_check(d, dev);
    if (rc)
        return rc;
    if (now <= 0)
        now = now_real();
    char *ppath = xasprintf("%s/%s/objects/%" PRIu32, d->root, dev, part);
    char **names = NULL;
    size_t n = 0;
    struct obj_df_suffix_hash *res = NULL;
    size_t nres = 0;
    rc = list_names(ppath, &names, &n);
    if (rc == -ENOENT) {
        rc = 0;
        goto out;
    }
    if (rc)
        goto out;
    res = xcalloc(n ? n : 1, sizeof(*res));
    for (size_t i = 0; i < n; i++) {
        if (!is_suffix_name(names[i]))
            continue;
        char *spath = xasprintf("%s/%s", ppath, names[i]);
        char hex[MD5_HEX_LEN];
        int hrc = hash_suffix(d, dev, spath, now, hex);
        free(spath);
        if (hrc < 0) {
            rc = hrc;
            goto out;
        }
        if (hrc == 1) {
            memcpy(res[nres].suffix, names[i], 4);
            memcpy(res[nres].md5, hex, MD5_HEX_LEN);
            nres++;
        }
    }
out:
    free_names(names, n);
    free(ppath);
    if (rc || nres == 0) {
        free(res);
        return rc;
    }
    *out = res;
    *nout = nres;
    return 0;
}

static bool parse_part(const char *s, uint32_t *part)
{
    uint64_t v;
    if (parse_u64(s, &v) != 0 || v > UINT32_MAX)
        return false;
    *part = (uint32_t)v;
    return true;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int obj_df_partitions(struct obj_devices *d, const char *dev, uint32_t **parts,
                      size_t *nout)
{
    *parts = NULL;
    *nout = 0;
    int rc = obj_devices_check(d, dev);
    if (rc)
        return rc;
    char *objs = xasprintf("%s/%s/objects", d->root, dev);
    char **names;
    size_t n;
    rc = list_names(objs, &names, &n);
    free(objs);
    if (rc)
        return rc == -ENOENT ? 0 : rc;
    uint32_t *res = xcalloc(n ? n : 1, sizeof(*res));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (parse_part(names[i], &res[k]))
            k++;
    free_names(names, n);
    if (k == 0) {
        free(res);
        return 0;
    }
    qsort(res, k, sizeof(*res), cmp_u32);
    *parts = res;
    *nout = k;
    return 0;
}

/* Walks the hash directories of one suffix directory. */
static int walk_suffix(const char *spath, uint32_t part, const char *suffix,
                       obj_df_walk_fn *fn, void *arg)
{
    char **names;
    size_t n;
    int rc = list_names(spath, &names, &n);
    if (rc)
        return rc == -ENOENT || rc == -ENOTDIR ? 0 : rc;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (valid_hash(names[i]) && strcmp(names[i] + 29, suffix) == 0)
            rc = fn(part, suffix, names[i], arg);
    free_names(names, n);
    return rc;
}

static int walk_part(const char *objs, uint32_t part, const char *suffix,
                     obj_df_walk_fn *fn, void *arg)
{
    char *ppath = xasprintf("%s/%" PRIu32, objs, part);
    int rc = 0;
    if (suffix) {
        char *spath = xasprintf("%s/%s", ppath, suffix);
        rc = walk_suffix(spath, part, suffix, fn, arg);
        free(spath);
        free(ppath);
        return rc;
    }
    char **names;
    size_t n;
    rc = list_names(ppath, &names, &n);
    if (rc) {
        free(ppath);
        return rc == -ENOENT || rc == -ENOTDIR ? 0 : rc;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!is_suffix_name(names[i]))
            continue;
        char *spath = xasprintf("%s/%s", ppath, names[i]);
        rc = walk_suffix(spath, part, names[i], fn, arg);
        free(spath);
    }
    free_names(names, n);
    free(ppath);
    return rc;
}

int obj_df_walk(struct obj_devices *d, const char *dev, const uint32_t *part,
                const char *suffix, obj_df_walk_fn *fn, void *arg)
{
    if (suffix && !is_suffix_name(suffix))
        return -EINVAL;
    int rc = obj_devices_check(d, dev);
    if (rc)
        return rc;
    char *objs = xasprintf("%s/%s/objects", d->root, dev);
    if (part) {
        rc = walk_part(objs, *part, suffix, fn, arg);
    } else {
        uint32_t *parts;
        size_t n;
        rc = obj_df_partitions(d, dev, &parts, &n);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = walk_part(objs, parts[i], suffix, fn, arg);
        free(parts);
    }
    free(objs);
    return rc;
}

/* Removes files of tmp/ at least max_age seconds old. */
static int clean_tmp(const char *tmp, uint64_t max_age, size_t *count)
{
    DIR *dir = opendir(tmp);
    if (!dir)
        return errno == ENOENT ? 0 : -errno;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
            S_ISDIR(st.st_mode))
            continue;
        if (max_age && (uint64_t)(now - st.st_mtime) < max_age)
            continue;
        if (unlinkat(dirfd(dir), de->d_name, 0) == 0)
            (*count)++;
    }
    closedir(dir);
    return 0;
}

/* rmdir()s every empty directory below objects/ up to depth 3 (hash, then
 * suffix, then partition): a non-empty one simply refuses. */
static void prune_empty(const char *path, int depth)
{
    if (depth < 3) {
        DIR *dir = opendir(path);
        if (!dir)
            return;
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            if (de->d_name[0] == '.' || de->d_type == DT_REG)
                continue;
            char *sub = xasprintf("%s/%s", path, de->d_name);
            prune_empty(sub, depth + 1);
            free(sub);
        }
        closedir(dir);
    }
    if (depth > 0)
        rmdir(path);
}

int obj_df_cleanup_device(struct obj_devices *d, const char *dev,
                          uint64_t max_age, size_t *n_tmp)
{
    size_t count = 0;
    int rc = obj_devices_check(d, dev);
    if (rc)
        return rc;
    char *tmp = xasprintf("%s/%s/tmp", d->root, dev);
    char *objs = xasprintf("%s/%s/objects", d->root, dev);
    rc = clean_tmp(tmp, max_age, &count);
    if (rc == 0)
        prune_empty(objs, 0);
    if (count)
        log_notice("%s: removed %zu temp file(s) left by an earlier run",
                   dev, count);
    if (n_tmp)
        *n_tmp = count;
    free(objs);
    free(tmp);
    return rc;
}

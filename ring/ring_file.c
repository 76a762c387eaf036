/*
 * ring_file.c - the ring file: writing it (ring_write_file) and reading it
 * back with every check a damaged or hostile file needs (ring_load*).
 *
 * The format is specified byte by byte in docs/ring-format.md; the constants
 * below are its names. Everything is little-endian and fixed-size so that
 * the reader can check the declared sizes against the real file size before
 * it allocates anything, and a SHA-256 over the whole file catches torn
 * writes and bit rot before any field is trusted beyond the header.
 *
 * Threading: no shared state; every function may run in any thread.
 */
#include "ring/ring_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bug.h"
#include "common/util.h"
#include "common/xalloc.h"

#define RF_MAGIC "CAIRNRNG"
#define RF_MAGIC_LEN 8
#define RF_VERSION 1u
#define RF_HDR_LEN 64u
#define RF_DEV_LEN 480u
#define RF_SUM_LEN 32u /* SHA-256 */
#define RF_DEV_PRESENT 1u

/* Offsets in the header and in a device record (docs/ring-format.md). */
enum {
    H_MAGIC = 0, H_VERSION = 8, H_HDR_LEN = 12, H_PART_POWER = 16,
    H_ROWS = 20, H_DEV_COUNT = 24, H_DEV_LEN = 28, H_BUILD_VERSION = 32,
    H_FILE_LEN = 40, H_RESERVED = 48,
};
enum {
    D_FLAGS = 0, D_ID = 4, D_REGION = 8, D_ZONE = 12, D_PORT = 16,
    D_REPL_PORT = 18, D_RESERVED = 20, D_WEIGHT = 24, D_IP = 32,
    D_REPL_IP = 96, D_DEVICE = 160, D_META = 224,
};
_Static_assert(D_META + 256 == RF_DEV_LEN, "device record layout");
_Static_assert(sizeof(((struct ring_dev *)0)->ip) == D_REPL_IP - D_IP, "ip");
_Static_assert(sizeof(((struct ring_dev *)0)->replication_ip) ==
               D_DEVICE - D_REPL_IP, "replication_ip");
_Static_assert(sizeof(((struct ring_dev *)0)->device) == D_META - D_DEVICE,
               "device");
_Static_assert(sizeof(((struct ring_dev *)0)->meta) == RF_DEV_LEN - D_META,
               "meta");

/* ------------------------------------------------------------ bytes */

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void sha256(const unsigned char *p, size_t n, unsigned char out[32])
{
    unsigned int outlen = 0;
    /* EVP_Digest fails only when OpenSSL itself is broken. */
    BUG_ON(EVP_Digest(p, n, out, &outlen, EVP_sha256(), NULL) != 1 ||
           outlen != RF_SUM_LEN);
}

/* The fixed part: header + row lengths + device table. */
static uint64_t fixed_len(uint32_t rows, uint32_t dev_count)
{
    return RF_HDR_LEN + 4ull * rows + (uint64_t)RF_DEV_LEN * dev_count;
}

/* ------------------------------------------------------------ rules */

/* A NUL inside the array and, when required, a non-empty string. */
static int check_str(const char *name, uint32_t id, const char *what,
                     const char *s, size_t cap, bool required, struct err *e)
{
    if (!memchr(s, '\0', cap))
        return err_set(e, -EINVAL, "%s: device %u: %s is not NUL-terminated "
                       "within %zu bytes", name, id, what, cap);
    if (required && s[0] == '\0')
        return err_set(e, -EINVAL, "%s: device %u: %s is empty", name, id,
                       what);
    return 0;
}

static int check_dev(const char *name, uint32_t idx, const struct ring_dev *d,
                     struct err *e)
{
    int rc;
    if (d->id != idx)
        return err_set(e, -EINVAL, "%s: device at index %u has id %u",
                       name, idx, d->id);
    if ((rc = check_str(name, idx, "ip", d->ip, sizeof(d->ip), true, e)) ||
        (rc = check_str(name, idx, "replication ip", d->replication_ip,
                        sizeof(d->replication_ip), false, e)) ||
        (rc = check_str(name, idx, "device name", d->device,
                        sizeof(d->device), true, e)) ||
        (rc = check_str(name, idx, "meta", d->meta, sizeof(d->meta), false,
                        e)))
        return rc;
    if (!isfinite(d->weight) || d->weight < 0)
        return err_set(e, -EINVAL, "%s: device %u: weight %g is not a finite "
                       "number >= 0", name, idx, d->weight);
    return 0;
}

static int check_shape(const char *name, uint32_t part_power, uint32_t rows,
                       uint32_t dev_count, struct err *e)
{
    if (part_power > RING_MAX_PART_POWER)
        return err_set(e, -EINVAL, "%s: part power %u is above the maximum %d",
                       name, part_power, RING_MAX_PART_POWER);
    if (rows < 1 || rows > RING_MAX_REPLICA_ROWS)
        return err_set(e, -EINVAL, "%s: %u replica rows (must be 1..%u)", name,
                       rows, RING_MAX_REPLICA_ROWS);
    if (dev_count > RING_MAX_DEVS)
        return err_set(e, -EINVAL, "%s: %u device slots (at most %u)", name,
                       dev_count, RING_MAX_DEVS);
    return 0;
}

static int check_row_len(const char *name, uint32_t r, uint32_t rows,
                         uint32_t len, uint32_t parts, struct err *e)
{
    if (r + 1 < rows && len != parts)
        return err_set(e, -EINVAL, "%s: replica row %u has %u partitions, "
                       "expected %u (only the last row may be short)",
                       name, r, len, parts);
    if (r + 1 == rows && (len < 1 || len > parts))
        return err_set(e, -EINVAL, "%s: last replica row %u has %u "
                       "partitions, expected 1..%u", name, r, len, parts);
    return 0;
}

/* ------------------------------------------------------------ write */

int ring_write_file(const char *path, const struct ring_layout *l,
                    struct err *e)
{
    int rc = check_shape(path, l->part_power, l->replica_rows, l->dev_count, e);
    if (rc)
        return rc;
    uint32_t parts = 1u << l->part_power;
    uint64_t entries = 0;
    for (uint32_t r = 0; r < l->replica_rows; r++) {
        if ((rc = check_row_len(path, r, l->replica_rows, l->row_len[r], parts,
                                e)))
            return rc;
        entries += l->row_len[r];
    }
    for (uint32_t i = 0; i < l->dev_count; i++)
        if (l->dev_present[i] && (rc = check_dev(path, i, &l->devs[i], e)))
            return rc;
    for (uint32_t r = 0; r < l->replica_rows; r++) {
        for (uint32_t p = 0; p < l->row_len[r]; p++) {
            uint16_t d = l->replica2part2dev[r][p];
            if (d != RING_NO_DEV && (d >= l->dev_count || !l->dev_present[d]))
                return err_set(e, -EINVAL, "%s: replica row %u partition %u "
                               "names device %u, which does not exist",
                               path, r, p, d);
        }
    }

    uint64_t total = fixed_len(l->replica_rows, l->dev_count) + 2 * entries +
                     RF_SUM_LEN;
    if (total > SIZE_MAX)
        return err_set(e, -EFBIG, "%s: ring of %llu bytes is too large", path,
                       (unsigned long long)total);
    unsigned char *buf = xcalloc(1, (size_t)total);
    memcpy(buf + H_MAGIC, RF_MAGIC, RF_MAGIC_LEN);
    put32(buf + H_VERSION, RF_VERSION);
    put32(buf + H_HDR_LEN, RF_HDR_LEN);
    put32(buf + H_PART_POWER, l->part_power);
    put32(buf + H_ROWS, l->replica_rows);
    put32(buf + H_DEV_COUNT, l->dev_count);
    put32(buf + H_DEV_LEN, RF_DEV_LEN);
    put64(buf + H_BUILD_VERSION, l->version);
    put64(buf + H_FILE_LEN, total);
    unsigned char *p = buf + RF_HDR_LEN;
    for (uint32_t r = 0; r < l->replica_rows; r++, p += 4)
        put32(p, l->row_len[r]);
    for (uint32_t i = 0; i < l->dev_count; i++, p += RF_DEV_LEN) {
        if (!l->dev_present[i])
            continue; /* absent: all zero */
        const struct ring_dev *d = &l->devs[i];
        uint64_t wbits;
        memcpy(&wbits, &d->weight, sizeof(wbits));
        put32(p + D_FLAGS, RF_DEV_PRESENT);
        put32(p + D_ID, d->id);
        put32(p + D_REGION, d->region);
        put32(p + D_ZONE, d->zone);
        put16(p + D_PORT, d->port);
        put16(p + D_REPL_PORT, d->replication_port);
        put64(p + D_WEIGHT, wbits);
        /* strncpy semantics on purpose: the rest of each field stays zero,
         * so identical rings are identical files. */
        memcpy(p + D_IP, d->ip, strlen(d->ip));
        memcpy(p + D_REPL_IP, d->replication_ip, strlen(d->replication_ip));
        memcpy(p + D_DEVICE, d->device, strlen(d->device));
        memcpy(p + D_META, d->meta, strlen(d->meta));
    }
    for (uint32_t r = 0; r < l->replica_rows; r++)
        for (uint32_t i = 0; i < l->row_len[r]; i++, p += 2)
            put16(p, l->replica2part2dev[r][i]);
    sha256(buf, (size_t)total - RF_SUM_LEN, p);

    rc = file_write_atomic(path, buf, (size_t)total);
    free(buf);
    if (rc)
        return err_set(e, rc, "%s: cannot write: %s", path, strerror(-rc));
    return 0;
}

/* ------------------------------------------------------------ read */

struct rf_header {
    uint32_t part_power, rows, dev_count;
    uint64_t version, file_len;
};

/* Checks the 64-byte header alone; `have` is how many bytes the whole file
 * has (the header may promise more or less). */
static int parse_header(const unsigned char *b, size_t have, const char *name,
                        struct rf_header *h, struct err *e)
{
    if (have >= 2 && b[0] == 0x1f && b[1] == 0x8b)
        return err_set(e, -EINVAL, "%s: bad magic: this is a gzip file (a "
                       "Swift .ring.gz?), not a Cairn ring file", name);
    if (have < RF_HDR_LEN)
        return err_set(e, -EINVAL, "%s: truncated: %zu bytes, shorter than "
                       "the %u-byte header", name, have, RF_HDR_LEN);
    if (memcmp(b + H_MAGIC, RF_MAGIC, RF_MAGIC_LEN) != 0)
        return err_set(e, -EINVAL, "%s: bad magic: not a Cairn ring file",
                       name);
    uint32_t v = get32(b + H_VERSION);
    if (v != RF_VERSION)
        return err_set(e, -EINVAL, "%s: unknown format version %u (this "
                       "build reads version %u)", name, v, RF_VERSION);
    if (get32(b + H_HDR_LEN) != RF_HDR_LEN ||
        get32(b + H_DEV_LEN) != RF_DEV_LEN)
        return err_set(e, -EINVAL, "%s: header says %u-byte header and "
                       "%u-byte device records, version %u has %u and %u",
                       name, get32(b + H_HDR_LEN), get32(b + H_DEV_LEN),
                       RF_VERSION, RF_HDR_LEN, RF_DEV_LEN);
    if (!all_zero(b + H_RESERVED, RF_HDR_LEN - H_RESERVED))
        return err_set(e, -EINVAL, "%s: reserved header bytes %u..%u are not "
                       "zero", name, H_RESERVED, RF_HDR_LEN - 1);
    h->part_power = get32(b + H_PART_POWER);
    h->rows = get32(b + H_ROWS);
    h->dev_count = get32(b + H_DEV_COUNT);
    h->version = get64(b + H_BUILD_VERSION);
    h->file_len = get64(b + H_FILE_LEN);
    int rc = check_shape(name, h->part_power, h->rows, h->dev_count, e);
    if (rc)
        return rc;
    uint64_t parts = 1ull << h->part_power;
    uint64_t min = fixed_len(h->rows, h->dev_count) +
                   2 * ((h->rows - 1) * parts + 1) + RF_SUM_LEN;
    uint64_t max = fixed_len(h->rows, h->dev_count) +
                   2 * h->rows * parts + RF_SUM_LEN;
    if (h->file_len < min || h->file_len > max)
        return err_set(e, -EINVAL, "%s: header file length %llu does not fit "
                       "part power %u, %u rows and %u devices", name,
                       (unsigned long long)h->file_len, h->part_power, h->rows,
                       h->dev_count);
    if (have < h->file_len)
        return err_set(e, -EINVAL, "%s: truncated at byte %zu, the header "
                       "says the file has %llu", name, have,
                       (unsigned long long)h->file_len);
    if (have > h->file_len)
        return err_set(e, -EINVAL, "%s: %llu bytes of junk after the end of "
                       "the ring at byte %llu", name,
                       (unsigned long long)(have - h->file_len),
                       (unsigned long long)h->file_len);
    return 0;
}

static int parse_dev(const unsigned char *p, uint32_t idx, const char *name,
                     struct ring_dev *d, bool *present, struct err *e)
{
    uint32_t flags = get32(p + D_FLAGS);
    if (flags & ~RF_DEV_PRESENT)
        return err_set(e, -EINVAL, "%s: device record %u has unknown flags "
                       "0x%x", name, idx, flags);
    if (!(flags & RF_DEV_PRESENT)) {
        if (!all_zero(p, RF_DEV_LEN))
            return err_set(e, -EINVAL, "%s: device record %u is marked absent "
                           "but not zeroed", name, idx);
        *present = false;
        return 0;
    }
    if (get32(p + D_RESERVED))
        return err_set(e, -EINVAL, "%s: device record %u: reserved bytes are "
                       "not zero", name, idx);
    uint64_t wbits = get64(p + D_WEIGHT);
    d->id = get32(p + D_ID);
    d->region = get32(p + D_REGION);
    d->zone = get32(p + D_ZONE);
    d->port = get16(p + D_PORT);
    d->replication_port = get16(p + D_REPL_PORT);
    memcpy(&d->weight, &wbits, sizeof(d->weight));
    memcpy(d->ip, p + D_IP, sizeof(d->ip));
    memcpy(d->replication_ip, p + D_REPL_IP, sizeof(d->replication_ip));
    memcpy(d->device, p + D_DEVICE, sizeof(d->device));
    memcpy(d->meta, p + D_META, sizeof(d->meta));
    *present = true;
    return check_dev(name, idx, d, e);
}

static int tier_cmp(const void *a, const void *b, void *arg)
{
    const struct ring *r = arg;
    const struct ring_dev *x = &r->devs[*(const uint16_t *)a];
    const struct ring_dev *y = &r->devs[*(const uint16_t *)b];
    int c = ring_tier_cmp(x->region, x->zone, x->ip, y->region, y->zone, y->ip);
    if (c)
        return c;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Dense region / zone / ip indexes of the assigned devices, for the
 * handoff walk's "already used" bitmaps (Swift counts only devices that
 * hold a partition, and so do we). */
static void build_tiers(struct ring *r)
{
    r->assigned = xcalloc(r->dev_count ? r->dev_count : 1, sizeof(bool));
    r->tier = xcalloc(r->dev_count ? r->dev_count : 1, sizeof(*r->tier));
    uint64_t n = r->parts * r->rows;
    for (uint64_t i = 0; i < n; i++)
        if (r->p2d[i] != RING_NO_DEV)
            r->assigned[r->p2d[i]] = true;
    uint16_t *ids = xmalloc((r->dev_count ? r->dev_count : 1) * sizeof(*ids));
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->dev_count; i++)
        if (r->assigned[i])
            ids[k++] = (uint16_t)i;
    r->n_assigned = k;
    qsort_r(ids, k, sizeof(*ids), tier_cmp, r);
    for (uint32_t i = 0; i < k; i++) {
        const struct ring_dev *d = &r->devs[ids[i]];
        const struct ring_dev *prev = i ? &r->devs[ids[i - 1]] : NULL;
        bool new_region = !prev || prev->region != d->region;
        bool new_zone = new_region || prev->zone != d->zone;
        bool new_ip = new_zone || strcmp(prev->ip, d->ip) != 0;
        r->n_regions += new_region;
        r->n_zones += new_zone;
        r->n_ips += new_ip;
        r->tier[ids[i]] = (struct ring_tier){
            .region = (uint16_t)(r->n_regions - 1),
            .zone = (uint16_t)(r->n_zones - 1),
            .ip = (uint16_t)(r->n_ips - 1),
        };
    }
    free(ids);
}

struct ring *ring_load_mem(const void *buf, size_t len, const char *name,
                           struct err *e)
{
    const unsigned char *b = buf;
    struct rf_header h;
    if (parse_header(b, len, name, &h, e))
        return NULL;
    unsigned char sum[RF_SUM_LEN];
    sha256(b, len - RF_SUM_LEN, sum);
    if (memcmp(sum, b + len - RF_SUM_LEN, RF_SUM_LEN) != 0) {
        err_set(e, -EINVAL, "%s: checksum mismatch (file damaged or "
                "partly written)", name);
        return NULL;
    }

    struct ring *r = xcalloc(1, sizeof(*r));
    r->part_power = h.part_power;
    r->part_shift = 32 - h.part_power;
    r->parts = 1ull << h.part_power;
    r->rows = h.rows;
    r->dev_count = h.dev_count;
    r->version = h.version;
    r->row_len = xcalloc(h.rows, sizeof(*r->row_len));
    r->devs = xcalloc(h.dev_count ? h.dev_count : 1, sizeof(*r->devs));
    r->present = xcalloc(h.dev_count ? h.dev_count : 1, sizeof(bool));

    const unsigned char *p = b + RF_HDR_LEN;
    uint64_t entries = 0;
    for (uint32_t i = 0; i < h.rows; i++, p += 4) {
        r->row_len[i] = get32(p);
        if (check_row_len(name, i, h.rows, r->row_len[i], (uint32_t)r->parts,
                          e))
            goto fail;
        entries += r->row_len[i];
    }
    if (fixed_len(h.rows, h.dev_count) + 2 * entries + RF_SUM_LEN != len) {
        err_set(e, -EINVAL, "%s: file length %zu disagrees with the row "
                "lengths (%llu assignments)", name, len,
                (unsigned long long)entries);
        goto fail;
    }
    for (uint32_t i = 0; i < h.dev_count; i++, p += RF_DEV_LEN) {
        if (parse_dev(p, i, name, &r->devs[i], &r->present[i], e))
            goto fail;
        r->present_count += r->present[i];
    }
    r->p2d = xmalloc((size_t)(r->parts * r->rows) * sizeof(*r->p2d));
    for (uint32_t row = 0; row < h.rows; row++) {
        for (uint64_t part = 0; part < r->parts; part++) {
            uint16_t d = RING_NO_DEV;
            if (part < r->row_len[row]) {
                d = get16(p);
                p += 2;
                if (d != RING_NO_DEV && (d >= h.dev_count || !r->present[d])) {
                    err_set(e, -EINVAL, "%s: replica row %u partition %llu "
                            "names device %u, which does not exist", name,
                            row, (unsigned long long)part, d);
                    goto fail;
                }
            }
            r->p2d[part * r->rows + row] = d;
        }
    }
    build_tiers(r);
    return r;
fail:
    ring_free(r);
    return NULL;
}

struct ring *ring_load_id(const char *path, struct ring_file_id *id,
                          struct err *e)
{
    struct ring *r = NULL;
    unsigned char *buf = NULL;
    unsigned char hdr[RF_HDR_LEN];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        err_set(e, -errno, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) == -1) {
        err_set(e, -errno, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        err_set(e, -EINVAL, "%s: not a regular file", path);
        goto out;
    }
    if (id)
        *id = (struct ring_file_id){
            .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
            .mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
                        st.st_mtim.tv_nsec,
        };
    /* Check the header against the real size before allocating, so a
     * damaged size field cannot make us allocate more than the file. */
    size_t size = (size_t)st.st_size;
    ssize_t n = pread(fd, hdr, sizeof(hdr), 0);
    if (n == -1) {
        err_set(e, -errno, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    struct rf_header h;
    if (parse_header(hdr, (size_t)n < sizeof(hdr) ? (size_t)n : size, path,
                     &h, e))
        goto out;
    buf = xmalloc(size);
    size_t got = 0;
    while (got < size) {
        n = pread(fd, buf + got, size - got, (off_t)got);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1) {
            err_set(e, -errno, "%s: cannot read: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break; /* shrank under us: the length check below reports it */
        got += (size_t)n;
    }
    r = ring_load_mem(buf, got, path, e);
out:
    free(buf);
    if (fd != -1)
        close(fd);
    return r;
}

struct ring *ring_load(const char *path, struct err *e)
{
    return ring_load_id(path, NULL, e);
}

void ring_free(struct ring *r)
{
    if (!r)
        return;
    free(r->row_len);
    free(r->p2d);
    free(r->devs);
    free(r->present);
    free(r->assigned);
    free(r->tier);
    free(r);
}

/*
 * check_ring.c - unit tests for the ring library (ring/ring.h): the file
 * format (round trip, every kind of damage rejected with its reason),
 * partitions equal to Swift's, primaries, the handoff walk, and live reload
 * under concurrent readers.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <urcu.h>

#include "common/err.h"
#include "common/hashpath.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "ring/ring.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ helpers */

static char tmpdir[64];

static void setup_tmp(void)
{
    char tpl[] = "/tmp/check_ring.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tpl));
    str_copy(tmpdir, tpl, sizeof(tmpdir));
}

static void teardown_tmp(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static void tmp_path(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", tmpdir, name);
    ck_assert(n > 0 && (size_t)n < cap);
}

/* A layout the tests own: n_devs devices spread over `zones` zones of one
 * region, `rows` replica rows (the last `last_len` long, 0 = full), each
 * partition on distinct devices. */
struct tlayout {
    struct ring_layout l;
    uint32_t row_len[RING_MAX_REPLICA_ROWS];
    uint16_t *rowv[RING_MAX_REPLICA_ROWS];
};

static struct tlayout *tl_new(uint32_t pp, uint32_t rows, uint32_t last_len,
                              uint32_t n_devs, uint32_t zones)
{
    struct tlayout *t = xcalloc(1, sizeof(*t));
    uint32_t parts = 1u << pp;
    t->l.part_power = pp;
    t->l.replica_rows = rows;
    t->l.row_len = t->row_len;
    t->l.replica2part2dev = t->rowv;
    t->l.dev_count = n_devs;
    t->l.version = 42;
    t->l.devs = xcalloc(n_devs, sizeof(struct ring_dev));
    t->l.dev_present = xcalloc(n_devs, sizeof(bool));
    for (uint32_t i = 0; i < n_devs; i++) {
        struct ring_dev *d = &t->l.devs[i];
        d->id = i;
        d->region = 1;
        d->zone = 1 + i % zones;
        snprintf(d->ip, sizeof(d->ip), "127.0.0.%u", 1 + i % zones);
        d->port = (uint16_t)(6200 + i);
        snprintf(d->replication_ip, sizeof(d->replication_ip), "10.0.0.%u",
                 1 + i % zones);
        d->replication_port = (uint16_t)(7200 + i);
        snprintf(d->device, sizeof(d->device), "sd%c", 'a' + (int)(i % 26));
        d->weight = 100.0 + i;
        snprintf(d->meta, sizeof(d->meta), "dev %u", i);
        t->l.dev_present[i] = true;
    }
    for (uint32_t r = 0; r < rows; r++) {
        t->row_len[r] = (r + 1 == rows && last_len) ? last_len : parts;
        t->rowv[r] = xcalloc(parts, sizeof(uint16_t));
        for (uint32_t p = 0; p < t->row_len[r]; p++)
            t->rowv[r][p] = (uint16_t)((p * 3 + r) % n_devs);
    }
    return t;
}

static void tl_free(struct tlayout *t)
{
    for (uint32_t r = 0; r < t->l.replica_rows; r++)
        free(t->rowv[r]);
    free(t->l.devs);
    free(t->l.dev_present);
    free(t);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    unsigned char *b = xmalloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Recomputes the trailing SHA-256 so a test can plant a semantic error
 * behind a valid checksum (docs/ring-format.md: the last 32 bytes). */
static void reseal(unsigned char *b, size_t len)
{
    unsigned int outlen;
    ck_assert_int_eq(EVP_Digest(b, len - 32, b + len - 32, &outlen,
                                EVP_sha256(), NULL), 1);
}

static void put32le(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Asserts that loading buf fails with a message "NAME: ..." containing
 * `what`. */
static void expect_reject(const unsigned char *b, size_t len,
                          const char *what)
{
    struct err e;
    err_clear(&e);
    struct ring *r = ring_load_mem(b, len, "t.ring", &e);
    ck_assert_msg(r == NULL, "accepted a bad ring (expected: %s)", what);
    ck_assert_int_lt(e.code, 0);
    ck_assert_msg(str_has_prefix(e.msg, "t.ring: "), "message '%s'", e.msg);
    ck_assert_msg(strstr(e.msg, what) != NULL, "message '%s' lacks '%s'",
                  e.msg, what);
}

/* ------------------------------------------------------------ file format */

START_TEST(file_round_trip)
{
    struct tlayout *t = tl_new(4, 3, 5, 7, 3);
    t->l.dev_present[2] = false; /* a hole in the ids */
    for (uint32_t r = 0; r < 3; r++)
        for (uint32_t p = 0; p < t->row_len[r]; p++)
            if (t->rowv[r][p] == 2)
                t->rowv[r][p] = RING_NO_DEV;
    char path[PATH_MAX];
    tmp_path(path, sizeof(path), "object.ring");
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), 0);
    struct ring *r = ring_load(path, &e);
    ck_assert_msg(r != NULL, "%s", e.msg);
    ck_assert_uint_eq(ring_part_power(r), 4);
    ck_assert_uint_eq(ring_partition_count(r), 16);
    ck_assert_uint_eq(ring_replica_count(r), 3);
    ck_assert(ring_replicas(r) == 2.0 + 5.0 / 16.0);
    ck_assert_uint_eq(ring_version(r), 42);
    ck_assert_uint_eq(ring_dev_id_limit(r), 7);
    ck_assert_uint_eq(ring_dev_count(r), 6);
    ck_assert_ptr_null(ring_dev_by_id(r, 2));
    ck_assert_ptr_null(ring_dev_by_id(r, 7));
    for (uint32_t i = 0; i < 7; i++) {
        if (i == 2)
            continue;
        const struct ring_dev *d = ring_dev_by_id(r, i);
        const struct ring_dev *w = &t->l.devs[i];
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(d->id, i);
        ck_assert_uint_eq(d->region, w->region);
        ck_assert_uint_eq(d->zone, w->zone);
        ck_assert_str_eq(d->ip, w->ip);
        ck_assert_uint_eq(d->port, w->port);
        ck_assert_str_eq(d->replication_ip, w->replication_ip);
        ck_assert_uint_eq(d->replication_port, w->replication_port);
        ck_assert_str_eq(d->device, w->device);
        ck_assert(d->weight == w->weight);
        ck_assert_str_eq(d->meta, w->meta);
    }
    for (uint32_t row = 0; row < 3; row++)
        for (uint32_t p = 0; p < 16; p++)
            ck_assert_uint_eq(ring_assignment(r, row, p),
                              p < t->row_len[row] ? t->rowv[row][p]
                                                  : RING_NO_DEV);
    ck_assert_uint_eq(ring_assignment(r, 3, 0), RING_NO_DEV);
    ck_assert_uint_eq(ring_assignment(r, 0, 16), RING_NO_DEV);
    ring_free(r);

    /* Same layout, same bytes: a rewrite is byte-identical. */
    char path2[PATH_MAX];
    tmp_path(path2, sizeof(path2), "again.ring");
    ck_assert_int_eq(ring_write_file(path2, &t->l, &e), 0);
    size_t n1, n2;
    unsigned char *b1 = read_all(path, &n1), *b2 = read_all(path2, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert(memcmp(b1, b2, n1) == 0);
    free(b1);
    free(b2);
    ring_free(NULL);
    tl_free(t);
}
END_TEST

START_TEST(write_leaves_no_temp_file)
{
    struct tlayout *t = tl_new(2, 2, 0, 3, 3);
    char path[PATH_MAX];
    tmp_path(path, sizeof(path), "a.ring");
    struct err e;
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), 0);
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), 0);
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    /* An unwritable place fails with the path in the message. */
    ck_assert_int_lt(ring_write_file("/nonexistent-dir/x.ring", &t->l, &e), 0);
    ck_assert(str_has_prefix(e.msg, "/nonexistent-dir/x.ring: "));
    tl_free(t);
}
END_TEST

START_TEST(write_rejects_bad_layouts)
{
    struct tlayout *t = tl_new(3, 3, 0, 5, 5);
    char path[PATH_MAX];
    tmp_path(path, sizeof(path), "bad.ring");
    struct err e;

    t->rowv[1][3] = 5; /* beyond dev_count */
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), -EINVAL);
    ck_assert_msg(strstr(e.msg, "replica row 1 partition 3 names device 5"),
                  "%s", e.msg);
    t->rowv[1][3] = 4;
    t->l.dev_present[4] = false; /* assigned but absent */
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), -EINVAL);
    ck_assert_msg(strstr(e.msg, "names device 4, which does not exist"), "%s",
                  e.msg);
    t->l.dev_present[4] = true;
    t->l.devs[3].id = 9;
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), -EINVAL);
    ck_assert_msg(strstr(e.msg, "device at index 3 has id 9"), "%s", e.msg);
    t->l.devs[3].id = 3;
    t->l.devs[0].ip[0] = '\0';
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), -EINVAL);
    ck_assert_msg(strstr(e.msg, "device 0: ip is empty"), "%s", e.msg);
    t->l.devs[0].ip[0] = '1';
    memset(t->l.devs[1].meta, 'x', sizeof(t->l.devs[1].meta));
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), -EINVAL);
    ck_assert_msg(strstr(e.msg, "meta is not NUL-terminated"), "%s", e.msg);
    t->l.devs[1].meta[0] = '\0';
    t->l.devs[2].weight = -1;
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), -EINVAL);
    ck_assert_msg(strstr(e.msg, "weight"), "%s", e.msg);
    t->l.devs[2].weight = 1;
    t->row_len[0] = 7;
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), -EINVAL);
    ck_assert_msg(strstr(e.msg, "replica row 0 has 7 partitions, expected 8"),
                  "%s", e.msg);
    t->row_len[0] = 8;
    t->l.part_power = RING_MAX_PART_POWER + 1;
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), -EINVAL);
    ck_assert_msg(strstr(e.msg, "part power"), "%s", e.msg);
    t->l.part_power = 3;
    ck_assert_int_eq(access(path, F_OK), -1); /* nothing was written */
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), 0);
    tl_free(t);
}
END_TEST

/* Writes a small ring and returns its bytes. */
static unsigned char *small_ring(size_t *len)
{
    struct tlayout *t = tl_new(2, 3, 3, 4, 2);
    char path[PATH_MAX];
    tmp_path(path, sizeof(path), "small.ring");
    struct err e;
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), 0);
    tl_free(t);
    return read_all(path, len);
}

START_TEST(load_rejects_truncation_at_every_length)
{
    size_t len;
    unsigned char *b = small_ring(&len);
    struct err e;
    struct ring *r = ring_load_mem(b, len, "t.ring", &e);
    ck_assert_ptr_nonnull(r);
    ring_free(r);
    for (size_t n = 0; n < len; n++)
        expect_reject(b, n, n < 64 ? "truncated" : "truncated at byte");
    /* And on disk: a file cut short is refused by ring_load with its path. */
    char path[PATH_MAX];
    tmp_path(path, sizeof(path), "cut.ring");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b, len - 100), (ssize_t)(len - 100));
    close(fd);
    ck_assert_ptr_null(ring_load(path, &e));
    ck_assert(str_has_prefix(e.msg, path));
    ck_assert_msg(strstr(e.msg, "truncated at byte"), "%s", e.msg);
    unsigned char *more = xmalloc(len + 1);
    memcpy(more, b, len);
    more[len] = 0;
    expect_reject(more, len + 1, "junk after the end");
    free(more);
    free(b);
}
END_TEST

START_TEST(load_rejects_every_single_bit_flip)
{
    size_t len;
    unsigned char *b = small_ring(&len);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (unsigned char)(1u << bit);
            struct err e;
            struct ring *r = ring_load_mem(b, len, "t.ring", &e);
            ck_assert_msg(r == NULL, "flip of byte %zu bit %d accepted", i,
                          bit);
            ck_assert(str_has_prefix(e.msg, "t.ring: "));
            b[i] ^= (unsigned char)(1u << bit);
        }
    }
    free(b);
}
END_TEST

START_TEST(load_names_what_is_wrong)
{
    size_t len;
    unsigned char *b = small_ring(&len);
    unsigned char *c = xmalloc(len);

    memcpy(c, b, len);
    c[0] = 'X';
    expect_reject(c, len, "bad magic");
    memcpy(c, b, len);
    c[0] = 0x1f;
    c[1] = 0x8b;
    expect_reject(c, len, "gzip");
    memcpy(c, b, len);
    put32le(c + 8, 2);
    expect_reject(c, len, "unknown format version 2");
    memcpy(c, b, len);
    c[len / 2] ^= 0x10;
    expect_reject(c, len, "checksum mismatch");
    memcpy(c, b, len);
    c[len - 1] ^= 0x01;
    expect_reject(c, len, "checksum mismatch");

    /* Semantic damage behind a valid checksum (a buggy writer): */
    /* device record 0 (at 64 + 4 * 3 rows) claims id 3 */
    size_t dev0 = 64 + 12;
    memcpy(c, b, len);
    put32le(c + dev0 + 4, 3);
    reseal(c, len);
    expect_reject(c, len, "device at index 0 has id 3");
    /* row lengths wrong: row 0 short, last row longer than the ring */
    memcpy(c, b, len);
    put32le(c + 64, 3);
    put32le(c + 72, 4);
    reseal(c, len);
    expect_reject(c, len, "replica row 0 has 3 partitions, expected 4");
    memcpy(c, b, len);
    put32le(c + 72, 4); /* last row says 4 but the file holds 3 */
    reseal(c, len);
    expect_reject(c, len, "disagrees with the row lengths");
    /* an assignment naming a device that does not exist (the first entry
     * of row 0 sits after 4 device records of 480 bytes) */
    size_t rows_at = dev0 + 4 * 480;
    memcpy(c, b, len);
    c[rows_at] = 9;
    c[rows_at + 1] = 0;
    reseal(c, len);
    expect_reject(c, len, "replica row 0 partition 0 names device 9, which "
                          "does not exist");
    /* a device record marked absent, then named by a row */
    memcpy(c, b, len);
    memset(c + dev0 + 480, 0, 480); /* device 1 gone */
    reseal(c, len);
    expect_reject(c, len, "names device 1, which does not exist");
    /* a string without its NUL */
    memcpy(c, b, len);
    memset(c + dev0 + 160, 'x', 64);
    reseal(c, len);
    expect_reject(c, len, "device 0: device name is not NUL-terminated");
    /* too many rows for a header */
    memcpy(c, b, len);
    put32le(c + 20, 1000);
    expect_reject(c, len, "1000 replica rows");
    memcpy(c, b, len);
    put32le(c + 16, 40);
    expect_reject(c, len, "part power 40");
    free(c);
    free(b);

    struct err e;
    ck_assert_ptr_null(ring_load("/nonexistent/x.ring", &e));
    ck_assert_int_eq(e.code, -ENOENT);
    ck_assert(str_has_prefix(e.msg, "/nonexistent/x.ring: "));
    ck_assert_ptr_null(ring_load("/", &e));
}
END_TEST

/* ------------------------------------------------------------ lookups */

START_TEST(primaries_are_distinct_and_in_row_order)
{
    struct tlayout *t = tl_new(3, 4, 0, 6, 3);
    t->rowv[2][5] = t->rowv[0][5]; /* one device holds two replicas */
    t->rowv[3][6] = RING_NO_DEV;   /* an empty slot */
    char path[PATH_MAX];
    tmp_path(path, sizeof(path), "p.ring");
    struct err e;
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), 0);
    struct ring *r = ring_load(path, &e);
    ck_assert_ptr_nonnull(r);
    const struct ring_dev *out[8];
    for (uint32_t p = 0; p < 8; p++) {
        size_t n = ring_primaries(r, p, out, 8);
        size_t want = (p == 5 || p == 6) ? 3 : 4;
        ck_assert_uint_eq(n, want);
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                ck_assert_uint_ne(out[i]->id, out[j]->id);
        ck_assert_uint_eq(out[0]->id, t->rowv[0][p]);
    }
    ck_assert_uint_eq(ring_primaries(r, 5, out, 8), 3);
    ck_assert_uint_eq(out[1]->id, t->rowv[1][5]);
    ck_assert_uint_eq(out[2]->id, t->rowv[3][5]);
    ck_assert_uint_eq(ring_primaries(r, 0, out, 2), 2);
    ck_assert_uint_eq(ring_primaries(r, 8, out, 8), 0);
    ring_free(r);
    tl_free(t);
}
END_TEST

/*
 * Partitions equal Swift's. Produced once on a machine with Swift 2.30.1:
 *   /usr/bin/python3 -c 'from swift.common import utils; \
 *     utils.HASH_PATH_PREFIX=b"P"; utils.HASH_PATH_SUFFIX=b"S"; \
 *     import struct; k=utils.hash_path(a,c,o,raw_digest=True); \
 *     print(struct.unpack_from(">I",k)[0] >> (32-pp))'
 * (see the vectors' own comment below for the exact prefixes/suffixes).
 */
START_TEST(partition_matches_swift_doc_example)
{
    /* From docs/reference: prefix "", suffix "changeme", part power 10. */
    struct tlayout *t = tl_new(10, 1, 0, 1, 1);
    char path[PATH_MAX];
    tmp_path(path, sizeof(path), "x.ring");
    struct err e;
    ck_assert_int_eq(ring_write_file(path, &t->l, &e), 0);
    struct ring *r = ring_load(path, &e);
    ck_assert_ptr_nonnull(r);
    struct hashpath_secret s = { .prefix = "", .suffix = "changeme" };
    ck_assert_uint_eq(ring_partition(r, &s, "AUTH_test", "c", "o"), 461);
    struct hashpath_secret none = { .prefix = "", .suffix = "" };
    ck_assert_uint_eq(ring_partition(r, &none, "AUTH_test", "c", "o"), 343);
    ring_free(r);
    tl_free(t);
}
END_TEST


/* ------------------------------------------------------------ handoffs */

/*
 * Handoff orders from Swift itself (2.30.1), produced once with
 * swift-ring-builder and swift.common.ring.Ring.get_more_nodes:
 *
 *   swift-ring-builder obj.builder create 6 3 1
 *   swift-ring-builder obj.builder add r1z1-10.0.0.1:6200/d0 100
 *     ... (the twelve devices below, weight 100 each)
 *   swift-ring-builder obj.builder rebalance -s 1
 *   python3: r = Ring("obj.ring.gz"); dump r.devs, r._replica2part2dev_id,
 *            [d["id"] for d in r.get_more_nodes(p)] for every p
 *
 * Three regions, seven zones, ten ips; -1 ends each list.
 */
static const struct { uint32_t id, region, zone; const char *ip; } swift_small_devs[] = {
    { 0, 1, 1, "10.0.0.1" },
    { 1, 1, 1, "10.0.0.1" },
    { 2, 1, 1, "10.0.0.2" },
    { 3, 1, 2, "10.0.0.3" },
    { 4, 1, 2, "10.0.0.3" },
    { 5, 1, 2, "10.0.0.4" },
    { 6, 2, 1, "10.1.0.1" },
    { 7, 2, 1, "10.1.0.1" },
    { 8, 2, 2, "10.1.0.2" },
    { 9, 2, 3, "10.1.0.3" },
    { 10, 3, 1, "10.2.0.1" },
    { 11, 1, 3, "10.0.0.5" },
};
static const uint16_t swift_small_rows[3][64] = {
    {10, 5, 10, 3, 4, 11, 3, 10, 3, 5, 4, 11, 4, 4, 10, 3, 3, 4, 10, 4, 5, 3, 3, 5, 10, 11, 5, 10, 4, 0, 5, 1, 10, 10, 5, 4, 5, 4, 3, 5, 4, 5, 3, 10, 1, 3, 3, 0, 5, 3, 11, 10, 10, 5, 10, 10, 5, 4, 4, 1, 11, 10, 10, 5},
    {4, 1, 11, 2, 2, 2, 0, 0, 0, 11, 2, 2, 1, 1, 2, 0, 0, 1, 11, 1, 1, 0, 0, 0, 2, 2, 11, 11, 1, 3, 1, 4, 11, 5, 0, 2, 11, 1, 2, 11, 1, 0, 0, 3, 4, 2, 0, 3, 1, 2, 2, 0, 3, 0, 5, 11, 11, 1, 2, 4, 2, 2, 1, 11},
    {9, 9, 8, 9, 9, 9, 7, 6, 7, 8, 8, 9, 6, 6, 7, 7, 7, 6, 8, 6, 9, 7, 7, 6, 7, 9, 8, 8, 6, 6, 8, 7, 8, 9, 6, 7, 8, 6, 8, 8, 6, 8, 7, 9, 7, 9, 7, 6, 6, 7, 9, 6, 9, 9, 9, 8, 8, 6, 8, 7, 9, 7, 6, 8},
};
static const int swift_small_handoffs[64][13] = {
    {0, 6, 11, 8, 5, 2, 3, 1, 7, -1},
    {10, 7, 11, 8, 3, 2, 0, 6, 4, -1},
    {2, 9, 6, 3, 0, 5, 4, 1, 7, -1},
    {10, 7, 11, 8, 1, 5, 4, 6, 0, -1},
    {10, 7, 11, 8, 0, 5, 3, 1, 6, -1},
    {10, 4, 6, 8, 1, 5, 7, 3, 0, -1},
    {10, 11, 9, 8, 2, 5, 6, 4, 1, -1},
    {4, 11, 8, 9, 2, 5, 7, 1, 3, -1},
    {10, 11, 9, 8, 2, 5, 6, 4, 1, -1},
    {10, 1, 6, 9, 4, 2, 3, 0, 7, -1},
    {10, 9, 11, 6, 5, 0, 3, 1, 7, -1},
    {10, 5, 8, 6, 4, 1, 0, 3, 7, -1},
    {10, 11, 9, 8, 5, 2, 3, 7, 0, -1},
    {10, 11, 9, 8, 2, 5, 3, 7, 0, -1},
    {3, 9, 11, 8, 0, 5, 1, 4, 6, -1},
    {10, 8, 11, 9, 2, 5, 4, 1, 6, -1},
    {10, 11, 9, 8, 2, 5, 6, 4, 1, -1},
    {10, 8, 11, 9, 5, 2, 0, 3, 7, -1},
    {4, 1, 6, 9, 5, 2, 0, 3, 7, -1},
    {10, 11, 8, 9, 5, 2, 0, 3, 7, -1},
    {10, 8, 11, 6, 3, 2, 4, 0, 7, -1},
    {10, 11, 8, 9, 5, 2, 4, 1, 6, -1},
    {10, 9, 11, 8, 2, 5, 6, 1, 4, -1},
    {10, 11, 8, 9, 4, 2, 1, 7, 3, -1},
    {3, 11, 8, 9, 0, 5, 6, 4, 1, -1},
    {10, 4, 7, 8, 5, 1, 6, 3, 0, -1},
    {10, 1, 6, 9, 4, 2, 3, 0, 7, -1},
    {4, 9, 1, 7, 5, 2, 3, 0, 6, -1},
    {10, 11, 8, 9, 2, 5, 7, 3, 0, -1},
    {10, 11, 8, 9, 5, 2, 4, 1, 7, -1},
    {10, 6, 11, 9, 4, 2, 7, 3, 0, -1},
    {10, 11, 9, 8, 5, 2, 6, 3, 0, -1},
    {2, 7, 9, 5, 4, 1, 6, 0, 3, -1},
    {0, 7, 11, 8, 3, 2, 6, 4, 1, -1},
    {10, 11, 8, 9, 4, 2, 1, 7, 3, -1},
    {10, 11, 8, 9, 0, 5, 6, 3, 1, -1},
    {10, 0, 7, 9, 3, 2, 6, 4, 1, -1},
    {10, 8, 9, 11, 5, 2, 0, 3, 7, -1},
    {10, 7, 9, 11, 5, 0, 1, 4, 6, -1},
    {10, 0, 9, 6, 4, 2, 1, 7, 3, -1},
    {10, 9, 11, 8, 5, 2, 0, 7, 3, -1},
    {10, 6, 11, 9, 4, 2, 1, 7, 3, -1},
    {10, 8, 9, 11, 5, 2, 4, 1, 6, -1},
    {11, 2, 7, 8, 0, 5, 6, 4, 1, -1},
    {10, 11, 8, 9, 2, 5, 6, 3, 0, -1},
    {10, 11, 8, 6, 1, 5, 4, 0, 7, -1},
    {10, 9, 11, 8, 5, 2, 4, 1, 6, -1},
    {10, 11, 9, 8, 2, 5, 4, 1, 7, -1},
    {10, 11, 9, 8, 2, 4, 0, 3, 7, -1},
    {10, 11, 8, 9, 1, 5, 6, 4, 0, -1},
    {10, 5, 6, 8, 1, 3, 7, 0, 4, -1},
    {4, 8, 11, 9, 2, 5, 1, 7, 3, -1},
    {2, 8, 11, 6, 5, 1, 4, 0, 7, -1},
    {10, 11, 8, 6, 4, 2, 1, 7, 3, -1},
    {0, 8, 7, 11, 3, 2, 1, 4, 6, -1},
    {3, 2, 9, 7, 0, 5, 6, 1, 4, -1},
    {10, 1, 6, 9, 4, 2, 0, 3, 7, -1},
    {10, 8, 11, 9, 5, 2, 0, 3, 7, -1},
    {10, 11, 9, 6, 5, 1, 0, 3, 7, -1},
    {10, 11, 8, 9, 2, 5, 3, 0, 6, -1},
    {10, 5, 8, 7, 1, 3, 4, 0, 6, -1},
    {4, 11, 8, 9, 1, 5, 0, 6, 3, -1},
    {4, 11, 8, 9, 5, 2, 3, 0, 7, -1},
    {10, 9, 1, 7, 4, 2, 3, 0, 6, -1},
};

/*
 * Bigger rings, where the walk strides (inc = parts / 65536 = 2 and 4) and
 * wraps: 40 device ids (region i%3+1, zone (i/3)%3+1, ip
 * "10.<region>.<zone>.<(i/9)%2>"), id 38 a hole (None), id 39 present but
 * holding no partition, three rows with the last one parts/2+3 long, and
 * entry (p, r) = (((p * 40503 + r * 7919) ^ (p >> 5)) mod 2^32) % 38.
 * Swift's RingData(...).save() then Ring(path).get_more_nodes(part) gave:
 */
static const struct { uint32_t pp, part; int ids[40]; } swift_formula_handoffs[] = {
    { 17, 0, {34, 17, 13, 10, 29, 23, 6, 19, 2, 27, 8, 14, 21, 25, 22, 24, 28, 11, 18, 1, 16, 5, 37, 9, 31, 12, 7, 35, 3, 36, 32, 4, 33, 26, 20, -1} },
    { 17, 1, {32, 22, 21, 17, 20, 0, 30, 16, 37, 26, 31, 6, 27, 23, 29, 7, 3, 34, 35, 24, 19, 9, 28, 4, 13, 36, 18, 5, 12, 15, 11, 14, 8, 1, 2, -1} },
    { 17, 2, {15, 0, 16, 8, 30, 22, 1, 11, 27, 13, 21, 17, 24, 7, 14, 10, 19, 37, 2, 29, 36, 9, 12, 18, 23, 31, 3, 6, 26, 25, 4, 35, 34, 33, 32, -1} },
    { 17, 3, {25, 2, 13, 28, 21, 17, 29, 9, 22, 34, 24, 12, 32, 8, 1, 18, 4, 20, 31, 11, 36, 16, 27, 10, 3, 6, 33, 14, 35, 26, 37, 7, 30, 19, 5, -1} },
    { 17, 4, {2, 34, 12, 23, 31, 8, 7, 9, 24, 37, 3, 29, 32, 35, 22, 16, 21, 36, 6, 0, 27, 15, 30, 28, 25, 17, 20, 14, 11, 5, 19, 4, 1, 13, 26, -1} },
    { 17, 5, {15, 2, 26, 30, 16, 18, 19, 6, 21, 4, 14, 7, 27, 17, 11, 1, 3, 31, 23, 10, 24, 33, 12, 37, 34, 9, 8, 36, 0, 20, 35, 25, 22, 32, 29, -1} },
    { 17, 77, {15, 5, 16, 3, 20, 28, 24, 30, 14, 22, 18, 19, 35, 25, 29, 26, 33, 9, 13, 6, 12, 10, 36, 2, 34, 37, 17, 21, 0, 32, 1, 11, 4, 7, 23, -1} },
    { 17, 65535, {19, 23, 4, 7, 15, 8, 0, 11, 34, 6, 35, 10, 14, 27, 31, 12, 1, 2, 22, 32, 26, 36, 25, 29, 13, 18, 17, 37, 28, 24, 5, 16, 9, 3, 33, -1} },
    { 17, 65536, {14, 12, 25, 35, 36, 2, 6, 4, 23, 29, 19, 9, 8, 15, 16, 3, 10, 18, 0, 7, 1, 37, 31, 26, 24, 20, 27, 5, 11, 22, 32, 17, 34, 30, 21, 33, -1} },
    { 17, 65537, {24, 30, 16, 9, 2, 19, 15, 4, 21, 7, 0, 10, 14, 29, 17, 6, 12, 33, 28, 5, 36, 34, 22, 37, 20, 32, 35, 25, 3, 27, 11, 1, 18, 26, 13, -1} },
    { 17, 65538, {16, 5, 20, 33, 10, 31, 30, 9, 1, 25, 29, 17, 24, 14, 22, 36, 12, 27, 2, 7, 35, 8, 37, 23, 0, 15, 13, 6, 11, 21, 28, 19, 32, 4, 34, -1} },
    { 17, 65539, {2, 13, 14, 33, 16, 37, 26, 23, 24, 22, 9, 28, 25, 12, 29, 17, 31, 32, 6, 34, 19, 5, 3, 4, 27, 7, 8, 18, 35, 1, 15, 20, 0, 10, 11, 30, -1} },
    { 17, 131070, {28, 12, 5, 31, 2, 25, 9, 33, 32, 29, 21, 22, 37, 0, 34, 6, 10, 20, 26, 30, 15, 19, 16, 7, 11, 4, 35, 23, 27, 18, 24, 36, 13, 1, 14, 3, -1} },
    { 17, 131071, {1, 12, 16, 15, 11, 22, 17, 9, 24, 10, 13, 0, 25, 20, 3, 8, 23, 37, 30, 28, 31, 32, 35, 33, 18, 7, 27, 4, 19, 36, 21, 2, 29, 34, 26, 6, -1} },
    { 18, 0, {13, 2, 8, 34, 19, 23, 21, 29, 22, 9, 28, 14, 17, 25, 6, 31, 36, 3, 20, 16, 1, 26, 10, 5, 4, 27, 18, 37, 32, 11, 33, 7, 35, 24, 12, -1} },
    { 18, 1, {26, 11, 36, 21, 31, 23, 1, 35, 34, 24, 4, 9, 12, 32, 2, 18, 3, 29, 28, 37, 8, 13, 17, 0, 22, 7, 19, 14, 5, 30, 20, 27, 16, 6, 15, -1} },
    { 18, 2, {33, 16, 13, 35, 30, 36, 14, 37, 8, 22, 7, 29, 9, 6, 21, 32, 19, 17, 31, 18, 11, 12, 1, 15, 26, 2, 34, 10, 4, 23, 27, 25, 24, 0, 3, -1} },
    { 18, 3, {19, 35, 34, 13, 11, 21, 6, 27, 26, 28, 22, 25, 32, 2, 12, 36, 37, 24, 16, 33, 4, 17, 10, 8, 9, 31, 29, 20, 5, 7, 1, 30, 14, 3, 18, -1} },
    { 18, 4, {32, 29, 7, 8, 13, 3, 27, 16, 4, 1, 35, 12, 20, 24, 23, 14, 0, 31, 22, 25, 36, 9, 34, 15, 30, 26, 21, 37, 2, 19, 5, 11, 6, 17, 28, -1} },
    { 18, 5, {30, 20, 16, 36, 8, 24, 1, 3, 7, 32, 33, 22, 29, 9, 17, 31, 2, 23, 25, 37, 10, 19, 12, 14, 11, 0, 18, 26, 21, 34, 35, 27, 4, 15, 6, -1} },
    { 18, 77, {15, 29, 7, 19, 3, 5, 4, 2, 17, 18, 28, 16, 24, 30, 32, 26, 33, 22, 36, 34, 13, 0, 10, 21, 37, 25, 35, 6, 12, 20, 11, 23, 1, 14, 9, -1} },
    { 18, 65535, {16, 23, 10, 15, 4, 27, 17, 14, 7, 29, 37, 0, 24, 13, 8, 5, 12, 3, 19, 28, 25, 33, 22, 11, 36, 6, 31, 26, 1, 34, 18, 9, 32, 35, 2, -1} },
    { 18, 65536, {24, 17, 21, 18, 11, 16, 23, 12, 8, 20, 15, 7, 19, 9, 14, 22, 29, 2, 3, 35, 36, 37, 1, 34, 31, 26, 10, 25, 30, 6, 32, 33, 0, 4, 27, 5, -1} },
    { 18, 65537, {30, 10, 27, 11, 34, 15, 17, 22, 32, 18, 1, 25, 21, 20, 6, 4, 13, 14, 28, 5, 29, 37, 35, 19, 36, 3, 2, 16, 0, 12, 33, 26, 7, 24, 9, -1} },
    { 18, 131074, {26, 5, 20, 31, 16, 21, 32, 37, 17, 12, 11, 25, 24, 4, 9, 36, 15, 0, 35, 2, 7, 30, 14, 29, 13, 28, 23, 8, 19, 22, 6, 3, 34, 1, 27, -1} },
    { 18, 131075, {36, 26, 16, 30, 6, 23, 29, 35, 25, 9, 1, 4, 33, 32, 20, 3, 31, 18, 8, 12, 34, 15, 19, 5, 17, 0, 7, 27, 22, 14, 2, 10, 11, 37, 24, 21, -1} },
    { 18, 262142, {19, 33, 32, 4, 3, 0, 25, 35, 24, 28, 13, 5, 12, 16, 8, 27, 10, 1, 14, 11, 22, 21, 30, 15, 17, 26, 37, 18, 31, 34, 7, 36, 6, 2, 23, 9, -1} },
    { 18, 262143, {37, 33, 22, 2, 16, 18, 3, 5, 10, 13, 11, 7, 30, 32, 24, 9, 8, 1, 31, 20, 4, 29, 34, 0, 28, 15, 12, 6, 35, 36, 21, 25, 14, 23, 19, 27, -1} },
};

static struct ring *load_layout(struct tlayout *t, const char *name)
{
    char path[PATH_MAX];
    tmp_path(path, sizeof(path), name);
    struct err e;
    err_clear(&e);
    ck_assert_msg(ring_write_file(path, &t->l, &e) == 0, "%s", e.msg);
    struct ring *r = ring_load(path, &e);
    ck_assert_msg(r != NULL, "%s", e.msg);
    return r;
}

START_TEST(handoffs_equal_swift_small_ring)
{
    struct tlayout *t = tl_new(6, 3, 0, 12, 1);
    for (uint32_t i = 0; i < 12; i++) {
        t->l.devs[i].region = swift_small_devs[i].region;
        t->l.devs[i].zone = swift_small_devs[i].zone;
        str_copy(t->l.devs[i].ip, swift_small_devs[i].ip,
                 sizeof(t->l.devs[i].ip));
    }
    for (uint32_t r = 0; r < 3; r++)
        memcpy(t->rowv[r], swift_small_rows[r], sizeof(swift_small_rows[r]));
    struct ring *r = load_layout(t, "small.ring");
    static struct ring_handoff_iter it;
    for (uint32_t p = 0; p < 64; p++) {
        ring_handoffs_begin(r, p, &it);
        for (int k = 0;; k++) {
            const struct ring_dev *d = ring_handoff_next(&it);
            int want = swift_small_handoffs[p][k];
            if (want < 0) {
                ck_assert_msg(d == NULL, "part %u: extra handoff %u", p,
                              d ? d->id : 0);
                break;
            }
            ck_assert_msg(d != NULL, "part %u: handoff %d missing", p, k);
            ck_assert_msg((int)d->id == want, "part %u handoff %d: %u, "
                          "Swift says %d", p, k, d->id, want);
        }
        ck_assert_ptr_null(ring_handoff_next(&it)); /* stays finished */
    }
    ring_free(r);
    tl_free(t);
}
END_TEST

static struct tlayout *formula_layout(uint32_t pp)
{
    uint32_t parts = 1u << pp;
    struct tlayout *t = tl_new(pp, 3, parts / 2 + 3, 40, 1);
    for (uint32_t i = 0; i < 40; i++) {
        struct ring_dev *d = &t->l.devs[i];
        d->region = i % 3 + 1;
        d->zone = (i / 3) % 3 + 1;
        snprintf(d->ip, sizeof(d->ip), "10.%u.%u.%u", d->region, d->zone,
                 (i / 9) % 2);
    }
    t->l.dev_present[38] = false;
    for (uint32_t r = 0; r < 3; r++)
        for (uint32_t p = 0; p < t->row_len[r]; p++)
            t->rowv[r][p] = (uint16_t)(((p * 40503u + r * 7919u) ^
                                        (p >> 5)) % 38u);
    return t;
}

START_TEST(handoffs_equal_swift_striding_walk)
{
    static struct ring_handoff_iter it;
    for (uint32_t pp = 17; pp <= 18; pp++) {
        struct tlayout *t = formula_layout(pp);
        struct ring *r = load_layout(t, "formula.ring");
        for (size_t c = 0; c < ARRAY_LEN(swift_formula_handoffs); c++) {
            if (swift_formula_handoffs[c].pp != pp)
                continue;
            uint32_t p = swift_formula_handoffs[c].part;
            ring_handoffs_begin(r, p, &it);
            for (int k = 0;; k++) {
                const struct ring_dev *d = ring_handoff_next(&it);
                int want = swift_formula_handoffs[c].ids[k];
                if (want < 0) {
                    ck_assert_msg(d == NULL, "pp %u part %u: extra %u", pp,
                                  p, d ? d->id : 0);
                    break;
                }
                ck_assert_msg(d != NULL && (int)d->id == want,
                              "pp %u part %u handoff %d: %d, Swift says %d",
                              pp, p, k, d ? (int)d->id : -1, want);
            }
        }
        ring_free(r);
        tl_free(t);
    }
}
END_TEST


/*
 * Swift's walk never wraps around to partition 0 (its second range starts
 * at inc - (parts - start) % inc), so a device assigned only to partition 0
 * is offered only when the walk starts there. Swift 2.30.1, RingData with
 * five devices in zones 1..5 of region 1, part power 3, rows
 * [4,0,1,2,3,0,1,2] and [0,1,2,3,0,1,2,3], get_more_nodes(p) for p = 0..7:
 */
static const int swift_p0_handoffs[8][4] = {
    {1, 2, 3, -1}, {2, 3, -1}, {3, 0, -1}, {0, 1, -1},
    {1, 2, -1}, {2, 3, -1}, {4, 0, 3, -1}, {0, 1, -1},
};

START_TEST(handoffs_skip_partition_zero_like_swift)
{
    static const uint16_t rows[2][8] = {
        {4, 0, 1, 2, 3, 0, 1, 2}, {0, 1, 2, 3, 0, 1, 2, 3},
    };
    struct tlayout *t = tl_new(3, 2, 0, 5, 5);
    for (uint32_t i = 0; i < 5; i++) {
        t->l.devs[i].zone = i + 1;
        snprintf(t->l.devs[i].ip, sizeof(t->l.devs[i].ip), "10.0.0.%u", i);
    }
    for (uint32_t r = 0; r < 2; r++)
        memcpy(t->rowv[r], rows[r], sizeof(rows[r]));
    struct ring *r = load_layout(t, "p0.ring");
    static struct ring_handoff_iter it;
    for (uint32_t p = 0; p < 8; p++) {
        ring_handoffs_begin(r, p, &it);
        for (int k = 0;; k++) {
            const struct ring_dev *d = ring_handoff_next(&it);
            int want = swift_p0_handoffs[p][k];
            if (want < 0) {
                ck_assert_msg(d == NULL, "part %u: extra %u", p,
                              d ? d->id : 0);
                break;
            }
            ck_assert_msg(d != NULL && (int)d->id == want,
                          "part %u handoff %d: %d, Swift says %d", p, k,
                          d ? (int)d->id : -1, want);
        }
    }
    ring_free(r);
    tl_free(t);
}
END_TEST


/*
 * Partition vectors from Swift 2.30.1, produced once with
 *   /usr/bin/python3: from swift.common import utils
 *     utils.HASH_PATH_PREFIX = b"cairnpre"; utils.HASH_PATH_SUFFIX = b"cairnsuf"
 *     k = utils.hash_path(a, c, o, raw_digest=True)
 *     part = struct.unpack_from(">I", k)[0] >> (32 - part_power)
 * for part powers 10 and 14, and confirmed the same day with the real tool:
 * a swift.conf with those secrets in DIR, one-device account, container and
 * object rings built by swift-ring-builder (create 10|14 1 1; add; rebalance)
 * and `swift-get-nodes -d DIR RING a [c [o]]` printed the same Partition and
 * Hash for all twenty. X300 stands for 300 'x' characters (the test fills it
 * in). Names are UTF-8 bytes. The empty object name is hashed by Swift as no
 * object at all.
 */
#define X300 NULL
static const struct {
    uint32_t pp;
    const char *a, *c, *o, *hex;
    uint32_t part;
} swift_parts[] = {
    { 10, "AUTH_test", NULL, NULL, "16c74bee4a4cb6ce2d4d9ccbb4bc2eaa", 91 },
    { 10, "AUTH_test", "c", NULL, "e8de87aa59606c56b72b9f331fffa928", 931 },
    { 10, "AUTH_test", "c", "o", "5c96dbada77f84aa3e1431cdad37b3d9", 370 },
    { 10, "AUTH_test", "photos", "2026/11/21/img 001.jpg", "7d56e66fe60279c3ebdde735aa3e5eaa", 501 },
    { 10, "a", "b", "c/d/e", "568c76dcc59af85db7b215c535b9a565", 346 },
    { 10, "AUTH_\xc3\xa9t\xc3\xa9", "cont\xc3\xa4iner", "\xe6\x96\x87\xe4\xbb\xb6.txt", "4f10b18541b411a08224d64dca6748e4", 316 },
    { 10, "AUTH_x", "c", "", "1c14517676cc11b3a6963be6a4c578e4", 112 },
    { 10, "AUTH_big", "segments", X300, "b9890618d19880da61109b187b24a384", 742 },
    { 10, "acct", "cont", "obj with spaces?&=#", "f0723819b2fb3749d7182893888ea7e5", 961 },
    { 10, "AUTH_0123456789abcdef", "c", "o", "5274ff0340852bb01813c2cd15d81772", 329 },
    { 14, "AUTH_test", NULL, NULL, "16c74bee4a4cb6ce2d4d9ccbb4bc2eaa", 1457 },
    { 14, "AUTH_test", "c", NULL, "e8de87aa59606c56b72b9f331fffa928", 14903 },
    { 14, "AUTH_test", "c", "o", "5c96dbada77f84aa3e1431cdad37b3d9", 5925 },
    { 14, "AUTH_test", "photos", "2026/11/21/img 001.jpg", "7d56e66fe60279c3ebdde735aa3e5eaa", 8021 },
    { 14, "a", "b", "c/d/e", "568c76dcc59af85db7b215c535b9a565", 5539 },
    { 14, "AUTH_\xc3\xa9t\xc3\xa9", "cont\xc3\xa4iner", "\xe6\x96\x87\xe4\xbb\xb6.txt", "4f10b18541b411a08224d64dca6748e4", 5060 },
    { 14, "AUTH_x", "c", "", "1c14517676cc11b3a6963be6a4c578e4", 1797 },
    { 14, "AUTH_big", "segments", X300, "b9890618d19880da61109b187b24a384", 11874 },
    { 14, "acct", "cont", "obj with spaces?&=#", "f0723819b2fb3749d7182893888ea7e5", 15388 },
    { 14, "AUTH_0123456789abcdef", "c", "o", "5274ff0340852bb01813c2cd15d81772", 5277 },
};

START_TEST(partition_matches_swift_vectors)
{
    char x300[301];
    memset(x300, 'x', 300);
    x300[300] = '\0';
    struct hashpath_secret sec = { .prefix = "cairnpre", .suffix = "cairnsuf" };
    for (uint32_t pp = 10; pp <= 14; pp += 4) {
        struct tlayout *t = tl_new(pp, 1, 0, 1, 1);
        struct ring *r = load_layout(t, "parts.ring");
        for (size_t i = 0; i < ARRAY_LEN(swift_parts); i++) {
            if (swift_parts[i].pp != pp)
                continue;
            const char *o = swift_parts[i].o;
            if (!o && swift_parts[i].c &&
                strcmp(swift_parts[i].c, "segments") == 0)
                o = x300;
            char hex[MD5_HEX_LEN];
            hashpath_hex(&sec, swift_parts[i].a, swift_parts[i].c,
                         o && *o ? o : NULL, hex);
            ck_assert_str_eq(hex, swift_parts[i].hex);
            ck_assert_uint_eq(ring_partition(r, &sec, swift_parts[i].a,
                                             swift_parts[i].c, o),
                              swift_parts[i].part);
        }
        ring_free(r);
        tl_free(t);
    }
}
END_TEST


/* ring_partition hashes short paths in one piece and long ones through
 * hashpath_digest; both must agree at every length around the switch. */
START_TEST(partition_same_for_every_name_length)
{
    struct tlayout *t = tl_new(16, 1, 0, 1, 1);
    struct ring *r = load_layout(t, "len.ring");
    struct hashpath_secret sec = { .prefix = "p", .suffix = "suffix" };
    char name[700];
    for (size_t n = 1; n < sizeof(name); n++) {
        memset(name, 'a' + (int)(n % 26), n);
        name[n] = '\0';
        unsigned char d[MD5_DIGEST_LEN];
        hashpath_digest(&sec, "AUTH_a", "c", name, d);
        ck_assert_uint_eq(ring_partition(r, &sec, "AUTH_a", "c", name),
                          hashpath_partition(d, 16));
        hashpath_digest(&sec, name, NULL, NULL, d);
        ck_assert_uint_eq(ring_partition(r, &sec, name, NULL, NULL),
                          hashpath_partition(d, 16));
        hashpath_digest(&sec, "AUTH_a", name, NULL, d);
        ck_assert_uint_eq(ring_partition(r, &sec, "AUTH_a", name, ""),
                          hashpath_partition(d, 16));
    }
    ring_free(r);
    tl_free(t);
}
END_TEST

/* The properties, on rings of many shapes: never a primary, never twice,
 * the same order every time, regions before zones before ips, and every
 * assigned device offered (these layouts assign every device somewhere
 * besides partition 0). */
START_TEST(handoff_properties)
{
    static struct ring_handoff_iter it, again;
    const uint32_t shapes[][4] = {
        /* pp, rows, devs, zones */
        { 4, 3, 9, 3 }, { 6, 2, 5, 1 }, { 8, 3, 30, 7 }, { 5, 4, 4, 2 },
        { 0, 1, 1, 1 }, { 3, 3, 3, 3 },
    };
    for (size_t s = 0; s < ARRAY_LEN(shapes); s++) {
        struct tlayout *t = tl_new(shapes[s][0], shapes[s][1], 0,
                                   shapes[s][2], shapes[s][3]);
        for (uint32_t i = 0; i < t->l.dev_count; i++)
            t->l.devs[i].region = 1 + i % 2;
        struct ring *r = load_layout(t, "prop.ring");
        uint32_t parts = ring_partition_count(r);
        for (uint32_t p = 0; p < parts; p++) {
            const struct ring_dev *prim[RING_MAX_REPLICA_ROWS];
            size_t np = ring_primaries(r, p, prim, RING_MAX_REPLICA_ROWS);
            bool used[64] = { false };
            bool region_used[3] = { false };
            for (size_t i = 0; i < np; i++) {
                used[prim[i]->id] = true;
                region_used[prim[i]->region] = true;
            }
            ring_handoffs_begin(r, p, &it);
            ring_handoffs_begin(r, p, &again);
            size_t count = 0;
            bool fresh_regions_over = false;
            const struct ring_dev *d;
            while ((d = ring_handoff_next(&it)) != NULL) {
                ck_assert_ptr_eq(d, ring_handoff_next(&again));
                ck_assert_msg(!used[d->id], "pp %u part %u: device %u "
                              "twice or a primary", shapes[s][0], p, d->id);
                used[d->id] = true;
                if (!region_used[d->region])
                    ck_assert_msg(!fresh_regions_over, "new region late");
                else
                    fresh_regions_over = true;
                region_used[d->region] = true;
                count++;
            }
            ck_assert_ptr_null(ring_handoff_next(&again));
            ck_assert_uint_eq(count + np, t->l.dev_count);
        }
        ring_handoffs_begin(r, parts, &it); /* outside the ring */
        ck_assert_ptr_null(ring_handoff_next(&it));
        ring_free(r);
        tl_free(t);
    }
}
END_TEST

/* ------------------------------------------------------------ ring_watch */

/* A ring whose every assignment encodes its version, so a reader can tell
 * a consistent ring from a torn or freed one: entry (p, r) =
 * (p + r + version) % devs. */
static void write_versioned(const char *path, uint64_t version)
{
    struct tlayout *t = tl_new(6, 3, 0, 8, 4);
    t->l.version = version;
    for (uint32_t r = 0; r < 3; r++)
        for (uint32_t p = 0; p < 64; p++)
            t->rowv[r][p] = (uint16_t)((p + r + version) % 8);
    struct err e;
    ck_assert_msg(ring_write_file(path, &t->l, &e) == 0, "%s", e.msg);
    tl_free(t);
}

static bool ring_consistent(const struct ring *r)
{
    uint64_t v = ring_version(r);
    for (uint32_t p = 0; p < 64; p += 7) {
        const struct ring_dev *out[3];
        if (ring_primaries(r, p, out, 3) != 3)
            return false;
        for (uint32_t row = 0; row < 3; row++)
            if (out[row]->id != (p + row + v) % 8)
                return false;
    }
    return true;
}

static int err_lines;
static void count_errs(enum log_level level, const char *component,
                       const char *txn, const char *msg, void *arg)
{
    if (level == LOG_LVL_ERR && strcmp(component, "ring") == 0) {
        err_lines++;
        snprintf(arg, 512, "%s", msg);
    }
}

START_TEST(watch_swaps_valid_and_keeps_old_on_bad)
{
    char path[PATH_MAX], last[512] = "";
    tmp_path(path, sizeof(path), "w.ring");
    log_set_sink(count_errs, last);
    write_versioned(path, 1);
    struct err e;
    struct ring_watch *w = ring_watch_new(path, 0, &e);
    ck_assert_msg(w != NULL, "%s", e.msg);
    rcu_register_thread();
    ck_assert_int_eq(ring_watch_check(w), 0);
    write_versioned(path, 2);
    ck_assert_int_eq(ring_watch_check(w), 1);
    rcu_read_lock();
    ck_assert_uint_eq(ring_version(ring_watch_get(w)), 2);
    ck_assert(ring_consistent(ring_watch_get(w)));
    rcu_read_unlock();

    /* A torn copy written in place: refused, logged once, old ring kept. */
    size_t len;
    unsigned char *b = read_all(path, &len);
    b[0] = b[0]; /* keep the header, cut the body */
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, len / 2, f), len / 2);
    fclose(f);
    ck_assert_int_eq(ring_watch_check(w), -EINVAL);
    ck_assert_int_eq(err_lines, 1);
    ck_assert_msg(strstr(last, "truncated at byte") &&
                  strstr(last, "keeping ring version 2"), "%s", last);
    ck_assert_int_eq(ring_watch_check(w), -EINVAL);
    ck_assert_int_eq(err_lines, 1);
    rcu_read_lock();
    ck_assert_uint_eq(ring_version(ring_watch_get(w)), 2);
    rcu_read_unlock();
    /* Gone: refused, logged once. */
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(ring_watch_check(w), -ENOENT);
    ck_assert_int_eq(ring_watch_check(w), -ENOENT);
    ck_assert_int_eq(err_lines, 2);
    /* Fixed by the operator: picked up. */
    write_versioned(path, 3);
    ck_assert_int_eq(ring_watch_check(w), 1);
    ck_assert_uint_eq(ring_watch_reloads(w), 2);
    rcu_read_lock();
    ck_assert_uint_eq(ring_version(ring_watch_get(w)), 3);
    rcu_read_unlock();
    rcu_unregister_thread();
    ring_watch_free(w);
    ring_watch_free(NULL);
    free(b);
    log_set_sink(NULL, NULL);

    ck_assert_ptr_null(ring_watch_new(path + 1, 0, &e)); /* relative: absent */
}
END_TEST

START_TEST(watch_thread_picks_up_changes)
{
    char path[PATH_MAX];
    tmp_path(path, sizeof(path), "t.ring");
    write_versioned(path, 5);
    struct err e;
    struct ring_watch *w = ring_watch_new(path, 5, &e);
    ck_assert_ptr_nonnull(w);
    write_versioned(path, 6);
    /* Poll on the condition; the Check timeout bounds a failure. */
    while (ring_watch_reloads(w) < 1)
        usleep(1000);
    rcu_register_thread();
    rcu_read_lock();
    ck_assert_uint_eq(ring_version(ring_watch_get(w)), 6);
    rcu_read_unlock();
    rcu_unregister_thread();
    ring_watch_free(w);
}
END_TEST

struct reader_arg {
    struct ring_watch *w;
    int stop;
    unsigned long reads, bad;
};

static void *reader_main(void *p)
{
    struct reader_arg *a = p;
    rcu_register_thread();
    struct hashpath_secret sec = { .prefix = "p", .suffix = "s" };
    while (!__atomic_load_n(&a->stop, __ATOMIC_RELAXED)) {
        rcu_read_lock();
        const struct ring *r = ring_watch_get(a->w);
        uint32_t part = ring_partition(r, &sec, "AUTH_a", "c", "o");
        const struct ring_dev *out[3];
        if (part >= 64 || ring_primaries(r, part, out, 3) != 3 ||
            !ring_consistent(r))
            a->bad++;
        rcu_read_unlock();
        a->reads++;
    }
    rcu_unregister_thread();
    return NULL;
}

START_TEST(watch_reload_under_concurrent_readers)
{
    /* Two prepared rings; each swap hard-links one of them over the
     * watched path (a new inode each time, no fsync needed). */
    char path[PATH_MAX], a[PATH_MAX], b[PATH_MAX], tmp[PATH_MAX];
    tmp_path(path, sizeof(path), "live.ring");
    tmp_path(a, sizeof(a), "even.ring");
    tmp_path(b, sizeof(b), "odd.ring");
    tmp_path(tmp, sizeof(tmp), "next.ring");
    write_versioned(a, 10);
    write_versioned(b, 11);
    log_set_level(LOG_LVL_WARNING); /* not 1000 "loaded" lines */
    ck_assert_int_eq(link(a, path), 0);
    struct err e;
    struct ring_watch *w = ring_watch_new(path, 0, &e);
    ck_assert_ptr_nonnull(w);
    enum { READERS = 3 };
    pthread_t th[READERS];
    struct reader_arg args[READERS];
    for (int i = 0; i < READERS; i++) {
        args[i] = (struct reader_arg){ .w = w };
        ck_assert_int_eq(pthread_create(&th[i], NULL, reader_main, &args[i]),
                         0);
    }
    for (int i = 1; i <= 1000; i++) {
        ck_assert_int_eq(link(i % 2 ? b : a, tmp), 0);
        ck_assert_int_eq(rename(tmp, path), 0);
        ck_assert_int_eq(ring_watch_check(w), 1);
    }
    unsigned long reads = 0;
    for (int i = 0; i < READERS; i++) {
        __atomic_store_n(&args[i].stop, 1, __ATOMIC_RELAXED);
        pthread_join(th[i], NULL);
        ck_assert_uint_eq(args[i].bad, 0);
        reads += args[i].reads;
    }
    ck_assert_uint_gt(reads, 0);
    ck_assert_uint_eq(ring_watch_reloads(w), 1000);
    rcu_register_thread();
    rcu_read_lock();
    ck_assert_uint_eq(ring_version(ring_watch_get(w)), 10);
    rcu_read_unlock();
    rcu_unregister_thread();
    ring_watch_free(w);
}
END_TEST

static Suite *ring_suite(void)
{
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("file");
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, file_round_trip);
    tcase_add_test(tc, write_leaves_no_temp_file);
    tcase_add_test(tc, write_rejects_bad_layouts);
    tcase_add_test(tc, load_rejects_truncation_at_every_length);
    tcase_add_test(tc, load_rejects_every_single_bit_flip);
    tcase_add_test(tc, load_names_what_is_wrong);
    suite_add_tcase(s, tc);

    tc = tcase_create("lookup");
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, primaries_are_distinct_and_in_row_order);
    tcase_add_test(tc, partition_matches_swift_doc_example);
    suite_add_tcase(s, tc);

    tc = tcase_create("handoff");
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, handoffs_equal_swift_small_ring);
    tcase_add_test(tc, handoffs_equal_swift_striding_walk);
    tcase_add_test(tc, handoffs_skip_partition_zero_like_swift);
    tcase_add_test(tc, partition_matches_swift_vectors);
    tcase_add_test(tc, partition_same_for_every_name_length);
    tcase_add_test(tc, handoff_properties);
    suite_add_tcase(s, tc);

    tc = tcase_create("watch");
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, watch_swaps_valid_and_keeps_old_on_bad);
    tcase_add_test(tc, watch_thread_picks_up_changes);
    tcase_add_test(tc, watch_reload_under_concurrent_readers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ring_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

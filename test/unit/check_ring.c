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

#include "common/err.h"
#include "common/hashpath.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "ring/ring.h"

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

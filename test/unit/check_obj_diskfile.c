/*
 * check_obj_diskfile.c - unit tests for objectd/obj_diskfile.h, on a
 * temporary devices directory.
 *
 * Each test builds its own devices root under /tmp (fork mode: one process
 * per test) and removes it at the end. The full-disk test mounts a 1 MiB
 * tmpfs inside a private mount namespace of the test process (as root, or
 * through an unprivileged user namespace), so nothing is left mounted when
 * the process exits.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/md5.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_diskfile.h"
#include "common/timestamp.h"

#define HASH_A "0123456789abcdef0123456789abcabc" /* suffix abc */
#define HASH_B "fedcba9876543210fedcba9876543def" /* suffix def */
#define PART 17
/* Tests use small timestamps (year 1970): a reclaim age beyond any "now"
 * keeps their tombstones until a test asks for reclaiming. */
#define TEST_RECLAIM 10000000000ULL

/* Made by main() before the tests fork and removed after they all ran, so
 * a failing test (whose process stops at the failed assertion) leaves
 * nothing behind either. */
static char base_dir[] = "/tmp/cairn-check-df-XXXXXX";

struct env {
    char root[128];
    struct obj_devices *d;
};

static void env_setup(struct env *e)
{
    snprintf(e->root, sizeof(e->root), "%s/XXXXXX", base_dir);
    ck_assert_ptr_nonnull(mkdtemp(e->root));
    char *dev = xasprintf("%s/sda", e->root);
    ck_assert_int_eq(mkdir(dev, 0755), 0);
    free(dev);
    struct obj_devices_opts o = {.root = e->root, .reclaim_age = TEST_RECLAIM};
    e->d = obj_devices_new(&o);
}

static void env_teardown(struct env *e)
{
    obj_devices_free(e->d);
    char *cmd = xasprintf("rm -rf '%s'", e->root);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

static struct ts ts_of(const char *s)
{
    struct ts t;
    ck_assert_int_eq(ts_parse(s, &t), 0);
    return t;
}

static json_t *meta_of(const char *json)
{
    json_error_t err;
    json_t *m = json_loads(json, 0, &err);
    ck_assert_msg(m != NULL, "bad test json: %s", err.text);
    return m;
}

/* PUTs a body in one chunk. Returns commit's (or an earlier) rc. */
static int put(struct env *e, const char *hash, const char *ts,
               const char *meta_json, const char *body, char etag[MD5_HEX_LEN])
{
    struct ts t = ts_of(ts);
    json_t *m = meta_of(meta_json);
    struct obj_df_writer *w;
    int rc = obj_df_create(e->d, "sda", PART, hash, &t, m, strlen(body), 0, &w);
    json_decref(m);
    if (rc)
        return rc;
    rc = obj_df_write(w, body, strlen(body));
    if (rc == 0)
        rc = obj_df_commit(w, NULL, etag);
    obj_df_writer_free(w);
    return rc;
}

static struct obj_df_reader *open_r(struct env *e, const char *hash, double now)
{
    struct obj_df_reader *r;
    ck_assert_int_eq(obj_df_open(e->d, "sda", PART, hash, now, &r), 0);
    ck_assert_ptr_nonnull(r);
    return r;
}

/* Reads the whole body through the verifying reader into a heap string. */
static char *read_all(struct obj_df_reader *r)
{
    const struct obj_df_info *in = obj_df_info(r);
    char *buf = xmalloc(in->content_length + 1);
    size_t off = 0;
    for (;;) {
        ssize_t n = obj_df_read(r, buf + off, 3); /* small reads on purpose */
        ck_assert_int_ge(n, 0);
        if (n == 0)
            break;
        off += (size_t)n;
    }
    ck_assert_uint_eq(off, in->content_length);
    buf[off] = '\0';
    return buf;
}

/* Names in a directory, sorted, joined by ' ' ("" when empty or missing). */
static char *ls(const char *path)
{
    DIR *dir = opendir(path);
    char *names[64];
    size_t n = 0;
    if (dir) {
        struct dirent *de;
        while ((de = readdir(dir)) != NULL && n < 64)
            if (de->d_name[0] != '.')
                names[n++] = xstrdup(de->d_name);
        closedir(dir);
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    char *out = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *nx = xasprintf("%s%s%s", out, i ? " " : "", names[i]);
        free(out);
        free(names[i]);
        out = nx;
    }
    return out;
}

static char *hash_dir(struct env *e, const char *hash)
{
    return xasprintf("%s/sda/objects/%d/%s/%s", e->root, PART, hash + 29, hash);
}

static void assert_ls(const char *path, const char *want)
{
    char *got = ls(path);
    ck_assert_msg(strcmp(got, want) == 0, "%s holds '%s', want '%s'", path, got,
                  want);
    free(got);
}

static void assert_tmp_empty(struct env *e)
{
    char *tmp = xasprintf("%s/sda/tmp", e->root);
    assert_ls(tmp, "");
    free(tmp);
}

static bool ts_zero(const struct ts *t)
{
    return t->units == 0 && t->offset == 0;
}

/* ------------------------------------------------------------ basics */

START_TEST(roundtrip_write_read)
{
    struct env e;
    env_setup(&e);
    struct ts t = ts_of("1389453423.35964");
    json_t *m = meta_of("{\"Content-Type\": \"text/plain\","
                        " \"X-Object-Meta-Color\": \"blue\","
                        " \"name\": \"/a/c/o\"}");
    struct obj_df_writer *w;
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, m, 0, 0, &w), 0);
    json_decref(m);
    ck_assert_int_eq(obj_df_write(w, "hello ", 6), 0);
    ck_assert_int_eq(obj_df_write(w, "", 0), 0);
    ck_assert_int_eq(obj_df_write(w, "world", 5), 0);
    ck_assert_uint_eq(obj_df_writer_bytes(w), 11);
    char etag[MD5_HEX_LEN];
    /* quoted, upper-case expected ETag is the same ETag */
    ck_assert_int_eq(
        obj_df_commit(w, "\"5EB63BBBE01EEED093CB22BB8F5ACDC3\"", etag), 0);
    ck_assert_str_eq(etag, "5eb63bbbe01eeed093cb22bb8f5acdc3");
    ck_assert_int_eq(obj_df_commit(w, NULL, NULL), -EINVAL);
    obj_df_writer_free(w);

    char *dir = hash_dir(&e, HASH_A);
    assert_ls(dir, "1389453423.35964.data");
    assert_tmp_empty(&e);

    struct obj_df_reader *r = open_r(&e, HASH_A, 0);
    const struct obj_df_info *in = obj_df_info(r);
    ck_assert_int_eq(in->state, OBJ_DF_EXISTS);
    ck_assert_uint_eq(in->content_length, 11);
    ck_assert_str_eq(in->etag, "5eb63bbbe01eeed093cb22bb8f5acdc3");
    ck_assert_int_eq(ts_cmp(&in->data_ts, &t), 0);
    ck_assert_int_eq(ts_cmp(&in->ts, &t), 0);
    ck_assert(ts_zero(&in->meta_ts));
    ck_assert(ts_zero(&in->ts_ts));
    ck_assert_str_eq(json_string_value(json_object_get(in->meta, "Content-Type")),
                     "text/plain");
    ck_assert_str_eq(
        json_string_value(json_object_get(in->meta, "X-Object-Meta-Color")),
        "blue");
    ck_assert_int_eq(in->delete_at, 0);

    char *body = read_all(r);
    ck_assert_str_eq(body, "hello world");
    ck_assert_int_eq(obj_df_read(r, body, 4), 0); /* stays at the end */
    free(body);

    char part[8] = {0};
    ck_assert_int_eq(obj_df_pread(r, part, 5, 6), 5);
    ck_assert_str_eq(part, "world");
    ck_assert_int_eq(obj_df_pread(r, part, 5, 11), 0);
    ck_assert_int_eq(obj_df_pread(r, part, 100, 9), 2);

    int fd;
    uint64_t off;
    ck_assert_int_eq(obj_df_body_fd(r, &fd, &off), 0);
    char raw[12] = {0};
    ck_assert_int_eq(pread(fd, raw, 11, (off_t)off), 11);
    ck_assert_str_eq(raw, "hello world");
    ck_assert_int_eq(obj_df_verify(r), 0);
    obj_df_reader_free(r);

    /* an object never written */
    r = open_r(&e, HASH_B, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_ABSENT);
    ck_assert_ptr_null(obj_df_info(r)->meta);
    ck_assert_int_eq(obj_df_read(r, raw, 1), -ENOENT);
    ck_assert_int_eq(obj_df_body_fd(r, &fd, &off), -ENOENT);
    obj_df_reader_free(r);
    free(dir);
    env_teardown(&e);
}
END_TEST

START_TEST(empty_body_roundtrip)
{
    struct env e;
    env_setup(&e);
    char etag[MD5_HEX_LEN];
    ck_assert_int_eq(put(&e, HASH_A, "0000000100.00000", "{}", "", etag), 0);
    ck_assert_str_eq(etag, "d41d8cd98f00b204e9800998ecf8427e");
    struct obj_df_reader *r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_EXISTS);
    ck_assert_uint_eq(obj_df_info(r)->content_length, 0);
    char c;
    ck_assert_int_eq(obj_df_read(r, &c, 1), 0);
    ck_assert_int_eq(obj_df_read(r, &c, 1), 0);
    obj_df_reader_free(r);
    env_teardown(&e);
}
END_TEST

static long vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    long v = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld kB", &v) == 1)
            break;
    fclose(f);
    return v;
}

START_TEST(large_streamed_write_keeps_memory_small)
{
    struct env e;
    env_setup(&e);
    enum { CHUNK = 64 * 1024, NCHUNK = 1024 }; /* 64 MiB */
    unsigned char *chunk = xmalloc(CHUNK);
    long hwm0 = vm_hwm_kib();
    struct ts t = ts_of("0000000200.00000");
    struct obj_df_writer *w;
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, NULL,
                                   (uint64_t)CHUNK * NCHUNK, 0, &w),
                     0);
    struct md5 m;
    md5_init(&m);
    for (unsigned i = 0; i < NCHUNK; i++) {
        for (unsigned j = 0; j < CHUNK; j += 4096)
            memset(chunk + j, (int)((i * 31 + j / 4096) & 0xff), 4096);
        md5_update(&m, chunk, CHUNK);
        ck_assert_int_eq(obj_df_write(w, chunk, CHUNK), 0);
    }
    char want[MD5_HEX_LEN], etag[MD5_HEX_LEN];
    md5_final_hex(&m, want);
    ck_assert_int_eq(obj_df_commit(w, want, etag), 0);
    obj_df_writer_free(w);
    ck_assert_str_eq(etag, want);

    struct obj_df_reader *r = open_r(&e, HASH_A, 0);
    ck_assert_uint_eq(obj_df_info(r)->content_length, (uint64_t)CHUNK * NCHUNK);
    md5_init(&m);
    uint64_t total = 0;
    for (;;) {
        ssize_t n = obj_df_read(r, chunk, CHUNK);
        ck_assert_int_ge(n, 0);
        if (n == 0)
            break;
        md5_update(&m, chunk, (size_t)n);
        total += (uint64_t)n;
    }
    ck_assert_uint_eq(total, (uint64_t)CHUNK * NCHUNK);
    char got[MD5_HEX_LEN];
    md5_final_hex(&m, got);
    ck_assert_str_eq(got, want);
    obj_df_reader_free(r);
    long grown = vm_hwm_kib() - hwm0;
    /* Writing and reading 64 MiB must not hold the body in memory. */
    ck_assert_msg(grown < 8 * 1024, "peak RSS grew by %ld KiB", grown);
    free(chunk);
    env_teardown(&e);
}
END_TEST

/* A body written as many pieces with writev (more than one writev's
 * worth, of uneven sizes, some empty) reads back whole, with its MD5. */
START_TEST(writev_pieces_roundtrip)
{
    struct env e;
    env_setup(&e);
    struct ts t = ts_of("0000000300.00000");
    enum { NP = 150 };
    static char data[NP * 300];
    struct iovec iov[NP];
    size_t at = 0;
    for (int i = 0; i < NP; i++) {
        size_t n = (size_t)(i % 7 == 3 ? 0 : (i * 37) % 300);
        for (size_t j = 0; j < n; j++)
            data[at + j] = (char)('a' + (at + j) % 26);
        iov[i].iov_base = data + at;
        iov[i].iov_len = n;
        at += n;
    }
    struct md5 m;
    unsigned char d[MD5_DIGEST_LEN];
    char want[MD5_HEX_LEN], got[MD5_HEX_LEN];
    md5_init(&m);
    md5_update(&m, data, at);
    md5_final(&m, d);
    hex_encode(d, MD5_DIGEST_LEN, want);
    struct obj_df_writer *w;
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, NULL, 0, 0, &w), 0);
    ck_assert_int_eq(obj_df_writev(w, iov, NP), 0);
    ck_assert_uint_eq(obj_df_writer_bytes(w), at);
    ck_assert_int_eq(obj_df_commit(w, want, got), 0);
    ck_assert_str_eq(got, want);
    obj_df_writer_free(w);
    struct obj_df_reader *r = open_r(&e, HASH_A, 0);
    char *b = read_all(r);
    ck_assert_uint_eq(strlen(b), at);
    ck_assert_int_eq(memcmp(b, data, at), 0);
    free(b);
    obj_df_reader_free(r);
    env_teardown(&e);
}
END_TEST

START_TEST(etag_mismatch_and_limits_store_nothing)
{
    struct env e;
    env_setup(&e);
    struct ts t = ts_of("0000000300.00000");
    struct obj_df_writer *w;
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, NULL, 0, 0, &w), 0);
    ck_assert_int_eq(obj_df_write(w, "abc", 3), 0);
    ck_assert_int_eq(obj_df_commit(w, "00000000000000000000000000000000", NULL),
                     -EBADMSG);
    assert_tmp_empty(&e);
    ck_assert_int_eq(obj_df_commit(w, NULL, NULL), -EBADMSG); /* sticky */
    obj_df_writer_free(w);
    char *objs = xasprintf("%s/sda/objects", e.root);
    assert_ls(objs, "");
    struct obj_df_reader *r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_ABSENT);
    obj_df_reader_free(r);

    /* max_size: the write that passes the limit fails, temp removed */
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, NULL, 0, 5, &w), 0);
    ck_assert_int_eq(obj_df_write(w, "12345", 5), 0);
    ck_assert_int_eq(obj_df_write(w, "6", 1), -EFBIG);
    assert_tmp_empty(&e);
    ck_assert_int_eq(obj_df_commit(w, NULL, NULL), -EFBIG);
    obj_df_writer_free(w);

    /* writev: the same limit, counted over all the pieces */
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, NULL, 0, 5, &w), 0);
    struct iovec over[2] = {{(void *)"123", 3}, {(void *)"456", 3}};
    ck_assert_int_eq(obj_df_writev(w, over, 2), -EFBIG);
    assert_tmp_empty(&e);
    obj_df_writer_free(w);

    /* abort: free without commit */
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, NULL, 0, 0, &w), 0);
    ck_assert_int_eq(obj_df_write(w, "x", 1), 0);
    obj_df_writer_free(w);
    assert_tmp_empty(&e);
    assert_ls(objs, "");

    /* bad arguments */
    json_t *bad = meta_of("{\"X-Object-Meta-N\": 5}");
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, bad, 0, 0, &w),
                     -EINVAL);
    json_decref(bad);
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, "ABC", &t, NULL, 0, 0, &w),
                     -EINVAL);
    json_t *latin = json_object();
    json_object_set_new(latin, "X-Object-Meta-L", json_string_nocheck("caf\xe9"));
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, latin, 0, 0, &w),
                     -EINVAL);
    json_decref(latin);
    json_t *utf = meta_of("{\"X-Object-Meta-U\": \"caf\u00e9 \u2603\"}");
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_B, &t, utf, 0, 0, &w), 0);
    json_decref(utf);
    ck_assert_int_eq(obj_df_commit(w, NULL, NULL), 0);
    obj_df_writer_free(w);
    struct obj_df_reader *ru = open_r(&e, HASH_B, 0);
    ck_assert_str_eq(json_string_value(json_object_get(obj_df_info(ru)->meta,
                                                       "X-Object-Meta-U")),
                     "caf\xc3\xa9 \xe2\x98\x83");
    obj_df_reader_free(ru);
    json_t *huge = json_object();
    char *big = xmalloc(OBJ_DF_META_MAX + 2);
    memset(big, 'x', OBJ_DF_META_MAX + 1);
    big[OBJ_DF_META_MAX + 1] = '\0';
    json_object_set_new(huge, "X-Object-Meta-Big", json_string(big));
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, huge, 0, 0, &w),
                     -E2BIG);
    json_decref(huge);
    free(big);
    assert_tmp_empty(&e);
    free(objs);
    env_teardown(&e);
}
END_TEST

START_TEST(newest_timestamp_wins)
{
    struct env e;
    env_setup(&e);
    char *dir = hash_dir(&e, HASH_A);
    ck_assert_int_eq(put(&e, HASH_A, "0000001000.00000", "{}", "one", NULL), 0);
    ck_assert_int_eq(put(&e, HASH_A, "0000002000.00000", "{}", "two", NULL), 0);
    assert_ls(dir, "0000002000.00000.data");
    struct obj_df_reader *r = open_r(&e, HASH_A, 0);
    char *b = read_all(r);
    ck_assert_str_eq(b, "two");
    free(b);
    /* what a caller needs to refuse an older or equal PUT */
    struct ts older = ts_of("1500"), same = ts_of("2000");
    ck_assert_int_ge(ts_cmp(&obj_df_info(r)->data_ts, &older), 0);
    ck_assert_int_ge(ts_cmp(&obj_df_info(r)->data_ts, &same), 0);
    obj_df_reader_free(r);

    /* an older write that lands anyway (a race) never wins */
    ck_assert_int_eq(put(&e, HASH_A, "0000001500.00000", "{}", "old", NULL), 0);
    assert_ls(dir, "0000002000.00000.data");
    /* an offset beats the same time */
    ck_assert_int_eq(put(&e, HASH_A, "0000002000.00000_0000000000000001", "{}", "off",
                         NULL),
                     0);
    assert_ls(dir, "0000002000.00000_0000000000000001.data");

    /* a reader keeps the version it opened while a newer one lands */
    r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(put(&e, HASH_A, "0000003000.00000", "{}", "three", NULL), 0);
    b = read_all(r);
    ck_assert_str_eq(b, "off");
    free(b);
    obj_df_reader_free(r);
    r = open_r(&e, HASH_A, 0);
    b = read_all(r);
    ck_assert_str_eq(b, "three");
    free(b);
    obj_df_reader_free(r);
    free(dir);
    env_teardown(&e);
}
END_TEST

START_TEST(tombstone_hides_data)
{
    struct env e;
    env_setup(&e);
    char *dir = hash_dir(&e, HASH_A);
    ck_assert_int_eq(put(&e, HASH_A, "0000001000.00000", "{}", "data", NULL), 0);
    struct ts t2 = ts_of("0000002000.00000");
    json_t *tm = meta_of("{\"X-Timestamp\": \"0000002000.00000\"}");
    ck_assert_int_eq(obj_df_delete(e.d, "sda", PART, HASH_A, &t2, tm), 0);
    json_decref(tm);
    assert_ls(dir, "0000002000.00000.ts");
    struct obj_df_reader *r = open_r(&e, HASH_A, 0);
    const struct obj_df_info *in = obj_df_info(r);
    ck_assert_int_eq(in->state, OBJ_DF_DELETED);
    ck_assert_int_eq(ts_cmp(&in->ts_ts, &t2), 0);
    ck_assert(ts_zero(&in->data_ts));
    ck_assert_str_eq(json_string_value(json_object_get(in->meta, "X-Timestamp")),
                     "0000002000.00000");
    char c;
    ck_assert_int_eq(obj_df_read(r, &c, 1), -ENOENT);
    obj_df_reader_free(r);

    /* an older tombstone changes nothing; an equal-time data loses */
    struct ts t1 = ts_of("1500");
    ck_assert_int_eq(obj_df_delete(e.d, "sda", PART, HASH_A, &t1, NULL), 0);
    ck_assert_int_eq(put(&e, HASH_A, "0000002000.00000", "{}", "tie", NULL), 0);
    assert_ls(dir, "0000002000.00000.ts");

    /* a newer PUT brings it back and removes the tombstone */
    ck_assert_int_eq(put(&e, HASH_A, "0000003000.00000", "{}", "back", NULL), 0);
    assert_ls(dir, "0000003000.00000.data");
    r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_EXISTS);
    obj_df_reader_free(r);

    /* a DELETE of an object never stored still leaves a tombstone */
    struct ts t4 = ts_of("4000");
    ck_assert_int_eq(obj_df_delete(e.d, "sda", PART, HASH_B, &t4, NULL), 0);
    r = open_r(&e, HASH_B, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_DELETED);
    obj_df_reader_free(r);
    free(dir);
    env_teardown(&e);
}
END_TEST

static const char *mget(const struct obj_df_info *in, const char *k)
{
    return json_string_value(json_object_get(in->meta, k));
}

START_TEST(meta_overlays_and_is_replaced)
{
    struct env e;
    env_setup(&e);
    char *dir = hash_dir(&e, HASH_A);
    ck_assert_int_eq(put(&e, HASH_A, "0000001000.00000",
                         "{\"Content-Type\": \"text/plain\","
                         " \"Content-Encoding\": \"gzip\","
                         " \"X-Object-Meta-A\": \"1\","
                         " \"X-Object-Sysmeta-S\": \"sys\","
                         " \"X-Static-Large-Object\": \"True\"}",
                         "body", NULL),
                     0);
    /* POST: user metadata and allowed headers replaced, sysmeta kept */
    struct ts t2 = ts_of("0000002000.00000");
    json_t *m = meta_of("{\"X-Object-Meta-B\": \"2\","
                        " \"X-Object-Sysmeta-S\": \"forged\","
                        " \"ETag\": \"forged\"}");
    ck_assert_int_eq(obj_df_post(e.d, "sda", PART, HASH_A, &t2, m), 0);
    json_decref(m);
    assert_ls(dir, "0000001000.00000.data 0000002000.00000.meta");
    struct obj_df_reader *r = open_r(&e, HASH_A, 0);
    const struct obj_df_info *in = obj_df_info(r);
    ck_assert_int_eq(in->state, OBJ_DF_EXISTS);
    ck_assert_str_eq(mget(in, "X-Object-Meta-B"), "2");
    ck_assert_ptr_null(mget(in, "X-Object-Meta-A"));
    ck_assert_ptr_null(mget(in, "Content-Encoding"));
    ck_assert_str_eq(mget(in, "X-Object-Sysmeta-S"), "sys");
    ck_assert_str_eq(mget(in, "X-Static-Large-Object"), "True");
    ck_assert_str_eq(mget(in, "Content-Type"), "text/plain");
    ck_assert_ptr_null(mget(in, "ETag"));
    ck_assert_int_eq(ts_cmp(&in->ts, &t2), 0);
    ck_assert_int_eq(ts_cmp(&in->meta_ts, &t2), 0);
    ck_assert_str_eq(in->etag, "841a2d689ad86bd1611447453c22c6fc");
    char *b = read_all(r);
    ck_assert_str_eq(b, "body");
    free(b);
    obj_df_reader_free(r);

    /* a POST with a Content-Type changes it; the next POST without one
     * keeps it; each .meta replaces the one before */
    struct ts t3 = ts_of("0000003000.00000");
    m = meta_of("{\"Content-Type\": \"image/png\"}");
    ck_assert_int_eq(obj_df_post(e.d, "sda", PART, HASH_A, &t3, m), 0);
    json_decref(m);
    struct ts t4 = ts_of("0000004000.00000");
    m = meta_of("{\"X-Object-Meta-C\": \"3\"}");
    ck_assert_int_eq(obj_df_post(e.d, "sda", PART, HASH_A, &t4, m), 0);
    json_decref(m);
    assert_ls(dir, "0000001000.00000.data 0000004000.00000.meta");
    r = open_r(&e, HASH_A, 0);
    in = obj_df_info(r);
    ck_assert_str_eq(mget(in, "Content-Type"), "image/png");
    ck_assert_str_eq(mget(in, "X-Object-Meta-C"), "3");
    ck_assert_ptr_null(mget(in, "X-Object-Meta-B"));
    ck_assert_ptr_null(mget(in, "Content-Type-Timestamp"));
    obj_df_reader_free(r);

    /* an older .meta than the applied one never wins */
    struct ts t35 = ts_of("3500");
    m = meta_of("{\"X-Object-Meta-Old\": \"x\"}");
    ck_assert_int_eq(obj_df_post(e.d, "sda", PART, HASH_A, &t35, m), 0);
    json_decref(m);
    assert_ls(dir, "0000001000.00000.data 0000004000.00000.meta");

    /* a newer PUT wipes the .meta and its Content-Type */
    ck_assert_int_eq(put(&e, HASH_A, "0000005000.00000",
                         "{\"Content-Type\": \"text/csv\"}", "new", NULL),
                     0);
    assert_ls(dir, "0000005000.00000.data");
    r = open_r(&e, HASH_A, 0);
    in = obj_df_info(r);
    ck_assert_str_eq(mget(in, "Content-Type"), "text/csv");
    ck_assert_ptr_null(mget(in, "X-Object-Meta-C"));
    ck_assert(ts_zero(&in->meta_ts));
    obj_df_reader_free(r);
    free(dir);
    env_teardown(&e);
}
END_TEST

START_TEST(cleanup_keeps_only_what_wins)
{
    struct env e;
    env_setup(&e);
    char *dir = hash_dir(&e, HASH_A);
    ck_assert_int_eq(put(&e, HASH_A, "0000001000.00000", "{}", "a", NULL), 0);
    struct ts t = ts_of("2000");
    json_t *m = meta_of("{}");
    ck_assert_int_eq(obj_df_post(e.d, "sda", PART, HASH_A, &t, m), 0);
    assert_ls(dir, "0000001000.00000.data 0000002000.00000.meta");
    /* a tombstone newer than the .data but older than the .meta: the .meta
     * stays (a stray, reclaimed later), the object reads as deleted */
    t = ts_of("1500");
    ck_assert_int_eq(obj_df_delete(e.d, "sda", PART, HASH_A, &t, NULL), 0);
    assert_ls(dir, "0000001500.00000.ts 0000002000.00000.meta");
    struct obj_df_reader *r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_DELETED);
    obj_df_reader_free(r);
    /* a newer tombstone removes both */
    t = ts_of("2500");
    ck_assert_int_eq(obj_df_delete(e.d, "sda", PART, HASH_A, &t, NULL), 0);
    assert_ls(dir, "0000002500.00000.ts");
    /* files left by a crash before cleanup do not change what readers see:
     * plant an obsolete .data by hand (a copy of a real file) */
    ck_assert_int_eq(put(&e, HASH_B, "0000000100.00000", "{}", "zzz", NULL), 0);
    char *bdir = hash_dir(&e, HASH_B);
    char *cmd = xasprintf("cp %s/0000000100.00000.data %s/0000001000.00000.data", bdir, dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_DELETED);
    obj_df_reader_free(r);
    assert_ls(dir, "0000001000.00000.data 0000002500.00000.ts"); /* readers never delete */
    /* an unknown file is left alone */
    char *junk = xasprintf("%s/notes.txt", dir);
    ck_assert_int_eq(file_write_atomic(junk, "x", 1), 0);
    t = ts_of("2600");
    ck_assert_int_eq(obj_df_post(e.d, "sda", PART, HASH_A, &t, m), 0);
    assert_ls(dir, "0000002500.00000.ts 0000002600.00000.meta notes.txt");
    json_decref(m);
    free(junk);
    free(bdir);
    free(dir);
    env_teardown(&e);
}
END_TEST

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    ck_assert_int_ne(fd, -1);
    unsigned char c;
    ck_assert_int_eq(pread(fd, &c, 1, off), 1);
    c ^= 0x20;
    ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

START_TEST(corrupt_body_is_quarantined)
{
    struct env e;
    env_setup(&e);
    char *dir = hash_dir(&e, HASH_A);
    char body[1000];
    memset(body, 'q', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    ck_assert_int_eq(put(&e, HASH_A, "0000001000.00000", "{}", body, NULL), 0);
    char *file = xasprintf("%s/0000001000.00000.data", dir);
    struct stat st;
    ck_assert_int_eq(stat(file, &st), 0);
    flip_byte(file, st.st_size - 500); /* a byte in the middle of the body */

    struct obj_df_reader *r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_EXISTS);
    char buf[400];
    size_t got = 0;
    ssize_t n;
    while ((n = obj_df_read(r, buf, sizeof(buf))) > 0)
        got += (size_t)n;
    /* the bytes that would complete the body are never handed out */
    ck_assert_int_eq(n, -EUCLEAN);
    ck_assert_uint_lt(got, sizeof(body) - 1);
    ck_assert_int_eq(obj_df_read(r, buf, sizeof(buf)), -EUCLEAN);
    obj_df_reader_free(r);
    ck_assert_int_eq(access(dir, F_OK), -1);
    char *q = xasprintf("%s/sda/quarantined/objects/%s", e.root, HASH_A);
    assert_ls(q, "0000001000.00000.data");
    r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_ABSENT);
    obj_df_reader_free(r);

    /* the auditor's check, and a second quarantine of the same hash */
    ck_assert_int_eq(put(&e, HASH_A, "0000002000.00000", "{}", body, NULL), 0);
    free(file);
    file = xasprintf("%s/0000002000.00000.data", dir);
    flip_byte(file, st.st_size - 1);
    r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(obj_df_verify(r), -EUCLEAN);
    obj_df_reader_free(r);
    char *qroot = xasprintf("%s/sda/quarantined/objects", e.root);
    char *names = ls(qroot);
    ck_assert_msg(strncmp(names, HASH_A " " HASH_A "-", 66) == 0, "%s", names);
    free(names);

    /* a damaged header or a truncated file never opens */
    ck_assert_int_eq(put(&e, HASH_A, "0000003000.00000", "{}", body, NULL), 0);
    free(file);
    file = xasprintf("%s/0000003000.00000.data", dir);
    flip_byte(file, 64); /* the metadata JSON "{}" starts at 64 */
    r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_ABSENT);
    obj_df_reader_free(r);
    ck_assert_int_eq(access(dir, F_OK), -1);
    ck_assert_int_eq(put(&e, HASH_A, "0000004000.00000", "{}", body, NULL), 0);
    free(file);
    file = xasprintf("%s/0000004000.00000.data", dir);
    ck_assert_int_eq(truncate(file, st.st_size - 1), 0);
    r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_ABSENT);
    obj_df_reader_free(r);

    /* explicit quarantine */
    ck_assert_int_eq(put(&e, HASH_A, "0000005000.00000", "{}", "x", NULL), 0);
    ck_assert_int_eq(obj_df_quarantine(e.d, "sda", PART, HASH_A), 0);
    ck_assert_int_eq(obj_df_quarantine(e.d, "sda", PART, HASH_A), -ENOENT);
    free(qroot);
    free(q);
    free(file);
    free(dir);
    env_teardown(&e);
}
END_TEST

START_TEST(expired_objects_read_as_gone)
{
    struct env e;
    env_setup(&e);
    ck_assert_int_eq(put(&e, HASH_A, "0000001000.00000", "{\"X-Delete-At\": \"5000\"}",
                         "x", NULL),
                     0);
    struct obj_df_reader *r = open_r(&e, HASH_A, 4999.9);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_EXISTS);
    ck_assert_int_eq(obj_df_info(r)->delete_at, 5000);
    obj_df_reader_free(r);
    r = open_r(&e, HASH_A, 5000);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_EXPIRED);
    ck_assert_int_eq(obj_df_info(r)->delete_at, 5000);
    ck_assert_ptr_nonnull(obj_df_info(r)->meta); /* for DELETE / the expirer */
    obj_df_reader_free(r);
    /* a POST without X-Delete-At removes the expiry, as in Swift */
    struct ts t = ts_of("2000");
    json_t *m = meta_of("{}");
    ck_assert_int_eq(obj_df_post(e.d, "sda", PART, HASH_A, &t, m), 0);
    json_decref(m);
    r = open_r(&e, HASH_A, 6000);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_EXISTS);
    ck_assert_int_eq(obj_df_info(r)->delete_at, 0);
    obj_df_reader_free(r);
    env_teardown(&e);
}
END_TEST

/* ------------------------------------------------------------ disk faults */

START_TEST(missing_device_is_enodev)
{
    struct env e;
    env_setup(&e);
    struct ts t = ts_of("1000");
    struct obj_df_writer *w = NULL;
    struct obj_df_reader *r = NULL;
    ck_assert_int_eq(obj_devices_check(e.d, "sda"), 0);
    ck_assert_int_eq(obj_devices_check(e.d, "sdz"), -ENODEV);
    ck_assert_int_eq(obj_df_create(e.d, "sdz", PART, HASH_A, &t, NULL, 0, 0, &w),
                     -ENODEV);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(obj_df_open(e.d, "sdz", PART, HASH_A, 0, &r), -ENODEV);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(obj_df_delete(e.d, "sdz", PART, HASH_A, &t, NULL), -ENODEV);
    size_t n;
    struct obj_df_suffix_hash *h;
    ck_assert_int_eq(obj_df_suffix_hashes(e.d, "sdz", PART, 0, &h, &n), -ENODEV);
    ck_assert_int_eq(obj_df_cleanup_device(e.d, "sdz", 0, NULL), -ENODEV);
    ck_assert_int_eq(obj_devices_check(e.d, ".."), -EINVAL);
    ck_assert_int_eq(obj_devices_check(e.d, "a/b"), -EINVAL);
    ck_assert_int_eq(obj_devices_check(e.d, ""), -EINVAL);
    /* a file where the device should be */
    char *f = xasprintf("%s/sdf", e.root);
    ck_assert_int_eq(file_write_atomic(f, "x", 1), 0);
    ck_assert_int_eq(obj_devices_check(e.d, "sdf"), -ENODEV);
    free(f);

    /* mount_check: a plain directory is not a mount point */
    struct obj_devices_opts o = {.root = e.root, .mount_check = true};
    struct obj_devices *mc = obj_devices_new(&o);
    ck_assert_int_eq(obj_devices_check(mc, "sda"), -ENODEV);
    ck_assert_int_eq(obj_df_create(mc, "sda", PART, HASH_A, &t, NULL, 0, 0, &w),
                     -ENODEV);
    obj_devices_free(mc);
    /* "/" has "/proc" mounted under it on any Linux: a mount point */
    o.root = "/";
    mc = obj_devices_new(&o);
    ck_assert_int_eq(obj_devices_check(mc, "proc"), 0);
    obj_devices_free(mc);

    /* the device disappears between create and commit */
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, NULL, 0, 0, &w), 0);
    ck_assert_int_eq(obj_df_write(w, "abc", 3), 0);
    char *cmd = xasprintf("rm -rf %s/sda", e.root);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    int rc = obj_df_commit(w, NULL, NULL);
    ck_assert_msg(rc == -ENODEV || rc == -ENOENT, "commit gave %d", rc);
    obj_df_writer_free(w);
    env_teardown(&e);
}
END_TEST

/* Puts this process in a private mount namespace (as root directly,
 * otherwise through a user namespace). Returns false if neither works. */
static bool private_mounts(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWNS) != 0) {
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
            return false;
        char *map = xasprintf("0 %u 1", (unsigned)uid);
        int ok = 1;
        ok &= file_write_atomic("/proc/self/setgroups", "deny", 4) == 0 ||
              errno == ENOENT;
        int fd = open("/proc/self/uid_map", O_WRONLY);
        ok &= fd != -1 && write(fd, map, strlen(map)) > 0;
        if (fd != -1)
            close(fd);
        free(map);
        map = xasprintf("0 %u 1", (unsigned)gid);
        fd = open("/proc/self/gid_map", O_WRONLY);
        ok &= fd != -1 && write(fd, map, strlen(map)) > 0;
        if (fd != -1)
            close(fd);
        free(map);
        if (!ok)
            return false;
    }
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

START_TEST(full_disk_is_enospc_and_leaves_nothing)
{
    struct env e;
    env_setup(&e);
    char *dev = xasprintf("%s/sda", e.root);
    if (!private_mounts() ||
        mount("tmpfs", dev, "tmpfs", 0, "size=1m,mode=0755") != 0) {
        /* Neither root nor user namespaces: nothing to test here. */
        fprintf(stderr, "full_disk test: cannot mount a tmpfs, not run\n");
        free(dev);
        env_teardown(&e);
        return;
    }
    struct ts t = ts_of("1000");
    struct obj_df_writer *w;
    /* streaming past the end of the disk */
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, NULL, 0, 0, &w), 0);
    char chunk[64 * 1024];
    memset(chunk, 'f', sizeof(chunk));
    int rc = 0;
    for (int i = 0; i < 64 && rc == 0; i++)
        rc = obj_df_write(w, chunk, sizeof(chunk));
    ck_assert_int_eq(rc, -ENOSPC);
    assert_tmp_empty(&e);
    ck_assert_int_eq(obj_df_commit(w, NULL, NULL), -ENOSPC);
    obj_df_writer_free(w);
    struct obj_df_reader *r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_ABSENT);
    obj_df_reader_free(r);
    /* a size hint larger than the disk fails before the body streams */
    ck_assert_int_eq(
        obj_df_create(e.d, "sda", PART, HASH_A, &t, NULL, 4 << 20, 0, &w),
        -ENOSPC);
    assert_tmp_empty(&e);
    /* the space came back: a small object still fits */
    ck_assert_int_eq(put(&e, HASH_A, "0000002000.00000", "{}", "small", NULL), 0);
    r = open_r(&e, HASH_A, 0);
    char *b = read_all(r);
    ck_assert_str_eq(b, "small");
    free(b);
    obj_df_reader_free(r);
    umount(dev); /* the namespace would drop it anyway at exit */
    free(dev);
    env_teardown(&e);
}
END_TEST

START_TEST(startup_cleanup_removes_crash_leftovers)
{
    struct env e;
    env_setup(&e);
    /* a writer whose process dies mid-body */
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        struct ts t = ts_of("1000");
        struct obj_df_writer *w;
        if (obj_df_create(e.d, "sda", PART, HASH_A, &t, NULL, 0, 0, &w) != 0 ||
            obj_df_write(w, "partial", 7) != 0)
            _exit(1);
        _exit(0); /* no commit, no free: as kill -9 would leave it */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *tmp = xasprintf("%s/sda/tmp", e.root);
    char *left = ls(tmp);
    ck_assert_str_ne(left, "");
    free(left);
    struct obj_df_reader *r = open_r(&e, HASH_A, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_ABSENT); /* never visible */
    obj_df_reader_free(r);

    /* a young temp file survives an age limit, an old one does not */
    size_t n = 99;
    ck_assert_int_eq(obj_df_cleanup_device(e.d, "sda", 3600, &n), 0);
    ck_assert_uint_eq(n, 0);
    left = ls(tmp);
    char *path = xasprintf("%s/%s", tmp, left);
    struct timespec old[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, old, 0), 0);
    free(path);
    free(left);

    /* empty directories left between mkdir and rename */
    char *empty = xasprintf("%s/sda/objects/9/abc/%s", e.root, HASH_A);
    ck_assert_int_eq(mkdir_p(empty), 0);
    ck_assert_int_eq(put(&e, HASH_B, "0000001000.00000", "{}", "keep", NULL), 0);

    ck_assert_int_eq(obj_df_cleanup_device(e.d, "sda", 3600, &n), 0);
    ck_assert_uint_eq(n, 1);
    assert_tmp_empty(&e);
    char *objs = xasprintf("%s/sda/objects", e.root);
    char *want = xasprintf("%d", PART);
    assert_ls(objs, want); /* partition 9 is gone, PART holds HASH_B */
    r = open_r(&e, HASH_B, 0);
    ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_EXISTS);
    obj_df_reader_free(r);

    /* max_age 0 removes every temp file, however young */
    struct ts t = ts_of("2000");
    struct obj_df_writer *w;
    ck_assert_int_eq(obj_df_create(e.d, "sda", PART, HASH_A, &t, NULL, 0, 0, &w), 0);
    ck_assert_int_eq(obj_df_cleanup_device(e.d, "sda", 0, &n), 0);
    ck_assert_uint_eq(n, 1);
    obj_df_writer_free(w);
    free(want);
    free(objs);
    free(empty);
    free(tmp);
    env_teardown(&e);
}
END_TEST

/*
 * Fails each system call of a PUT in turn (then of a DELETE and a POST) and
 * checks that the error is reported, no temp file remains, and the object
 * reads either as before or, complete, as after: never anything else.
 */
static void drop_log(enum log_level level, const char *component,
                     const char *txn, const char *msg, void *arg)
{
    (void)level, (void)component, (void)txn, (void)msg, (void)arg;
}

static void fault_loop(int inject, int want_rc)
{
    struct env e;
    env_setup(&e);
    log_set_sink(drop_log, NULL); /* the ERR lines are the expected ones */
    unsigned long n;
    for (n = 1; n < 200; n++) {
        char *dir = xasprintf("%s/sda/objects", e.root);
        char *cmd = xasprintf("rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
        free(cmd);
        free(dir);
        ck_assert_int_eq(put(&e, HASH_A, "0000001000.00000", "{}", "old", NULL), 0);

        obj_df_fail_after(n, inject);
        int rc = put(&e, HASH_A, "0000002000.00000", "{}", "new!", NULL);
        obj_df_fail_after(0, 0);
        assert_tmp_empty(&e);
        struct obj_df_reader *r = open_r(&e, HASH_A, 0);
        ck_assert_int_eq(obj_df_info(r)->state, OBJ_DF_EXISTS);
        char *b = read_all(r);
        if (rc == 0) {
            ck_assert_str_eq(b, "new!");
        } else {
            ck_assert_msg(rc == want_rc, "call %lu: rc %d", n, rc);
            ck_assert_msg(strcmp(b, "old") == 0 || strcmp(b, "new!") == 0,
                          "call %lu: read '%s'", n, b);
        }
        free(b);
        obj_df_reader_free(r);
        if (rc == 0)
            break;
    }
    ck_assert_uint_gt(n, 8); /* the loop really went through the calls */
    ck_assert_uint_lt(n, 200);

    for (n = 1; n < 200; n++) {
        struct ts t = ts_of("3000");
        obj_df_fail_after(n, inject);
        int rc = obj_df_delete(e.d, "sda", PART, HASH_A, &t, NULL);
        obj_df_fail_after(0, 0);
        assert_tmp_empty(&e);
        struct obj_df_reader *r = open_r(&e, HASH_A, 0);
        enum obj_df_state st = obj_df_info(r)->state;
        obj_df_reader_free(r);
        if (rc == 0) {
            ck_assert_int_eq(st, OBJ_DF_DELETED);
            break;
        }
        ck_assert_int_eq(rc, want_rc);
        ck_assert(st == OBJ_DF_EXISTS || st == OBJ_DF_DELETED);
    }
    ck_assert_uint_lt(n, 200);
    env_teardown(&e);
}

START_TEST(injected_io_errors_leave_old_or_new)
{
    fault_loop(EIO, -EIO);
}
END_TEST

START_TEST(injected_quota_errors_are_enospc)
{
    fault_loop(EDQUOT, -ENOSPC);
}
END_TEST

/* ------------------------------------------------------------ replication */

static const struct obj_df_suffix_hash *find_suffix(
    const struct obj_df_suffix_hash *h, size_t n, const char *suffix)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i].suffix, suffix) == 0)
            return &h[i];
    return NULL;
}

START_TEST(suffix_hashes_follow_changes)
{
    struct env e;
    env_setup(&e);
    struct obj_df_suffix_hash *h;
    size_t n;
    ck_assert_int_eq(obj_df_suffix_hashes(e.d, "sda", PART, 0, &h, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(h);

    ck_assert_int_eq(put(&e, HASH_A, "0000001000.00000", "{}", "a", NULL), 0);
    ck_assert_int_eq(put(&e, HASH_B, "0000001000.00000", "{}", "b", NULL), 0);
    ck_assert_int_eq(obj_df_suffix_hashes(e.d, "sda", PART, 0, &h, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(h[0].suffix, "abc"); /* sorted */
    ck_assert_str_eq(h[1].suffix, "def");
    /* Swift's value: md5 of "<internal ts><ext>" of the files in effect */
    unsigned char dg[MD5_DIGEST_LEN];
    char want[MD5_HEX_LEN];
    md5_digest("0000001000.00000.data", 21, dg);
    hex_encode(dg, MD5_DIGEST_LEN, want);
    ck_assert_str_eq(h[0].md5, want);
    char before[MD5_HEX_LEN];
    memcpy(before, h[0].md5, MD5_HEX_LEN);
    char other[MD5_HEX_LEN];
    memcpy(other, h[1].md5, MD5_HEX_LEN);
    free(h);

    /* a POST changes the suffix of that object, not the other */
    struct ts t = ts_of("2000");
    json_t *m = meta_of("{}");
    ck_assert_int_eq(obj_df_post(e.d, "sda", PART, HASH_A, &t, m), 0);
    json_decref(m);
    ck_assert_int_eq(obj_df_suffix_hashes(e.d, "sda", PART, 0, &h, &n), 0);
    ck_assert_str_ne(find_suffix(h, n, "abc")->md5, before);
    ck_assert_str_eq(find_suffix(h, n, "def")->md5, other);
    struct md5 mm;
    md5_init(&mm);
    md5_update(&mm, "0000002000.00000.meta0000001000.00000.data", 42);
    md5_final_hex(&mm, want);
    ck_assert_str_eq(find_suffix(h, n, "abc")->md5, want);
    memcpy(before, find_suffix(h, n, "abc")->md5, MD5_HEX_LEN);
    free(h);

    /* unchanged disk, unchanged hashes */
    ck_assert_int_eq(obj_df_suffix_hashes(e.d, "sda", PART, 0, &h, &n), 0);
    ck_assert_str_eq(find_suffix(h, n, "abc")->md5, before);
    free(h);

    /* a DELETE changes it again; after reclaim_age the tombstone, the hash
     * directory and the empty suffix go away */
    t = ts_of("3000");
    ck_assert_int_eq(obj_df_delete(e.d, "sda", PART, HASH_A, &t, NULL), 0);
    ck_assert_int_eq(obj_df_suffix_hashes(e.d, "sda", PART, 3001, &h, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_ne(find_suffix(h, n, "abc")->md5, before);
    free(h);
    ck_assert_int_eq(obj_df_suffix_hashes(
                         e.d, "sda", PART, 3000.0 + (double)TEST_RECLAIM + 1,
                         &h, &n),
                     0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(h[0].suffix, "def");
    free(h);
    char *sdir = xasprintf("%s/sda/objects/%d/abc", e.root, PART);
    ck_assert_int_eq(access(sdir, F_OK), -1);
    free(sdir);
    /* another partition is independent */
    ck_assert_int_eq(obj_df_suffix_hashes(e.d, "sda", PART + 1, 0, &h, &n), 0);
    ck_assert_uint_eq(n, 0);
    env_teardown(&e);
}
END_TEST

static int put_in(struct env *e, uint32_t part, const char *hash,
                  const char *body)
{
    struct ts t = ts_of("1000");
    struct obj_df_writer *w;
    int rc = obj_df_create(e->d, "sda", part, hash, &t, NULL, 0, 0, &w);
    if (rc)
        return rc;
    rc = obj_df_write(w, body, strlen(body));
    if (rc == 0)
        rc = obj_df_commit(w, NULL, NULL);
    obj_df_writer_free(w);
    return rc;
}

struct walk_log {
    struct env *e;
    char text[1024];
    int calls;
    int stop_after; /* 0: never */
    int verify;     /* open + verify each, as the auditor would */
};

static int walk_cb(uint32_t part, const char *suffix, const char *hash,
                   void *arg)
{
    struct walk_log *l = arg;
    size_t len = strlen(l->text);
    snprintf(l->text + len, sizeof(l->text) - len, "%s%u/%s/%.4s", len ? " " : "",
             (unsigned)part, suffix, hash);
    if (l->verify) {
        struct obj_df_reader *r;
        ck_assert_int_eq(obj_df_open(l->e->d, "sda", part, hash, 0, &r), 0);
        if (obj_df_info(r)->state == OBJ_DF_EXISTS)
            l->verify += obj_df_verify(r) == -EUCLEAN ? 1 : 0;
        obj_df_reader_free(r);
    }
    if (l->stop_after && ++l->calls == l->stop_after)
        return 7;
    return 0;
}

START_TEST(walk_lists_partitions_and_hashes)
{
    struct env e;
    env_setup(&e);
    ck_assert_int_eq(put_in(&e, 200, "11111111111111111111111111111abc", "a"), 0);
    ck_assert_int_eq(put_in(&e, 3, "22222222222222222222222222222def", "b"), 0);
    ck_assert_int_eq(put_in(&e, 17, "33333333333333333333333333333def", "c"), 0);
    ck_assert_int_eq(put_in(&e, 17, "44444444444444444444444444444abc", "d"), 0);
    ck_assert_int_eq(put_in(&e, 17, "55555555555555555555555555555abc", "e"), 0);
    /* things the walk must skip */
    char *junk = xasprintf("%s/sda/objects/junk", e.root);
    ck_assert_int_eq(mkdir_p(junk), 0);
    free(junk);
    junk = xasprintf("%s/sda/objects/17/hashes.pkl", e.root);
    ck_assert_int_eq(file_write_atomic(junk, "x", 1), 0);
    free(junk);
    junk = xasprintf("%s/sda/objects/17/abc/not-a-hash", e.root);
    ck_assert_int_eq(mkdir_p(junk), 0);
    free(junk);

    uint32_t *parts;
    size_t n;
    ck_assert_int_eq(obj_df_partitions(e.d, "sda", &parts, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(parts[0], 3);
    ck_assert_uint_eq(parts[1], 17);
    ck_assert_uint_eq(parts[2], 200);
    free(parts);

    struct walk_log l = {.e = &e};
    ck_assert_int_eq(obj_df_walk(e.d, "sda", NULL, NULL, walk_cb, &l), 0);
    ck_assert_str_eq(l.text, "3/def/2222 17/abc/4444 17/abc/5555 17/def/3333 "
                             "200/abc/1111");
    uint32_t p17 = 17;
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(obj_df_walk(e.d, "sda", &p17, NULL, walk_cb, &l), 0);
    ck_assert_str_eq(l.text, "17/abc/4444 17/abc/5555 17/def/3333");
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(obj_df_walk(e.d, "sda", NULL, "abc", walk_cb, &l), 0);
    ck_assert_str_eq(l.text, "17/abc/4444 17/abc/5555 200/abc/1111");
    memset(&l, 0, sizeof(l));
    l.stop_after = 2;
    ck_assert_int_eq(obj_df_walk(e.d, "sda", NULL, NULL, walk_cb, &l), 7);
    ck_assert_str_eq(l.text, "3/def/2222 17/abc/4444");
    ck_assert_int_eq(obj_df_walk(e.d, "sda", NULL, "ABC", walk_cb, &l), -EINVAL);
    ck_assert_int_eq(obj_df_walk(e.d, "sdz", NULL, NULL, walk_cb, &l), -ENODEV);
    uint32_t p9 = 9;
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(obj_df_walk(e.d, "sda", &p9, NULL, walk_cb, &l), 0);
    ck_assert_str_eq(l.text, "");

    /* an auditor pass: verify each, the corrupt one is quarantined and the
     * walk goes on */
    char *file = xasprintf("%s/sda/objects/17/abc/44444444444444444444444444444abc/"
                           "0000001000.00000.data",
                           e.root);
    struct stat st;
    ck_assert_int_eq(stat(file, &st), 0);
    flip_byte(file, st.st_size - 1);
    free(file);
    memset(&l, 0, sizeof(l));
    l.e = &e;
    l.verify = 1;
    ck_assert_int_eq(obj_df_walk(e.d, "sda", NULL, NULL, walk_cb, &l), 0);
    ck_assert_int_eq(l.verify, 2); /* one quarantine */
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(obj_df_walk(e.d, "sda", &p17, NULL, walk_cb, &l), 0);
    ck_assert_str_eq(l.text, "17/abc/5555 17/def/3333");
    env_teardown(&e);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

enum { NWRITERS = 4, NPUTS = 25 };

struct race {
    struct env *e;
    int id;
    volatile int *writers_left;
    int errors;
    int reads;
};

static void *race_writer(void *arg)
{
    struct race *ra = arg;
    for (int j = 0; j < NPUTS; j++) {
        char ts[32];
        snprintf(ts, sizeof(ts), "%d.00000", 1000 + j * NWRITERS + ra->id);
        /* the body names its own timestamp, so readers can check it */
        struct ts t = ts_of(ts);
        char body[TS_INTERNAL_LEN];
        ts_internal(&t, body);
        struct obj_df_writer *w;
        int rc = obj_df_create(ra->e->d, "sda", PART, HASH_A, &t, NULL, 0, 0, &w);
        if (rc == 0)
            rc = obj_df_write(w, body, strlen(body));
        if (rc == 0)
            rc = obj_df_commit(w, NULL, NULL);
        obj_df_writer_free(w);
        if (rc)
            ra->errors++;
    }
    __atomic_sub_fetch(ra->writers_left, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void *race_reader(void *arg)
{
    struct race *ra = arg;
    while (__atomic_load_n(ra->writers_left, __ATOMIC_SEQ_CST) > 0) {
        struct obj_df_reader *r;
        if (obj_df_open(ra->e->d, "sda", PART, HASH_A, 0, &r) != 0) {
            ra->errors++;
            continue;
        }
        const struct obj_df_info *in = obj_df_info(r);
        if (in->state == OBJ_DF_EXISTS) {
            char want[TS_INTERNAL_LEN], got[64] = {0};
            ts_internal(&in->data_ts, want);
            ssize_t n, off = 0;
            while ((n = obj_df_read(r, got + off, sizeof(got) - 1 - (size_t)off)) > 0)
                off += n;
            if (n < 0 || strcmp(got, want) != 0)
                ra->errors++;
            ra->reads++;
        } else if (in->state != OBJ_DF_ABSENT) {
            ra->errors++;
        }
        obj_df_reader_free(r);
    }
    return NULL;
}

START_TEST(concurrent_writers_and_readers_agree)
{
    struct env e;
    env_setup(&e);
    volatile int left = NWRITERS;
    struct race ra[NWRITERS + 2];
    pthread_t th[NWRITERS + 2];
    for (int i = 0; i < NWRITERS + 2; i++) {
        ra[i] = (struct race){.e = &e, .id = i, .writers_left = &left};
        ck_assert_int_eq(pthread_create(&th[i], NULL,
                                        i < NWRITERS ? race_writer : race_reader,
                                        &ra[i]),
                         0);
    }
    int reads = 0;
    for (int i = 0; i < NWRITERS + 2; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(ra[i].errors == 0, "thread %d: %d errors", i, ra[i].errors);
        reads += ra[i].reads;
    }
    ck_assert_int_gt(reads, 0);
    /* the newest write won, and only it is left */
    char *dir = hash_dir(&e, HASH_A);
    char want[64];
    snprintf(want, sizeof(want), "%010d.00000.data", 1000 + (NPUTS - 1) * NWRITERS + NWRITERS - 1);
    assert_ls(dir, want);
    assert_tmp_empty(&e);
    free(dir);
    env_teardown(&e);
}
END_TEST

static Suite *diskfile_suite(void)
{
    Suite *s = suite_create("obj_diskfile");
    TCase *tc = tcase_create("objects");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, roundtrip_write_read);
    tcase_add_test(tc, empty_body_roundtrip);
    tcase_add_test(tc, large_streamed_write_keeps_memory_small);
    tcase_add_test(tc, etag_mismatch_and_limits_store_nothing);
    tcase_add_test(tc, writev_pieces_roundtrip);
    tcase_add_test(tc, newest_timestamp_wins);
    tcase_add_test(tc, tombstone_hides_data);
    tcase_add_test(tc, meta_overlays_and_is_replaced);
    tcase_add_test(tc, cleanup_keeps_only_what_wins);
    tcase_add_test(tc, corrupt_body_is_quarantined);
    tcase_add_test(tc, expired_objects_read_as_gone);
    suite_add_tcase(s, tc);
    tc = tcase_create("faults");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, missing_device_is_enodev);
    tcase_add_test(tc, full_disk_is_enospc_and_leaves_nothing);
    tcase_add_test(tc, startup_cleanup_removes_crash_leftovers);
    tcase_add_test(tc, injected_io_errors_leave_old_or_new);
    tcase_add_test(tc, injected_quota_errors_are_enospc);
    suite_add_tcase(s, tc);
    tc = tcase_create("replication");
    tcase_add_test(tc, suffix_hashes_follow_changes);
    tcase_add_test(tc, walk_lists_partitions_and_hashes);
    suite_add_tcase(s, tc);
    tc = tcase_create("concurrency");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, concurrent_writers_and_readers_agree);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!mkdtemp(base_dir)) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(diskfile_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    char *cmd = xasprintf("rm -rf '%s'", base_dir);
    if (system(cmd) != 0)
        failed++;
    free(cmd);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

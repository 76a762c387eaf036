/*
 * check_obj_db.c - unit tests for the container/account database
 * (objectd/obj_db.h): timestamps, container and account requests with
 * Swift's status outcomes, object rows (newest wins, tombstones, exact
 * totals against a model), listings, concurrency, and replication merges
 * that must converge. Each test opens a RocksDB in its own temp dir.
 *
 * The status outcomes of the container, object-row and account sequences
 * below (201/202/409/404/403, counts after stale updates, a row accepted
 * into a deleted container) were replayed against Swift 2.30.1's container
 * and account servers through their backend API and agree; the listing
 * expectations in container_listing_rules likewise.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "objectd/obj_db.h"

static const struct hashpath_secret secret = {"pre", "suf"};

struct tdb {
    char dir[64];
    struct obj_db *db;
};

static struct obj_db *tdb_open(struct tdb *t, const char *sub, unsigned flags)
{
    char path[128];
    if (!t->dir[0]) {
        snprintf(t->dir, sizeof(t->dir), "/tmp/check_obj_db.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(t->dir));
    }
    snprintf(path, sizeof(path), "%s/%s", t->dir, sub);
    struct err e;
    err_clear(&e);
    struct obj_db *db = obj_db_open(path, &secret, flags, &e);
    ck_assert_msg(db != NULL, "open: %s", e.msg);
    return db;
}

static void tdb_cleanup(struct tdb *t)
{
    char *cmd = xasprintf("rm -rf %s", t->dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

static struct ts T(int64_t secs)
{
    struct ts t = {secs * TS_UNITS_PER_SEC, 0};
    return t;
}

/* ------------------------------------------------------------ timestamps */

START_TEST(http_status_maps_swift_codes)
{
    ck_assert_int_eq(obj_http_status(0, 204), 204);
    ck_assert_int_eq(obj_http_status(-ENOENT, 204), 404);
    ck_assert_int_eq(obj_http_status(-ENOTEMPTY, 204), 409);
    ck_assert_int_eq(obj_http_status(-EEXIST, 201), 409);
    ck_assert_int_eq(obj_http_status(-ESTALE, 201), 409);
    ck_assert_int_eq(obj_http_status(-EACCES, 201), 403);
    ck_assert_int_eq(obj_http_status(-EINVAL, 204), 400);
    ck_assert_int_eq(obj_http_status(-E2BIG, 200), 412);
    ck_assert_int_eq(obj_http_status(-ENOTSUP, 200), 406);
    ck_assert_int_eq(obj_http_status(-EIO, 200), 500);
}
END_TEST

START_TEST(content_type_split_matches_extract_swift_bytes)
{
    static const struct {
        const char *in, *type, *sb;
    } cases[] = {
        {"text/plain", "text/plain", NULL},
        {"text/plain;swift_bytes=99", "text/plain", "99"},
        {"text/plain; charset=UTF-8", "text/plain;charset=UTF-8", NULL},
        {"a/b; x=1; swift_bytes=7; y=\"q;r\"", "a/b;x=1;y=\"q;r\"", "7"},
        {"a/b;flag", "a/b;flag=", NULL},
        {"a/b ;  k = v ", "a/b ;k=v", NULL},
        {"a/b;swift_bytes=1;swift_bytes=2", "a/b", "2"},
        {"a/b;;=x;k=v", "a/b;k=v", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *type, *sb;
        obj_db_content_type_split(cases[i].in, &type, &sb);
        ck_assert_msg(strcmp(type, cases[i].type) == 0, "%s -> '%s'", cases[i].in, type);
        if (cases[i].sb)
            ck_assert_str_eq(sb, cases[i].sb);
        else
            ck_assert_ptr_null(sb);
        free(type);
        free(sb);
    }
}
END_TEST

/* ------------------------------------------------------------ containers */

static const char *meta_value(const struct obj_db_cont_info *ci, const char *key)
{
    for (size_t i = 0; i < ci->nmeta; i++)
        if (strcmp(ci->meta[i].key, key) == 0)
            return ci->meta[i].value;
    return NULL;
}

START_TEST(container_lifecycle_follows_swift)
{
    struct tdb t = {0};
    struct obj_db *db = tdb_open(&t, "db", OBJ_DB_NO_SYNC);
    struct err e;
    bool created, existed;
    struct ts t1 = T(1000), t2 = T(1001), t3 = T(1002), t4 = T(1003), t5 = T(1004);
    struct obj_db_kv hdrs[] = {
        {"x-container-meta-color", "blue"},
        {"X-Container-Read", ".r:*"},
        {"X-Object-Meta-Ignored", "x"},
        {"Content-Length", "0"},
    };
    struct obj_db_cont_info ci;

    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), -ENOENT);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t1, -1, 2, hdrs, 4, &created, &e), 0);
    ck_assert(created);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert(!ci.deleted);
    ck_assert_uint_eq(ci.policy_index, 2);
    ck_assert_str_eq(ci.account, "AUTH_a");
    ck_assert_str_eq(ci.container, "c");
    ck_assert_int_eq(ts_cmp(&ci.put_ts, &t1), 0);
    ck_assert_uint_eq(ci.nmeta, 2);
    ck_assert_str_eq(meta_value(&ci, "X-Container-Meta-Color"), "blue");
    ck_assert_str_eq(meta_value(&ci, "X-Container-Read"), ".r:*");
    ck_assert_uint_eq(strlen(ci.id), 36);
    obj_db_cont_info_release(&ci);

    /* re-PUT: accepted, not created; another policy is a conflict */
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t2, -1, 0, NULL, 0, &created, &e), 0);
    ck_assert(!created);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t2, 1, 0, NULL, 0, &created, &e),
                     -EEXIST);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t2, 2, 0, NULL, 0, &created, &e), 0);

    /* POST: empty value deletes (kept as a dated tombstone), older loses */
    struct obj_db_kv post[] = {{"X-Container-Meta-Color", ""}, {"X-Container-Meta-Size", "L"}};
    ck_assert_int_eq(obj_db_cont_post(db, "AUTH_a", "c", &t3, post, 2, &e), 0);
    struct obj_db_kv stale[] = {{"X-Container-Meta-Size", "S"}};
    ck_assert_int_eq(obj_db_cont_post(db, "AUTH_a", "c", &t2, stale, 1, &e), 0);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert_str_eq(meta_value(&ci, "X-Container-Meta-Color"), "");
    ck_assert_str_eq(meta_value(&ci, "X-Container-Meta-Size"), "L");
    ck_assert_int_eq(ts_cmp(&ci.put_ts, &t3), 0); /* POST raises put_ts */
    obj_db_cont_info_release(&ci);

    /* DELETE, then the tombstone: HEAD says deleted, POST 404, stale PUT 409 */
    ck_assert_int_eq(obj_db_cont_delete(db, "AUTH_a", "c", &t4, &existed), 0);
    ck_assert(existed);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert(ci.deleted);
    ck_assert_int_eq(ts_cmp(&ci.delete_ts, &t4), 0);
    ck_assert_str_eq(meta_value(&ci, "X-Container-Meta-Size"), "");
    obj_db_cont_info_release(&ci);
    ck_assert_int_eq(obj_db_cont_delete(db, "AUTH_a", "c", &t5, &existed), 0);
    ck_assert(!existed);
    ck_assert_int_eq(obj_db_cont_post(db, "AUTH_a", "c", &t5, post, 2, &e), -ENOENT);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t3, -1, 0, NULL, 0, &created, &e),
                     -ESTALE);
    struct obj_db_list_params lp = {.limit = 10};
    ck_assert_int_eq(obj_db_cont_list(db, "AUTH_a", "c", &lp, -1, NULL, NULL), -ENOENT);

    /* a newer PUT revives it, with a new policy allowed */
    struct ts t6 = T(1010);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t6, 1, 0, NULL, 0, &created, &e), 0);
    ck_assert(created);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert(!ci.deleted);
    ck_assert_uint_eq(ci.policy_index, 1);
    obj_db_cont_info_release(&ci);

    /* DELETE with a timestamp older than the PUT: 409, stays live */
    ck_assert_int_eq(obj_db_cont_delete(db, "AUTH_a", "c", &t5, &existed), -ESTALE);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert(!ci.deleted);
    obj_db_cont_info_release(&ci);
    obj_db_close(db);
    tdb_cleanup(&t);
}
END_TEST

START_TEST(container_metadata_limits_give_400)
{
    struct tdb t = {0};
    struct obj_db *db = tdb_open(&t, "db", OBJ_DB_NO_SYNC);
    struct err e;
    bool created;
    struct ts t1 = T(1000), t2 = T(1001);
    ck_assert_int_eq(obj_db_cont_put(db, "a", "c", &t1, 0, 0, NULL, 0, &created, &e), 0);
    struct obj_db_kv kv[91];
    char keys[91][32];
    for (int i = 0; i < 91; i++) {
        snprintf(keys[i], sizeof(keys[i]), "X-Container-Meta-K%d", i);
        kv[i].key = keys[i];
        kv[i].value = "v";
    }
    err_clear(&e);
    ck_assert_int_eq(obj_db_cont_post(db, "a", "c", &t2, kv, 91, &e), -EINVAL);
    ck_assert_str_eq(e.msg, "Too many metadata items; max 90");
    ck_assert_int_eq(obj_db_cont_post(db, "a", "c", &t2, kv, 90, &e), 0);
    char big[4200];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct obj_db_kv one = {"X-Container-Meta-K0", big};
    struct ts t3 = T(1002);
    ck_assert_int_eq(obj_db_cont_post(db, "a", "c", &t3, &one, 1, &e), -EINVAL);
    ck_assert_str_eq(e.msg, "Total metadata too large; max 4096");
    struct obj_db_cont_info ci;
    ck_assert_int_eq(obj_db_cont_get_info(db, "a", "c", &ci), 0);
    ck_assert_uint_eq(ci.nmeta, 90);
    obj_db_cont_info_release(&ci);
    obj_db_close(db);
    tdb_cleanup(&t);
}
END_TEST

static int put_obj(struct obj_db *db, const char *c, const char *name, uint64_t secs,
                   uint64_t size, const char *etag)
{
    struct obj_db_obj_update u = {
        .name = name, .ts = T((int64_t)secs), .size = size, .content_type = "text/plain",
        .etag = etag, .deleted = false, .policy_index = 0,
    };
    return obj_db_cont_update_object(db, "AUTH_a", c, &u, false, NULL);
}

static int del_obj(struct obj_db *db, const char *c, const char *name, uint64_t secs)
{
    struct obj_db_obj_update u = {.name = name, .ts = T((int64_t)secs), .deleted = true};
    return obj_db_cont_update_object(db, "AUTH_a", c, &u, false, NULL);
}

START_TEST(object_rows_newest_wins_and_delete_needs_empty)
{
    struct tdb t = {0};
    struct obj_db *db = tdb_open(&t, "db", OBJ_DB_NO_SYNC);
    struct err e;
    bool created, existed, changed;
    struct ts t1 = T(1000);
    struct obj_db_cont_info ci;

    ck_assert_int_eq(put_obj(db, "c", "o", 1001, 5, "e1"), -ENOENT);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t1, 0, 0, NULL, 0, &created, &e), 0);
    ck_assert_int_eq(put_obj(db, "c", "o", 1001, 5, "e1"), 0);
    ck_assert_int_eq(put_obj(db, "c", "o", 1003, 7, "e3"), 0);
    /* older and equal updates change nothing */
    struct obj_db_obj_update old = {.name = "o", .ts = T(1002), .size = 100,
                                    .content_type = "x/y", .etag = "e2"};
    ck_assert_int_eq(obj_db_cont_update_object(db, "AUTH_a", "c", &old, false, &changed), 0);
    ck_assert(!changed);
    old.ts = T(1003);
    ck_assert_int_eq(obj_db_cont_update_object(db, "AUTH_a", "c", &old, false, &changed), 0);
    ck_assert(!changed);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert_uint_eq(ci.object_count, 1);
    ck_assert_uint_eq(ci.bytes_used, 7);
    obj_db_cont_info_release(&ci);

    struct ts t9 = T(1009);
    ck_assert_int_eq(obj_db_cont_delete(db, "AUTH_a", "c", &t9, &existed), -ENOTEMPTY);
    /* a delete older than the data loses; a newer one makes a tombstone */
    ck_assert_int_eq(del_obj(db, "c", "o", 1002), 0);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert_uint_eq(ci.object_count, 1);
    obj_db_cont_info_release(&ci);
    ck_assert_int_eq(del_obj(db, "c", "o", 1004), 0);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert_uint_eq(ci.object_count, 0);
    ck_assert_uint_eq(ci.bytes_used, 0);
    obj_db_cont_info_release(&ci);
    /* a PUT older than the tombstone stays deleted */
    ck_assert_int_eq(put_obj(db, "c", "o", 1003, 9, "e"), 0);
    struct obj_db_obj_row *rows;
    size_t n;
    ck_assert_int_eq(obj_db_cont_rows_since(db, "AUTH_a", "c", 0, 100, &rows, &n), 0);
    ck_assert_uint_eq(n, 1); /* the tombstone is kept for replication */
    ck_assert(rows[0].deleted);
    ck_assert_str_eq(rows[0].name, "o");
    ck_assert_str_eq(rows[0].content_type, "application/deleted");
    ck_assert_str_eq(rows[0].etag, "noetag");
    obj_db_obj_rows_free(rows, n);

    ck_assert_int_eq(obj_db_cont_delete(db, "AUTH_a", "c", &t9, &existed), 0);
    ck_assert(existed);
    /* Swift accepts a row for a deleted container; it is live again then */
    ck_assert_int_eq(put_obj(db, "c", "p", 1010, 1, "e"), 0);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert(!ci.deleted);
    ck_assert_uint_eq(ci.object_count, 1);
    obj_db_cont_info_release(&ci);
    obj_db_close(db);
    tdb_cleanup(&t);
}
END_TEST

START_TEST(object_rows_content_type_and_meta_times_merge_separately)
{
    struct tdb t = {0};
    struct obj_db *db = tdb_open(&t, "db", OBJ_DB_NO_SYNC);
    struct err e;
    bool created;
    struct ts t1 = T(1000);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t1, 0, 0, NULL, 0, &created, &e), 0);
    /* manifest PUT at 1001 with swift_bytes */
    struct obj_db_obj_update u = {.name = "m", .ts = T(1001), .size = 100,
                                  .content_type = "a/b;swift_bytes=5000", .etag = "E1"};
    ck_assert_int_eq(obj_db_cont_update_object(db, "AUTH_a", "c", &u, false, NULL), 0);
    /* a POST at 1003 changed the content type (ctype and meta time 1003) */
    struct ts c3 = T(1003), m4 = T(1004);
    struct obj_db_obj_update post = {.name = "m", .ts = T(1001), .size = 100,
                                     .content_type = "x/y", .etag = "E1",
                                     .ctype_ts = &c3, .meta_ts = &m4};
    ck_assert_int_eq(obj_db_cont_update_object(db, "AUTH_a", "c", &post, false, NULL), 0);
    /* a late-arriving older POST's content type must not win */
    struct ts c2 = T(1002);
    struct obj_db_obj_update late = {.name = "m", .ts = T(1001), .size = 100,
                                     .content_type = "old/type", .etag = "E1",
                                     .ctype_ts = &c2};
    ck_assert_int_eq(obj_db_cont_update_object(db, "AUTH_a", "c", &late, false, NULL), 0);
    struct obj_db_obj_row *rows;
    size_t n;
    ck_assert_int_eq(obj_db_cont_rows_since(db, "AUTH_a", "c", 0, 10, &rows, &n), 0);
    ck_assert_uint_eq(n, 1);
    /* content type from the POST, swift_bytes kept from the data */
    ck_assert_str_eq(rows[0].content_type, "x/y;swift_bytes=5000");
    ck_assert_int_eq(ts_cmp(&rows[0].ctype_ts, &c3), 0);
    ck_assert_int_eq(ts_cmp(&rows[0].meta_ts, &m4), 0);
    ck_assert_uint_eq(rows[0].size, 100);
    obj_db_obj_rows_free(rows, n);
    obj_db_close(db);
    tdb_cleanup(&t);
}
END_TEST

/* A model of what the totals must be, checked after every operation. */
START_TEST(object_totals_stay_exact_over_many_operations)
{
    struct tdb t = {0};
    struct obj_db *db = tdb_open(&t, "db", OBJ_DB_NO_SYNC);
    struct err e;
    bool created;
    struct ts t0 = T(1000);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t0, 0, 0, NULL, 0, &created, &e), 0);
    enum { NAMES = 40, OPS = 3000 };
    struct {
        uint64_t ts, size;
        bool live, exists;
    } model[NAMES];
    memset(model, 0, sizeof(model));
    unsigned seed = 12345;
    for (int op = 0; op < OPS; op++) {
        seed = seed * 1103515245 + 12345;
        int i = (int)((seed >> 8) % NAMES);
        uint64_t when = 2000 + ((seed >> 16) % 500);
        bool del = ((seed >> 4) % 4) == 0;
        uint64_t size = (seed >> 20) % 1000;
        char name[16];
        snprintf(name, sizeof(name), "obj%02d", i);
        if (del)
            ck_assert_int_eq(del_obj(db, "c", name, when), 0);
        else
            ck_assert_int_eq(put_obj(db, "c", name, when, size, "e"), 0);
        if (!model[i].exists || when > model[i].ts) {
            model[i].exists = true;
            model[i].ts = when;
            model[i].live = !del;
            model[i].size = del ? 0 : size;
        }
        if (op % 97 == 0 || op == OPS - 1) {
            uint64_t cnt = 0, bytes = 0;
            for (int j = 0; j < NAMES; j++) {
                cnt += model[j].live;
                bytes += model[j].live ? model[j].size : 0;
            }
            struct obj_db_cont_info ci;
            ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
            ck_assert_uint_eq(ci.object_count, cnt);
            ck_assert_uint_eq(ci.bytes_used, bytes);
            obj_db_cont_info_release(&ci);
        }
    }
    /* every name has exactly one row, in sequence order, tombstones too */
    struct obj_db_obj_row *rows;
    size_t n;
    ck_assert_int_eq(obj_db_cont_rows_since(db, "AUTH_a", "c", 0, 1000, &rows, &n), 0);
    size_t exist = 0;
    for (int j = 0; j < NAMES; j++)
        exist += model[j].exists;
    ck_assert_uint_eq(n, exist);
    for (size_t k = 1; k < n; k++)
        ck_assert_uint_lt(rows[k - 1].seq, rows[k].seq);
    obj_db_obj_rows_free(rows, n);
    obj_db_close(db);
    tdb_cleanup(&t);
}
END_TEST

struct thr_arg {
    struct obj_db *db;
    int id;
};

static void *thr_put(void *p)
{
    struct thr_arg *a = p;
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof(name), "t%d-%03d", a->id, i);
        if (put_obj(a->db, "c", name, 2000 + (uint64_t)i, 10, "e") != 0)
            return (void *)1;
        if (i % 3 == 0 && del_obj(a->db, "c", name, 3000) != 0)
            return (void *)1;
    }
    return NULL;
}

START_TEST(concurrent_updates_keep_totals_exact)
{
    struct tdb t = {0};
    struct obj_db *db = tdb_open(&t, "db", 0); /* real fsync here */
    struct err e;
    bool created;
    struct ts t0 = T(1000);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t0, 0, 0, NULL, 0, &created, &e), 0);
    pthread_t th[4];
    struct thr_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i].db = db;
        args[i].id = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, thr_put, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        ck_assert_ptr_null(r);
    }
    struct obj_db_cont_info ci;
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert_uint_eq(ci.object_count, 4 * (200 - 67));
    ck_assert_uint_eq(ci.bytes_used, 4 * (200 - 67) * 10);
    ck_assert_uint_eq(ci.max_row, 4 * (200 + 67));
    obj_db_cont_info_release(&ci);
    /* durable: reopen and see the same */
    obj_db_close(db);
    db = tdb_open(&t, "db", 0);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert_uint_eq(ci.object_count, 4 * (200 - 67));
    obj_db_cont_info_release(&ci);
    obj_db_close(db);
    tdb_cleanup(&t);
}
END_TEST

static int count_fn(void *arg, const struct obj_db_list_entry *e)
{
    (void)e;
    (*(uint64_t *)arg)++;
    return 0;
}

/*
 * kill -9 while a process writes: after reopening, every update that was
 * acknowledged is there, and the totals equal what the rows say (a row and
 * its totals are one atomic batch, and the WAL replays in order).
 */
START_TEST(kill_during_writes_loses_nothing_acknowledged)
{
    struct tdb t = {0};
    struct obj_db *db;
    int fds[2];
    snprintf(t.dir, sizeof(t.dir), "/tmp/check_obj_db.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t.dir));
    ck_assert_int_eq(pipe(fds), 0);
    /* fork before RocksDB starts its threads in this process */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct err e;
        bool created;
        struct ts t0 = T(1000);
        close(fds[0]);
        db = tdb_open(&t, "db", 0);
        if (obj_db_cont_put(db, "AUTH_a", "c", &t0, 0, 0, NULL, 0, &created, &e) != 0)
            _exit(2);
        for (int i = 0;; i++) {
            char name[32];
            snprintf(name, sizeof(name), "k%06d", i);
            if (put_obj(db, "c", name, 2000, 3, "e") != 0)
                _exit(2);
            if (i % 5 == 0 && del_obj(db, "c", name, 2001) != 0)
                _exit(2);
            int32_t ack = i;
            if (write(fds[1], &ack, sizeof(ack)) != sizeof(ack))
                _exit(3);
        }
    }
    close(fds[1]);
    int32_t last = -1, ack;
    while (last < 150 && read(fds[0], &ack, sizeof(ack)) == sizeof(ack))
        last = ack;
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    close(fds[0]);
    ck_assert_int_ge(last, 150);
    db = tdb_open(&t, "db", 0);
    struct obj_db_cont_info ci;
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    uint64_t listed = 0;
    struct obj_db_list_params p = {.limit = OBJ_DB_LISTING_LIMIT};
    ck_assert_int_eq(obj_db_cont_list(db, "AUTH_a", "c", &p, -1, count_fn, &listed), 0);
    ck_assert_uint_eq(ci.object_count, listed);
    ck_assert_uint_eq(ci.bytes_used, 3 * listed);
    /* acknowledged: all of 0..last, with every 5th deleted */
    uint64_t acked_live = (uint64_t)(last + 1) - (uint64_t)(last / 5 + 1);
    ck_assert_uint_ge(listed, acked_live);
    struct obj_db_obj_row *rows;
    size_t n;
    ck_assert_int_eq(obj_db_cont_rows_since(db, "AUTH_a", "c", 0, 100000, &rows, &n), 0);
    ck_assert_uint_ge(n, (size_t)last + 1);
    char *seen = xcalloc((size_t)n + 1, 1); /* 1 live, 2 deleted */
    for (size_t k = 0; k < n; k++) {
        unsigned idx;
        ck_assert_int_eq(sscanf(rows[k].name, "k%06u", &idx), 1);
        ck_assert_uint_le(idx, n);
        seen[idx] = rows[k].deleted ? 2 : 1;
    }
    for (int32_t i = 0; i <= last; i++)
        ck_assert_int_eq(seen[i], i % 5 == 0 ? 2 : 1);
    free(seen);
    obj_db_obj_rows_free(rows, n);
    obj_db_cont_info_release(&ci);
    obj_db_close(db);
    tdb_cleanup(&t);
}
END_TEST

/* --------------------------------------------------------------- listing */

struct collect {
    char out[4096];
    size_t len;
};

static int collect_fn(void *arg, const struct obj_db_list_entry *e)
{
    struct collect *c = arg;
    c->len += (size_t)snprintf(c->out + c->len, sizeof(c->out) - c->len, "%s%s,",
                               e->is_subdir ? "D:" : "", e->name);
    return 0;
}

static const char *list(struct obj_db *db, struct collect *c, const char *prefix,
                        const char *delim, const char *marker, const char *end_marker,
                        const char *path, unsigned limit, bool reverse)
{
    struct obj_db_list_params p = {prefix, delim, marker, end_marker, path, limit, reverse};
    c->len = 0;
    c->out[0] = '\0';
    ck_assert_int_eq(obj_db_cont_list(db, "AUTH_a", "c", &p, -1, collect_fn, c), 0);
    return c->out;
}

START_TEST(container_listing_rules)
{
    struct tdb t = {0};
    struct obj_db *db = tdb_open(&t, "db", OBJ_DB_NO_SYNC);
    struct err e;
    bool created;
    struct ts t0 = T(1000);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t0, 0, 0, NULL, 0, &created, &e), 0);
    const char *names[] = {"a", "a/", "a/b", "a/b/c", "a/b0", "a/c", "b", "b/x", "c"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        ck_assert_int_eq(put_obj(db, "c", names[i], 1001, 1, "e"), 0);
    ck_assert_int_eq(put_obj(db, "c", "gone", 1001, 1, "e"), 0);
    ck_assert_int_eq(del_obj(db, "c", "gone", 1002), 0);
    struct collect c;
    ck_assert_str_eq(list(db, &c, NULL, NULL, NULL, NULL, NULL, 100, false),
                     "a,a/,a/b,a/b/c,a/b0,a/c,b,b/x,c,");
    ck_assert_str_eq(list(db, &c, NULL, NULL, NULL, NULL, NULL, 3, false), "a,a/,a/b,");
    ck_assert_str_eq(list(db, &c, NULL, NULL, "a/b", NULL, NULL, 100, false),
                     "a/b/c,a/b0,a/c,b,b/x,c,");
    ck_assert_str_eq(list(db, &c, NULL, NULL, NULL, "a/c", NULL, 100, false),
                     "a,a/,a/b,a/b/c,a/b0,");
    ck_assert_str_eq(list(db, &c, "a/", NULL, NULL, NULL, NULL, 100, false),
                     "a/,a/b,a/b/c,a/b0,a/c,");
    ck_assert_str_eq(list(db, &c, NULL, "/", NULL, NULL, NULL, 100, false),
                     "a,D:a/,b,D:b/,c,");
    ck_assert_str_eq(list(db, &c, "a/", "/", NULL, NULL, NULL, 100, false),
                     "a/,a/b,D:a/b/,a/b0,a/c,");
    ck_assert_str_eq(list(db, &c, NULL, "/", NULL, NULL, NULL, 100, true),
                     "c,D:b/,b,D:a/,a,");
    ck_assert_str_eq(list(db, &c, NULL, NULL, "b", NULL, NULL, 100, true), "a/c,a/b0,a/b/c,a/b,a/,a,");
    ck_assert_str_eq(list(db, &c, NULL, NULL, NULL, "b", NULL, 100, true), "c,b/x,");
    /* path: the "a/" marker itself is skipped, nested dirs vanish, and the
     * quirk: "a/b0" goes too, being what the skip after "a/b/" moves to */
    ck_assert_str_eq(list(db, &c, NULL, NULL, NULL, NULL, "a", 100, false), "a/b,a/c,");
    ck_assert_str_eq(list(db, &c, NULL, NULL, NULL, NULL, "", 100, false), "a,a/,b,c,");
    ck_assert_str_eq(list(db, &c, NULL, NULL, NULL, NULL, NULL, 0, false), "");
    obj_db_close(db);
    tdb_cleanup(&t);
}
END_TEST

/* -------------------------------------------------------------- accounts */

START_TEST(account_lifecycle_and_rollup)
{
    struct tdb t = {0};
    struct obj_db *db = tdb_open(&t, "db", OBJ_DB_NO_SYNC);
    struct err e;
    bool created;
    struct ts t1 = T(1000), t2 = T(1001), t3 = T(1002);
    struct obj_db_acct_info ai;
    struct obj_db_cont_report r = {"c1", T(1001), {0, 0}, 3, 30, 0};

    ck_assert_int_eq(obj_db_acct_update_container(db, "AUTH_a", &r, false, false), -ENOENT);
    ck_assert_int_eq(obj_db_acct_get_info(db, "AUTH_a", &ai), -ENOENT);
    struct obj_db_kv hdrs[] = {{"X-Account-Meta-Quota", "7"}, {"X-Container-Meta-No", "x"}};
    ck_assert_int_eq(obj_db_acct_put(db, "AUTH_a", &t1, hdrs, 2, &created, &e), 0);
    ck_assert(created);
    ck_assert_int_eq(obj_db_acct_put(db, "AUTH_a", &t2, NULL, 0, &created, &e), 0);
    ck_assert(!created);

    ck_assert_int_eq(obj_db_acct_update_container(db, "AUTH_a", &r, false, false), 0);
    struct obj_db_cont_report r2 = {"c2", T(1001), {0, 0}, 2, 5, 1};
    ck_assert_int_eq(obj_db_acct_update_container(db, "AUTH_a", &r2, false, false), 0);
    /* a later report of c1 replaces its counts */
    r.object_count = 4;
    r.bytes_used = 44;
    ck_assert_int_eq(obj_db_acct_update_container(db, "AUTH_a", &r, false, false), 0);
    ck_assert_int_eq(obj_db_acct_get_info(db, "AUTH_a", &ai), 0);
    ck_assert_uint_eq(ai.container_count, 2);
    ck_assert_uint_eq(ai.object_count, 6);
    ck_assert_uint_eq(ai.bytes_used, 49);
    ck_assert_uint_eq(ai.npolicies, 2);
    ck_assert_uint_eq(ai.policies[1].policy_index, 1);
    ck_assert_uint_eq(ai.policies[1].bytes_used, 5);
    ck_assert_uint_eq(ai.nmeta, 1);
    ck_assert_str_eq(ai.meta[0].key, "X-Account-Meta-Quota");
    obj_db_acct_info_release(&ai);

    /* the container is deleted: its row becomes a tombstone */
    struct obj_db_cont_report d2 = {"c2", T(1001), T(1005), 0, 0, 1};
    ck_assert_int_eq(obj_db_acct_update_container(db, "AUTH_a", &d2, false, false), 0);
    ck_assert_int_eq(obj_db_acct_get_info(db, "AUTH_a", &ai), 0);
    ck_assert_uint_eq(ai.container_count, 1);
    ck_assert_uint_eq(ai.object_count, 4);
    obj_db_acct_info_release(&ai);
    struct collect c = {0};
    struct obj_db_list_params p = {.limit = 100};
    ck_assert_int_eq(obj_db_acct_list(db, "AUTH_a", &p, collect_fn, &c), 0);
    ck_assert_str_eq(c.out, "c1,");

    ck_assert_int_eq(obj_db_acct_post(db, "AUTH_a", &t3, hdrs, 1, &e), 0);
    struct ts t9 = T(1009);
    ck_assert_int_eq(obj_db_acct_delete(db, "AUTH_a", &t9), 0);
    ck_assert_int_eq(obj_db_acct_get_info(db, "AUTH_a", &ai), 0);
    ck_assert(ai.deleted);
    ck_assert(ai.status_deleted);
    obj_db_acct_info_release(&ai);
    ck_assert_int_eq(obj_db_acct_delete(db, "AUTH_a", &t9), -ENOENT);
    ck_assert_int_eq(obj_db_acct_post(db, "AUTH_a", &t9, hdrs, 1, &e), -ENOENT);
    struct ts t10 = T(1010);
    ck_assert_int_eq(obj_db_acct_put(db, "AUTH_a", &t10, NULL, 0, &created, &e), -EACCES);
    ck_assert_str_eq(e.msg, "Recently deleted");
    ck_assert_int_eq(obj_db_acct_list(db, "AUTH_a", &p, collect_fn, &c), -ENOENT);
    ck_assert_int_eq(obj_db_acct_update_container(db, "AUTH_a", &r, false, false), -ENOENT);
    ck_assert_int_eq(obj_db_acct_update_container(db, "AUTH_a", &r, false, true), 0);
    /* autocreate for '.' accounts */
    ck_assert_int_eq(obj_db_acct_update_container(db, ".expiring", &r, true, false), 0);
    ck_assert_int_eq(obj_db_acct_get_info(db, ".expiring", &ai), 0);
    ck_assert_uint_eq(ai.container_count, 1);
    obj_db_acct_info_release(&ai);
    obj_db_close(db);
    tdb_cleanup(&t);
}
END_TEST

struct each_count {
    unsigned n;
    unsigned per_part[16];
    int64_t part;
    unsigned bad;
};

static int each_cont(void *arg, const struct obj_db_cont_info *ci)
{
    struct each_count *c = arg;
    unsigned char d[16];
    hashpath_digest(&secret, ci->account, ci->container, NULL, d);
    if (c->part >= 0 && hashpath_partition(d, 4) != (uint32_t)c->part)
        c->bad++;
    c->n++;
    return 0;
}

static int each_acct(void *arg, const struct obj_db_acct_info *ai)
{
    struct each_count *c = arg;
    (void)ai;
    c->n++;
    return 0;
}

START_TEST(foreach_walks_every_db_once_by_partition)
{
    struct tdb t = {0};
    struct obj_db *db = tdb_open(&t, "db", OBJ_DB_NO_SYNC);
    struct err e;
    bool created, existed;
    struct ts t0 = T(1000), t1 = T(1001);
    for (int i = 0; i < 200; i++) {
        char a[32], c[32];
        snprintf(a, sizeof(a), "AUTH_%d", i % 7);
        snprintf(c, sizeof(c), "c%d", i);
        ck_assert_int_eq(obj_db_cont_put(db, a, c, &t0, 0, 0, NULL, 0, &created, &e), 0);
    }
    for (int i = 0; i < 7; i++) {
        char a[32];
        snprintf(a, sizeof(a), "AUTH_%d", i);
        ck_assert_int_eq(obj_db_acct_put(db, a, &t0, NULL, 0, &created, &e), 0);
    }
    /* a deleted container is still walked (the replicator must see it) */
    ck_assert_int_eq(obj_db_cont_delete(db, "AUTH_0", "c0", &t1, &existed), 0);
    struct each_count all = {.part = -1};
    ck_assert_int_eq(obj_db_cont_foreach(db, -1, 4, each_cont, &all), 0);
    ck_assert_uint_eq(all.n, 200);
    unsigned sum = 0;
    for (int p = 0; p < 16; p++) {
        struct each_count one = {.part = p};
        ck_assert_int_eq(obj_db_cont_foreach(db, p, 4, each_cont, &one), 0);
        ck_assert_uint_eq(one.bad, 0);
        sum += one.n;
    }
    ck_assert_uint_eq(sum, 200);
    struct each_count acc = {.part = -1};
    ck_assert_int_eq(obj_db_acct_foreach(db, -1, 0, each_acct, &acc), 0);
    ck_assert_uint_eq(acc.n, 7);
    /* a reclaimed container is gone from the walk */
    struct ts age = T(5000);
    bool gone;
    ck_assert_int_eq(obj_db_cont_reclaim(db, "AUTH_0", "c0", &age, &gone), 0);
    ck_assert(gone);
    all.n = 0;
    ck_assert_int_eq(obj_db_cont_foreach(db, -1, 4, each_cont, &all), 0);
    ck_assert_uint_eq(all.n, 199);
    obj_db_close(db);
    tdb_cleanup(&t);
}
END_TEST

/* ----------------------------------------------------------- replication */

START_TEST(reclaim_drops_old_tombstones_then_the_container)
{
    struct tdb t = {0};
    struct obj_db *db = tdb_open(&t, "a", OBJ_DB_NO_SYNC);
    struct obj_db *ref = tdb_open(&t, "b", OBJ_DB_NO_SYNC);
    struct err e;
    bool created, gone, existed;
    struct ts t0 = T(1000);
    struct obj_db_kv md[] = {{"X-Container-Meta-Old", "1"}, {"X-Container-Meta-Keep", "2"}};
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t0, 0, 0, md, 2, &created, &e), 0);
    ck_assert_int_eq(obj_db_cont_put(ref, "AUTH_a", "c", &t0, 0, 0, NULL, 0, &created, &e), 0);
    struct obj_db_kv del_md = {"X-Container-Meta-Old", ""};
    struct ts t1 = T(1001);
    ck_assert_int_eq(obj_db_cont_post(db, "AUTH_a", "c", &t1, &del_md, 1, &e), 0);
    for (int i = 0; i < 30; i++) {
        char name[16];
        snprintf(name, sizeof(name), "o%02d", i);
        ck_assert_int_eq(put_obj(db, "c", name, 2000, 10, "e"), 0);
        if (i % 3 == 0)
            ck_assert_int_eq(del_obj(db, "c", name, 2001 + (uint64_t)i), 0);
        else
            ck_assert_int_eq(put_obj(ref, "c", name, 2000, 10, "e"), 0);
    }
    struct ts young = T(1500), mid = T(2015), old = T(3000);
    ck_assert_int_eq(obj_db_cont_reclaim(db, "AUTH_a", "c", &young, &gone), 0);
    ck_assert(!gone);
    struct obj_db_obj_row *rows;
    size_t n;
    ck_assert_int_eq(obj_db_cont_rows_since(db, "AUTH_a", "c", 0, 100, &rows, &n), 0);
    ck_assert_uint_eq(n, 30);
    obj_db_obj_rows_free(rows, n);
    /* only tombstones older than the age go */
    ck_assert_int_eq(obj_db_cont_reclaim(db, "AUTH_a", "c", &mid, &gone), 0);
    ck_assert_int_eq(obj_db_cont_rows_since(db, "AUTH_a", "c", 0, 100, &rows, &n), 0);
    ck_assert_uint_eq(n, 30 - 5);
    obj_db_obj_rows_free(rows, n);
    ck_assert_int_eq(obj_db_cont_reclaim(db, "AUTH_a", "c", &old, &gone), 0);
    ck_assert(!gone);
    struct obj_db_cont_info ci, cr;
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert_int_eq(obj_db_cont_get_info(ref, "AUTH_a", "c", &cr), 0);
    ck_assert_uint_eq(ci.object_count, 20);
    ck_assert_uint_eq(ci.bytes_used, 200);
    ck_assert_mem_eq(ci.hash, cr.hash, 16); /* as if the tombstones never were */
    ck_assert_uint_eq(ci.nmeta, 1);
    ck_assert_str_eq(ci.meta[0].key, "X-Container-Meta-Keep");
    obj_db_cont_info_release(&ci);
    obj_db_cont_info_release(&cr);
    /* empty and deleted long enough: the whole container goes */
    for (int i = 0; i < 30; i++) {
        char name[16];
        snprintf(name, sizeof(name), "o%02d", i);
        ck_assert_int_eq(del_obj(db, "c", name, 2100), 0);
    }
    struct ts td = T(2200);
    ck_assert_int_eq(obj_db_cont_delete(db, "AUTH_a", "c", &td, &existed), 0);
    ck_assert_int_eq(obj_db_cont_reclaim(db, "AUTH_a", "c", &mid, &gone), 0);
    ck_assert(!gone);
    ck_assert_int_eq(obj_db_cont_reclaim(db, "AUTH_a", "c", &old, &gone), 0);
    ck_assert(gone);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), -ENOENT);
    ck_assert_int_eq(obj_db_cont_rows_since(db, "AUTH_a", "c", 0, 100, &rows, &n), -ENOENT);
    ck_assert_int_eq(obj_db_cont_reclaim(db, "AUTH_a", "c", &old, &gone), -ENOENT);
    obj_db_close(db);
    obj_db_close(ref);
    tdb_cleanup(&t);
}
END_TEST

START_TEST(drop_if_removes_a_record_only_while_unchanged)
{
    struct tdb t = {0};
    struct obj_db *db = tdb_open(&t, "a", OBJ_DB_NO_SYNC);
    struct err e;
    bool created, dropped;
    struct ts t0 = T(1000);
    unsigned char fp[16], fp2[16];
    ck_assert_int_eq(obj_db_cont_fingerprint(db, "AUTH_a", "c", fp), -ENOENT);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t0, 0, 0, NULL, 0, &created, &e), 0);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "keep", &t0, 0, 0, NULL, 0, &created, &e), 0);
    for (int i = 0; i < 50; i++) {
        char name[16];
        snprintf(name, sizeof(name), "o%02d", i);
        ck_assert_int_eq(put_obj(db, "c", name, 2000, 10, "e"), 0);
        ck_assert_int_eq(put_obj(db, "keep", name, 2000, 10, "e"), 0);
    }
    ck_assert_int_eq(obj_db_cont_fingerprint(db, "AUTH_a", "c", fp), 0);
    ck_assert_int_eq(obj_db_cont_fingerprint(db, "AUTH_a", "c", fp2), 0);
    ck_assert_mem_eq(fp, fp2, 16);
    /* a row written after the fingerprint: the copy stays */
    ck_assert_int_eq(put_obj(db, "c", "late", 2001, 1, "e"), 0);
    ck_assert_int_eq(obj_db_cont_drop_if(db, "AUTH_a", "c", fp, &dropped), 0);
    ck_assert(!dropped);
    /* so does metadata */
    ck_assert_int_eq(obj_db_cont_fingerprint(db, "AUTH_a", "c", fp), 0);
    struct obj_db_kv md = {"X-Container-Meta-Color", "red"};
    struct ts t1 = T(1001);
    ck_assert_int_eq(obj_db_cont_post(db, "AUTH_a", "c", &t1, &md, 1, &e), 0);
    ck_assert_int_eq(obj_db_cont_drop_if(db, "AUTH_a", "c", fp, &dropped), 0);
    ck_assert(!dropped);
    /* unchanged: all of it goes, the neighbour stays whole */
    ck_assert_int_eq(obj_db_cont_fingerprint(db, "AUTH_a", "c", fp), 0);
    ck_assert_int_eq(obj_db_cont_drop_if(db, "AUTH_a", "c", fp, &dropped), 0);
    ck_assert(dropped);
    struct obj_db_cont_info ci;
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), -ENOENT);
    ck_assert_int_eq(obj_db_cont_drop_if(db, "AUTH_a", "c", fp, &dropped), -ENOENT);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "keep", &ci), 0);
    ck_assert_uint_eq(ci.object_count, 50);
    obj_db_cont_info_release(&ci);
    /* a new container of the same name starts empty: no old rows come back */
    struct ts t3 = T(3000);
    ck_assert_int_eq(obj_db_cont_put(db, "AUTH_a", "c", &t3, 0, 0, NULL, 0, &created, &e), 0);
    ck_assert(created);
    struct obj_db_obj_row *rows;
    size_t n;
    ck_assert_int_eq(obj_db_cont_rows_since(db, "AUTH_a", "c", 0, 100, &rows, &n), 0);
    ck_assert_uint_eq(n, 0);
    obj_db_obj_rows_free(rows, n);
    ck_assert_int_eq(obj_db_cont_get_info(db, "AUTH_a", "c", &ci), 0);
    ck_assert_uint_eq(ci.object_count, 0);
    ck_assert_uint_eq(ci.nmeta, 0);
    obj_db_cont_info_release(&ci);
    /* accounts alike */
    ck_assert_int_eq(obj_db_acct_put(db, "AUTH_a", &t0, NULL, 0, &created, &e), 0);
    ck_assert_int_eq(obj_db_acct_fingerprint(db, "AUTH_a", fp), 0);
    ck_assert_int_eq(obj_db_acct_drop_if(db, "AUTH_a", fp, &dropped), 0);
    ck_assert(dropped);
    struct obj_db_acct_info ai;
    ck_assert_int_eq(obj_db_acct_get_info(db, "AUTH_a", &ai), -ENOENT);
    obj_db_close(db);
    tdb_cleanup(&t);
}
END_TEST

START_TEST(account_reclaim)
{
    struct tdb t = {0};
    struct obj_db *db = tdb_open(&t, "a", OBJ_DB_NO_SYNC);
    struct err e;
    bool created, gone;
    struct ts t0 = T(1000);
    ck_assert_int_eq(obj_db_acct_put(db, "AUTH_a", &t0, NULL, 0, &created, &e), 0);
    struct obj_db_cont_report live = {"live", T(1001), {0, 0}, 1, 10, 0};
    struct obj_db_cont_report dead = {"dead", T(1001), T(1002), 0, 0, 0};
    ck_assert_int_eq(obj_db_acct_update_container(db, "AUTH_a", &live, false, false), 0);
    ck_assert_int_eq(obj_db_acct_update_container(db, "AUTH_a", &dead, false, false), 0);
    struct ts age = T(2000);
    ck_assert_int_eq(obj_db_acct_reclaim(db, "AUTH_a", &age, &gone), 0);
    ck_assert(!gone);
    struct obj_db_cont_row *rows;
    size_t n;
    ck_assert_int_eq(obj_db_acct_rows_since(db, "AUTH_a", 0, 10, &rows, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(rows[0].name, "live");
    obj_db_cont_rows_free(rows, n);
    struct ts td = T(1500);
    ck_assert_int_eq(obj_db_acct_delete(db, "AUTH_a", &td), 0);
    /* still a live container row: not reclaimable */
    ck_assert_int_eq(obj_db_acct_reclaim(db, "AUTH_a", &age, &gone), 0);
    ck_assert(!gone);
    struct obj_db_cont_report gone_c = {"live", T(1001), T(1600), 0, 0, 0};
    ck_assert_int_eq(obj_db_acct_update_container(db, "AUTH_a", &gone_c, false, true), 0);
    ck_assert_int_eq(obj_db_acct_reclaim(db, "AUTH_a", &age, &gone), 0);
    ck_assert(gone);
    struct obj_db_acct_info ai;
    ck_assert_int_eq(obj_db_acct_get_info(db, "AUTH_a", &ai), -ENOENT);
    obj_db_close(db);
    tdb_cleanup(&t);
}
END_TEST


static void sync_cont(struct obj_db *from, struct obj_db *to)
{
    struct obj_db_cont_info ci;
    ck_assert_int_eq(obj_db_cont_get_info(from, "AUTH_a", "c", &ci), 0);
    ck_assert_int_eq(obj_db_cont_merge_info(to, &ci), 0);
    int64_t point;
    ck_assert_int_eq(obj_db_cont_get_sync(to, "AUTH_a", "c", ci.id, true, &point), 0);
    uint64_t since = point < 0 ? 0 : (uint64_t)point;
    for (;;) {
        struct obj_db_obj_row *rows;
        size_t n;
        ck_assert_int_eq(obj_db_cont_rows_since(from, "AUTH_a", "c", since, 7, &rows, &n), 0);
        if (n == 0)
            break;
        ck_assert_int_eq(obj_db_cont_merge_rows(to, "AUTH_a", "c", rows, n, ci.id,
                                                rows[n - 1].seq), 0);
        since = rows[n - 1].seq;
        obj_db_obj_rows_free(rows, n);
    }
    ck_assert_int_eq(obj_db_cont_get_sync(to, "AUTH_a", "c", ci.id, true, &point), 0);
    ck_assert_int_eq(point, (int64_t)ci.max_row);
    obj_db_cont_info_release(&ci);
}

START_TEST(container_merge_converges)
{
    struct tdb t = {0};
    struct obj_db *a = tdb_open(&t, "a", OBJ_DB_NO_SYNC);
    struct obj_db *b = tdb_open(&t, "b", OBJ_DB_NO_SYNC);
    struct err e;
    bool created;
    struct ts t0 = T(1000), t1 = T(1001);
    struct obj_db_kv ma[] = {{"X-Container-Meta-A", "1"}, {"X-Container-Meta-Both", "old"}};
    struct obj_db_kv mb[] = {{"X-Container-Meta-B", "2"}, {"X-Container-Meta-Both", "new"}};
    ck_assert_int_eq(obj_db_cont_put(a, "AUTH_a", "c", &t0, 0, 0, ma, 2, &created, &e), 0);
    ck_assert_int_eq(obj_db_cont_put(b, "AUTH_a", "c", &t1, 0, 0, mb, 2, &created, &e), 0);
    /* diverging histories over the same names */
    unsigned seed = 99;
    for (int op = 0; op < 400; op++) {
        seed = seed * 1103515245 + 12345;
        struct obj_db *db = (seed >> 3) & 1 ? a : b;
        char name[16];
        snprintf(name, sizeof(name), "n%02u", (seed >> 8) % 30);
        uint64_t when = 2000 + (seed >> 12) % 300;
        if ((seed >> 5) % 3 == 0)
            ck_assert_int_eq(del_obj(db, "c", name, when), 0);
        else
            ck_assert_int_eq(put_obj(db, "c", name, when, (seed >> 20) % 100, "e"), 0);
    }
    sync_cont(a, b);
    sync_cont(b, a);
    struct obj_db_cont_info ia, ib;
    ck_assert_int_eq(obj_db_cont_get_info(a, "AUTH_a", "c", &ia), 0);
    ck_assert_int_eq(obj_db_cont_get_info(b, "AUTH_a", "c", &ib), 0);
    ck_assert_uint_eq(ia.object_count, ib.object_count);
    ck_assert_uint_eq(ia.bytes_used, ib.bytes_used);
    ck_assert_mem_eq(ia.hash, ib.hash, 16);
    ck_assert_int_eq(ts_cmp(&ia.put_ts, &ib.put_ts), 0);
    ck_assert_int_eq(ts_cmp(&ia.put_ts, &t1), 0);
    ck_assert_uint_eq(ia.nmeta, 3);
    ck_assert_uint_eq(ib.nmeta, 3);
    ck_assert_str_eq(meta_value(&ia, "X-Container-Meta-Both"), "new");
    ck_assert_str_eq(meta_value(&ib, "X-Container-Meta-Both"), "new");
    obj_db_cont_info_release(&ia);
    obj_db_cont_info_release(&ib);
    struct collect ca, cb;
    struct obj_db_list_params p = {.limit = 1000};
    ca.len = cb.len = 0;
    ca.out[0] = cb.out[0] = '\0';
    ck_assert_int_eq(obj_db_cont_list(a, "AUTH_a", "c", &p, -1, collect_fn, &ca), 0);
    ck_assert_int_eq(obj_db_cont_list(b, "AUTH_a", "c", &p, -1, collect_fn, &cb), 0);
    ck_assert_str_eq(ca.out, cb.out);
    ck_assert_uint_gt(ca.len, 0);
    /* rows a took from b got new sequence numbers there (as Swift's ROWIDs
     * do), so a second pass sends them back; they change nothing */
    sync_cont(a, b);
    int64_t point;
    ck_assert_int_eq(obj_db_cont_get_info(a, "AUTH_a", "c", &ia), 0);
    ck_assert_int_eq(obj_db_cont_get_info(b, "AUTH_a", "c", &ib), 0);
    ck_assert_mem_eq(ia.hash, ib.hash, 16);
    struct obj_db_obj_row *rows;
    size_t n;
    ck_assert_int_eq(obj_db_cont_rows_since(a, "AUTH_a", "c", ia.max_row, 10, &rows, &n), 0);
    ck_assert_uint_eq(n, 0);
    obj_db_obj_rows_free(rows, n);
    obj_db_cont_info_release(&ia);
    obj_db_cont_info_release(&ib);
    ck_assert_int_eq(obj_db_cont_set_sync(a, "AUTH_a", "c", "peer", false, 42), 0);
    ck_assert_int_eq(obj_db_cont_get_sync(a, "AUTH_a", "c", "peer", false, &point), 0);
    ck_assert_int_eq(point, 42);
    ck_assert_int_eq(obj_db_cont_get_sync(a, "AUTH_a", "c", "other", false, &point), 0);
    ck_assert_int_eq(point, -1);
    obj_db_close(a);
    obj_db_close(b);
    tdb_cleanup(&t);
}
END_TEST

START_TEST(account_merge_converges)
{
    struct tdb t = {0};
    struct obj_db *a = tdb_open(&t, "a", OBJ_DB_NO_SYNC);
    struct obj_db *b = tdb_open(&t, "b", OBJ_DB_NO_SYNC);
    struct err e;
    bool created;
    struct ts t0 = T(1000);
    ck_assert_int_eq(obj_db_acct_put(a, "AUTH_a", &t0, NULL, 0, &created, &e), 0);
    struct obj_db_cont_report r1 = {"x", T(1001), {0, 0}, 1, 10, 0};
    struct obj_db_cont_report r2 = {"y", T(1002), {0, 0}, 2, 20, 0};
    struct obj_db_cont_report r3 = {"x", T(1001), T(1003), 0, 0, 0};
    ck_assert_int_eq(obj_db_acct_update_container(a, "AUTH_a", &r1, false, false), 0);
    ck_assert_int_eq(obj_db_acct_update_container(a, "AUTH_a", &r2, false, false), 0);
    /* b only ever heard that x was deleted */
    struct obj_db_acct_info ai;
    ck_assert_int_eq(obj_db_acct_get_info(a, "AUTH_a", &ai), 0);
    ck_assert_int_eq(obj_db_acct_merge_info(b, &ai), 0);
    obj_db_acct_info_release(&ai);
    ck_assert_int_eq(obj_db_acct_update_container(b, "AUTH_a", &r3, false, false), 0);
    struct obj_db_cont_row *rows;
    size_t n;
    ck_assert_int_eq(obj_db_acct_rows_since(a, "AUTH_a", 0, 100, &rows, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(obj_db_acct_merge_rows(b, "AUTH_a", rows, n, "A", rows[n - 1].seq), 0);
    obj_db_cont_rows_free(rows, n);
    struct obj_db_acct_info ib;
    ck_assert_int_eq(obj_db_acct_get_info(b, "AUTH_a", &ib), 0);
    /* x: the newest delete is kept, the count comes with the merged row */
    ck_assert_uint_eq(ib.container_count, 2);
    obj_db_acct_info_release(&ib);
    ck_assert_int_eq(obj_db_acct_rows_since(b, "AUTH_a", 0, 100, &rows, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(obj_db_acct_merge_rows(a, "AUTH_a", rows, n, "B", rows[n - 1].seq), 0);
    obj_db_cont_rows_free(rows, n);
    int64_t point;
    ck_assert_int_eq(obj_db_acct_get_sync(a, "AUTH_a", "B", true, &point), 0);
    ck_assert_int_gt(point, 0);
    ck_assert_int_eq(obj_db_acct_set_sync(a, "AUTH_a", "B", false, 3), 0);
    struct obj_db_acct_info ia;
    ck_assert_int_eq(obj_db_acct_get_info(a, "AUTH_a", &ia), 0);
    ck_assert_int_eq(obj_db_acct_get_info(b, "AUTH_a", &ib), 0);
    ck_assert_uint_eq(ia.container_count, ib.container_count);
    ck_assert_uint_eq(ia.object_count, ib.object_count);
    ck_assert_uint_eq(ia.bytes_used, ib.bytes_used);
    obj_db_acct_info_release(&ia);
    obj_db_acct_info_release(&ib);
    obj_db_close(a);
    obj_db_close(b);
    tdb_cleanup(&t);
}
END_TEST

static Suite *obj_db_suite(void)
{
    Suite *s = suite_create("obj_db");
    TCase *tc = tcase_create("basics");
    tcase_add_test(tc, http_status_maps_swift_codes);
    tcase_add_test(tc, content_type_split_matches_extract_swift_bytes);
    suite_add_tcase(s, tc);
    tc = tcase_create("container");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, container_lifecycle_follows_swift);
    tcase_add_test(tc, container_metadata_limits_give_400);
    tcase_add_test(tc, object_rows_newest_wins_and_delete_needs_empty);
    tcase_add_test(tc, object_rows_content_type_and_meta_times_merge_separately);
    tcase_add_test(tc, object_totals_stay_exact_over_many_operations);
    tcase_add_test(tc, concurrent_updates_keep_totals_exact);
    tcase_add_test(tc, kill_during_writes_loses_nothing_acknowledged);
    tcase_add_test(tc, container_listing_rules);
    suite_add_tcase(s, tc);
    tc = tcase_create("account");
    tcase_add_test(tc, account_lifecycle_and_rollup);
    suite_add_tcase(s, tc);
    tc = tcase_create("replication");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, container_merge_converges);
    tcase_add_test(tc, account_merge_converges);
    tcase_add_test(tc, reclaim_drops_old_tombstones_then_the_container);
    tcase_add_test(tc, account_reclaim);
    tcase_add_test(tc, drop_if_removes_a_record_only_while_unchanged);
    tcase_add_test(tc, foreach_walks_every_db_once_by_partition);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(obj_db_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

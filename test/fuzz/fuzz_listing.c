/*
 * fuzz_listing.c - libFuzzer target for listing requests: the input is a
 * query string and an Accept header (split at the first NUL). It goes
 * through obj_listing_query_parse and, when accepted, through a container
 * and an account listing of a small fixture in a RocksDB opened once per
 * process (names with delimiters, UTF-8, markup characters) and the
 * formatter. Finds crashes, leaks and undefined behaviour in the query
 * parser, Swift's marker/delimiter/path walk and the escaping; checks that
 * no listing exceeds its limit and that JSON output is bracketed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "objectd/obj_db.h"
#include "objectd/obj_listing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct obj_db *db;
static char dir[64];

static void cleanup(void)
{
    obj_db_close(db);
    char *cmd = xasprintf("rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_listing: could not remove %s\n", dir);
    free(cmd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const names[] = {
        "a", "a/", "a/b", "a/b/c", "a/b0", "a//x", "b", "b/x", "c&<>\"'", "\xc3\xa9/\xc3\xbc",
        "\xf0\x9f\x98\x80", "x\ty", "zz", "zz/", "zz/zz/zz", "-", "--", "a-b-c",
    };
    struct hashpath_secret s = {"", ""};
    struct err e;
    bool created;
    struct ts t = {170000000000000, 0};
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof(dir), "/tmp/fuzz_listing.XXXXXX");
    if (!mkdtemp(dir))
        abort();
    db = obj_db_open(dir, &s, OBJ_DB_NO_SYNC, &e);
    if (!db)
        abort();
    atexit(cleanup);
    if (obj_db_cont_put(db, "a", "c", &t, 0, 0, NULL, 0, &created, &e) != 0 ||
        obj_db_acct_put(db, "a", &t, NULL, 0, &created, &e) != 0)
        abort();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct obj_db_obj_update u = {.name = names[i], .ts = t, .size = i,
                                      .content_type = i % 3 ? "text/plain" : "a/b;swift_bytes=9",
                                      .etag = "e", .deleted = i % 7 == 6};
        struct obj_db_cont_report r = {names[i], t, {0, 0}, i, i, 0};
        if (obj_db_cont_update_object(db, "a", "c", &u, false, NULL) != 0 ||
            obj_db_acct_update_container(db, "a", &r, false, false) != 0)
            abort();
    }
    return 0;
}

struct out {
    size_t len;
    char first, last;
};

static int sink(void *arg, const char *p, size_t n)
{
    struct out *o = arg;
    if (n && !o->len)
        o->first = p[0];
    if (n)
        o->last = p[n - 1];
    o->len += n;
    return 0;
}

static void list(const struct obj_listing_query *q, bool account)
{
    struct out o = {0, 0, 0};
    struct obj_listing_fmt *f = obj_listing_fmt_new(q->format, account, "c", sink, &o);
    int rc = account ? obj_db_acct_list(db, "a", &q->params, obj_listing_fmt_entry, f)
                     : obj_db_cont_list(db, "a", "c", &q->params, -1, obj_listing_fmt_entry, f);
    if (rc != 0 || obj_listing_fmt_finish(f) != 0)
        abort();
    if (obj_listing_fmt_count(f) > q->params.limit)
        abort();
    if (q->format == OBJ_LISTING_JSON && (o.first != '[' || o.last != ']'))
        abort();
    obj_listing_fmt_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *qs = xstrndup((const char *)data, size);
    size_t qlen = strlen(qs);
    char *accept = qlen < size ? xstrndup((const char *)data + qlen + 1, size - qlen - 1) : NULL;
    struct obj_listing_query q;
    struct err e;
    if (obj_listing_query_parse(qs, accept, &q, &e) == 0) {
        list(&q, false);
        list(&q, true);
    }
    obj_listing_query_release(&q);
    free(qs);
    free(accept);
    return 0;
}

/*
 * obj_repl_db.c - replication of container and account databases
 * (Swift's db_replicator, over RocksDB rows instead of SQLite files).
 *
 * Every container (account) record on a local device of the container
 * (account) ring is pushed to the other primaries of its partition, or to
 * all of them when this device is not a primary. One exchange per peer,
 * over REPLICATE on the peer's container (account) port with a JSON body:
 *
 *   {"op":"sync", "info":{...}}   the peer merges our record (created_at
 *        min, put/delete max, metadata newest per key; creates it when
 *        missing) and answers {"id", "hash", "max_row", "point"}: its
 *        copy's id, row hash and highest row, and the highest of our rows
 *        it already merged (its incoming sync point for our id, -1: none);
 *   {"op":"merge_items", "id":..., "rows":[...], "point":N}
 *        the peer merges the rows (newest timestamp wins per part) and
 *        records N as its incoming sync point for our id, in one write.
 *
 * Equal row hashes mean equal rows: nothing more is sent. Otherwise our
 * rows after the peer's sync point go in batches of REPL_DB_BATCH in
 * sequence order. A peer that never saw us (point -1) gets every row:
 * Swift's "far behind: send the whole file" (rsync_then_merge) is this
 * case, done with the same batches rather than a file copy. Pushes go one
 * way; the peer's own pass sends its rows back. Tombstone rows travel
 * like live ones; obj_db_*_reclaim drops them after reclaim_age here.
 *
 * A copy on a device that is not one of its partition's primaries (a
 * handoff: a primary was down when it was written, or a rebalance moved
 * the partition) is removed once every primary took everything it holds,
 * Swift's "shouldbehere is false and all responses succeeded", and only
 * if nothing was written to it since its state was read before the push
 * (obj_db_*_drop_if compares a fingerprint under the record's lock).
 *
 * Threading: obj_repl_dbs_once blocks (RocksDB, libcurl); obj_repl_db_apply
 * runs on a disk thread of the server.
 */
#define LOG_COMPONENT "objectd"

#include "objectd/obj_repl_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timestamp.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_db.h"
#include "objectd/obj_diskfile.h"
#include "objectd/obj_server.h"

#define REPL_DB_BATCH 1000

/* ------------------------------------------------------------- codec */

static json_t *ts_json(const struct ts *t)
{
    char b[TS_INTERNAL_LEN];
    ts_internal(t, b);
    return json_string(b);
}

static int ts_get(json_t *o, const char *key, struct ts *out)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s) {
        out->units = 0;
        out->offset = 0;
        return 0; /* zero: "never" */
    }
    return ts_parse(s, out);
}

static uint64_t u64_get(json_t *o, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(o, key));
    return v > 0 ? (uint64_t)v : 0;
}

static char *str_dup_get(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return xstrdup(s ? s : "");
}

static json_t *meta_json(const struct obj_db_meta *m, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("[s,s,o]", m[i].key, m[i].value,
                                           ts_json(&m[i].ts)));
    return a;
}

static int meta_parse(json_t *a, struct obj_db_meta **out, size_t *n)
{
    size_t cnt = json_array_size(a);
    *out = cnt ? xcalloc(cnt, sizeof(**out)) : NULL;
    *n = 0;
    for (size_t i = 0; i < cnt; i++) {
        json_t *e = json_array_get(a, i);
        const char *k = json_string_value(json_array_get(e, 0));
        const char *v = json_string_value(json_array_get(e, 1));
        const char *t = json_string_value(json_array_get(e, 2));
        struct ts ts;
        if (!k || !v || !t || ts_parse(t, &ts) != 0)
            return -EINVAL;
        (*out)[*n].key = xstrdup(k);
        (*out)[*n].value = xstrdup(v);
        (*out)[*n].ts = ts;
        (*n)++;
    }
    return 0;
}

static json_t *cont_info_json(const struct obj_db_cont_info *ci)
{
    char hash[33];
    hex_encode(ci->hash, sizeof(ci->hash), hash);
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:I,s:s,s:s,s:I,s:o}",
                     "account", ci->account, "container", ci->container,
                     "created_at", ts_json(&ci->created_at),
                     "put_ts", ts_json(&ci->put_ts),
                     "delete_ts", ts_json(&ci->delete_ts),
                     "status_changed_at", ts_json(&ci->status_changed_at),
                     "policy_index", (json_int_t)ci->policy_index,
                     "id", ci->id, "hash", hash,
                     "max_row", (json_int_t)ci->max_row,
                     "meta", meta_json(ci->meta, ci->nmeta));
}

static json_t *acct_info_json(const struct obj_db_acct_info *ai)
{
    char hash[33];
    hex_encode(ai->hash, sizeof(ai->hash), hash);
    return json_pack("{s:s,s:o,s:o,s:o,s:o,s:s,s:s,s:I,s:o}",
                     "account", ai->account,
                     "created_at", ts_json(&ai->created_at),
                     "put_ts", ts_json(&ai->put_ts),
                     "delete_ts", ts_json(&ai->delete_ts),
                     "status_changed_at", ts_json(&ai->status_changed_at),
                     "id", ai->id, "hash", hash,
                     "max_row", (json_int_t)ai->max_row,
                     "meta", meta_json(ai->meta, ai->nmeta));
}

/* The common part of both info records from JSON. */
static int info_times(json_t *j, struct ts *created, struct ts *put,
                      struct ts *del, struct ts *changed)
{
    if (ts_get(j, "created_at", created) || ts_get(j, "put_ts", put) ||
        ts_get(j, "delete_ts", del) || ts_get(j, "status_changed_at", changed))
        return -EINVAL;
    return 0;
}

static json_t *obj_rows_json(const struct obj_db_obj_row *r, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack(
            "{s:s,s:o,s:o,s:o,s:I,s:s,s:s,s:b,s:I}", "name", r[i].name,
            "data_ts", ts_json(&r[i].data_ts), "ctype_ts",
            ts_json(&r[i].ctype_ts), "meta_ts", ts_json(&r[i].meta_ts),
            "size", (json_int_t)r[i].size, "content_type",
            r[i].content_type ? r[i].content_type : "", "etag",
            r[i].etag ? r[i].etag : "", "deleted", r[i].deleted,
            "policy_index", (json_int_t)r[i].policy_index));
    return a;
}

static json_t *cont_rows_json(const struct obj_db_cont_row *r, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack(
            "{s:s,s:o,s:o,s:I,s:I,s:b,s:I}", "name", r[i].name, "put_ts",
            ts_json(&r[i].put_ts), "delete_ts", ts_json(&r[i].delete_ts),
            "object_count", (json_int_t)r[i].object_count, "bytes_used",
            (json_int_t)r[i].bytes_used, "deleted", r[i].deleted,
            "policy_index", (json_int_t)r[i].policy_index));
    return a;
}

/* ------------------------------------------------------ server side */

static int apply_sync(struct obj_db *db, bool acct, json_t *info,
                      const char *a, const char *c, const char *peer_id,
                      json_t **resp)
{
    int rc;
    int64_t point = -1;
    char hash[33];
    if (acct) {
        struct obj_db_acct_info p;
        memset(&p, 0, sizeof(p));
        p.account = xstrdup(a);
        rc = info_times(info, &p.created_at, &p.put_ts, &p.delete_ts,
                        &p.status_changed_at);
        if (rc == 0)
            rc = meta_parse(json_object_get(info, "meta"), &p.meta, &p.nmeta);
        if (rc == 0)
            rc = obj_db_acct_merge_info(db, &p);
        obj_db_acct_info_release(&p);
        struct obj_db_acct_info mine;
        memset(&mine, 0, sizeof(mine));
        if (rc == 0)
            rc = obj_db_acct_get_info(db, a, &mine);
        if (rc == 0)
            rc = obj_db_acct_get_sync(db, a, peer_id, true, &point);
        if (rc == 0) {
            hex_encode(mine.hash, sizeof(mine.hash), hash);
            *resp = json_pack("{s:s,s:s,s:I,s:I}", "id", mine.id, "hash",
                              hash, "max_row", (json_int_t)mine.max_row,
                              "point", (json_int_t)point);
        }
        obj_db_acct_info_release(&mine);
        return rc;
    }
    struct obj_db_cont_info p;
    memset(&p, 0, sizeof(p));
    p.account = xstrdup(a);
    p.container = xstrdup(c);
    p.policy_index = (uint32_t)u64_get(info, "policy_index");
    rc = info_times(info, &p.created_at, &p.put_ts, &p.delete_ts,
                    &p.status_changed_at);
    if (rc == 0)
        rc = meta_parse(json_object_get(info, "meta"), &p.meta, &p.nmeta);
    if (rc == 0)
        rc = obj_db_cont_merge_info(db, &p);
    obj_db_cont_info_release(&p);
    struct obj_db_cont_info mine;
    memset(&mine, 0, sizeof(mine));
    if (rc == 0)
        rc = obj_db_cont_get_info(db, a, c, &mine);
    if (rc == 0)
        rc = obj_db_cont_get_sync(db, a, c, peer_id, true, &point);
    if (rc == 0) {
        hex_encode(mine.hash, sizeof(mine.hash), hash);
        *resp = json_pack("{s:s,s:s,s:I,s:I}", "id", mine.id, "hash", hash,
                          "max_row", (json_int_t)mine.max_row, "point",
                          (json_int_t)point);
    }
    obj_db_cont_info_release(&mine);
    return rc;
}

static int apply_merge(struct obj_db *db, bool acct, json_t *rows,
                       const char *a, const char *c, const char *peer_id,
                       uint64_t point)
{
    size_t n = json_array_size(rows);
    int rc = 0;
    if (acct) {
        struct obj_db_cont_row *r = n ? xcalloc(n, sizeof(*r)) : NULL;
        for (size_t i = 0; i < n && rc == 0; i++) {
            json_t *e = json_array_get(rows, i);
            r[i].name = str_dup_get(e, "name");
            if (ts_get(e, "put_ts", &r[i].put_ts) ||
                ts_get(e, "delete_ts", &r[i].delete_ts))
                rc = -EINVAL;
            r[i].object_count = u64_get(e, "object_count");
            r[i].bytes_used = u64_get(e, "bytes_used");
            r[i].deleted = json_is_true(json_object_get(e, "deleted"));
            r[i].policy_index = (uint32_t)u64_get(e, "policy_index");
        }
        if (rc == 0)
            rc = obj_db_acct_merge_rows(db, a, r, n, peer_id, point);
        obj_db_cont_rows_free(r, n);
        return rc;
    }
    struct obj_db_obj_row *r = n ? xcalloc(n, sizeof(*r)) : NULL;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *e = json_array_get(rows, i);
        r[i].name = str_dup_get(e, "name");
        r[i].content_type = str_dup_get(e, "content_type");
        r[i].etag = str_dup_get(e, "etag");
        if (ts_get(e, "data_ts", &r[i].data_ts) ||
            ts_get(e, "ctype_ts", &r[i].ctype_ts) ||
            ts_get(e, "meta_ts", &r[i].meta_ts))
            rc = -EINVAL;
        r[i].size = u64_get(e, "size");
        r[i].deleted = json_is_true(json_object_get(e, "deleted"));
        r[i].policy_index = (uint32_t)u64_get(e, "policy_index");
    }
    if (rc == 0)
        rc = obj_db_cont_merge_rows(db, a, c, r, n, peer_id, point);
    obj_db_obj_rows_free(r, n);
    return rc;
}

int obj_repl_db_apply(struct obj_db *db, bool acct, const char *a,
                      const char *c, json_t *req, json_t **resp)
{
    const char *op = json_string_value(json_object_get(req, "op"));
    const char *peer_id = json_string_value(json_object_get(req, "id"));
    *resp = NULL;
    if (!op || !peer_id || !peer_id[0])
        return -EINVAL;
    if (strcmp(op, "sync") == 0) {
        json_t *info = json_object_get(req, "info");
        if (!json_is_object(info))
            return -EINVAL;
        return apply_sync(db, acct, info, a, c, peer_id, resp);
    }
    if (strcmp(op, "merge_items") == 0) {
        json_t *rows = json_object_get(req, "rows");
        if (!json_is_array(rows))
            return -EINVAL;
        int rc = apply_merge(db, acct, rows, a, c, peer_id,
                             u64_get(req, "point"));
        if (rc == 0)
            *resp = json_object();
        return rc;
    }
    return -EINVAL;
}

/* ------------------------------------------------------ client side */

struct db_name {
    char *a, *c;
};

struct db_list {
    struct db_name *v;
    size_t n, cap;
};

static void list_add(struct db_list *l, const char *a, const char *c)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n].a = xstrdup(a);
    l->v[l->n].c = c ? xstrdup(c) : NULL;
    l->n++;
}

static int cont_each(void *arg, const struct obj_db_cont_info *info)
{
    list_add(arg, info->account, info->container);
    return 0;
}

static int acct_each(void *arg, const struct obj_db_acct_info *info)
{
    list_add(arg, info->account, NULL);
    return 0;
}

struct db_pass {
    struct obj_bg *bg;
    struct obj_bg_stats *st;
    struct obj_bg_http *http;
    struct obj_db *db;
    bool acct;
};

/* POSTs one REPLICATE body; returns the answer (new reference) or NULL. */
static json_t *exchange(struct db_pass *dp, const struct obj_bg_node *t,
                        const char *path, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text)
        abort();
    struct curl_slist *h = curl_slist_append(NULL,
                                             "Content-Type: application/json");
    struct obj_bg_req r = { .method = "REPLICATE", .node = t, .path = path,
                            .headers = h, .want_resp = true };
    r.body_len = strlen(text);
    r.body_fn = obj_bg_read_mem;
    r.body_arg = text;
    int code = obj_bg_http_do(dp->http, &r);
    curl_slist_free_all(h);
    free(text);
    json_t *j = NULL;
    if (code == 200) {
        json_error_t je;
        j = json_loads(r.resp, 0, &je);
    } else if (code > 0) {
        log_warn("REPLICATE %s:%d%s: status %d", t->ip, t->port, path, code);
    }
    free(r.resp);
    if (!j)
        dp->st->failures++;
    return j;
}

/* Our info as JSON, our id and our row hash; -errno when gone. */
static int local_info(struct db_pass *dp, const struct db_name *nm,
                      json_t **info, char id[40], char hash[33])
{
    int rc;
    if (dp->acct) {
        struct obj_db_acct_info ai;
        memset(&ai, 0, sizeof(ai));
        rc = obj_db_acct_get_info(dp->db, nm->a, &ai);
        if (rc == 0) {
            *info = acct_info_json(&ai);
            str_copy(id, ai.id, 40);
            hex_encode(ai.hash, sizeof(ai.hash), hash);
        }
        obj_db_acct_info_release(&ai);
        return rc;
    }
    struct obj_db_cont_info ci;
    memset(&ci, 0, sizeof(ci));
    rc = obj_db_cont_get_info(dp->db, nm->a, nm->c, &ci);
    if (rc == 0) {
        *info = cont_info_json(&ci);
        str_copy(id, ci.id, 40);
        hex_encode(ci.hash, sizeof(ci.hash), hash);
    }
    obj_db_cont_info_release(&ci);
    return rc;
}

/* Rows after `since` as JSON (at most a batch); *last = the last seq. */
static int rows_after(struct db_pass *dp, const struct db_name *nm,
                      uint64_t since, json_t **rows, uint64_t *last,
                      size_t *n)
{
    int rc;
    if (dp->acct) {
        struct obj_db_cont_row *r = NULL;
        rc = obj_db_acct_rows_since(dp->db, nm->a, since, REPL_DB_BATCH, &r,
                                    n);
        if (rc == 0) {
            *rows = cont_rows_json(r, *n);
            *last = *n ? r[*n - 1].seq : since;
        }
        obj_db_cont_rows_free(r, rc == 0 ? *n : 0);
        return rc;
    }
    struct obj_db_obj_row *r = NULL;
    rc = obj_db_cont_rows_since(dp->db, nm->a, nm->c, since, REPL_DB_BATCH, &r,
                                n);
    if (rc == 0) {
        *rows = obj_rows_json(r, *n);
        *last = *n ? r[*n - 1].seq : since;
    }
    obj_db_obj_rows_free(r, rc == 0 ? *n : 0);
    return rc;
}

/* Brings target t up to date with our copy of nm. Returns whether it is. */
static bool sync_one(struct db_pass *dp, const struct db_name *nm,
                     const struct obj_bg_node *t, uint32_t part)
{
    json_t *info = NULL;
    char id[40], hash[33];
    if (local_info(dp, nm, &info, id, hash) != 0)
        return true; /* gone meanwhile (reclaimed): nothing to push */
    char *name = nm->c ? xasprintf("/%s/%s", nm->a, nm->c)
                       : xasprintf("/%s", nm->a);
    char *path = obj_bg_path(t->dev, part, name);
    free(name);
    json_t *req = json_pack("{s:s,s:s,s:o}", "op", "sync", "id", id, "info",
                            info);
    json_t *resp = exchange(dp, t, path, req);
    json_decref(req);
    bool ok = resp != NULL;
    if (ok && strcmp(json_string_value(json_object_get(resp, "hash"))
                         ? json_string_value(json_object_get(resp, "hash"))
                         : "", hash) != 0) {
        json_int_t point = json_integer_value(json_object_get(resp, "point"));
        uint64_t since = point > 0 ? (uint64_t)point : 0;
        for (;;) {
            json_t *rows = NULL;
            uint64_t last = since;
            size_t n = 0;
            int rrc = rows_after(dp, nm, since, &rows, &last, &n);
            if (rrc != 0 || n == 0) {
                /* a record gone meanwhile has nothing left to push; a read
                 * error leaves the peer behind */
                if (rrc != 0 && rrc != -ENOENT)
                    ok = false;
                json_decref(rows);
                break;
            }
            json_t *m = json_pack("{s:s,s:s,s:o,s:I}", "op", "merge_items",
                                  "id", id, "rows", rows, "point",
                                  (json_int_t)last);
            json_t *r2 = exchange(dp, t, path, m);
            json_decref(m);
            if (!r2) {
                ok = false;
                break;
            }
            json_decref(r2);
            dp->st->pushed += n;
            since = last;
            if (n < REPL_DB_BATCH)
                break;
        }
    }
    json_decref(resp);
    free(path);
    return ok;
}

/* Removes our handoff copy of nm if it is still what every primary got. */
static void drop_handoff(struct db_pass *dp, const struct db_name *nm, const char *dev,
                         const unsigned char fp[16])
{
    bool dropped = false;
    int rc = dp->acct ? obj_db_acct_drop_if(dp->db, nm->a, fp, &dropped)
                      : obj_db_cont_drop_if(dp->db, nm->a, nm->c, fp, &dropped);
    if (rc != 0 && rc != -ENOENT) {
        log_warn("remove handoff %s /%s%s%s on %s: %s", dp->acct ? "account" : "container",
                 nm->a, nm->c ? "/" : "", nm->c ? nm->c : "", dev, strerror(-rc));
        return;
    }
    if (!dropped)
        return;   /* written to meanwhile: the next pass pushes it again */
    dp->st->removed++;
    log_info("removed handoff %s /%s%s%s on %s: every primary has it",
             dp->acct ? "account" : "container", nm->a, nm->c ? "/" : "", nm->c ? nm->c : "",
             dev);
}

int obj_repl_dbs_once(struct obj_bg *bg, enum obj_bg_ring kind,
                      struct obj_bg_stats *st)
{
    struct obj_server *srv = bg->srv;
    if (!obj_bg_ring(bg, kind))
        return -ENOENT;
    bool acct = kind == OBJ_BG_RING_ACCOUNT;
    int role = acct ? OBJ_ROLE_ACCOUNT : OBJ_ROLE_CONTAINER;
    int port = srv->ports[role] ? srv->ports[role]
               : (int)(acct ? srv->conf.account_port
                            : srv->conf.container_port);
    struct obj_bg_node locals[64];
    size_t nl = obj_bg_local_devs(bg, kind, port, locals, 64);
    struct db_pass dp = { .bg = bg, .st = st, .acct = acct,
                          .http = obj_bg_http_new(bg) };
    struct ts age;
    if (ts_from_double(now_real() - (double)srv->conf.reclaim_age, 0, &age))
        age = (struct ts){ 0, 0 };
    for (size_t d = 0; d < nl && !atomic_load(&bg->stopping); d++) {
        if (obj_devices_check(srv->devs, locals[d].dev) != 0 ||
            obj_server_db(srv, locals[d].dev, &dp.db) != 0)
            continue;
        struct db_list l = { 0 };
        int rc = acct ? obj_db_acct_foreach(dp.db, -1, 0, acct_each, &l)
                      : obj_db_cont_foreach(dp.db, -1, 0, cont_each, &l);
        if (rc != 0)
            log_warn("replicate %s dbs on %s: %s", acct ? "account"
                     : "container", locals[d].dev, strerror(-rc));
        for (size_t i = 0; i < l.n && !atomic_load(&bg->stopping); i++) {
            struct db_name *nm = &l.v[i];
            bool gone = false;
            if (acct)
                obj_db_acct_reclaim(dp.db, nm->a, &age, &gone);
            else
                obj_db_cont_reclaim(dp.db, nm->a, nm->c, &age, &gone);
            if (gone)
                continue;
            int64_t part = obj_bg_partition(bg, kind, nm->a, nm->c, NULL);
            struct obj_bg_node prim[OBJ_BG_MAX_REPLICAS];
            size_t np = part < 0 ? 0
                        : obj_bg_primaries(bg, kind, (uint32_t)part, prim,
                                           OBJ_BG_MAX_REPLICAS);
            st->parts++;
            bool primary = false;
            for (size_t p = 0; p < np; p++)
                primary |= strcmp(prim[p].dev, locals[d].dev) == 0 &&
                           strcmp(prim[p].ip, locals[d].ip) == 0 &&
                           prim[p].port == locals[d].port;
            /* A handoff copy (a primary was down, or a rebalance moved the
             * partition) goes once every primary has what it holds, and
             * only if nothing was written to it meanwhile (fingerprint). */
            unsigned char fp[16];
            bool drop = !primary && np > 0 &&
                        (acct ? obj_db_acct_fingerprint(dp.db, nm->a, fp)
                              : obj_db_cont_fingerprint(dp.db, nm->a, nm->c, fp)) == 0;
            for (size_t p = 0; p < np; p++) {
                if (primary && strcmp(prim[p].dev, locals[d].dev) == 0 &&
                    strcmp(prim[p].ip, locals[d].ip) == 0 &&
                    prim[p].port == locals[d].port)
                    continue;
                if (!sync_one(&dp, nm, &prim[p], (uint32_t)part))
                    drop = false;
            }
            if (drop)
                drop_handoff(&dp, nm, locals[d].dev, fp);
        }
        for (size_t i = 0; i < l.n; i++) {
            free(l.v[i].a);
            free(l.v[i].c);
        }
        free(l.v);
    }
    obj_bg_http_free(dp.http);
    return 0;
}

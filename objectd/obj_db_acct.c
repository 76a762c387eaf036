/*
 * obj_db_acct.c - accounts: the info record, one row per container (what
 * the containers last reported), and the rules of Swift's account server
 * and AccountBroker for PUT, POST, DELETE, HEAD, container reports and
 * replication merges.
 *
 * Invariants kept by every write (one RocksDB batch each, under the
 * account's stripe lock):
 *   - one row per container name ('o' live, 'd' deleted) and its 'q'
 *     index entry;
 *   - the 's' totals of a policy: container_count = rows not deleted,
 *     object_count and bytes_used = sums over all rows of the policy (as
 *     Swift's triggers add them, deleted rows included);
 *   - the 'r' hash is the XOR of md5(name-put-delete-count-bytes).
 */
#define LOG_COMPONENT "objectd"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_db.h"
#include "objectd/obj_db_int.h"

/* ------------------------------------------------------------ info record */

struct acct_rec {
    char *account;
    struct ts created_at, put_ts, delete_ts, status_changed_at;
    bool status_deleted;     /* Swift's status = 'DELETED' */
    char id[40];
    struct obj_db_meta *meta;
    size_t nmeta;
};

static void acct_rec_release(struct acct_rec *a)
{
    free(a->account);
    obj_meta_free(a->meta, a->nmeta);
    memset(a, 0, sizeof(*a));
}

static int acct_rec_load(const struct obj_rdctx *cx, const struct obj_dbref *ref,
                         struct acct_rec *a)
{
    char *v;
    struct obj_rd r;
    memset(a, 0, sizeof(*a));
    int rc = obj_info_read(cx, ref, &v, &r);
    if (rc < 0)
        return rc;
    a->account = obj_rd_str(&r);
    a->created_at = obj_rd_ts(&r);
    a->put_ts = obj_rd_ts(&r);
    a->delete_ts = obj_rd_ts(&r);
    a->status_changed_at = obj_rd_ts(&r);
    a->status_deleted = obj_rd_u8(&r) != 0;
    char *id = obj_rd_str(&r);
    str_copy(a->id, id, sizeof(a->id));
    free(id);
    if (!r.bad)
        rc = obj_meta_decode(&r, &a->meta, &a->nmeta);
    obj_db_free_val(v);
    if (r.bad || rc < 0) {
        log_err("corrupt account info record");
        acct_rec_release(a);
        return -EIO;
    }
    return 0;
}

static void acct_rec_store(rocksdb_writebatch_wi_t *wb, const struct obj_dbref *ref,
                           const struct acct_rec *a)
{
    struct obj_buf k = {0}, v = {0};
    obj_key(&k, ref, 'i', NULL, 0);
    obj_buf_u8(&v, OBJ_VAL_V1);
    obj_buf_str(&v, a->account);
    obj_buf_ts(&v, &a->created_at);
    obj_buf_ts(&v, &a->put_ts);
    obj_buf_ts(&v, &a->delete_ts);
    obj_buf_ts(&v, &a->status_changed_at);
    obj_buf_u8(&v, a->status_deleted);
    obj_buf_str(&v, a->id);
    obj_meta_encode(&v, a->meta, a->nmeta);
    obj_wb_put(wb, &k, &v);
    obj_buf_release(&k);
    obj_buf_release(&v);
}

static void acct_rec_new(struct acct_rec *a, const char *account, const struct ts *ts)
{
    memset(a, 0, sizeof(*a));
    a->account = xstrdup(account);
    a->created_at = ts_now();
    a->put_ts = *ts;
    a->status_changed_at = *ts;
    obj_uuid4(a->id);
}

/* Container count over all policies. */
static int acct_container_count(const struct obj_rdctx *cx, const struct obj_dbref *ref,
                                int64_t *count)
{
    struct obj_db_policy_stat *ps;
    size_t n;
    int rc = obj_stat_load_all(cx, ref, &ps, &n);
    *count = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        *count += (int64_t)ps[i].container_count;
    free(ps);
    return rc;
}

/* Swift's AccountBroker._is_deleted_info. */
static bool acct_is_deleted(const struct acct_rec *a, int64_t containers)
{
    return a->status_deleted ||
           (containers <= 0 && ts_cmp(&a->delete_ts, &a->put_ts) > 0);
}

/* Swift's is_status_deleted. */
static bool acct_is_status_deleted(const struct acct_rec *a)
{
    return a->status_deleted || ts_cmp(&a->delete_ts, &a->put_ts) > 0;
}

void obj_db_acct_info_release(struct obj_db_acct_info *info)
{
    if (!info)
        return;
    free(info->account);
    free(info->policies);
    obj_meta_free(info->meta, info->nmeta);
    memset(info, 0, sizeof(*info));
}

/* Applies headers and validates; on a 400 the old metadata is kept. */
static int acct_apply_meta(struct acct_rec *a, const struct obj_db_kv *hdrs, size_t nhdrs,
                           const struct ts *ts, struct err *e)
{
    struct obj_db_meta *m = NULL;
    size_t nm = 0;
    for (size_t i = 0; i < a->nmeta; i++)
        obj_meta_merge_one(&m, &nm, a->meta[i].key, a->meta[i].value, &a->meta[i].ts);
    int rc = 0;
    if (obj_meta_apply_headers(&m, &nm, 'a', hdrs, nhdrs, ts))
        rc = obj_meta_validate(m, nm, e);
    if (rc == 0) {
        obj_meta_free(a->meta, a->nmeta);
        a->meta = m;
        a->nmeta = nm;
    } else {
        obj_meta_free(m, nm);
    }
    return rc;
}

/* --------------------------------------------------------------- requests */

int obj_db_acct_put(struct obj_db *db, const char *account, const struct ts *ts,
                    const struct obj_db_kv *hdrs, size_t nhdrs, bool *created,
                    struct err *e)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct acct_rec a;
    int64_t containers = 0;
    *created = false;
    obj_ref_acct(db, account, &ref);
    obj_txn_begin(&t, db, &ref);
    int rc = acct_rec_load(&t.cx, &ref, &a);
    if (rc == -ENOENT) {
        acct_rec_new(&a, account, ts);
        *created = true;
        rc = 0;
    } else if (rc == 0) {
        if (acct_is_status_deleted(&a)) {
            acct_rec_release(&a);
            obj_txn_end(&t, -1);
            return err_set(e, -EACCES, "Recently deleted");
        }
        rc = acct_container_count(&t.cx, &ref, &containers);
        if (rc == 0) {
            *created = acct_is_deleted(&a, containers);
            a.put_ts = *obj_ts_max(&a.put_ts, ts);
            if (acct_is_deleted(&a, containers)) {
                acct_rec_store(t.wb, &ref, &a);
                acct_rec_release(&a);
                rc = obj_txn_end(&t, 0);
                return rc < 0 ? rc : -ESTALE;
            }
        }
    }
    if (rc < 0) {
        acct_rec_release(&a);
        obj_txn_end(&t, -1);
        return rc;
    }
    rc = acct_apply_meta(&a, hdrs, nhdrs, ts, e);
    acct_rec_store(t.wb, &ref, &a);
    acct_rec_release(&a);
    int wrc = obj_txn_end(&t, 0);
    return wrc < 0 ? wrc : rc;
}

/* Loads the record and fails with -ENOENT when missing or deleted. */
static int acct_load_live(struct obj_txn *t, struct acct_rec *a)
{
    int64_t containers;
    int rc = acct_rec_load(&t->cx, &t->ref, a);
    if (rc == 0)
        rc = acct_container_count(&t->cx, &t->ref, &containers);
    if (rc == 0 && acct_is_deleted(a, containers))
        rc = -ENOENT;
    if (rc < 0)
        acct_rec_release(a);
    return rc;
}

int obj_db_acct_post(struct obj_db *db, const char *account, const struct ts *ts,
                     const struct obj_db_kv *hdrs, size_t nhdrs, struct err *e)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct acct_rec a;
    obj_ref_acct(db, account, &ref);
    obj_txn_begin(&t, db, &ref);
    int rc = acct_load_live(&t, &a);
    if (rc < 0) {
        obj_txn_end(&t, -1);
        return rc;
    }
    rc = acct_apply_meta(&a, hdrs, nhdrs, ts, e);
    if (rc == 0)
        acct_rec_store(t.wb, &ref, &a);
    acct_rec_release(&a);
    int wrc = obj_txn_end(&t, 0);
    return wrc < 0 ? wrc : rc;
}

int obj_db_acct_delete(struct obj_db *db, const char *account, const struct ts *ts)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct acct_rec a;
    obj_ref_acct(db, account, &ref);
    obj_txn_begin(&t, db, &ref);
    int rc = acct_load_live(&t, &a);
    if (rc < 0) {
        obj_txn_end(&t, -1);
        return rc;
    }
    obj_meta_clear(a.meta, a.nmeta, ts);
    if (ts_cmp(&a.delete_ts, ts) < 0) {
        a.delete_ts = *ts;
        a.status_deleted = true;
        a.status_changed_at = *ts;
    }
    acct_rec_store(t.wb, &ref, &a);
    acct_rec_release(&a);
    return obj_txn_end(&t, 0);
}

static int acct_get_info_ref(struct obj_db *db, const struct obj_dbref *ref,
                             struct obj_db_acct_info *out)
{
    struct obj_snap snap;
    struct acct_rec a;
    memset(out, 0, sizeof(*out));
    obj_snap_take(db, &snap);
    struct obj_rdctx cx = {db, snap.ro, NULL};
    int rc = acct_rec_load(&cx, ref, &a);
    if (rc == 0)
        rc = obj_stat_load_all(&cx, ref, &out->policies, &out->npolicies);
    struct obj_rowstate rs;
    if (rc == 0)
        rc = obj_rowstate_load(&cx, ref, &rs);
    obj_snap_release(db, &snap);
    if (rc < 0) {
        if (rc != -ENOENT || a.account)
            acct_rec_release(&a);
        obj_db_acct_info_release(out);
        return rc;
    }
    int64_t cc = 0, oc = 0, bu = 0;
    for (size_t i = 0; i < out->npolicies; i++) {
        cc += (int64_t)out->policies[i].container_count;
        oc += (int64_t)out->policies[i].object_count;
        bu += (int64_t)out->policies[i].bytes_used;
    }
    out->account = a.account;
    out->created_at = a.created_at;
    out->put_ts = a.put_ts;
    out->delete_ts = a.delete_ts;
    out->status_changed_at = a.status_changed_at;
    out->status_deleted = acct_is_status_deleted(&a);
    out->deleted = acct_is_deleted(&a, cc);
    out->container_count = cc > 0 ? (uint64_t)cc : 0;
    out->object_count = oc > 0 ? (uint64_t)oc : 0;
    out->bytes_used = bu > 0 ? (uint64_t)bu : 0;
    memcpy(out->id, a.id, sizeof(out->id));
    memcpy(out->hash, rs.hash, 16);
    out->max_row = rs.max_row;
    out->meta = a.meta;
    out->nmeta = a.nmeta;
    return 0;
}

int obj_db_acct_get_info(struct obj_db *db, const char *account, struct obj_db_acct_info *out)
{
    struct obj_dbref ref;
    obj_ref_acct(db, account, &ref);
    return acct_get_info_ref(db, &ref, out);
}

struct acct_each {
    struct obj_db *db;
    obj_db_acct_each_fn *fn;
    void *arg;
};

static int acct_each_ref(void *arg, const struct obj_dbref *ref)
{
    struct acct_each *ae = arg;
    struct obj_db_acct_info ai;
    int rc = acct_get_info_ref(ae->db, ref, &ai);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    rc = ae->fn(ae->arg, &ai);
    obj_db_acct_info_release(&ai);
    return rc;
}

int obj_db_acct_foreach(struct obj_db *db, int64_t partition, unsigned part_power,
                        obj_db_acct_each_fn *fn, void *arg)
{
    struct acct_each ae = {db, fn, arg};
    return obj_db_each_ref(db, 'a', partition, part_power, acct_each_ref, &ae);
}

/* --------------------------------------------------------- container rows */

struct crow {
    struct ts put_ts, delete_ts;
    uint64_t object_count, bytes_used;
    bool deleted;
    uint32_t policy;
    uint64_t seq;
};

static int crow_decode(const char *v, size_t vlen, struct crow *c)
{
    struct obj_rd r = {v, vlen, 0, false};
    if (obj_rd_u8(&r) != OBJ_VAL_V1)
        r.bad = true;
    c->put_ts = obj_rd_ts(&r);
    c->delete_ts = obj_rd_ts(&r);
    c->object_count = obj_rd_u64(&r);
    c->bytes_used = obj_rd_u64(&r);
    c->deleted = obj_rd_u8(&r) != 0;
    c->policy = obj_rd_u32(&r);
    c->seq = obj_rd_u64(&r);
    if (r.bad) {
        log_err("corrupt account container row");
        return -EIO;
    }
    return 0;
}

static void crow_hash(struct obj_rowstate *rs, const char *name, const struct crow *c)
{
    char p[TS_INTERNAL_LEN], d[TS_INTERNAL_LEN], s[3 * TS_INTERNAL_LEN + 48];
    ts_internal(&c->put_ts, p);
    ts_internal(&c->delete_ts, d);
    snprintf(s, sizeof(s), "%s-%s-%" PRIu64 "-%" PRIu64, p, d, c->object_count,
             c->bytes_used);
    obj_rowstate_chexor(rs, name, strlen(name), s);
}

static void acct_stat_add(struct obj_rdctx *cx, const struct obj_dbref *ref, const struct crow *c,
                          int sign, int *rc)
{
    struct obj_stat st;
    if (*rc < 0)
        return;
    *rc = obj_stat_load(cx, ref, c->policy, &st, NULL);
    if (*rc < 0)
        return;
    st.container_count += sign * (int64_t)!c->deleted;
    st.object_count += sign * (int64_t)c->object_count;
    st.bytes_used += sign * (int64_t)c->bytes_used;
    obj_stat_put(cx->wb, ref, c->policy, &st);
}

/*
 * Swift's AccountBroker.merge_items for one record: keeps the newest put
 * and delete timestamps, takes the record's counts, recomputes deleted when
 * a row existed, and always replaces the row (new sequence number).
 */
static int crow_merge(struct obj_rdctx *cx, const struct obj_dbref *ref, struct obj_rowstate *rs,
                      const char *name, struct crow in)
{
    struct obj_buf k = {0}, v = {0}, qk = {0}, qv = {0};
    char *old;
    size_t oldlen;
    unsigned char q[8];
    size_t nlen = strlen(name);
    int rc = obj_row_get(cx, ref, name, nlen, &k, &old, &oldlen);
    if (rc == 0 && old) {
        struct crow oc;
        rc = crow_decode(old, oldlen, &oc);
        if (rc == 0) {
            in.put_ts = *obj_ts_max(&oc.put_ts, &in.put_ts);
            in.delete_ts = *obj_ts_max(&oc.delete_ts, &in.delete_ts);
            in.deleted = ts_cmp(&in.delete_ts, &in.put_ts) > 0 && in.object_count == 0;
            acct_stat_add(cx, ref, &oc, -1, &rc);
            obj_be64(q, oc.seq);
            obj_key(&qk, ref, 'q', q, 8);
            obj_wb_del(cx->wb, &qk);
            crow_hash(rs, name, &oc);
            obj_wb_del(cx->wb, &k);
        }
    }
    obj_db_free_val(old);
    if (rc == 0) {
        in.seq = ++rs->max_row;
        obj_key(&k, ref, in.deleted ? 'd' : 'o', name, nlen);
        acct_stat_add(cx, ref, &in, 1, &rc);
    }
    if (rc == 0) {
        obj_buf_u8(&v, OBJ_VAL_V1);
        obj_buf_ts(&v, &in.put_ts);
        obj_buf_ts(&v, &in.delete_ts);
        obj_buf_u64(&v, in.object_count);
        obj_buf_u64(&v, in.bytes_used);
        obj_buf_u8(&v, in.deleted);
        obj_buf_u32(&v, in.policy);
        obj_buf_u64(&v, in.seq);
        obj_wb_put(cx->wb, &k, &v);
        obj_be64(q, in.seq);
        obj_key(&qk, ref, 'q', q, 8);
        obj_buf_put(&qv, name, nlen);
        obj_wb_put(cx->wb, &qk, &qv);
        crow_hash(rs, name, &in);
    }
    obj_buf_release(&k);
    obj_buf_release(&v);
    obj_buf_release(&qk);
    obj_buf_release(&qv);
    return rc;
}

int obj_db_acct_update_container(struct obj_db *db, const char *account,
                                 const struct obj_db_cont_report *r, bool autocreate,
                                 bool override_deleted)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct acct_rec a;
    struct obj_rowstate rs;
    int64_t containers = 0;
    obj_ref_acct(db, account, &ref);
    obj_txn_begin(&t, db, &ref);
    int rc = acct_rec_load(&t.cx, &ref, &a);
    if (rc == -ENOENT && autocreate) {
        struct ts now = ts_now();
        acct_rec_new(&a, account, &now);
        acct_rec_store(t.wb, &ref, &a);
        rc = 0;
    }
    if (rc == 0)
        rc = acct_container_count(&t.cx, &ref, &containers);
    if (rc == 0 && !override_deleted && acct_is_deleted(&a, containers))
        rc = -ENOENT;
    acct_rec_release(&a);
    if (rc == 0)
        rc = obj_rowstate_load(&t.cx, &ref, &rs);
    if (rc == 0) {
        struct crow in = {
            .put_ts = r->put_ts,
            .delete_ts = r->delete_ts,
            .object_count = r->object_count,
            .bytes_used = r->bytes_used,
            .deleted = ts_cmp(&r->delete_ts, &r->put_ts) > 0 && r->object_count == 0,
            .policy = r->policy_index,
        };
        rc = crow_merge(&t.cx, &ref, &rs, r->name, in);
    }
    if (rc == 0)
        obj_rowstate_put(t.wb, &ref, &rs);
    return obj_txn_end(&t, rc);
}

/* ----------------------------------------------------------------- listing */

static int acct_list_decode(void *arg, const struct obj_list_row *row,
                            struct obj_db_list_entry *e, struct obj_buf *scratch)
{
    struct crow c;
    (void)arg;
    (void)scratch;
    if (crow_decode(row->val, row->val_len, &c) < 0)
        return -EIO;
    if (c.deleted)
        return 0;
    e->object_count = c.object_count;
    e->bytes_used = c.bytes_used;
    e->put_ts = c.put_ts;
    return 1;
}

int obj_db_acct_list(struct obj_db *db, const char *account, const struct obj_db_list_params *p,
                     obj_db_list_fn *fn, void *arg)
{
    struct obj_dbref ref;
    struct obj_snap snap;
    struct acct_rec a;
    int64_t containers = 0;
    obj_ref_acct(db, account, &ref);
    obj_snap_take(db, &snap);
    struct obj_rdctx cx = {db, snap.ro, NULL};
    int rc = acct_rec_load(&cx, &ref, &a);
    if (rc == 0)
        rc = acct_container_count(&cx, &ref, &containers);
    if (rc == 0 && acct_is_deleted(&a, containers))
        rc = -ENOENT;
    if (rc != -ENOENT || a.account)
        acct_rec_release(&a);
    if (rc == 0) {
        /* account listings have no path parameter in Swift */
        struct obj_db_list_params q = *p;
        q.path = NULL;
        rc = obj_db_list_walk(&cx, &ref, &q, acct_list_decode, NULL, fn, arg);
    }
    obj_snap_release(db, &snap);
    return rc;
}

/* ------------------------------------------------------------- replication */

void obj_db_cont_rows_free(struct obj_db_cont_row *rows, size_t n)
{
    for (size_t i = 0; i < n && rows; i++)
        free(rows[i].name);
    free(rows);
}

struct acct_rows_out {
    struct obj_db_cont_row **rows;
    size_t *n;
};

static int acct_row_out(void *arg, const char *name, size_t nlen, const char *val, size_t vlen)
{
    struct acct_rows_out *o = arg;
    struct crow c;
    int rc = crow_decode(val, vlen, &c);
    if (rc < 0)
        return rc;
    *o->rows = xrealloc(*o->rows, (*o->n + 1) * sizeof(**o->rows));
    struct obj_db_cont_row *r = &(*o->rows)[(*o->n)++];
    r->name = xstrndup(name, nlen);
    r->put_ts = c.put_ts;
    r->delete_ts = c.delete_ts;
    r->object_count = c.object_count;
    r->bytes_used = c.bytes_used;
    r->deleted = c.deleted;
    r->policy_index = c.policy;
    r->seq = c.seq;
    return 0;
}

int obj_db_acct_rows_since(struct obj_db *db, const char *account, uint64_t since, size_t max,
                           struct obj_db_cont_row **rows, size_t *n)
{
    struct obj_dbref ref;
    struct obj_snap snap;
    struct acct_rec a;
    struct acct_rows_out o = {rows, n};
    *rows = NULL;
    *n = 0;
    obj_ref_acct(db, account, &ref);
    obj_snap_take(db, &snap);
    struct obj_rdctx cx = {db, snap.ro, NULL};
    int rc = acct_rec_load(&cx, &ref, &a);
    if (rc == 0) {
        acct_rec_release(&a);
        rc = obj_db_seq_walk(&cx, &ref, since, max, acct_row_out, &o);
    }
    obj_snap_release(db, &snap);
    if (rc < 0) {
        obj_db_cont_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

int obj_db_acct_merge_rows(struct obj_db *db, const char *account,
                           const struct obj_db_cont_row *rows, size_t n, const char *remote_id,
                           uint64_t sync_point)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct acct_rec a;
    struct obj_rowstate rs;
    obj_ref_acct(db, account, &ref);
    obj_txn_begin(&t, db, &ref);
    int rc = acct_rec_load(&t.cx, &ref, &a);
    if (rc == 0)
        acct_rec_release(&a);
    if (rc == 0)
        rc = obj_rowstate_load(&t.cx, &ref, &rs);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct crow in = {
            .put_ts = rows[i].put_ts,
            .delete_ts = rows[i].delete_ts,
            .object_count = rows[i].object_count,
            .bytes_used = rows[i].bytes_used,
            .deleted = rows[i].deleted,
            .policy = rows[i].policy_index,
        };
        rc = crow_merge(&t.cx, &ref, &rs, rows[i].name, in);
    }
    if (rc == 0 && n)
        obj_rowstate_put(t.wb, &ref, &rs);
    if (rc == 0 && remote_id)
        rc = obj_sync_raise(&t, remote_id, (int64_t)sync_point);
    return obj_txn_end(&t, rc);
}

int obj_db_acct_merge_info(struct obj_db *db, const struct obj_db_acct_info *peer)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct acct_rec a;
    int64_t containers = 0;
    obj_ref_acct(db, peer->account, &ref);
    obj_txn_begin(&t, db, &ref);
    int rc = acct_rec_load(&t.cx, &ref, &a);
    if (rc == -ENOENT) {
        acct_rec_new(&a, peer->account, &peer->put_ts);
        a.created_at = peer->created_at;
        a.delete_ts = peer->delete_ts;
        a.status_changed_at = peer->status_changed_at;
        rc = 0;
    } else if (rc == 0) {
        rc = acct_container_count(&t.cx, &ref, &containers);
        bool was = acct_is_deleted(&a, containers);
        if (ts_cmp(&peer->created_at, &a.created_at) < 0)
            a.created_at = peer->created_at;
        a.put_ts = *obj_ts_max(&a.put_ts, &peer->put_ts);
        a.delete_ts = *obj_ts_max(&a.delete_ts, &peer->delete_ts);
        if (rc == 0 && was != acct_is_deleted(&a, containers)) {
            struct ts now = ts_now();
            a.status_changed_at = *obj_ts_max(&a.status_changed_at, &now);
        }
    }
    if (rc == 0) {
        for (size_t i = 0; i < peer->nmeta; i++)
            obj_meta_merge_one(&a.meta, &a.nmeta, peer->meta[i].key, peer->meta[i].value,
                               &peer->meta[i].ts);
        acct_rec_store(t.wb, &ref, &a);
    }
    acct_rec_release(&a);
    return obj_txn_end(&t, rc);
}

int obj_db_acct_get_sync(struct obj_db *db, const char *account, const char *remote_id,
                         bool incoming, int64_t *point)
{
    struct obj_dbref ref;
    obj_ref_acct(db, account, &ref);
    struct obj_rdctx cx = {db, NULL, NULL};
    return obj_sync_get(&cx, &ref, remote_id, incoming, point);
}

int obj_db_acct_set_sync(struct obj_db *db, const char *account, const char *remote_id,
                         bool incoming, int64_t point)
{
    struct obj_dbref ref;
    struct obj_txn t;
    obj_ref_acct(db, account, &ref);
    obj_txn_begin(&t, db, &ref);
    obj_sync_put(t.wb, &ref, remote_id, incoming, point);
    return obj_txn_end(&t, 0);
}

/* ------------------------------------------------------------------ reclaim */

static int acct_reclaim_info(struct obj_txn *t, const struct ts *age, bool first, bool *dead)
{
    struct acct_rec a;
    int64_t containers = 0;
    int rc = acct_rec_load(&t->cx, &t->ref, &a);
    if (rc == 0 && first) {
        rc = acct_container_count(&t->cx, &t->ref, &containers);
        if (rc == 0 && containers <= 0 && ts_cmp(&a.delete_ts, age) < 0 &&
            ts_cmp(&a.delete_ts, &a.put_ts) > 0) {
            *dead = true;
        } else if (rc == 0) {
            size_t before = a.nmeta;
            obj_meta_reclaim(a.meta, &a.nmeta, age);
            if (a.nmeta != before)
                acct_rec_store(t->wb, &t->ref, &a);
        }
    }
    acct_rec_release(&a);
    return rc;
}

static int acct_reclaim_row(struct obj_txn *t, struct obj_rowstate *rs, const struct ts *age,
                            const char *name, size_t nlen, const char *val, size_t vlen,
                            uint64_t *seq)
{
    struct crow c;
    int rc = crow_decode(val, vlen, &c);
    if (rc < 0)
        return rc;
    if (!c.deleted || ts_cmp(&c.delete_ts, age) >= 0)
        return 0;
    acct_stat_add(&t->cx, &t->ref, &c, -1, &rc);
    if (rc < 0)
        return rc;
    *seq = c.seq;
    char *nm = xstrndup(name, nlen);
    crow_hash(rs, nm, &c);
    free(nm);
    return 1;
}

int obj_db_acct_reclaim(struct obj_db *db, const char *account, const struct ts *age,
                        bool *gone)
{
    struct obj_dbref ref;
    obj_ref_acct(db, account, &ref);
    return obj_db_reclaim(db, &ref, age, gone, acct_reclaim_info, acct_reclaim_row);
}

int obj_db_acct_fingerprint(struct obj_db *db, const char *account, unsigned char fp[16])
{
    struct obj_dbref ref;
    obj_ref_acct(db, account, &ref);
    return obj_db_fingerprint(db, &ref, fp);
}

int obj_db_acct_drop_if(struct obj_db *db, const char *account, const unsigned char fp[16],
                        bool *dropped)
{
    struct obj_dbref ref;
    obj_ref_acct(db, account, &ref);
    return obj_db_drop_if(db, &ref, fp, dropped);
}

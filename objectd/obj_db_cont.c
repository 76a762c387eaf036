/*
 * obj_db_cont.c - containers: the info record, object rows, and the rules
 * of Swift's container server and ContainerBroker for PUT, POST, DELETE,
 * HEAD, object row updates and replication merges.
 *
 * Invariants kept by every write (each one a single RocksDB batch):
 *   - one row per object name, under 'o' when live and 'd' when a
 *     tombstone; its 'q' index entry is 'q'+row.seq;
 *   - the 's' totals of a policy equal the sum over its rows of
 *     (1 - deleted) objects and size bytes (Swift's policy_stat triggers);
 *   - the 'r' hash is the XOR of md5(name "-" encoded timestamps) of rows.
 * Writers hold the container's stripe lock from the first read to the
 * commit, so the read-modify-write of the totals cannot interleave.
 */
#define LOG_COMPONENT "objectd"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_db.h"
#include "objectd/obj_db_int.h"

/* ------------------------------------------------------------ info record */

static void cont_info_encode(struct obj_buf *v, const struct obj_db_cont_info *ci,
                             bool status_deleted)
{
    obj_buf_u8(v, OBJ_VAL_V1);
    obj_buf_str(v, ci->account);
    obj_buf_str(v, ci->container);
    obj_buf_ts(v, &ci->created_at);
    obj_buf_ts(v, &ci->put_ts);
    obj_buf_ts(v, &ci->delete_ts);
    obj_buf_ts(v, &ci->status_changed_at);
    obj_buf_u32(v, ci->policy_index);
    obj_buf_u8(v, status_deleted);
    obj_buf_ts(v, &ci->reported_put_ts);
    obj_buf_ts(v, &ci->reported_delete_ts);
    obj_buf_u64(v, ci->reported_object_count);
    obj_buf_u64(v, ci->reported_bytes_used);
    obj_buf_str(v, ci->id);
    obj_meta_encode(v, ci->meta, ci->nmeta);
}

void obj_db_cont_info_release(struct obj_db_cont_info *ci)
{
    if (!ci)
        return;
    free(ci->account);
    free(ci->container);
    obj_meta_free(ci->meta, ci->nmeta);
    memset(ci, 0, sizeof(*ci));
}

/* Loads the info record only (no totals). -ENOENT when absent. */
static int cont_info_load(const struct obj_rdctx *cx, const struct obj_dbref *ref,
                          struct obj_db_cont_info *ci)
{
    char *v;
    struct obj_rd r;
    memset(ci, 0, sizeof(*ci));
    int rc = obj_info_read(cx, ref, &v, &r);
    if (rc < 0)
        return rc;
    ci->account = obj_rd_str(&r);
    ci->container = obj_rd_str(&r);
    ci->created_at = obj_rd_ts(&r);
    ci->put_ts = obj_rd_ts(&r);
    ci->delete_ts = obj_rd_ts(&r);
    ci->status_changed_at = obj_rd_ts(&r);
    ci->policy_index = obj_rd_u32(&r);
    (void)obj_rd_u8(&r);
    ci->reported_put_ts = obj_rd_ts(&r);
    ci->reported_delete_ts = obj_rd_ts(&r);
    ci->reported_object_count = obj_rd_u64(&r);
    ci->reported_bytes_used = obj_rd_u64(&r);
    char *id = obj_rd_str(&r);
    str_copy(ci->id, id, sizeof(ci->id));
    free(id);
    if (!r.bad)
        rc = obj_meta_decode(&r, &ci->meta, &ci->nmeta);
    obj_db_free_val(v);
    if (r.bad || rc < 0) {
        log_err("corrupt container info record");
        obj_db_cont_info_release(ci);
        return -EIO;
    }
    return 0;
}

static void cont_info_store(rocksdb_writebatch_wi_t *wb, const struct obj_dbref *ref,
                            const struct obj_db_cont_info *ci)
{
    struct obj_buf k = {0}, v = {0};
    obj_key(&k, ref, 'i', NULL, 0);
    cont_info_encode(&v, ci, ts_cmp(&ci->delete_ts, &ci->put_ts) > 0);
    obj_wb_put(wb, &k, &v);
    obj_buf_release(&k);
    obj_buf_release(&v);
}

/* Fills the totals of the container's policy and the deleted flag. */
static int cont_info_totals(const struct obj_rdctx *cx, const struct obj_dbref *ref,
                            struct obj_db_cont_info *ci)
{
    struct obj_stat st;
    int rc = obj_stat_load(cx, ref, ci->policy_index, &st, NULL);
    if (rc < 0)
        return rc;
    ci->object_count = st.object_count > 0 ? (uint64_t)st.object_count : 0;
    ci->bytes_used = st.bytes_used > 0 ? (uint64_t)st.bytes_used : 0;
    /* Swift's _is_deleted_info: no objects and deleted after the last PUT */
    ci->deleted = st.object_count <= 0 && ts_cmp(&ci->delete_ts, &ci->put_ts) > 0;
    return 0;
}

/* Swift's empty(): no policy of this container holds an object. */
static int cont_empty(const struct obj_rdctx *cx, const struct obj_dbref *ref, bool *empty)
{
    struct obj_db_policy_stat *ps;
    size_t n;
    int rc = obj_stat_load_all(cx, ref, &ps, &n);
    if (rc < 0)
        return rc;
    *empty = true;
    for (size_t i = 0; i < n; i++)
        if ((int64_t)ps[i].object_count > 0)
            *empty = false;
    free(ps);
    return 0;
}

static void cont_info_new(struct obj_db_cont_info *ci, const char *account,
                          const char *container, const struct ts *put_ts,
                          uint32_t policy)
{
    memset(ci, 0, sizeof(*ci));
    ci->account = xstrdup(account);
    ci->container = xstrdup(container);
    ci->created_at = ts_now();
    ci->put_ts = *put_ts;
    ci->status_changed_at = *put_ts;
    ci->policy_index = policy;
    obj_uuid4(ci->id);
}

/* --------------------------------------------------------------- requests */

int obj_db_cont_put(struct obj_db *db, const char *account, const char *container,
                    const struct ts *ts, int32_t policy, uint32_t default_policy,
                    const struct obj_db_kv *hdrs, size_t nhdrs, bool *created,
                    struct err *e)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct obj_db_cont_info ci;
    int rc;

    *created = false;
    obj_ref_cont(db, account, container, &ref);
    obj_txn_begin(&t, db, &ref);
    rc = cont_info_load(&t.cx, &ref, &ci);
    if (rc == -ENOENT) {
        cont_info_new(&ci, account, container, ts,
                      policy >= 0 ? (uint32_t)policy : default_policy);
        *created = true;
        rc = 0;
    } else if (rc == 0) {
        rc = cont_info_totals(&t.cx, &ref, &ci);
        if (rc < 0)
            goto out;
        bool recreated = ci.deleted;
        if (recreated) {
            /* only a deleted container may change its policy */
            uint32_t np = policy >= 0 ? (uint32_t)policy : default_policy;
            if (np != ci.policy_index) {
                ci.policy_index = np;
                ci.status_changed_at = *obj_ts_max(&ci.status_changed_at, ts);
            }
        } else if (policy >= 0 && (uint32_t)policy != ci.policy_index) {
            rc = -EEXIST;
            goto out;
        }
        ci.put_ts = *obj_ts_max(&ci.put_ts, ts);
        rc = cont_info_totals(&t.cx, &ref, &ci);
        if (rc < 0)
            goto out;
        if (ci.deleted) {
            /* the put time is kept (Swift commits it), the answer is 409 */
            cont_info_store(t.wb, &ref, &ci);
            rc = -ESTALE;
            goto commit;
        }
        if (recreated)
            ci.status_changed_at = *obj_ts_max(&ci.status_changed_at, ts);
        *created = recreated;
    } else {
        goto out;
    }
    {
        /* Swift creates or updates first and validates the merged
         * metadata after: a 400 leaves the rest of the PUT applied. */
        struct obj_db_meta *saved = NULL;
        size_t nsaved = ci.nmeta;
        struct obj_buf tmp = {0};
        obj_meta_encode(&tmp, ci.meta, ci.nmeta);
        struct obj_rd r = {tmp.p, tmp.len, 0, false};
        obj_meta_decode(&r, &saved, &nsaved);
        obj_buf_release(&tmp);
        if (obj_meta_apply_headers(&ci.meta, &ci.nmeta, 'c', hdrs, nhdrs, ts)) {
            rc = obj_meta_validate(ci.meta, ci.nmeta, e);
            if (rc < 0) {
                obj_meta_free(ci.meta, ci.nmeta);
                ci.meta = saved;
                ci.nmeta = nsaved;
                saved = NULL;
                nsaved = 0;
            }
        }
        obj_meta_free(saved, nsaved);
        cont_info_store(t.wb, &ref, &ci);
    }
commit:
    obj_db_cont_info_release(&ci);
    {
        /* rc is 0, -EINVAL or -ESTALE here: what was applied is written */
        int wrc = obj_txn_end(&t, 0);
        return wrc < 0 ? wrc : rc;
    }
out:
    obj_db_cont_info_release(&ci);
    obj_txn_end(&t, -1);
    return rc;
}

int obj_db_cont_post(struct obj_db *db, const char *account, const char *container,
                     const struct ts *ts, const struct obj_db_kv *hdrs, size_t nhdrs,
                     struct err *e)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct obj_db_cont_info ci;
    obj_ref_cont(db, account, container, &ref);
    obj_txn_begin(&t, db, &ref);
    int rc = cont_info_load(&t.cx, &ref, &ci);
    if (rc == 0)
        rc = cont_info_totals(&t.cx, &ref, &ci);
    if (rc == 0 && ci.deleted)
        rc = -ENOENT;
    if (rc < 0) {
        obj_db_cont_info_release(&ci);
        obj_txn_end(&t, -1);
        return rc;
    }
    ci.put_ts = *obj_ts_max(&ci.put_ts, ts);
    struct obj_db_cont_info keep = ci;
    struct obj_db_meta *m = NULL;
    size_t nm = 0;
    for (size_t i = 0; i < ci.nmeta; i++)
        obj_meta_merge_one(&m, &nm, ci.meta[i].key, ci.meta[i].value, &ci.meta[i].ts);
    if (obj_meta_apply_headers(&m, &nm, 'c', hdrs, nhdrs, ts))
        rc = obj_meta_validate(m, nm, e);
    if (rc == 0) {
        keep.meta = m;
        keep.nmeta = nm;
    }
    cont_info_store(t.wb, &ref, &keep);
    obj_meta_free(m, nm);
    obj_db_cont_info_release(&ci);
    int wrc = obj_txn_end(&t, 0);
    return wrc < 0 ? wrc : rc;
}

int obj_db_cont_delete(struct obj_db *db, const char *account, const char *container,
                       const struct ts *ts, bool *existed)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct obj_db_cont_info ci;
    bool empty = false;
    *existed = false;
    obj_ref_cont(db, account, container, &ref);
    obj_txn_begin(&t, db, &ref);
    int rc = cont_info_load(&t.cx, &ref, &ci);
    if (rc == 0)
        rc = cont_info_totals(&t.cx, &ref, &ci);
    if (rc == 0)
        rc = cont_empty(&t.cx, &ref, &empty);
    if (rc == 0 && !empty)
        rc = -ENOTEMPTY;
    if (rc < 0) {
        obj_db_cont_info_release(&ci);
        obj_txn_end(&t, -1);
        return rc;
    }
    bool was_live = (ci.put_ts.units || ci.put_ts.offset) && !ci.deleted;
    /* Swift's delete_db: clear the metadata (per key, if ts is newer), then
     * record the delete time if it is newer. */
    obj_meta_clear(ci.meta, ci.nmeta, ts);
    if (ts_cmp(&ci.delete_ts, ts) < 0) {
        ci.delete_ts = *ts;
        ci.status_changed_at = *ts;
    }
    cont_info_store(t.wb, &ref, &ci);
    rc = cont_info_totals(&t.cx, &ref, &ci);
    bool now_deleted = ci.deleted;
    obj_db_cont_info_release(&ci);
    int wrc = obj_txn_end(&t, rc);
    if (wrc < 0)
        return wrc;
    if (!now_deleted)
        return -ESTALE;
    *existed = was_live;
    return 0;
}

static int cont_get_info_ref(struct obj_db *db, const struct obj_dbref *ref,
                             struct obj_db_cont_info *out)
{
    struct obj_snap snap;
    obj_snap_take(db, &snap);
    struct obj_rdctx cx = {db, snap.ro, NULL};
    int rc = cont_info_load(&cx, ref, out);
    if (rc == 0)
        rc = cont_info_totals(&cx, ref, out);
    if (rc == 0) {
        struct obj_rowstate rs;
        rc = obj_rowstate_load(&cx, ref, &rs);
        out->max_row = rs.max_row;
        memcpy(out->hash, rs.hash, 16);
    }
    obj_snap_release(db, &snap);
    if (rc < 0)
        obj_db_cont_info_release(out);
    return rc;
}

int obj_db_cont_get_info(struct obj_db *db, const char *account, const char *container,
                         struct obj_db_cont_info *out)
{
    struct obj_dbref ref;
    obj_ref_cont(db, account, container, &ref);
    return cont_get_info_ref(db, &ref, out);
}

struct cont_each {
    struct obj_db *db;
    obj_db_cont_each_fn *fn;
    void *arg;
};

static int cont_each_ref(void *arg, const struct obj_dbref *ref)
{
    struct cont_each *ce = arg;
    struct obj_db_cont_info ci;
    int rc = cont_get_info_ref(ce->db, ref, &ci);
    if (rc == -ENOENT)
        return 0; /* dropped meanwhile */
    if (rc < 0)
        return rc;
    rc = ce->fn(ce->arg, &ci);
    obj_db_cont_info_release(&ci);
    return rc;
}

int obj_db_cont_foreach(struct obj_db *db, int64_t partition, unsigned part_power,
                        obj_db_cont_each_fn *fn, void *arg)
{
    struct cont_each ce = {db, fn, arg};
    return obj_db_each_ref(db, 'c', partition, part_power, cont_each_ref, &ce);
}

int obj_db_cont_set_reported(struct obj_db *db, const char *account, const char *container,
                             const struct ts *put_ts, const struct ts *delete_ts,
                             uint64_t object_count, uint64_t bytes_used)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct obj_db_cont_info ci;
    obj_ref_cont(db, account, container, &ref);
    obj_txn_begin(&t, db, &ref);
    int rc = cont_info_load(&t.cx, &ref, &ci);
    if (rc == 0) {
        ci.reported_put_ts = *put_ts;
        ci.reported_delete_ts = *delete_ts;
        ci.reported_object_count = object_count;
        ci.reported_bytes_used = bytes_used;
        cont_info_store(t.wb, &ref, &ci);
    }
    obj_db_cont_info_release(&ci);
    return obj_txn_end(&t, rc);
}

/* ------------------------------------------------------------ object rows */

/* A decoded row pointing into its value buffer. */
struct rowview {
    struct ts data_ts, ctype_ts, meta_ts;
    uint64_t size;
    bool deleted;
    uint32_t policy;
    uint64_t seq;
    const char *ctype;
    uint32_t ctype_len;
    const char *etag;
    uint32_t etag_len;
};

static int row_decode(const char *v, size_t vlen, struct rowview *rv)
{
    struct obj_rd r = {v, vlen, 0, false};
    if (obj_rd_u8(&r) != OBJ_VAL_V1)
        r.bad = true;
    rv->data_ts = obj_rd_ts(&r);
    rv->ctype_ts = obj_rd_ts(&r);
    rv->meta_ts = obj_rd_ts(&r);
    rv->size = obj_rd_u64(&r);
    rv->deleted = obj_rd_u8(&r) != 0;
    rv->policy = obj_rd_u32(&r);
    rv->seq = obj_rd_u64(&r);
    rv->ctype = obj_rd_strp(&r, &rv->ctype_len);
    rv->etag = obj_rd_strp(&r, &rv->etag_len);
    if (r.bad) {
        log_err("corrupt object row");
        return -EIO;
    }
    return 0;
}

static void row_encode(struct obj_buf *v, const struct obj_db_obj_row *row)
{
    obj_buf_u8(v, OBJ_VAL_V1);
    obj_buf_ts(v, &row->data_ts);
    obj_buf_ts(v, &row->ctype_ts);
    obj_buf_ts(v, &row->meta_ts);
    obj_buf_u64(v, row->size);
    obj_buf_u8(v, row->deleted);
    obj_buf_u32(v, row->policy_index);
    obj_buf_u64(v, row->seq);
    obj_buf_str(v, row->content_type);
    obj_buf_str(v, row->etag);
}

static void stat_add(struct obj_rdctx *cx, const struct obj_dbref *ref, uint32_t policy,
                     int64_t dobj, int64_t dbytes, int *rc)
{
    struct obj_stat st;
    if (*rc < 0)
        return;
    *rc = obj_stat_load(cx, ref, policy, &st, NULL);
    if (*rc < 0)
        return;
    st.object_count += dobj;
    st.bytes_used += dbytes;
    obj_stat_put(cx->wb, ref, policy, &st);
}

/*
 * Swift's update_new_item_from_existing + the delete/insert of merge_items:
 * applies `in` against the stored row of the same name. Data (size, etag,
 * deleted, swift_bytes), content type and metadata time each keep the side
 * with the newer timestamp. Adjusts totals, sequence index and hash.
 */
static int row_apply(struct obj_rdctx *cx, const struct obj_dbref *ref,
                     struct obj_rowstate *rs, const struct obj_db_obj_row *in, bool *changed)
{
    struct obj_buf k = {0}, v = {0};
    char *old = NULL;
    size_t oldlen;
    struct rowview ov;
    struct obj_db_obj_row nr = *in;
    char *ct_new = NULL, *sb_new = NULL, *ct_old = NULL, *sb_old = NULL, *ct_join = NULL;
    char *etag_old = NULL;
    char tsbuf[3 * TS_INTERNAL_LEN];
    size_t nlen = strlen(in->name);
    int rc;

    *changed = false;
    rc = obj_row_get(cx, ref, in->name, nlen, &k, &old, &oldlen);
    if (rc < 0)
        goto out;
    if (old) {
        rc = row_decode(old, oldlen, &ov);
        if (rc < 0)
            goto out;
        bool newer_data = true, newer_ctype = true, newer_meta = true;
        char *ov_ct = xstrndup(ov.ctype, ov.ctype_len);
        obj_db_content_type_split(in->content_type, &ct_new, &sb_new);
        obj_db_content_type_split(ov_ct, &ct_old, &sb_old);
        free(ov_ct);
        const char *sb = sb_new;
        if (ts_cmp(&ov.data_ts, &in->data_ts) >= 0) {
            nr.size = ov.size;
            etag_old = xstrndup(ov.etag, ov.etag_len);
            nr.etag = etag_old;
            nr.deleted = ov.deleted;
            sb = sb_old;
            nr.data_ts = ov.data_ts;
            newer_data = false;
        }
        const char *ct = ct_new;
        if (ts_cmp(&ov.ctype_ts, &in->ctype_ts) >= 0) {
            ct = ct_old;
            nr.ctype_ts = ov.ctype_ts;
            newer_ctype = false;
        }
        if (ts_cmp(&ov.meta_ts, &in->meta_ts) >= 0) {
            nr.meta_ts = ov.meta_ts;
            newer_meta = false;
        }
        if (!newer_data && !newer_ctype && !newer_meta)
            goto out;
        ct_join = sb ? xasprintf("%s;swift_bytes=%s", ct, sb) : xstrdup(ct);
        nr.content_type = ct_join;

        /* take the old row out: totals, index, hash */
        stat_add(cx, ref, ov.policy, -(int64_t)!ov.deleted, -(int64_t)ov.size, &rc);
        if (rc < 0)
            goto out;
        unsigned char q[8];
        struct obj_buf qk = {0};
        obj_be64(q, ov.seq);
        obj_key(&qk, ref, 'q', q, 8);
        obj_wb_del(cx->wb, &qk);
        obj_buf_release(&qk);
        obj_ts_encode3(&ov.data_ts, &ov.ctype_ts, &ov.meta_ts, tsbuf, sizeof(tsbuf));
        obj_rowstate_chexor(rs, in->name, nlen, tsbuf);
        obj_wb_del(cx->wb, &k);
    }
    nr.seq = ++rs->max_row;
    obj_key(&k, ref, nr.deleted ? 'd' : 'o', in->name, nlen);
    stat_add(cx, ref, nr.policy_index, (int64_t)!nr.deleted, (int64_t)nr.size, &rc);
    if (rc < 0)
        goto out;
    row_encode(&v, &nr);
    obj_wb_put(cx->wb, &k, &v);
    {
        unsigned char q[8];
        struct obj_buf qk = {0}, qv = {0};
        obj_be64(q, nr.seq);
        obj_key(&qk, ref, 'q', q, 8);
        obj_buf_put(&qv, in->name, nlen);
        obj_wb_put(cx->wb, &qk, &qv);
        obj_buf_release(&qk);
        obj_buf_release(&qv);
    }
    obj_ts_encode3(&nr.data_ts, &nr.ctype_ts, &nr.meta_ts, tsbuf, sizeof(tsbuf));
    obj_rowstate_chexor(rs, in->name, nlen, tsbuf);
    *changed = true;
out:
    obj_db_free_val(old);
    obj_buf_release(&k);
    obj_buf_release(&v);
    free(ct_new);
    free(sb_new);
    free(ct_old);
    free(sb_old);
    free(ct_join);
    free(etag_old);
    return rc;
}

/* Normalizes an update into a row: Swift's timestamp defaults and the
 * fixed fields of a deletion. */
static void update_to_row(const struct obj_db_obj_update *u, struct obj_db_obj_row *row)
{
    memset(row, 0, sizeof(*row));
    row->name = (char *)u->name;
    row->data_ts = u->ts;
    row->ctype_ts = u->ctype_ts ? *u->ctype_ts : u->ts;
    row->meta_ts = u->meta_ts ? *u->meta_ts : row->ctype_ts;
    row->policy_index = u->policy_index;
    if (u->deleted) {
        row->deleted = true;
        row->size = 0;
        row->content_type = (char *)"application/deleted";
        row->etag = (char *)"noetag";
    } else {
        row->size = u->size;
        row->content_type = (char *)(u->content_type ? u->content_type : "");
        row->etag = (char *)(u->etag ? u->etag : "");
    }
}

int obj_db_cont_update_object(struct obj_db *db, const char *account, const char *container,
                              const struct obj_db_obj_update *u, bool autocreate,
                              bool *changed)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct obj_db_cont_info ci;
    struct obj_rowstate rs;
    struct obj_db_obj_row row;
    bool ch = false;

    obj_ref_cont(db, account, container, &ref);
    obj_txn_begin(&t, db, &ref);
    int rc = cont_info_load(&t.cx, &ref, &ci);
    if (rc == -ENOENT && autocreate) {
        cont_info_new(&ci, account, container, &u->ts, u->policy_index);
        cont_info_store(t.wb, &ref, &ci);
        rc = 0;
    }
    obj_db_cont_info_release(&ci);
    if (rc == 0)
        rc = obj_rowstate_load(&t.cx, &ref, &rs);
    if (rc == 0) {
        update_to_row(u, &row);
        rc = row_apply(&t.cx, &ref, &rs, &row, &ch);
    }
    if (rc == 0 && ch)
        obj_rowstate_put(t.wb, &ref, &rs);
    rc = obj_txn_end(&t, rc);
    if (changed)
        *changed = rc == 0 && ch;
    return rc;
}

/* ----------------------------------------------------------------- listing */

struct cont_list_arg {
    uint32_t policy;
};

static int cont_list_decode(void *arg, const struct obj_list_row *row,
                            struct obj_db_list_entry *e, struct obj_buf *scratch)
{
    struct cont_list_arg *a = arg;
    struct rowview rv;
    if (row_decode(row->val, row->val_len, &rv) < 0)
        return -EIO;
    if (rv.deleted || rv.policy != a->policy)
        return 0;
    e->last_modified = rv.meta_ts;
    e->size = rv.size;
    obj_buf_put(scratch, rv.ctype, rv.ctype_len);
    obj_buf_put(scratch, "", 1);
    obj_buf_put(scratch, rv.etag, rv.etag_len);
    obj_buf_put(scratch, "", 1);
    e->content_type = scratch->p;
    e->etag = scratch->p + rv.ctype_len + 1;
    return 1;
}

int obj_db_cont_list(struct obj_db *db, const char *account, const char *container,
                     const struct obj_db_list_params *p, int32_t policy, obj_db_list_fn *fn,
                     void *arg)
{
    struct obj_dbref ref;
    struct obj_snap snap;
    struct obj_db_cont_info ci;
    obj_ref_cont(db, account, container, &ref);
    obj_snap_take(db, &snap);
    struct obj_rdctx cx = {db, snap.ro, NULL};
    int rc = cont_info_load(&cx, &ref, &ci);
    if (rc == 0)
        rc = cont_info_totals(&cx, &ref, &ci);
    if (rc == 0 && ci.deleted)
        rc = -ENOENT;
    if (rc == 0) {
        struct cont_list_arg a = {policy >= 0 ? (uint32_t)policy : ci.policy_index};
        rc = obj_db_list_walk(&cx, &ref, p, cont_list_decode, &a, fn, arg);
    }
    obj_db_cont_info_release(&ci);
    obj_snap_release(db, &snap);
    return rc;
}

/* ------------------------------------------------------------- replication */

void obj_db_obj_rows_free(struct obj_db_obj_row *rows, size_t n)
{
    for (size_t i = 0; i < n && rows; i++) {
        free(rows[i].name);
        free(rows[i].content_type);
        free(rows[i].etag);
    }
    free(rows);
}

struct cont_rows_out {
    struct obj_db_obj_row **rows;
    size_t *n;
};

static int cont_row_out(void *arg, const char *name, size_t nlen, const char *val, size_t vlen)
{
    struct cont_rows_out *o = arg;
    struct rowview rv;
    int rc = row_decode(val, vlen, &rv);
    if (rc < 0)
        return rc;
    *o->rows = xrealloc(*o->rows, (*o->n + 1) * sizeof(**o->rows));
    struct obj_db_obj_row *r = &(*o->rows)[(*o->n)++];
    r->name = xstrndup(name, nlen);
    r->data_ts = rv.data_ts;
    r->ctype_ts = rv.ctype_ts;
    r->meta_ts = rv.meta_ts;
    r->size = rv.size;
    r->content_type = xstrndup(rv.ctype, rv.ctype_len);
    r->etag = xstrndup(rv.etag, rv.etag_len);
    r->deleted = rv.deleted;
    r->policy_index = rv.policy;
    r->seq = rv.seq;
    return 0;
}

int obj_db_cont_rows_since(struct obj_db *db, const char *account, const char *container,
                           uint64_t since, size_t max, struct obj_db_obj_row **rows, size_t *n)
{
    struct obj_dbref ref;
    struct obj_snap snap;
    struct obj_db_cont_info ci;
    struct cont_rows_out o = {rows, n};
    *rows = NULL;
    *n = 0;
    obj_ref_cont(db, account, container, &ref);
    obj_snap_take(db, &snap);
    struct obj_rdctx cx = {db, snap.ro, NULL};
    int rc = cont_info_load(&cx, &ref, &ci);
    obj_db_cont_info_release(&ci);
    if (rc == 0)
        rc = obj_db_seq_walk(&cx, &ref, since, max, cont_row_out, &o);
    obj_snap_release(db, &snap);
    if (rc < 0) {
        obj_db_obj_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

int obj_db_cont_merge_rows(struct obj_db *db, const char *account, const char *container,
                           const struct obj_db_obj_row *rows, size_t n, const char *remote_id,
                           uint64_t sync_point)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct obj_db_cont_info ci;
    struct obj_rowstate rs;
    bool any = false;
    obj_ref_cont(db, account, container, &ref);
    obj_txn_begin(&t, db, &ref);
    int rc = cont_info_load(&t.cx, &ref, &ci);
    obj_db_cont_info_release(&ci);
    if (rc == 0)
        rc = obj_rowstate_load(&t.cx, &ref, &rs);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool ch;
        struct obj_db_obj_row in = rows[i];
        if (!in.content_type)
            in.content_type = (char *)"";
        if (!in.etag)
            in.etag = (char *)"";
        rc = row_apply(&t.cx, &ref, &rs, &in, &ch);
        any |= ch;
    }
    if (rc == 0 && any)
        obj_rowstate_put(t.wb, &ref, &rs);
    if (rc == 0 && remote_id)
        rc = obj_sync_raise(&t, remote_id, (int64_t)sync_point);
    return obj_txn_end(&t, rc);
}

int obj_db_cont_merge_info(struct obj_db *db, const struct obj_db_cont_info *peer)
{
    struct obj_dbref ref;
    struct obj_txn t;
    struct obj_db_cont_info ci;
    obj_ref_cont(db, peer->account, peer->container, &ref);
    obj_txn_begin(&t, db, &ref);
    int rc = cont_info_load(&t.cx, &ref, &ci);
    if (rc == -ENOENT) {
        cont_info_new(&ci, peer->account, peer->container, &peer->put_ts,
                      peer->policy_index);
        ci.created_at = peer->created_at;
        ci.delete_ts = peer->delete_ts;
        ci.status_changed_at = peer->status_changed_at;
        rc = 0;
    } else if (rc == 0) {
        rc = cont_info_totals(&t.cx, &ref, &ci);
        bool was_deleted = ci.deleted;
        if (ts_cmp(&peer->created_at, &ci.created_at) < 0)
            ci.created_at = peer->created_at;
        ci.put_ts = *obj_ts_max(&ci.put_ts, &peer->put_ts);
        ci.delete_ts = *obj_ts_max(&ci.delete_ts, &peer->delete_ts);
        if (rc == 0)
            rc = cont_info_totals(&t.cx, &ref, &ci);
        if (rc == 0 && was_deleted != ci.deleted) {
            struct ts now = ts_now();
            ci.status_changed_at = *obj_ts_max(&ci.status_changed_at, &now);
        }
    }
    if (rc == 0) {
        for (size_t i = 0; i < peer->nmeta; i++)
            obj_meta_merge_one(&ci.meta, &ci.nmeta, peer->meta[i].key, peer->meta[i].value,
                               &peer->meta[i].ts);
        cont_info_store(t.wb, &ref, &ci);
    }
    obj_db_cont_info_release(&ci);
    return obj_txn_end(&t, rc);
}

int obj_db_cont_get_sync(struct obj_db *db, const char *account, const char *container,
                         const char *remote_id, bool incoming, int64_t *point)
{
    struct obj_dbref ref;
    obj_ref_cont(db, account, container, &ref);
    struct obj_rdctx cx = {db, NULL, NULL};
    return obj_sync_get(&cx, &ref, remote_id, incoming, point);
}

int obj_db_cont_set_sync(struct obj_db *db, const char *account, const char *container,
                         const char *remote_id, bool incoming, int64_t point)
{
    struct obj_dbref ref;
    struct obj_txn t;
    obj_ref_cont(db, account, container, &ref);
    obj_txn_begin(&t, db, &ref);
    obj_sync_put(t.wb, &ref, remote_id, incoming, point);
    return obj_txn_end(&t, 0);
}

/* ------------------------------------------------------------------ reclaim */

static int cont_reclaim_info(struct obj_txn *t, const struct ts *age, bool first, bool *dead)
{
    struct obj_db_cont_info ci;
    int rc = cont_info_load(&t->cx, &t->ref, &ci);
    if (rc == 0 && first) {
        bool empty = false;
        rc = cont_info_totals(&t->cx, &t->ref, &ci);
        if (rc == 0)
            rc = cont_empty(&t->cx, &t->ref, &empty);
        /* Swift's is_reclaimable: deleted before age, after its put */
        if (rc == 0 && empty && ts_cmp(&ci.delete_ts, age) < 0 &&
            ts_cmp(&ci.delete_ts, &ci.put_ts) > 0) {
            *dead = true;
        } else if (rc == 0) {
            size_t before = ci.nmeta;
            obj_meta_reclaim(ci.meta, &ci.nmeta, age);
            if (ci.nmeta != before)
                cont_info_store(t->wb, &t->ref, &ci);
        }
    }
    obj_db_cont_info_release(&ci);
    return rc;
}

static int cont_reclaim_row(struct obj_txn *t, struct obj_rowstate *rs, const struct ts *age,
                            const char *name, size_t nlen, const char *val, size_t vlen,
                            uint64_t *seq)
{
    struct rowview rv;
    char tsbuf[3 * TS_INTERNAL_LEN];
    int rc = row_decode(val, vlen, &rv);
    if (rc < 0)
        return rc;
    if (!rv.deleted || ts_cmp(&rv.data_ts, age) >= 0)
        return 0;
    /* Swift's DELETE of the row: its trigger takes it out of the totals
     * and the hash */
    stat_add(&t->cx, &t->ref, rv.policy, 0, -(int64_t)rv.size, &rc);
    if (rc < 0)
        return rc;
    *seq = rv.seq;
    obj_ts_encode3(&rv.data_ts, &rv.ctype_ts, &rv.meta_ts, tsbuf, sizeof(tsbuf));
    obj_rowstate_chexor(rs, name, nlen, tsbuf);
    return 1;
}

int obj_db_cont_reclaim(struct obj_db *db, const char *account, const char *container,
                        const struct ts *age, bool *gone)
{
    struct obj_dbref ref;
    obj_ref_cont(db, account, container, &ref);
    return obj_db_reclaim(db, &ref, age, gone, cont_reclaim_info, cont_reclaim_row);
}

int obj_db_cont_fingerprint(struct obj_db *db, const char *account, const char *container,
                            unsigned char fp[16])
{
    struct obj_dbref ref;
    obj_ref_cont(db, account, container, &ref);
    return obj_db_fingerprint(db, &ref, fp);
}

int obj_db_cont_drop_if(struct obj_db *db, const char *account, const char *container,
                        const unsigned char fp[16], bool *dropped)
{
    struct obj_dbref ref;
    obj_ref_cont(db, account, container, &ref);
    return obj_db_drop_if(db, &ref, fp, dropped);
}

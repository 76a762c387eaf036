/*
 * obj_db.c - the container/account database handle: opening RocksDB, the
 * striped update locks and the group commit, the key and value codecs,
 * metadata, content types, and the helpers the container (obj_db_cont.c),
 * account (obj_db_acct.c) and listing (obj_db_list.c) code share.
 *
 * Invariants: every value starts with a version byte (OBJ_VAL_V1); a
 * decoder meeting anything else or running past the end reports -EIO and
 * logs, it never reads out of bounds. The handle is immutable after open
 * except for the mutexes and the group-commit state they guard, so any
 * thread may use it.
 */
#define LOG_COMPONENT "objectd"

#include "objectd/obj_db.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/bug.h"
#include "common/log.h"
#include "common/md5.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_db_int.h"

/* ---------------------------------------------------------------- helpers */

const struct ts *obj_ts_max(const struct ts *a, const struct ts *b)
{
    return ts_cmp(a, b) >= 0 ? a : b;
}

/* ---------------------------------------------------------------- status */

int obj_http_status(int rc, int ok)
{
    switch (rc) {
    case 0: return ok;
    case -ENOENT: return 404;
    case -ENOTEMPTY:
    case -EEXIST:
    case -ESTALE: return 409;
    case -EACCES: return 403;
    case -EINVAL: return 400;
    case -E2BIG: return 412;
    case -ENOTSUP: return 406;
    default: return 500;
    }
}

/* ---------------------------------------------------------------- buffers */

void obj_buf_release(struct obj_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void obj_buf_put(struct obj_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + n)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

void obj_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

void obj_be64(unsigned char *p, uint64_t v)
{
    obj_be32(p, (uint32_t)(v >> 32));
    obj_be32(p + 4, (uint32_t)v);
}

uint32_t obj_get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t obj_get_be64(const unsigned char *p)
{
    return (uint64_t)obj_get_be32(p) << 32 | obj_get_be32(p + 4);
}

void obj_buf_u8(struct obj_buf *b, uint8_t v)
{
    obj_buf_put(b, &v, 1);
}

void obj_buf_u32(struct obj_buf *b, uint32_t v)
{
    unsigned char x[4];
    obj_be32(x, v);
    obj_buf_put(b, x, 4);
}

void obj_buf_u64(struct obj_buf *b, uint64_t v)
{
    unsigned char x[8];
    obj_be64(x, v);
    obj_buf_put(b, x, 8);
}

void obj_buf_ts(struct obj_buf *b, const struct ts *t)
{
    obj_buf_u64(b, (uint64_t)t->units);
    obj_buf_u64(b, t->offset);
}

void obj_buf_str(struct obj_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    obj_buf_u32(b, (uint32_t)n);
    obj_buf_put(b, s, n);
}

static const unsigned char *rd_take(struct obj_rd *r, size_t n)
{
    if (r->bad || r->len - r->off < n) {
        r->bad = true;
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)r->p + r->off;
    r->off += n;
    return p;
}

uint8_t obj_rd_u8(struct obj_rd *r)
{
    const unsigned char *p = rd_take(r, 1);
    return p ? p[0] : 0;
}

uint32_t obj_rd_u32(struct obj_rd *r)
{
    const unsigned char *p = rd_take(r, 4);
    return p ? obj_get_be32(p) : 0;
}

uint64_t obj_rd_u64(struct obj_rd *r)
{
    const unsigned char *p = rd_take(r, 8);
    return p ? obj_get_be64(p) : 0;
}

struct ts obj_rd_ts(struct obj_rd *r)
{
    struct ts t;
    t.units = (int64_t)obj_rd_u64(r);
    t.offset = obj_rd_u64(r);
    return t;
}

const char *obj_rd_strp(struct obj_rd *r, uint32_t *len)
{
    uint32_t n = obj_rd_u32(r);
    const unsigned char *p = rd_take(r, n);
    *len = p ? n : 0;
    return p ? (const char *)p : "";
}

char *obj_rd_str(struct obj_rd *r)
{
    uint32_t n;
    const char *p = obj_rd_strp(r, &n);
    return xstrndup(p, n);
}

/* ------------------------------------------------------------------- keys */

void obj_ref_cont(struct obj_db *db, const char *account, const char *container,
                  struct obj_dbref *ref)
{
    ref->kind = 'c';
    hashpath_digest(&db->secret, account, container, NULL, ref->hash);
}

void obj_ref_acct(struct obj_db *db, const char *account, struct obj_dbref *ref)
{
    ref->kind = 'a';
    hashpath_digest(&db->secret, account, NULL, NULL, ref->hash);
}

void obj_key(struct obj_buf *b, const struct obj_dbref *ref, char sub, const void *tail,
             size_t tail_len)
{
    b->len = 0;
    obj_buf_put(b, &ref->kind, 1);
    obj_buf_put(b, ref->hash, 16);
    obj_buf_put(b, &sub, 1);
    if (tail_len)
        obj_buf_put(b, tail, tail_len);
}

pthread_mutex_t *obj_db_lock_for(struct obj_db *db, const struct obj_dbref *ref)
{
    unsigned idx = (unsigned)(ref->hash[0] ^ (ref->kind == 'a' ? 0x5a : 0)) % OBJ_DB_LOCK_STRIPES;
    return &db->locks[idx];
}

/* ---------------------------------------------------------------- rocksdb */

struct obj_db *obj_db_open(const char *path, const struct hashpath_secret *secret,
                           unsigned flags, struct err *e)
{
    char *rerr = NULL;
    int rc = mkdir_p(path);
    if (rc < 0) {
        err_set(e, rc, "%s: cannot create directory: %s", path, strerror(-rc));
        return NULL;
    }
    struct obj_db *db = xcalloc(1, sizeof(*db));
    db->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(db->opts, 1);
    rocksdb_options_increase_parallelism(db->opts, 2);
    /* a node has one db per device: bound the table files each keeps open */
    rocksdb_options_set_max_open_files(db->opts, 512);
    /* every new name is looked up as live, then as tombstone, and misses
     * both: bloom filters answer those misses without reading blocks */
    db->bbto = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_filter_policy(db->bbto,
                                                  rocksdb_filterpolicy_create_bloom(10));
    rocksdb_options_set_block_based_table_factory(db->opts, db->bbto);
    db->rdb = rocksdb_open(db->opts, path, &rerr);
    if (rerr) {
        err_set(e, -EIO, "%s: cannot open RocksDB: %s", path, rerr);
        rocksdb_free(rerr);
        rocksdb_options_destroy(db->opts);
        rocksdb_block_based_options_destroy(db->bbto);
        free(db);
        return NULL;
    }
    db->wopts = rocksdb_writeoptions_create();
    /* durability comes from obj_db_sync's group commit, not per write */
    rocksdb_writeoptions_set_sync(db->wopts, 0);
    db->nosync = (flags & OBJ_DB_NO_SYNC) != 0;
    pthread_mutex_init(&db->sync_mu, NULL);
    pthread_cond_init(&db->sync_cv, NULL);
    db->ropts = rocksdb_readoptions_create();
    db->prefix = xstrdup(secret && secret->prefix ? secret->prefix : "");
    db->suffix = xstrdup(secret && secret->suffix ? secret->suffix : "");
    db->secret.prefix = db->prefix;
    db->secret.suffix = db->suffix;
    for (int i = 0; i < OBJ_DB_LOCK_STRIPES; i++)
        pthread_mutex_init(&db->locks[i], NULL);
    return db;
}

void obj_db_close(struct obj_db *db)
{
    if (!db)
        return;
    rocksdb_close(db->rdb);
    rocksdb_writeoptions_destroy(db->wopts);
    rocksdb_readoptions_destroy(db->ropts);
    rocksdb_options_destroy(db->opts);
    rocksdb_block_based_options_destroy(db->bbto);
    for (int i = 0; i < OBJ_DB_LOCK_STRIPES; i++)
        pthread_mutex_destroy(&db->locks[i]);
    pthread_mutex_destroy(&db->sync_mu);
    pthread_cond_destroy(&db->sync_cv);
    free(db->prefix);
    free(db->suffix);
    free(db);
}

int obj_db_get(const struct obj_rdctx *cx, const struct obj_buf *key, char **val,
               size_t *vlen)
{
    char *rerr = NULL;
    const rocksdb_readoptions_t *ro = cx->ro ? cx->ro : cx->db->ropts;
    if (cx->wb)
        *val = rocksdb_writebatch_wi_get_from_batch_and_db(cx->wb, cx->db->rdb, ro, key->p,
                                                          key->len, vlen, &rerr);
    else
        *val = rocksdb_get(cx->db->rdb, ro, key->p, key->len, vlen, &rerr);
    if (rerr) {
        log_err("rocksdb get: %s", rerr);
        rocksdb_free(rerr);
        *val = NULL;
        return -EIO;
    }
    return 0;
}

void obj_db_free_val(char *val)
{
    if (val)
        rocksdb_free(val);
}

void obj_wb_put(rocksdb_writebatch_wi_t *wb, const struct obj_buf *k, const struct obj_buf *v)
{
    rocksdb_writebatch_wi_put(wb, k->p, k->len, v->p, v->len);
}

void obj_wb_del(rocksdb_writebatch_wi_t *wb, const struct obj_buf *k)
{
    rocksdb_writebatch_wi_delete(wb, k->p, k->len);
}

int obj_db_write(struct obj_db *db, rocksdb_writebatch_wi_t *wb, uint64_t *seq)
{
    char *rerr = NULL;
    *seq = 0;
    if (rocksdb_writebatch_wi_count(wb) == 0)
        return 0;
    rocksdb_write_writebatch_wi(db->rdb, db->wopts, wb, &rerr);
    if (rerr) {
        log_err("rocksdb write: %s", rerr);
        rocksdb_free(rerr);
        return -EIO;
    }
    *seq = rocksdb_get_latest_sequence_number(db->rdb);
    return 0;
}

/*
 * Group commit. A writer that finds no fsync running starts one covering
 * everything written so far; writers arriving meanwhile wait for it and,
 * if it started before their write, for the next one, which covers them
 * all at once. The WAL is replayed in order after a crash, so a write can
 * never survive without the earlier writes it read from.
 */
int obj_db_sync(struct obj_db *db, uint64_t seq)
{
    int rc = 0;
    if (db->nosync || seq == 0)
        return 0;
    pthread_mutex_lock(&db->sync_mu);
    while (db->synced_seq < seq && rc == 0) {
        if (db->syncing) {
            pthread_cond_wait(&db->sync_cv, &db->sync_mu);
            continue;
        }
        db->syncing = true;
        uint64_t upto = rocksdb_get_latest_sequence_number(db->rdb);
        pthread_mutex_unlock(&db->sync_mu);
        char *rerr = NULL;
        rocksdb_flush_wal(db->rdb, 1, &rerr);
        pthread_mutex_lock(&db->sync_mu);
        db->syncing = false;
        if (rerr) {
            log_err("rocksdb WAL sync: %s", rerr);
            rocksdb_free(rerr);
            rc = -EIO;
        } else if (upto > db->synced_seq) {
            db->synced_seq = upto;
        }
        pthread_cond_broadcast(&db->sync_cv);
    }
    pthread_mutex_unlock(&db->sync_mu);
    return rc;
}

void obj_snap_take(struct obj_db *db, struct obj_snap *s)
{
    s->snap = rocksdb_create_snapshot(db->rdb);
    s->ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_snapshot(s->ro, s->snap);
}

void obj_snap_release(struct obj_db *db, struct obj_snap *s)
{
    rocksdb_readoptions_destroy(s->ro);
    rocksdb_release_snapshot(db->rdb, s->snap);
    s->ro = NULL;
    s->snap = NULL;
}

/* ------------------------------------------------------------ transactions */

void obj_txn_begin(struct obj_txn *t, struct obj_db *db, const struct obj_dbref *ref)
{
    t->db = db;
    t->ref = *ref;
    t->lock = obj_db_lock_for(db, ref);
    t->wb = rocksdb_writebatch_wi_create(0, 1);
    t->cx.db = db;
    t->cx.ro = NULL;
    t->cx.wb = t->wb;
    pthread_mutex_lock(t->lock);
}

/* Commits when rc >= 0 (and there is something to write); always unlocks. */
int obj_txn_end(struct obj_txn *t, int rc)
{
    uint64_t seq = 0;
    if (rc >= 0) {
        int wrc = obj_db_write(t->db, t->wb, &seq);
        if (wrc < 0)
            rc = wrc;
    }
    pthread_mutex_unlock(t->lock);
    rocksdb_writebatch_wi_destroy(t->wb);
    /* the fsync happens outside the stripe lock, shared with other writers */
    if (rc >= 0 && seq) {
        int src = obj_db_sync(t->db, seq);
        if (src < 0)
            rc = src;
    }
    return rc;
}

/* -------------------------------------------------------------- row state */

int obj_rowstate_load(const struct obj_rdctx *cx, const struct obj_dbref *ref,
                      struct obj_rowstate *rs)
{
    struct obj_buf k = {0};
    char *v;
    size_t vlen;
    obj_key(&k, ref, 'r', NULL, 0);
    int rc = obj_db_get(cx, &k, &v, &vlen);
    obj_buf_release(&k);
    memset(rs, 0, sizeof(*rs));
    if (rc < 0 || !v)
        return rc;
    struct obj_rd r = {v, vlen, 0, false};
    if (obj_rd_u8(&r) != OBJ_VAL_V1)
        r.bad = true;
    rs->max_row = obj_rd_u64(&r);
    uint32_t n;
    const char *h = obj_rd_strp(&r, &n);
    if (n == 16)
        memcpy(rs->hash, h, 16);
    else
        r.bad = true;
    obj_db_free_val(v);
    if (r.bad) {
        log_err("corrupt row state record");
        return -EIO;
    }
    return 0;
}

void obj_rowstate_put(rocksdb_writebatch_wi_t *wb, const struct obj_dbref *ref,
                      const struct obj_rowstate *rs)
{
    struct obj_buf k = {0}, v = {0};
    obj_key(&k, ref, 'r', NULL, 0);
    obj_buf_u8(&v, OBJ_VAL_V1);
    obj_buf_u64(&v, rs->max_row);
    obj_buf_u32(&v, 16);
    obj_buf_put(&v, rs->hash, 16);
    obj_wb_put(wb, &k, &v);
    obj_buf_release(&k);
    obj_buf_release(&v);
}

void obj_rowstate_chexor(struct obj_rowstate *rs, const char *name, size_t name_len,
                         const char *tsstr)
{
    struct md5 m;
    unsigned char d[MD5_DIGEST_LEN];
    md5_init(&m);
    md5_update(&m, name, name_len);
    md5_update(&m, "-", 1);
    md5_update(&m, tsstr, strlen(tsstr));
    md5_final(&m, d);
    for (int i = 0; i < 16; i++)
        rs->hash[i] ^= d[i];
}

/* ------------------------------------------------------------ policy stat */

int obj_stat_load(const struct obj_rdctx *cx, const struct obj_dbref *ref,
                  uint32_t policy, struct obj_stat *st, bool *found)
{
    struct obj_buf k = {0};
    unsigned char pk[4];
    char *v;
    size_t vlen;
    obj_be32(pk, policy);
    obj_key(&k, ref, 's', pk, 4);
    int rc = obj_db_get(cx, &k, &v, &vlen);
    obj_buf_release(&k);
    memset(st, 0, sizeof(*st));
    if (found)
        *found = v != NULL;
    if (rc < 0 || !v)
        return rc;
    struct obj_rd r = {v, vlen, 0, false};
    if (obj_rd_u8(&r) != OBJ_VAL_V1)
        r.bad = true;
    st->container_count = (int64_t)obj_rd_u64(&r);
    st->object_count = (int64_t)obj_rd_u64(&r);
    st->bytes_used = (int64_t)obj_rd_u64(&r);
    obj_db_free_val(v);
    if (r.bad) {
        log_err("corrupt policy stat record");
        return -EIO;
    }
    return 0;
}

void obj_stat_put(rocksdb_writebatch_wi_t *wb, const struct obj_dbref *ref, uint32_t policy,
                  const struct obj_stat *st)
{
    struct obj_buf k = {0}, v = {0};
    unsigned char pk[4];
    obj_be32(pk, policy);
    obj_key(&k, ref, 's', pk, 4);
    obj_buf_u8(&v, OBJ_VAL_V1);
    obj_buf_u64(&v, (uint64_t)st->container_count);
    obj_buf_u64(&v, (uint64_t)st->object_count);
    obj_buf_u64(&v, (uint64_t)st->bytes_used);
    obj_wb_put(wb, &k, &v);
    obj_buf_release(&k);
    obj_buf_release(&v);
}

int obj_stat_load_all(const struct obj_rdctx *cx, const struct obj_dbref *ref, struct obj_db_policy_stat **out,
                      size_t *n)
{
    struct obj_buf k = {0};
    obj_key(&k, ref, 's', NULL, 0);
    rocksdb_iterator_t *it =
        rocksdb_create_iterator(cx->db->rdb, cx->ro ? cx->ro : cx->db->ropts);
    int rc = 0;
    *out = NULL;
    *n = 0;
    for (rocksdb_iter_seek(it, k.p, k.len); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *key = rocksdb_iter_key(it, &klen);
        if (klen != k.len + 4 || memcmp(key, k.p, k.len) != 0)
            break;
        const char *v = rocksdb_iter_value(it, &vlen);
        struct obj_rd r = {v, vlen, 0, false};
        if (obj_rd_u8(&r) != OBJ_VAL_V1)
            r.bad = true;
        struct obj_db_policy_stat ps;
        ps.policy_index = obj_get_be32((const unsigned char *)key + k.len);
        ps.container_count = obj_rd_u64(&r);
        ps.object_count = obj_rd_u64(&r);
        ps.bytes_used = obj_rd_u64(&r);
        if (r.bad) {
            log_err("corrupt policy stat record");
            rc = -EIO;
            break;
        }
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = ps;
    }
    char *rerr = NULL;
    rocksdb_iter_get_error(it, &rerr);
    if (rerr) {
        log_err("rocksdb iterator: %s", rerr);
        rocksdb_free(rerr);
        rc = -EIO;
    }
    rocksdb_iter_destroy(it);
    obj_buf_release(&k);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* --------------------------------------------------------------- metadata */

void obj_meta_free(struct obj_db_meta *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].key);
        free(m[i].value);
    }
    free(m);
}

void obj_meta_encode(struct obj_buf *b, const struct obj_db_meta *m, size_t n)
{
    obj_buf_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        obj_buf_str(b, m[i].key);
        obj_buf_str(b, m[i].value);
        obj_buf_ts(b, &m[i].ts);
    }
}

int obj_meta_decode(struct obj_rd *r, struct obj_db_meta **m, size_t *n)
{
    uint32_t cnt = obj_rd_u32(r);
    *m = NULL;
    *n = 0;
    if (r->bad || cnt > r->len)
        return -EIO;
    if (cnt)
        *m = xcalloc(cnt, sizeof(**m));
    for (uint32_t i = 0; i < cnt; i++) {
        (*m)[i].key = obj_rd_str(r);
        (*m)[i].value = obj_rd_str(r);
        (*m)[i].ts = obj_rd_ts(r);
    }
    *n = cnt;
    return r->bad ? -EIO : 0;
}

/* Python's str.title() on ASCII: a letter is upper-case after a non-letter
 * and lower-case after a letter. Swift's WSGI layer presents header names
 * that way, and metadata keys are stored as presented. */
static char *title_case(const char *s)
{
    char *t = xstrdup(s);
    bool prev_alpha = false;
    for (char *p = t; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalpha(c)) {
            *p = (char)(prev_alpha ? tolower(c) : toupper(c));
            prev_alpha = true;
        } else {
            prev_alpha = false;
        }
    }
    return t;
}

bool obj_meta_merge_one(struct obj_db_meta **m, size_t *n, const char *key,
                        const char *value, const struct ts *ts)
{
    size_t lo = 0, hi = *n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp((*m)[mid].key, key);
        if (c == 0) {
            if (ts_cmp(ts, &(*m)[mid].ts) <= 0)
                return false;
            free((*m)[mid].value);
            (*m)[mid].value = xstrdup(value);
            (*m)[mid].ts = *ts;
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *m = xrealloc(*m, (*n + 1) * sizeof(**m));
    memmove(&(*m)[lo + 1], &(*m)[lo], (*n - lo) * sizeof(**m));
    (*m)[lo].key = xstrdup(key);
    (*m)[lo].value = xstrdup(value);
    (*m)[lo].ts = *ts;
    (*n)++;
    return true;
}

static bool has_prefix_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool meta_wanted(char kind, const char *key)
{
    size_t len = strlen(key);
    if (kind == 'c') {
        static const char *const save[] = {"x-container-read", "x-container-write",
                                           "x-container-sync-key", "x-container-sync-to"};
        for (size_t i = 0; i < 4; i++)
            if (strcasecmp(key, save[i]) == 0)
                return true;
        return (len > 17 && has_prefix_ci(key, "x-container-meta-")) ||
               (len > 20 && has_prefix_ci(key, "x-container-sysmeta-"));
    }
    return (len > 15 && has_prefix_ci(key, "x-account-meta-")) ||
           (len > 18 && has_prefix_ci(key, "x-account-sysmeta-"));
}

bool obj_meta_apply_headers(struct obj_db_meta **m, size_t *n, char kind,
                            const struct obj_db_kv *hdrs, size_t nhdrs,
                            const struct ts *ts)
{
    bool changed = false;
    for (size_t i = 0; i < nhdrs; i++) {
        if (!hdrs[i].key || !meta_wanted(kind, hdrs[i].key))
            continue;
        char *k = title_case(hdrs[i].key);
        changed |= obj_meta_merge_one(m, n, k, hdrs[i].value ? hdrs[i].value : "", ts);
        free(k);
    }
    return changed;
}

bool obj_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        int n;
        uint32_t cp;
        if (c < 0x80) {
            if (c == 0)
                return false;
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (end - p <= n)
            return false;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

int obj_meta_validate(const struct obj_db_meta *m, size_t n, struct err *e)
{
    size_t count = 0, size = 0;
    for (size_t i = 0; i < n; i++) {
        if (!obj_utf8_valid(m[i].key, strlen(m[i].key)) ||
            !obj_utf8_valid(m[i].value, strlen(m[i].value)))
            return err_set(e, -EINVAL, "Metadata must be valid UTF-8");
        if (!m[i].value[0])
            continue;
        size_t plen = 0;
        if (has_prefix_ci(m[i].key, "x-account-meta-"))
            plen = 15;
        else if (has_prefix_ci(m[i].key, "x-container-meta-"))
            plen = 17;
        if (!plen)
            continue;
        count++;
        size += strlen(m[i].key) - plen + strlen(m[i].value);
    }
    if (count > OBJ_DB_MAX_META_COUNT)
        return err_set(e, -EINVAL, "Too many metadata items; max %d", OBJ_DB_MAX_META_COUNT);
    if (size > OBJ_DB_MAX_META_OVERALL_SIZE)
        return err_set(e, -EINVAL, "Total metadata too large; max %d",
                       OBJ_DB_MAX_META_OVERALL_SIZE);
    return 0;
}

void obj_meta_clear(struct obj_db_meta *m, size_t n, const struct ts *ts)
{
    for (size_t i = 0; i < n; i++) {
        if (ts_cmp(ts, &m[i].ts) <= 0)
            continue;
        free(m[i].value);
        m[i].value = xstrdup("");
        m[i].ts = *ts;
    }
}

void obj_uuid4(char out[40])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof(b)) {
        ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
        if (r > 0)
            got += (size_t)r;
        else if (errno != EINTR)
            BUG_ON(1);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 40,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
             b[12], b[13], b[14], b[15]);
}

void obj_ts_encode3(const struct ts *d, const struct ts *c, const struct ts *m,
                    char *buf, size_t bufsz)
{
    char t1[TS_INTERNAL_LEN];
    ts_short(d, t1);
    int64_t d1 = c->units - d->units, d2 = m->units - c->units;
    if (d1 == 0 && d2 == 0) {
        snprintf(buf, bufsz, "%s", t1);
        return;
    }
    snprintf(buf, bufsz, "%s%c%" PRIx64 "%c%" PRIx64, t1, d1 < 0 ? '-' : '+',
             (uint64_t)(d1 < 0 ? -d1 : d1), d2 < 0 ? '-' : '+', (uint64_t)(d2 < 0 ? -d2 : d2));
}

int obj_sync_get(const struct obj_rdctx *cx, const struct obj_dbref *ref, const char *remote,
                 bool incoming, int64_t *point)
{
    struct obj_buf k = {0};
    char *v;
    size_t vlen;
    obj_key(&k, ref, incoming ? 'y' : 'Y', remote, strlen(remote));
    int rc = obj_db_get(cx, &k, &v, &vlen);
    obj_buf_release(&k);
    *point = -1;
    if (rc < 0 || !v)
        return rc;
    struct obj_rd r = {v, vlen, 0, false};
    if (obj_rd_u8(&r) != OBJ_VAL_V1)
        r.bad = true;
    *point = (int64_t)obj_rd_u64(&r);
    obj_db_free_val(v);
    return r.bad ? -EIO : 0;
}

void obj_sync_put(rocksdb_writebatch_wi_t *wb, const struct obj_dbref *ref, const char *remote,
                  bool incoming, int64_t point)
{
    struct obj_buf k = {0}, v = {0};
    obj_key(&k, ref, incoming ? 'y' : 'Y', remote, strlen(remote));
    obj_buf_u8(&v, OBJ_VAL_V1);
    obj_buf_u64(&v, (uint64_t)point);
    obj_wb_put(wb, &k, &v);
    obj_buf_release(&k);
    obj_buf_release(&v);
}

int obj_sync_raise(struct obj_txn *t, const char *remote, int64_t point)
{
    int64_t old;
    int rc = obj_sync_get(&t->cx, &t->ref, remote, true, &old);
    if (rc == 0 && point > old)
        obj_sync_put(t->wb, &t->ref, remote, true, point);
    return rc;
}

/* ----------------------------------------------------------- content type */

static bool ct_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool ct_token(unsigned char c)
{
    if (c <= 0x20 || c == 0x7f)
        return false;
    return !strchr("()<>@,;:\\\"/[]?={}", c);
}

/*
 * One match of Swift's parameter pattern at s+i:
 *   \s*;\s*(token)\s*(?:=\s*(token|"(?:[^"\\]|\\.)*"))?
 * Returns the end of the match or 0 when nothing matches at i.
 */
static size_t ct_param_at(const char *s, size_t len, size_t i, size_t *k0, size_t *k1,
                          size_t *v0, size_t *v1)
{
    size_t j = i;
    while (j < len && ct_space((unsigned char)s[j]))
        j++;
    if (j >= len || s[j] != ';')
        return 0;
    j++;
    while (j < len && ct_space((unsigned char)s[j]))
        j++;
    *k0 = j;
    while (j < len && ct_token((unsigned char)s[j]))
        j++;
    if (j == *k0)
        return 0;
    *k1 = j;
    while (j < len && ct_space((unsigned char)s[j]))
        j++;
    *v0 = *v1 = j;
    size_t end = j;
    if (j < len && s[j] == '=') {
        size_t q = j + 1;
        while (q < len && ct_space((unsigned char)s[q]))
            q++;
        if (q < len && ct_token((unsigned char)s[q])) {
            *v0 = q;
            while (q < len && ct_token((unsigned char)s[q]))
                q++;
            *v1 = end = q;
        } else if (q < len && s[q] == '"') {
            size_t x = q + 1;
            while (x < len && s[x] != '"') {
                if (s[x] == '\\') {
                    if (x + 1 >= len)
                        break;
                    x += 2;
                } else {
                    x++;
                }
            }
            if (x < len && s[x] == '"') {
                *v0 = q;
                *v1 = end = x + 1;
            }
        }
    }
    return end;
}

void obj_db_content_type_split(const char *ct, char **type_out, char **swift_bytes)
{
    const char *semi = strchr(ct, ';');
    *swift_bytes = NULL;
    if (!semi) {
        *type_out = xstrdup(ct);
        return;
    }
    struct obj_buf out = {0};
    obj_buf_put(&out, ct, (size_t)(semi - ct));
    const char *s = semi; /* Swift re-adds the ';' it split on */
    size_t len = strlen(s), i = 0;
    while (i < len) {
        size_t k0, k1, v0, v1;
        size_t end = ct_param_at(s, len, i, &k0, &k1, &v0, &v1);
        if (!end) {
            i++;
            continue;
        }
        if (k1 - k0 == 11 && memcmp(s + k0, "swift_bytes", 11) == 0) {
            free(*swift_bytes);
            *swift_bytes = xstrndup(s + v0, v1 - v0);
        } else {
            obj_buf_put(&out, ";", 1);
            obj_buf_put(&out, s + k0, k1 - k0);
            obj_buf_put(&out, "=", 1);
            obj_buf_put(&out, s + v0, v1 - v0);
        }
        i = end;
    }
    obj_buf_put(&out, "", 1);
    *type_out = out.p;
}

void obj_meta_reclaim(struct obj_db_meta *m, size_t *n, const struct ts *age)
{
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        if (!m[i].value[0] && ts_cmp(&m[i].ts, age) < 0) {
            free(m[i].key);
            free(m[i].value);
            continue;
        }
        m[w++] = m[i];
    }
    *n = w;
}

int obj_db_drop_keys(struct obj_txn *t, size_t max, bool *more)
{
    struct obj_buf k = {0};
    obj_key(&k, &t->ref, 'a', NULL, 0);
    k.len = 17; /* kind + hash: every sub-kind of this db */
    rocksdb_iterator_t *it = rocksdb_create_iterator(t->db->rdb, t->db->ropts);
    size_t n = 0;
    *more = false;
    for (rocksdb_iter_seek(it, k.p, k.len); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen;
        const char *key = rocksdb_iter_key(it, &klen);
        if (klen < k.len || memcmp(key, k.p, k.len) != 0)
            break;
        if (n == max) {
            *more = true;
            break;
        }
        rocksdb_writebatch_wi_delete(t->wb, key, klen);
        n++;
    }
    char *rerr = NULL;
    rocksdb_iter_get_error(it, &rerr);
    rocksdb_iter_destroy(it);
    obj_buf_release(&k);
    if (rerr) {
        log_err("rocksdb iterator: %s", rerr);
        rocksdb_free(rerr);
        return -EIO;
    }
    return 0;
}

/* md5 over the record's info and row state values: any write to the
 * record (a row, its info, a merge) changes one of them. */
static int fingerprint_in(const struct obj_rdctx *cx, const struct obj_dbref *ref,
                          unsigned char fp[16])
{
    static const char subs[] = { 'i', 'r' };
    struct md5 m;
    struct obj_buf k = {0};
    int rc = 0;
    md5_init(&m);
    for (size_t i = 0; i < sizeof(subs) && rc == 0; i++) {
        char *v;
        size_t vlen;
        obj_key(&k, ref, subs[i], NULL, 0);
        rc = obj_db_get(cx, &k, &v, &vlen);
        if (rc == 0 && !v && subs[i] == 'i')
            rc = -ENOENT;
        if (rc == 0 && v) {
            unsigned char len[8];
            obj_be64(len, vlen);
            md5_update(&m, len, sizeof(len));
            md5_update(&m, v, vlen);
        }
        obj_db_free_val(v);
    }
    obj_buf_release(&k);
    if (rc == 0)
        md5_final(&m, fp);
    return rc;
}

int obj_db_fingerprint(struct obj_db *db, const struct obj_dbref *ref, unsigned char fp[16])
{
    struct obj_rdctx cx = { .db = db };
    return fingerprint_in(&cx, ref, fp);
}

int obj_db_drop_if(struct obj_db *db, const struct obj_dbref *ref, const unsigned char fp[16],
                   bool *dropped)
{
    *dropped = false;
    /* Everything of the record shares its 17-byte head (kind + hash): one
     * range delete takes it all in one atomic write, however many rows,
     * under the record's lock, so no write can land between the check and
     * the removal, nor be half taken. */
    unsigned char lo[17], hi[17];
    struct obj_buf k = {0};
    obj_key(&k, ref, 'a', NULL, 0);
    memcpy(lo, k.p, sizeof(lo));
    obj_buf_release(&k);
    memcpy(hi, lo, sizeof(hi));
    for (int i = (int)sizeof(hi) - 1; i >= 0 && ++hi[i] == 0; i--)
        ;   /* the kind byte ('a'/'c') never carries over */
    pthread_mutex_t *lock = obj_db_lock_for(db, ref);
    pthread_mutex_lock(lock);
    unsigned char now[16];
    struct obj_rdctx cx = { .db = db };
    int rc = fingerprint_in(&cx, ref, now);
    uint64_t seq = 0;
    if (rc == 0 && memcmp(now, fp, 16) == 0) {
        rocksdb_writebatch_t *b = rocksdb_writebatch_create();
        rocksdb_writebatch_delete_range(b, (const char *)lo, sizeof(lo), (const char *)hi,
                                        sizeof(hi));
        char *rerr = NULL;
        rocksdb_write(db->rdb, db->wopts, b, &rerr);
        rocksdb_writebatch_destroy(b);
        if (rerr) {
            log_err("rocksdb range delete: %s", rerr);
            rocksdb_free(rerr);
            rc = -EIO;
        } else {
            seq = rocksdb_get_latest_sequence_number(db->rdb);
            *dropped = true;
        }
    }
    pthread_mutex_unlock(lock);
    if (rc == 0 && seq)
        rc = obj_db_sync(db, seq);
    return rc;
}

/*
 * One batch of the tombstone scan: up to OBJ_DB_RECLAIM_BATCH 'd' rows after
 * *resume (a name; empty from the start). *done when the scan finished.
 */
static int reclaim_tombstones(struct obj_txn *t, struct obj_rowstate *rs, const struct ts *age,
                              obj_reclaim_row_fn *row, struct obj_buf *resume, bool *done)
{
    struct obj_buf kp = {0}, seek = {0}, qk = {0};
    obj_key(&kp, &t->ref, 'd', NULL, 0); /* tombstones only */
    obj_buf_put(&seek, kp.p, kp.len);
    obj_buf_put(&seek, resume->p, resume->len);
    rocksdb_iterator_t *it = rocksdb_create_iterator(t->db->rdb, t->db->ropts);
    size_t seen = 0;
    int rc = 0;
    *done = true;
    rocksdb_iter_seek(it, seek.p, seek.len);
    if (resume->len && rocksdb_iter_valid(it)) {
        size_t klen;
        const char *key = rocksdb_iter_key(it, &klen);
        if (klen == seek.len && memcmp(key, seek.p, klen) == 0)
            rocksdb_iter_next(it);
    }
    for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *key = rocksdb_iter_key(it, &klen);
        if (klen < kp.len || memcmp(key, kp.p, kp.len) != 0)
            break;
        if (seen++ == OBJ_DB_RECLAIM_BATCH) {
            *done = false;
            break;
        }
        const char *name = key + kp.len;
        size_t nlen = klen - kp.len;
        resume->len = 0;
        obj_buf_put(resume, name, nlen);
        const char *val = rocksdb_iter_value(it, &vlen);
        uint64_t seq = 0;
        rc = row(t, rs, age, name, nlen, val, vlen, &seq);
        if (rc < 0)
            break;
        if (rc == 0)
            continue;
        rc = 0;
        unsigned char q[8];
        obj_be64(q, seq);
        obj_key(&qk, &t->ref, 'q', q, 8);
        obj_wb_del(t->wb, &qk);
        rocksdb_writebatch_wi_delete(t->wb, key, klen);
    }
    rocksdb_iter_destroy(it);
    obj_buf_release(&kp);
    obj_buf_release(&seek);
    obj_buf_release(&qk);
    return rc;
}

int obj_db_reclaim(struct obj_db *db, const struct obj_dbref *ref, const struct ts *age,
                   bool *gone, obj_reclaim_info_fn *info, obj_reclaim_row_fn *row)
{
    struct obj_buf resume = {0};
    bool done = false, first = true;
    int rc = 0;
    if (gone)
        *gone = false;
    while (rc == 0 && !done) {
        struct obj_txn t;
        struct obj_rowstate rs;
        bool dead = false;
        obj_txn_begin(&t, db, ref);
        rc = info(&t, age, first, &dead);
        if (rc == 0 && dead) {
            bool more = true;
            while (rc == 0 && more) {
                rc = obj_db_drop_keys(&t, OBJ_DB_RECLAIM_BATCH, &more);
                rc = obj_txn_end(&t, rc);
                if (rc == 0 && more)
                    obj_txn_begin(&t, db, ref);
            }
            if (rc == 0 && gone)
                *gone = true;
            break;
        }
        first = false;
        if (rc == 0)
            rc = obj_rowstate_load(&t.cx, ref, &rs);
        if (rc == 0)
            rc = reclaim_tombstones(&t, &rs, age, row, &resume, &done);
        if (rc == 0)
            obj_rowstate_put(t.wb, ref, &rs);
        rc = obj_txn_end(&t, rc);
    }
    obj_buf_release(&resume);
    return rc;
}

int obj_db_seq_walk(const struct obj_rdctx *cx, const struct obj_dbref *ref, uint64_t since,
                    size_t max, obj_seq_row_fn *fn, void *arg)
{
    struct obj_buf k = {0}, rk = {0};
    unsigned char q[8];
    size_t n = 0;
    int rc = 0;
    obj_be64(q, since + 1);
    obj_key(&k, ref, 'q', q, 8);
    rocksdb_iterator_t *it =
        rocksdb_create_iterator(cx->db->rdb, cx->ro ? cx->ro : cx->db->ropts);
    for (rocksdb_iter_seek(it, k.p, k.len); rocksdb_iter_valid(it) && n < max;
         rocksdb_iter_next(it)) {
        size_t klen, vlen, rvlen;
        const char *key = rocksdb_iter_key(it, &klen);
        if (klen != OBJ_KEY_HDR + 8 || memcmp(key, k.p, OBJ_KEY_HDR) != 0)
            break;
        const char *name = rocksdb_iter_value(it, &vlen);
        char *v;
        rc = obj_row_get(cx, ref, name, vlen, &rk, &v, &rvlen);
        if (rc < 0)
            break;
        if (!v) {
            log_err("sequence index names a missing row");
            rc = -EIO;
            break;
        }
        rc = fn(arg, name, vlen, v, rvlen);
        obj_db_free_val(v);
        if (rc < 0)
            break;
        n++;
    }
    rocksdb_iter_destroy(it);
    obj_buf_release(&k);
    obj_buf_release(&rk);
    return rc;
}

int obj_info_read(const struct obj_rdctx *cx, const struct obj_dbref *ref, char **v,
                  struct obj_rd *r)
{
    struct obj_buf k = {0};
    size_t vlen;
    obj_key(&k, ref, 'i', NULL, 0);
    int rc = obj_db_get(cx, &k, v, &vlen);
    obj_buf_release(&k);
    if (rc < 0)
        return rc;
    if (!*v)
        return -ENOENT;
    *r = (struct obj_rd){*v, vlen, 0, false};
    if (obj_rd_u8(r) != OBJ_VAL_V1)
        r->bad = true;
    return 0;
}

int obj_row_get(const struct obj_rdctx *cx, const struct obj_dbref *ref, const char *name,
                size_t nlen, struct obj_buf *key, char **val, size_t *vlen)
{
    obj_key(key, ref, 'o', name, nlen);
    int rc = obj_db_get(cx, key, val, vlen);
    if (rc < 0 || *val)
        return rc;
    obj_key(key, ref, 'd', name, nlen);
    return obj_db_get(cx, key, val, vlen);
}

int obj_db_each_ref(struct obj_db *db, char kind, int64_t part, unsigned part_power,
                    obj_each_ref_fn *fn, void *arg)
{
    unsigned char seek[OBJ_KEY_HDR];
    int rc = 0;
    memset(seek, 0, sizeof(seek));
    seek[0] = (unsigned char)kind;
    if (part >= 0 && part_power > 0) {
        uint32_t first = (uint32_t)((uint64_t)part << (32 - part_power));
        obj_be32(seek + 1, first);
    }
    rocksdb_iterator_t *it = rocksdb_create_iterator(db->rdb, db->ropts);
    for (;;) {
        rocksdb_iter_seek(it, (const char *)seek, 17);
        if (!rocksdb_iter_valid(it))
            break;
        size_t klen;
        const unsigned char *key = (const unsigned char *)rocksdb_iter_key(it, &klen);
        if (klen < OBJ_KEY_HDR || key[0] != (unsigned char)kind)
            break;
        struct obj_dbref ref;
        ref.kind = kind;
        memcpy(ref.hash, key + 1, 16);
        if (part >= 0 && hashpath_partition(ref.hash, part_power) != (uint32_t)part)
            break;
        /* every db has its info record; rows of a dropped one may not */
        struct obj_buf k = {0};
        char *v;
        size_t vlen;
        struct obj_rdctx cx = {db, NULL, NULL};
        obj_key(&k, &ref, 'i', NULL, 0);
        rc = obj_db_get(&cx, &k, &v, &vlen);
        obj_buf_release(&k);
        if (rc < 0)
            break;
        if (v) {
            obj_db_free_val(v);
            rc = fn(arg, &ref);
            if (rc)
                break;
        }
        /* the next hash: this one + 1, as a 128-bit big-endian number */
        memcpy(seek + 1, ref.hash, 16);
        int i = 16;
        while (i >= 1 && ++seek[i] == 0)
            i--;
        if (i == 0)
            break;
    }
    char *rerr = NULL;
    rocksdb_iter_get_error(it, &rerr);
    rocksdb_iter_destroy(it);
    if (rerr) {
        log_err("rocksdb iterator: %s", rerr);
        rocksdb_free(rerr);
        if (rc == 0)
            rc = -EIO;
    }
    return rc;
}

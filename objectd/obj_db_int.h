/*
 * obj_db_int.h - private parts of the container/account database shared by
 * obj_db*.c: the handle, the key layout, the record codecs and the row-merge
 * rules. Nothing here is part of the API (see obj_db.h).
 *
 * Key layout (docs/internals/container-db.md has the reasons):
 *
 *   <kind><hash16><sub>[rest]
 *
 *   kind  'c' container, 'a' account
 *   hash  md5 of the hash path (hashpath_digest of account[/container])
 *   sub   'i'            info record (timestamps, policy, metadata, id)
 *         'r'            row state: max sequence number + replica hash
 *         's' <u32 BE>   per-policy totals
 *         'o' <name>     a live row per object/container name (bytewise order)
 *         'd' <name>     a tombstone row (deleted); a name is in 'o' or 'd'
 *                        so listings scan live rows only, as Swift's
 *                        (deleted, name) index lets its queries do
 *         'q' <u64 BE>   sequence index: seq -> name, one per live row
 *         'y' <remote>   incoming sync point;  'Y' <remote> outgoing
 *
 * Values are a version byte followed by fixed-width big-endian integers and
 * u32-length-prefixed strings.
 */
#ifndef CAIRN_OBJ_DB_INT_H
#define CAIRN_OBJ_DB_INT_H

#include <pthread.h>
#include <rocksdb/c.h>

#include "objectd/obj_db.h"

#define OBJ_DB_LOCK_STRIPES 64
#define OBJ_KEY_HDR 18 /* kind + 16 hash bytes + sub */
#define OBJ_VAL_V1 1    /* first byte of every value */

struct obj_db {
    rocksdb_t *rdb;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *bbto;
    rocksdb_writeoptions_t *wopts;
    rocksdb_readoptions_t *ropts;
    char *prefix;
    char *suffix;
    struct hashpath_secret secret;
    pthread_mutex_t locks[OBJ_DB_LOCK_STRIPES];
    /* group commit: writes go to the WAL unsynced under the stripe lock,
     * then each writer waits, outside the lock, until one WAL fsync that
     * started after its write has finished (obj_db_sync) */
    bool nosync;
    pthread_mutex_t sync_mu;
    pthread_cond_t sync_cv;
    bool syncing;
    uint64_t synced_seq;
};

/* ---- growable byte buffer (keys and values) */
struct obj_buf {
    char *p;
    size_t len;
    size_t cap;
};
void obj_buf_release(struct obj_buf *b);
void obj_buf_put(struct obj_buf *b, const void *p, size_t n);
void obj_buf_u8(struct obj_buf *b, uint8_t v);
void obj_buf_u32(struct obj_buf *b, uint32_t v);
void obj_buf_u64(struct obj_buf *b, uint64_t v);
void obj_buf_ts(struct obj_buf *b, const struct ts *t);
void obj_buf_str(struct obj_buf *b, const char *s);

/* ---- bounds-checked reader; any overrun sets bad */
struct obj_rd {
    const char *p;
    size_t len;
    size_t off;
    bool bad;
};
uint8_t obj_rd_u8(struct obj_rd *r);
uint32_t obj_rd_u32(struct obj_rd *r);
uint64_t obj_rd_u64(struct obj_rd *r);
struct ts obj_rd_ts(struct obj_rd *r);
/* Returns a new heap copy (caller frees); "" on error with bad set. */
char *obj_rd_str(struct obj_rd *r);
/* Points into the buffer (not NUL-terminated): *len gets the length. */
const char *obj_rd_strp(struct obj_rd *r, uint32_t *len);

void obj_be32(unsigned char *p, uint32_t v);
void obj_be64(unsigned char *p, uint64_t v);
uint32_t obj_get_be32(const unsigned char *p);
uint64_t obj_get_be64(const unsigned char *p);

/* ---- keys */
struct obj_dbref {
    char kind;                  /* 'c' or 'a' */
    unsigned char hash[16];
};
void obj_ref_cont(struct obj_db *db, const char *account, const char *container,
                  struct obj_dbref *ref);
void obj_ref_acct(struct obj_db *db, const char *account, struct obj_dbref *ref);
/* Key header + optional tail into b (b is reset first). */
void obj_key(struct obj_buf *b, const struct obj_dbref *ref, char sub,
             const void *tail, size_t tail_len);

pthread_mutex_t *obj_db_lock_for(struct obj_db *db, const struct obj_dbref *ref);

/* ---- rocksdb helpers; all return 0 or -EIO (logged) */
/*
 * Where reads come from: a read-only snapshot (ro set, wb NULL), or an
 * update in progress (wb set): then reads see the batch's own writes first,
 * so several rows of one merge that touch the same totals add up.
 */
struct obj_rdctx {
    struct obj_db *db;
    const rocksdb_readoptions_t *ro;  /* NULL: db->ropts */
    rocksdb_writebatch_wi_t *wb;      /* NULL: read the db only */
};
/* *val = value to free with obj_db_free_val(), or NULL when absent. */
int obj_db_get(const struct obj_rdctx *cx, const struct obj_buf *key, char **val,
               size_t *vlen);
void obj_db_free_val(char *val);
void obj_wb_put(rocksdb_writebatch_wi_t *wb, const struct obj_buf *k, const struct obj_buf *v);
void obj_wb_del(rocksdb_writebatch_wi_t *wb, const struct obj_buf *k);
/* Applies the batch (WAL written, not yet fsynced); *seq gets a sequence
 * number at or after the write, for obj_db_sync. */
int obj_db_write(struct obj_db *db, rocksdb_writebatch_wi_t *wb, uint64_t *seq);
/* Returns once the WAL is fsynced through `seq` (no-op with
 * OBJ_DB_NO_SYNC). 0 or -EIO. */
int obj_db_sync(struct obj_db *db, uint64_t seq);
/* A consistent read view; release with obj_snap_release. */
struct obj_snap {
    const rocksdb_snapshot_t *snap;
    rocksdb_readoptions_t *ro;
};
void obj_snap_take(struct obj_db *db, struct obj_snap *s);
void obj_snap_release(struct obj_db *db, struct obj_snap *s);

/* ---- a locked update: the batch, reads through it, the stripe lock */
struct obj_txn {
    struct obj_db *db;
    struct obj_dbref ref;
    pthread_mutex_t *lock;
    rocksdb_writebatch_wi_t *wb;
    struct obj_rdctx cx;
};
void obj_txn_begin(struct obj_txn *t, struct obj_db *db, const struct obj_dbref *ref);
/* Commits when rc >= 0 (if anything was written); always unlocks and frees
 * the batch. Returns rc, or the write's error. */
int obj_txn_end(struct obj_txn *t, int rc);

/* ---- row state ('r'): sequence counter and replica hash */
struct obj_rowstate {
    uint64_t max_row;
    unsigned char hash[16];
};
int obj_rowstate_load(const struct obj_rdctx *cx, const struct obj_dbref *ref,
                      struct obj_rowstate *rs);
void obj_rowstate_put(rocksdb_writebatch_wi_t *wb, const struct obj_dbref *ref,
                      const struct obj_rowstate *rs);
/* hash ^= md5(name "-" ts-string) */
void obj_rowstate_chexor(struct obj_rowstate *rs, const char *name, size_t name_len,
                         const char *tsstr);

/* ---- per-policy totals ('s') */
struct obj_stat {
    int64_t container_count;    /* accounts only */
    int64_t object_count;
    int64_t bytes_used;
};
int obj_stat_load(const struct obj_rdctx *cx, const struct obj_dbref *ref,
                  uint32_t policy, struct obj_stat *st, bool *found);
void obj_stat_put(rocksdb_writebatch_wi_t *wb, const struct obj_dbref *ref,
                  uint32_t policy, const struct obj_stat *st);
/* All policy totals of a db, sorted by index (caller frees *out). */
int obj_stat_load_all(const struct obj_rdctx *cx, const struct obj_dbref *ref, struct obj_db_policy_stat **out,
                      size_t *n);

/* Reads the db's info record ('i'): on 0, *v holds it (free with
 * obj_db_free_val) and r reads it from past the version byte (r->bad set
 * when the version is not OBJ_VAL_V1). -ENOENT when the db has none, or
 * -EIO. */
int obj_info_read(const struct obj_rdctx *cx, const struct obj_dbref *ref, char **v,
                  struct obj_rd *r);

/* Looks a row up as live ('o') then as tombstone ('d'); *val NULL when the
 * name has no row. key is left holding the key where it was found. */
int obj_row_get(const struct obj_rdctx *cx, const struct obj_dbref *ref, const char *name,
                size_t nlen, struct obj_buf *key, char **val, size_t *vlen);

/*
 * Calls fn with the name and value (live or tombstone row) of each row of
 * `ref` whose sequence number is above `since`, in sequence order, as cx
 * sees them, for at most `max` rows. fn returns 0 or a negative errno, which
 * stops the walk; the value is freed after fn returns. Returns 0 or a
 * negative errno (-EIO: the index names a row that is missing).
 */
typedef int obj_seq_row_fn(void *arg, const char *name, size_t nlen, const char *val,
                           size_t vlen);
int obj_db_seq_walk(const struct obj_rdctx *cx, const struct obj_dbref *ref, uint64_t since,
                    size_t max, obj_seq_row_fn *fn, void *arg);

/* Calls fn for each db of `kind` ('c'/'a') that has an info record, in hash
 * order, limited to one partition when part >= 0. Stops at a non-zero
 * return, which it returns. */
typedef int obj_each_ref_fn(void *arg, const struct obj_dbref *ref);
int obj_db_each_ref(struct obj_db *db, char kind, int64_t part, unsigned part_power,
                    obj_each_ref_fn *fn, void *arg);

/* ---- metadata */
void obj_meta_free(struct obj_db_meta *m, size_t n);
void obj_meta_encode(struct obj_buf *b, const struct obj_db_meta *m, size_t n);
int obj_meta_decode(struct obj_rd *r, struct obj_db_meta **m, size_t *n);
/* Merges (key, value, ts) into *m per key, newer ts wins; keeps sorted.
 * Returns true if something changed. */
bool obj_meta_merge_one(struct obj_db_meta **m, size_t *n, const char *key,
                        const char *value, const struct ts *ts);
/* Applies the request headers that `kind` keeps ('c'/'a'). */
bool obj_meta_apply_headers(struct obj_db_meta **m, size_t *n, char kind,
                            const struct obj_db_kv *hdrs, size_t nhdrs,
                            const struct ts *ts);
/* Swift's validate_metadata on the merged set; 0 or -EINVAL with e. */
int obj_meta_validate(const struct obj_db_meta *m, size_t n, struct err *e);
/* Drops keys whose value is "" and whose ts is older than age. */
void obj_meta_reclaim(struct obj_db_meta *m, size_t *n, const struct ts *age);
/* Deletes up to `max` keys of the db `ref` into wb; *more when keys remain. */
int obj_db_drop_keys(struct obj_txn *t, size_t max, bool *more);
/* The record's fingerprint (md5 of its info and row state): 0, -ENOENT
 * without a record, -EIO. obj_db_drop_if removes the whole record in one
 * write when its fingerprint is still fp (*dropped), under its lock. */
int obj_db_fingerprint(struct obj_db *db, const struct obj_dbref *ref, unsigned char fp[16]);
int obj_db_drop_if(struct obj_db *db, const struct obj_dbref *ref, const unsigned char fp[16],
                   bool *dropped);
/*
 * The reclaim pass shared by containers and accounts (obj_db_reclaim).
 * info loads the db's info record inside t; on the first batch it sets
 * *dead when the whole db may go (Swift's is_reclaimable), and otherwise
 * drops old empty metadata. It returns 0 or a negative errno (-ENOENT: no
 * such db) and releases what it loaded.
 * row looks at one tombstone (name, value): 1 when it is reclaimed (it took
 * the row out of the totals and the replica hash in rs, and set *seq for the
 * caller to delete the row and its sequence index), 0 to keep it, or a
 * negative errno.
 */
typedef int obj_reclaim_info_fn(struct obj_txn *t, const struct ts *age, bool first,
                                bool *dead);
typedef int obj_reclaim_row_fn(struct obj_txn *t, struct obj_rowstate *rs,
                               const struct ts *age, const char *name, size_t nlen,
                               const char *val, size_t vlen, uint64_t *seq);
/* Drops the whole db when info says it is dead, else tombstones older than
 * age, in batches of OBJ_DB_RECLAIM_BATCH, one locked txn per batch. *gone
 * (may be NULL) says the db was dropped. 0 or a negative errno. */
int obj_db_reclaim(struct obj_db *db, const struct obj_dbref *ref, const struct ts *age,
                   bool *gone, obj_reclaim_info_fn *info, obj_reclaim_row_fn *row);
/* Sets every key to ("", ts) where ts is newer (delete_db). */
void obj_meta_clear(struct obj_db_meta *m, size_t n, const struct ts *ts);
bool obj_utf8_valid(const char *s, size_t len);

void obj_uuid4(char out[40]);
/* Swift's encode_timestamps(data, ctype, meta): "<t1>[+-dx[+-dx]]". */
void obj_ts_encode3(const struct ts *d, const struct ts *c, const struct ts *m,
                    char *buf, size_t bufsz);
/* Sync point records ('y' incoming, 'Y' outgoing). */
int obj_sync_get(const struct obj_rdctx *cx, const struct obj_dbref *ref, const char *remote,
                 bool incoming, int64_t *point);
void obj_sync_put(rocksdb_writebatch_wi_t *wb, const struct obj_dbref *ref, const char *remote,
                  bool incoming, int64_t point);
/* Raises the incoming sync point of `remote` to `point` inside t (never
 * lowers it). 0 or a negative errno. */
int obj_sync_raise(struct obj_txn *t, const char *remote, int64_t point);
const struct ts *obj_ts_max(const struct ts *a, const struct ts *b);

/* ---- the listing walk shared by containers and accounts (obj_db_list.c) */
struct obj_list_row {
    const char *name;
    size_t name_len;
    const char *val;
    size_t val_len;
};
/*
 * Returns 1 if the row is listed (live, right policy) and fills e except its
 * name; strings e points to are written into `scratch` (reset by the
 * caller), 0 to skip the row, or a negative errno.
 */
typedef int obj_list_decode_fn(void *arg, const struct obj_list_row *row,
                               struct obj_db_list_entry *e, struct obj_buf *scratch);
int obj_db_list_walk(const struct obj_rdctx *cx, const struct obj_dbref *ref, const struct obj_db_list_params *p,
                     obj_list_decode_fn *decode, void *darg, obj_db_list_fn *fn,
                     void *arg);

#endif

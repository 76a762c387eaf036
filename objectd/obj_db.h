/*
 * obj_db.h - container and account databases of cairn-objectd, in RocksDB.
 *
 * What Swift keeps in one SQLite file per container or account, Cairn keeps
 * in one RocksDB instance per device (<devices>/<dev>/db/), shared by every
 * container and account that the rings place on that device. This library
 * is the whole of it: container records (timestamps, storage policy,
 * metadata with per-key timestamps), one row per object name (newest
 * timestamp wins, deletions kept as tombstones), account records with one
 * row per container, counts and bytes kept exactly and changed in the same
 * atomic write as the row, listings with Swift's marker / end_marker /
 * prefix / delimiter / path / reverse rules, and what a replicator needs to
 * bring two copies together (rows changed since a sequence number, merges
 * where the newest timestamp wins). There is no HTTP in here: the objectd
 * request handlers call it, and obj_http_status() maps its results to the
 * status codes Swift's container and account servers answer.
 * The key layout and the rules are written down in
 * docs/internals/container-db.md.
 *
 * Threading: one struct obj_db per device, opened once and shared by all
 * threads. Every function may be called from any thread at the same time.
 * Every function BLOCKS (RocksDB reads, and writes that wait for fsync): call
 * them from worker threads, never from an event-loop callback. Updates to
 * one container or account are serialized by a striped lock inside; reads
 * never take it.
 *
 * Durability: every change is one RocksDB write batch, and the WAL is
 * fsynced (group commit, shared by concurrent writers) before the function
 * returns, unless the db was opened with OBJ_DB_NO_SYNC for tests: when a
 * function that changes something returns 0, the change is on disk, so the
 * caller may answer 2xx.
 *
 * Timestamps are common/timestamp.h's struct ts (Swift's X-Timestamp:
 * time, then offset). Conventions: int functions return 0 or a negative errno; the errnos that
 * carry a Swift meaning are listed at obj_http_status(). Strings are
 * NUL-terminated UTF-8; names therefore cannot contain NUL (Swift refuses
 * NUL in names from clients too). Structs filled by get functions own their
 * strings; release them with the matching *_release().
 */
#ifndef CAIRN_OBJ_DB_H
#define CAIRN_OBJ_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hashpath.h"
#include "common/timestamp.h"

/*
 * Swift's extract_swift_bytes(): splits a ";swift_bytes=N" parameter off a
 * content type (large-object manifests carry their total size that way).
 * When the type has parameters, the others are re-joined as ";k=v" without
 * spaces, as Swift re-joins them. *type_out (heap, caller frees) is always
 * set; *swift_bytes (heap) is NULL when there was none.
 */
void obj_db_content_type_split(const char *ct, char **type_out, char **swift_bytes);

/* ---------------------------------------------------------------- handle */

struct obj_db;

enum obj_db_flags {
    /* Writes are not fsynced. Only for tests and benchmarks: a db opened
     * this way may lose acknowledged writes on a crash. */
    OBJ_DB_NO_SYNC = 1 << 0,
};

/*
 * Opens (creating if needed) the RocksDB at `path` (normally
 * <devices>/<dev>/db). `secret` is the cluster's hash path prefix/suffix;
 * both strings are copied. On failure returns NULL and fills e
 * ("<path>: <rocksdb message>"). The result is shared by all threads and
 * freed with obj_db_close().
 */
struct obj_db *obj_db_open(const char *path, const struct hashpath_secret *secret,
                           unsigned flags, struct err *e);
/* Closes and frees; NULL is a no-op. No call may be running on db. */
void obj_db_close(struct obj_db *db);

/*
 * Maps a result of this library to the HTTP status Swift's container and
 * account servers answer for it:
 *   0           -> `ok` (the caller's success code: 201, 202, 204, 200)
 *   -ENOENT     -> 404 (no such container/account, or deleted)
 *   -ENOTEMPTY  -> 409 (DELETE of a container that holds objects)
 *   -EEXIST     -> 409 (PUT asking for another storage policy than the
 *                       existing container's)
 *   -ESTALE     -> 409 (the request's timestamp lost against a newer
 *                       DELETE, so the container stays deleted)
 *   -EACCES     -> 403 (account PUT on a recently deleted account)
 *   -EINVAL     -> 400 (metadata limits, bad UTF-8: see the struct err text)
 *   -E2BIG      -> 412 (listing limit above 10000)
 *   -ENOTSUP    -> 406 (no acceptable listing format)
 *   anything else -> 500
 */
int obj_http_status(int rc, int ok);

/* ------------------------------------------------------------- metadata */

/*
 * A header of the request, as the HTTP layer received it. Updates take the
 * request's headers as they are and keep only what Swift keeps: for
 * containers X-Container-Meta-*, X-Container-Sysmeta-*, X-Container-Read,
 * X-Container-Write, X-Container-Sync-To, X-Container-Sync-Key; for accounts
 * X-Account-Meta-* and X-Account-Sysmeta-*. Names are matched without
 * regard to case and stored in Title-Case (as Swift's WSGI layer presents
 * them). An empty value deletes the key (it is kept as ("", timestamp) so a
 * merge cannot resurrect an older value).
 */
struct obj_db_kv {
    const char *key;
    const char *value;
};

/* One stored metadata item; an empty value means "deleted at ts". */
struct obj_db_meta {
    char *key;
    char *value;
    struct ts ts;
};

/* Swift's limits on the metadata kept per container/account. */
#define OBJ_DB_MAX_META_COUNT 90
#define OBJ_DB_MAX_META_OVERALL_SIZE 4096
#define OBJ_DB_LISTING_LIMIT 10000

/* ------------------------------------------------------------ containers */

struct obj_db_cont_info {
    char *account;
    char *container;
    struct ts created_at;       /* this copy's creation (local clock) */
    struct ts put_ts;
    struct ts delete_ts;
    struct ts status_changed_at;
    uint32_t policy_index;
    uint64_t object_count;          /* for policy_index */
    uint64_t bytes_used;            /* for policy_index */
    bool deleted;                   /* count 0 and delete_ts > put_ts */
    /* what the container updater last reported to the account */
    struct ts reported_put_ts;
    struct ts reported_delete_ts;
    uint64_t reported_object_count;
    uint64_t reported_bytes_used;
    /* replication */
    char id[40];                    /* random uuid of this copy */
    unsigned char hash[16];         /* XOR of md5(name-timestamps) of rows */
    uint64_t max_row;               /* highest row sequence number */
    struct obj_db_meta *meta;       /* sorted by key */
    size_t nmeta;
};
/* Frees what a get/foreach filled in (strings, metadata); NULL-safe. */
void obj_db_cont_info_release(struct obj_db_cont_info *info);

/*
 * Container PUT. `policy` is X-Backend-Storage-Policy-Index or -1 when the
 * request had none; `default_policy` is X-Backend-Storage-Policy-Default (or
 * the cluster default). Creates the container (created=true, Swift's 201),
 * re-creates a deleted one when ts is newer than its delete (201), or
 * updates the put timestamp and metadata of a live one (created=false,
 * 202). Errors: -EEXIST (policy differs from the live container's),
 * -ESTALE (still deleted after applying ts), -EINVAL (metadata limits, e
 * says which). Whether a container exists afterwards is decided by
 * timestamps only, so replays and reordering give the same result.
 */
int obj_db_cont_put(struct obj_db *db, const char *account, const char *container,
                    const struct ts *ts, int32_t policy, uint32_t default_policy,
                    const struct obj_db_kv *hdrs, size_t nhdrs, bool *created,
                    struct err *e);

/* Container POST: -ENOENT if missing or deleted; otherwise raises the put
 * timestamp to ts (as Swift does) and merges the metadata. */
int obj_db_cont_post(struct obj_db *db, const char *account, const char *container,
                     const struct ts *ts, const struct obj_db_kv *hdrs,
                     size_t nhdrs, struct err *e);

/*
 * Container DELETE: -ENOENT if there is no record at all, -ENOTEMPTY if any
 * policy holds objects. Otherwise, as Swift's delete_db: metadata keys older
 * than ts are cleared, delete_ts becomes ts if newer; then -ESTALE if the
 * container is still live (ts was not newer than its put timestamp: 409),
 * else 0 with *existed telling whether it was live before (Swift answers
 * 204 when it was, 404 when it was already deleted).
 */
int obj_db_cont_delete(struct obj_db *db, const char *account, const char *container,
                       const struct ts *ts, bool *existed);

/*
 * Container HEAD/GET info: 0 and *out filled when a record exists (check
 * out->deleted: Swift answers 404, with the X-Backend-* timestamps, for a
 * deleted container), -ENOENT when there is none.
 */
int obj_db_cont_get_info(struct obj_db *db, const char *account, const char *container,
                         struct obj_db_cont_info *out);

/* Records what the container updater reported to the account. */
int obj_db_cont_set_reported(struct obj_db *db, const char *account,
                             const char *container, const struct ts *put_ts,
                             const struct ts *delete_ts, uint64_t object_count,
                             uint64_t bytes_used);

/*
 * An object row update, as the object server sends it after a PUT, POST or
 * DELETE (X-Timestamp, X-Size, X-Content-Type, X-Etag,
 * X-Content-Type-Timestamp, X-Meta-Timestamp, X-Backend-Storage-Policy-Index).
 */
struct obj_db_obj_update {
    const char *name;
    struct ts ts;               /* the data timestamp */
    uint64_t size;
    const char *content_type;       /* may carry ";swift_bytes=N" */
    const char *etag;
    bool deleted;                   /* DELETE: size, type, etag are ignored */
    uint32_t policy_index;
    const struct ts *ctype_ts;  /* NULL: same as ts */
    const struct ts *meta_ts;   /* NULL: same as the ctype timestamp */
};

/*
 * Applies an object row update. The data (size, etag, deleted), the content
 * type and the metadata time each keep whichever side has the newer
 * timestamp, so an older or replayed update changes nothing. Counts and
 * bytes used change in the same atomic write. The container record must
 * exist (a deleted one counts: Swift accepts the row, and the container is
 * live again while it holds objects); otherwise -ENOENT, unless `autocreate`
 * (Swift does that for accounts starting with '.'), which creates it with
 * put timestamp ts. *changed (may be NULL) tells whether the row changed.
 */
int obj_db_cont_update_object(struct obj_db *db, const char *account,
                              const char *container, const struct obj_db_obj_update *u,
                              bool autocreate, bool *changed);

/*
 * Calls fn for every container on this device, or only those of one
 * partition (partition >= 0, with the ring's part_power): what the
 * container updater (compare reported_* with the current totals) and the
 * replicator walk. Containers of a partition are contiguous in the key
 * order, so a partition costs one seek per container. Each info is read
 * fresh (released after the callback); fn may call any obj_db function.
 * A non-zero return from fn stops the walk and is returned.
 */
typedef int obj_db_cont_each_fn(void *arg, const struct obj_db_cont_info *info);
int obj_db_cont_foreach(struct obj_db *db, int64_t partition, unsigned part_power,
                        obj_db_cont_each_fn *fn, void *arg);

/* ------------------------------------------------------------- accounts */

struct obj_db_policy_stat {
    uint32_t policy_index;
    uint64_t container_count;
    uint64_t object_count;
    uint64_t bytes_used;
};

struct obj_db_acct_info {
    char *account;
    struct ts created_at;
    struct ts put_ts;
    struct ts delete_ts;
    struct ts status_changed_at;
    bool status_deleted;            /* DELETE was applied (X-Account-Status) */
    bool deleted;                   /* status_deleted, or no containers and
                                       delete_ts > put_ts: answer 404 */
    uint64_t container_count;
    uint64_t object_count;
    uint64_t bytes_used;
    struct obj_db_policy_stat *policies;   /* sorted by index */
    size_t npolicies;
    char id[40];
    unsigned char hash[16];
    uint64_t max_row;
    struct obj_db_meta *meta;
    size_t nmeta;
};
/* Frees what a get/foreach filled in; NULL-safe. */
void obj_db_acct_info_release(struct obj_db_acct_info *info);

/*
 * Account PUT: creates (created=true, 201) or raises the put timestamp
 * (202). -EACCES when the account was deleted (Swift: 403 "Recently
 * deleted"), -ESTALE when it stays deleted, -EINVAL for metadata limits.
 */
int obj_db_acct_put(struct obj_db *db, const char *account, const struct ts *ts,
                    const struct obj_db_kv *hdrs, size_t nhdrs, bool *created,
                    struct err *e);
/* Account POST: -ENOENT when missing or deleted, else merges metadata. */
int obj_db_acct_post(struct obj_db *db, const char *account, const struct ts *ts,
                     const struct obj_db_kv *hdrs, size_t nhdrs, struct err *e);
/* Account DELETE: -ENOENT when missing or deleted; else marks it deleted
 * (status DELETED, delete_ts, metadata cleared). */
int obj_db_acct_delete(struct obj_db *db, const char *account, const struct ts *ts);
/* Account HEAD/GET info; -ENOENT when there is no record (check deleted). */
int obj_db_acct_get_info(struct obj_db *db, const char *account,
                         struct obj_db_acct_info *out);

/* Every account on this device (or of one partition); as
 * obj_db_cont_foreach. */
typedef int obj_db_acct_each_fn(void *arg, const struct obj_db_acct_info *info);
int obj_db_acct_foreach(struct obj_db *db, int64_t partition, unsigned part_power,
                        obj_db_acct_each_fn *fn, void *arg);

/* A container's report to its account (the container server's account
 * update: X-Put-Timestamp, X-Delete-Timestamp, X-Object-Count,
 * X-Bytes-Used, X-Backend-Storage-Policy-Index). */
struct obj_db_cont_report {
    const char *name;
    struct ts put_ts;
    struct ts delete_ts;
    uint64_t object_count;
    uint64_t bytes_used;
    uint32_t policy_index;
};

/*
 * Applies a container report as Swift does: the row keeps the newest put and
 * the newest delete timestamp it has seen, takes the counts of the report,
 * and is a tombstone when delete > put and the count is 0. -ENOENT when the
 * account is missing or deleted (unless override_deleted, Swift's
 * X-Account-Override-Deleted: yes); `autocreate` creates a missing account.
 * Swift answers 204 when the report is a deletion (delete > put), else 201.
 */
int obj_db_acct_update_container(struct obj_db *db, const char *account,
                                 const struct obj_db_cont_report *r, bool autocreate,
                                 bool override_deleted);

/* -------------------------------------------------------------- listings */

/*
 * Listing parameters after validation (obj_listing_parse() fills them from
 * a query string). NULL means "not given"; "" is given-but-empty, which
 * matters for path ("?path=" lists the top level).
 */
struct obj_db_list_params {
    const char *prefix;
    const char *delimiter;
    const char *marker;
    const char *end_marker;
    const char *path;
    uint32_t limit;                 /* 0..OBJ_DB_LISTING_LIMIT */
    bool reverse;
};

/* One listing entry, valid only during the callback. */
struct obj_db_list_entry {
    const char *name;               /* the subdir string when is_subdir */
    bool is_subdir;
    /* container listings */
    struct ts last_modified;    /* the row's newest (metadata) time */
    uint64_t size;
    const char *content_type;       /* as stored: may hold swift_bytes */
    const char *etag;
    /* account listings */
    uint64_t object_count;
    uint64_t bytes_used;
    struct ts put_ts;
};

/* Called per entry in listing order; a non-zero return stops the listing
 * and is returned by the list function. */
typedef int obj_db_list_fn(void *arg, const struct obj_db_list_entry *e);

/*
 * Lists a container's live objects of storage policy `policy` (-1: the
 * container's own) with Swift's semantics, calling fn for each entry as it is
 * read (nothing is collected). Reads a consistent snapshot. -ENOENT when the
 * container is missing or deleted.
 */
int obj_db_cont_list(struct obj_db *db, const char *account, const char *container,
                     const struct obj_db_list_params *p, int32_t policy,
                     obj_db_list_fn *fn, void *arg);

/* Lists an account's live containers; -ENOENT when missing or deleted. */
int obj_db_acct_list(struct obj_db *db, const char *account,
                     const struct obj_db_list_params *p, obj_db_list_fn *fn,
                     void *arg);

/* ----------------------------------------------------------- replication */

/* A container's object row, tombstones included, as replication moves it. */
struct obj_db_obj_row {
    char *name;
    struct ts data_ts;
    struct ts ctype_ts;
    struct ts meta_ts;
    uint64_t size;
    char *content_type;
    char *etag;
    bool deleted;
    uint32_t policy_index;
    uint64_t seq;                   /* this copy's sequence number */
};
/* Frees an array from obj_db_cont_rows_since (its strings too); NULL-safe. */
void obj_db_obj_rows_free(struct obj_db_obj_row *rows, size_t n);

/*
 * Rows of a container whose sequence number is greater than `since`, in
 * sequence order, at most `max`: *rows (caller frees with
 * obj_db_obj_rows_free) and *n. A row appears once, with its latest state.
 * -ENOENT when there is no container record.
 */
int obj_db_cont_rows_since(struct obj_db *db, const char *account, const char *container,
                           uint64_t since, size_t max, struct obj_db_obj_row **rows,
                           size_t *n);

/*
 * Merges rows from a peer (newest timestamp wins per part, as
 * obj_db_cont_update_object). When `remote_id` is not NULL, the incoming
 * sync point for that peer becomes max(old, sync_point) in the same write.
 * -ENOENT when there is no container record (merge the info first).
 */
int obj_db_cont_merge_rows(struct obj_db *db, const char *account, const char *container,
                           const struct obj_db_obj_row *rows, size_t n,
                           const char *remote_id, uint64_t sync_point);

/*
 * Merges a peer's container record: created_at = min, put_ts = max,
 * delete_ts = max, metadata per key newest wins. Creates the record when
 * missing (with the peer's policy index).
 */
int obj_db_cont_merge_info(struct obj_db *db, const struct obj_db_cont_info *peer);

/* Sync points (Swift's incoming_sync / outgoing_sync tables): the highest
 * sequence number of a peer (remote_id = its info id) merged here
 * (incoming), or of ours that a peer has (outgoing). get gives -1 when
 * none; set stores the value as given. 0 or -EIO. */
int obj_db_cont_get_sync(struct obj_db *db, const char *account, const char *container,
                         const char *remote_id, bool incoming, int64_t *point);
int obj_db_cont_set_sync(struct obj_db *db, const char *account, const char *container,
                         const char *remote_id, bool incoming, int64_t point);

/*
 * Swift's reclaim, for the replicator's pass: removes tombstone rows whose
 * (data) timestamp is older than `age` (now - reclaim_age), and metadata
 * keys deleted before `age`; when the container itself was deleted before
 * `age` and holds no objects (Swift's is_reclaimable), removes it entirely
 * and sets *gone. Works in batches of at most OBJ_DB_RECLAIM_BATCH rows,
 * releasing the container between them. *gone may be NULL. -ENOENT when
 * there is no record.
 */
#define OBJ_DB_RECLAIM_BATCH 10000

/*
 * For the replicator's removal of a handoff copy. obj_db_cont_fingerprint
 * gives a digest of the record's state (it changes with any write to the
 * record: a row, its info, a merge); obj_db_cont_drop_if removes the
 * record and everything under it (rows, totals, sync points) in one
 * atomic, synced write, but only if the fingerprint is still fp, i.e.
 * nothing was written since the caller pushed what it saw. *dropped says
 * whether it went. 0, -ENOENT (no record), -EIO. Thread-safe.
 */
int obj_db_cont_fingerprint(struct obj_db *db, const char *account, const char *container,
                            unsigned char fp[16]);
int obj_db_cont_drop_if(struct obj_db *db, const char *account, const char *container,
                        const unsigned char fp[16], bool *dropped);
/* The same for an account record (its container rows included). */
int obj_db_acct_fingerprint(struct obj_db *db, const char *account, unsigned char fp[16]);
int obj_db_acct_drop_if(struct obj_db *db, const char *account, const unsigned char fp[16],
                        bool *dropped);
int obj_db_cont_reclaim(struct obj_db *db, const char *account, const char *container,
                        const struct ts *age, bool *gone);

/* An account's container row, as replication moves it. */
struct obj_db_cont_row {
    char *name;
    struct ts put_ts;
    struct ts delete_ts;
    uint64_t object_count;
    uint64_t bytes_used;
    bool deleted;
    uint32_t policy_index;
    uint64_t seq;
};
/* Frees an array from obj_db_acct_rows_since; NULL-safe. */
void obj_db_cont_rows_free(struct obj_db_cont_row *rows, size_t n);

/* As obj_db_cont_rows_since, for an account's container rows. */
int obj_db_acct_rows_since(struct obj_db *db, const char *account, uint64_t since,
                           size_t max, struct obj_db_cont_row **rows, size_t *n);
/* Swift's account merge: newest put and delete timestamps, counts of the
 * incoming row, deleted recomputed. */
int obj_db_acct_merge_rows(struct obj_db *db, const char *account,
                           const struct obj_db_cont_row *rows, size_t n,
                           const char *remote_id, uint64_t sync_point);
/* As obj_db_cont_merge_info: created_at min, put/delete max, metadata per
 * key newest; creates the record when missing. */
int obj_db_acct_merge_info(struct obj_db *db, const struct obj_db_acct_info *peer);
/* Account reclaim: container tombstones whose delete time is older than
 * `age`, metadata deleted before `age`; a deleted account older than `age`
 * with no live containers is removed entirely (*gone). */
int obj_db_acct_reclaim(struct obj_db *db, const char *account, const struct ts *age,
                        bool *gone);
/* As obj_db_cont_get_sync / obj_db_cont_set_sync. */
int obj_db_acct_get_sync(struct obj_db *db, const char *account, const char *remote_id,
                         bool incoming, int64_t *point);
int obj_db_acct_set_sync(struct obj_db *db, const char *account, const char *remote_id,
                         bool incoming, int64_t point);

#endif

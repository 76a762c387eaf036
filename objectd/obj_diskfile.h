/*
 * obj_diskfile.h - the bytes of objects on a storage node's disks.
 *
 * Layout under the devices root (Swift's, so operators find their way):
 *   <devices>/<dev>/objects/<part>/<suffix>/<hash>/<timestamp>.data  body
 *                                                  <timestamp>.meta  POST
 *                                                  <timestamp>.ts    DELETE
 *   <devices>/<dev>/tmp/                    files being written
 *   <devices>/<dev>/quarantined/objects/<hash>[-<hex>]   corrupt objects
 * <hash> is the 32-hex hash path of /account/container/object, <suffix> its
 * last three characters, <timestamp> the internal form of common/timestamp.h.
 * Metadata is not in xattrs: each file starts with a small checksummed
 * header and the metadata as JSON, then the body (format and rules in
 * docs/internals/diskfile.md).
 *
 * Invariants:
 *   - nothing becomes visible under objects/ before it is complete and
 *     fsync'ed: a write goes to tmp/, is fsync'ed, renamed into its hash
 *     directory (created durably), and the directory is fsync'ed;
 *   - the newest timestamp wins: after each write the hash directory keeps
 *     only the files Swift's cleanup rules keep (newest .data or .ts, newest
 *     .meta newer than both), and readers apply the same rules, so a crash
 *     between rename and cleanup changes nothing a reader sees;
 *   - a body whose MD5 no longer matches is moved to quarantined/ the moment
 *     a verifying read notices, so another replica serves it.
 *
 * Threading: every call is blocking (open, fsync, rename, read) and must run
 * on a worker thread of the daemon's disk pool, never on an event loop. A
 * struct obj_devices is immutable after creation and shared by all threads.
 * A writer or a reader belongs to one thread at a time; any number of them
 * may work on the same object at once (the newest timestamp still wins, and
 * a reader keeps reading the file it opened even if a newer write replaces
 * it).
 *
 * Errors are negative errnos; the ones a server maps to a status:
 *   -ENODEV  the device is missing (or not a mount point with mount_check)
 *            -> 507
 *   -ENOSPC  the disk (or a quota, EDQUOT) is full; nothing was stored -> 507
 *   -EBADMSG the body's MD5 is not the expected ETag; nothing stored -> 422
 *   -EFBIG   the body is longer than the writer's max_size; nothing stored
 *            -> 413
 *   -E2BIG   the metadata is larger than OBJ_DF_META_MAX -> 400
 *   -EINVAL  a bad device name, hash or metadata (a caller bug) -> 400/500
 *   -EUCLEAN a verifying read found the body corrupt; the object has been
 *            quarantined; abort the response (never finish it)
 *   -EIO     and other errnos: the disk failed -> 500 (or 507)
 */
#ifndef CAIRN_OBJ_DISKFILE_H
#define CAIRN_OBJ_DISKFILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/md5.h"
#include "common/timestamp.h"

/* Largest metadata (serialised JSON) a file may carry. Swift's limits on
 * user metadata are far smaller; this bounds what a reader allocates. */
#define OBJ_DF_META_MAX (256 * 1024)

/* Swift's reclaim_age default: tombstones older than this are removed by
 * the suffix hashing pass. */
#define OBJ_DF_RECLAIM_AGE_DEFAULT 604800

/* ------------------------------------------------------------ devices */

struct obj_devices_opts {
    const char *root;     /* the devices directory, e.g. /srv/node */
    bool mount_check;     /* a device must be a mount point */
    uint64_t reclaim_age; /* seconds; 0 means OBJ_DF_RECLAIM_AGE_DEFAULT */
};

struct obj_devices;

/* Creates the handle (copies opts). Never NULL (aborts on OOM). */
struct obj_devices *obj_devices_new(const struct obj_devices_opts *opts);
/* Frees it; NULL is a no-op. No reader or writer may still use it. */
void obj_devices_free(struct obj_devices *d);

/*
 * Checks that device `dev` is usable: a safe name (no '/', not "." or
 * ".."), an existing directory under the root, and a mount point when
 * mount_check is on. Returns 0, -EINVAL (bad name) or -ENODEV.
 */
int obj_devices_check(const struct obj_devices *d, const char *dev);

/* ------------------------------------------------------------ writing */

struct obj_df_writer;

/*
 * Starts writing the body of the object `hash` (32 lower-case hex digits)
 * in partition `part` of device `dev`, with timestamp *ts. `meta` is a JSON
 * object of string values (headers such as Content-Type, X-Object-Meta-*,
 * X-Delete-At: the caller's choice; it is stored as given and is not
 * referenced after the call). `size_hint` (0 = unknown) reserves space up
 * front, so a full disk is noticed before the body streams; `max_size`
 * (0 = none) is the largest body write() will accept.
 * Does not look at what is stored: callers that must refuse older writes
 * open a reader first (obj_df_open) and compare timestamps.
 * On success *out owns an open temp file; finish with obj_df_commit() or
 * obj_df_writer_free() (which discards it).
 * Returns 0, -ENODEV, -ENOSPC, -EINVAL, -E2BIG or another -errno.
 */
int obj_df_create(struct obj_devices *d, const char *dev, uint32_t part,
                  const char *hash, const struct ts *ts, const json_t *meta,
                  uint64_t size_hint, uint64_t max_size,
                  struct obj_df_writer **out);

/*
 * Appends len bytes of body, updating the MD5. On any error the temp file
 * is removed at once and every later call fails with the same error.
 * Returns 0, -EFBIG (past max_size), -ENOSPC or another -errno.
 */
int obj_df_write(struct obj_df_writer *w, const void *buf, size_t len);

/* obj_df_write of the n pieces in iov, in order, with writev(2). */
struct iovec;
int obj_df_writev(struct obj_df_writer *w, const struct iovec *iov, int n);

/* Bytes of body written so far (to check against Content-Length). */
uint64_t obj_df_writer_bytes(const struct obj_df_writer *w);

/*
 * Finishes the write: compares the body's MD5 with expected_etag (NULL:
 * no check; quotes and case ignored) and refuses a mismatch with -EBADMSG,
 * storing nothing; otherwise fsyncs the file, creates the hash directory
 * durably, renames the file into place, fsyncs the directory and removes
 * the files the new one makes obsolete. Fills etag (may be NULL) with the
 * body's MD5 in lower-case hex. Once this returns 0 the object is durable.
 * On error the temp file is gone and nothing new is visible.
 * The writer must still be freed. Returns 0, -EBADMSG, -ENOSPC, -ENODEV or
 * another -errno; a second commit returns -EINVAL.
 */
int obj_df_commit(struct obj_df_writer *w, const char *expected_etag,
                  char etag[MD5_HEX_LEN]);

/* Frees the writer; if it was not committed its temp file is removed.
 * NULL is a no-op. */
void obj_df_writer_free(struct obj_df_writer *w);

/*
 * Writes a tombstone (DELETE) with timestamp *ts; meta (may be NULL) is
 * stored in it. Durable on return 0, and older files of the object are
 * removed. Like obj_df_create(), does not compare timestamps.
 * Returns 0, -ENODEV, -ENOSPC, -EINVAL or another -errno.
 */
int obj_df_delete(struct obj_devices *d, const char *dev, uint32_t part,
                  const char *hash, const struct ts *ts,
                  const json_t *meta);

/*
 * Writes a .meta (POST) with timestamp *ts. `meta` becomes the object's
 * metadata in place of the .data's, except what a POST cannot change
 * (X-Object-Sysmeta-*, X-Static-Large-Object, ETag, Content-Length) and
 * Content-Type, which changes only if meta has one; a Content-Type set by
 * an earlier POST is carried into the new .meta when meta has none, so it
 * survives as Swift's content-type timestamps make it survive.
 * Like obj_df_create() it checks neither existence nor timestamps: the
 * caller answers 404/409 first (a .meta with no .data is a stray that the
 * suffix hashing pass removes after reclaim_age).
 * Returns 0, -ENODEV, -ENOSPC, -EINVAL, -E2BIG or another -errno.
 */
int obj_df_post(struct obj_devices *d, const char *dev, uint32_t part,
                const char *hash, const struct ts *ts, const json_t *meta);

/* ------------------------------------------------------------ reading */

enum obj_df_state {
    OBJ_DF_ABSENT,  /* no object (never written, reclaimed or quarantined) */
    OBJ_DF_DELETED, /* a tombstone is newest: info.ts_ts says when */
    OBJ_DF_EXPIRED, /* data is there but X-Delete-At has passed: treat as
                       absent (404); metadata is still reported so DELETE
                       and the expirer can act on it */
    OBJ_DF_EXISTS,
};

struct obj_df_info {
    enum obj_df_state state;
    /* Timestamps are zero (units and offset 0) when there is no such file. */
    struct ts data_ts; /* the .data in effect, or zero */
    struct ts meta_ts; /* the .meta applied, or zero */
    struct ts ts_ts;   /* the tombstone in effect, or zero */
    struct ts ts;      /* X-Timestamp: the newer of data_ts and meta_ts */
    uint64_t content_length;
    char etag[MD5_HEX_LEN]; /* MD5 of the body, lower-case hex */
    int64_t delete_at;      /* X-Delete-At, 0 when none */
    /*
     * Borrowed reference, owned by the reader. EXISTS/EXPIRED: the merged
     * metadata (the .data's, with a newer .meta's in its place as POST
     * semantics say). DELETED: what the tombstone carries. ABSENT: NULL.
     */
    json_t *meta;
};

struct obj_df_reader;

/*
 * Opens object `hash` for reading: lists its directory, picks the files in
 * effect, checks the .data's header and size (a bad one is quarantined and
 * reads as ABSENT) and merges metadata. `now` (Unix seconds; 0 = the clock)
 * decides expiry. The .data stays open in the reader, so later reads see
 * this version even if a newer write lands meanwhile.
 * Returns 0 with *out set (whatever the state), or -ENODEV, -EINVAL or
 * another -errno with *out NULL.
 */
int obj_df_open(struct obj_devices *d, const char *dev, uint32_t part,
                const char *hash, double now, struct obj_df_reader **out);

/* What was found. Valid until the reader is freed. */
const struct obj_df_info *obj_df_info(const struct obj_df_reader *r);

/*
 * The open .data and the offset of the body's first byte in it, for
 * sendfile(2)/pread(2) by the caller. The fd stays owned by the reader.
 * Returns 0, or -ENOENT unless state is EXISTS or EXPIRED.
 */
int obj_df_body_fd(const struct obj_df_reader *r, int *fd, uint64_t *offset);

/*
 * Reads up to len bytes of body at body offset off (no verification: for
 * ranges). Returns the count (0 at the end), or -ENOENT / -errno.
 */
ssize_t obj_df_pread(struct obj_df_reader *r, void *buf, size_t len,
                     uint64_t off);

/*
 * Reads the next bytes of the whole body from its start, verifying as it
 * goes. The bytes that complete the body are returned only after the MD5 of
 * the whole body has matched; if it does not (or the file is short), the
 * object is quarantined and -EUCLEAN is returned instead, so a server that
 * streams these reads never finishes a corrupt response. Returns the count
 * (0 once the whole body was returned), -EUCLEAN, -ENOENT or -errno.
 */
ssize_t obj_df_read(struct obj_df_reader *r, void *buf, size_t len);

/*
 * Reads the whole body (from its start, with a private offset) and checks
 * its MD5 and length, quarantining on mismatch: the auditor's check.
 * Returns 0, -EUCLEAN (quarantined), -ENOENT or -errno.
 */
int obj_df_verify(struct obj_df_reader *r);

/* Closes and frees; NULL is a no-op. */
void obj_df_reader_free(struct obj_df_reader *r);

/* ------------------------------------------------------------ maintenance */

/*
 * Moves the hash directory of `hash` to quarantined/objects/<hash> (with a
 * random suffix if that exists), so reads here find nothing and the
 * replicator restores a good copy. Returns 0, -ENOENT if there is nothing
 * to move, -ENODEV or -errno.
 */
int obj_df_quarantine(struct obj_devices *d, const char *dev, uint32_t part,
                      const char *hash);

/*
 * Start-up cleanup of a device: removes files in tmp/ whose mtime is at
 * least max_age seconds old (0: all of them; do that only before serving),
 * then walks objects/ removing empty hash, suffix and partition directories
 * (left by a crash between mkdir and rename). The walk reads every
 * directory of the device: run it from a background thread on big disks.
 * Counts removed temp files in *n_tmp (may be NULL).
 * Returns 0, -ENODEV or -errno.
 */
int obj_df_cleanup_device(struct obj_devices *d, const char *dev,
                          uint64_t max_age, size_t *n_tmp);

struct obj_df_suffix_hash {
    char suffix[4];          /* 3 hex digits */
    char md5[MD5_HEX_LEN];   /* over the files in effect, as Swift */
};

/*
 * The replicator's view of a partition: for each suffix directory, the MD5
 * of "<internal timestamp><ext>" of the files in effect of every hash
 * directory in name order (.meta, then .ts, then .data, as Swift's
 * hashes.pkl values). Along the way it applies the cleanup rules, removes
 * tombstones and stray .meta files older than reclaim_age (against `now`,
 * 0 = the clock) and removes empty directories (an empty suffix is not
 * listed). Nothing is cached: every call rehashes the whole partition.
 * On success *out is a malloc'ed array sorted by suffix (caller frees; NULL
 * when n is 0). A missing partition gives 0 suffixes.
 * Returns 0, -ENODEV or -errno.
 */
int obj_df_suffix_hashes(struct obj_devices *d, const char *dev,
                         uint32_t part, double now,
                         struct obj_df_suffix_hash **out, size_t *n);

/*
 * The partitions that have a directory under objects/ on the device, in
 * ascending order (names that are not decimal numbers are skipped). On
 * success *parts is malloc'ed (caller frees; NULL when n is 0).
 * Returns 0, -ENODEV or -errno.
 */
int obj_df_partitions(struct obj_devices *d, const char *dev, uint32_t **parts,
                      size_t *n);

/*
 * Called for each object hash directory by obj_df_walk(). Return 0 to go
 * on; anything else stops the walk and is returned by it.
 */
typedef int obj_df_walk_fn(uint32_t part, const char *suffix, const char *hash,
                           void *arg);

/*
 * Walks the object hash directories of a device in order (partition, then
 * suffix, then hash), all of them or only those of partition *part (part
 * NULL: every partition) and suffix `suffix` (NULL: every suffix). Names
 * that are not a partition, suffix or hash are skipped. What fn does to the
 * object (open, verify, quarantine) does not disturb the walk. For the
 * auditor and the replicator: open each with obj_df_open().
 * Returns 0, fn's non-zero value, -ENODEV or -errno.
 */
int obj_df_walk(struct obj_devices *d, const char *dev, const uint32_t *part,
                const char *suffix, obj_df_walk_fn *fn, void *arg);

/*
 * Test hook: makes the n-th next system call of the write path (create,
 * write, commit, delete, post) fail with errno `err`; n = 0 turns it off.
 * Process-wide and not thread-safe: for unit tests only.
 */
void obj_df_fail_after(unsigned long n, int err);

#endif

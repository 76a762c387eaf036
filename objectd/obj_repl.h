/*
 * obj_repl.h - the background daemons of a storage node: the object
 * replicator, the auditor and the expirer (design and protocol:
 * docs/internals/replication.md).
 *
 * struct obj_bg holds what they share: the server's configuration and
 * devices, the three rings (loaded lazily from swift_dir, so a node may
 * start before its rings exist, and reloaded when they change) and the
 * list of this node's addresses. Each daemon is a pass function that
 * blocks until one whole pass is done; obj_bg_start() runs each enabled
 * pass on its own thread every interval, and `cairn-objectd
 * --replicate-once / --audit-once / --expire-once` run one pass in the
 * foreground and exit (what tests use: no sleeps, no timing).
 *
 * Threading: the pass functions block (disk, RocksDB, libcurl easy) and
 * run on their own threads, never on an event loop; each calling thread
 * must be registered with urcu (the daemon threads and the once-mode main
 * thread are). Two passes of the same kind must not run at once in one
 * process; passes of different kinds may.
 */
#ifndef CAIRN_OBJ_REPL_H
#define CAIRN_OBJ_REPL_H

#include <stddef.h>
#include <stdint.h>

struct obj_server;
struct obj_bg;

/* What a pass did, for logs and tests. */
struct obj_bg_stats {
    uint64_t parts;       /* partitions looked at */
    uint64_t suffixes;    /* suffixes found different on a peer */
    uint64_t pushed;      /* objects / tombstones / metadata sent */
    uint64_t failures;    /* requests to peers that failed */
    uint64_t removed;     /* handoff objects removed after a full sync */
    uint64_t checked;     /* objects audited or looked at by the expirer */
    uint64_t quarantined; /* objects the auditor quarantined */
    uint64_t expired;     /* objects the expirer deleted */
    uint64_t bytes;       /* body bytes read or sent */
};

/*
 * Creates the context over srv (borrowed: srv->conf, srv->devs and
 * srv->secret must outlive it). Loads nothing yet. Never NULL.
 */
struct obj_bg *obj_bg_new(struct obj_server *srv);

/* Stops the daemon threads (waits for a running pass to notice; passes
 * check between objects) and frees; NULL is a no-op. */
void obj_bg_free(struct obj_bg *bg);

/*
 * Starts one thread per daemon whose interval is not 0. Returns 0 or a
 * negative errno (nothing started then).
 */
int obj_bg_start(struct obj_bg *bg);

/*
 * One object replication pass over every local device found in the
 * object ring: for each partition on disk, a primary compares suffix
 * hashes with the other primaries and pushes what differs; a handoff
 * pushes everything to the primaries and removes what all of them hold.
 * Returns 0 (failures of single peers are counted in st, not returned),
 * or -ENOENT when the object ring cannot be loaded.
 */
int obj_repl_objects_once(struct obj_bg *bg, struct obj_bg_stats *st);

/*
 * One auditor pass: reads every object on every device (local or not in
 * any ring) at no more than auditor_bytes_per_second, verifying the MD5;
 * a corrupt one is quarantined. Returns 0 or a negative errno.
 */
int obj_auditor_once(struct obj_bg *bg, struct obj_bg_stats *st);

/*
 * One expirer pass: every object on every device whose X-Delete-At has
 * passed gets a tombstone timestamped at its X-Delete-At, and the
 * container replicas (container ring) are told to drop its row. Returns
 * 0 or a negative errno.
 */
int obj_expirer_once(struct obj_bg *bg, struct obj_bg_stats *st);

#endif

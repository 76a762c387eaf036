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

/* Tells every pass to stop (they check between objects) and joins the
 * daemon threads. A pass running elsewhere (a RUN request on the disk
 * pool) returns soon after; wait for it before obj_bg_free. NULL: no-op. */
void obj_bg_stop(struct obj_bg *bg);

/* Stops (as obj_bg_stop) and frees; NULL is a no-op. No pass may be
 * running any more. */
void obj_bg_free(struct obj_bg *bg);

enum obj_bg_daemon {
    OBJ_BG_RUN_REPLICATE, /* objects, then containers, then accounts */
    OBJ_BG_RUN_AUDIT,
    OBJ_BG_RUN_EXPIRE,
};

/*
 * Runs one pass of a daemon now, waiting for a pass of the same kind that
 * is running (the timer's, or another request's) to finish first. BLOCKS
 * for the whole pass; the calling thread must be an RCU reader
 * (rcu_register_thread). Returns as the pass function.
 */
int obj_bg_run(struct obj_bg *bg, enum obj_bg_daemon which,
               struct obj_bg_stats *st);

/*
 * The client of the --*-once modes: asks the daemon configured in conf
 * (bind_ip, or 127.0.0.1 for a wildcard, and bind_port) to run one pass
 * (RUN /replicate|/audit|/expire) and waits for it, without a time limit.
 * On success *out (heap, caller frees) holds the counters as JSON.
 * Returns 0, or a negative errno with a message on stderr.
 */
struct obj_conf;
int obj_bg_run_remote(const struct obj_conf *conf, enum obj_bg_daemon which,
                      char **out);

/*
 * Starts one thread per daemon whose interval is not 0. Returns 0 or a
 * negative errno (nothing started then).
 */
int obj_bg_start(struct obj_bg *bg);

/*
 * One replication pass: objects, then container and account databases.
 */
int obj_repl_once(struct obj_bg *bg, struct obj_bg_stats *st);

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

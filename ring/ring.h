/*
 * ring.h - the consistent-hash ring: which devices hold a name.
 *
 * A ring file (format: docs/ring-format.md; design notes:
 * docs/internals/ring.md) holds the devices, the partition
 * power, and for each replica row the device id of every partition. Three
 * rings exist per cluster (account, container, object), as in Swift.
 *
 * Two layers:
 *  - struct ring: one immutable, loaded ring. Lookups on it are pure reads,
 *    safe from any number of threads, and allocate nothing.
 *  - struct ring_watch: a ring file that is reloaded when it changes on disk.
 *    Readers take rcu_read_lock() (liburcu, memb flavour; every reading thread
 *    is registered with rcu_register_thread()), call ring_watch_get(), use the
 *    ring, and rcu_read_unlock(); they never block. A reload that finds a
 *    truncated or corrupt file logs one line and keeps the old ring. The old
 *    ring is freed after a grace period.
 *
 * Writers (cairn-ring-builder) fill a struct ring_layout and call
 * ring_write_file(), which is the only code that produces ring files.
 */
#ifndef CAIRN_RING_H
#define CAIRN_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hashpath.h"

#define RING_NO_DEV 0xffffu   /* an unassigned slot in a replica row */
#define RING_MAX_DEVS 65535u  /* device ids are 0..65534 */
#define RING_MAX_PART_POWER 31 /* 2^32 partitions (8 GiB per row) do not
                                 * fit the uint32 row lengths; Swift allows
                                 * 32 but nobody can load such a ring */
#define RING_MAX_REPLICA_ROWS 64u /* more rows than this is a broken file */

struct ring_dev {
    uint32_t id;
    uint32_t region;
    uint32_t zone;
    char ip[64];              /* IPv4 dotted or IPv6 without brackets */
    uint16_t port;
    char replication_ip[64];
    uint16_t replication_port;
    char device[64];          /* name under the node's devices dir, e.g. sdb1 */
    double weight;
    char meta[256];
};

/*
 * What a ring file contains, as the builder hands it over. devs is indexed by
 * device id; ids without a device have dev_present[id] == false.
 * replica2part2dev[r][p] is the device id for replica r of partition p, or
 * RING_NO_DEV; row r has row_len[r] partitions (all rows have 2^part_power,
 * except that the last row of a fractional replica count may be shorter).
 *
 * Rules ring_write_file() enforces (and ring_load() checks again):
 * part_power <= RING_MAX_PART_POWER; 1 <= replica_rows <=
 * RING_MAX_REPLICA_ROWS; dev_count <= RING_MAX_DEVS; every present device has
 * devs[i].id == i, a non-empty ip and device name, every string field
 * NUL-terminated inside its array, a finite weight >= 0; every row entry is
 * RING_NO_DEV or the id of a present device; every row but the last has
 * exactly 2^part_power entries and the last has 1..2^part_power.
 */
struct ring_layout {
    uint32_t part_power;
    uint32_t replica_rows;
    uint32_t *row_len;
    uint16_t **replica2part2dev;
    struct ring_dev *devs;
    bool *dev_present;
    uint32_t dev_count;       /* length of devs and dev_present */
    uint64_t version;         /* the builder's version counter */
};

/* Writes layout to path atomically (temp file, fsync, rename, fsync dir).
 * Returns 0 or a negative errno with e filled ("PATH: what is wrong");
 * -EINVAL when the layout breaks a rule above (nothing is written then).
 * The layout is only read. Thread-safe for distinct paths. */
int ring_write_file(const char *path, const struct ring_layout *layout,
                    struct err *e);

struct ring;

/* Loads and validates a ring file. Returns a new ring (the caller owns it,
 * ring_free() releases it), or NULL with e filled ("PATH: truncated at byte
 * N", "PATH: checksum mismatch", ...) and e->code a negative errno: -ENOENT
 * and friends for I/O, -EINVAL for a file that is not a valid ring. */
struct ring *ring_load(const char *path, struct err *e);

/* Like ring_load() but parses len bytes at buf (which it does not keep);
 * name is used in place of the path in error messages. For tests, fuzzing
 * and tools that received a ring by other means. */
struct ring *ring_load_mem(const void *buf, size_t len, const char *name,
                           struct err *e);

/* Frees a ring; NULL is a no-op. No reader may still use it (ring_watch
 * guarantees that with a grace period). */
void ring_free(struct ring *r);

/* Accessors: pure reads, any thread. */
uint32_t ring_part_power(const struct ring *r);
/* 2^part_power. */
uint32_t ring_partition_count(const struct ring *r);
/* The number of replica rows (ceil of a fractional replica count). */
uint32_t ring_replica_count(const struct ring *r);
/* Swift's replica_count as a float: full rows + the share of the last row. */
double ring_replicas(const struct ring *r);
uint64_t ring_version(const struct ring *r);
/* Device by id, or NULL when no device has that id. Borrowed from r. */
const struct ring_dev *ring_dev_by_id(const struct ring *r, uint32_t id);
uint32_t ring_dev_id_limit(const struct ring *r); /* ids are < this */
/* The number of present devices. */
uint32_t ring_dev_count(const struct ring *r);
/* Raw assignment: device id of replica row `row` for partition part, or
 * RING_NO_DEV when the slot is empty or outside the row / the ring. */
uint16_t ring_assignment(const struct ring *r, uint32_t row, uint32_t part);

/* The partition of a name under the ring's part power. container and
 * object may be NULL; an empty object (or an empty container with no
 * object) counts as absent, as in Swift's hash_path. */
uint32_t ring_partition(const struct ring *r, const struct hashpath_secret *s,
                        const char *account, const char *container,
                        const char *object);

/*
 * The primary devices of a partition, in replica order, no device twice
 * (a device holding two replicas appears once, at its first row, as Swift's
 * get_nodes; empty RING_NO_DEV slots are skipped). Fills out[0..n) with
 * borrowed pointers and returns n (<= max). A part outside the ring gives 0.
 */
size_t ring_primaries(const struct ring *r, uint32_t part,
                      const struct ring_dev **out, size_t max);

/*
 * The tier order that the ring and the builder share: by region, then zone,
 * then ip (bytewise). Returns <0, 0 or >0 as a comes before, with or after b;
 * callers break ties (by id, by device name). Pure; thread-safe.
 */
int ring_tier_cmp(uint32_t region_a, uint32_t zone_a, const char *ip_a,
                  uint32_t region_b, uint32_t zone_b, const char *ip_b);

/*
 * Handoffs, in exactly the order of Swift's Ring.get_more_nodes(part): a walk
 * over partitions that starts where md5(decimal part) points and strides by
 * max(1, parts / 65536); pass 1 yields devices in regions holding no primary
 * yet, pass 2 devices in new (region, zone)s, pass 3 new (region, zone, ip)s,
 * pass 4 any device not yet used. Each device at most once, never a primary,
 * deterministic. Only devices that hold at least one partition are
 * candidates (a device with no assignment cannot be found by the walk), and,
 * as in Swift, the walk's wrap-around never visits partition 0 unless the
 * walk starts there, so a device assigned only to partition 0 is not offered.
 *
 * Iterate with ring_handoff_next() until it returns NULL. The iterator holds
 * no resources (nothing to release) but is large (about 32 KiB of "already
 * used" bitmaps, so that any ring size works without allocation): keep it on
 * a thread's stack or in a long-lived struct. The ring must outlive it (for
 * a ring_watch: stay inside one rcu_read_lock() section). Not thread-safe:
 * one iterator per thread.
 */
#define RING_HANDOFF_SEEN_WORDS (4u * 65536u / 64u)
struct ring_handoff_iter {
    const struct ring *ring;
    uint32_t part;
    uint32_t pass;            /* 1..4, 5 = finished */
    uint64_t start, inc;      /* the walk over partitions */
    uint64_t walk_part;       /* partition the walk is at */
    uint32_t walk_row;        /* next replica row to look at there */
    bool wrapped;             /* in the second range of the walk */
    uint32_t used_regions, used_zones, used_ips, used_devs;
    uint64_t seen[RING_HANDOFF_SEEN_WORDS];
};
void ring_handoffs_begin(const struct ring *r, uint32_t part,
                         struct ring_handoff_iter *it);
const struct ring_dev *ring_handoff_next(struct ring_handoff_iter *it);

struct ring_watch;

/* Loads path and watches it. With check_interval_ms > 0 a background thread
 * stats the file that often and reloads it when its inode, size or mtime
 * changed; with 0 nothing runs on its own and the owner calls
 * ring_watch_check(). Returns NULL with e filled when the first load fails.
 * The calling thread need not be an RCU reader. */
struct ring_watch *ring_watch_new(const char *path, unsigned check_interval_ms,
                                  struct err *e);
/* Stops the watcher thread and frees the current ring. No reader may use the
 * watch any more. NULL is a no-op. Not inside rcu_read_lock(). */
void ring_watch_free(struct ring_watch *w);
/* The current ring; call inside rcu_read_lock(). Borrowed until unlock.
 * Never NULL. Lock-free, any registered RCU reader thread. */
const struct ring *ring_watch_get(struct ring_watch *w);
/* Checks the file now and swaps in a valid new ring. Returns 1 if swapped,
 * 0 if unchanged, a negative errno if the new file was rejected (logged
 * once per distinct file state, the old ring keeps serving). Waits for a
 * grace period before freeing the old ring, so never call it inside
 * rcu_read_lock(). Serialised internally; any thread. */
int ring_watch_check(struct ring_watch *w);
/* The number of successful reloads so far (for tests and status pages). */
uint64_t ring_watch_reloads(struct ring_watch *w);

#endif

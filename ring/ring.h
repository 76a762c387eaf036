/*
 * ring.h - the consistent-hash ring: which devices hold a name.
 *
 * A ring file (format: docs/ring-format.md) holds the devices, the partition
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
#define RING_MAX_PART_POWER 32

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
 * Returns 0 or a negative errno with e filled. */
int ring_write_file(const char *path, const struct ring_layout *layout,
                    struct err *e);

struct ring;

/* Loads and validates a ring file. Returns a new ring, or NULL with e filled
 * ("PATH: truncated at byte N", "PATH: checksum mismatch", ...). */
struct ring *ring_load(const char *path, struct err *e);
void ring_free(struct ring *r);

uint32_t ring_part_power(const struct ring *r);
uint32_t ring_partition_count(const struct ring *r);
/* The number of replica rows (ceil of a fractional replica count). */
uint32_t ring_replica_count(const struct ring *r);
uint64_t ring_version(const struct ring *r);
/* Device by id, or NULL when no device has that id. Borrowed from r. */
const struct ring_dev *ring_dev_by_id(const struct ring *r, uint32_t id);
uint32_t ring_dev_id_limit(const struct ring *r); /* ids are < this */

/* The partition of a name under the ring's part power. */
uint32_t ring_partition(const struct ring *r, const struct hashpath_secret *s,
                        const char *account, const char *container,
                        const char *object);

/*
 * The primary devices of a partition, in replica order, no device twice.
 * Fills out[0..n) with borrowed pointers and returns n (<= max).
 */
size_t ring_primaries(const struct ring *r, uint32_t part,
                      const struct ring_dev **out, size_t max);

/*
 * Handoffs: every device that is not a primary of the partition, each once,
 * in a deterministic order that tries regions and zones holding no primary
 * first (as Swift's get_more_nodes). Iterate with ring_handoff_next() until
 * it returns NULL. The iterator holds no resources.
 */
struct ring_handoff_iter {
    const struct ring *ring;
    uint32_t part;
    uint32_t state[8];
};
void ring_handoffs_begin(const struct ring *r, uint32_t part,
                         struct ring_handoff_iter *it);
const struct ring_dev *ring_handoff_next(struct ring_handoff_iter *it);

struct ring_watch;

/* Loads path and watches it (stat check at most every check_interval_ms).
 * Returns NULL with e filled when the first load fails. */
struct ring_watch *ring_watch_new(const char *path, unsigned check_interval_ms,
                                  struct err *e);
void ring_watch_free(struct ring_watch *w);
/* The current ring; call inside rcu_read_lock(). Borrowed until unlock. */
const struct ring *ring_watch_get(struct ring_watch *w);
/* Checks the file now and swaps in a valid new ring. Returns 1 if swapped,
 * 0 if unchanged, a negative errno if the new file was rejected. */
int ring_watch_check(struct ring_watch *w);

#endif

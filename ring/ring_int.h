/*
 * ring_int.h - the inside of struct ring, shared by ring_file.c (parse and
 * write), ring.c (lookups, handoffs) and ring_watch.c (reload). Not for use
 * outside ring/.
 *
 * Invariants of a loaded ring (ring_file.c establishes them, everything else
 * relies on them without checking again):
 *  - p2d holds parts * rows entries, part-major (the rows of one partition
 *    sit together, so a lookup touches one cache line); each entry is
 *    RING_NO_DEV or the id of a present device. Slots past a short last row
 *    are RING_NO_DEV.
 *  - devs/present have dev_count entries; present devices have id == index.
 *  - tier[id] is valid for assigned devices (those found in p2d): dense
 *    indexes of the device's region, (region, zone) and (region, zone, ip),
 *    each below n_regions / n_zones / n_ips.
 * A ring never changes after load.
 */
#ifndef CAIRN_RING_INT_H
#define CAIRN_RING_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ring/ring.h"

struct ring_tier {
    uint16_t region, zone, ip;
};

struct ring {
    uint32_t part_power;
    uint32_t part_shift;      /* 32 - part_power */
    uint64_t parts;           /* 2^part_power */
    uint32_t rows;
    uint32_t *row_len;
    uint16_t *p2d;
    uint32_t dev_count;
    uint32_t present_count;
    struct ring_dev *devs;
    bool *present;
    bool *assigned;
    struct ring_tier *tier;
    uint32_t n_regions, n_zones, n_ips, n_assigned;
    uint64_t version;
};

/* Identity of a file on disk, to tell whether it changed. */
struct ring_file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
};

/* ring_load() that also reports which file it read (fstat of the open fd,
 * so the identity and the content belong together). */
struct ring *ring_load_id(const char *path, struct ring_file_id *id,
                          struct err *e);

/* Top part_power bits of a big-endian 32-bit value (shift 32 gives 0). */
static inline uint32_t ring_top_bits(uint32_t v, uint32_t part_shift)
{
    return part_shift >= 32 ? 0 : v >> part_shift;
}

#endif

/*
 * ring.c - lookups on a loaded ring: partition of a name, primaries of a
 * partition, and the handoff walk of Swift's get_more_nodes.
 *
 * All of it reads an immutable struct ring (ring_int.h) and allocates
 * nothing, so any number of threads may call it on the same ring. The
 * handoff iterator keeps its "already used" sets as bitmaps over the dense
 * tier indexes the loader computed, so a walk costs no allocation whatever
 * the ring's size; only the words a ring actually needs are cleared.
 */
#include "ring/ring_int.h"

#include <stdio.h>
#include <string.h>

#include "common/bug.h"
#include "common/hashpath.h"
#include "common/md5.h"

uint32_t ring_part_power(const struct ring *r)
{
    return r->part_power;
}

uint32_t ring_partition_count(const struct ring *r)
{
    return (uint32_t)r->parts;
}

uint32_t ring_replica_count(const struct ring *r)
{
    return r->rows;
}

double ring_replicas(const struct ring *r)
{
    return (double)(r->rows - 1) +
           (double)r->row_len[r->rows - 1] / (double)r->parts;
}

uint64_t ring_version(const struct ring *r)
{
    return r->version;
}

const struct ring_dev *ring_dev_by_id(const struct ring *r, uint32_t id)
{
    if (id >= r->dev_count || !r->present[id])
        return NULL;
    return &r->devs[id];
}

uint32_t ring_dev_id_limit(const struct ring *r)
{
    return r->dev_count;
}

uint32_t ring_dev_count(const struct ring *r)
{
    return r->present_count;
}

uint16_t ring_assignment(const struct ring *r, uint32_t row, uint32_t part)
{
    if (row >= r->rows || part >= r->parts)
        return RING_NO_DEV;
    return r->p2d[(uint64_t)part * r->rows + row];
}

uint32_t ring_partition(const struct ring *r, const struct hashpath_secret *s,
                        const char *account, const char *container,
                        const char *object)
{
    unsigned char digest[MD5_DIGEST_LEN];
    hashpath_digest(s, account, container, object, digest);
    return hashpath_partition(digest, r->part_power);
}

size_t ring_primaries(const struct ring *r, uint32_t part,
                      const struct ring_dev **out, size_t max)
{
    if (part >= r->parts)
        return 0;
    const uint16_t *slot = &r->p2d[(uint64_t)part * r->rows];
    uint16_t seen[RING_MAX_REPLICA_ROWS];
    size_t n = 0, nseen = 0;
    for (uint32_t row = 0; row < r->rows && n < max; row++) {
        uint16_t d = slot[row];
        if (d == RING_NO_DEV)
            continue;
        bool dup = false;
        for (size_t i = 0; i < nseen && !dup; i++)
            dup = seen[i] == d;
        if (dup)
            continue;
        seen[nseen++] = d;
        out[n++] = &r->devs[d];
    }
    return n;
}

/* ------------------------------------------------------------ handoffs */

/*
 * The seen bitmap holds four sections, each starting on a word boundary:
 * devices by id, then ip tiers, zone tiers and region tiers by dense index.
 */
int ring_tier_cmp(uint32_t region_a, uint32_t zone_a, const char *ip_a,
                  uint32_t region_b, uint32_t zone_b, const char *ip_b)
{
    if (region_a != region_b)
        return region_a < region_b ? -1 : 1;
    if (zone_a != zone_b)
        return zone_a < zone_b ? -1 : 1;
    return strcmp(ip_a, ip_b);
}

static uint32_t words_for(uint32_t bits)
{
    return (bits + 63) / 64;
}

static uint32_t off_ip(const struct ring *r)
{
    return words_for(r->dev_count) * 64;
}

static uint32_t off_zone(const struct ring *r)
{
    return off_ip(r) + words_for(r->n_ips) * 64;
}

static uint32_t off_region(const struct ring *r)
{
    return off_zone(r) + words_for(r->n_zones) * 64;
}

static bool seen_get(const struct ring_handoff_iter *it, uint32_t bit)
{
    return it->seen[bit / 64] >> (bit % 64) & 1;
}

/* Sets a bit; counts it in *count the first time. */
static void seen_set(struct ring_handoff_iter *it, uint32_t bit,
                     uint32_t *count)
{
    uint64_t m = 1ull << (bit % 64);
    if (!(it->seen[bit / 64] & m)) {
        it->seen[bit / 64] |= m;
        (*count)++;
    }
}

enum { PASS_REGION = 1, PASS_ZONE, PASS_IP, PASS_DEV, PASS_DONE };

/* Marks a device used; `from` says which tiers a pass records (pass 1
 * records region, zone and ip; pass 2 zone and ip; pass 3 ip; pass 4 only
 * the device), exactly the bookkeeping Swift's loops do. */
static void mark_used(struct ring_handoff_iter *it, uint16_t d, int from)
{
    const struct ring *r = it->ring;
    const struct ring_tier *t = &r->tier[d];
    seen_set(it, d, &it->used_devs);
    if (from <= PASS_IP)
        seen_set(it, off_ip(r) + t->ip, &it->used_ips);
    if (from <= PASS_ZONE)
        seen_set(it, off_zone(r) + t->zone, &it->used_zones);
    if (from <= PASS_REGION)
        seen_set(it, off_region(r) + t->region, &it->used_regions);
}

void ring_handoffs_begin(const struct ring *r, uint32_t part,
                         struct ring_handoff_iter *it)
{
    it->ring = r;
    it->part = part;
    it->used_regions = it->used_zones = it->used_ips = it->used_devs = 0;
    uint32_t words = (off_region(r) + words_for(r->n_regions) * 64) / 64;
    BUG_ON(words > RING_HANDOFF_SEEN_WORDS);
    memset(it->seen, 0, words * sizeof(it->seen[0]));
    it->pass = PASS_DONE;
    if (part >= r->parts)
        return;
    const struct ring_dev *prim[RING_MAX_REPLICA_ROWS];
    size_t n = ring_primaries(r, part, prim, RING_MAX_REPLICA_ROWS);
    for (size_t i = 0; i < n; i++)
        mark_used(it, (uint16_t)prim[i]->id, PASS_REGION);

    /* Where the walk starts: md5 of the partition number in decimal. */
    char dec[16];
    int len = snprintf(dec, sizeof(dec), "%u", part);
    unsigned char digest[MD5_DIGEST_LEN];
    md5_digest(dec, (size_t)len, digest);
    it->start = hashpath_partition(digest, r->part_power);
    it->inc = r->parts / 65536 ? r->parts / 65536 : 1;
    it->walk_part = it->start;
    it->walk_row = 0;
    it->wrapped = false;
    it->pass = PASS_REGION;
}

/* Moves the walk to its next partition; false when the walk is over. The
 * second range starts at inc - (parts - start) % inc, as Swift's does (so
 * partition 0 is skipped when the strides line up; kept for identical
 * handoff order). */
static bool walk_advance(struct ring_handoff_iter *it)
{
    const struct ring *r = it->ring;
    it->walk_row = 0;
    it->walk_part += it->inc;
    if (!it->wrapped && it->walk_part >= r->parts) {
        it->wrapped = true;
        it->walk_part = it->inc - (r->parts - it->start) % it->inc;
    }
    return !it->wrapped || it->walk_part < it->start;
}

static bool pass_complete(const struct ring_handoff_iter *it)
{
    const struct ring *r = it->ring;
    switch (it->pass) {
    case PASS_REGION: return it->used_regions >= r->n_regions;
    case PASS_ZONE: return it->used_zones >= r->n_zones;
    case PASS_IP: return it->used_ips >= r->n_ips;
    case PASS_DEV: return it->used_devs >= r->n_assigned;
    default: return true;
    }
}

static void next_pass(struct ring_handoff_iter *it)
{
    it->pass++;
    it->walk_part = it->start;
    it->walk_row = 0;
    it->wrapped = false;
}

const struct ring_dev *ring_handoff_next(struct ring_handoff_iter *it)
{
    const struct ring *r = it->ring;
    while (it->pass < PASS_DONE) {
        if (pass_complete(it)) {
            next_pass(it);
            continue;
        }
        if (it->walk_row >= r->rows) {
            if (!walk_advance(it))
                next_pass(it);
            continue;
        }
        uint16_t d = r->p2d[it->walk_part * r->rows + it->walk_row++];
        if (d == RING_NO_DEV || seen_get(it, d))
            continue;
        const struct ring_tier *t = &r->tier[d];
        bool fresh;
        switch (it->pass) {
        case PASS_REGION:
            fresh = !seen_get(it, off_region(r) + t->region);
            break;
        case PASS_ZONE:
            fresh = !seen_get(it, off_zone(r) + t->zone);
            break;
        case PASS_IP:
            fresh = !seen_get(it, off_ip(r) + t->ip);
            break;
        default:
            fresh = true;
            break;
        }
        if (!fresh)
            continue;
        mark_used(it, d, (int)it->pass);
        return &r->devs[d];
    }
    return NULL;
}

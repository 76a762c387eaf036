/*
 * rb_model.c - the builder's devices and the numbers derived from them:
 * adding, reweighting and removing devices, searching, balance, validation,
 * and the ring layout handed to ring_write_file().
 *
 * The placement algorithm itself is in rb_place.c. See rb.h for the
 * invariants; nothing here prints.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "tools/ring-builder/rb.h"

int rb_new(uint32_t part_power, double replicas, uint32_t min_part_hours,
           struct rb_builder **out, struct err *e)
{
    if (part_power < 1 || part_power > RING_MAX_PART_POWER)
        return err_set(e, -ERANGE, "part_power must be 1..%d (was %u)",
                       RING_MAX_PART_POWER, part_power);
    if (!(replicas >= 1.0) || replicas > 65535.0)
        return err_set(e, -ERANGE, "replicas must be at least 1 (was %.6f)",
                       replicas);
    struct rb_builder *b = xcalloc(1, sizeof(*b));
    b->part_power = part_power;
    b->parts = part_power == 32 ? 0 : (uint32_t)1 << part_power;
    if (part_power == 32) {
        free(b);
        return err_set(e, -ERANGE,
                       "part_power 32 needs more memory than this tool "
                       "allows; use at most 31");
    }
    b->replicas = replicas;
    b->min_part_hours = min_part_hours;
    *out = b;
    return 0;
}

void rb_release(struct rb_builder *b)
{
    for (uint32_t r = 0; r < b->rows; r++)
        free(b->r2p2d[r]);
    free(b->r2p2d);
    free(b->row_len);
    free(b->last_part_moves);
    free(b->devs);
}

void rb_free(struct rb_builder *b)
{
    if (!b)
        return;
    rb_release(b);
    free(b);
}

uint32_t rb_dev_count(const struct rb_builder *b)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++)
        n += b->devs[i].present;
    return n;
}

uint32_t rb_region_count(const struct rb_builder *b)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        if (!b->devs[i].present)
            continue;
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = b->devs[j].present && b->devs[j].region == b->devs[i].region;
        n += !seen;
    }
    return n;
}

uint32_t rb_zone_count(const struct rb_builder *b)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        const struct rb_dev *d = &b->devs[i];
        if (!d->present)
            continue;
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = b->devs[j].present && b->devs[j].region == d->region &&
                   b->devs[j].zone == d->zone;
        n += !seen;
    }
    return n;
}

int rb_add_dev(struct rb_builder *b, const struct rb_dev *d, struct err *e)
{
    if (!(d->weight >= 0.0))
        return err_set(e, -EINVAL, "Invalid weight value: %g", d->weight);
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        const struct rb_dev *o = &b->devs[i];
        if (o->present && strcmp(o->ip, d->ip) == 0 && o->port == d->port &&
            strcmp(o->device, d->device) == 0)
            return err_set(e, -EEXIST, "Device %u already uses %s:%u/%s.",
                           o->id, o->ip, o->port, o->device);
    }
    uint32_t id = 0;
    while (id < b->dev_cap && b->devs[id].present)
        id++;
    if (id >= RING_MAX_DEVS)
        return err_set(e, -ENOSPC, "too many devices (ids are 0..%u)",
                       RING_MAX_DEVS - 1);
    if (id == b->dev_cap) {
        b->devs = xrealloc(b->devs, (size_t)(b->dev_cap + 1) * sizeof(*b->devs));
        b->dev_cap++;
    }
    struct rb_dev *n = &b->devs[id];
    *n = *d;
    n->present = true;
    n->removing = false;
    n->id = id;
    n->parts = 0;
    n->parts_wanted = 0;
    b->devs_changed = true;
    b->version++;
    return (int)id;
}

static int check_not_removing(const struct rb_builder *b, uint32_t id,
                              const char *what, struct err *e)
{
    if (b->devs[id].removing)
        return err_set(e, -EINVAL, "Can not set %s of dev_id %u because it "
                       "is marked for removal", what, id);
    return 0;
}

int rb_set_weight(struct rb_builder *b, uint32_t id, double w, struct err *e)
{
    int rc = check_not_removing(b, id, "weight", e);
    if (rc)
        return rc;
    if (!(w >= 0.0))
        return err_set(e, -EINVAL, "Invalid weight value: %g", w);
    b->devs[id].weight = w;
    b->devs_changed = true;
    b->version++;
    return 0;
}

int rb_set_region(struct rb_builder *b, uint32_t id, uint32_t r, struct err *e)
{
    int rc = check_not_removing(b, id, "region", e);
    if (rc)
        return rc;
    b->devs[id].region = r;
    b->devs_changed = true;
    b->version++;
    return 0;
}

int rb_set_zone(struct rb_builder *b, uint32_t id, uint32_t z, struct err *e)
{
    int rc = check_not_removing(b, id, "zone", e);
    if (rc)
        return rc;
    b->devs[id].zone = z;
    b->devs_changed = true;
    b->version++;
    return 0;
}

void rb_remove_dev(struct rb_builder *b, uint32_t id)
{
    b->devs[id].weight = 0;
    b->devs[id].removing = true;
    b->devs_changed = true;
    b->version++;
}

void rb_set_replicas(struct rb_builder *b, double replicas)
{
    if ((int64_t)(b->parts * b->replicas) != (int64_t)(b->parts * replicas))
        b->devs_changed = true;
    b->replicas = replicas;
}

void rb_pretend_min_part_hours_passed(struct rb_builder *b)
{
    b->last_part_moves_epoch = 0;
    if (b->last_part_moves)
        memset(b->last_part_moves, 0xff, b->parts);
}

int64_t rb_min_part_seconds_left(const struct rb_builder *b)
{
    int64_t elapsed = (int64_t)time(NULL) - b->last_part_moves_epoch;
    int64_t left = (int64_t)b->min_part_hours * 3600 - elapsed;
    return left > 0 ? left : 0;
}

static double total_weight(const struct rb_builder *b)
{
    double w = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++)
        if (b->devs[i].present)
            w += b->devs[i].weight;
    return w;
}

int rb_balance_per_dev(const struct rb_builder *b, double *out)
{
    double tw = total_weight(b);
    if (!(tw > 0))
        return -ENODATA;
    double wop = (double)b->parts * b->replicas / tw;
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        const struct rb_dev *d = &b->devs[i];
        if (!d->present)
            continue;
        if (d->weight == 0)
            out[i] = d->parts ? RB_MAX_BALANCE : 0;
        else
            out[i] = 100.0 * (double)d->parts / (d->weight * wop) - 100.0;
    }
    return 0;
}

int rb_balance(const struct rb_builder *b, double *out)
{
    double *per = xcalloc(b->dev_cap ? b->dev_cap : 1, sizeof(*per));
    int rc = rb_balance_per_dev(b, per);
    double worst = 0;
    if (rc == 0)
        for (uint32_t i = 0; i < b->dev_cap; i++)
            if (b->devs[i].present && fabs(per[i]) > worst)
                worst = fabs(per[i]);
    free(per);
    *out = worst;
    return rc;
}

int rb_validate(const struct rb_builder *b, struct err *e)
{
    if (!b->r2p2d)
        return err_set(e, -EINVAL,
                       "_replica2part2dev empty; did you forget to rebalance?");
    int64_t on_devs = 0, in_map = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++)
        if (b->devs[i].present)
            on_devs += b->devs[i].parts;
    for (uint32_t r = 0; r < b->rows; r++)
        in_map += b->row_len[r];
    if (on_devs != in_map)
        return err_set(e, -EINVAL,
                       "All partitions are not double accounted for: "
                       "%lld != %lld", (long long)on_devs, (long long)in_map);
    uint32_t int_replicas = (uint32_t)ceil(b->replicas);
    uint32_t *seen = xcalloc(b->rows ? b->rows : 1, sizeof(*seen));
    int rc = 0;
    for (uint32_t p = 0; p < b->parts && rc == 0; p++) {
        uint32_t n = 0;
        for (uint32_t r = 0; r < b->rows; r++) {
            if (b->row_len[r] <= p) {
                if (r + 1 < int_replicas) {
                    rc = err_set(e, -EINVAL, "The partition assignments of "
                                 "replica %u were shorter than expected "
                                 "(%u < %u) - this should only happen for "
                                 "the last replica", r, b->row_len[r],
                                 b->parts);
                }
                break;
            }
            uint16_t id = b->r2p2d[r][p];
            if (id >= b->dev_cap || !b->devs[id].present) {
                rc = err_set(e, -EINVAL, "Partition %u, replica %u was not "
                             "allocated to a device.", p, r);
                break;
            }
            for (uint32_t k = 0; k < n; k++)
                if (seen[k] == id) {
                    rc = err_set(e, -EINVAL, "The partition %u has been "
                                 "assigned to duplicate devices (device %u)",
                                 p, id);
                    break;
                }
            if (rc)
                break;
            seen[n++] = id;
        }
    }
    free(seen);
    return rc;
}

static bool search_ip_match(const char *dev_ip, const char *want)
{
    char norm[64];
    if (rb_normalize_address(dev_ip, norm, sizeof(norm)) != 0)
        norm[0] = '\0';
    return strcmp(norm, want) == 0;
}

size_t rb_search(const struct rb_builder *b, const struct rb_search *s,
                 uint32_t *ids)
{
    size_t n = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        const struct rb_dev *d = &b->devs[i];
        if (!d->present)
            continue;
        if ((s->has_id && d->id != s->id) ||
            (s->has_region && d->region != s->region) ||
            (s->has_zone && d->zone != s->zone) ||
            (s->has_ip && !search_ip_match(d->ip, s->ip)) ||
            (s->has_port && d->port != s->port) ||
            (s->has_rip && !search_ip_match(d->replication_ip, s->rip)) ||
            (s->has_rport && d->replication_port != s->rport) ||
            (s->has_device && strcmp(d->device, s->device) != 0) ||
            (s->has_meta && !strstr(d->meta, s->meta)) ||
            (s->has_weight && d->weight != s->weight))
            continue;
        ids[n++] = i;
    }
    return n;
}

void rb_layout(const struct rb_builder *b, struct ring_layout *l)
{
    memset(l, 0, sizeof(*l));
    l->part_power = b->part_power;
    l->version = b->version;
    l->dev_count = b->dev_cap;
    l->devs = xcalloc(b->dev_cap ? b->dev_cap : 1, sizeof(*l->devs));
    l->dev_present = xcalloc(b->dev_cap ? b->dev_cap : 1,
                             sizeof(*l->dev_present));
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        const struct rb_dev *d = &b->devs[i];
        if (!d->present)
            continue;
        struct ring_dev *o = &l->devs[i];
        l->dev_present[i] = true;
        o->id = d->id;
        o->region = d->region;
        o->zone = d->zone;
        str_copy(o->ip, d->ip, sizeof(o->ip));
        o->port = (uint16_t)d->port;
        str_copy(o->replication_ip, d->replication_ip,
                 sizeof(o->replication_ip));
        o->replication_port = (uint16_t)d->replication_port;
        str_copy(o->device, d->device, sizeof(o->device));
        o->weight = d->weight;
        str_copy(o->meta, d->meta, sizeof(o->meta));
    }
    if (b->r2p2d) {
        l->replica_rows = b->rows;
        l->row_len = b->row_len;
        l->replica2part2dev = b->r2p2d;
    }
}

void rb_layout_release(struct ring_layout *l)
{
    free(l->devs);
    free(l->dev_present);
    memset(l, 0, sizeof(*l));
}

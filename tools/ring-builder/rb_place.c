/*
 * rb_place.c - placement: the replica plan, rebalance, dispersion.
 *
 * The same algorithm as OpenStack Swift's RingBuilder (2.30), written anew
 * for C; docs/ring-builder.md describes it. In short:
 *
 *  - Devices form a tree of tiers: root, region, zone, server (by ip),
 *    device. Only devices with weight take part in the plan.
 *  - The plan gives every tier a target number of replicas of each
 *    partition ("replicanths"): weighted (by weight, no device above one
 *    replica), wanted (as dispersed as the tree allows), and between the
 *    two as far as the overload allows. min/max per tier are the floor and
 *    ceiling of the target. Every device then wants a whole number of
 *    partition-replicas, handed out from the root down.
 *  - A rebalance gathers replicas that must move (rows added, devices
 *    removed, a tier above its max) and then, for balance, replicas on
 *    devices holding more than they want. It places each gathered replica by
 *    walking from the root to the child, under its max for this partition,
 *    with the most parts still wanted. A partition whose replica moved is
 *    not touched again in the same rebalance, nor within min_part_hours
 *    (only replicas on removed devices ignore that).
 *
 * Tie-breaks come from a seeded generator, so one seed gives one result.
 * Per-partition work uses a per-tier counter array that is reset after each
 * partition, so a rebalance is O(parts x replicas x tree depth) plus the
 * width of the tree at each placement.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "tools/ring-builder/rb.h"

#define LEVELS 4              /* region, zone, server, device */

/* ------------------------------------------------------------ random */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *g)
{
    /* splitmix64: small, fast, good enough for tie-breaking. */
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static uint64_t rng_range(struct rng *g, uint64_t lo, uint64_t hi)
{
    return lo + rng_next(g) % (hi - lo + 1);
}

/* ------------------------------------------------------------ tiers */

struct tier {
    uint8_t level;            /* 0 root .. 4 device */
    uint32_t parent;
    uint32_t region, zone;
    const char *ip;
    uint32_t dev_id;          /* device tiers */
    uint32_t *kids;           /* children holding weight, sorted */
    uint32_t nkids;
    uint32_t ndev;            /* devices with weight below */
    double maxc;              /* dispersion bound (ceil) */
    double maxf;              /* dispersion bound (float) */
    double weighted, wanted, target;
    int64_t pmin, pmax;       /* plan */
    int64_t parts_by_tier;
    int64_t avail;            /* parts still wanted below (scratch) */
    int32_t rat;              /* replicas of the current part (scratch) */
    bool in_touched;          /* listed in plan.touched */
    uint64_t skey[3];         /* max sort key below (reassign) */
};

struct plan {
    struct rb_builder *b;
    struct tier *t;
    uint32_t nt;
    uint32_t *kid_store;
    /* touched tiers of the current partition, to reset rat */
    uint32_t *touched;
    uint32_t ntouched;
};

static const struct rb_builder *g_sort_b;

static int cmp_dev_tier(const void *a, const void *bb)
{
    const struct rb_dev *x = &g_sort_b->devs[*(const uint32_t *)a];
    const struct rb_dev *y = &g_sort_b->devs[*(const uint32_t *)bb];
    int c = ring_tier_cmp(x->region, x->zone, x->ip, y->region, y->zone, y->ip);
    if (c)
        return c;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void plan_release(struct plan *p)
{
    free(p->t);
    free(p->kid_store);
    free(p->touched);
    memset(p, 0, sizeof(*p));
}

/*
 * Builds the tier tree over the present devices (zero-weight ones get tiers
 * too, so replicas on them can be counted, but are nobody's children).
 * Tiers are created in (region, zone, ip, id) order, which is the order
 * Swift sorts tier tuples in.
 */
static void plan_build_tree(struct plan *p, struct rb_builder *b)
{
    memset(p, 0, sizeof(*p));
    p->b = b;
    uint32_t n = 0;
    uint32_t *ids = xmalloc(((size_t)b->dev_cap + 1) * sizeof(*ids));
    for (uint32_t i = 0; i < b->dev_cap; i++)
        if (b->devs[i].present)
            ids[n++] = i;
    g_sort_b = b;
    qsort(ids, n, sizeof(*ids), cmp_dev_tier);
    p->t = xcalloc((size_t)n * LEVELS + 1, sizeof(*p->t));
    p->nt = 1;
    uint32_t cur[LEVELS + 1] = {0};
    const struct rb_dev *prev = NULL;
    for (uint32_t k = 0; k < n; k++) {
        struct rb_dev *d = &b->devs[ids[k]];
        int first_new = 1;
        if (prev && prev->region == d->region) {
            first_new = 2;
            if (prev->zone == d->zone) {
                first_new = 3;
                if (strcmp(prev->ip, d->ip) == 0)
                    first_new = 4;
            }
        }
        for (int lv = first_new; lv <= LEVELS; lv++) {
            struct tier *t = &p->t[p->nt];
            t->level = (uint8_t)lv;
            t->parent = cur[lv - 1];
            t->region = d->region;
            t->zone = d->zone;
            t->ip = d->ip;
            t->dev_id = d->id;
            cur[lv] = p->nt++;
        }
        for (int lv = 1; lv <= LEVELS; lv++)
            d->tier[lv - 1] = cur[lv];
        if (d->weight > 0)
            for (int lv = 0; lv <= LEVELS; lv++)
                p->t[cur[lv]].ndev++;
        prev = d;
    }
    free(ids);
    /* children with weight, in creation (= sorted) order */
    p->kid_store = xcalloc(p->nt, sizeof(*p->kid_store));
    for (uint32_t i = 1; i < p->nt; i++)
        if (p->t[i].ndev)
            p->t[p->t[i].parent].nkids++;
    uint32_t off = 0;
    for (uint32_t i = 0; i < p->nt; i++) {
        p->t[i].kids = p->kid_store + off;
        off += p->t[i].nkids;
        p->t[i].nkids = 0;
    }
    for (uint32_t i = 1; i < p->nt; i++)
        if (p->t[i].ndev) {
            struct tier *par = &p->t[p->t[i].parent];
            par->kids[par->nkids++] = i;
        }
    p->touched = xcalloc((size_t)(b->rows + (uint32_t)ceil(b->replicas) + 1) *
                         LEVELS, sizeof(*p->touched));
}

/* Swift's max replicas by tier: each child gets bound(parent / children),
 * a device at most 1. */
static void walk_max(struct plan *p, uint32_t ti, double rc, bool ceil_bound)
{
    struct tier *t = &p->t[ti];
    if (t->level == LEVELS && rc > 1)
        rc = 1;
    if (ceil_bound)
        t->maxc = rc;
    else
        t->maxf = rc;
    for (uint32_t k = 0; k < t->nkids; k++) {
        double sub = rc / t->nkids;
        walk_max(p, t->kids[k], ceil_bound ? ceil(sub) : sub, ceil_bound);
    }
}

static void plan_max(struct plan *p)
{
    walk_max(p, 0, p->b->replicas, true);
    walk_max(p, 0, p->b->replicas, false);
}

static int plan_weighted(struct plan *p, struct err *e)
{
    struct rb_builder *b = p->b;
    double tw = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++)
        if (b->devs[i].present)
            tw += b->devs[i].weight;
    if (!(tw > 0))
        return err_set(e, -ENODATA, "There are no devices in this ring, or "
                       "all devices have been deleted");
    double wop = (double)b->parts * b->replicas / tw;
    double *wr = xcalloc(b->dev_cap, sizeof(*wr));
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        const struct rb_dev *d = &b->devs[i];
        if (!d->present || d->weight == 0)
            continue;
        wr[i] = d->weight * wop / b->parts;
        if (wr[i] > 1)
            wr[i] = 1;
    }
    for (int iter = 0; iter < 10000; iter++) {
        double sum = 0, room = 0;
        for (uint32_t i = 0; i < b->dev_cap; i++) {
            sum += wr[i];
            if (wr[i] > 0 && wr[i] < 1)
                room += wr[i];
        }
        double remaining = b->replicas - sum;
        if (remaining < 1e-10 || room <= 0)
            break;
        double rel = remaining / room;
        for (uint32_t i = 0; i < b->dev_cap; i++)
            if (wr[i] > 0 && wr[i] < 1) {
                wr[i] *= rel + 1;
                if (wr[i] > 1)
                    wr[i] = 1;
            }
    }
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        const struct rb_dev *d = &b->devs[i];
        if (!d->present || d->weight == 0)
            continue;
        p->t[0].weighted += wr[i];
        for (int lv = 0; lv < LEVELS; lv++)
            p->t[d->tier[lv]].weighted += wr[i];
    }
    free(wr);
    return 0;
}

static int place_replicas(struct plan *p, uint32_t ti, double replicanths,
                          struct err *e)
{
    struct tier *t = &p->t[ti];
    if (replicanths > t->ndev + 1e-9)
        return err_set(e, -EINVAL, "More replicanths (%g) than devices (%u) "
                       "in a tier", replicanths, t->ndev);
    t->wanted = replicanths;
    if (!t->nkids)
        return 0;
    uint32_t n = t->nkids;
    double *to_place = xcalloc(n, sizeof(*to_place));
    bool *spread = xmalloc(n * sizeof(*spread));
    for (uint32_t k = 0; k < n; k++)
        spread[k] = true;
    double remaining = replicanths;
    bool device_limited = false;
    for (int iter = 0; iter < 10000; iter++) {
        double sumw = 0;
        for (uint32_t k = 0; k < n; k++)
            if (spread[k])
                sumw += p->t[t->kids[k]].weighted;
        if (!(sumw > 0))
            break;
        double rel = remaining / sumw;
        for (uint32_t k = 0; k < n; k++) {
            if (!spread[k])
                continue;
            const struct tier *c = &p->t[t->kids[k]];
            double r = to_place[k] + c->weighted * rel;
            if (r < floor(c->maxf))
                r = floor(c->maxf);
            else if (r > ceil(c->maxf) && !device_limited)
                r = ceil(c->maxf);
            if (r > c->ndev)
                r = c->ndev;
            to_place[k] = r;
        }
        double sum = 0;
        for (uint32_t k = 0; k < n; k++)
            sum += to_place[k];
        remaining = replicanths - sum;
        if (remaining < -1e-10) {
            for (uint32_t k = 0; k < n; k++)
                spread[k] = to_place[k] > floor(p->t[t->kids[k]].maxf);
        } else if (remaining > 1e-10) {
            bool any = false;
            for (uint32_t k = 0; k < n; k++) {
                const struct tier *c = &p->t[t->kids[k]];
                spread[k] = c->ndev > to_place[k] && to_place[k] < ceil(c->maxf);
                any |= spread[k];
            }
            if (!any) {
                device_limited = true;
                for (uint32_t k = 0; k < n; k++)
                    spread[k] = to_place[k] < p->t[t->kids[k]].ndev;
            }
        } else {
            break;
        }
    }
    int rc = 0;
    for (uint32_t k = 0; k < n && rc == 0; k++)
        rc = place_replicas(p, t->kids[k], to_place[k], e);
    free(to_place);
    free(spread);
    return rc;
}

/* Largest (wanted - weighted) / weighted over devices. */
static double required_overload(const struct plan *p)
{
    double worst = 0;
    for (uint32_t i = 1; i < p->nt; i++) {
        const struct tier *t = &p->t[i];
        if (t->level != LEVELS || !t->ndev)
            continue;
        double r = (t->wanted - t->weighted) / t->weighted;
        if (r > worst)
            worst = r;
    }
    return worst;
}

/* Computes weighted, wanted, target and min/max for every tier. */
static int plan_compute(struct plan *p, struct err *e)
{
    plan_max(p);
    int rc = plan_weighted(p, e);
    if (rc)
        return rc;
    rc = place_replicas(p, 0, p->b->replicas, e);
    if (rc)
        return rc;
    double req = required_overload(p);
    double ov = p->b->overload < req ? p->b->overload : req;
    for (uint32_t i = 0; i < p->nt; i++) {
        struct tier *t = &p->t[i];
        if (!t->ndev) {
            t->target = 0;
        } else if (req <= 0) {
            t->target = t->wanted;
        } else {
            double m = (t->wanted - t->weighted) / req;
            t->target = m * ov + t->weighted;
        }
        t->pmin = (int64_t)floor(t->target + 1e-10);
        t->pmax = (int64_t)ceil(t->target - 1e-10);
    }
    return 0;
}

/* Hands out int(replicas * parts) partition-replicas top-down. */
static void place_parts(struct plan *p, uint32_t ti, int64_t parts)
{
    struct tier *t = &p->t[ti];
    t->parts_by_tier = parts;
    if (!t->nkids)
        return;
    uint32_t n = t->nkids;
    int64_t *to_place = xcalloc(n, sizeof(*to_place));
    for (uint32_t k = 0; k < n; k++) {
        int64_t want = (int64_t)floor(p->t[t->kids[k]].target * p->b->parts);
        to_place[k] = want < parts ? want : parts;
        parts -= to_place[k];
    }
    if (parts > 0) {
        /* leftovers go round the children, smallest target first */
        uint32_t *order = xmalloc(n * sizeof(*order));
        for (uint32_t k = 0; k < n; k++)
            order[k] = k;
        for (uint32_t k = 1; k < n; k++) {    /* stable insertion sort */
            uint32_t v = order[k];
            uint32_t j = k;
            while (j > 0 && p->t[t->kids[order[j - 1]]].target >
                                p->t[t->kids[v]].target) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = v;
        }
        for (uint32_t k = 0; parts > 0; k = (k + 1) % n) {
            to_place[order[k]]++;
            parts--;
        }
        free(order);
    }
    for (uint32_t k = 0; k < n; k++)
        place_parts(p, t->kids[k], to_place[k]);
    free(to_place);
}

static void set_parts_wanted(struct plan *p)
{
    struct rb_builder *b = p->b;
    place_parts(p, 0, (int64_t)(b->replicas * b->parts));
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        struct rb_dev *d = &b->devs[i];
        if (!d->present)
            continue;
        if (d->weight == 0)
            d->parts_wanted = -(int64_t)ceil(b->parts * b->replicas);
        else
            d->parts_wanted = p->t[d->tier[LEVELS - 1]].parts_by_tier - d->parts;
    }
}

/* ------------------------------------------------------------ per part */

static inline void rat_add(struct plan *p, const struct rb_dev *d, int delta)
{
    for (int lv = 0; lv < LEVELS; lv++) {
        struct tier *t = &p->t[d->tier[lv]];
        if (!t->in_touched) {
            t->in_touched = true;
            p->touched[p->ntouched++] = d->tier[lv];
        }
        t->rat += delta;
    }
}

static inline void rat_reset(struct plan *p)
{
    for (uint32_t i = 0; i < p->ntouched; i++) {
        p->t[p->touched[i]].rat = 0;
        p->t[p->touched[i]].in_touched = false;
    }
    p->ntouched = 0;
}

static void count_part(struct plan *p, uint32_t part)
{
    struct rb_builder *b = p->b;
    for (uint32_t r = 0; r < b->rows; r++) {
        if (part >= b->row_len[r])
            continue;
        uint16_t id = b->r2p2d[r][part];
        if (id != RB_NONE_DEV)
            rat_add(p, &b->devs[id], 1);
    }
}

/* ------------------------------------------------------------ rebalance */

struct gathered {
    uint32_t part;
    uint32_t replica;
    uint32_t seq;
};

struct rebal {
    struct plan plan;
    struct rb_builder *b;
    struct rng rng;
    uint8_t *moved;           /* bitmap: a replica of the part moved */
    struct gathered *g;
    size_t ng, capg;
    bool spread_first;        /* placement variant, see reassign() */
};

static inline bool has_moved(const struct rebal *rb, uint32_t part)
{
    return rb->moved[part >> 3] & (1u << (part & 7));
}

static inline void set_moved(struct rebal *rb, uint32_t part)
{
    rb->b->last_part_moves[part] = 0;
    rb->moved[part >> 3] |= (uint8_t)(1u << (part & 7));
}

static inline bool can_move(const struct rebal *rb, uint32_t part)
{
    return rb->b->last_part_moves[part] >= rb->b->min_part_hours &&
           !has_moved(rb, part);
}

static void gather(struct rebal *rb, uint32_t part, uint32_t replica)
{
    if (rb->ng == rb->capg) {
        rb->capg = rb->capg ? rb->capg * 2 : 1024;
        rb->g = xrealloc(rb->g, rb->capg * sizeof(*rb->g));
    }
    rb->g[rb->ng].part = part;
    rb->g[rb->ng].replica = replica;
    rb->g[rb->ng].seq = (uint32_t)rb->ng;
    rb->ng++;
}

/* Takes replica r of part off its device (which keeps wanting it). */
static void unassign(struct rebal *rb, uint32_t part, uint32_t r)
{
    struct rb_dev *d = &rb->b->devs[rb->b->r2p2d[r][part]];
    d->parts_wanted++;
    d->parts--;
    rb->b->r2p2d[r][part] = RB_NONE_DEV;
    gather(rb, part, r);
}

static void update_last_part_moves(struct rb_builder *b)
{
    if (!b->last_part_moves)
        b->last_part_moves = xcalloc(b->parts, 1);
    int64_t now = (int64_t)time(NULL);
    int64_t hours = (now - b->last_part_moves_epoch) / 3600;
    if (hours <= 0)
        return;
    for (uint32_t p = 0; p < b->parts; p++) {
        int64_t v = b->last_part_moves[p] + hours;
        b->last_part_moves[p] = v < 0xff ? (uint8_t)v : 0xff;
    }
    b->last_part_moves_epoch = now;
}

static void adjust_rows(struct rebal *rb)
{
    struct rb_builder *b = rb->b;
    uint32_t whole = (uint32_t)floor(b->replicas);
    double frac = b->replicas - whole;
    uint32_t want_rows = whole + (frac > 0 ? 1 : 0);
    uint32_t *want_len = xcalloc(want_rows, sizeof(*want_len));
    for (uint32_t r = 0; r < whole; r++)
        want_len[r] = b->parts;
    if (frac > 0)
        want_len[whole] = (uint32_t)(b->parts * frac);
    /* drop whole rows beyond the new count */
    for (uint32_t r = want_rows; r < b->rows; r++) {
        for (uint32_t p = 0; p < b->row_len[r]; p++)
            if (b->r2p2d[r][p] != RB_NONE_DEV)
                b->devs[b->r2p2d[r][p]].parts--;
        free(b->r2p2d[r]);
    }
    uint32_t old_rows = b->rows < want_rows ? b->rows : want_rows;
    b->r2p2d = xrealloc(b->r2p2d, want_rows * sizeof(*b->r2p2d));
    b->row_len = xrealloc(b->row_len, want_rows * sizeof(*b->row_len));
    for (uint32_t r = 0; r < want_rows; r++) {
        uint32_t have = r < old_rows ? b->row_len[r] : 0;
        if (r >= old_rows)
            b->r2p2d[r] = NULL;
        if (have < want_len[r]) {
            b->r2p2d[r] = xrealloc(b->r2p2d[r],
                                   (size_t)want_len[r] * sizeof(uint16_t));
            for (uint32_t p = have; p < want_len[r]; p++) {
                b->r2p2d[r][p] = RB_NONE_DEV;
                gather(rb, p, r);
            }
        } else {
            for (uint32_t p = want_len[r]; p < have; p++)
                if (b->r2p2d[r][p] != RB_NONE_DEV)
                    b->devs[b->r2p2d[r][p]].parts--;
        }
        b->row_len[r] = want_len[r];
    }
    b->rows = want_rows;
    free(want_len);
}

static uint32_t gather_removed(struct rebal *rb)
{
    struct rb_builder *b = rb->b;
    bool any = false;
    for (uint32_t i = 0; i < b->dev_cap; i++)
        any |= b->devs[i].present && b->devs[i].removing && b->devs[i].parts;
    if (any)
        for (uint32_t r = 0; r < b->rows; r++)
            for (uint32_t p = 0; p < b->row_len[r]; p++) {
                uint16_t id = b->r2p2d[r][p];
                if (id != RB_NONE_DEV && b->devs[id].removing) {
                    b->r2p2d[r][p] = RB_NONE_DEV;
                    set_moved(rb, p);
                    gather(rb, p, r);
                }
            }
    uint32_t removed = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++)
        if (b->devs[i].present && b->devs[i].removing) {
            memset(&b->devs[i], 0, sizeof(b->devs[i]));
            removed++;
        }
    return removed;
}

struct dev_rep {
    int64_t pw;
    uint32_t dev;
    uint32_t replica;
};

/* Stable sort by parts_wanted (a handful of entries). */
static void sort_dev_reps(struct dev_rep *v, uint32_t n)
{
    for (uint32_t k = 1; k < n; k++) {
        struct dev_rep x = v[k];
        uint32_t j = k;
        while (j > 0 && v[j - 1].pw > x.pw) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/*
 * Counts every replica of part into the plan's tiers (rat) and fills dr with
 * those on devices that want fewer partitions (parts_wanted < 0), most
 * overweight first. Returns how many it filled.
 */
static uint32_t count_overweight_reps(struct plan *p, uint32_t part, struct dev_rep *dr)
{
    const struct rb_builder *b = p->b;
    uint32_t n = 0;
    for (uint32_t r = 0; r < b->rows; r++) {
        if (part >= b->row_len[r] || b->r2p2d[r][part] == RB_NONE_DEV)
            continue;
        const struct rb_dev *d = &b->devs[b->r2p2d[r][part]];
        rat_add(p, d, 1);
        if (d->parts_wanted < 0)
            dr[n++] = (struct dev_rep){d->parts_wanted, d->id, r};
    }
    sort_dev_reps(dr, n);
    return n;
}

static void gather_dispersion(struct rebal *rb, struct dev_rep *dr)
{
    struct rb_builder *b = rb->b;
    struct plan *p = &rb->plan;
    for (uint32_t part = 0; part < b->parts; part++) {
        if (!can_move(rb, part))
            continue;
        count_part(p, part);
        uint32_t n = 0;
        for (uint32_t r = 0; r < b->rows; r++) {
            if (part >= b->row_len[r] || b->r2p2d[r][part] == RB_NONE_DEV)
                continue;
            const struct rb_dev *d = &b->devs[b->r2p2d[r][part]];
            bool over = false;
            for (int lv = 0; lv < LEVELS && !over; lv++)
                over = p->t[d->tier[lv]].rat > p->t[d->tier[lv]].pmax;
            if (over)
                dr[n++] = (struct dev_rep){d->parts_wanted, d->id, r};
        }
        sort_dev_reps(dr, n);
        for (uint32_t k = 0; k < n; k++) {
            struct rb_dev *d = &b->devs[dr[k].dev];
            /* only a device holding two replicas of one part may give up a
             * second replica in the same rebalance */
            if (!can_move(rb, part) && !(p->t[d->tier[LEVELS - 1]].rat > 1))
                continue;
            unassign(rb, part, dr[k].replica);
            rat_add(p, d, -1);
            set_moved(rb, part);
        }
        rat_reset(p);
    }
}

static void gather_balance_can_disperse(struct rebal *rb, uint32_t start,
                                        struct dev_rep *dr)
{
    struct rb_builder *b = rb->b;
    struct plan *p = &rb->plan;
    for (uint32_t i = 0; i < p->nt; i++)
        p->t[i].avail = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        const struct rb_dev *d = &b->devs[i];
        if (!d->present || d->parts_wanted <= 0)
            continue;
        for (int lv = 0; lv < LEVELS; lv++)
            p->t[d->tier[lv]].avail += d->parts_wanted;
    }
    for (uint32_t off = 0; off < b->parts; off++) {
        uint32_t part = (uint32_t)(((uint64_t)start + off) % b->parts);
        if (!can_move(rb, part))
            continue;
        uint32_t n = count_overweight_reps(p, part, dr);
        if (!n) {
            rat_reset(p);
            continue;
        }
        for (uint32_t k = 0; k < n; k++) {
            struct rb_dev *d = &b->devs[dr[k].dev];
            bool stuck = false;
            for (int lv = 0; lv < LEVELS && !stuck; lv++) {
                const struct tier *t = &p->t[d->tier[lv]];
                stuck = t->pmin <= t->rat && t->rat < t->pmax;
            }
            if (stuck)
                continue;       /* the plan keeps it where it is */
            int lv = LEVELS - 1;
            for (; lv > 0; lv--) {
                const struct tier *t = &p->t[d->tier[lv]];
                if (t->rat - 1 < t->pmin)
                    break;
            }
            /* is there wanted room under that tier, off this device's path? */
            const struct tier *t = &p->t[d->tier[lv]];
            int64_t room = 0;
            for (uint32_t c = 0; c < t->nkids; c++) {
                uint32_t kid = t->kids[c];
                if (lv + 1 < LEVELS && kid == d->tier[lv + 1])
                    continue;
                room += p->t[kid].avail;
            }
            if (room <= 0)
                continue;
            unassign(rb, part, dr[k].replica);
            rat_add(p, d, -1);
            for (int l2 = 0; l2 < LEVELS; l2++)
                p->t[d->tier[l2]].avail--;
            set_moved(rb, part);
            break;
        }
        rat_reset(p);
    }
}

static void gather_balance_forced(struct rebal *rb, uint32_t start)
{
    struct rb_builder *b = rb->b;
    for (uint32_t off = 0; off < b->parts; off++) {
        uint32_t part = (uint32_t)(((uint64_t)start + off) % b->parts);
        if (!can_move(rb, part))
            continue;
        int64_t best_pw = 0;
        uint32_t best_r = UINT32_MAX;
        for (uint32_t r = 0; r < b->rows; r++) {
            if (part >= b->row_len[r] || b->r2p2d[r][part] == RB_NONE_DEV)
                continue;
            const struct rb_dev *d = &b->devs[b->r2p2d[r][part]];
            if (d->parts_wanted < 0 &&
                (best_r == UINT32_MAX || d->parts_wanted < best_pw)) {
                best_pw = d->parts_wanted;
                best_r = r;
            }
        }
        if (best_r == UINT32_MAX)
            continue;
        unassign(rb, part, best_r);
        set_moved(rb, part);
    }
}

static void gather_balance(struct rebal *rb, bool disperse_first,
                           struct dev_rep *dr)
{
    struct rb_builder *b = rb->b;
    uint64_t quarter = b->parts / 4;
    uint64_t half = rng_range(&rb->rng, 0, b->parts / 2);
    uint32_t start = (uint32_t)((b->last_part_gather_start + quarter + half) %
                                b->parts);
    b->last_part_gather_start = start;
    if (disperse_first)
        gather_balance_can_disperse(rb, start, dr);
    gather_balance_forced(rb, start);
}

static int cmp_gathered(const void *a, const void *bb)
{
    const struct gathered *x = a, *y = bb;
    if (x->part != y->part)
        return x->part < y->part ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_skey(const uint64_t *a, const uint64_t *bb)
{
    for (int i = 0; i < 3; i++)
        if (a[i] != bb[i])
            return a[i] < bb[i] ? -1 : 1;
    return 0;
}

static const struct plan *g_sort_plan;

static int cmp_u32(const void *a, const void *bb)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)bb;
    return x < y ? -1 : x > y;
}

static int cmp_tier_skey(const void *a, const void *bb)
{
    return cmp_skey(g_sort_plan->t[*(const uint32_t *)a].skey,
                    g_sort_plan->t[*(const uint32_t *)bb].skey);
}

/* Places the gathered replicas, one group per partition, groups shuffled. */
static int reassign(struct rebal *rb, struct err *e)
{
    struct rb_builder *b = rb->b;
    struct plan *p = &rb->plan;
    /* group by partition, first-gathered order inside a group */
    qsort(rb->g, rb->ng, sizeof(*rb->g), cmp_gathered);
    size_t ngroups = 0;
    uint32_t *group = xmalloc((rb->ng + 1) * sizeof(*group));
    for (size_t i = 0; i < rb->ng; i++)
        if (i == 0 || rb->g[i].part != rb->g[i - 1].part)
            group[ngroups++] = (uint32_t)i;
    for (size_t i = ngroups; i > 1; i--) {
        size_t j = rng_range(&rb->rng, 0, i - 1);
        uint32_t tmp = group[i - 1];
        group[i - 1] = group[j];
        group[j] = tmp;
    }

    /* sort keys: (parts_wanted, random, id); a tier's key is the largest
     * of its devices' keys; children are tried in key order */
    for (uint32_t i = 0; i < p->nt; i++) {
        p->t[i].avail = 0;
        memset(p->t[i].skey, 0, sizeof(p->t[i].skey));
    }
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        struct rb_dev *d = &b->devs[i];
        if (!d->present)
            continue;
        d->sort_rand = (uint32_t)rng_range(&rb->rng, 0, 0xffff);
        if (d->parts_wanted > 0)
            for (int lv = 0; lv < LEVELS; lv++)
                p->t[d->tier[lv]].avail += d->parts_wanted;
        if (d->weight == 0)
            continue;
        /* bias by 2^62 so the signed parts_wanted orders as unsigned */
        uint64_t key[3] = {(uint64_t)d->parts_wanted + (1ull << 62),
                           d->sort_rand, d->id};
        for (int lv = 0; lv < LEVELS; lv++) {
            struct tier *t = &p->t[d->tier[lv]];
            if (cmp_skey(key, t->skey) > 0)
                memcpy(t->skey, key, sizeof(key));
        }
    }
    g_sort_plan = p;
    for (uint32_t i = 0; i < p->nt; i++)
        if (p->t[i].nkids > 1)
            qsort(p->t[i].kids, p->t[i].nkids, sizeof(uint32_t), cmp_tier_skey);

    int rc = 0;
    for (size_t gi = 0; gi < ngroups && rc == 0; gi++) {
        size_t first = group[gi];
        uint32_t part = rb->g[first].part;
        b->last_part_moves[part] = 0;
        count_part(p, part);
        for (size_t k = first; k < rb->ng && rb->g[k].part == part; k++) {
            uint32_t replica = rb->g[k].replica;
            uint32_t ti = 0;
            for (int depth = 1; depth <= LEVELS; depth++) {
                const struct tier *t = &p->t[ti];
                uint32_t best = UINT32_MAX;
                for (uint32_t c = 0; c < t->nkids; c++) {
                    const struct tier *kid = &p->t[t->kids[c]];
                    if (kid->rat >= kid->pmax)
                        continue;
                    if (best == UINT32_MAX) {
                        best = t->kids[c];
                        continue;
                    }
                    /* Swift takes the child with the most room; the
                     * spread-first variant takes the one holding the fewest
                     * replicas of this partition, then the most room */
                    const struct tier *bt = &p->t[best];
                    if (rb->spread_first && kid->rat != bt->rat &&
                        kid->avail > 0 && bt->avail > 0) {
                        if (kid->rat < bt->rat)
                            best = t->kids[c];
                    } else if (kid->avail > bt->avail) {
                        best = t->kids[c];
                    }
                }
                if (best == UINT32_MAX) {
                    rc = err_set(e, -EDEADLK, "no home for partition %u "
                                 "replica %u", part, replica);
                    break;
                }
                ti = best;
            }
            if (rc)
                break;
            struct rb_dev *d = &b->devs[p->t[ti].dev_id];
            d->parts_wanted--;
            d->parts++;
            for (int lv = 0; lv < LEVELS; lv++)
                p->t[d->tier[lv]].avail--;
            rat_add(p, d, 1);
            b->r2p2d[replica][part] = (uint16_t)d->id;
        }
        rat_reset(p);
    }
    /* restore creation order of children: other passes rely on it */
    for (uint32_t i = 0; i < p->nt; i++)
        if (p->t[i].nkids > 1)
            qsort(p->t[i].kids, p->t[i].nkids, sizeof(uint32_t), cmp_u32);
    free(group);
    rb->ng = 0;
    return rc;
}

/* ------------------------------------------------------------ direct */

/*
 * Depth-first from tier ti for a device that wants parts (parts_wanted > 0)
 * and can take one more replica of the current partition without any tier
 * on its path exceeding its plan max. Children are tried most-wanting
 * first. Returns the device tier or UINT32_MAX.
 */
static uint32_t find_dest(struct plan *p, uint32_t ti)
{
    const struct tier *t = &p->t[ti];
    if (t->level == LEVELS)
        return ti;
    uint64_t tried_mask = 0;   /* small fan-outs: remember up to 64 tries */
    for (uint32_t attempt = 0; attempt < t->nkids; attempt++) {
        uint32_t best = UINT32_MAX, best_k = 0;
        for (uint32_t k = 0; k < t->nkids; k++) {
            if (k < 64 && (tried_mask >> k & 1))
                continue;
            const struct tier *c = &p->t[t->kids[k]];
            if (c->avail <= 0 || c->rat >= c->pmax)
                continue;
            if (best == UINT32_MAX || c->avail > p->t[best].avail) {
                best = t->kids[k];
                best_k = k;
            }
        }
        if (best == UINT32_MAX)
            return UINT32_MAX;
        uint32_t found = find_dest(p, best);
        if (found != UINT32_MAX)
            return found;
        if (best_k >= 64)
            return UINT32_MAX;  /* give up rather than loop on wide tiers */
        tried_mask |= 1ull << best_k;
    }
    return UINT32_MAX;
}

/*
 * The balance pass: a replica on a device holding more than it wants moves
 * straight to a device that wants more, when the plan allows it for that
 * partition. Every move lowers one surplus and one deficit, so this pass
 * moves no more part-replicas than the imbalance it removes; at most one
 * replica per partition, and never a partition within min_part_hours.
 */
static uint64_t balance_direct(struct rebal *rb, struct dev_rep *dr)
{
    struct rb_builder *b = rb->b;
    struct plan *p = &rb->plan;
    int64_t surplus = 0;
    for (uint32_t i = 0; i < p->nt; i++)
        p->t[i].avail = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        const struct rb_dev *d = &b->devs[i];
        if (!d->present)
            continue;
        if (d->parts_wanted < 0) {
            surplus -= d->parts_wanted;
        } else if (d->weight > 0) {
            p->t[0].avail += d->parts_wanted;
            for (int lv = 0; lv < LEVELS; lv++)
                p->t[d->tier[lv]].avail += d->parts_wanted;
        }
    }
    uint64_t moves = 0;
    if (!surplus || !p->t[0].avail)
        return 0;
    uint64_t quarter = b->parts / 4;
    uint64_t half = rng_range(&rb->rng, 0, b->parts / 2);
    uint32_t start = (uint32_t)((b->last_part_gather_start + quarter + half) %
                                b->parts);
    b->last_part_gather_start = start;
    for (uint32_t off = 0; off < b->parts && surplus > 0 && p->t[0].avail > 0;
         off++) {
        uint32_t part = (uint32_t)(((uint64_t)start + off) % b->parts);
        if (!can_move(rb, part))
            continue;
        uint32_t n = count_overweight_reps(p, part, dr);
        for (uint32_t k = 0; k < n; k++) {
            struct rb_dev *from = &b->devs[dr[k].dev];
            rat_add(p, from, -1);
            uint32_t ti = find_dest(p, 0);
            if (ti == UINT32_MAX) {
                rat_add(p, from, 1);
                continue;
            }
            struct rb_dev *to = &b->devs[p->t[ti].dev_id];
            from->parts--;
            from->parts_wanted++;
            to->parts++;
            to->parts_wanted--;
            p->t[0].avail--;
            for (int lv = 0; lv < LEVELS; lv++)
                p->t[to->tier[lv]].avail--;
            rat_add(p, to, 1);
            b->r2p2d[dr[k].replica][part] = (uint16_t)to->id;
            set_moved(rb, part);
            surplus--;
            moves++;
            break;
        }
        rat_reset(p);
    }
    return moves;
}

/* ------------------------------------------------------------ dispersion */

/*
 * Walks every partition once: counts replicas per tier against the
 * dispersion bound (ceil), the part-replicas over it at the worst tier of
 * each partition, and optionally the per-tier histogram and the slots that
 * differ from an old table.
 */
struct disp_out {
    double dispersion;
    uint64_t changed;
    uint64_t *hist;           /* nt x ncounts, or NULL */
    uint32_t ncounts;
};

struct old_table {
    uint32_t rows;
    uint32_t *row_len;
    uint16_t **r2p2d;
};

static void dispersion_walk(struct plan *p, const struct old_table *old,
                            struct disp_out *out)
{
    struct rb_builder *b = p->b;
    uint64_t at_risk = 0, changed = 0;
    for (uint32_t part = 0; part < b->parts; part++) {
        count_part(p, part);
        int64_t depth_risk[LEVELS + 1] = {0};
        for (uint32_t i = 0; i < p->ntouched; i++) {
            const struct tier *t = &p->t[p->touched[i]];
            if (t->rat > t->maxc)
                depth_risk[t->level] += t->rat - (int64_t)t->maxc;
            if (out->hist) {
                uint32_t c = (uint32_t)t->rat;
                if (c >= out->ncounts)
                    c = out->ncounts - 1;
                out->hist[(size_t)p->touched[i] * out->ncounts + c]++;
            }
        }
        int64_t worst = 0;
        for (int lv = 0; lv <= LEVELS; lv++)
            if (depth_risk[lv] > worst)
                worst = depth_risk[lv];
        at_risk += (uint64_t)worst;
        rat_reset(p);
        if (old) {
            for (uint32_t r = 0; r < b->rows; r++) {
                if (part >= b->row_len[r])
                    continue;
                if (r >= old->rows || part >= old->row_len[r] ||
                    old->r2p2d[r][part] != b->r2p2d[r][part])
                    changed++;
            }
        }
    }
    if (out->hist) {
        /* column 0: partitions with no replica in the tier */
        for (uint32_t i = 0; i < p->nt; i++) {
            uint64_t *h = &out->hist[(size_t)i * out->ncounts];
            uint64_t sum = 0;
            for (uint32_t c = 1; c < out->ncounts; c++)
                sum += h[c];
            h[0] = b->parts - sum;
        }
    }
    out->dispersion = 100.0 * (double)at_risk / ((double)b->parts * b->replicas);
    out->changed = changed;
}

void rb_update_dispersion(struct rb_builder *b)
{
    if (!b->r2p2d) {
        b->dispersion = 0;
        return;
    }
    struct plan p;
    plan_build_tree(&p, b);
    plan_max(&p);
    struct disp_out out = {0};
    dispersion_walk(&p, NULL, &out);
    b->dispersion = out.dispersion;
    plan_release(&p);
}

int rb_required_overload(const struct rb_builder *cb, double *out,
                         struct err *e)
{
    struct rb_builder *b = (struct rb_builder *)cb;  /* tiers are scratch */
    struct plan p;
    plan_build_tree(&p, b);
    plan_max(&p);
    int rc = plan_weighted(&p, e);
    if (rc == 0)
        rc = place_replicas(&p, 0, b->replicas, e);
    if (rc == 0)
        *out = required_overload(&p);
    plan_release(&p);
    return rc;
}

static void tier_name(const struct plan *p, const struct tier *t, char *out,
                      size_t outsz)
{
    const struct rb_dev *d = &p->b->devs[t->dev_id];
    switch (t->level) {
    case 1:
        snprintf(out, outsz, "r%u", t->region);
        break;
    case 2:
        snprintf(out, outsz, "r%uz%u", t->region, t->zone);
        break;
    case 3:
        snprintf(out, outsz, "r%uz%u-%s", t->region, t->zone, t->ip);
        break;
    default:
        snprintf(out, outsz, "r%uz%u-%s/%s", t->region, t->zone, t->ip,
                 d->device);
        break;
    }
}

int rb_dispersion_report(const struct rb_builder *cb,
                         struct rb_disp_report *rep, struct err *e)
{
    struct rb_builder *b = (struct rb_builder *)cb;
    memset(rep, 0, sizeof(*rep));
    if (!b->r2p2d)
        return err_set(e, -EINVAL, "not rebalanced");
    struct plan p;
    plan_build_tree(&p, b);
    plan_max(&p);
    struct disp_out out = {0};
    out.ncounts = (uint32_t)ceil(b->replicas) + 1;
    out.hist = xcalloc((size_t)p.nt * out.ncounts, sizeof(uint64_t));
    dispersion_walk(&p, NULL, &out);
    rep->ncounts = out.ncounts;
    rep->rows = xcalloc(p.nt, sizeof(*rep->rows));
    for (uint32_t i = 1; i < p.nt; i++) {
        const uint64_t *h = &out.hist[(size_t)i * out.ncounts];
        if (h[0] == b->parts)
            continue;           /* a tier without replicas is not listed */
        struct rb_disp_row *row = &rep->rows[rep->n++];
        tier_name(&p, &p.t[i], row->name, sizeof(row->name));
        row->max_replicas = (uint32_t)p.t[i].maxc;
        row->replicas = xcalloc(out.ncounts, sizeof(uint64_t));
        memcpy(row->replicas, h, out.ncounts * sizeof(uint64_t));
        uint64_t risk = 0, placed = 0;
        for (uint32_t c = 1; c < out.ncounts; c++) {
            placed += h[c] * c;
            if (c > row->max_replicas)
                risk += h[c] * (c - row->max_replicas);
        }
        row->placed_parts = placed;
        row->dispersion = placed ? 100.0 * (double)risk / (double)placed : 0;
    }
    free(out.hist);
    plan_release(&p);
    return 0;
}

void rb_disp_report_release(struct rb_disp_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->rows[i].replicas);
    free(r->rows);
    memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ driver */

static void copy_table(const struct rb_builder *b, struct old_table *o)
{
    memset(o, 0, sizeof(*o));
    if (!b->r2p2d)
        return;
    o->rows = b->rows;
    o->row_len = xmalloc(b->rows * sizeof(*o->row_len));
    o->r2p2d = xmalloc(b->rows * sizeof(*o->r2p2d));
    for (uint32_t r = 0; r < b->rows; r++) {
        o->row_len[r] = b->row_len[r];
        o->r2p2d[r] = xmalloc((size_t)b->row_len[r] * sizeof(uint16_t) + 1);
        memcpy(o->r2p2d[r], b->r2p2d[r], (size_t)b->row_len[r] * 2);
    }
}

static void free_table(struct old_table *o)
{
    for (uint32_t r = 0; r < o->rows; r++)
        free(o->r2p2d[r]);
    free(o->r2p2d);
    free(o->row_len);
}

/* One rebalance attempt on b with one seed. */
static int rebalance_once(struct rb_builder *b, uint64_t seed,
                          bool spread_first, struct rb_rebalance_result *res,
                          struct err *e)
{
    struct rebal rb = {0};
    rb.b = b;
    rb.rng.s = seed;
    rb.spread_first = spread_first;
    struct old_table old;
    copy_table(b, &old);
    rb.moved = xcalloc(b->parts / 8 + 1, 1);
    struct dev_rep *dr = NULL;

    plan_build_tree(&rb.plan, b);
    int rc = plan_compute(&rb.plan, e);
    if (rc)
        goto out;
    /* rows first: a dropped row takes parts off devices, and what each
     * device wants is counted against what it then holds */
    adjust_rows(&rb);
    set_parts_wanted(&rb.plan);
    dr = xcalloc((size_t)b->rows + 1, sizeof(*dr));
    free(rb.plan.touched);
    rb.plan.touched = xcalloc((size_t)(b->rows + 1) * LEVELS,
                              sizeof(*rb.plan.touched));
    /* what must move: new rows, removed devices, replicas beyond a tier's
     * max; then the balance pass; then, for a surplus the balance pass
     * could not place, Swift's gather-and-place rounds */
    res->removed_devs = gather_removed(&rb);
    gather_dispersion(&rb, dr);
    if (rb.ng)
        rc = reassign(&rb, e);
    if (rc == 0)
        balance_direct(&rb, dr);
    for (int round = 0; round < 3 && rc == 0; round++) {
        bool over = false;
        for (uint32_t i = 0; i < b->dev_cap && !over; i++)
            over = b->devs[i].present && b->devs[i].parts_wanted < 0;
        if (!over)
            break;
        gather_balance(&rb, round == 0, dr);
        if (!rb.ng)
            break;
        rc = reassign(&rb, e);
    }
    if (rc)
        goto out;
    b->devs_changed = false;

    /* dispersion against the tree as it is now (removed devices gone) */
    plan_release(&rb.plan);
    plan_build_tree(&rb.plan, b);
    plan_max(&rb.plan);
    struct disp_out dout = {0};
    dispersion_walk(&rb.plan, &old, &dout);
    b->dispersion = dout.dispersion;
    b->version++;
    res->changed_parts = dout.changed;
    rb_balance(b, &res->balance);
out:
    free(dr);
    plan_release(&rb.plan);
    free(rb.moved);
    free(rb.g);
    free_table(&old);
    return rc;
}

static struct rb_builder *clone_builder(const struct rb_builder *b)
{
    struct rb_builder *c = xmalloc(sizeof(*c));
    *c = *b;
    c->devs = xmalloc(((size_t)b->dev_cap + 1) * sizeof(*c->devs));
    memcpy(c->devs, b->devs, (size_t)b->dev_cap * sizeof(*c->devs));
    if (b->r2p2d) {
        c->r2p2d = xmalloc(((size_t)b->rows + 1) * sizeof(*c->r2p2d));
        c->row_len = xmalloc(((size_t)b->rows + 1) * sizeof(*c->row_len));
        for (uint32_t r = 0; r < b->rows; r++) {
            c->row_len[r] = b->row_len[r];
            c->r2p2d[r] = xmalloc((size_t)b->row_len[r] * 2 + 2);
            memcpy(c->r2p2d[r], b->r2p2d[r], (size_t)b->row_len[r] * 2);
        }
    }
    if (b->last_part_moves) {
        c->last_part_moves = xmalloc(b->parts);
        memcpy(c->last_part_moves, b->last_part_moves, b->parts);
    }
    return c;
}

/*
 * a is better than c: lower dispersion + balance (both percentages, as
 * printed: replicas at risk, worst device's surplus), then fewer moved
 * part-replicas. Summing lets a trial that trades a little of one for much
 * of the other win, whichever way the trade goes.
 */
static bool better(const struct rb_rebalance_result *a, double adisp,
                   const struct rb_rebalance_result *c, double cdisp)
{
    double as = round((adisp + a->balance) * 100);
    double cs = round((cdisp + c->balance) * 100);
    if (as != cs)
        return as < cs;
    return a->changed_parts < c->changed_parts;
}

int rb_rebalance(struct rb_builder *b, uint64_t seed,
                 struct rb_rebalance_result *res, struct err *e)
{
    memset(res, 0, sizeof(*res));
    uint32_t weighted = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++)
        weighted += b->devs[i].present && b->devs[i].weight > 0;
    if (weighted < b->replicas) {
        char r[40];
        rb_py_float(b->replicas, r, sizeof(r));
        return err_set(e, -EINVAL, "Replica count of %s requires more than "
                       "%u devices", r, weighted);
    }
    update_last_part_moves(b);
    /* The outcome depends on tie-breaks and on how placement weighs room
     * against spread; when a ring is small enough that it costs little, try
     * a few seeds derived from the given one, alternating the two placement
     * variants, and keep the best result. A first placement has nothing to
     * choose from. */
    uint64_t slots = (uint64_t)b->parts * (uint64_t)ceil(b->replicas);
    uint32_t tries = 1;
    if (b->r2p2d) {
        uint64_t t = (1ull << 20) / (slots ? slots : 1);
        tries = t > 8 ? 8 : t < 1 ? 1 : (uint32_t)t;
    }
    struct rb_builder *best = NULL;
    struct rb_rebalance_result best_res = {0};
    int rc = 0;
    struct rng g = {seed};
    for (uint32_t k = 0; k < tries; k++) {
        uint64_t s = k == 0 ? seed : rng_next(&g);
        struct rb_builder *c = clone_builder(b);
        struct rb_rebalance_result r;
        memset(&r, 0, sizeof(r));
        rc = rebalance_once(c, s, k % 2 == 1, &r, e);
        if (rc) {
            rb_free(c);
            break;
        }
        if (!best || better(&r, c->dispersion, &best_res, best->dispersion)) {
            rb_free(best);
            best = c;
            best_res = r;
        } else {
            rb_free(c);
        }
    }
    if (rc) {
        rb_free(best);
        return rc;
    }
    /* take over best's contents */
    rb_release(b);
    *b = *best;
    free(best);
    *res = best_res;
    return 0;
}

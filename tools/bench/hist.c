/*
 * hist.c - log-linear latency histogram (see hist.h).
 *
 * Index layout: v < 2*HALF maps to itself. Otherwise let e = msb(v) -
 * HALF_BITS (>= 1); v >> e lies in [HALF, 2*HALF), and the index is
 * HALF*e + (v >> e). Each octave thus gets HALF buckets of width 2^e and the
 * indexes of consecutive octaves are contiguous.
 */
#include "tools/bench/hist.h"

#include <string.h>

void hist_reset(struct hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned hist_index(uint64_t v)
{
    if (v < 2 * HIST_HALF)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned e = msb - HIST_HALF_BITS;
    return HIST_HALF * e + (unsigned)(v >> e);
}

static unsigned bucket_shift(unsigned idx)
{
    return idx < 2 * HIST_HALF ? 0 : idx / HIST_HALF - 1;
}

uint64_t hist_bucket_low(unsigned idx)
{
    unsigned e = bucket_shift(idx);
    return e == 0 ? idx : (uint64_t)(idx - HIST_HALF * e) << e;
}

uint64_t hist_bucket_width(unsigned idx)
{
    return (uint64_t)1 << bucket_shift(idx);
}

void hist_record(struct hist *h, uint64_t v)
{
    h->b[hist_index(v)]++;
    h->count++;
    h->sum += (double)v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
    if (src->count == 0)
        return;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        dst->b[i] += src->b[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    double r = q * (double)h->count;
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r)
        rank++;
    if (rank == 0)
        rank = 1;
    if (rank >= h->count)
        return h->max;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = hist_bucket_low(i) + hist_bucket_width(i) / 2;
            if (v < h->min)
                v = h->min;
            if (v > h->max)
                v = h->max;
            return v;
        }
    }
    return h->max;
}

double hist_mean(const struct hist *h)
{
    return h->count ? h->sum / (double)h->count : 0;
}

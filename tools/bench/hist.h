/*
 * hist.h - a latency histogram with bounded memory and bounded error.
 *
 * HDR-style log-linear buckets over the whole uint64_t range (nanoseconds):
 * values below 2*HIST_HALF are counted exactly; above, each power-of-two
 * octave is split into HIST_HALF equal sub-buckets, so a reported quantile is
 * within 1/HIST_HALF (1.6 %) of the true value. The struct is a fixed ~30 KiB
 * whatever the number of samples, which is what lets cairn-bench keep one per
 * operation plus one per second of the timeline without growing.
 *
 * A histogram is a plain value: embed it, hist_reset() it, copy it. Not
 * thread-safe; each owner records into its own.
 */
#ifndef CAIRN_BENCH_HIST_H
#define CAIRN_BENCH_HIST_H

#include <stdint.h>

#define HIST_HALF_BITS 6
#define HIST_HALF (1u << HIST_HALF_BITS)
/* Index of the largest uint64_t plus one: octaves 1..(63 - HALF_BITS). */
#define HIST_BUCKETS ((64 - HIST_HALF_BITS - 1) * HIST_HALF + 2 * HIST_HALF)

struct hist {
    uint64_t count;
    uint64_t min; /* exact; UINT64_MAX when empty */
    uint64_t max; /* exact; 0 when empty */
    double sum;   /* for the mean */
    uint64_t b[HIST_BUCKETS];
};

/* Empties h. */
void hist_reset(struct hist *h);
/* Counts one sample of value v. */
void hist_record(struct hist *h, uint64_t v);
/* Adds every sample of src into dst. */
void hist_merge(struct hist *dst, const struct hist *src);
/*
 * The value at quantile q (0 <= q <= 1): the smallest bucket whose cumulative
 * count reaches ceil(q * count), reported as that bucket's midpoint clamped
 * into [min, max]; a rank that is the last sample gives the exact max.
 * 0 when h is empty.
 */
uint64_t hist_quantile(const struct hist *h, double q);
/* Mean of the samples; 0 when empty. */
double hist_mean(const struct hist *h);

/* Bucket arithmetic, exposed for tests: index of v, lowest value of index. */
unsigned hist_index(uint64_t v);
uint64_t hist_bucket_low(unsigned idx);
uint64_t hist_bucket_width(unsigned idx);

#endif

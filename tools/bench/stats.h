/*
 * stats.h - what one phase of a cairn-bench run measured.
 *
 * A phase (prepopulate, measure, cleanup) owns a struct phase_stats: per
 * operation, the successes, failures (by HTTP status, by curl error, by body
 * mismatch), body bytes and a latency histogram of the successful requests;
 * and a timeline with one entry per second of the phase (count, errors,
 * bytes, p50/p99/max of the requests that completed in that second).
 * Memory is fixed except the timeline, which grows by one small entry per
 * second of run time.
 *
 * Completions must be recorded in time order (the engine's one thread does).
 * Not thread-safe.
 */
#ifndef CAIRN_BENCH_STATS_H
#define CAIRN_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/bench/hist.h"
#include "tools/bench/opts.h"

#define STATS_MAX_STATUS 600
#define STATS_MAX_CURL 128

struct op_stats {
    uint64_t ok;
    uint64_t errors;                      /* sum of the three kinds below */
    uint64_t bytes;                       /* body bytes of successful requests */
    uint64_t mismatch;                    /* 2xx but wrong body length/MD5/ETag */
    uint64_t err_status[STATS_MAX_STATUS]; /* answered with a non-success status */
    uint64_t err_curl[STATS_MAX_CURL];    /* no usable answer: CURLcode */
    struct hist lat;                      /* successful requests, ns */
};

struct tick {
    uint64_t ops, errors, bytes;
    uint64_t p50, p99, max;  /* ns, successful requests of this second */
};

struct phase_stats {
    const char *name;
    struct op_stats op[BENCH_NOPS];
    uint64_t elapsed_ns;
    double cpu_user, cpu_sys;   /* this process, seconds, over the phase */
    double load_start, load_end; /* 1-minute load average of the machine */
    uint64_t retried;           /* cleanup: failed DELETEs sent again
                                 * (not counted as errors unless the last
                                 * try fails too) */
    bool interrupted;           /* stopped by a signal */
    bool exhausted;             /* stopped early: no object left to act on */
    struct tick *ticks;
    size_t nticks, cap;
    /* The second being filled. */
    uint64_t cur_sec;
    struct tick cur;
    struct hist sec;
};

/* Allocates an empty phase named `name` (a static string). */
struct phase_stats *stats_new(const char *name);
void stats_free(struct phase_stats *ps);

/* A successful request that ended t_ns after the phase started. */
void stats_ok(struct phase_stats *ps, enum bench_op op, uint64_t t_ns, uint64_t lat_ns,
              uint64_t bytes);
/*
 * A failed one: status > 0 is an HTTP answer that is not a success; status 0
 * with curlcode != 0 is a transport error; mismatch marks a 2xx answer whose
 * body was wrong.
 */
void stats_fail(struct phase_stats *ps, enum bench_op op, uint64_t t_ns, long status,
                int curlcode, bool mismatch);
/* Closes the timeline at the phase's end (elapsed_ns must be set). */
void stats_finish(struct phase_stats *ps);

/* Sum of all operations into *out (which is overwritten). */
void stats_total(const struct phase_stats *ps, struct op_stats *out);
/* Successful + failed requests of one op / of all ops. */
uint64_t stats_done(const struct op_stats *s);

#endif

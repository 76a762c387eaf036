/*
 * stats.c - per-phase counters and the per-second timeline (see stats.h).
 */
#include "tools/bench/stats.h"

#include <string.h>

#include "common/xalloc.h"

struct phase_stats *stats_new(const char *name)
{
    struct phase_stats *ps = xcalloc(1, sizeof(*ps));
    ps->name = name;
    for (int i = 0; i < BENCH_NOPS; i++)
        hist_reset(&ps->op[i].lat);
    hist_reset(&ps->sec);
    return ps;
}

void stats_free(struct phase_stats *ps)
{
    if (!ps)
        return;
    free(ps->ticks);
    free(ps);
}

static void push_tick(struct phase_stats *ps)
{
    if (ps->nticks == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 64;
        ps->ticks = xrealloc(ps->ticks, ps->cap * sizeof(*ps->ticks));
    }
    struct tick *t = &ps->cur;
    t->p50 = hist_quantile(&ps->sec, 0.50);
    t->p99 = hist_quantile(&ps->sec, 0.99);
    t->max = ps->sec.max;
    ps->ticks[ps->nticks++] = *t;
    memset(&ps->cur, 0, sizeof(ps->cur));
    hist_reset(&ps->sec);
}

/* Closes every second before the one t_ns falls in. */
static void advance(struct phase_stats *ps, uint64_t t_ns)
{
    uint64_t sec = t_ns / 1000000000ull;
    while (ps->cur_sec < sec) {
        push_tick(ps);
        ps->cur_sec++;
    }
}

void stats_ok(struct phase_stats *ps, enum bench_op op, uint64_t t_ns, uint64_t lat_ns,
              uint64_t bytes)
{
    struct op_stats *s = &ps->op[op];
    advance(ps, t_ns);
    s->ok++;
    s->bytes += bytes;
    hist_record(&s->lat, lat_ns);
    ps->cur.ops++;
    ps->cur.bytes += bytes;
    hist_record(&ps->sec, lat_ns);
}

void stats_fail(struct phase_stats *ps, enum bench_op op, uint64_t t_ns, long status,
                int curlcode, bool mismatch)
{
    struct op_stats *s = &ps->op[op];
    advance(ps, t_ns);
    s->errors++;
    if (mismatch)
        s->mismatch++;
    else if (status > 0)
        s->err_status[status < STATS_MAX_STATUS ? status : 0]++;
    else
        s->err_curl[curlcode > 0 && curlcode < STATS_MAX_CURL ? curlcode : 0]++;
    ps->cur.ops++;
    ps->cur.errors++;
}

void stats_finish(struct phase_stats *ps)
{
    /* The last, partial second is kept only if something happened in it. */
    advance(ps, ps->elapsed_ns);
    if (ps->cur.ops)
        push_tick(ps);
}

void stats_total(const struct phase_stats *ps, struct op_stats *out)
{
    memset(out, 0, sizeof(*out));
    hist_reset(&out->lat);
    for (int i = 0; i < BENCH_NOPS; i++) {
        const struct op_stats *s = &ps->op[i];
        out->ok += s->ok;
        out->errors += s->errors;
        out->bytes += s->bytes;
        out->mismatch += s->mismatch;
        for (int k = 0; k < STATS_MAX_STATUS; k++)
            out->err_status[k] += s->err_status[k];
        for (int k = 0; k < STATS_MAX_CURL; k++)
            out->err_curl[k] += s->err_curl[k];
        hist_merge(&out->lat, &s->lat);
    }
}

uint64_t stats_done(const struct op_stats *s)
{
    return s->ok + s->errors;
}

/*
 * run.h - cairn-bench's engine: many Swift requests in flight on one thread.
 *
 * A struct run owns one curl multi handle with `concurrency` easy handles
 * ("slots"), each reused request after request so its keep-alive connection
 * is reused too, and the table of every object the run created. A phase
 * keeps every slot busy until its stop condition (count, duration, no work
 * left, or a signal) and records each completion into a struct phase_stats.
 *
 * Object bodies are generated while curl asks for them (a read callback
 * copying from a 1 MiB random pattern at an object-specific offset), and GET
 * bodies are counted and dropped in the write callback, so memory does not
 * depend on object sizes. The object table costs ~48 bytes per object.
 *
 * Threading: everything runs on the caller's thread; only run_signal() may be
 * called from a signal handler.
 */
#ifndef CAIRN_BENCH_RUN_H
#define CAIRN_BENCH_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "tools/bench/opts.h"
#include "tools/bench/stats.h"

struct run;

enum run_phase {
    RUN_PREPOP,  /* PUT o->prepop_count objects or for o->prepop_ns */
    RUN_MEASURE, /* o->mix for o->count ops or o->duration_ns */
    RUN_CLEANUP, /* DELETE every object the run created and did not delete */
};

/*
 * A run against storage_url with token (both copied). o must outlive the
 * run. Never NULL (aborts on OOM or if curl cannot initialise).
 */
struct run *run_new(const struct bench_opts *o, const char *storage_url, const char *token);
void run_free(struct run *r);

/* The run's object name prefix ("cb" + 8 hex digits), unique per run. */
const char *run_tag(const struct run *r);

/*
 * PUTs every container (<prefix>-0 .. -N-1). 201 means this run created it
 * (and cleanup will delete it), 202 that it existed. Returns 0, or -EIO with
 * the first failure in e.
 */
int run_create_containers(struct run *r, struct err *e);
/*
 * DELETEs the containers this run created. Returns the number that could not
 * be deleted (each reported on stderr).
 */
unsigned run_delete_containers(struct run *r);
/* Containers this run created that still exist (as far as it knows). */
unsigned run_containers_created(const struct run *r);

/*
 * Runs one phase to its end and fills ps (elapsed time, CPU, timeline, per-op
 * results). show_progress draws a progress line on stderr. A signal (see
 * run_signal) arriving during the phase stops it: requests in flight are
 * abandoned and not counted, and ps->interrupted is set.
 */
void run_phase(struct run *r, enum run_phase kind, struct phase_stats *ps, bool show_progress);

/* Async-signal-safe handler for SIGINT/SIGTERM: stops the current phase. */
void run_signal(int sig);

/* Objects that may exist: created by this run and not known to be deleted
 * (including those whose PUT or DELETE failed). O(objects). */
uint64_t run_live_objects(const struct run *r);

#endif

/*
 * report.h - cairn-bench's outputs: the table on stdout, the JSON file, the
 * SVG drawing.
 *
 * All three read a finished struct report (nothing here measures). Figures:
 * "ok/s" counts successful requests per second of the phase; MB/s is 10^6
 * bytes of object bodies (PUT sent, GET received) per second; latencies are
 * whole requests (start to last byte) of successful requests, in ms.
 * Not thread-safe (one caller).
 */
#ifndef CAIRN_BENCH_REPORT_H
#define CAIRN_BENCH_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "tools/bench/opts.h"
#include "tools/bench/stats.h"

struct report {
    const struct bench_opts *o;
    const char *storage_url;
    const char *tag;
    char started[32];             /* UTC, ISO 8601 */
    struct phase_stats *prepop;   /* each NULL when the phase did not run */
    struct phase_stats *measure;
    struct phase_stats *cleanup;
    uint64_t objects_left;        /* may still exist after the run */
    unsigned containers_left;     /* created by the run and not deleted */
    uint64_t errors, ops;         /* over every phase, for --max-errors */
    int exit_code;
};

/* Fills errors, ops and exit_code from the phases and --max-errors. */
void report_judge(struct report *rep);
/* The human-readable table. */
void report_table(FILE *f, const struct report *rep);
/* Writes the JSON (format described in tools/bench/README.md). Returns 0 or
 * a negative errno with the reason in e. */
int report_json(const char *path, const struct report *rep, struct err *e);
/* Writes the self-contained SVG. Returns 0 or a negative errno (e filled). */
int report_svg(const char *path, const struct report *rep, struct err *e);

#endif

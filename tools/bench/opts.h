/*
 * opts.h - cairn-bench's command line: what to run and how to report it.
 *
 * opts_parse() turns argv into a struct bench_opts, checking every value and
 * every combination up front, so the rest of the tool never sees a bad one.
 * The parsers of the value syntaxes (sizes, durations, mixes, size
 * distributions) are exposed for the unit test.
 *
 * Strings in struct bench_opts point into argv or the environment; they live
 * as long as the process. Not thread-safe (getopt).
 */
#ifndef CAIRN_BENCH_OPTS_H
#define CAIRN_BENCH_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

enum bench_op { BENCH_PUT, BENCH_GET, BENCH_HEAD, BENCH_DELETE, BENCH_NOPS };

/* "put", "get", ... (lower case) and "PUT", "GET", ... */
const char *bench_op_name(enum bench_op op);
const char *bench_op_method(enum bench_op op);

#define OPTS_MAX_SIZES 16
#define OPTS_MAX_HEADERS 16

/* One entry of a size distribution: uniform in [lo, hi], chosen by weight. */
struct size_entry {
    uint64_t lo, hi;
    uint64_t weight;
};

struct size_dist {
    struct size_entry e[OPTS_MAX_SIZES];
    unsigned n;
    uint64_t total_weight;
    uint64_t max; /* largest size any entry can produce */
};

struct bench_opts {
    /* Where: auth v1.0 triple, or a storage URL and token given directly. */
    const char *auth_url, *user, *key;
    const char *storage_url, *token;
    bool insecure;

    /* What. */
    uint64_t mix[BENCH_NOPS]; /* weights; at least one is non-zero */
    uint64_t mix_total;
    char mix_text[128];       /* normalised, "put=20,get=80" */
    struct size_dist size;
    const char *size_text;
    unsigned concurrency;
    uint64_t duration_ns;     /* exactly one of duration_ns and count is set */
    uint64_t count;
    unsigned containers;
    const char *container_prefix;
    uint64_t prepop_count;    /* at most one of the two prepop fields is set */
    uint64_t prepop_ns;
    bool verify;
    bool cleanup;
    uint64_t timeout_ns;      /* per request; 0 = none */
    uint64_t seed;            /* 0 = from the clock */
    const char *get_headers[OPTS_MAX_HEADERS]; /* "Name: value", GET only */
    unsigned nget_headers;

    /* Reporting. */
    const char *json_path, *svg_path, *label;
    const char *phase_cmd;    /* --phase-cmd: run around each phase, or NULL */
    bool quiet;
    uint64_t max_errors;      /* absolute, or per ten-thousand when pct */
    bool max_errors_pct;
};

/* Result of opts_parse besides an error. */
enum opts_result { OPTS_RUN = 0, OPTS_HELP = 1, OPTS_VERSION = 2 };

/*
 * Fills o from argv (and ST_AUTH / ST_USER / ST_KEY / OS_STORAGE_URL /
 * OS_AUTH_TOKEN from the environment, as the swift CLI does). Returns an
 * enum opts_result, or -EINVAL with a one-line reason in e.
 */
int opts_parse(struct bench_opts *o, int argc, char **argv, struct err *e);

/* Writes the --help text to stdout. */
void opts_usage(void);

/* "4k", "64MiB", "100": binary units k/m/g/t with optional "iB"/"B". */
int opts_parse_size(const char *s, uint64_t *out);
/* "30s", "500ms", "2m", "1h", "1.5s"; a bare number is seconds. */
int opts_parse_duration(const char *s, uint64_t *ns);
/* "put=20,get=80" or "get" or "put,get"; fills o->mix, mix_total, mix_text. */
int opts_parse_mix(struct bench_opts *o, const char *s, struct err *e);
/* "4k", "1m-4m", "4k:70,1m-4m:30". */
int opts_parse_size_dist(struct size_dist *d, const char *s, struct err *e);

#endif

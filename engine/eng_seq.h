/*
 * eng_seq.h - Sequence storlets: a chain of storlets, each one's output the
 * next one's input (docs/compound-storlets.md section 1).
 *
 * This module is the pure part of a Sequence: the chain as a value (struct
 * eng_seq), read from a request's headers (X-Run-Storlet: a,b,c and the
 * stage-scoped X-Storlet-Stage-<k>-Parameter-<N> headers) or from JSON (the
 * form rules, Distributed requests and the proxy -> object node hand-off
 * use), and the placement planner that splits a chain between the object
 * node and the proxy. It runs nothing; the daemons do.
 *
 * Invariants of a struct eng_seq: 0 <= n <= ENG_SEQ_MAX; each stage has a
 * valid storlet name (1..ENG_SEQ_NAME_MAX bytes of UTF-8, no '/', no ',',
 * no control character, no surrounding space, not "." or "..") and a
 * parameters object of strings that passes eng_seq_param_check.
 *
 * Threading: no globals; a struct eng_seq belongs to one thread at a time.
 */
#ifndef CAIRN_ENG_SEQ_H
#define CAIRN_ENG_SEQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct http_head;

/* Stages in one chain after composition with mandatory rules. */
#define ENG_SEQ_MAX 16
/* Stages a client may name in X-Run-Storlet or a JSON chain. */
#define ENG_SEQ_CLIENT_MAX 8
/* Bytes of a storlet name (Swift's default object name limit). */
#define ENG_SEQ_NAME_MAX 1024
/* Parameter limits, the same as eng_params (docs/storlets.md section 2). */
#define ENG_SEQ_PARAM_NAME_MAX 128
#define ENG_SEQ_PARAM_VALUE_MAX 1024
#define ENG_SEQ_PARAMS_MAX 64

struct eng_seq_stage {
    char *storlet;       /* owned */
    json_t *params;      /* owned reference: object of strings, never NULL */
};

struct eng_seq {
    unsigned n;
    struct eng_seq_stage st[ENG_SEQ_MAX];
};

/* An empty chain. eng_seq_release frees the stages (and leaves it empty). */
void eng_seq_init(struct eng_seq *s);
void eng_seq_release(struct eng_seq *s);

/*
 * Appends a stage: the name is copied, params (a JSON object, or NULL for
 * none) is copied deeply. Returns 0, -EINVAL for a name or parameter this
 * header's invariants refuse, -E2BIG when the chain would exceed `max`
 * stages (e says which). On failure s is unchanged.
 */
int eng_seq_append(struct eng_seq *s, const char *storlet, json_t *params, unsigned max,
                   struct err *e);

/* Appends every stage of `from` (deep copies). Same returns; all or none. */
int eng_seq_extend(struct eng_seq *s, const struct eng_seq *from, unsigned max,
                   struct err *e);

/* Whether name is a valid storlet name for a chain (see the invariants). */
bool eng_seq_name_ok(const char *name);

/*
 * Checks one parameter as eng_params does: name 1..128 bytes of
 * [A-Za-z0-9_.-] not starting "storlet_" (any case), value at most 1024
 * bytes of UTF-8. Returns 0 or -EINVAL with the 400 reason in e.
 */
int eng_seq_param_check(const char *name, const char *value, struct err *e);

/*
 * Checks a JSON parameters object (what rules and Distributed documents
 * carry): an object of at most 64 string values, each passing
 * eng_seq_param_check. `where` prefixes the reason ("rule 2: parameters").
 * Returns 0 or -EINVAL (e set).
 */
int eng_seq_params_check(json_t *params, const char *where, struct err *e);

/*
 * The client's chain from a request head: X-Run-Storlet is a
 * comma-separated list of 1..ENG_SEQ_CLIENT_MAX storlet names (space around
 * a name is ignored; an empty name, e.g. "a,,b" or a trailing ',', is an
 * error). Every stage gets the request-wide parameters (eng_params: the
 * X-Storlet-Parameter-<N> headers and the query string); a header
 * X-Storlet-Stage-<k>-Parameter-<N>: key:value (k = 1..n, the value
 * URL-unquoted) sets a parameter of stage k only and overrides a
 * request-wide one of the same name; the same name twice in one stage's
 * scope is an error. Returns 0 with *out filled (out must be empty), 1 when
 * there is no X-Run-Storlet (out stays empty), or -EINVAL with the 400
 * reason in e (out empty).
 */
int eng_seq_from_head(const struct http_head *h, const char *query, struct eng_seq *out,
                      struct err *e);

/*
 * A chain from JSON: either one stage {"storlet": name, "parameters": {..}}
 * ("parameters" optional) or a list of such objects; unknown keys are
 * errors. At most `max` stages. `where` prefixes reasons ("split"). Returns
 * 0 (out filled; out must be empty) or -EINVAL (e set, out empty).
 */
int eng_seq_from_json(json_t *j, unsigned max, const char *where, struct eng_seq *out,
                      struct err *e);

/* The chain as a JSON list of {"storlet", "parameters"} (new reference),
 * the form eng_seq_from_json reads back. */
json_t *eng_seq_to_json(const struct eng_seq *s);

/* ------------------------------------------------------------ placement */

/* Where a storlet may run, from its X-Object-Meta-Storlet-Run-On. */
enum eng_seq_run_on {
    ENG_SEQ_RUN_ANY = 0,   /* absent or "any": the planner decides */
    ENG_SEQ_RUN_OBJECT,    /* "object": only next to the data */
    ENG_SEQ_RUN_PROXY,     /* "proxy": only on the proxy */
};

/* Parses X-Object-Meta-Storlet-Run-On (NULL = any; any case). Returns 0 or
 * -EINVAL for another value. */
int eng_seq_run_on_parse(const char *v, enum eng_seq_run_on *out);

/* What the planner knows of one stage's storlet. */
struct eng_seq_props {
    enum eng_seq_run_on run_on;
    bool services;      /* needs the services channel (fd 4): proxy only */
};

/*
 * A storlet's placement facts from the head of its object (a HEAD of
 * storlet/<name>): X-Object-Meta-Storlet-Run-On (any/object/proxy, absent =
 * any) and X-Object-Meta-Storlet-Services (yes/no, absent = no: yes says
 * the storlet uses the services channel). Values in any case. Returns 0,
 * or -EINVAL with the reason naming the header in e (a storlet uploaded
 * before these were checked may carry a bad value).
 */
int eng_seq_props_from_head(const struct http_head *h, struct eng_seq_props *p,
                            struct err *e);

/*
 * The chain's storlet names joined by ',' ("deid.py,grep,wordcount.py"),
 * as provenance names a chain. A new string (free()); "" for no stages.
 */
char *eng_seq_names(const struct eng_seq *s);

/*
 * The stages' versions (the ETags of their code) joined by ',' in stage
 * order, an unknown one (NULL) left empty ("e1,,e3"): the value of
 * X-Storlet-Etag and of the provenance's Storlet-Generated-By-Etag.
 * etags has n entries. A new string (free()).
 */
char *eng_seq_etags_join(char *const *etags, unsigned n);

/* The provenance's Storlet-Generated-Params value for the chain s: one
 * stage's parameters, or the list of every stage's, as compact JSON with
 * sorted keys cut at ENG_SEQ_PROV_MAX bytes. A new string (free()). */
#define ENG_SEQ_PROV_MAX 256
char *eng_seq_params_provenance(const struct eng_seq *s);

/*
 * The stage set of X-Backend-Storlet-Log: a comma-separated list of stage
 * numbers, 1-based, each at most n ("1,3"). Sets bit k-1 of *mask for each
 * k. Returns 0, or -EINVAL for anything else (an empty list included).
 */
int eng_seq_stage_set_parse(const char *v, unsigned n, uint32_t *mask);

/* The inverse: stages [from, to) whose bit is set in mask, numbered from 1
 * at `from`, into buf. Returns the count of stages written (0: buf ""). */
unsigned eng_seq_stage_set_format(uint32_t mask, unsigned from, unsigned to, char *buf,
                                  size_t n);

/* Where the chain's input comes from. */
enum eng_seq_input {
    ENG_SEQ_FROM_OBJECT = 0,  /* GET, COPY source: the object node has it */
    ENG_SEQ_FROM_PROXY,       /* PUT body, X-Storlet-Run-On-Proxy, or a
                               * Distributed merge: all on the proxy */
};

struct eng_seq_plan {
    unsigned n;          /* stages */
    unsigned split;      /* stages [0, split) run on the object node,
                          * [split, n) on the proxy */
};

/*
 * The placement planner: the longest prefix of stages that can run on the
 * object node (run_on any/object, no services) runs there, in one
 * invocation chain, so only its final output crosses the network; the rest
 * runs on the proxy. With ENG_SEQ_FROM_PROXY everything runs on the proxy.
 * A stage that says "object" but would fall on the proxy is an error
 * (-EINVAL, e names the stage and why: 400). props has n entries.
 * Returns 0 with *p filled.
 */
int eng_seq_plan(const struct eng_seq *s, const struct eng_seq_props *props,
                 enum eng_seq_input input, struct eng_seq_plan *p, struct err *e);

/*
 * The placement as the X-Storlet-Sequence-Placement response header shows
 * it: "object=<k>, proxy=<n-k>". Returns snprintf's count.
 */
int eng_seq_plan_describe(const struct eng_seq_plan *p, char *buf, size_t n);

#endif

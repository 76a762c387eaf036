/*
 * obj_srv_int.h - private helpers shared by the request handlers of
 * cairn-objectd (obj_server.c, obj_srv_*.c, obj_updater.c).
 *
 * The request life cycle. A handler allocates its state on the heap (not
 * in the request pool: a disk job may still run after the client has gone)
 * with a struct obj_rq first. Blocking work goes through obj_rq_submit():
 * the work function runs on a disk thread, and the continuation runs on the
 * worker's loop only while the request is still alive. Two things keep the
 * state alive: the http request (req != NULL until its done callback) and
 * a job in flight (busy). When both are gone, release() frees the state,
 * so neither side ever sees freed memory.
 *
 * Threading: everything here runs on the worker's loop thread except the
 * work functions handed to obj_rq_submit.
 */
#ifndef CAIRN_OBJ_SRV_INT_H
#define CAIRN_OBJ_SRV_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/http.h"
#include "common/names.h"
#include "common/timestamp.h"
#include "common/workq.h"
#include "engine/eng.h"
#include "engine/eng_seq.h"
#include "objectd/obj_server.h"

struct obj_rq;

/* Continuation on the loop with the work function's return value. */
typedef void obj_rq_cont_fn(struct obj_rq *rq, int status);

struct obj_rq {
    struct obj_worker *w;
    struct http_req *req;      /* NULL once the request is done */
    bool busy;                 /* a job is in flight */
    obj_rq_cont_fn *cont;
    /* Frees the state (loop thread); called once neither req nor a job
     * holds it. */
    void (*release)(struct obj_rq *rq);
};

/*
 * Queues work(rq) on the disk pool; cont(rq, status) follows on the loop
 * if the request is still alive then (else the state is released).
 * Returns 0, or -EAGAIN/-ESHUTDOWN when nothing was queued (the caller
 * answers 503).
 */
int obj_rq_submit(struct obj_rq *rq, workq_work_fn *work, obj_rq_cont_fn *cont);

/* The http done callback of every handler: arg is the struct obj_rq. */
void obj_rq_http_done(struct http_req *req, int err, void *arg);

/* Ops with only obj_rq_http_done, for handlers without a request body. */
extern const struct http_req_ops obj_rq_ops_nobody;

/* Answers GET/HEAD /healthcheck ("OK") and GET /recon (counters as JSON)
 * and returns true when the request is one of them. */
bool obj_srv_healthcheck(struct http_req *req, struct obj_worker *w);

/* Answers a short text response (body may be NULL). */
void obj_srv_reply(struct http_req *req, int status, const char *body);

/*
 * Decodes the request path and splits it as Swift's split_and_validate_path
 * into segs (pointers into the request pool). On failure it answers (400
 * or 412) and returns -EINVAL.
 */
int obj_srv_split(struct http_req *req, int minsegs, int maxsegs,
                  bool rest_with_last, char **segs);

/* Partition segment as a number; answers 400 and returns -EINVAL if not. */
int obj_srv_partition(struct http_req *req, const char *seg, uint32_t *part);

/* X-Timestamp of the request; answers 400 "Missing X-Timestamp header"
 * (Swift's text, also for a bad one) and returns -EINVAL. */
int obj_srv_timestamp(struct http_req *req, struct ts *out);

/* The request headers as names_header (pool-allocated), for the checks of
 * common/names.h. */
size_t obj_srv_names_headers(struct http_req *req, struct names_header **out);

/* Title-Case of a header name ("x-object-meta-a" -> "X-Object-Meta-A")
 * into the pool. */
char *obj_srv_title(struct http_req *req, const char *name);

/* Case-insensitive prefix test of a header name. */
bool obj_srv_hdr_prefix(const char *name, const char *prefix);

/* ------------------------------------------------------ container updates */

/* One destination of an update: host:port, device, partition. */
struct obj_upd_target {
    char host[64];
    int port;
    char dev[64];
    char part[16];
};

/*
 * Parses the comma-separated triple of headers (X-Container-Host,
 * -Device, -Partition, or the X-Account-* ones) into targets (at most
 * max). Returns the count (0 when the headers are absent), or -EINVAL when
 * they are malformed or their counts differ.
 */
int obj_upd_parse_targets(struct http_req *req, const char *prefix,
                          struct obj_upd_target *t, int max);

#define OBJ_UPD_MAX_TARGETS 8

typedef void obj_upd_done_fn(void *arg);

/*
 * Sends `method` `path` (already quoted: "/a/c/o") with the headers in
 * hdrs (a JSON object of strings, borrowed and copied) to every target,
 * with the configured timeouts. Targets that fail (connect error, timeout,
 * status outside 2xx other than 404 on a DELETE... see obj_updater.c) are
 * saved as an async-pending file on device `dev` (the object's device,
 * hash and timestamp name the file) for the updater to retry. done(arg)
 * runs on the loop once every target has answered or been saved, or after
 * the configured container_update_timeout, whichever comes first (the
 * sends go on in the background). done may be NULL.
 */
void obj_upd_send(struct obj_worker *w, const char *method, const char *path,
                  json_t *hdrs, const struct obj_upd_target *t, int nt,
                  const char *dev, const char *hash, const struct ts *ts,
                  obj_upd_done_fn *done, void *arg);

/*
 * Marks container a/c on device dev dirty for the account roll-up (this
 * worker's timer reports its totals to the account targets recorded with
 * the container). The worker's loop thread only.
 */
void obj_acct_mark_dirty(struct obj_worker *w, const char *dev,
                         const char *account, const char *container);

/* The account targets as kept in the container's sysmeta
 * ("host:port/dev/part,..."); heap string. */
char *obj_acct_targets_sysmeta(const struct obj_upd_target *t, int n);

struct obj_db_cont_info;

/*
 * Reports a container's totals (info) to its account targets as Swift's
 * container server does (PUT /<dev>/<part>/<a>/<c> with X-Put-Timestamp,
 * X-Delete-Timestamp, X-Object-Count, X-Bytes-Used); failures are saved
 * for the updater. done as obj_upd_send; when n404 is not NULL it holds,
 * when done runs, how many targets answered 404 by then (all of them means
 * the account does not exist: Swift's container server then answers 404).
 */
void obj_acct_report(struct obj_worker *w, const char *dev,
                     const struct obj_db_cont_info *info,
                     const struct obj_upd_target *t, int nt,
                     obj_upd_done_fn *done, void *arg, int *n404);

/* Sysmeta key under which a container keeps its account targets. */
#define OBJ_ACCT_TARGETS_KEY "X-Container-Sysmeta-Cairn-Account-Targets"

/* ---- obj_srv_storlet.c: what the proxy asks this node to run */

struct obj_df_reader;
struct obj_df_info;

/*
 * The caller of a storlet GET, from the proxy's backend headers: on
 * success returns 0 with *host malloc'd (caller frees), *port, *token
 * (points into req) and *depth (X-Backend-Storlet-Depth, 0 when absent).
 * Else returns the status to answer (400 without a token or a host:port
 * proxy, 508 at ENG_SVC_DEPTH_MAX or a bad depth) with *why its text, and
 * allocates nothing. Loop thread.
 */
int obj_storlet_caller(struct http_req *req, char **host, int *port, const char **token,
                       unsigned *depth, const char **why);

/* What the proxy asks this node to run (docs/rules.md 4.11). */
struct obj_storlet_req {
    struct eng_seq seq;         /* X-Backend-Storlet-Chain */
    struct eng_decision d;      /* X-Backend-Storlet-Range: d's range fields */
    uint32_t log_mask;          /* X-Backend-Storlet-Log: bit k, stage k+1 */
    uint32_t code_mask;         /* X-Backend-Storlet-Code-Stages: stages whose
                                 * code is read with code_cap */
    const char *code_cap;       /* X-Backend-Storlet-Code-Cap (in the req) */
};

/*
 * Reads the proxy's storlet headers of a backend GET into *out (out->seq
 * must be empty and is the caller's to release; eng_seq_from_json checks
 * the chain). A client's X-Run-Storlet and X-Storlet-* headers are never
 * read. Returns 0, or 400 with *why (valid until the next call on this
 * thread) and out->seq empty.
 */
int obj_storlet_backend(struct http_req *req, struct obj_storlet_req *out, const char **why);

/* Stage k's element of the proxy's ENG_VERIFIED_HEADER (its HEAD of that
 * stage's storlet with the caller's token or cap, for eng_prep_start_known),
 * a malloc'd JSON text; NULL when absent, null or malformed (the node then
 * asks the proxy itself). */
char *obj_storlet_verified(struct http_req *req, unsigned k);

/* What a storlet or a sequence sees of its source object: *umeta gets a
 * new object of the X-Object-Meta-* values without the prefix, *ctype a
 * malloc'd Content-Type (application/octet-stream when none); the caller
 * owns both. Any thread; in is only read. */
void obj_storlet_src_meta(const struct obj_df_info *in, json_t **umeta, char **ctype);

/* The bytes [*first, *last] of an object of `size` bytes that d's
 * X-Storlet-Range (d->has_range) asks for: a suffix, an open or a closed
 * range, cut at the end. Returns false when nothing of it is there (an
 * empty object, a first byte past the end): answer 416. */
bool obj_storlet_range(const struct eng_decision *d, uint64_t size, uint64_t *first,
                       uint64_t *last);

/* The header of obj_storlet_manifest's answer; the proxy knows it as
 * px_storlet.c's PST_MANIFEST_HEADER. */
#define OBJ_STORLET_MANIFEST_HEADER "X-Backend-Storlet-Manifest"

/*
 * A chain never runs over a large object's manifest here (its own bytes are
 * not the object the caller reads; the proxy assembles the segments and runs
 * the chain itself, docs/compound-storlets.md 1.2). When in carries
 * X-Object-Manifest this answers the GET 422 with
 * OBJ_STORLET_MANIFEST_HEADER: 1 and the manifest value, whatever the
 * preconditions say (they are about the assembled object), and returns
 * true; otherwise it does nothing and returns false. Worker thread.
 */
bool obj_storlet_manifest(struct http_req *req, const struct obj_df_info *in);

/* Does this GET carry a chain from the proxy (X-Backend-Storlet-Chain)?
 * False when the server runs no storlets: the GET is then a plain one. */
bool obj_storlet_wanted(struct http_req *req, struct obj_server *srv);

/* ---- obj_srv_seq.c: the chain on this node (one stage or more) */

/*
 * Takes over an open reader of an existing object (preconditions passed)
 * and answers the GET through the chain the proxy sent (obj_storlet_backend;
 * a bad one is answered 400): every stage runs here, a single storlet being
 * a chain of one, each stage's output the next one's input, with the
 * X-Backend-Storlet-Range applied to the first stage's input and the logs
 * of the X-Backend-Storlet-Log stages stored (docs/compound-storlets.md
 * section 1). rq is the GET's state: its http done still runs (through
 * obj_srv_seq.c's callbacks). dev and name ("/a/c/o") are copied.
 */
void obj_storlet_get(struct obj_rq *rq, struct obj_df_reader *rd, const char *dev,
                     const char *name);

/* ---- obj_repl_srv.c: the replication verb */

/* Object role: answers REPLICATE /<dev>/<part> (suffix hashes as JSON)
 * and RUN /replicate|/audit|/expire (one daemon pass), and returns true
 * when the request is one of them; false leaves it to the caller. */
bool obj_repl_srv_handle(struct http_req *req, struct obj_worker *w);

/* Container (acct false) or account role: takes REPLICATE with its JSON
 * body (DB replication) and returns true when the request is one. */
bool obj_repl_srv_handle_db(struct http_req *req, struct obj_worker *w,
                            bool acct);

#endif

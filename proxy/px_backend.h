/*
 * px_backend.h - the proxy's side of the storage nodes: keep-alive
 * connection reuse, error limiting, and two request engines the
 * controllers build on.
 *
 *  - Connections: px_conn_get() hands out an idle keep-alive connection to
 *    a node's ip:port or opens a new one (common/http.h's client: same
 *    parser, same back-pressure as the server side); px_conn_put() takes it
 *    back when it can carry another request, else frees it.
 *  - Error limiting (Swift's error_suppression_*): every timeout, refused
 *    connection or 5xx counts against the node; after `limit` errors within
 *    `interval` the node is skipped until `interval` has passed since the
 *    last error. A 507 (device unavailable) skips it at once.
 *  - px_fan: one bodyless request to the primaries of a name in parallel,
 *    a failed or error-limited primary replaced by the next handoff; the
 *    statuses and headers of every answer are collected for the caller.
 *  - px_read: one request at a time over primaries then handoffs until a
 *    node gives a usable answer, whose head and body the caller streams
 *    (with back-pressure both ways).
 *
 * Threading: everything belongs to one worker thread (struct px_worker).
 */
#ifndef CAIRN_PX_BACKEND_H
#define CAIRN_PX_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/px_int.h"

struct evbuffer;
struct http_head;

/* ---------------------------------------------------------- connections */

struct px_idle *px_idle_new(size_t max_per_addr);
/* Frees every idle connection. NULL is a no-op. */
void px_idle_free(struct px_idle *p);

/* A connection to n whose io timeout is timeout_ms (node_timeout for
 * writes, recoverable_node_timeout for reads), reused when one is idle.
 * Never NULL. */
struct http_client *px_conn_get(struct px_worker *w, const struct px_node *n,
                                unsigned timeout_ms);
/* Gives c back (made with timeout_ms): kept idle if reusable and there is
 * room, else freed. */
void px_conn_put(struct px_worker *w, const struct px_node *n,
                 unsigned timeout_ms, struct http_client *c);

/* ---------------------------------------------------------- error limits */

struct px_errl *px_errl_new(unsigned limit, uint64_t interval_ms);
void px_errl_free(struct px_errl *e);
/* Is the node skipped at now_ms? */
bool px_errl_limited(struct px_errl *e, const struct px_node *n,
                     uint64_t now_ms);
/* One more error at now_ms (hard: a 507, limit at once). */
void px_errl_error(struct px_errl *e, const struct px_node *n, uint64_t now_ms,
                   bool hard);
/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t px_now_ms(void);

/* Does a backend answer count as a node error? (5xx other than 507 and a
 * failed request.) */
bool px_status_is_node_error(int status);

/* ---------------------------------------------------------- headers */

struct px_hdr {
    char *name;
    char *value;
};

/* A copy of a response head's headers, in the request pool. */
struct px_hdrs {
    size_t n;
    struct px_hdr *v;
};

void px_hdrs_copy(struct pool *p, const struct http_head *h,
                  struct px_hdrs *out);
/* First value of name (case-insensitive) or NULL. */
const char *px_hdrs_get(const struct px_hdrs *h, const char *name);

/* "/<dev>/<part>/<quoted a>[/<quoted c>[/<quoted o>]][?query]" in the pool. */
char *px_backend_path(struct pool *p, const struct px_node *n, uint32_t part,
                      const char *a, const char *c, const char *o,
                      const char *query);

/* ---------------------------------------------------------- fan-out */

struct px_fan;

struct px_fan_reply {
    struct px_node *node;
    int status;            /* 0: no answer (counts as 503) */
    struct px_hdrs hdrs;
    char *body;            /* short bodies only (<= 64 KiB), NUL-terminated */
    size_t body_len;
};

/* Adds node-specific request headers (X-Container-Host, ...) for the
 * request to reply slot i (i < number of requests). */
typedef void px_fan_hdr_fn(struct px_req *pr, struct http_client *c, size_t i,
                           void *arg);
/* Every request has ended. replies[0..n). */
typedef void px_fan_done_fn(struct px_req *pr, struct px_fan_reply *replies,
                            size_t n, void *arg);

/*
 * Sends method to `count` nodes of `nodes` (the primaries), each request
 * carrying X-Timestamp pr->ts (if set), X-Trans-Id, the headers hdr_fn
 * adds, and body[0..body_len) if body_len. A primary that is error-limited
 * or fails before answering is replaced by the next unused handoff of
 * `nodes`. done runs from the event loop once every slot has an answer or
 * has run out of nodes. Nothing runs after the client request is over.
 */
void px_fan_start(struct px_req *pr, const char *method, struct px_nodes *nodes,
                  size_t count, const char *a, const char *c, const char *o,
                  const char *query, const void *body, size_t body_len,
                  px_fan_hdr_fn *hdr_fn, px_fan_done_fn *done, void *arg);

/* ---------------------------------------------------------- reads */

struct px_read;

struct px_read_ops {
    /* Adds request headers for one attempt. */
    void (*headers)(struct px_req *pr, struct http_client *c, void *arg);
    /* Is this status the answer (stream it) rather than a reason to try
     * another node? Default: 2xx, 3xx, 412, 416. */
    bool (*usable)(int status, const struct http_head *h, void *arg);
    /* The chosen answer's head: start the client response. Body bytes
     * follow through px_read_body_to_client unless the caller takes them. */
    void (*response)(struct px_req *pr, struct px_read *rd,
                     const struct http_head *h, void *arg);
    /* No node gave a usable answer: statuses of those tried (404s, errors
     * as 503). status is px_best_status over them (404 only on a quorum of
     * 404s), hdrs those of the last 404 answer if any. */
    void (*failed)(struct px_req *pr, int status, const struct px_hdrs *hdrs,
                   void *arg);
    /* Body bytes of the chosen answer (optional: default relays to the
     * client with back-pressure). */
    void (*body)(struct px_req *pr, struct px_read *rd, struct evbuffer *b,
                 void *arg);
    /* The chosen answer is over: err 0, or the node failed mid-body. */
    void (*end)(struct px_req *pr, int err, void *arg);
};

/*
 * Starts a read of method over nodes (primaries then handoffs; at most
 * nodes->n attempts; handoffs are tried only while fewer than a quorum of
 * nodes have said 404). Returns the read (in the pool).
 */
struct px_read *px_read_start(struct px_req *pr, const char *method,
                              struct px_nodes *nodes, const char *a,
                              const char *c, const char *o, const char *query,
                              const struct px_read_ops *ops, void *arg);
/* Back-pressure on the chosen answer's body. */
void px_read_pause(struct px_read *rd);
void px_read_resume(struct px_read *rd);
/* Stops the read (the connection is closed, no callback runs). */
void px_read_abort(struct px_read *rd);

#endif

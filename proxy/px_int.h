/*
 * px_int.h - the proxy's shared internals: the server (one per process),
 * its workers (one per thread), and the request context every controller
 * works on. Design notes: docs/internals/proxy.md.
 *
 * Threading (STYLE R8): struct px_server is built before the workers start
 * and is read-only afterwards; the rings are read through RCU (every worker
 * is an RCU reader thread) and only inside one request step, never across
 * an event-loop turn: node lists are copied into the request's pool.
 * Everything in struct px_worker (backend connection pool, error limits)
 * belongs to its thread alone; the one shared mutable thing is the
 * container info cache (px_ctl.c), behind a mutex held for a lookup. Error limiting is per worker, as Swift's is
 * per worker process.
 */
#ifndef CAIRN_PX_INT_H
#define CAIRN_PX_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/cluster_conf.h"
#include "common/hashpath.h"
#include "common/names.h"
#include "proxy/px_cap.h"
#include "proxy/px_conf.h"

struct event;
struct event_base;
struct http_req;
struct http_server;
struct http_client;
struct ring_watch;
struct px_auth;
struct pool;
struct px_rules;

enum px_ring_kind { PX_RING_ACCOUNT, PX_RING_CONTAINER, PX_RING_OBJECT, PX_RINGS };

struct eng;

struct px_server {
    struct px_conf conf;
    struct eng *eng;                     /* storlet engine, NULL when off */
    struct cluster_conf cluster;
    struct hashpath_secret secret;       /* borrowed from cluster */
    struct ring_watch *rings[PX_RINGS];
    struct px_auth *auth;
    char *info_json;                     /* GET /info body */
    int port;                            /* actual listening port */
    struct px_cap_key cap_key;           /* this process's capability key */
};

/* A storage node a request goes to, copied out of the ring. */
struct px_node {
    char ip[64];
    uint16_t port;
    char device[64];
    uint32_t id;
    bool handoff;
};

/* The nodes of one name: primaries first, then handoffs, which are looked
 * up only when a request needs one (px_nodes_load_handoffs). */
struct px_nodes {
    uint32_t part;
    enum px_ring_kind kind;
    size_t replicas;     /* primaries */
    size_t n;            /* primaries + handoffs copied so far */
    size_t max_handoffs; /* room in v after the primaries */
    bool handoffs_loaded;
    struct px_node *v;   /* in the request pool */
};

struct px_idle;           /* backend keep-alive pool, px_backend.c */
struct px_errl;           /* error-limit table, px_backend.c */
struct px_cinfo_cache;    /* container info cache, px_info.c */

struct px_worker {
    struct px_server *srv;
    unsigned idx;
    struct event_base *base;
    struct http_server *http;
    struct px_idle *idle;
    struct px_errl *errl;
    struct px_cinfo_cache *cinfo;  /* shared by all workers (locked) */
    struct event *stop_ev;
    pthread_t thread;
    uint64_t rnd;         /* xorshift state for trans-ids */
};

/* One client request. Lives in the http request's pool. */
struct px_req {
    struct px_worker *w;
    struct px_server *srv;
    struct http_req *req;
    struct pool *pool;
    char txn[64];
    char ts[40];                   /* X-Timestamp for writes (normal form) */
    struct names_api_path path;    /* decoded account/container/object */
    /* identity */
    bool token_sent;
    bool authenticated;
    bool owner;
    const char *groups[40];
    size_t ngroups;
    char *group_store;             /* pool text the groups point into */
    const char *cap;               /* purpose of a verified capability
                                    * (px_cap_admit), or NULL */
    unsigned caps;                 /* every verified purpose (px_cap.c) */
    bool done;                     /* the http request is over */
    void *ctl;                     /* the controller's state */
    void *stl;                     /* px_storlet.c: the chain of a storlet
                                      GET relayed from an object node */
    unsigned read_timeout_ms;      /* px_read's io timeout when not 0: a
                                    * storlet chain on a node may work long
                                    * before its first byte */
    struct px_rules *rules;        /* storlet rules of the object or
                                    * container (px_rules.h), once loaded */
    int (*abort_fn)(struct px_req *pr); /* called when the client goes away */
};

/* ---- px_server.c */

/* Answers with Swift's default page for status (text/html body). Adds the
 * headers set so far. */
void px_reply(struct px_req *pr, int status);
/* Answers with a text/html body of the caller's text (names verdicts). */
void px_reply_text(struct px_req *pr, int status, const char *body);
/* The trans-id headers every response carries. */
void px_resp_common(struct px_req *pr);

/* Looks up a name's primaries in ring `kind`, copied into pr's pool, with
 * room for up to `handoffs` handoffs loaded later. */
void px_nodes_get(struct px_req *pr, enum px_ring_kind kind,
                  const char *account, const char *container,
                  const char *object, size_t handoffs, struct px_nodes *out);
/* Appends the handoffs (in the ring's order, at most max_handoffs) the
 * first time it is called; a no-op afterwards. Most requests never need
 * them, and the walk that finds them is the costly part of a lookup. */
void px_nodes_load_handoffs(struct px_req *pr, struct px_nodes *nodes);

/* Timeouts in ms for GET/HEAD and for other requests. */
unsigned px_read_timeout(const struct px_server *s);

#endif

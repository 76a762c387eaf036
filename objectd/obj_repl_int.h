/*
 * obj_repl_int.h - private parts shared by the background daemons
 * (obj_repl.c, obj_auditor.c, obj_expirer.c): the context, ring lookups
 * that copy what they need out of the RCU section (so no pass holds a
 * read lock across network or disk I/O), and blocking HTTP requests to
 * other nodes over libcurl's easy interface.
 *
 * Threading: as obj_repl.h; a struct obj_bg_http belongs to one thread.
 */
#ifndef CAIRN_OBJ_REPL_INT_H
#define CAIRN_OBJ_REPL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sys/types.h>

#include "objectd/obj_repl.h"

struct ring_watch;
struct curl_slist;

enum obj_bg_ring {
    OBJ_BG_RING_ACCOUNT,
    OBJ_BG_RING_CONTAINER,
    OBJ_BG_RING_OBJECT,
    OBJ_BG_RING_COUNT,
};

#define OBJ_BG_KIND_COUNT 3 /* the members of enum obj_bg_daemon */

struct obj_bg {
    struct obj_server *srv;
    pthread_mutex_t lock;           /* guards rings[] loading, stop, cond */
    pthread_cond_t cond;
    bool stop;
    atomic_bool stopping;           /* read by passes between objects */
    struct ring_watch *rings[OBJ_BG_RING_COUNT];
    char **ips;                     /* this node's addresses */
    size_t nips;
    pthread_mutex_t pass_lock[OBJ_BG_KIND_COUNT]; /* one pass per kind */
    pthread_t threads[OBJ_BG_KIND_COUNT];
    bool started[OBJ_BG_KIND_COUNT];
};

/* A device as a peer is reached. */
struct obj_bg_node {
    uint32_t id;
    char ip[64];
    int port;
    char dev[64];
};

#define OBJ_BG_MAX_REPLICAS 16

/* The ring of kind, loading it on first use. NULL (logged once per
 * state) when the file cannot be loaded. */
struct ring_watch *obj_bg_ring(struct obj_bg *bg, enum obj_bg_ring kind);

/*
 * The devices of ring `kind` that are this node's (address in my_ips and
 * the port this role listens on). Fills out[0..max) and returns the count.
 */
size_t obj_bg_local_devs(struct obj_bg *bg, enum obj_bg_ring kind, int port,
                         struct obj_bg_node *out, size_t max);

/* The primaries of part in ring kind (replica order). Returns the count. */
size_t obj_bg_primaries(struct obj_bg *bg, enum obj_bg_ring kind,
                        uint32_t part, struct obj_bg_node *out, size_t max);

/* The partition of a name in ring kind; -1 when the ring is missing. */
int64_t obj_bg_partition(struct obj_bg *bg, enum obj_bg_ring kind,
                         const char *a, const char *c, const char *o);

/* One container (OBJ_BG_RING_CONTAINER) or account DB replication pass
 * (obj_repl_db.c). Returns 0 or -ENOENT (no ring). */
int obj_repl_dbs_once(struct obj_bg *bg, enum obj_bg_ring kind,
                      struct obj_bg_stats *st);

struct obj_db;

/*
 * The peer side of DB replication: applies one REPLICATE body (req, a
 * JSON object: op "sync" or "merge_items") to container a/c (c NULL and
 * acct true: account a) in db, and sets *resp (new reference) to the
 * answer. BLOCKS (RocksDB). Returns 0, -EINVAL for a malformed body, or
 * an obj_db error.
 */
int obj_repl_db_apply(struct obj_db *db, bool acct, const char *a,
                      const char *c, json_t *req, json_t **resp);

/* Waits ms milliseconds or until stop; returns true when stopping. */
bool obj_bg_sleep(struct obj_bg *bg, uint64_t ms);

/* ------------------------------------------------------------- http */

struct obj_bg_http;

struct obj_bg_http *obj_bg_http_new(struct obj_bg *bg);
void obj_bg_http_free(struct obj_bg_http *h);

/* Reads up to len body bytes at offset off of the request body. */
typedef ssize_t obj_bg_read_fn(void *arg, void *buf, size_t len, uint64_t off);

struct obj_bg_req {
    const char *method;
    const struct obj_bg_node *node;
    const char *path;              /* already quoted, starts with '/' */
    struct curl_slist *headers;    /* borrowed */
    uint64_t body_len;             /* with body_fn */
    obj_bg_read_fn *body_fn;       /* NULL: no body */
    void *body_arg;
    char *resp;                    /* out: malloc'ed body (NUL-terminated)
                                      when want_resp, else NULL */
    bool want_resp;
};

/* obj_bg_read_fn over a NUL-terminated string in memory (arg). */
ssize_t obj_bg_read_mem(void *arg, void *buf, size_t len, uint64_t off);

/* Sends the request and returns the status (>= 100) or a negative errno
 * when no answer came (logged at warning by the caller). */
int obj_bg_http_do(struct obj_bg_http *h, struct obj_bg_req *r);

/* Percent-quotes a name ("/a/c/o") for a request path into a heap string
 * prefixed with "/<dev>/<part>". */
char *obj_bg_path(const char *dev, uint32_t part, const char *name);

#endif

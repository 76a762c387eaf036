/*
 * obj_server.h - the request side of cairn-objectd: configuration, the
 * shared server state, per-thread workers, and the backend API handlers
 * (docs/backend-api.md describes the API, docs/internals/objectd.md the
 * threads, the request life cycle and the updates; this header the code's
 * shape).
 *
 * One process serves three roles, each on its own port, as Swift's object,
 * container and account servers do (the rings name each role's port):
 *   OBJ_ROLE_OBJECT     /<dev>/<part>/<a>/<c>/<o>: object bytes (obj_diskfile)
 *   OBJ_ROLE_CONTAINER  /<dev>/<part>/<a>/<c>: container records, and
 *                       /<dev>/<part>/<a>/<c>/<o>: object rows (the updates
 *                       object servers send after a PUT or DELETE)
 *   OBJ_ROLE_ACCOUNT    /<dev>/<part>/<a>: account records, and
 *                       /<dev>/<part>/<a>/<c>: container reports
 * The paths of the roles overlap (an object PUT and an object-row PUT look
 * the same), so the port decides, not the path.
 *
 * Threading: struct obj_server is built before the workers start and is
 * read-only afterwards, except the table of open container databases
 * (mutex) and the counters (atomics). Each struct obj_worker is one thread
 * with its own event_base, its own SO_REUSEPORT listeners and its own
 * workq port; every blocking call (diskfile, RocksDB, fsync, directory
 * scans) runs on the shared workq pool and completes on the worker's loop.
 */
#ifndef CAIRN_OBJ_SERVER_H
#define CAIRN_OBJ_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/cluster_conf.h"
#include "common/conf.h"
#include "common/hashpath.h"

struct event_base;
struct event;
struct http_req;
struct http_server;
struct obj_db;
struct obj_devices;
struct workq;
struct workq_port;

/* ------------------------------------------------------------- config */

struct obj_conf {
    char *bind_ip;
    int64_t bind_port;           /* object role */
    int64_t container_port;      /* container role; 0 = not served */
    int64_t account_port;        /* account role; 0 = not served */
    int64_t workers;
    char *devices;
    bool mount_check;
    char *cluster_conf;          /* etc/cairn.conf: hash secrets, limits */
    char *log_level;
    char *log_facility;          /* "" = stderr */
    char *log_file;              /* "" = stderr as inherited */
    int64_t disk_threads;
    int64_t max_queued;
    int64_t conn_timeout;        /* ms, container/account updates */
    int64_t node_timeout;        /* ms, idem */
    int64_t container_update_timeout; /* ms the PUT/DELETE waits for them */
    int64_t client_timeout;      /* ms without a byte from a client */
    uint64_t disk_chunk_size;    /* bytes per diskfile read or write */
    int64_t updater_interval;    /* ms between async-pending sweeps */
    int64_t account_update_interval; /* ms between account roll-ups */
    int64_t reclaim_age;         /* seconds */
    bool db_fsync;               /* fsync container/account db writes */
    struct conf_list allowed_headers;
    bool storlets;               /* run storlets (engine/) */
    char *storlet_cache_dir;
    char *storlet_sdk;
    uint64_t storlet_cache_size;   /* bytes; 0 = unbounded */
    int64_t storlet_warm;
    int64_t storlet_wall_timeout; /* ms */
    uint64_t storlet_min_input_rate; /* bytes/s; 0: no growth */
    int64_t storlet_idle_timeout; /* ms */
    uint64_t storlet_output_max;
    int64_t storlet_admin_cpu_weight;
    int64_t storlet_tenant_max;
    /* background daemons (obj_repl.h) */
    char *swift_dir;
    int64_t ring_check_interval; /* ms */
    struct conf_list my_ips;
    int64_t replicator_interval; /* ms, 0 = off */
    int64_t auditor_interval;    /* ms, 0 = off */
    uint64_t auditor_bytes_per_second;
    int64_t expirer_interval;    /* ms, 0 = off */
};

extern const struct conf_option obj_conf_table[];
extern const char obj_conf_intro[];

/* Loads the file at path into *c (zeroed by the caller); errors go to
 * errs. Returns 0 or -EINVAL; release *c with obj_conf_release either way. */
int obj_conf_load(const char *path, struct obj_conf *c,
                  struct conf_errors *errs);
void obj_conf_release(struct obj_conf *c);

/* ------------------------------------------------------------- server */

enum obj_role {
    OBJ_ROLE_OBJECT,
    OBJ_ROLE_CONTAINER,
    OBJ_ROLE_ACCOUNT,
    OBJ_ROLE_COUNT,
};

struct obj_db_slot {
    char dev[64];
    struct obj_db *db;
};

struct eng;
struct obj_bg;

struct obj_server {
    struct obj_conf conf;
    struct obj_bg *bg;               /* background daemons (obj_repl.h) */
    struct eng *eng;                 /* storlet engine, NULL when off */
    struct cluster_conf cluster;
    struct hashpath_secret secret;   /* borrowed from cluster */
    struct obj_devices *devs;
    struct workq *wq;
    int ports[OBJ_ROLE_COUNT];       /* actual ports (0 = role off) */

    pthread_mutex_t db_lock;         /* guards dbs */
    struct obj_db_slot *dbs;
    size_t ndbs;

    atomic_ulong n_requests;
    atomic_ulong n_async_saved;      /* container updates saved for later */
    atomic_ulong n_async_done;       /* saved updates that have landed */
};

struct obj_worker {
    struct obj_server *srv;
    unsigned idx;
    struct event_base *base;
    struct workq_port *port;
    struct http_server *http[OBJ_ROLE_COUNT];
    pthread_t thread;
    /* worker 0 only: the async-pending updater and the account roll-up */
    struct event *updater_ev;
    bool updater_busy;
    struct event *acct_ev;
    struct obj_acct_dirty *dirty;    /* containers whose totals changed */
    /* keep-alive connections to container/account servers (obj_updater.c) */
    struct obj_upd_idle *upd_idle;
    bool upd_stopped;                /* obj_updater_stop ran: keep none */
};

/*
 * Opens (once) and returns the container/account db of device dev.
 * BLOCKS: worker threads only. Returns 0, -ENODEV (no such device) or
 * another -errno. The db stays open until obj_server_close_dbs.
 */
int obj_server_db(struct obj_server *s, const char *dev, struct obj_db **out);
void obj_server_close_dbs(struct obj_server *s);

/* The http handler of each role; arg is the struct obj_worker. */
void obj_srv_handle_object(struct http_req *req, void *arg);
void obj_srv_handle_container(struct http_req *req, void *arg);
void obj_srv_handle_account(struct http_req *req, void *arg);

/* Starts worker 0's periodic jobs (updater, account roll-up). */
void obj_updater_start(struct obj_worker *w);
void obj_updater_stop(struct obj_worker *w);

#endif

/*
 * px_conf.h - cairn-proxy's configuration (etc/proxy-server.conf), read
 * through an option table so that etc/proxy-server.conf.sample is rendered
 * from the same rows and cannot drift (STYLE R13).
 *
 * Sections, as an operator of Swift knows them:
 *   [DEFAULT]            bind_ip, bind_port, workers, swift_dir, logging
 *   [app:proxy-server]   timeouts, error limiting, account management
 *   [filter:tempauth]    reseller prefix, token life and secret, and the
 *                        users in tempauth's user_<account>_<user> form
 * Durations are milliseconds in the struct (seconds in the file).
 *
 * A struct px_conf is filled once at start-up and read-only afterwards, so
 * every worker thread may read it.
 */
#ifndef CAIRN_PX_CONF_H
#define CAIRN_PX_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"

struct px_conf {
    /* [DEFAULT] */
    char *bind_ip;
    int64_t bind_port;
    int64_t workers;
    char *swift_dir;        /* holds cairn.conf and the *.ring files */
    char *log_level;
    char *log_facility;     /* "" = stderr */
    /* [app:proxy-server] */
    int64_t conn_timeout;              /* ms */
    int64_t node_timeout;              /* ms */
    int64_t recoverable_node_timeout;  /* ms; 0 = node_timeout */
    int64_t client_timeout;            /* ms */
    int64_t post_quorum_timeout;       /* ms */
    int64_t error_suppression_limit;
    int64_t error_suppression_interval; /* ms */
    int64_t ring_check_interval;        /* ms */
    bool account_autocreate;
    bool allow_account_management;
    int64_t max_idle_backend_conns;     /* per backend address, per worker */
    int64_t max_manifest_segments;      /* SLO: segments in a manifest */
    int64_t max_manifest_size;          /* SLO: bytes of a manifest PUT */
    /* [filter:tempauth] */
    char *reseller_prefix;  /* "AUTH_" (with the underscore) */
    int64_t token_life;     /* seconds */
    char *auth_secret;      /* HMAC key for tokens; >= 16 bytes */
    char *auth_prefix;      /* "/auth/" */
    struct conf_kv_list users;
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
    int64_t storlet_dist_concurrency;   /* splits at once, ceiling */
    int64_t storlet_dist_timeout;       /* ms: a Distributed merge's life */
    char *storlet_proxy_address;        /* as configured, or NULL */
    char storlet_proxy_host[64];        /* parsed from it ("" = unset) */
    int storlet_proxy_port;             /* 0 = the listening port */
};

/* CONF_END-terminated table; also renders the sample file. */
extern const struct conf_option px_conf_table[];
/* Text that heads etc/proxy-server.conf.sample. */
extern const char px_conf_intro[];

/*
 * Loads the file at path into *c (zeroed by the caller). Every problem is
 * added to errs as "file:line: ..."; beyond the table this checks that the
 * auth secret is long enough and that every user line has a key. Returns 0
 * or -EINVAL; release *c with px_conf_release either way.
 */
int px_conf_load(const char *path, struct px_conf *c, struct conf_errors *errs);

/* Same from a parsed file (tests). */
int px_conf_apply(const struct conf *f, struct px_conf *c,
                  struct conf_errors *errs);

void px_conf_release(struct px_conf *c);

/* Parses "a.b.c.d[:port]" or "[v6][:port]" (numeric only): host gets the
 * bare address, port the port or 0. Returns 0 or -EINVAL. */
int px_conf_parse_address(const char *s, char *host, size_t hostsz, int *port);

#endif

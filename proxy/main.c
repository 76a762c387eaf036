/*
 * main.c - cairn-proxy: loads proxy-server.conf, cairn.conf and the three
 * rings, starts `workers` threads (each its own event_base, its own
 * SO_REUSEPORT listener, its own backend connection pool) and serves the
 * Swift API until SIGTERM/SIGINT, then shuts down gracefully: listeners
 * close, requests in progress finish, then the process exits.
 *
 *   cairn-proxy -c etc/proxy-server.conf [--check-config] [--workers N]
 *
 * Threading: the main thread only waits for signals (signalfd-free: a
 * sigwait loop) and tells each worker to stop through an event it owns.
 */
#define LOG_COMPONENT "proxy"
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <urcu.h>

#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng.h"
#include "proxy/px_auth.h"
#include "proxy/px_backend.h"
#include "proxy/px_cap.h"
#include "proxy/px_ctl.h"
#include "proxy/px_server.h"
#include "ring/ring.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: cairn-proxy -c <proxy-server.conf> [--check-config] "
                 "[--workers N]\n");
}

static void on_stopped(struct http_server *srv, void *arg)
{
    (void)srv;
    struct px_worker *w = arg;
    event_base_loopexit(w->base, NULL);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct px_worker *w = arg;
    http_server_shutdown(w->http, on_stopped, w);
}

static void *worker_main(void *arg)
{
    struct px_worker *w = arg;
    rcu_register_thread();
    event_base_dispatch(w->base);
    rcu_unregister_thread();
    return NULL;
}

static int load_rings(struct px_server *s, struct err *e)
{
    static const char *const names[PX_RINGS] = {"account", "container",
                                                "object"};
    for (int i = 0; i < PX_RINGS; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s.ring", s->conf.swift_dir, names[i]);
        s->rings[i] = ring_watch_new(path,
                                     (unsigned)s->conf.ring_check_interval, e);
        if (!s->rings[i])
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf_path = NULL;
    bool check = false;
    long workers_override = 0;
    static const struct option opts[] = {
        {"conf", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'C'},
        {"workers", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            conf_path = optarg;
            break;
        case 'C':
            check = true;
            break;
        case 'w': {
            uint64_t n;
            if (parse_u64(optarg, &n) < 0 || n < 1 || n > 256) {
                fprintf(stderr, "--workers: expected 1..256\n");
                return 2;
            }
            workers_override = (long)n;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!conf_path) {
        usage(stderr);
        return 2;
    }
    log_set_ident("cairn-proxy");
    static struct px_server srv;
    struct conf_errors errs;
    conf_errors_init(&errs);
    px_conf_load(conf_path, &srv.conf, &errs);
    if (!errs.count) {
        char cpath[4096];
        snprintf(cpath, sizeof(cpath), "%s/cairn.conf", srv.conf.swift_dir);
        cluster_conf_load(cpath, &srv.cluster, &errs);
        srv.auth = px_auth_new(&srv.conf, &errs);
    }
    if (check) {
        int rc = conf_check_report(conf_path, &errs, stdout);
        conf_errors_release(&errs);
        return rc;
    }
    if (errs.count) {
        conf_errors_print(&errs, stderr);
        conf_errors_release(&errs);
        return 2;
    }
    conf_errors_release(&errs);
    int lvl = log_level_parse(srv.conf.log_level);
    if (lvl < 0) {
        fprintf(stderr, "%s: unknown log_level '%s'\n", conf_path,
                srv.conf.log_level);
        return 2;
    }
    log_set_level((enum log_level)lvl);
    if (srv.conf.log_facility && srv.conf.log_facility[0] &&
        log_use_syslog(srv.conf.log_facility) < 0) {
        fprintf(stderr, "%s: unknown log_facility '%s'\n", conf_path,
                srv.conf.log_facility);
        return 2;
    }
    if (workers_override)
        srv.conf.workers = workers_override;
    srv.secret = cluster_conf_secret(&srv.cluster);
    int krc = px_cap_key_init(&srv.cap_key);
    if (krc < 0) {
        fprintf(stderr, "cairn-proxy: getrandom for the capability key: %s\n",
                strerror(-krc));
        return 1;
    }
    if (srv.conf.storlets && !srv.conf.storlet_proxy_host[0] &&
        (strcmp(srv.conf.bind_ip, "0.0.0.0") == 0 || strcmp(srv.conf.bind_ip, "::") == 0))
        log_warn("bind_ip is %s and storlet_proxy_address is not set: object nodes "
                 "are told to fetch storlet code from %s, which works only when they "
                 "run on this host", srv.conf.bind_ip,
                 strcmp(srv.conf.bind_ip, "::") == 0 ? "::1" : "127.0.0.1");
    struct err e;
    err_clear(&e);
    /* The storlet launcher is started now, before any thread exists. */
    if (srv.conf.storlets) {
        struct eng_config ec = {
            .cache_dir = srv.conf.storlet_cache_dir,
            .sdk_path = srv.conf.storlet_sdk,
            .wall_ms = (uint64_t)srv.conf.storlet_wall_timeout,
            .min_input_rate = srv.conf.storlet_min_input_rate,
            .idle_ms = (uint64_t)srv.conf.storlet_idle_timeout,
            .output_max = srv.conf.storlet_output_max,
            .admin_cpu_weight = (unsigned)srv.conf.storlet_admin_cpu_weight,
            .warm = (unsigned)srv.conf.storlet_warm,
            .tenant_max = (unsigned)srv.conf.storlet_tenant_max,
            .cache_max = srv.conf.storlet_cache_size,
            .log_facility = srv.conf.log_facility,
        };
        srv.eng = eng_start(&ec, &e);
        if (!srv.eng) {
            log_err("%s", e.msg);
            return 1;
        }
    }
    /* Block the stop signals in every thread; the main thread sigwaits.
     * Blocked before the first thread is made (the ring watchers', next),
     * as threads inherit the mask: a thread that left them open would take
     * a SIGTERM sent while the main thread is not yet in sigwait, and the
     * process would die of it instead of shutting down. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (load_rings(&srv, &e) < 0) {
        log_err("%s", e.msg);
        return 1;
    }
    srv.info_json = px_info_build(&srv);
    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads();

    size_t nw = (size_t)srv.conf.workers;
    int rc = 0;
    struct px_cinfo_cache *cinfo = px_cinfo_new();
    struct px_worker *ws = xcalloc(nw, sizeof(*ws));
    int port = (int)srv.conf.bind_port;
    for (size_t i = 0; i < nw; i++) {
        struct px_worker *w = &ws[i];
        w->srv = &srv;
        w->idx = (unsigned)i;
        w->base = event_base_new();
        /* the first worker's socket: refuse a port another process listens
         * on (SO_REUSEPORT would share it silently) */
        int fd = i == 0 && port ? http_port_unused(srv.conf.bind_ip, port, &e) : 0;
        if (fd == 0)
            fd = http_listen(srv.conf.bind_ip, port, 1024, &e);
        if (fd < 0) {
            log_err("%s", e.msg);
            /* workers 0..i-1 are whole; this one has only its base */
            event_base_free(w->base);
            nw = i;
            rc = 1;
            goto out;
        }
        if (port == 0)
            port = http_socket_port(fd);
        struct http_server_config hc;
        http_server_config_init(&hc);
        hc.body_timeout_ms = (unsigned)srv.conf.client_timeout;
        w->http = http_server_new(w->base, fd, &hc, px_handle, w);
        w->idle = px_idle_new((size_t)srv.conf.max_idle_backend_conns);
        w->errl = px_errl_new((unsigned)srv.conf.error_suppression_limit,
                              (uint64_t)srv.conf.error_suppression_interval);
        w->cinfo = cinfo;
        if (getrandom(&w->rnd, sizeof(w->rnd), 0) != sizeof(w->rnd) || !w->rnd)
            w->rnd = now_mono_ns() | 1;
        w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
    }
    srv.port = port;
    for (size_t i = 0; i < nw; i++)
        pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]);
    log_notice("listening on %s:%d with %zu workers", srv.conf.bind_ip, port,
               nw);
    int sig = 0;
    sigwait(&set, &sig);
    log_notice("signal %d: shutting down", sig);
    for (size_t i = 0; i < nw; i++)
        event_active(ws[i].stop_ev, EV_READ, 0);
    for (size_t i = 0; i < nw; i++)
        pthread_join(ws[i].thread, NULL);
out:
    for (size_t i = 0; i < nw; i++) {
        http_server_free(ws[i].http);
        px_idle_free(ws[i].idle);
        px_errl_free(ws[i].errl);
        event_free(ws[i].stop_ev);
        event_base_free(ws[i].base);
    }
    free(ws);
    px_cinfo_free(cinfo);
    for (int i = 0; i < PX_RINGS; i++)
        ring_watch_free(srv.rings[i]);
    px_auth_free(srv.auth);
    eng_free(srv.eng);
    free(srv.info_json);
    cluster_conf_release(&srv.cluster);
    px_conf_release(&srv.conf);
    return rc;
}

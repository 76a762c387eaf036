/*
 * main.c - cairn-objectd, the storage node daemon: options, configuration,
 * start-up cleanup of the devices, worker threads, signals.
 *
 *   cairn-objectd [-c FILE] [--check-config] [--workers N]
 *   cairn-objectd [-c FILE] --replicate-once | --audit-once | --expire-once
 *
 * Runs in the foreground (systemd supervises it). Each worker thread owns
 * an event_base and one SO_REUSEPORT listener per role (object, container,
 * account); disk and database work goes to one shared workq pool whose
 * completions come back to the worker that asked. The main thread does
 * nothing but wait for signals: SIGTERM/SIGINT shut down gracefully
 * (stop accepting, finish requests in progress, drain the disk pool),
 * SIGHUP reopens log_file when one is configured (log rotation; with
 * stderr or syslog there is nothing to reopen and it is only logged).
 *
 * The node serves the backend API without rings, as Swift's servers do:
 * every request names its device and partition, and updates carry their
 * destinations (X-Container-Host...). Only the background daemons
 * (replicator, auditor, expirer: obj_repl.h) read the rings, on their own
 * threads. The --*-once modes ask the running daemon on this
 * configuration's bind_ip:bind_port to run one pass of one daemon now
 * (RUN /replicate...), print its counters as JSON and exit: for tests and
 * operators. The daemon runs it because it holds the devices' databases
 * open (RocksDB allows one process per database).
 */
#define LOG_COMPONENT "objectd"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/util.h"
#include "common/workq.h"
#include "common/xalloc.h"
#include "objectd/obj_diskfile.h"
#include "engine/eng.h"
#include "objectd/obj_repl.h"
#include "objectd/obj_server.h"

#define DEFAULT_CONFIG "/etc/cairn/objectd.conf"

struct wctl {
    struct obj_worker w;
    int stop_fd;            /* eventfd: main -> worker "shut down" */
    struct event *stop_ev;
    struct event *deadline;
    int servers_open;
};

/* Points stderr (where log lines go) at the log file, opened anew: at
 * start and on SIGHUP, so a rotated file is let go. */
static int reopen_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd == -1)
        return -errno;
    int rc = dup2(fd, STDERR_FILENO) == -1 ? -errno : 0;
    close(fd);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cairn-objectd [-c FILE] [--check-config] [--workers N]\n"
            "  -c, --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
            "      --check-config  validate the configuration and exit\n"
            "      --workers N     event-loop threads (overrides the file)\n"
            "      --replicate-once  run one replication pass and exit\n"
            "      --audit-once      run one auditor pass and exit\n"
            "      --expire-once     run one expirer pass and exit\n");
}

static void server_closed(struct http_server *srv, void *arg)
{
    struct wctl *c = arg;
    (void)srv;
    if (--c->servers_open == 0)
        event_base_loopexit(c->w.base, NULL);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct wctl *c = arg;
    (void)fd;
    (void)what;
    log_warn("worker %u: requests still open at the shutdown deadline",
             c->w.idx);
    event_base_loopbreak(c->w.base);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    struct wctl *c = arg;
    uint64_t v;
    (void)what;
    if (read(fd, &v, sizeof(v)) != sizeof(v))
        return;
    event_del(c->stop_ev);
    obj_updater_stop(&c->w);
    c->deadline = evtimer_new(c->w.base, deadline_cb, c);
    struct timeval tv = { 30, 0 };
    evtimer_add(c->deadline, &tv);
    c->servers_open = 0;
    for (int r = 0; r < OBJ_ROLE_COUNT; r++)
        if (c->w.http[r])
            c->servers_open++;
    if (c->servers_open == 0) {
        event_base_loopexit(c->w.base, NULL);
        return;
    }
    for (int r = 0; r < OBJ_ROLE_COUNT; r++)
        if (c->w.http[r])
            http_server_shutdown(c->w.http[r], server_closed, c);
}

static void *worker_main(void *arg)
{
    struct wctl *c = arg;
    obj_updater_start(&c->w);
    event_base_dispatch(c->w.base);
    for (int r = 0; r < OBJ_ROLE_COUNT; r++) {
        http_server_free(c->w.http[r]);
        c->w.http[r] = NULL;
    }
    obj_updater_stop(&c->w);
    /* delivers the completions of jobs still running */
    workq_port_free(c->w.port);
    c->w.port = NULL;
    return NULL;
}

static http_handler_fn *const role_handler[OBJ_ROLE_COUNT] = {
    obj_srv_handle_object,
    obj_srv_handle_container,
    obj_srv_handle_account,
};

static const char *const role_name[OBJ_ROLE_COUNT] = {
    "object", "container", "account",
};

/* Removes temp files a crash left and empty directories, before serving. */
static void cleanup_devices(struct obj_server *s)
{
    DIR *d = opendir(s->conf.devices);
    if (!d) {
        log_warn("%s: %s", s->conf.devices, strerror(errno));
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (obj_devices_check(s->devs, de->d_name) != 0)
            continue;
        size_t n = 0;
        int rc = obj_df_cleanup_device(s->devs, de->d_name, 0, &n);
        if (rc != 0)
            log_warn("cleanup of device %s: %s", de->d_name, strerror(-rc));
        else if (n)
            log_notice("device %s: removed %zu temp files", de->d_name, n);
    }
    closedir(d);
}

/* One pass of one background daemon, run by the daemon itself (which
 * holds the devices' databases open), waited for here. */
static int run_once(struct obj_server *s, int which)
{
    char *out = NULL;
    int rc = obj_bg_run_remote(&s->conf, which == 'R'   ? OBJ_BG_RUN_REPLICATE
                                         : which == 'A' ? OBJ_BG_RUN_AUDIT
                                                        : OBJ_BG_RUN_EXPIRE,
                               &out);
    if (rc == 0)
        printf("%s\n", out);
    free(out);
    obj_conf_release(&s->conf);
    cluster_conf_release(&s->cluster);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *config = DEFAULT_CONFIG;
    bool check_only = false;
    int64_t workers_opt = 0;
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check-config", no_argument, NULL, 'C' },
        { "workers", required_argument, NULL, 'w' },
        { "help", no_argument, NULL, 'h' },
        { "replicate-once", no_argument, NULL, 'R' },
        { "audit-once", no_argument, NULL, 'A' },
        { "expire-once", no_argument, NULL, 'E' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    int once = 0;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            break;
        case 'C':
            check_only = true;
            break;
        case 'w':
            if (parse_i64(optarg, &workers_opt) != 0 || workers_opt < 1 ||
                workers_opt > 256) {
                fprintf(stderr, "cairn-objectd: --workers %s: expected 1..256\n",
                        optarg);
                return 2;
            }
            break;
        case 'R':
        case 'A':
        case 'E':
            once = opt;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    static struct obj_server srv;
    struct conf_errors errs;
    conf_errors_init(&errs);
    obj_conf_load(config, &srv.conf, &errs);
    if (errs.count == 0)
        cluster_conf_load(srv.conf.cluster_conf, &srv.cluster, &errs);
    int level = log_level_parse(srv.conf.log_level ? srv.conf.log_level : "");
    if (errs.count == 0 && level < 0)
        conf_errors_add(&errs, "%s: log_level '%s': expected err, warning, "
                        "notice, info or debug", config, srv.conf.log_level);
    if (check_only || errs.count) {
        int rc = conf_check_report(config, &errs, check_only ? stdout : stderr);
        conf_errors_release(&errs);
        obj_conf_release(&srv.conf);
        cluster_conf_release(&srv.cluster);
        return rc;
    }
    conf_errors_release(&errs);
    if (once)
        return run_once(&srv, once);
    if (workers_opt)
        srv.conf.workers = workers_opt;

    if (srv.conf.log_file[0]) {
        int lrc = reopen_log(srv.conf.log_file);
        if (lrc != 0) {
            fprintf(stderr, "cairn-objectd: %s: log_file %s: %s\n", config,
                    srv.conf.log_file, strerror(-lrc));
            return 2;
        }
    }
    log_set_ident("cairn-objectd");
    log_set_level((enum log_level)level);
    if (srv.conf.log_facility[0] && log_use_syslog(srv.conf.log_facility) != 0) {
        fprintf(stderr, "cairn-objectd: %s: unknown log_facility '%s'\n",
                config, srv.conf.log_facility);
        return 2;
    }
    srv.secret = cluster_conf_secret(&srv.cluster);
    pthread_mutex_init(&srv.db_lock, NULL);
    struct obj_devices_opts dopts = {
        .root = srv.conf.devices,
        .mount_check = srv.conf.mount_check,
        .reclaim_age = (uint64_t)srv.conf.reclaim_age,
    };
    srv.devs = obj_devices_new(&dopts);
    cleanup_devices(&srv);

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
        struct err ee;
        err_clear(&ee);
        srv.eng = eng_start(&ec, &ee);
        if (!srv.eng) {
            log_err("%s", ee.msg);
            return 1;
        }
    }

    /* Signals are taken by sigwait in the main thread only. They are
     * blocked before the first thread is made (the disk pool's, next), as
     * every thread inherits the mask: a thread that left them open would
     * take a SIGHUP or SIGTERM sent while the main thread is not yet in
     * sigwait, and die of it with the whole process. The launcher, forked
     * above, keeps its own mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    srv.bg = obj_bg_new(&srv);
    srv.wq = workq_new((unsigned)srv.conf.disk_threads,
                       (size_t)srv.conf.max_queued);
    if (!srv.wq) {
        log_err("cannot start %lld disk threads: %s",
                (long long)srv.conf.disk_threads, strerror(errno));
        return 1;
    }

    int64_t want_port[OBJ_ROLE_COUNT] = { srv.conf.bind_port,
                                          srv.conf.container_port,
                                          srv.conf.account_port };
    struct http_server_config hcfg;
    http_server_config_init(&hcfg);
    hcfg.body_timeout_ms = (unsigned)srv.conf.client_timeout;
    hcfg.write_timeout_ms = (unsigned)srv.conf.client_timeout;
    hcfg.limits.max_headers =
        (unsigned)cluster_conf_max_header_count(&srv.cluster.constraints) + 10;

    unsigned nw = (unsigned)srv.conf.workers;
    struct wctl *ctl = xcalloc(nw, sizeof(*ctl));
    int rc = 0;
    for (unsigned i = 0; i < nw; i++) {
        struct wctl *c = &ctl[i];
        c->w.srv = &srv;
        c->w.idx = i;
        c->w.base = event_base_new();
        c->w.port = c->w.base ? workq_port_new(srv.wq, c->w.base) : NULL;
        c->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (!c->w.port || c->stop_fd == -1) {
            log_err("worker %u: cannot create its event loop: %s", i,
                    strerror(errno));
            return 1;
        }
        c->stop_ev = event_new(c->w.base, c->stop_fd, EV_READ | EV_PERSIST,
                               stop_cb, c);
        event_add(c->stop_ev, NULL);
        for (int r = 0; r < OBJ_ROLE_COUNT; r++) {
            if (want_port[r] < 0)
                continue;
            /* port 0: the first worker's free port is everyone's */
            int port = srv.ports[r] ? srv.ports[r] : (int)want_port[r];
            struct err e;
            err_clear(&e);
            /* the first worker's socket: refuse a port another process
             * listens on (SO_REUSEPORT would share it silently) */
            int fd = i == 0 && port ? http_port_unused(srv.conf.bind_ip, port, &e) : 0;
            if (fd == 0)
                fd = http_listen(srv.conf.bind_ip, port, 1024, &e);
            if (fd < 0) {
                log_err("%s listener: %s", role_name[r], e.msg);
                /* no worker thread runs yet: free what each set-up worker
                 * (0..i, this one in part) would at its end, then the rest
                 * as at a shutdown */
                for (unsigned j = 0; j <= i; j++) {
                    for (int q = 0; q < OBJ_ROLE_COUNT; q++)
                        http_server_free(ctl[j].w.http[q]);
                    workq_port_free(ctl[j].w.port);
                }
                nw = i + 1;
                rc = 1;
                goto out;
            }
            srv.ports[r] = http_socket_port(fd);
            c->w.http[r] = http_server_new(c->w.base, fd, &hcfg,
                                           role_handler[r], &c->w);
        }
    }
    log_notice("listening on %s: object %d, container %d, account %d; "
               "%u workers, %lld disk threads, devices %s",
               srv.conf.bind_ip, srv.ports[0], srv.ports[1], srv.ports[2], nw,
               (long long)srv.conf.disk_threads, srv.conf.devices);
    for (unsigned i = 0; i < nw; i++) {
        if (pthread_create(&ctl[i].w.thread, NULL, worker_main, &ctl[i]) != 0) {
            log_err("cannot start worker %u", i);
            return 1;
        }
    }

    /* the daemon threads start after the workers, so that a node answers
     * requests before its first pass */
    if (obj_bg_start(srv.bg) != 0)
        return 1;

    for (;;) {
        int sig;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            if (!srv.conf.log_file[0]) {
                log_notice("SIGHUP: logs go to %s, nothing to reopen",
                           srv.conf.log_facility[0] ? "syslog" : "stderr");
                continue;
            }
            int lrc = reopen_log(srv.conf.log_file);
            if (lrc != 0)
                log_err("SIGHUP: cannot reopen %s: %s", srv.conf.log_file,
                        strerror(-lrc));
            else
                log_notice("SIGHUP: reopened %s", srv.conf.log_file);
            continue;
        }
        log_notice("signal %d: shutting down", sig);
        break;
    }
    obj_bg_stop(srv.bg); /* passes on the disk pool end at the drain */
    for (unsigned i = 0; i < nw; i++) {
        uint64_t one = 1;
        if (write(ctl[i].stop_fd, &one, sizeof(one)) != sizeof(one))
            log_warn("worker %u: cannot signal shutdown", i);
    }
    for (unsigned i = 0; i < nw; i++)
        pthread_join(ctl[i].w.thread, NULL);
out:
    workq_shutdown(srv.wq, WORKQ_DRAIN);
    for (unsigned i = 0; i < nw; i++) {
        event_free(ctl[i].stop_ev);
        if (ctl[i].deadline)
            event_free(ctl[i].deadline);
        close(ctl[i].stop_fd);
        event_base_free(ctl[i].w.base);
    }
    free(ctl);
    workq_free(srv.wq);
    obj_bg_free(srv.bg);
    obj_server_close_dbs(&srv);
    obj_devices_free(srv.devs);
    eng_free(srv.eng);
    obj_conf_release(&srv.conf);
    cluster_conf_release(&srv.cluster);
    log_notice("stopped");
    return rc;
}

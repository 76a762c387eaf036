/*
 * obj_repl_bg.c - the context of the background daemons: lazy ring
 * loading, "which devices are mine", the daemon threads and their
 * intervals, and blocking HTTP to peers (libcurl easy).
 *
 * Rings are read through RCU, and every lookup here copies what the
 * caller needs into plain structs before rcu_read_unlock(), so a pass
 * never holds a read-side section across I/O (which would hold back the
 * grace period of a ring reload).
 *
 * Threading: see obj_repl.h. bg->lock guards the ring slots while they
 * are loaded and the stop flag; ring lookups themselves are lock-free.
 */
#define LOG_COMPONENT "objectd"

#include "objectd/obj_repl_int.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_server.h"
#include "ring/ring.h"

static const char *const ring_names[OBJ_BG_RING_COUNT] = {
    "account", "container", "object",
};

static void add_ip(struct obj_bg *bg, const char *ip)
{
    for (size_t i = 0; i < bg->nips; i++)
        if (strcmp(bg->ips[i], ip) == 0)
            return;
    bg->ips = xrealloc(bg->ips, (bg->nips + 1) * sizeof(*bg->ips));
    bg->ips[bg->nips++] = xstrdup(ip);
}

/* Swift's whataremyips: a wildcard bind means every interface address. */
static void find_my_ips(struct obj_bg *bg)
{
    const struct obj_conf *c = &bg->srv->conf;
    for (size_t i = 0; i < c->my_ips.n; i++)
        add_ip(bg, c->my_ips.v[i]);
    if (bg->nips)
        return;
    if (strcmp(c->bind_ip, "0.0.0.0") != 0 && strcmp(c->bind_ip, "::") != 0) {
        add_ip(bg, c->bind_ip);
        return;
    }
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) == -1) {
        log_warn("getifaddrs: %s; no ring device will be local",
                 strerror(errno));
        return;
    }
    for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
        if (!p->ifa_addr)
            continue;
        int fam = p->ifa_addr->sa_family;
        if (fam != AF_INET && fam != AF_INET6)
            continue;
        char host[NI_MAXHOST];
        socklen_t sl = fam == AF_INET ? sizeof(struct sockaddr_in)
                                      : sizeof(struct sockaddr_in6);
        if (getnameinfo(p->ifa_addr, sl, host, sizeof(host), NULL, 0,
                        NI_NUMERICHOST) == 0) {
            char *pct = strchr(host, '%'); /* drop an IPv6 scope */
            if (pct)
                *pct = '\0';
            add_ip(bg, host);
        }
    }
    freeifaddrs(ifa);
}

struct obj_bg *obj_bg_new(struct obj_server *srv)
{
    struct obj_bg *bg = xcalloc(1, sizeof(*bg));
    bg->srv = srv;
    pthread_mutex_init(&bg->lock, NULL);
    pthread_cond_init(&bg->cond, NULL);
    for (int k = 0; k < OBJ_BG_KIND_COUNT; k++)
        pthread_mutex_init(&bg->pass_lock[k], NULL);
    find_my_ips(bg);
    return bg;
}

void obj_bg_stop(struct obj_bg *bg)
{
    if (!bg)
        return;
    pthread_mutex_lock(&bg->lock);
    bg->stop = true;
    atomic_store(&bg->stopping, true);
    pthread_cond_broadcast(&bg->cond);
    pthread_mutex_unlock(&bg->lock);
    for (int k = 0; k < OBJ_BG_KIND_COUNT; k++) {
        if (bg->started[k])
            pthread_join(bg->threads[k], NULL);
        bg->started[k] = false;
    }
}

void obj_bg_free(struct obj_bg *bg)
{
    if (!bg)
        return;
    obj_bg_stop(bg);
    for (int r = 0; r < OBJ_BG_RING_COUNT; r++)
        ring_watch_free(bg->rings[r]);
    for (size_t i = 0; i < bg->nips; i++)
        free(bg->ips[i]);
    free(bg->ips);
    for (int k = 0; k < OBJ_BG_KIND_COUNT; k++)
        pthread_mutex_destroy(&bg->pass_lock[k]);
    pthread_cond_destroy(&bg->cond);
    pthread_mutex_destroy(&bg->lock);
    free(bg);
}

struct ring_watch *obj_bg_ring(struct obj_bg *bg, enum obj_bg_ring kind)
{
    pthread_mutex_lock(&bg->lock);
    struct ring_watch *w = bg->rings[kind];
    if (!w) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s.ring", bg->srv->conf.swift_dir,
                 ring_names[kind]);
        struct err e;
        err_clear(&e);
        w = ring_watch_new(path, (unsigned)bg->srv->conf.ring_check_interval,
                           &e);
        if (w)
            bg->rings[kind] = w;
        else
            log_info("%s ring not loaded: %s", ring_names[kind], e.msg);
    }
    pthread_mutex_unlock(&bg->lock);
    return w;
}

static bool is_my_ip(const struct obj_bg *bg, const char *ip)
{
    for (size_t i = 0; i < bg->nips; i++)
        if (strcmp(bg->ips[i], ip) == 0)
            return true;
    return false;
}

static void node_of(const struct ring_dev *d, struct obj_bg_node *n)
{
    n->id = d->id;
    bool repl = d->replication_ip[0] && d->replication_port;
    str_copy(n->ip, repl ? d->replication_ip : d->ip, sizeof(n->ip));
    n->port = repl ? d->replication_port : d->port;
    str_copy(n->dev, d->device, sizeof(n->dev));
}

size_t obj_bg_local_devs(struct obj_bg *bg, enum obj_bg_ring kind, int port,
                         struct obj_bg_node *out, size_t max)
{
    struct ring_watch *w = obj_bg_ring(bg, kind);
    if (!w)
        return 0;
    size_t n = 0;
    rcu_read_lock();
    const struct ring *r = ring_watch_get(w);
    for (uint32_t id = 0; id < ring_dev_id_limit(r) && n < max; id++) {
        const struct ring_dev *d = ring_dev_by_id(r, id);
        if (!d)
            continue;
        bool mine = (is_my_ip(bg, d->ip) && d->port == port) ||
                    (d->replication_ip[0] && is_my_ip(bg, d->replication_ip) &&
                     d->replication_port == port);
        if (!mine)
            continue;
        /* a device listed twice (two ports) is walked once */
        bool dup = false;
        for (size_t i = 0; i < n; i++)
            dup = dup || strcmp(out[i].dev, d->device) == 0;
        if (!dup)
            node_of(d, &out[n++]);
    }
    rcu_read_unlock();
    return n;
}

size_t obj_bg_primaries(struct obj_bg *bg, enum obj_bg_ring kind,
                        uint32_t part, struct obj_bg_node *out, size_t max)
{
    struct ring_watch *w = obj_bg_ring(bg, kind);
    if (!w)
        return 0;
    const struct ring_dev *devs[OBJ_BG_MAX_REPLICAS];
    if (max > OBJ_BG_MAX_REPLICAS)
        max = OBJ_BG_MAX_REPLICAS;
    rcu_read_lock();
    const struct ring *r = ring_watch_get(w);
    size_t n = ring_primaries(r, part, devs, max);
    for (size_t i = 0; i < n; i++)
        node_of(devs[i], &out[i]);
    rcu_read_unlock();
    return n;
}

int64_t obj_bg_partition(struct obj_bg *bg, enum obj_bg_ring kind,
                         const char *a, const char *c, const char *o)
{
    struct ring_watch *w = obj_bg_ring(bg, kind);
    if (!w)
        return -1;
    rcu_read_lock();
    uint32_t p = ring_partition(ring_watch_get(w), &bg->srv->secret, a, c, o);
    rcu_read_unlock();
    return p;
}

bool obj_bg_sleep(struct obj_bg *bg, uint64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&bg->lock);
    while (!bg->stop &&
           pthread_cond_timedwait(&bg->cond, &bg->lock, &until) != ETIMEDOUT)
        ;
    bool stop = bg->stop;
    pthread_mutex_unlock(&bg->lock);
    return stop;
}

/* ------------------------------------------------------------- threads */

struct daemon_def {
    const char *name;
    int (*pass)(struct obj_bg *, struct obj_bg_stats *);
};

static const struct daemon_def daemons[OBJ_BG_KIND_COUNT] = {
    { "replicator", obj_repl_once },
    { "auditor", obj_auditor_once },
    { "expirer", obj_expirer_once },
};

struct thread_arg {
    struct obj_bg *bg;
    enum obj_bg_daemon kind;
};

static int64_t interval_of(const struct obj_bg *bg, enum obj_bg_daemon k)
{
    const struct obj_conf *c = &bg->srv->conf;
    switch (k) {
    case OBJ_BG_RUN_REPLICATE:
        return c->replicator_interval;
    case OBJ_BG_RUN_AUDIT:
        return c->auditor_interval;
    default:
        return c->expirer_interval;
    }
}

static void *daemon_main(void *arg)
{
    struct thread_arg ta = *(struct thread_arg *)arg;
    free(arg);
    struct obj_bg *bg = ta.bg;
    const struct daemon_def *d = &daemons[ta.kind];
    rcu_register_thread();
    uint64_t ms = (uint64_t)interval_of(bg, ta.kind);
    /* the first pass waits one interval too: a node that just started
     * serves requests first */
    while (!obj_bg_sleep(bg, ms)) {
        struct obj_bg_stats st;
        memset(&st, 0, sizeof(st));
        uint64_t t0 = now_mono_ns();
        int rc = obj_bg_run(bg, ta.kind, &st);
        if (rc != 0 && rc != -ENOENT)
            log_warn("%s pass: %s", d->name, strerror(-rc));
        log_info("%s pass: %llu parts, %llu pushed, %llu failures, %llu "
                 "removed, %llu checked, %llu quarantined, %llu expired in "
                 "%.3fs", d->name, (unsigned long long)st.parts,
                 (unsigned long long)st.pushed,
                 (unsigned long long)st.failures,
                 (unsigned long long)st.removed,
                 (unsigned long long)st.checked,
                 (unsigned long long)st.quarantined,
                 (unsigned long long)st.expired,
                 (double)(now_mono_ns() - t0) / 1e9);
    }
    rcu_unregister_thread();
    return NULL;
}

int obj_bg_run(struct obj_bg *bg, enum obj_bg_daemon which,
               struct obj_bg_stats *st)
{
    int k = (int)which;
    /* a pass works on the rings as they are now, whatever the watcher's
     * interval: an operator who just rebalanced and runs a pass gets it */
    for (int r = 0; r < OBJ_BG_RING_COUNT; r++) {
        pthread_mutex_lock(&bg->lock);
        struct ring_watch *w = bg->rings[r];
        pthread_mutex_unlock(&bg->lock);
        if (w && ring_watch_check(w) == 1)
            log_notice("%s ring reloaded", ring_names[r]);
    }
    pthread_mutex_lock(&bg->pass_lock[k]);
    int rc = daemons[k].pass(bg, st);
    pthread_mutex_unlock(&bg->pass_lock[k]);
    return rc;
}

int obj_bg_start(struct obj_bg *bg)
{
    for (int k = 0; k < OBJ_BG_KIND_COUNT; k++) {
        if (interval_of(bg, (enum obj_bg_daemon)k) <= 0)
            continue;
        struct thread_arg *ta = xmalloc(sizeof(*ta));
        ta->bg = bg;
        ta->kind = (enum obj_bg_daemon)k;
        int rc = pthread_create(&bg->threads[k], NULL, daemon_main, ta);
        if (rc != 0) {
            free(ta);
            log_err("cannot start the %s thread: %s", daemons[k].name,
                    strerror(rc));
            return -rc;
        }
        bg->started[k] = true;
    }
    return 0;
}

/* ------------------------------------------------------------- http */

struct obj_bg_http {
    struct obj_bg *bg;
    CURL *curl;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct obj_bg_http *obj_bg_http_new(struct obj_bg *bg)
{
    pthread_once(&curl_once, curl_init_once);
    struct obj_bg_http *h = xcalloc(1, sizeof(*h));
    h->bg = bg;
    h->curl = curl_easy_init();
    if (!h->curl)
        abort(); /* out of memory: as xmalloc */
    return h;
}

void obj_bg_http_free(struct obj_bg_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

/* Responses we read are JSON listings of suffix hashes: bounded. */
#define RESP_MAX (4u << 20)

struct resp_buf {
    char *p;
    size_t len;
    bool want;
    bool too_big;
};

static size_t write_cb(char *ptr, size_t size, size_t n, void *arg)
{
    struct resp_buf *b = arg;
    size_t len = size * n;
    if (!b->want)
        return len;
    if (b->len + len > RESP_MAX) {
        b->too_big = true;
        return 0;
    }
    b->p = xrealloc(b->p, b->len + len + 1);
    memcpy(b->p + b->len, ptr, len);
    b->len += len;
    b->p[b->len] = '\0';
    return len;
}

struct body_src {
    obj_bg_read_fn *fn;
    void *arg;
    uint64_t off, len;
};

static size_t read_cb(char *ptr, size_t size, size_t n, void *arg)
{
    struct body_src *s = arg;
    size_t want = size * n;
    if (want > s->len - s->off)
        want = (size_t)(s->len - s->off);
    if (want == 0)
        return 0;
    ssize_t got = s->fn(s->arg, ptr, want, s->off);
    if (got <= 0)
        return CURL_READFUNC_ABORT; /* short file: the peer sees a short
                                       body and stores nothing */
    s->off += (uint64_t)got;
    return (size_t)got;
}

int obj_bg_http_do(struct obj_bg_http *h, struct obj_bg_req *r)
{
    const struct obj_conf *c = &h->bg->srv->conf;
    CURL *cu = h->curl;
    char url[512];
    bool v6 = strchr(r->node->ip, ':') != NULL;
    snprintf(url, sizeof(url), "http://%s%s%s:%d", v6 ? "[" : "", r->node->ip,
             v6 ? "]" : "", r->node->port);
    size_t ul = strlen(url);
    char *full = xmalloc(ul + strlen(r->path) + 1);
    memcpy(full, url, ul);
    memcpy(full + ul, r->path, strlen(r->path) + 1);

    struct resp_buf rb = { .want = r->want_resp };
    struct body_src src = { .fn = r->body_fn, .arg = r->body_arg,
                            .len = r->body_len };
    curl_easy_reset(cu);
    curl_easy_setopt(cu, CURLOPT_URL, full);
    curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, r->method);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, (long)c->conn_timeout);
    /* a body may be large: give up on a stalled peer, not a slow one */
    curl_easy_setopt(cu, CURLOPT_LOW_SPEED_LIMIT, 1L);
    long stall = (long)((c->node_timeout + 999) / 1000);
    curl_easy_setopt(cu, CURLOPT_LOW_SPEED_TIME, stall > 0 ? stall : 1L);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, &rb);
    if (r->body_fn) {
        curl_easy_setopt(cu, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(cu, CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t)r->body_len);
        curl_easy_setopt(cu, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(cu, CURLOPT_READDATA, &src);
    } else if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
    }
    CURLcode cc = curl_easy_perform(cu);
    free(full);
    long code = 0;
    curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &code);
    if (cc != CURLE_OK && !(code >= 100 && rb.too_big == false &&
                            cc == CURLE_SEND_ERROR)) {
        free(rb.p);
        log_warn("%s %s:%d%s: %s", r->method, r->node->ip, r->node->port,
                 r->path, curl_easy_strerror(cc));
        return cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
    }
    r->resp = rb.p;
    if (r->want_resp && !r->resp)
        r->resp = xstrdup("");
    return (int)code;
}

ssize_t obj_bg_read_mem(void *arg, void *buf, size_t len, uint64_t off)
{
    const char *s = arg;
    size_t n = strlen(s);
    if (off >= n)
        return 0;
    if (len > n - off)
        len = (size_t)(n - off);
    memcpy(buf, s + off, len);
    return (ssize_t)len;
}

char *obj_bg_path(const char *dev, uint32_t part, const char *name)
{
    size_t nl = strlen(name);
    char *q = xmalloc(3 * nl + 1);
    names_quote(name, nl, "/", q);
    char *out = xasprintf("/%s/%u%s", dev, part, q);
    free(q);
    return out;
}

int obj_bg_run_remote(const struct obj_conf *conf, enum obj_bg_daemon which,
                      char **out)
{
    static const char *const paths[] = { "/replicate", "/audit", "/expire" };
    pthread_once(&curl_once, curl_init_once);
    const char *ip = conf->bind_ip;
    if (strcmp(ip, "0.0.0.0") == 0)
        ip = "127.0.0.1";
    else if (strcmp(ip, "::") == 0)
        ip = "::1";
    bool v6 = strchr(ip, ':') != NULL;
    char url[256];
    snprintf(url, sizeof(url), "http://%s%s%s:%lld%s", v6 ? "[" : "", ip,
             v6 ? "]" : "", (long long)conf->bind_port, paths[which]);
    CURL *cu = curl_easy_init();
    if (!cu)
        abort();
    struct resp_buf rb = { .want = true };
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, "RUN");
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, &rb);
    CURLcode cc = curl_easy_perform(cu);
    long code = 0;
    curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(cu);
    if (cc != CURLE_OK || code != 200) {
        fprintf(stderr, "cairn-objectd: RUN %s: %s\n", url,
                cc != CURLE_OK ? curl_easy_strerror(cc)
                : rb.p ? rb.p : "failed");
        free(rb.p);
        return cc != CURLE_OK ? -EIO : -EPROTO;
    }
    *out = rb.p ? rb.p : xstrdup("{}");
    return 0;
}

/*
 * obj_updater.c - updates that one node owes another: object rows sent to
 * container replicas after an object PUT/DELETE, container totals sent to
 * account replicas, and the "async pending" files that keep the ones that
 * failed until they land.
 *
 * A batch is one update (method, path, headers) sent to every target at
 * once with the common/http.h client on the worker's loop. Targets that do
 * not answer 2xx are written, with the headers, to one JSON file per
 * update under <devices>/<dev>/async_pending/<suffix>/ (file_write_atomic:
 * complete and fsynced, or absent). Unlike Swift, the file names the
 * targets themselves, so the retry needs no ring; a retry that lands on
 * some targets rewrites the file with the rest and deletes it when none is
 * left. Worker 0 sweeps the directories every updater_interval.
 *
 * Account roll-up: a container keeps the account targets the proxy named
 * on its PUT (sysmeta OBJ_ACCT_TARGETS_KEY). When an object row changes
 * its totals, the container is marked dirty on the worker that applied it;
 * each worker's timer (account_update_interval) reads the totals of its
 * dirty containers and reports them (Swift's container-updater, batched
 * by time instead of a full scan). A failed report is saved like any
 * update, one file per container (a newer report replaces an older one).
 *
 * Connections: a target's request goes over a keep-alive connection the
 * worker kept from an earlier update to the same host:port when there is
 * one (struct obj_upd_idle; the proxy's backend pool does the same), so a
 * small PUT or DELETE does not pay a TCP handshake per container replica.
 * Idle connections are reused for IDLE_REUSE_MS only (the peer closes
 * them after its own idle timeout), and a request that fails on a reused
 * connection before any answer is sent once more on a new one, since the
 * peer may have closed it just then. The pool is emptied by
 * obj_updater_stop, after which connections are closed when done.
 *
 * Threading: batches, sweeps, dirty sets and idle connections live on one
 * worker's loop; file and db work runs on the disk pool.
 */
#define LOG_COMPONENT "objectd"

#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_db.h"
#include "objectd/obj_srv_int.h"

/* ------------------------------------------------------------ targets */

static int split_list(const char *v, char out[][64], int max)
{
    int n = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if (n == max || (size_t)(t - p) >= 64)
            return -EINVAL;
        memcpy(out[n], p, (size_t)(t - p));
        out[n][t - p] = '\0';
        n++;
        p = e;
    }
    return n;
}

static int parse_targets(const char *hosts, const char *devs, const char *parts,
                         struct obj_upd_target *t, int max)
{
    if (!hosts && !devs && !parts)
        return 0;
    if (!hosts || !devs || !parts)
        return -EINVAL;
    char hv[OBJ_UPD_MAX_TARGETS][64], dv[OBJ_UPD_MAX_TARGETS][64],
        pv[OBJ_UPD_MAX_TARGETS][64];
    int nh = split_list(hosts, hv, max), nd = split_list(devs, dv, max),
        np = split_list(parts, pv, max);
    if (nh < 0 || nd < 0 || np < 0 || nh != nd)
        return -EINVAL;
    /* Swift sends one partition for all the container's replicas */
    if (np != nh && np != 1)
        return -EINVAL;
    for (int i = 0; i < nh; i++) {
        char *colon = strrchr(hv[i], ':');
        uint64_t port;
        if (!colon || parse_u64(colon + 1, &port) != 0 || port == 0 ||
            port > 65535)
            return -EINVAL;
        *colon = '\0';
        const char *host = hv[i];
        if (host[0] == '[') { /* [v6]:port */
            host++;
            size_t l = strlen(host);
            if (l && host[l - 1] == ']')
                ((char *)host)[l - 1] = '\0';
        }
        str_copy(t[i].host, host, sizeof(t[i].host));
        t[i].port = (int)port;
        str_copy(t[i].dev, dv[i], sizeof(t[i].dev));
        str_copy(t[i].part, pv[np == 1 ? 0 : i], sizeof(t[i].part));
    }
    return nh;
}

int obj_upd_parse_targets(struct http_req *req, const char *prefix,
                          struct obj_upd_target *t, int max)
{
    char h[64], d[64], p[64];
    snprintf(h, sizeof(h), "%sHost", prefix);
    snprintf(d, sizeof(d), "%sDevice", prefix);
    snprintf(p, sizeof(p), "%sPartition", prefix);
    return parse_targets(http_req_header(req, h), http_req_header(req, d),
                         http_req_header(req, p), t, max);
}

static json_t *targets_json(const struct obj_upd_target *t, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s,s:i,s:s,s:s}", "host",
                                           t[i].host, "port", t[i].port, "dev",
                                           t[i].dev, "part", t[i].part));
    return a;
}

static int targets_from_json(json_t *a, struct obj_upd_target *t, int max)
{
    if (!json_is_array(a))
        return -EINVAL;
    int n = 0;
    size_t i;
    json_t *o;
    json_array_foreach(a, i, o) {
        const char *host, *dev, *part;
        int port;
        if (n == max || json_unpack(o, "{s:s,s:i,s:s,s:s}", "host", &host,
                                    "port", &port, "dev", &dev, "part",
                                    &part) != 0)
            return -EINVAL;
        str_copy(t[n].host, host, sizeof(t[n].host));
        t[n].port = port;
        str_copy(t[n].dev, dev, sizeof(t[n].dev));
        str_copy(t[n].part, part, sizeof(t[n].part));
        n++;
    }
    return n;
}

/* ------------------------------------------------------------ connections */

/* Idle connections kept per worker, and how long one stays reusable (well
 * under a peer's 60 s idle timeout, as the proxy's pool). */
#define IDLE_MAX 64
#define IDLE_REUSE_MS 20000

struct idle_conn {
    struct http_client *c;
    char host[64];
    int port;
    uint64_t since_ms;
};

struct obj_upd_idle {
    size_t n;
    struct idle_conn v[IDLE_MAX];
};

static uint64_t mono_ms(void)
{
    return now_mono_ns() / 1000000u;
}

static struct obj_upd_idle *idle_of(struct obj_worker *w)
{
    if (!w->upd_idle)
        w->upd_idle = xcalloc(1, sizeof(*w->upd_idle));
    return w->upd_idle;
}

/* A reusable idle connection to host:port (taken out of the pool), or
 * NULL. Stale ones met on the way are closed. */
static struct http_client *idle_take(struct obj_worker *w, const char *host,
                                     int port)
{
    if (w->upd_stopped)
        return NULL;
    struct obj_upd_idle *p = idle_of(w);
    uint64_t now = mono_ms();
    for (size_t i = p->n; i-- > 0;) {
        struct idle_conn *ic = &p->v[i];
        bool stale = now - ic->since_ms >= IDLE_REUSE_MS ||
                     !http_client_reusable(ic->c);
        if (!stale && (ic->port != port || strcmp(ic->host, host) != 0))
            continue;
        struct http_client *c = ic->c;
        p->v[i] = p->v[--p->n];
        if (!stale)
            return c;
        http_client_free(c);
    }
    return NULL;
}

/* Keeps c for the next update to host:port, or closes it. */
static void idle_put(struct obj_worker *w, const char *host, int port,
                     struct http_client *c)
{
    if (w->upd_stopped || !http_client_reusable(c)) {
        http_client_free(c);
        return;
    }
    struct obj_upd_idle *p = idle_of(w);
    if (p->n == IDLE_MAX) {
        /* the oldest goes */
        http_client_free(p->v[0].c);
        memmove(&p->v[0], &p->v[1], (IDLE_MAX - 1) * sizeof(p->v[0]));
        p->n--;
    }
    struct idle_conn *ic = &p->v[p->n++];
    ic->c = c;
    str_copy(ic->host, host, sizeof(ic->host));
    ic->port = port;
    ic->since_ms = mono_ms();
}

/* Idle connections keep the loop running: closed when the worker stops. */
static void idle_stop(struct obj_worker *w)
{
    struct obj_upd_idle *p = w->upd_idle;
    w->upd_stopped = true;
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        http_client_free(p->v[i].c);
    free(p);
    w->upd_idle = NULL;
}

/* ------------------------------------------------------------ batches */

struct upd_batch;

struct upd_one {
    struct upd_batch *b;
    struct obj_upd_target t;
    struct http_client *c;
    int status;
    bool ok;
    bool reused;          /* c came from the idle pool */
};

struct upd_batch {
    struct obj_worker *w;
    char *method;
    char *path;           /* "/a/c/o", quoted */
    json_t *hdrs;
    char *file;           /* async-pending file for the failures */
    bool from_file;       /* a retry: delete or rewrite file at the end */
    bool supersede;       /* success removes an older saved copy */
    bool no_timer;        /* done only when every target has answered */
    int n, pending;
    struct upd_one one[OBJ_UPD_MAX_TARGETS];
    obj_upd_done_fn *done;
    void *arg;
    struct event *timer;
    char *payload;        /* what the file job writes; NULL = unlink */
    int n404;             /* targets that answered 404 */
    int *n404_out;        /* reported to the caller with done */
};

static void batch_free(struct upd_batch *b)
{
    if (b->timer)
        event_free(b->timer);
    free(b->method);
    free(b->path);
    json_decref(b->hdrs);
    free(b->file);
    free(b->payload);
    free(b);
}

static void batch_call_done(struct upd_batch *b)
{
    obj_upd_done_fn *d = b->done;
    b->done = NULL;
    if (d && b->n404_out)
        *b->n404_out = b->n404;
    if (b->timer)
        event_del(b->timer);
    if (d)
        d(b->arg);
}

static int file_work(void *arg)
{
    struct upd_batch *b = arg;
    if (b->payload == NULL) {
        if (unlink(b->file) == -1 && errno != ENOENT)
            return -errno;
        return 0;
    }
    char *dir = xstrdup(b->file);
    *strrchr(dir, '/') = '\0';
    int rc = mkdir_p(dir);
    free(dir);
    if (rc == 0)
        rc = file_write_atomic(b->file, b->payload, strlen(b->payload));
    return rc;
}

static void file_done(void *arg, int status)
{
    struct upd_batch *b = arg;
    if (status != 0)
        log_err("async pending %s: %s", b->file, strerror(-status));
    else if (b->payload && !b->from_file)
        atomic_fetch_add(&b->w->srv->n_async_saved, 1);
    else if (!b->payload)
        atomic_fetch_add(&b->w->srv->n_async_done, 1);
    batch_call_done(b);
    batch_free(b);
}

static void batch_finish(struct upd_batch *b)
{
    struct obj_upd_target failed[OBJ_UPD_MAX_TARGETS];
    int nf = 0;
    for (int i = 0; i < b->n; i++)
        if (!b->one[i].ok)
            failed[nf++] = b->one[i].t;
    if (nf == 0 && !b->from_file && !b->supersede) {
        batch_call_done(b);
        batch_free(b);
        return;
    }
    if (nf == b->n && b->from_file) {
        /* nothing landed: the file stays as it is */
        batch_call_done(b);
        batch_free(b);
        return;
    }
    if (nf > 0) {
        json_t *j = json_pack("{s:s,s:s,s:O,s:o}", "op", b->method, "path",
                              b->path, "headers", b->hdrs, "targets",
                              targets_json(failed, nf));
        b->payload = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
    }
    if (workq_submit(b->w->port, file_work, file_done, b) != 0) {
        log_err("async pending %s: disk queue full, update lost", b->file);
        batch_call_done(b);
        batch_free(b);
    }
}

static void one_response(struct http_client *c, const struct http_head *resp,
                         void *arg)
{
    struct upd_one *o = arg;
    (void)c;
    o->status = resp->status;
}

static void one_body(struct http_client *c, struct evbuffer *body, void *arg)
{
    (void)c;
    (void)arg;
    evbuffer_drain(body, evbuffer_get_length(body));
}

static int one_start(struct upd_one *o, bool may_reuse);

static void one_done(struct http_client *c, int err, void *arg)
{
    struct upd_one *o = arg;
    struct upd_batch *b = o->b;
    if (err < 0 && o->status == 0 && o->reused) {
        /* the peer may have closed the idle connection as we used it */
        http_client_free(c);
        c = NULL;
        o->c = NULL;
        if (one_start(o, false) == 0)
            return;
    }
    o->ok = err == 0 && o->status >= 200 && o->status < 300;
    if (err == 0 && o->status == 404)
        b->n404++;
    if (!o->ok)
        log_warn("%s %s:%d/%s/%s%s failed: %s (status %d), saved for the "
                 "updater",
                 b->method, o->t.host, o->t.port, o->t.dev, o->t.part, b->path,
                 err ? strerror(-err) : "bad status", o->status);
    if (err == 0)
        idle_put(b->w, o->t.host, o->t.port, c);
    else
        http_client_free(c);
    o->c = NULL;
    if (--b->pending == 0)
        batch_finish(b);
}

static const struct http_client_ops one_ops = {
    .response = one_response,
    .body = one_body,
    .done = one_done,
};

static void batch_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    batch_call_done(arg);
}

/* Sends o's request, over an idle connection when may_reuse and there is
 * one. Returns 0 (one_done will run) or a negative errno (it will not). */
static int one_start(struct upd_one *o, bool may_reuse)
{
    struct upd_batch *b = o->b;
    struct obj_server *srv = b->w->srv;
    o->status = 0;
    o->c = may_reuse ? idle_take(b->w, o->t.host, o->t.port) : NULL;
    o->reused = o->c != NULL;
    if (!o->c) {
        struct http_client_config cfg;
        http_client_config_init(&cfg);
        cfg.connect_timeout_ms = (unsigned)srv->conf.conn_timeout;
        cfg.io_timeout_ms = (unsigned)srv->conf.node_timeout;
        o->c = http_client_new(b->w->base, o->t.host, o->t.port, &cfg);
    }
    const char *k;
    json_t *v;
    json_object_foreach(b->hdrs, k, v)
        http_client_header(o->c, k, json_string_value(v));
    http_client_header(o->c, "User-Agent", "cairn-objectd");
    char *target = xasprintf("/%s/%s%s", o->t.dev, o->t.part, b->path);
    int rc = http_client_start(o->c, b->method, target, 0, &one_ops, o);
    free(target);
    if (rc == 0)
        rc = http_client_end(o->c);
    if (rc != 0) {
        http_client_free(o->c);
        o->c = NULL;
    }
    return rc;
}

static void batch_start(struct upd_batch *b)
{
    struct obj_server *srv = b->w->srv;
    b->pending = b->n;
    int not_started = 0;
    if (b->done && !b->no_timer && srv->conf.container_update_timeout > 0) {
        b->timer = evtimer_new(b->w->base, batch_timeout, b);
        struct timeval tv = {
            .tv_sec = srv->conf.container_update_timeout / 1000,
            .tv_usec = (srv->conf.container_update_timeout % 1000) * 1000,
        };
        evtimer_add(b->timer, &tv);
    }
    for (int i = 0; i < b->n; i++) {
        struct upd_one *o = &b->one[i];
        o->b = b;
        int rc = one_start(o, true);
        if (rc != 0) {
            /* done will not come for a request that never started; client
             * callbacks never run from inside this loop, so pending cannot
             * reach 0 before the loop ends */
            log_warn("%s %s:%d%s: cannot start: %s", b->method, o->t.host,
                     o->t.port, b->path, strerror(-rc));
            o->ok = false;
            not_started++;
        }
    }
    b->pending -= not_started;
    if (b->pending == 0)
        batch_finish(b);
}

static char *pending_file(struct obj_server *srv, const char *dev,
                          const char *hash, const char *tail)
{
    return xasprintf("%s/%s/async_pending/%s/%s-%s", srv->conf.devices, dev,
                     hash + 29, hash, tail);
}

void obj_upd_send(struct obj_worker *w, const char *method, const char *path,
                  json_t *hdrs, const struct obj_upd_target *t, int nt,
                  const char *dev, const char *hash, const struct ts *ts,
                  obj_upd_done_fn *done, void *arg)
{
    struct upd_batch *b = xcalloc(1, sizeof(*b));
    b->w = w;
    b->method = xstrdup(method);
    b->path = xstrdup(path);
    b->hdrs = json_deep_copy(hdrs);
    char tb[TS_INTERNAL_LEN];
    ts_internal(ts, tb);
    b->file = pending_file(w->srv, dev, hash, tb);
    b->n = nt;
    for (int i = 0; i < nt; i++)
        b->one[i].t = t[i];
    b->done = done;
    b->arg = arg;
    batch_start(b);
}

/* ------------------------------------------------------------ sweeps */

#define SWEEP_MAX 256

struct sweep {
    struct obj_worker *w;
    char **files;
    json_t **docs;
    size_t n, next;
    bool full;
    int inflight;          /* batches started and not done */
    bool starting;         /* inside sweep_pump's loop */
};

/* Files retried at once, as Swift's object-updater concurrency. */
#define SWEEP_CONCURRENCY 8

static void sweep_collect_dir(struct sweep *s, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while (s->n < SWEEP_MAX && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *path = xasprintf("%s/%s", dir, de->d_name);
        json_error_t je;
        json_t *doc = json_load_file(path, 0, &je);
        if (!doc) {
            /* a temp file of file_write_atomic or a damaged file */
            free(path);
            continue;
        }
        s->files[s->n] = path;
        s->docs[s->n] = doc;
        s->n++;
    }
    if (s->n == SWEEP_MAX)
        s->full = true;
    closedir(d);
}

static int sweep_work(void *arg)
{
    struct sweep *s = arg;
    const char *root = s->w->srv->conf.devices;
    DIR *d = opendir(root);
    if (!d)
        return -errno;
    struct dirent *de;
    while (s->n < SWEEP_MAX && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *ap = xasprintf("%s/%s/async_pending", root, de->d_name);
        DIR *sd = opendir(ap);
        if (sd) {
            struct dirent *se;
            while (s->n < SWEEP_MAX && (se = readdir(sd)) != NULL) {
                if (se->d_name[0] == '.')
                    continue;
                char *sub = xasprintf("%s/%s", ap, se->d_name);
                sweep_collect_dir(s, sub);
                free(sub);
            }
            closedir(sd);
        }
        free(ap);
    }
    closedir(d);
    return 0;
}

static void sweep_free(struct sweep *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->files[i]);
        json_decref(s->docs[i]);
    }
    free(s->files);
    free(s->docs);
    free(s);
}

static void sweep_next(void *arg);

static void sweep_schedule(struct obj_worker *w, int64_t ms)
{
    if (w->updater_ev == NULL) /* shutting down */
        return;
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    evtimer_add(w->updater_ev, &tv);
}

static void sweep_pump(struct sweep *s);

/* A batch of the sweep is done (possibly from inside batch_start). */
static void sweep_next(void *arg)
{
    struct sweep *s = arg;
    s->inflight--;
    if (!s->starting)
        sweep_pump(s);
}

/* Starts batches until SWEEP_CONCURRENCY are in flight; ends the sweep
 * when every file has been tried and none is in flight. */
static void sweep_pump(struct sweep *s)
{
    struct obj_worker *w = s->w;
    s->starting = true;
    while (s->inflight < SWEEP_CONCURRENCY && s->next < s->n) {
        size_t i = s->next++;
        json_t *doc = s->docs[i];
        const char *op, *path;
        json_t *hdrs, *tj;
        struct obj_upd_target t[OBJ_UPD_MAX_TARGETS];
        int nt = -1;
        if (json_unpack(doc, "{s:s,s:s,s:o,s:o}", "op", &op, "path", &path,
                        "headers", &hdrs, "targets", &tj) == 0)
            nt = targets_from_json(tj, t, OBJ_UPD_MAX_TARGETS);
        if (nt <= 0) {
            log_warn("async pending %s: unreadable, left alone", s->files[i]);
            continue;
        }
        struct upd_batch *b = xcalloc(1, sizeof(*b));
        b->w = w;
        b->method = xstrdup(op);
        b->path = xstrdup(path);
        b->hdrs = json_incref(hdrs);
        b->file = xstrdup(s->files[i]);
        b->from_file = true;
        b->n = nt;
        for (int k = 0; k < nt; k++)
            b->one[k].t = t[k];
        /* no early answer for a retry: done means the batch is over */
        b->no_timer = true;
        b->done = sweep_next;
        b->arg = s;
        s->inflight++;
        batch_start(b);
    }
    s->starting = false;
    if (s->inflight > 0 || s->next < s->n)
        return;
    bool full = s->full;
    sweep_free(s);
    w->updater_busy = false;
    sweep_schedule(w, full ? 0 : w->srv->conf.updater_interval);
}

static void sweep_listed(void *arg, int status)
{
    struct sweep *s = arg;
    if (status != 0 && status != -ENOENT)
        log_warn("updater: cannot list %s: %s", s->w->srv->conf.devices,
                 strerror(-status));
    sweep_pump(s);
}

static void sweep_timer(evutil_socket_t fd, short what, void *arg)
{
    struct obj_worker *w = arg;
    (void)fd;
    (void)what;
    if (w->updater_busy)
        return;
    struct sweep *s = xcalloc(1, sizeof(*s));
    s->w = w;
    s->files = xcalloc(SWEEP_MAX, sizeof(*s->files));
    s->docs = xcalloc(SWEEP_MAX, sizeof(*s->docs));
    w->updater_busy = true;
    if (workq_submit(w->port, sweep_work, sweep_listed, s) != 0) {
        sweep_free(s);
        w->updater_busy = false;
        sweep_schedule(w, w->srv->conf.updater_interval);
    }
}

/* ------------------------------------------------------------ account roll-up */

struct obj_acct_dirty {
    struct obj_acct_dirty *next;
    char *dev, *account, *container;
    /* filled by the job */
    bool have;
    struct obj_db_cont_info info;
    char *targets;
};

struct rollup {
    struct obj_worker *w;
    struct obj_acct_dirty *list;
};

static void dirty_free(struct obj_acct_dirty *d)
{
    while (d) {
        struct obj_acct_dirty *n = d->next;
        if (d->have)
            obj_db_cont_info_release(&d->info);
        free(d->dev);
        free(d->account);
        free(d->container);
        free(d->targets);
        free(d);
        d = n;
    }
}

static void rollup_schedule(struct obj_worker *w)
{
    if (w->acct_ev == NULL || evtimer_pending(w->acct_ev, NULL))
        return;
    int64_t ms = w->srv->conf.account_update_interval;
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    evtimer_add(w->acct_ev, &tv);
}

void obj_acct_mark_dirty(struct obj_worker *w, const char *dev,
                         const char *account, const char *container)
{
    for (struct obj_acct_dirty *d = w->dirty; d; d = d->next)
        if (strcmp(d->dev, dev) == 0 && strcmp(d->account, account) == 0 &&
            strcmp(d->container, container) == 0)
            return;
    struct obj_acct_dirty *d = xcalloc(1, sizeof(*d));
    d->dev = xstrdup(dev);
    d->account = xstrdup(account);
    d->container = xstrdup(container);
    d->next = w->dirty;
    w->dirty = d;
    rollup_schedule(w);
}

static int rollup_work(void *arg)
{
    struct rollup *r = arg;
    for (struct obj_acct_dirty *d = r->list; d; d = d->next) {
        struct obj_db *db;
        if (obj_server_db(r->w->srv, d->dev, &db) != 0)
            continue;
        if (obj_db_cont_get_info(db, d->account, d->container, &d->info) != 0)
            continue;
        d->have = true;
        for (size_t i = 0; i < d->info.nmeta; i++)
            if (strcasecmp(d->info.meta[i].key, OBJ_ACCT_TARGETS_KEY) == 0 &&
                d->info.meta[i].value[0])
                d->targets = xstrdup(d->info.meta[i].value);
    }
    return 0;
}

/* Targets are kept as "host:port/dev/part,..." */
static int targets_from_sysmeta(const char *v, struct obj_upd_target *t,
                                int max)
{
    char items[OBJ_UPD_MAX_TARGETS][64];
    int n = split_list(v, items, max);
    int k = 0;
    for (int i = 0; i < n; i++) {
        char *s1 = strchr(items[i], '/');
        char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (!s2)
            continue;
        *s1 = *s2 = '\0';
        int r = parse_targets(items[i], s1 + 1, s2 + 1, &t[k], 1);
        if (r == 1)
            k++;
    }
    return k;
}

char *obj_acct_targets_sysmeta(const struct obj_upd_target *t, int n)
{
    size_t cap = 1 + (size_t)n * 200;
    char *s = xcalloc(1, cap);
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%s:%d/%s/%s",
                                i ? "," : "", t[i].host, t[i].port, t[i].dev,
                                t[i].part);
    return s;
}

void obj_acct_report(struct obj_worker *w, const char *dev,
                     const struct obj_db_cont_info *info,
                     const struct obj_upd_target *t, int nt,
                     obj_upd_done_fn *done, void *arg, int *n404)
{
    json_t *h = json_object();
    char b[TS_INTERNAL_LEN];
    ts_internal(&info->put_ts, b);
    json_object_set_new(h, "X-Put-Timestamp", json_string(b));
    ts_internal(&info->delete_ts, b);
    json_object_set_new(h, "X-Delete-Timestamp", json_string(b));
    json_object_set_new(h, "X-Object-Count",
                        json_sprintf("%llu", (unsigned long long)info->object_count));
    json_object_set_new(h, "X-Bytes-Used",
                        json_sprintf("%llu", (unsigned long long)info->bytes_used));
    json_object_set_new(h, "X-Backend-Storage-Policy-Index",
                        json_sprintf("%u", info->policy_index));
    json_object_set_new(h, "X-Timestamp", json_string(b));
    char *name = xasprintf("/%s/%s", info->account, info->container);
    size_t nl = strlen(name);
    char *q = xmalloc(3 * nl + 1);
    names_quote(name, nl, "/", q);
    char hash[MD5_HEX_LEN];
    hashpath_hex(&w->srv->secret, info->account, info->container, NULL, hash);

    struct upd_batch *bt = xcalloc(1, sizeof(*bt));
    bt->w = w;
    bt->method = xstrdup("PUT");
    bt->path = q;
    bt->hdrs = h;
    /* one file per container: a newer report replaces an older one */
    bt->file = pending_file(w->srv, dev, hash, "account");
    bt->supersede = true;
    bt->n = nt;
    for (int i = 0; i < nt; i++)
        bt->one[i].t = t[i];
    bt->done = done;
    bt->arg = arg;
    bt->n404_out = n404;
    if (n404)
        *n404 = 0;
    free(name);
    batch_start(bt);
}

static void rollup_done(void *arg, int status)
{
    struct rollup *r = arg;
    (void)status;
    for (struct obj_acct_dirty *d = r->list; d; d = d->next) {
        if (!d->have || !d->targets)
            continue;
        struct obj_upd_target t[OBJ_UPD_MAX_TARGETS];
        int nt = targets_from_sysmeta(d->targets, t, OBJ_UPD_MAX_TARGETS);
        if (nt > 0)
            obj_acct_report(r->w, d->dev, &d->info, t, nt, NULL, NULL, NULL);
    }
    dirty_free(r->list);
    free(r);
}

static void rollup_timer(evutil_socket_t fd, short what, void *arg)
{
    struct obj_worker *w = arg;
    (void)fd;
    (void)what;
    if (!w->dirty)
        return;
    struct rollup *r = xcalloc(1, sizeof(*r));
    r->w = w;
    r->list = w->dirty;
    w->dirty = NULL;
    if (workq_submit(w->port, rollup_work, rollup_done, r) != 0) {
        /* try again next time */
        w->dirty = r->list;
        free(r);
        rollup_schedule(w);
    }
}

void obj_updater_start(struct obj_worker *w)
{
    w->upd_stopped = false;
    w->acct_ev = evtimer_new(w->base, rollup_timer, w);
    if (w->dirty)
        rollup_schedule(w);
    if (w->idx != 0)
        return;
    w->updater_ev = evtimer_new(w->base, sweep_timer, w);
    sweep_schedule(w, 0);
}

void obj_updater_stop(struct obj_worker *w)
{
    if (w->updater_ev)
        event_free(w->updater_ev);
    w->updater_ev = NULL;
    if (w->acct_ev)
        event_free(w->acct_ev);
    w->acct_ev = NULL;
    dirty_free(w->dirty);
    w->dirty = NULL;
    idle_stop(w);
}

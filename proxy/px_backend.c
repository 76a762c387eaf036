/*
 * px_backend.c - keep-alive pool, error limits, fan-out and read engines
 * toward the storage nodes; see px_backend.h.
 *
 * Lifetime rule: every engine state lives in the client request's pool and
 * registers a pool cleanup that frees the backend connections still in use,
 * so when the client request ends early (client gone, answer sent before
 * the last node replied) no backend callback can run on freed memory.
 */
#define LOG_COMPONENT "proxy"
#include "proxy/px_backend.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/http.h"
#include "common/log.h"
#include "common/names.h"
#include "common/pool.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "proxy/px_quorum.h"
#include "proxy/px_storlet.h"

/* ------------------------------------------------------------ idle pool */

/* Idle connections older than this are not reused: a storage node closes
 * a keep-alive connection after its idle timeout (60 s by default), and a
 * request sent just as it does so would fail for nothing. */
#define IDLE_REUSE_MS 20000

struct idle_conn {
    struct http_client *c;
    uint64_t since_ms;
};

struct idle_addr {
    char ip[64];
    uint16_t port;
    unsigned timeout_ms;  /* the io timeout the connections were made with */
    size_t n, cap;
    struct idle_conn *v;
};

struct px_idle {
    size_t max;
    size_t naddr, cap;
    struct idle_addr *addrs;
};

struct px_idle *px_idle_new(size_t max_per_addr)
{
    struct px_idle *p = xcalloc(1, sizeof(*p));
    p->max = max_per_addr;
    return p;
}

void px_idle_free(struct px_idle *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->naddr; i++) {
        for (size_t k = 0; k < p->addrs[i].n; k++)
            http_client_free(p->addrs[i].v[k].c);
        free(p->addrs[i].v);
    }
    free(p->addrs);
    free(p);
}

static struct idle_addr *idle_find(struct px_idle *p, const struct px_node *n,
                                   unsigned timeout_ms, bool create)
{
    for (size_t i = 0; i < p->naddr; i++)
        if (p->addrs[i].port == n->port &&
            p->addrs[i].timeout_ms == timeout_ms &&
            strcmp(p->addrs[i].ip, n->ip) == 0)
            return &p->addrs[i];
    if (!create)
        return NULL;
    if (p->naddr == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        p->addrs = xrealloc(p->addrs, p->cap * sizeof(*p->addrs));
    }
    struct idle_addr *a = &p->addrs[p->naddr++];
    memset(a, 0, sizeof(*a));
    str_copy(a->ip, n->ip, sizeof(a->ip));
    a->port = n->port;
    a->timeout_ms = timeout_ms;
    return a;
}

struct http_client *px_conn_get(struct px_worker *w, const struct px_node *n,
                                unsigned timeout_ms)
{
    struct idle_addr *a = idle_find(w->idle, n, timeout_ms, false);
    uint64_t now = px_now_ms();
    while (a && a->n) {
        struct idle_conn ic = a->v[--a->n];
        if (http_client_reusable(ic.c) && now - ic.since_ms < IDLE_REUSE_MS)
            return ic.c;
        http_client_free(ic.c);
    }
    struct http_client_config cfg;
    http_client_config_init(&cfg);
    cfg.connect_timeout_ms = (unsigned)w->srv->conf.conn_timeout;
    cfg.io_timeout_ms = timeout_ms;
    return http_client_new(w->base, n->ip, n->port, &cfg);
}

void px_conn_put(struct px_worker *w, const struct px_node *n,
                 unsigned timeout_ms, struct http_client *c)
{
    if (!c)
        return;
    if (!http_client_reusable(c) || w->idle->max == 0) {
        http_client_free(c);
        return;
    }
    struct idle_addr *a = idle_find(w->idle, n, timeout_ms, true);
    if (a->n >= w->idle->max) {
        http_client_free(c);
        return;
    }
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 8;
        a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
    }
    a->v[a->n++] = (struct idle_conn){c, px_now_ms()};
}

/* ------------------------------------------------------------ error limits */

struct errl_entry {
    char key[200];
    unsigned errors;
    uint64_t last_ms;
};

struct px_errl {
    unsigned limit;
    uint64_t interval;
    size_t n, cap;
    struct errl_entry *v;
};

uint64_t px_now_ms(void)
{
    return now_mono_ns() / 1000000u;
}

struct px_errl *px_errl_new(unsigned limit, uint64_t interval_ms)
{
    struct px_errl *e = xcalloc(1, sizeof(*e));
    e->limit = limit;
    e->interval = interval_ms;
    return e;
}

void px_errl_free(struct px_errl *e)
{
    if (!e)
        return;
    free(e->v);
    free(e);
}

static struct errl_entry *errl_find(struct px_errl *e, const struct px_node *n,
                                    bool create)
{
    char key[200];
    snprintf(key, sizeof(key), "%s:%u/%s", n->ip, n->port, n->device);
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->v[i].key, key) == 0)
            return &e->v[i];
    if (!create)
        return NULL;
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 16;
        e->v = xrealloc(e->v, e->cap * sizeof(*e->v));
    }
    struct errl_entry *x = &e->v[e->n++];
    memset(x, 0, sizeof(*x));
    str_copy(x->key, key, sizeof(x->key));
    return x;
}

bool px_errl_limited(struct px_errl *e, const struct px_node *n,
                     uint64_t now_ms)
{
    struct errl_entry *x = errl_find(e, n, false);
    if (!x || !x->errors)
        return false;
    if (now_ms - x->last_ms > e->interval) {
        x->errors = 0; /* forgotten after a quiet interval */
        return false;
    }
    return x->errors > e->limit;
}

void px_errl_error(struct px_errl *e, const struct px_node *n, uint64_t now_ms,
                   bool hard)
{
    struct errl_entry *x = errl_find(e, n, true);
    if (x->errors && now_ms - x->last_ms > e->interval)
        x->errors = 0;
    x->errors = hard ? e->limit + 1 : x->errors + 1;
    x->last_ms = now_ms;
    if (x->errors == e->limit + 1)
        log_warn("node %s error limited", x->key);
}

bool px_status_is_node_error(int status)
{
    return status <= 0 || (status >= 500 && status != 507);
}

static void node_failed(struct px_worker *w, const struct px_node *n,
                        int status)
{
    if (status == 507)
        px_errl_error(w->errl, n, px_now_ms(), true);
    else if (px_status_is_node_error(status))
        px_errl_error(w->errl, n, px_now_ms(), false);
}

/* ------------------------------------------------------------ headers */

void px_hdrs_copy(struct pool *p, const struct http_head *h,
                  struct px_hdrs *out)
{
    out->n = h->nheaders;
    out->v = pool_alloc(p, (h->nheaders + 1) * sizeof(*out->v));
    for (unsigned i = 0; i < h->nheaders; i++) {
        out->v[i].name = pool_strndup(p, h->headers[i].name,
                                      h->headers[i].name_len);
        out->v[i].value = pool_strndup(p, h->headers[i].value,
                                       h->headers[i].value_len);
    }
}

const char *px_hdrs_get(const struct px_hdrs *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->v[i].name, name) == 0)
            return h->v[i].value;
    return NULL;
}

char *px_backend_path(struct pool *p, const struct px_node *n, uint32_t part,
                      const char *a, const char *c, const char *o,
                      const char *query)
{
    size_t len = strlen(a) + (c ? strlen(c) : 0) + (o ? strlen(o) : 0);
    char *q = pool_alloc(p, 3 * len + 3 + 1);
    size_t k = names_quote(a, strlen(a), "", q);
    if (c) {
        q[k++] = '/';
        k += names_quote(c, strlen(c), "", q + k);
    }
    if (o) {
        q[k++] = '/';
        k += names_quote(o, strlen(o), "/", q + k);
    }
    size_t tl = strlen(n->device) * 3 + 16 + k + (query ? strlen(query) : 0) + 4;
    char *t = pool_alloc(p, tl);
    char dev[200];
    names_quote(n->device, strnlen(n->device, 60), "", dev);
    snprintf(t, tl, "/%s/%u/%s%s%s", dev, part, q, query ? "?" : "",
             query ? query : "");
    return t;
}

/* ------------------------------------------------------------ fan-out */

struct fan_slot {
    struct px_fan *fan;
    size_t idx;
    struct http_client *c;
    struct evbuffer *body;
    bool finished;
};

struct px_fan {
    struct px_req *pr;
    const char *method;
    struct px_nodes *nodes;
    size_t count, next_handoff;
    const char *a, *c, *o, *query;
    const void *body;
    size_t body_len;
    px_fan_hdr_fn *hdr_fn;
    px_fan_done_fn *done;
    void *arg;
    size_t pending;
    bool dead;
    struct fan_slot *slots;
    struct px_fan_reply *replies;
};

static void fan_send(struct fan_slot *s);

static void fan_cleanup(void *arg)
{
    struct px_fan *f = arg;
    f->dead = true;
    for (size_t i = 0; i < f->count; i++) {
        http_client_free(f->slots[i].c);
        f->slots[i].c = NULL;
        if (f->slots[i].body)
            evbuffer_free(f->slots[i].body);
        f->slots[i].body = NULL;
    }
}

static void fan_slot_finish(struct fan_slot *s)
{
    struct px_fan *f = s->fan;
    s->finished = true;
    if (--f->pending == 0 && !f->dead)
        f->done(f->pr, f->replies, f->count, f->arg);
}

/* Next node for a slot whose node failed: the next unused handoff. */
static bool fan_replace(struct fan_slot *s)
{
    struct px_fan *f = s->fan;
    uint64_t now = px_now_ms();
    px_nodes_load_handoffs(f->pr, f->nodes);
    while (f->next_handoff < f->nodes->n) {
        struct px_node *n = &f->nodes->v[f->next_handoff++];
        if (!px_errl_limited(f->pr->w->errl, n, now)) {
            f->replies[s->idx].node = n;
            return true;
        }
    }
    return false;
}

static void fan_on_response(struct http_client *c, const struct http_head *h,
                            void *arg)
{
    (void)c;
    struct fan_slot *s = arg;
    struct px_fan_reply *r = &s->fan->replies[s->idx];
    r->status = h->status;
    px_hdrs_copy(s->fan->pr->pool, h, &r->hdrs);
}

static void fan_on_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    (void)c;
    struct fan_slot *s = arg;
    if (!s->body)
        s->body = evbuffer_new();
    if (evbuffer_get_length(s->body) < 65536)
        evbuffer_remove_buffer(b, s->body, 65536 - evbuffer_get_length(s->body));
    evbuffer_drain(b, evbuffer_get_length(b));
}

static void fan_on_done(struct http_client *c, int err, void *arg)
{
    struct fan_slot *s = arg;
    struct px_fan *f = s->fan;
    struct px_fan_reply *r = &f->replies[s->idx];
    const struct px_node *n = r->node;
    s->c = NULL;
    if (err < 0) {
        http_client_free(c);
        if (r->status == 0)
            log_notice("%s %s:%u/%s: %s", f->method, n->ip, n->port,
                       n->device, strerror(-err));
        node_failed(f->pr->w, n, r->status ? r->status : -1);
    } else {
        px_conn_put(f->pr->w, n, (unsigned)f->pr->srv->conf.node_timeout, c);
        node_failed(f->pr->w, n, r->status);
    }
    if (s->body) {
        size_t len = evbuffer_get_length(s->body);
        r->body = pool_alloc(f->pr->pool, len + 1);
        evbuffer_remove(s->body, r->body, len);
        r->body[len] = '\0';
        r->body_len = len;
        evbuffer_free(s->body);
        s->body = NULL;
    }
    if ((err < 0 && r->status == 0) || r->status == 507) {
        r->status = 0;
        r->hdrs.n = 0;
        if (fan_replace(s)) {
            fan_send(s);
            return;
        }
    }
    fan_slot_finish(s);
}

static const struct http_client_ops fan_ops = {
    .response = fan_on_response,
    .body = fan_on_body,
    .done = fan_on_done,
};

static void fan_send(struct fan_slot *s)
{
    struct px_fan *f = s->fan;
    struct px_req *pr = f->pr;
    struct px_fan_reply *r = &f->replies[s->idx];
    r->status = 0;
    s->c = px_conn_get(pr->w, r->node, (unsigned)pr->srv->conf.node_timeout);
    if (pr->ts[0])
        http_client_header(s->c, "X-Timestamp", pr->ts);
    http_client_header(s->c, "X-Trans-Id", pr->txn);
    http_client_header(s->c, "X-Backend-Storage-Policy-Index", "0");
    if (f->hdr_fn)
        f->hdr_fn(pr, s->c, s->idx, f->arg);
    char *target = px_backend_path(pr->pool, r->node, f->nodes->part, f->a,
                                   f->c, f->o, f->query);
    int rc = http_client_start(s->c, f->method, target, (int64_t)f->body_len,
                               &fan_ops, s);
    if (rc == 0 && f->body_len)
        rc = http_client_write(s->c, f->body, f->body_len);
    if (rc == 0)
        rc = http_client_end(s->c);
    if (rc < 0) {
        /* The connection cannot be used: the done callback will not run. */
        http_client_free(s->c);
        s->c = NULL;
        node_failed(pr->w, r->node, -1);
        if (fan_replace(s)) {
            fan_send(s);
            return;
        }
        fan_slot_finish(s);
    }
}

void px_fan_start(struct px_req *pr, const char *method, struct px_nodes *nodes,
                  size_t count, const char *a, const char *c, const char *o,
                  const char *query, const void *body, size_t body_len,
                  px_fan_hdr_fn *hdr_fn, px_fan_done_fn *done, void *arg)
{
    struct px_fan *f = pool_calloc(pr->pool, sizeof(*f));
    f->pr = pr;
    f->method = method;
    f->nodes = nodes;
    f->count = count < nodes->replicas ? count : nodes->replicas;
    f->next_handoff = nodes->replicas;
    f->a = a;
    f->c = c;
    f->o = o;
    f->query = query;
    f->body = body;
    f->body_len = body_len;
    f->hdr_fn = hdr_fn;
    f->done = done;
    f->arg = arg;
    f->slots = pool_calloc(pr->pool, (f->count + 1) * sizeof(*f->slots));
    f->replies = pool_calloc(pr->pool, (f->count + 1) * sizeof(*f->replies));
    pool_cleanup_add(pr->pool, fan_cleanup, f);
    f->pending = f->count;
    if (f->count == 0) {
        f->pending = 1;
        f->slots[0].fan = f;
        fan_slot_finish(&f->slots[0]);
        return;
    }
    uint64_t now = px_now_ms();
    for (size_t i = 0; i < f->count; i++) {
        struct fan_slot *s = &f->slots[i];
        s->fan = f;
        s->idx = i;
        f->replies[i].node = &nodes->v[i];
        if (px_errl_limited(pr->w->errl, &nodes->v[i], now) && !fan_replace(s))
            continue; /* no node: finished below */
    }
    for (size_t i = 0; i < f->count; i++) {
        struct fan_slot *s = &f->slots[i];
        if (f->dead)
            return;
        if (px_errl_limited(pr->w->errl, f->replies[i].node, now))
            fan_slot_finish(s);
        else
            fan_send(s);
    }
}

/* ------------------------------------------------------------ reads */

struct px_read {
    struct px_req *pr;
    const char *method;
    struct px_nodes *nodes;
    const char *a, *c, *o, *query;
    const struct px_read_ops *ops;
    void *arg;
    size_t next;          /* next node index */
    size_t tried, n404;
    int *statuses;
    struct px_hdrs last404;
    bool have404;
    struct http_client *cl;
    struct px_node *node;
    int status;           /* of the current attempt */
    /* The current attempt's node answered for a storlet it ran
     * (X-Storlet-Executed-On): a 5xx or a broken body is then the
     * storlet's failure, which a tenant controls, not the node's, and
     * must not error-limit the node for every tenant. */
    bool storlet_answer;
    bool chosen, dead, paused;
    /* Resuming a relayed 200 whose node failed mid-body: the next node is
     * asked for bytes delivered.. with If-Match: etag. */
    bool resumable, resuming;
    uint64_t delivered;
    char *etag;
};

static void read_next(struct px_read *rd);

static void read_cleanup(void *arg)
{
    struct px_read *rd = arg;
    rd->dead = true;
    http_client_free(rd->cl);
    rd->cl = NULL;
}

void px_read_abort(struct px_read *rd)
{
    read_cleanup(rd);
}

void px_read_pause(struct px_read *rd)
{
    if (rd->cl && !rd->paused) {
        rd->paused = true;
        http_client_pause(rd->cl);
    }
}

void px_read_resume(struct px_read *rd)
{
    if (rd->cl && rd->paused) {
        rd->paused = false;
        http_client_resume(rd->cl);
    }
}

static unsigned read_timeout(const struct px_req *pr)
{
    return pr->read_timeout_ms ? pr->read_timeout_ms : px_read_timeout(pr->srv);
}

static bool default_usable(int status)
{
    return (status >= 200 && status < 400) || status == 412 || status == 416;
}

static void read_on_response(struct http_client *c, const struct http_head *h,
                             void *arg)
{
    (void)c;
    struct px_read *rd = arg;
    rd->status = h->status;
    rd->storlet_answer = http_head_get(h, "X-Storlet-Executed-On") != NULL;
    bool ok = rd->ops->usable ? rd->ops->usable(h->status, h, rd->arg)
                              : default_usable(h->status);
    if (rd->resuming) {
        /* Only the rest of the same object will do. */
        if (h->status == 206) {
            rd->chosen = true;
            rd->resuming = false;
            log_notice("GET resumed at byte %llu from %s:%u/%s",
                       (unsigned long long)rd->delivered, rd->node->ip,
                       rd->node->port, rd->node->device);
        }
        return;
    }
    if (ok) {
        rd->chosen = true;
        const char *et = http_head_get(h, "ETag");
        rd->resumable = !rd->ops->body && h->status == 200 && et &&
                        strcmp(rd->method, "GET") == 0 &&
                        h->body == HTTP_BODY_LENGTH &&
                        !http_req_header(rd->pr->req, "Range") &&
                        !http_req_header(rd->pr->req, "If-Match");
        if (rd->resumable)
            rd->etag = pool_strdup(rd->pr->pool, et);
        rd->ops->response(rd->pr, rd, h, rd->arg);
    } else if (h->status == 404) {
        px_hdrs_copy(rd->pr->pool, h, &rd->last404);
        rd->have404 = true;
    }
}

static void req_drain(struct http_req *req, void *arg)
{
    (void)req;
    px_read_resume(arg);
}

static const struct http_req_ops relay_req_ops = {
    .drain = req_drain,
};

static void read_on_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    (void)c;
    struct px_read *rd = arg;
    if (!rd->chosen) {
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    if (rd->ops->body) {
        rd->ops->body(rd->pr, rd, b, rd->arg);
        return;
    }
    struct http_req *req = rd->pr->req;
    if (http_resp_wants_more(req)) {
        rd->delivered += evbuffer_get_length(b);
        http_resp_add_buffer(req, b);
    }
    if (!http_resp_wants_more(req) || evbuffer_get_length(b)) {
        http_req_set_ops(req, &relay_req_ops, rd);
        px_read_pause(rd);
    }
}

static void read_on_done(struct http_client *c, int err, void *arg)
{
    struct px_read *rd = arg;
    struct px_node *n = rd->node;
    rd->cl = NULL;
    if (err < 0) {
        http_client_free(c);
        log_notice("%s %s:%u/%s: %s", rd->method, n->ip, n->port, n->device,
                   strerror(-err));
        if (!rd->storlet_answer)
            node_failed(rd->pr->w, n, rd->status ? rd->status : -1);
    } else {
        px_conn_put(rd->pr->w, n, read_timeout(rd->pr), c);
        if (!rd->storlet_answer)
            node_failed(rd->pr->w, n, rd->status);
    }
    if (rd->chosen && err < 0 && rd->resumable && !rd->pr->done) {
        /* The client has part of the body: carry on from another node. */
        rd->chosen = false;
        rd->resuming = true;
        rd->paused = false;
        read_next(rd);
        return;
    }
    if (rd->chosen) {
        rd->ops->end(rd->pr, err, rd->arg);
        return;
    }
    if (rd->resuming) {
        read_next(rd);
        return;
    }
    rd->statuses[rd->tried++] = err < 0 && !rd->status ? 503 : rd->status;
    if (rd->status == 404)
        rd->n404++;
    read_next(rd);
}

static void read_on_interim(struct http_client *c, const struct http_head *h, void *arg)
{
    struct px_read *rd = arg;
    px_storlet_interim(rd->pr, c, h);
}

static const struct http_client_ops read_ops = {
    .interim = read_on_interim,
    .response = read_on_response,
    .body = read_on_body,
    .done = read_on_done,
};

static void read_next(struct px_read *rd)
{
    struct px_req *pr = rd->pr;
    uint64_t now = px_now_ms();
    size_t q = px_quorum_size(rd->nodes->replicas);
    while (!rd->dead) {
        if (rd->next >= rd->nodes->n) {
            /* Primaries exhausted: handoffs, unless a quorum said 404. */
            if (rd->n404 >= q)
                break;
            px_nodes_load_handoffs(pr, rd->nodes);
            if (rd->next >= rd->nodes->n)
                break;
        }
        struct px_node *n = &rd->nodes->v[rd->next++];
        if (n->handoff && rd->n404 >= q)
            break;
        if (px_errl_limited(pr->w->errl, n, now))
            continue;
        rd->node = n;
        rd->status = 0;
        rd->storlet_answer = false;
        rd->paused = false;
        rd->cl = px_conn_get(pr->w, n, read_timeout(pr));
        if (pr->ts[0])
            http_client_header(rd->cl, "X-Timestamp", pr->ts);
        http_client_header(rd->cl, "X-Trans-Id", pr->txn);
        http_client_header(rd->cl, "X-Backend-Storage-Policy-Index", "0");
        if (rd->resuming) {
            http_client_headerf(rd->cl, "Range", "bytes=%llu-",
                                (unsigned long long)rd->delivered);
            http_client_header(rd->cl, "If-Match", rd->etag);
        } else if (rd->ops->headers) {
            rd->ops->headers(pr, rd->cl, rd->arg);
        }
        char *t = px_backend_path(pr->pool, n, rd->nodes->part, rd->a, rd->c,
                                  rd->o, rd->query);
        int rc = http_client_start(rd->cl, rd->method, t, 0, &read_ops, rd);
        if (rc == 0)
            rc = http_client_end(rd->cl);
        if (rc == 0)
            return;
        http_client_free(rd->cl);
        rd->cl = NULL;
        node_failed(pr->w, n, -1);
        if (!rd->resuming)
            rd->statuses[rd->tried++] = 503;
    }
    if (rd->dead)
        return;
    if (rd->resuming) {
        rd->resuming = false;
        rd->chosen = true;
        rd->ops->end(pr, -EIO, rd->arg);
        return;
    }
    int st = px_best_status(rd->statuses, rd->tried, rd->nodes->replicas,
                            false);
    rd->ops->failed(pr, st, rd->have404 ? &rd->last404 : NULL, rd->arg);
}

struct px_read *px_read_start(struct px_req *pr, const char *method,
                              struct px_nodes *nodes, const char *a,
                              const char *c, const char *o, const char *query,
                              const struct px_read_ops *ops, void *arg)
{
    struct px_read *rd = pool_calloc(pr->pool, sizeof(*rd));
    rd->pr = pr;
    rd->method = method;
    rd->nodes = nodes;
    rd->a = a;
    rd->c = c;
    rd->o = o;
    rd->query = query;
    rd->ops = ops;
    rd->arg = arg;
    rd->statuses = pool_calloc(pr->pool, (nodes->replicas +
                                          nodes->max_handoffs + 1) *
                                             sizeof(int));
    pool_cleanup_add(pr->pool, read_cleanup, rd);
    read_next(rd);
    return rd;
}

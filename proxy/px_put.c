/*
 * px_put.c - object PUT and COPY: one body streamed to every primary at
 * once (a failed or error-limited primary replaced by a handoff), success
 * on a quorum of 2xx answers with matching ETags.
 *
 * The body comes from the client (PUT) or from a GET of the source object
 * (COPY, PUT with X-Copy-From): a backend GET, or, when the source is a
 * large object's manifest (X-Object-Manifest) and the request does not ask
 * ?multipart-manifest=get, a loopback GET of it with the caller's token,
 * which assembles the segments (px_dlo.c): as Swift's copy, the copy holds
 * the assembled bytes, not the manifest. Either way it is moved in chunks of at most
 * 64 KiB, and only while every backend connection wants more; otherwise the
 * source is paused (http_req_pause / px_read_pause) until a backend drains.
 * So the proxy holds about one chunk plus the connections' watermarks per
 * request whatever the object size and however slow either side is.
 *
 * Every request carries Expect: 100-continue (a zero-byte body is sent
 * chunked so that there is a body to wait for), so that a node refusing (507, 412 for If-None-Match: *) or failing to
 * connect is known, and replaced by a handoff, before any body byte is
 * taken from the source.
 */
#define LOG_COMPONENT "proxy"
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/bug.h"
#include "common/http.h"
#include "common/log.h"
#include "common/names.h"
#include "common/pool.h"
#include "common/timestamp.h"
#include "common/util.h"
#include "proxy/px_cap.h"
#include "proxy/px_ctl_int.h"
#include "proxy/px_mime.h"
#include "proxy/px_quorum.h"
#include "proxy/px_rules.h"
#include "proxy/px_slo.h"
#include "proxy/px_storlet.h"

#define PUT_CHUNK 65536

struct px_put;

struct put_slot {
    struct px_put *put;
    size_t idx;
    struct px_node *node;
    struct http_client *c;
    bool connecting;  /* request sent, waiting for 100 Continue */
    bool ready;       /* may receive body bytes */
    bool finished;    /* the node's answer is complete (or it failed) */
    int status;
    char etag[64];
};

struct px_put {
    struct px_req *pr;
    struct px_nodes nodes, cont;
    size_t n, next_handoff;
    struct put_slot *slots;
    int64_t length;          /* body length or HTTP_LENGTH_UNKNOWN */
    uint64_t sent;
    struct px_hdrs out;      /* headers for the object nodes */
    bool streaming, src_done, answered, dead;
    bool quorum_timed_out;   /* post_quorum_timeout passed */
    struct event *pq_timer;  /* post_quorum_timeout, once a quorum is in */
    /* COPY */
    struct px_read *src;
    struct http_client *lsrc; /* loopback GET of a large object source */
    bool assembled;           /* the source is lsrc's assembled object */
    /* a body built here (an SLO manifest, px_slo.c) */
    struct evbuffer *mem;
    const char *resp_etag;    /* the ETag answered instead of the nodes' */
    struct px_nodes src_nodes;
    char *src_container, *src_object;
    char *copied_from;       /* quoted "c/o" */
    const char *dest_container;
    char *src_last_modified;
    char tsbuf[TS_NORMAL_LEN];
};

static void slot_connect(struct put_slot *s);
static void check_ready(struct px_put *p);
static void check_complete(struct px_put *p);

static void put_cleanup(void *arg)
{
    struct px_put *p = arg;
    p->dead = true;
    if (p->pq_timer)
        event_free(p->pq_timer);
    p->pq_timer = NULL;
    for (size_t i = 0; i < p->n; i++) {
        http_client_free(p->slots[i].c);
        p->slots[i].c = NULL;
    }
    if (p->src)
        px_read_abort(p->src);
    http_client_free(p->lsrc);
    p->lsrc = NULL;
    if (p->mem)
        evbuffer_free(p->mem);
    p->mem = NULL;
}

static void put_answer(struct px_put *p, int status)
{
    if (p->answered || p->pr->done)
        return;
    p->answered = true;
    px_reply(p->pr, status);
    /* The connections still open are not wanted any more. */
    for (size_t i = 0; i < p->n; i++) {
        http_client_free(p->slots[i].c);
        p->slots[i].c = NULL;
    }
    if (p->src) {
        px_read_abort(p->src);
        p->src = NULL;
    }
    http_client_free(p->lsrc);
    p->lsrc = NULL;
}

static size_t count_live(const struct px_put *p)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->slots[i].ready && !p->slots[i].finished)
            k++;
    return k;
}

static bool all_want_more(const struct px_put *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct put_slot *s = &p->slots[i];
        if (s->ready && !s->finished && s->c && !http_client_wants_more(s->c))
            return false;
    }
    return true;
}

static void mem_pump(struct px_put *p);

static void src_pause(struct px_put *p)
{
    if (p->mem)
        return; /* mem_pump runs again on the next drain */
    if (p->src)
        px_read_pause(p->src);
    else if (p->lsrc)
        http_client_pause(p->lsrc);
    else
        http_req_pause(p->pr->req);
}

static void src_resume(struct px_put *p)
{
    if (p->mem)
        mem_pump(p);
    else if (p->src)
        px_read_resume(p->src);
    else if (p->lsrc)
        http_client_resume(p->lsrc);
    else
        http_req_resume(p->pr->req);
}

/* Moves what the backends can take from b; pauses the source if bytes
 * are left. Returns -1 after answering the client. */
static int feed(struct px_put *p, struct evbuffer *b)
{
    static __thread char buf[PUT_CHUNK];
    while (evbuffer_get_length(b) && all_want_more(p)) {
        int n = evbuffer_remove(b, buf, sizeof(buf));
        if (n <= 0)
            break;
        p->sent += (uint64_t)n;
        if (p->sent > p->pr->srv->cluster.constraints.max_file_size) {
            put_answer(p, 413);
            return -1;
        }
        for (size_t i = 0; i < p->n; i++) {
            struct put_slot *s = &p->slots[i];
            if (s->ready && !s->finished && s->c &&
                http_client_write(s->c, buf, (size_t)n) < 0) {
                /* More than the announced length: the source lied. */
                put_answer(p, 499);
                return -1;
            }
        }
    }
    if (evbuffer_get_length(b))
        src_pause(p);
    return 0;
}

static void body_done(struct px_put *p)
{
    if (p->answered)
        return;
    p->src_done = true;
    if (p->mem) {
        evbuffer_free(p->mem);
        p->mem = NULL;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct put_slot *s = &p->slots[i];
        if (s->ready && !s->finished && s->c && http_client_end(s->c) < 0) {
            /* Fewer bytes than announced (a COPY source cut short). */
            put_answer(p, 503);
            return;
        }
    }
    check_complete(p);
}

/* Moves what the backends take of the body built here; ends it once
 * empty. */
static void mem_pump(struct px_put *p)
{
    if (p->answered || p->src_done || feed(p, p->mem) < 0)
        return;
    if (!evbuffer_get_length(p->mem))
        body_done(p);
}

/* ---- client body */

static void req_body(struct http_req *req, struct evbuffer *b, void *arg)
{
    (void)req;
    struct px_put *p = arg;
    if (p->answered) {
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    feed(p, b);
}

static void req_body_end(struct http_req *req, void *arg)
{
    (void)req;
    body_done(arg);
}

static const struct http_req_ops put_req_ops = {
    .body = req_body,
    .body_end = req_body_end,
};

/* ---- backend callbacks */

static void slot_cont(struct http_client *c, void *arg)
{
    (void)c;
    struct put_slot *s = arg;
    s->connecting = false;
    s->ready = true;
    check_ready(s->put);
}

static void slot_response(struct http_client *c, const struct http_head *h,
                          void *arg)
{
    (void)c;
    struct put_slot *s = arg;
    s->status = h->status;
    const char *e = http_head_get(h, "ETag");
    if (e) {
        if (*e == '"')
            e++;
        str_copy(s->etag, e, sizeof(s->etag));
        size_t l = strlen(s->etag);
        if (l && s->etag[l - 1] == '"')
            s->etag[l - 1] = '\0';
    }
}

static void slot_drain(struct http_client *c, void *arg)
{
    (void)c;
    struct put_slot *s = arg;
    struct px_put *p = s->put;
    if (p->streaming && !p->src_done && !p->answered && all_want_more(p))
        src_resume(p);
}

static bool replace_node(struct put_slot *s)
{
    struct px_put *p = s->put;
    uint64_t now = px_now_ms();
    px_nodes_load_handoffs(p->pr, &p->nodes);
    while (p->next_handoff < p->nodes.n) {
        struct px_node *n = &p->nodes.v[p->next_handoff++];
        if (!px_errl_limited(p->pr->w->errl, n, now)) {
            s->node = n;
            return true;
        }
    }
    return false;
}

static void slot_done(struct http_client *c, int err, void *arg)
{
    struct put_slot *s = arg;
    struct px_put *p = s->put;
    struct px_worker *w = p->pr->w;
    bool before_body = !s->ready;
    s->c = NULL;
    if (err < 0) {
        http_client_free(c);
        log_notice("PUT %s:%u/%s: %s", s->node->ip, s->node->port,
                   s->node->device, strerror(-err));
        px_errl_error(w->errl, s->node, px_now_ms(), false);
        if (!s->status)
            s->status = 503;
        else if (!p->src_done)
            s->status = 503; /* answered before the body was sent */
    } else {
        px_conn_put(w, s->node, (unsigned)p->pr->srv->conf.node_timeout, c);
        if (s->status == 507)
            px_errl_error(w->errl, s->node, px_now_ms(), true);
        else if (px_status_is_node_error(s->status))
            px_errl_error(w->errl, s->node, px_now_ms(), false);
    }
    if (p->answered)
        return;
    if (before_body && (s->status == 503 || s->status == 507) &&
        !p->streaming && replace_node(s)) {
        s->status = 0;
        s->connecting = false;
        slot_connect(s);
        return;
    }
    s->connecting = false;
    s->finished = true;
    if (!p->streaming) {
        check_ready(p);
        return;
    }
    if (!p->src_done && count_live(p) < px_quorum_size(p->nodes.replicas)) {
        put_answer(p, 503);
        return;
    }
    if (!p->src_done && all_want_more(p))
        src_resume(p);
    check_complete(p);
}

static const struct http_client_ops slot_ops = {
    .cont = slot_cont,
    .response = slot_response,
    .drain = slot_drain,
    .done = slot_done,
};

static void slot_connect(struct put_slot *s)
{
    struct px_put *p = s->put;
    struct px_req *pr = p->pr;
    s->c = px_conn_get(pr->w, s->node, (unsigned)pr->srv->conf.node_timeout);
    s->connecting = true;
    http_client_header(s->c, "X-Timestamp", pr->ts);
    http_client_header(s->c, "X-Trans-Id", pr->txn);
    http_client_header(s->c, "X-Backend-Storage-Policy-Index", "0");
    for (size_t i = 0; i < p->out.n; i++)
        http_client_header(s->c, p->out.v[i].name, p->out.v[i].value);
    px_container_update_headers(pr, s->c, &p->cont, s->idx,
                                p->nodes.replicas);
    /* Always 100-continue, so that no node commits anything before a
     * quorum is known to be there; a zero-byte body goes chunked (a
     * request with Content-Length: 0 has no body to wait for), as Swift. */
    http_client_header(s->c, "Expect", "100-continue");
    char *t = px_backend_path(pr->pool, s->node, p->nodes.part,
                              pr->path.account, pr->path.container,
                              pr->path.object, NULL);
    int rc = http_client_start(s->c, "PUT", t,
                               p->length == 0 ? HTTP_LENGTH_UNKNOWN
                                              : p->length,
                               &slot_ops, s);
    if (rc < 0) {
        http_client_free(s->c);
        s->c = NULL;
        s->connecting = false;
        px_errl_error(pr->w->errl, s->node, px_now_ms(), false);
        if (replace_node(s)) {
            slot_connect(s);
            return;
        }
        s->finished = true;
        s->status = 503;
    }
}

/* Every slot is ready or has failed: start the body, or give up. */
static void check_ready(struct px_put *p)
{
    if (p->streaming || p->answered || p->dead)
        return;
    size_t ready = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->slots[i].connecting)
            return;
        if (p->slots[i].ready && !p->slots[i].finished)
            ready++;
    }
    if (ready < px_quorum_size(p->nodes.replicas)) {
        int st = 503;
        for (size_t i = 0; i < p->n; i++)
            if (p->slots[i].status == 412)
                st = 412;
        put_answer(p, st);
        return;
    }
    p->streaming = true;
    if (p->length == 0) {
        if (p->src) {
            px_read_abort(p->src);
            p->src = NULL;
        }
        http_client_free(p->lsrc);
        p->lsrc = NULL;
        body_done(p);
        return;
    }
    if (p->mem)
        mem_pump(p);
    else if (p->src)
        px_read_resume(p->src);
    else if (p->lsrc)
        http_client_resume(p->lsrc);
    else
        http_req_set_ops(p->pr->req, &put_req_ops, p);
}

static void on_post_quorum(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct px_put *p = arg;
    p->quorum_timed_out = true;
    check_complete(p);
}

static void check_complete(struct px_put *p)
{
    if (p->answered || !p->src_done)
        return;
    size_t pending = 0, good = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (!p->slots[i].finished)
            pending++;
        else if (p->slots[i].status >= 200 && p->slots[i].status < 300)
            good++;
    }
    if (pending && !p->quorum_timed_out) {
        /* With a quorum of successes in, wait for the others only
         * post_quorum_timeout longer (a slow node must not hold the
         * client); the nodes still writing finish or are repaired by
         * replication. */
        if (good >= px_quorum_size(p->nodes.replicas) && !p->pq_timer) {
            int64_t ms = p->pr->srv->conf.post_quorum_timeout;
            struct timeval tv = {(time_t)(ms / 1000),
                                 (suseconds_t)(ms % 1000) * 1000};
            p->pq_timer = evtimer_new(p->pr->w->base, on_post_quorum, p);
            evtimer_add(p->pq_timer, &tv);
        }
        return;
    }
    int st[16] = {0};
    size_t k = p->n < 16 ? p->n : 16;
    for (size_t i = 0; i < k; i++)
        st[i] = p->slots[i].status ? p->slots[i].status : 503;
    int best = px_best_status(st, k, p->nodes.replicas, false);
    const char *etag = NULL;
    if (best >= 200 && best < 300) {
        for (size_t i = 0; i < k; i++) {
            if (st[i] < 200 || st[i] >= 300)
                continue;
            if (etag && strcmp(etag, p->slots[i].etag) != 0) {
                log_err("PUT %s: object servers disagree on the ETag",
                        http_req_target(p->pr->req));
                put_answer(p, 500);
                return;
            }
            etag = p->slots[i].etag;
        }
        if (best == 409)
            best = 202;
        else if (best != 202)
            best = 201;
    }
    struct px_req *pr = p->pr;
    if (p->resp_etag && best >= 200 && best < 300)
        http_resp_header(pr->req, "ETag", p->resp_etag);
    else if (etag && etag[0])
        http_resp_header(pr->req, "ETag", etag);
    if (best >= 200 && best < 300) {
        struct ts t;
        if (ts_parse(pr->ts, &t) == 0) {
            char d[TS_HTTP_DATE_LEN];
            ts_http_date(ts_ceil_seconds(&t), d);
            http_resp_header(pr->req, "Last-Modified", d);
        }
        if (p->copied_from) {
            http_resp_header(pr->req, "X-Copied-From", p->copied_from);
            http_resp_header(pr->req, "X-Copied-From-Account",
                             pr->path.account);
            if (p->src_last_modified)
                http_resp_header(pr->req, "X-Copied-From-Last-Modified",
                                 p->src_last_modified);
        }
    }
    if (best == 409)
        best = 202;
    put_answer(p, best);
}

/* ---- setup shared by PUT and COPY */

static void out_add(struct px_req *pr, struct px_hdrs *h, size_t *cap,
                    const char *name, const char *value)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->v[i].name, name) == 0) {
            h->v[i].value = pool_strdup(pr->pool, value);
            return;
        }
    }
    if (h->n == *cap) {
        size_t nc = *cap ? 2 * *cap : 16;
        struct px_hdr *v = pool_alloc(pr->pool, nc * sizeof(*v));
        if (h->n)
            memcpy(v, h->v, h->n * sizeof(*v));
        h->v = v;
        *cap = nc;
    }
    h->v[h->n].name = pool_strdup(pr->pool, name);
    h->v[h->n].value = pool_strdup(pr->pool, value);
    h->n++;
}

static bool is_obj_meta(const char *n)
{
    static const char *const allowed[] = {
        "Content-Disposition", "Content-Encoding", "X-Object-Manifest",
        "Cache-Control", "Content-Language", "Expires", "X-Robots-Tag",
    };
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strcasecmp(n, allowed[i]) == 0)
            return true;
    return strncasecmp(n, "X-Object-Meta-", 14) == 0;
}

/* Provenance as a client would send it: never stored from a client. */
static bool is_prov_meta(const char *n)
{
    return strncasecmp(n, PX_PROV_META, PX_PROV_META_LEN) == 0;
}

static struct px_put *put_new(struct px_req *pr)
{
    struct px_put *p = pool_calloc(pr->pool, sizeof(*p));
    p->pr = pr;
    struct ts t = ts_now();
    ts_normal(&t, pr->ts);
    pool_cleanup_add(pr->pool, put_cleanup, p);
    return p;
}

static void put_go(struct px_put *p)
{
    struct px_req *pr = p->pr;
    const struct names_api_path *a = &pr->path;
    px_nodes_get(pr, PX_RING_OBJECT, a->account, a->container, a->object, 6,
                 &p->nodes);
    px_nodes_get(pr, PX_RING_CONTAINER, a->account, a->container, NULL, 0,
                 &p->cont);
    p->n = p->nodes.replicas;
    p->next_handoff = p->nodes.replicas;
    p->slots = pool_calloc(pr->pool, (p->n + 1) * sizeof(*p->slots));
    if (!p->n) {
        put_answer(p, 503);
        return;
    }
    uint64_t now = px_now_ms();
    for (size_t i = 0; i < p->n; i++) {
        struct put_slot *s = &p->slots[i];
        s->put = p;
        s->idx = i;
        s->node = &p->nodes.v[i];
        if (px_errl_limited(pr->w->errl, s->node, now) && !replace_node(s)) {
            s->finished = true;
            s->status = 503;
        }
    }
    for (size_t i = 0; i < p->n && !p->answered && !p->dead; i++)
        if (!p->slots[i].finished)
            slot_connect(&p->slots[i]);
    check_ready(p);
}

/* ---- PUT */

/* True when the query holds the parameter multipart-manifest=put. */
static bool slo_manifest_put(struct px_req *pr)
{
    static const char want[] = "multipart-manifest=put";
    const char *q = http_req_query(pr->req);
    for (const char *f = q ? strstr(q, want) : NULL; f;
         f = strstr(f + 1, want)) {
        char end = f[sizeof(want) - 1];
        if ((f == q || f[-1] == '&') && (end == '\0' || end == '&'))
            return true;
    }
    return false;
}

void px_obj_put(struct px_req *pr)
{
    bool slo = slo_manifest_put(pr);
    if (slo && http_req_header(pr->req, "X-Copy-From")) {
        px_reply_text(pr, 405, "Multipart Manifest PUTs cannot be COPY requests");
        return;
    }
    if (http_req_header(pr->req, "X-Copy-From")) {
        px_obj_copy(pr);
        return;
    }
    const struct http_head *h = http_req_head(pr->req);
    struct px_put *p = put_new(pr);
    const char *o = pr->path.object;
    const char *ct = http_req_header(pr->req, "Content-Type");
    const char *detect = http_req_header(pr->req, "X-Detect-Content-Type");
    bool guess = !ct || !ct[0];
    if (detect && (strcasecmp(detect, "true") == 0 || strcmp(detect, "1") == 0 ||
                   strcasecmp(detect, "yes") == 0 || strcasecmp(detect, "on") == 0))
        guess = true;
    if (guess)
        ct = px_mime_guess(o, strlen(o));
    if (ct && strstr(ct, "swift_")) {
        px_reply_text(pr, 400, "Invalid Content-Type, swift_* is not a valid "
                               "parameter name.");
        return;
    }
    enum http_body_kind bk = http_req_body_kind(pr->req);
    struct names_object_put op = {
        .content_length = bk == HTTP_BODY_LENGTH ? (int64_t)h->content_length
                          : bk == HTTP_BODY_NONE
                              ? (http_head_get(h, "Content-Length") ? 0 : -1)
                              : -1,
        .chunked = bk == HTTP_BODY_CHUNKED,
        .content_type = ct,
        .object = o,
        .object_len = strlen(o),
    };
    struct names_header *hv = pool_alloc(pr->pool,
                                         (h->nheaders + 1) * sizeof(*hv));
    size_t nhv = 0;
    for (unsigned i = 0; i < h->nheaders; i++)
        if (!is_prov_meta(h->headers[i].name))   /* never user metadata */
            hv[nhv++] = (struct names_header){h->headers[i].name,
                                              h->headers[i].name_len,
                                              h->headers[i].value,
                                              h->headers[i].value_len};
    struct names_verdict v;
    if (names_check_object_creation(&op, hv, nhv,
                                    &pr->srv->cluster.constraints, &v) < 0) {
        px_reply_text(pr, v.status, v.body);
        return;
    }
    const char *inm = http_req_header(pr->req, "If-None-Match");
    if (inm && strcmp(inm, "*") != 0) {
        px_reply_text(pr, 400, "If-None-Match only supports *");
        return;
    }
    if (!slo && http_req_header(pr->req, "X-Static-Large-Object")) {
        px_reply_text(pr, 400, "X-Static-Large-Object is a reserved header");
        return;
    }
    const char *man = http_req_header(pr->req, "X-Object-Manifest");
    if (man) {
        /* container/prefix: both non-empty, no query characters, and the
         * prefix not absolute (Swift's dlo check). */
        const char *sl = strchr(man, '/');
        if (!sl || sl == man || !sl[1] || sl[1] == '/' || strchr(man, '?') ||
            strchr(man, '&')) {
            px_reply_text(pr, 400, "X-Object-Manifest must be in the format "
                                   "container/prefix");
            return;
        }
    }
    char dat[32];
    if (px_delete_at(pr, dat, sizeof(dat)) < 0)
        return;
    p->length = bk == HTTP_BODY_CHUNKED ? HTTP_LENGTH_UNKNOWN
                                        : op.content_length;
    size_t cap = 0;
    out_add(pr, &p->out, &cap, "Content-Type", ct);
    bool prov = px_cap_granted(pr, PX_CAP_OUTPUT);
    for (unsigned i = 0; i < h->nheaders; i++) {
        const char *n = h->headers[i].name;
        if (is_prov_meta(n)) {
            /* a storlet's output (checked by px_cap_admit): provenance,
             * stored as sysmeta; from anyone else: dropped */
            if (prov) {
                char *sn = pool_alloc(pr->pool, PX_PROV_SYSMETA_LEN + strlen(n));
                snprintf(sn, PX_PROV_SYSMETA_LEN + strlen(n), "%s%s", PX_PROV_SYSMETA,
                         n + PX_PROV_META_LEN);
                out_add(pr, &p->out, &cap, sn, h->headers[i].value);
            }
            continue;
        }
        if (is_obj_meta(n))
            out_add(pr, &p->out, &cap, n, h->headers[i].value);
    }
    if (dat[0])
        out_add(pr, &p->out, &cap, "X-Delete-At", dat);
    const char *etag = http_req_header(pr->req, "ETag");
    if (etag)
        out_add(pr, &p->out, &cap, "ETag", etag);
    if (inm)
        out_add(pr, &p->out, &cap, "If-None-Match", inm);
    if (slo) {
        /* the body is the segment list: px_slo.c checks it and stores
         * the manifest through px_put_store */
        px_slo_put(pr, p);
        return;
    }
    put_go(p);
}

void px_put_store(struct px_put *p, struct evbuffer *body, const struct px_hdr *extra,
                  size_t nextra, const char *ct_params, const char *resp_etag)
{
    struct px_req *pr = p->pr;
    size_t cap = p->out.n; /* out_add grows a full array */
    for (size_t i = 0; i < nextra; i++)
        out_add(pr, &p->out, &cap, extra[i].name, extra[i].value);
    for (size_t i = 0; ct_params && i < p->out.n; i++) {
        if (strcasecmp(p->out.v[i].name, "Content-Type") != 0)
            continue;
        size_t n = strlen(p->out.v[i].value) + strlen(ct_params) + 1;
        char *ct = pool_alloc(pr->pool, n);
        snprintf(ct, n, "%s%s", p->out.v[i].value, ct_params);
        p->out.v[i].value = ct;
    }
    p->mem = body;
    p->length = (int64_t)evbuffer_get_length(body);
    p->resp_etag = resp_etag;
    put_go(p);
}

/* ---- COPY and X-Copy-From */

static void copy_dlo_start(struct px_put *p);

/* Does the request ask for a manifest itself (?multipart-manifest=get)? */
static bool manifest_get(struct px_req *pr)
{
    static const char want[] = "multipart-manifest=get";
    const char *q = http_req_query(pr->req);
    for (const char *f = q ? strstr(q, want) : NULL; f; f = strstr(f + 1, want))
        if ((f == q || f[-1] == '&') &&
            (f[sizeof(want) - 1] == '\0' || f[sizeof(want) - 1] == '&'))
            return true;
    return false;
}

static void copy_src_head(struct px_put *p, const struct http_head *h);

static void copy_src_response(struct px_req *pr, struct px_read *rd,
                              const struct http_head *h, void *arg)
{
    struct px_put *p = arg;
    if ((http_head_get(h, "X-Object-Manifest") ||
         px_slo_true(http_head_get(h, "X-Static-Large-Object"))) && !manifest_get(pr)) {
        px_read_abort(rd); /* the manifest's own bytes are not the object */
        copy_dlo_start(p);
        return;
    }
    p->src = rd;
    px_read_pause(rd); /* until the destination nodes are ready */
    copy_src_head(p, h);
}

/* The source's head (backend or loopback): the copy's headers. */
static void copy_src_head(struct px_put *p, const struct http_head *h)
{
    struct px_req *pr = p->pr;
    int64_t len = px_head_length(h);
    if (len < 0 || (uint64_t)len > pr->srv->cluster.constraints.max_file_size) {
        put_answer(p, 413);
        return;
    }
    p->length = len;
    const char *lm = http_head_get(h, "Last-Modified");
    if (lm)
        p->src_last_modified = pool_strdup(pr->pool, lm);
    size_t cap = 0;
    bool fresh = false;
    const char *fm = http_req_header(pr->req, "X-Fresh-Metadata");
    if (fm && (strcasecmp(fm, "true") == 0 || strcmp(fm, "1") == 0 ||
               strcasecmp(fm, "yes") == 0 || strcasecmp(fm, "on") == 0))
        fresh = true;
    const char *sct = http_head_get(h, "Content-Type");
    const char *ct = http_req_header(pr->req, "Content-Type");
    /* An SLO manifest copied as itself (?multipart-manifest=get) is an SLO
     * over the same segments: its marker, sysmeta and swift_bytes go
     * along. Any other copy never carries a swift_bytes. */
    bool slo = !p->assembled && px_slo_true(http_head_get(h, "X-Static-Large-Object"));
    const char *sb = sct ? strstr(sct, ";swift_bytes=") : NULL;
    if (sb && !slo)
        sct = pool_strndup(pr->pool, sct, (size_t)(sb - sct));
    if (ct && ct[0] && sb && slo) {
        size_t n = strlen(ct) + strlen(sb) + 1;
        char *t = pool_alloc(pr->pool, n);
        snprintf(t, n, "%s%s", ct, sb);
        ct = t;
    }
    out_add(pr, &p->out, &cap, "Content-Type",
            ct && ct[0] ? ct : sct ? sct : "application/octet-stream");
    if (slo) {
        static const char *const keep[] = {"X-Static-Large-Object",
                                           "X-Object-Sysmeta-Slo-Etag",
                                           "X-Object-Sysmeta-Slo-Size"};
        for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
            if (http_head_get(h, keep[i]))
                out_add(pr, &p->out, &cap, keep[i], http_head_get(h, keep[i]));
    }
    for (unsigned i = 0; i < h->nheaders; i++) {
        const char *n = h->headers[i].name;
        /* the copy holds the same bytes: their provenance stays true, and
         * it is sysmeta, which Swift copies even with X-Fresh-Metadata */
        if (strncasecmp(n, PX_PROV_SYSMETA, PX_PROV_SYSMETA_LEN) == 0)
            out_add(pr, &p->out, &cap, n, h->headers[i].value);
        else if (!fresh && is_obj_meta(n) && !is_prov_meta(n) &&
                 !(p->assembled && strcasecmp(n, "X-Object-Manifest") == 0))
            out_add(pr, &p->out, &cap, n, h->headers[i].value);
    }
    const struct http_head *rh = http_req_head(pr->req);
    for (unsigned i = 0; i < rh->nheaders; i++)
        if (is_obj_meta(rh->headers[i].name) && !is_prov_meta(rh->headers[i].name))
            out_add(pr, &p->out, &cap, rh->headers[i].name,
                    rh->headers[i].value);
    const char *se = http_head_get(h, "ETag");
    if (se && se[0] != '"')
        out_add(pr, &p->out, &cap, "ETag", se);
    char dat[32];
    if (px_delete_at(pr, dat, sizeof(dat)) < 0) {
        p->answered = true;
        return;
    }
    if (dat[0])
        out_add(pr, &p->out, &cap, "X-Delete-At", dat);
    else if (!fresh && http_head_get(h, "X-Delete-At"))
        out_add(pr, &p->out, &cap, "X-Delete-At",
                http_head_get(h, "X-Delete-At"));
    put_go(p);
}

static void copy_src_body(struct px_req *pr, struct px_read *rd,
                          struct evbuffer *b, void *arg)
{
    (void)pr;
    (void)rd;
    struct px_put *p = arg;
    if (p->answered) {
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    feed(p, b);
}

static void copy_src_end(struct px_req *pr, int err, void *arg)
{
    (void)pr;
    struct px_put *p = arg;
    p->src = NULL;
    if (p->answered)
        return;
    if (err < 0) {
        put_answer(p, 503);
        return;
    }
    if (p->streaming)
        body_done(p);
    else
        p->src_done = true; /* zero-byte source: check_ready completes it */
}

static void copy_src_failed(struct px_req *pr, int status,
                            const struct px_hdrs *hdrs, void *arg)
{
    (void)hdrs;
    struct px_put *p = arg;
    if (status == 409 && px_rules_facts_used(pr) && !p->answered) {
        /* the source changed since its facts decided the storlet rules
         * (docs/rules.md 4.1): decided again, from the request's own
         * path, as a fresh request would be; a second time, 503 */
        p->answered = true;
        if (http_req_method(pr->req) == HTTP_M_COPY) {
            pr->path.container = p->src_container;
            pr->path.object = p->src_object;
        }
        if (!px_ctl_decide_again(pr))
            px_reply_text(pr, 503, PX_RULES_CHANGED_TWICE);
        return;
    }
    put_answer(p, status);
}

/* -- a large object source, read through this proxy (assembled) */

static void dlo_src_response(struct http_client *c, const struct http_head *h, void *arg)
{
    struct px_put *p = arg;
    if (h->status < 200 || h->status >= 300) {
        put_answer(p, h->status);
        return;
    }
    http_client_pause(c); /* until the destination nodes are ready */
    copy_src_head(p, h);
}

static void dlo_src_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    copy_src_body(NULL, NULL, b, arg);
}

static void dlo_src_done(struct http_client *c, int err, void *arg)
{
    struct px_put *p = arg;
    p->lsrc = NULL;
    http_client_free(c);
    if (p->answered)
        return;
    if (err < 0) {
        put_answer(p, 503);
        return;
    }
    if (p->streaming)
        body_done(p);
    else
        p->src_done = true; /* zero-byte source: check_ready completes it */
}

static const struct http_client_ops dlo_src_ops = {
    .response = dlo_src_response,
    .body = dlo_src_body,
    .done = dlo_src_done,
};

static void copy_dlo_start(struct px_put *p)
{
    struct px_req *pr = p->pr;
    char host[64];
    int port;
    px_storlet_self(pr, host, sizeof(host), &port);
    p->assembled = true;
    p->lsrc = http_client_new(pr->w->base, host, port, NULL);
    const char *tok = http_req_header(pr->req, "X-Auth-Token");
    if (!tok)
        tok = http_req_header(pr->req, "X-Storage-Token");
    if (tok)
        http_client_header(p->lsrc, "X-Auth-Token", tok);
    static const char *const pass[] = {"If-Match", "If-None-Match",
                                       "If-Modified-Since",
                                       "If-Unmodified-Since"};
    for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
        const char *v = http_req_header(pr->req, pass[i]);
        if (v)
            http_client_header(p->lsrc, pass[i], v);
    }
    const char *a = pr->path.account, *c = p->src_container, *o = p->src_object;
    size_t n = 3 * (strlen(a) + strlen(c) + strlen(o)) + 8;
    char *path = pool_alloc(pr->pool, n);
    size_t at = (size_t)snprintf(path, n, "/v1/");
    at += names_quote(a, strlen(a), "", path + at);
    path[at++] = '/';
    at += names_quote(c, strlen(c), "", path + at);
    path[at++] = '/';
    names_quote(o, strlen(o), "/", path + at);
    int rc = http_client_start(p->lsrc, "GET", path, 0, &dlo_src_ops, p);
    if (rc == 0)
        rc = http_client_end(p->lsrc);
    if (rc < 0)
        put_answer(p, 503);
}

static bool copy_src_usable(int status, const struct http_head *h, void *arg)
{
    (void)h;
    (void)arg;
    return status >= 200 && status < 300;
}

static void copy_src_headers(struct px_req *pr, struct http_client *c,
                             void *arg)
{
    (void)arg;
    http_client_header(c, "X-Newest", "true");
    /* decided with the source's facts (docs/rules.md 4.1): that version
     * only; another answers 409 and the copy is decided again, never
     * copied raw */
    px_rules_facts_header(pr, c);
    static const char *const pass[] = {"If-Match", "If-None-Match",
                                       "If-Modified-Since",
                                       "If-Unmodified-Since"};
    for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
        const char *v = http_req_header(pr->req, pass[i]);
        if (v)
            http_client_header(c, pass[i], v);
    }
}

static const struct px_read_ops copy_src_ops = {
    .headers = copy_src_headers,
    .usable = copy_src_usable,
    .response = copy_src_response,
    .failed = copy_src_failed,
    .body = copy_src_body,
    .end = copy_src_end,
};

/* Splits "/c/o" or "c/o" (URL-quoted) into pool strings. */
static int split_ref(struct px_req *pr, const char *ref, char **c, char **o)
{
    size_t len = strlen(ref);
    char *dec = pool_alloc(pr->pool, len + 1);
    size_t dl = names_unquote(ref, len, dec);
    if (memchr(dec, '\0', dl) || !names_utf8_valid(dec, dl, 0))
        return -1;
    char *s = dec[0] == '/' ? dec + 1 : dec;
    char *slash = strchr(s, '/');
    if (!slash || slash == s || !slash[1])
        return -1;
    *slash = '\0';
    *c = s;
    *o = slash + 1;
    return 0;
}

static void copy_src_go(struct px_req *pr, void *arg)
{
    struct px_put *p = arg;
    px_read_start(pr, "GET", &p->src_nodes, pr->path.account,
                  p->src_container, p->src_object, NULL, &copy_src_ops, p);
}

static void copy_dest_checked(struct px_req *pr, const struct px_cinfo *ci)
{
    struct px_put *p = pr->ctl;
    if (ci->status >= 500) {
        px_reply(pr, 503);
        return;
    }
    if (!px_ctl_may_write(pr, ci->status < 300 ? ci->write_acl : NULL)) {
        px_ctl_deny(pr);
        return;
    }
    if (ci->status == 404) {
        px_reply(pr, 404);
        return;
    }
    px_nodes_get(pr, PX_RING_OBJECT, pr->path.account, p->src_container,
                 p->src_object, 6, &p->src_nodes);
    /* The source is read from its newest replica, as Swift's copy does. */
    px_newest_first(pr, &p->src_nodes, pr->path.account, p->src_container,
                    p->src_object, copy_src_go, p);
}

static void copy_src_checked(struct px_req *pr, const struct px_cinfo *ci)
{
    struct px_put *p = pr->ctl;
    pr->path.container = p->dest_container;
    if (ci->status >= 500) {
        px_reply(pr, 503);
        return;
    }
    if (!px_ctl_may_read(pr, ci->status < 300 ? ci->read_acl : NULL)) {
        px_ctl_deny(pr);
        return;
    }
    px_cinfo_get(pr, copy_dest_checked);
}

void px_obj_copy(struct px_req *pr)
{
    const struct http_head *h = http_req_head(pr->req);
    bool is_copy = http_req_method(pr->req) == HTTP_M_COPY;
    if (h->body != HTTP_BODY_NONE) {
        px_reply_text(pr, 400, "Copy requests require a zero byte body");
        return;
    }
    struct px_put *p = put_new(pr);
    pr->ctl = p;
    char *c, *o;
    if (is_copy) {
        const char *dst = http_req_header(pr->req, "Destination");
        if (!dst || split_ref(pr, dst, &c, &o) < 0) {
            px_reply_text(pr, 412, "Destination header must be of the form "
                                   "<container name>/<object name>");
            return;
        }
        p->src_container = (char *)pr->path.container;
        p->src_object = (char *)pr->path.object;
        pr->path.container = c;
        pr->path.object = o;
    } else {
        const char *src = http_req_header(pr->req, "X-Copy-From");
        if (split_ref(pr, src, &c, &o) < 0) {
            px_reply_text(pr, 412, "X-Copy-From header must be of the form "
                                   "<container name>/<object name>");
            return;
        }
        p->src_container = c;
        p->src_object = o;
    }
    struct names_verdict v;
    const char *dc = pr->path.container, *dobj = pr->path.object;
    if (names_check_container_name(dc, strlen(dc),
                                   &pr->srv->cluster.constraints, &v) < 0 ||
        (strlen(dobj) > (size_t)pr->srv->cluster.constraints
                            .max_object_name_length &&
         (v.status = 400,
          snprintf(v.body, sizeof(v.body),
                   "Object name length of %zu longer than %lld", strlen(dobj),
                   (long long)pr->srv->cluster.constraints
                       .max_object_name_length),
          1))) {
        px_reply_text(pr, v.status, v.body);
        return;
    }
    if (px_check_meta(pr, NAMES_T_OBJECT) < 0)
        return;
    size_t cl = strlen(p->src_container) + strlen(p->src_object) + 2;
    char *raw = pool_alloc(pr->pool, cl);
    snprintf(raw, cl, "%s/%s", p->src_container, p->src_object);
    p->copied_from = pool_alloc(pr->pool, 3 * cl + 1);
    names_quote(raw, strlen(raw), "/", p->copied_from);
    if (!is_copy && !pr->owner) {
        /* X-Copy-From: the caller may write here (checked on the way in)
         * but must also be able to read the source. */
        p->dest_container = pr->path.container;
        pr->path.container = p->src_container;
        px_cinfo_get(pr, copy_src_checked);
        return;
    }
    px_cinfo_get(pr, copy_dest_checked);
}

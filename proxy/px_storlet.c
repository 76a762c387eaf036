/*
 * px_storlet.c - the proxy's side of the storlet engine (docs/storlets.md).
 *
 * Deployment checks on PUT/POST into the `storlet` and `dependency`
 * containers; the account's X-Account-Meta-Storlet-Enabled (read from the
 * account nodes directly, as Swift's get_account_info does); then one of:
 *
 *   GET (default)        the storlet headers travel with the proxy's normal
 *                        object read (px_storlet_forward_headers) and the
 *                        object node runs it next to the data;
 *   GET + Run-On-Proxy   loopback GET of the object -> storlet here -> client
 *   PUT                  client body -> storlet here -> loopback PUT
 *   COPY / X-Copy-From   loopback GET of the source with the storlet headers
 *                        (the object node runs it) -> loopback PUT of the
 *                        destination; with Run-On-Proxy the plain source
 *                        goes through the storlet here
 *
 * "Loopback" requests go to this proxy's own listener with the caller's
 * token, so every read and write is authorized exactly as the caller's own
 * request would be: a storlet sees data with the caller's rights, never
 * more. Objects written through a storlet carry provenance metadata
 * (X-Object-Meta-Storlet-Generated-By, -By-Etag, -Params, -From,
 * -From-Etag).
 *
 * Life cycle: the state lives in the request pool; a pool cleanup frees
 * the loopback clients and cancels the prep and the run, so nothing runs
 * after the client has gone. Threading: the worker's loop only.
 */
#include "proxy/px_storlet.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_COMPONENT "proxy"
#include "common/http.h"
#include "common/log.h"
#include "common/names.h"
#include "common/pool.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng.h"
#include "proxy/px_backend.h"
#include "proxy/px_cap.h"
#include "proxy/px_ctl_int.h"

#define ERR_BODY_MAX 1024

struct pst {
    struct px_req *pr;
    struct eng_decision d;
    json_t *params;
    const char *storlet;
    const char *token;
    char host[64];
    int port;
    bool run_here;
    bool upload;               /* a checked PUT into storlet/dependency */
    unsigned depth;            /* X-Storlet-Depth */
    bool src_client;           /* input: the client's body (PUT) */
    bool snk_client;           /* output: the client response (GET) */
    const char *src_path;      /* "/v1/a/c/o" of the loopback source */
    const char *dst_path;      /* "/v1/a/c/o" of the loopback PUT */
    const char *src_name;      /* "c/o" for provenance */

    struct px_nodes anodes;
    struct eng_prep *prep;
    struct eng_run *run;
    struct http_client *src, *snk;

    /* what the source said */
    int src_status;
    int64_t src_len;
    char *src_ctype, *src_etag, *stl_etag;
    json_t *src_meta;          /* user metadata, no prefix */
    json_t *out_meta;          /* metadata for the PUT (output or source's) */
    char *out_ctype;
    struct evbuffer *errbody;
    bool src_ended, src_paused;

    /* the loopback PUT's answer */
    int snk_status;
    char *snk_etag, *snk_lm;
    bool answered;
};

/* ------------------------------------------------------------ helpers */

static bool is_storlet_header(const char *n)
{
    return strcasecmp(n, "X-Run-Storlet") == 0 || strncasecmp(n, "X-Storlet-", 10) == 0;
}

static void cleanup(void *arg)
{
    struct pst *s = arg;
    eng_prep_cancel(s->prep);
    s->prep = NULL;
    eng_run_cancel(s->run);
    s->run = NULL;
    http_client_free(s->src);
    s->src = NULL;
    http_client_free(s->snk);
    s->snk = NULL;
    json_decref(s->params);
    json_decref(s->src_meta);
    json_decref(s->out_meta);
    free(s->src_ctype);
    free(s->src_etag);
    free(s->stl_etag);
    free(s->out_ctype);
    free(s->snk_etag);
    free(s->snk_lm);
    if (s->errbody)
        evbuffer_free(s->errbody);
}

/* Answers once; later failures only close things down. */
static void answer(struct pst *s, int status, const char *text)
{
    if (s->answered || s->pr->done)
        return;
    s->answered = true;
    http_resp_header(s->pr->req, "X-Storlet-Executed-On", "proxy");
    px_reply_text(s->pr, status, text);
}

static void stop_all(struct pst *s)
{
    if (s->run) {
        eng_run_cancel(s->run);
        s->run = NULL;
    }
    http_client_free(s->src);
    s->src = NULL;
    http_client_free(s->snk);
    s->snk = NULL;
}

static char *quote(struct pool *p, const char *s)
{
    size_t n = strlen(s);
    char *out = pool_alloc(p, 3 * n + 1);
    names_quote(s, n, "/", out);
    return out;
}

static void add_meta(struct http_client *c, json_t *meta)
{
    const char *k;
    json_t *v;
    json_object_foreach(meta, k, v) {
        if (strncasecmp(k, "Storlet-Generated", 17) == 0)
            continue;   /* provenance is the engine's to write */
        char *n = xasprintf("X-Object-Meta-%s", k);
        http_client_header(c, n, json_string_value(v));
        free(n);
    }
}

static json_t *user_meta_of(const struct http_head *h)
{
    json_t *m = json_object();
    for (unsigned i = 0; i < h->nheaders; i++)
        if (strncasecmp(h->headers[i].name, "X-Object-Meta-", 14) == 0)
            json_object_set_new(m, h->headers[i].name + 14, json_string(h->headers[i].value));
    return m;
}

/* ------------------------------------------------------------ the sink */

static const struct http_client_ops snk_ops;

static void snk_start(struct pst *s)
{
    struct px_req *pr = s->pr;
    s->snk = http_client_new(pr->w->base, s->host, s->port, NULL);
    struct http_client *c = s->snk;
    http_client_header(c, "X-Auth-Token", s->token);
    const struct http_head *h = http_req_head(pr->req);
    /* the client's own headers, minus framing, storlet and copy ones */
    static const char *const skip[] = {
        "Content-Length", "Transfer-Encoding", "Expect", "Host", "Connection",
        "X-Auth-Token", "X-Storage-Token", "X-Copy-From", "Destination", "ETag",
        "Range", "Content-Type", "X-Copy-From-Account", "Destination-Account",
        "X-Fresh-Metadata", "Keep-Alive", "TE", "Trailer", "Upgrade", PX_CAP_HEADER,
    };
    for (unsigned i = 0; i < h->nheaders; i++) {
        const char *n = h->headers[i].name;
        bool drop = is_storlet_header(n) || strncasecmp(n, "X-Object-Meta-", 14) == 0;
        for (size_t j = 0; j < sizeof(skip) / sizeof(skip[0]) && !drop; j++)
            drop = strcasecmp(n, skip[j]) == 0;
        if (!drop)
            http_client_header(c, n, h->headers[i].value);
    }
    const char *ct = s->out_ctype ? s->out_ctype
                     : http_req_header(pr->req, "Content-Type") ? http_req_header(pr->req, "Content-Type")
                     : s->src_ctype;
    if (ct)
        http_client_header(c, "Content-Type", ct);
    if (!s->out_meta)
        s->out_meta = json_object();
    if (s->d.op == ENG_OP_COPY) {
        json_t *cm = user_meta_of(h);   /* the COPY's own metadata wins */
        json_object_update(s->out_meta, cm);
        json_decref(cm);
    }
    add_meta(c, s->out_meta);
    /* provenance: stored only with this proxy's capability (px_cap.h) */
    const char *cap = px_cap_mint_target(pr, PX_CAP_OUTPUT, s->dst_path);
    if (cap)
        http_client_header(c, PX_CAP_HEADER, cap);
    http_client_header(c, "X-Object-Meta-Storlet-Generated-By", s->storlet);
    if (s->stl_etag)
        http_client_header(c, "X-Object-Meta-Storlet-Generated-By-Etag", s->stl_etag);
    char *pj = json_dumps(s->params, JSON_COMPACT | JSON_SORT_KEYS);
    if (strlen(pj) > 256)
        pj[256] = '\0';
    http_client_header(c, "X-Object-Meta-Storlet-Generated-Params", pj);
    free(pj);
    if (s->src_name) {
        http_client_header(c, "X-Object-Meta-Storlet-Generated-From", s->src_name);
        if (s->src_etag)
            http_client_header(c, "X-Object-Meta-Storlet-Generated-From-Etag", s->src_etag);
    }
    if (http_client_start(c, "PUT", s->dst_path, HTTP_LENGTH_UNKNOWN, &snk_ops, s) < 0) {
        stop_all(s);
        answer(s, 503, "storlet: cannot store the output");
    }
}

static void snk_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    struct pst *s = arg;
    s->snk_status = h->status;
    const char *et = http_head_get(h, "ETag");
    const char *lm = http_head_get(h, "Last-Modified");
    s->snk_etag = et ? xstrdup(et) : NULL;
    s->snk_lm = lm ? xstrdup(lm) : NULL;
}

static void snk_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    (void)c;
    (void)arg;
    evbuffer_drain(b, evbuffer_get_length(b));
}

static void snk_drain(struct http_client *c, void *arg)
{
    (void)c;
    struct pst *s = arg;
    if (s->run)
        eng_run_resume_output(s->run);
    else if (s->src && s->src_paused) {
        s->src_paused = false;
        http_client_resume(s->src);
    }
}

static void snk_done(struct http_client *c, int err, void *arg)
{
    (void)c;
    struct pst *s = arg;
    if (err < 0 || s->snk_status == 0) {
        stop_all(s);
        answer(s, 503, "storlet: storing the output failed");
        return;
    }
    if (s->pr->done || s->answered)
        return;
    s->answered = true;
    struct http_req *req = s->pr->req;
    if (s->snk_status >= 200 && s->snk_status < 300) {
        if (s->snk_etag)
            http_resp_header(req, "ETag", s->snk_etag);
        if (s->snk_lm)
            http_resp_header(req, "Last-Modified", s->snk_lm);
        if (s->src_name) {
            http_resp_header(req, "X-Storlet-Generated-From", s->src_name);
            http_resp_header(req, "X-Storlet-Generated-From-Account", s->pr->path.account);
        }
    }
    http_resp_header(req, "X-Storlet-Executed-On", s->run_here ? "proxy" : "object");
    px_reply(s->pr, s->snk_status);
}

static const struct http_client_ops snk_ops = {
    .response = snk_response,
    .body = snk_body,
    .drain = snk_drain,
    .done = snk_done,
};

/* ------------------------------------------------------------ the run */

static void client_drain(struct http_req *req, void *arg)
{
    (void)req;
    struct pst *s = arg;
    if (s->run)
        eng_run_resume_output(s->run);
}

static void run_start_cb(struct eng_run *r, const struct eng_meta *m, void *arg)
{
    (void)r;
    struct pst *s = arg;
    if (s->snk_client) {
        struct http_req *req = s->pr->req;
        const char *k;
        json_t *v;
        json_object_foreach(s->src_meta, k, v) {
            if (m->metadata && json_object_get(m->metadata, k))
                continue;
            char *n = xasprintf("X-Object-Meta-%s", k);
            http_resp_header(req, n, json_string_value(v));
            free(n);
        }
        if (m->metadata) {
            json_object_foreach(m->metadata, k, v) {
                char *n = xasprintf("X-Object-Meta-%s", k);
                http_resp_header(req, n, json_string_value(v));
                free(n);
            }
        }
        http_resp_header(req, "Content-Type", m->content_type ? m->content_type
                                              : s->src_ctype ? s->src_ctype
                                                             : "application/octet-stream");
        http_resp_header(req, "X-Storlet-Executed-On", "proxy");
        px_resp_common(s->pr);
        s->answered = true;
        http_resp_start(req, 200, HTTP_LENGTH_UNKNOWN);
        return;
    }
    /* PUT or COPY: the output metadata over the request's (or source's) */
    s->out_meta = s->src_meta ? json_deep_copy(s->src_meta) : json_object();
    if (m->metadata)
        json_object_update(s->out_meta, m->metadata);
    if (m->content_type)
        s->out_ctype = xstrdup(m->content_type);
    snk_start(s);
}

static void run_output(struct eng_run *r, struct evbuffer *b, void *arg)
{
    struct pst *s = arg;
    if (s->snk_client) {
        if (!http_resp_wants_more(s->pr->req)) {
            eng_run_pause_output(r);
            return;
        }
        http_resp_add_buffer(s->pr->req, b);
        return;
    }
    if (!s->snk || !http_client_wants_more(s->snk)) {
        eng_run_pause_output(r);
        return;
    }
    http_client_add_buffer(s->snk, b);
}

static void run_input_drain(struct eng_run *r, void *arg)
{
    (void)r;
    struct pst *s = arg;
    if (s->src_client)
        http_req_resume(s->pr->req);
    else if (s->src && s->src_paused) {
        s->src_paused = false;
        http_client_resume(s->src);
    }
}

static void run_done(struct eng_run *r, const struct eng_outcome *o, void *arg)
{
    (void)r;
    struct pst *s = arg;
    s->run = NULL;
    if (s->d.generate_log)
        eng_log_upload(s->pr->w->base, s->host, s->port, s->token, s->pr->path.account,
                       s->storlet, s->pr->txn, o);
    if (o->kind == ENG_OK) {
        if (s->snk_client) {
            if (!s->pr->done)
                http_resp_end(s->pr->req);
        } else if (s->snk) {
            http_client_end(s->snk);   /* the PUT's answer is the reply */
        }
        return;
    }
    if (o->kind == ENG_FAILED_AFTER && s->snk_client) {
        if (!s->pr->done)
            http_resp_abort(s->pr->req);
        stop_all(s);
        return;
    }
    stop_all(s);   /* a partial chunked PUT is never stored */
    answer(s, o->status, o->reason);
}

static const struct eng_run_ops run_ops = {
    .start = run_start_cb,
    .output = run_output,
    .input_drain = run_input_drain,
    .done = run_done,
};

static bool run_begin(struct pst *s, const struct eng_prep_result *p, int64_t len)
{
    struct px_req *pr = s->pr;
    s->stl_etag = xstrdup(p->code.etag);
    char *roles = NULL;
    json_t *jr = json_array();
    for (size_t i = 0; i < pr->ngroups; i++)
        json_array_append_new(jr, json_string(pr->groups[i]));
    struct eng_invocation inv = {
        .code = &p->code, .code_dir = p->code_dir, .parameters = s->params,
        .op = s->d.op, .account = pr->path.account,
        .container = pr->path.container, .object = pr->path.object,
        .trans_id = pr->txn, .on_proxy = true,
        .caller_user = pr->ngroups ? pr->groups[0] : "", .caller_account = pr->path.account,
        .caller_roles = jr, .content_length = len, .content_type = s->src_ctype,
        .metadata = s->src_meta, .input_fd = -1,
        .svc_host = s->depth + 1 < ENG_SVC_DEPTH_MAX ? s->host : NULL,
        .svc_port = s->port, .svc_token = s->token, .svc_depth = s->depth,
    };
    (void)roles;
    struct err e;
    err_clear(&e);
    s->run = eng_run_start(pr->srv->eng, pr->w->base, &inv, &run_ops, s, &e);
    json_decref(jr);
    if (!s->run) {
        stop_all(s);
        answer(s, 503, e.msg);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ the source */

static void client_body(struct http_req *req, struct evbuffer *b, void *arg)
{
    struct pst *s = arg;
    if (s->run && !eng_run_write(s->run, b))
        http_req_pause(req);
    else if (!s->run)
        evbuffer_drain(b, evbuffer_get_length(b));
}

static void client_body_end(struct http_req *req, void *arg)
{
    (void)req;
    struct pst *s = arg;
    if (s->run)
        eng_run_input_end(s->run);
}

static const struct http_req_ops client_ops = {
    .body = client_body,
    .body_end = client_body_end,
    .drain = client_drain,
};

static const struct http_req_ops client_out_ops = {
    .drain = client_drain,
};

static void prep_done(struct eng_prep *p, const struct eng_prep_result *r, void *arg);

static void src_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    struct pst *s = arg;
    s->src_status = h->status;
    if (h->status < 200 || h->status >= 300) {
        s->errbody = evbuffer_new();
        return;
    }
    const char *v = http_head_get(h, "Content-Type");
    s->src_ctype = v ? xstrdup(v) : NULL;
    v = http_head_get(h, "X-Storlet-Source-Etag");
    if (!v)
        v = http_head_get(h, "ETag");
    s->src_etag = v ? xstrdup(v) : NULL;
    v = http_head_get(h, "X-Storlet-Etag");
    if (v && !s->stl_etag)
        s->stl_etag = xstrdup(v);
    s->src_meta = user_meta_of(h);
    s->src_len = h->body == HTTP_BODY_LENGTH ? (int64_t)h->content_length : -1;
    if (!s->run_here) {
        /* the object node ran the storlet: its output goes to the PUT */
        s->out_meta = json_deep_copy(s->src_meta);
        snk_start(s);
        return;
    }
    /* the storlet runs here: hold the body until its code is ready */
    s->src_paused = true;
    http_client_pause(c);
    s->prep = eng_prep_start(s->pr->srv->eng, s->pr->w->base, s->host, s->port, s->token,
                             s->pr->path.account, s->storlet, s->pr->txn, prep_done, s);
}

static void src_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    struct pst *s = arg;
    if (s->errbody) {
        size_t room = ERR_BODY_MAX - evbuffer_get_length(s->errbody);
        size_t n = evbuffer_get_length(b);
        evbuffer_remove_buffer(b, s->errbody, n < room ? n : room);
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    if (s->run_here) {
        if (s->run && !eng_run_write(s->run, b)) {
            s->src_paused = true;
            http_client_pause(c);
        }
        return;
    }
    if (!s->snk || !http_client_wants_more(s->snk)) {
        s->src_paused = true;
        http_client_pause(c);
        return;
    }
    http_client_add_buffer(s->snk, b);
}

static void src_done(struct http_client *c, int err, void *arg)
{
    (void)c;
    struct pst *s = arg;
    s->src_ended = true;
    if (s->errbody) {
        size_t n = evbuffer_get_length(s->errbody);
        char *t = xmalloc(n + 1);
        evbuffer_remove(s->errbody, t, n);
        t[n] = '\0';
        stop_all(s);
        answer(s, s->src_status, t);
        free(t);
        return;
    }
    if (err < 0 || s->src_status == 0) {
        /* the source broke: never store or send a short body as whole */
        if (s->snk_client && s->answered && !s->pr->done)
            http_resp_abort(s->pr->req);
        stop_all(s);
        answer(s, 503, "storlet: reading the source failed");
        return;
    }
    if (s->run_here) {
        if (s->run)
            eng_run_input_end(s->run);
    } else if (s->snk) {
        http_client_end(s->snk);
    }
}

static const struct http_client_ops src_ops = {
    .response = src_response,
    .body = src_body,
    .done = src_done,
};

static void src_start(struct pst *s, bool with_storlet)
{
    struct px_req *pr = s->pr;
    s->src = http_client_new(pr->w->base, s->host, s->port, NULL);
    struct http_client *c = s->src;
    http_client_header(c, "X-Auth-Token", s->token);
    if (with_storlet) {
        const struct http_head *h = http_req_head(pr->req);
        for (unsigned i = 0; i < h->nheaders; i++)
            if (is_storlet_header(h->headers[i].name))
                http_client_header(c, h->headers[i].name, h->headers[i].value);
    } else if (s->d.has_range) {
        if (s->d.range_suffix)
            http_client_headerf(c, "Range", "bytes=-%llu", (unsigned long long)s->d.range_last);
        else if (s->d.range_open)
            http_client_headerf(c, "Range", "bytes=%llu-", (unsigned long long)s->d.range_first);
        else
            http_client_headerf(c, "Range", "bytes=%llu-%llu",
                                (unsigned long long)s->d.range_first,
                                (unsigned long long)s->d.range_last);
    }
    const char *q = http_req_query(pr->req);
    char *target = q && with_storlet ? xasprintf("%s?%s", s->src_path, q) : xstrdup(s->src_path);
    int rc = http_client_start(c, "GET", target, 0, &src_ops, s);
    free(target);
    if (rc == 0)
        rc = http_client_end(c);
    if (rc < 0) {
        stop_all(s);
        answer(s, 503, "storlet: cannot read the source");
    }
}

/* ------------------------------------------------------------ prep */

static void prep_done(struct eng_prep *p, const struct eng_prep_result *r, void *arg)
{
    (void)p;
    struct pst *s = arg;
    s->prep = NULL;
    if (s->pr->done)
        return;
    if (r->status) {
        answer(s, r->status, r->reason);
        return;
    }
    if (s->src_client) {
        const struct http_head *h = http_req_head(s->pr->req);
        s->src_meta = user_meta_of(h);
        const char *ct = http_req_header(s->pr->req, "Content-Type");
        s->src_ctype = ct ? xstrdup(ct) : NULL;
        int64_t len = h->body == HTTP_BODY_LENGTH ? (int64_t)h->content_length : -1;
        if (!run_begin(s, r, len))
            return;
        http_req_set_ops(s->pr->req, &client_ops, s);
        return;
    }
    /* the source's head is here (src_response): run on its body */
    if (!run_begin(s, r, s->src_len))
        return;
    if (s->snk_client)
        http_req_set_ops(s->pr->req, &client_out_ops, s);
    if (s->src && s->src_paused) {
        s->src_paused = false;
        http_client_resume(s->src);
    }
}

/* ------------------------------------------------------------ entry */

static void go(struct pst *s)
{
    if (!s->run_here) {
        if (s->d.op == ENG_OP_GET) {
            px_obj_read(s->pr);   /* headers forwarded by the hook below */
            return;
        }
        src_start(s, true);        /* COPY: the object node runs it */
        return;
    }
    if (!s->src_client) {
        src_start(s, false);       /* prep follows its head */
        return;
    }
    s->prep = eng_prep_start(s->pr->srv->eng, s->pr->w->base, s->host, s->port, s->token,
                             s->pr->path.account, s->storlet, s->pr->txn, prep_done, s);
}

static bool acct_usable(int status, const struct http_head *h, void *arg)
{
    (void)h;
    (void)arg;
    return status >= 200 && status < 300;
}

static void acct_response(struct px_req *pr, struct px_read *rd, const struct http_head *h,
                          void *arg)
{
    (void)pr;
    (void)rd;
    struct pst *s = arg;
    s->src_status = eng_account_enabled(http_head_get(h, "X-Account-Meta-Storlet-Enabled"))
                        ? 1 : -1;
}

/*
 * Account info is cached per worker thread for ACCT_TTL_MS, as Swift caches
 * get_account_info: turning storlets on or off for an account takes effect
 * within that time. A small direct-mapped table; no locks (per thread).
 */
#define ACCT_SLOTS 64
#define ACCT_TTL_MS 10000
struct acct_slot {
    char name[128];
    bool enabled;
    uint64_t expires_ms;
};
static _Thread_local struct acct_slot acct_cache[ACCT_SLOTS];

static struct acct_slot *acct_slot_of(const char *a)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = a; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return &acct_cache[h % ACCT_SLOTS];
}

static void acct_end(struct px_req *pr, int err, void *arg)
{
    struct pst *s = arg;
    if (err < 0 || s->src_status == 0) {
        answer(s, 503, NULL);
        return;
    }
    if (strlen(pr->path.account) < sizeof(acct_cache[0].name)) {
        struct acct_slot *sl = acct_slot_of(pr->path.account);
        str_copy(sl->name, pr->path.account, sizeof(sl->name));
        sl->enabled = s->src_status > 0;
        sl->expires_ms = px_now_ms() + ACCT_TTL_MS;
    }
    if (s->src_status < 0) {
        answer(s, 400, "Account disabled for storlets");
        return;
    }
    s->src_status = 0;
    if (s->upload) {
        px_obj_put(s->pr);   /* the account may hold storlets: store it */
        return;
    }
    go(s);
}

static void acct_failed(struct px_req *pr, int status, const struct px_hdrs *hdrs, void *arg)
{
    (void)pr;
    (void)hdrs;
    answer(arg, status == 404 ? 400 : 503,
           status == 404 ? "Account disabled for storlets" : NULL);
}

static const struct px_read_ops acct_ops = {
    .usable = acct_usable,
    .response = acct_response,
    .failed = acct_failed,
    .end = acct_end,
};

static void check_enabled(struct pst *s);

/* Returns false when it answered (bad metadata) or took the request (a
 * valid PUT waits for the account check). */
static bool upload_checked(struct px_req *pr)
{
    enum http_method m = http_req_method(pr->req);
    if (m != HTTP_M_PUT && m != HTTP_M_POST)
        return true;
    const char *c = pr->path.container;
    bool stl = strcmp(c, ENG_STORLET_CONTAINER) == 0;
    if (!stl && strcmp(c, ENG_DEPENDENCY_CONTAINER) != 0)
        return true;
    if (http_req_header(pr->req, "X-Copy-From"))
        return true;
    bool reseller = false;
    for (size_t i = 0; i < pr->ngroups; i++)
        reseller = reseller || strcmp(pr->groups[i], ".reseller_admin") == 0;
    struct err e;
    err_clear(&e);
    int rc = stl ? eng_validate_storlet(pr->path.object, http_req_head(pr->req), reseller, &e)
                 : eng_validate_dependency(pr->path.object, http_req_head(pr->req), &e);
    if (rc == 0 && m == HTTP_M_POST)
        return true;
    if (rc == 0) {
        struct pst *s = pool_calloc(pr->pool, sizeof(*s));
        s->pr = pr;
        s->upload = true;
        pool_cleanup_add(pr->pool, cleanup, s);
        check_enabled(s);
        return false;
    }
    px_reply_text(pr, rc == -EPERM ? 403 : 400, e.msg);
    return false;
}

bool px_storlet_object(struct px_req *pr)
{
    if (!pr->srv->eng)
        return false;
    if (!upload_checked(pr))
        return true;
    struct eng_decision d;
    eng_decide(ENG_ROLE_PROXY, http_req_head(pr->req), &d);
    if (d.where == ENG_NONE)
        return false;
    if (d.where == ENG_REJECT) {
        px_reply_text(pr, d.status, d.reason);
        return true;
    }
    struct err e;
    err_clear(&e);
    json_t *params = eng_params(http_req_head(pr->req), http_req_query(pr->req), &e);
    if (!params) {
        px_reply_text(pr, 400, e.msg);
        return true;
    }
    const char *tok = http_req_header(pr->req, "X-Auth-Token");
    if (!tok || !tok[0])
        tok = http_req_header(pr->req, "X-Storage-Token");
    if (!tok || !tok[0]) {
        json_decref(params);
        px_reply_text(pr, 401, "Failed to verify access to the storlet");
        return true;
    }
    const char *dh = http_req_header(pr->req, "X-Storlet-Depth");
    uint64_t depth = 0;
    if (dh && (parse_u64(dh, &depth) < 0 || depth >= ENG_SVC_DEPTH_MAX)) {
        json_decref(params);
        px_reply_text(pr, 508, "storlets invoke each other too deeply");
        return true;
    }
    struct pst *s = pool_calloc(pr->pool, sizeof(*s));
    s->pr = pr;
    s->depth = (unsigned)depth;
    s->d = d;
    s->params = params;
    s->storlet = d.storlet;
    s->token = tok;
    s->run_here = d.where == ENG_RUN_HERE;
    px_storlet_self(pr, s->host, sizeof(s->host), &s->port);
    pool_cleanup_add(pr->pool, cleanup, s);

    const char *acct = quote(pr->pool, pr->path.account);
    const char *self = quote(pr->pool, pr->path.container);
    const char *obj = quote(pr->pool, pr->path.object);
    char *here = pool_alloc(pr->pool, strlen(acct) + strlen(self) + strlen(obj) + 8);
    snprintf(here, strlen(acct) + strlen(self) + strlen(obj) + 8, "/v1/%s/%s/%s", acct, self,
             obj);
    switch (d.op) {
    case ENG_OP_GET:
        s->snk_client = true;
        s->src_path = here;
        break;
    case ENG_OP_PUT:
        s->src_client = true;
        s->dst_path = here;
        break;
    case ENG_OP_COPY: {
        bool is_copy = http_req_method(pr->req) == HTTP_M_COPY;
        const char *ref = is_copy ? http_req_header(pr->req, "Destination")
                                  : http_req_header(pr->req, "X-Copy-From");
        if (!ref || !*ref) {
            px_reply_text(pr, 412, "Destination header required");
            return true;
        }
        while (*ref == '/')
            ref++;
        if (!strchr(ref, '/')) {
            px_reply_text(pr, 412, "Bad header value: expected <container>/<object>");
            return true;
        }
        char *other = pool_alloc(pr->pool, strlen(acct) + strlen(ref) + 8);
        snprintf(other, strlen(acct) + strlen(ref) + 8, "/v1/%s/%s", acct, ref);
        char *hn = pool_alloc(pr->pool, strlen(pr->path.container) + strlen(pr->path.object) + 2);
        snprintf(hn, strlen(pr->path.container) + strlen(pr->path.object) + 2, "%s/%s",
                 pr->path.container, pr->path.object);
        s->src_path = is_copy ? here : other;
        s->dst_path = is_copy ? other : here;
        s->src_name = is_copy ? hn : pool_strdup(pr->pool, ref);
        break;
    }
    }
    check_enabled(s);
    return true;
}

/* Is the account enabled? (an internal read, as Swift's account info) */
static void check_enabled(struct pst *s)
{
    struct px_req *pr = s->pr;
    struct acct_slot *sl = acct_slot_of(pr->path.account);
    if (strcmp(sl->name, pr->path.account) == 0 && px_now_ms() < sl->expires_ms) {
        if (!sl->enabled) {
            answer(s, 400, "Account disabled for storlets");
            return;
        }
        if (s->upload)
            px_obj_put(pr);
        else
            go(s);
        return;
    }
    px_nodes_get(pr, PX_RING_ACCOUNT, pr->path.account, NULL, NULL, 3, &s->anodes);
    px_read_start(pr, "HEAD", &s->anodes, pr->path.account, NULL, NULL, NULL, &acct_ops, s);
}

void px_storlet_forward_headers(struct px_req *pr, struct http_client *c)
{
    if (!pr->srv->eng || !http_req_header(pr->req, "X-Run-Storlet"))
        return;
    const struct http_head *h = http_req_head(pr->req);
    for (unsigned i = 0; i < h->nheaders; i++)
        if (is_storlet_header(h->headers[i].name))
            http_client_header(c, h->headers[i].name, h->headers[i].value);
    const char *tok = http_req_header(pr->req, "X-Auth-Token");
    if (!tok || !tok[0])
        tok = http_req_header(pr->req, "X-Storage-Token");
    if (tok)
        http_client_header(c, "X-Backend-Storlet-Token", tok);
    char host[64];
    int port;
    px_storlet_self(pr, host, sizeof(host), &port);
    http_client_headerf(c, "X-Backend-Storlet-Proxy", "%s:%d", host, port);
    /* the backend GET carries no query string: pass it for parameters */
    const char *q = http_req_query(pr->req);
    if (q && *q)
        http_client_header(c, "X-Backend-Storlet-Query", q);
    if (pr->ngroups)
        http_client_header(c, "X-Backend-Storlet-User", pr->groups[0]);
    http_client_header(c, "X-Backend-Storlet-Caller-Account", pr->path.account);
}

bool px_storlet_usable(const struct http_head *h)
{
    return http_head_get(h, "X-Storlet-Executed-On") != NULL;
}

void px_storlet_self(struct px_req *pr, char *host, size_t n, int *port)
{
    const char *ip = pr->srv->conf.bind_ip;
    if (!ip || !*ip || strcmp(ip, "0.0.0.0") == 0)
        ip = "127.0.0.1";
    else if (strcmp(ip, "::") == 0)
        ip = "::1";
    str_copy(host, ip, n);
    *port = pr->srv->port;
}

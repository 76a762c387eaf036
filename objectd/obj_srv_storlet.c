/*
 * obj_srv_storlet.c - a storlet on the local node: a GET that carries the
 * chain the proxy planned for this node (X-Backend-Storlet-Chain;
 * docs/storlets.md section 2, docs/rules.md 4.11).
 *
 * The node never decides what runs: it runs exactly the chain the proxy
 * sends and ignores a client's X-Run-Storlet and X-Storlet-* headers, so a
 * request sent straight to a node cannot run or skip a storlet (it is a
 * plain GET). A chain of one stage runs here; longer chains go to
 * obj_srv_seq.c. The GET handler opens the object as usual (preconditions
 * included) and then hands the open reader here. This file gets the
 * storlet ready through the proxy with the caller's token
 * (engine/eng_prep.c: the proxy's ACLs decide), starts it in the sandbox,
 * feeds it the object (or the X-Backend-Storlet-Range) read on the disk
 * pool, and streams its output as a chunked 200 without the stored
 * object's ETag and Content-Length, which describe other bytes. A failure
 * before the first output byte answers its status and reason; after it the
 * response is aborted (no last chunk). Every storlet answer carries
 * X-Storlet-Executed-On naming this node and
 * X-Storlet-Sequence-Placement: object=1, proxy=0. No chain ever runs over a
 * large object's manifest (X-Object-Manifest, X-Static-Large-Object): its
 * stored bytes are not the
 * object, so the GET answers 422 with X-Backend-Storlet-Manifest: 1 before
 * anything starts, and the proxy runs the chain over the assembled body.
 *
 * Life cycle: the state is freed once the http request is over, no engine
 * step (prep or run) and no disk job is in flight. Threading: the worker's
 * loop, except the read job on a disk thread.
 */
#include "objectd/obj_srv_int.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_COMPONENT "objectd"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng.h"
#include "engine/eng_seq.h"
#include "objectd/obj_diskfile.h"

#define FEED_CHUNK (256 * 1024)

struct ostl {
    struct obj_rq *rq;          /* the GET's state (released via its done) */
    struct obj_worker *w;
    struct obj_server *srv;
    struct http_req *req;       /* NULL once the request is over */
    struct obj_df_reader *rd;
    struct eng_prep *prep;
    struct eng_run *run;
    json_t *params;
    char *account, *container, *object, *storlet, *node, *trans_id;
    char *ctype;
    char *px_host, *token;      /* the proxy and the caller's token */
    int px_port;
    unsigned depth;             /* X-Storlet-Depth: services chains */
    char *stl_etag;             /* the storlet's version */
    char *code_cap;             /* read the code with this capability */
    char *verified;             /* the proxy's HEAD of the storlet, or NULL */
    char src_etag[40];          /* the object's ETag */
    json_t *umeta;              /* the object's user metadata, no prefix */
    struct eng_decision d;
    bool log;                   /* store the log in storletlog */
    bool ranged;
    uint64_t first, last, size;
    uint64_t pos, end;          /* feeding [pos, end) */
    char *buf;
    ssize_t nread;
    bool busy, input_done, started;
    struct evbuffer *inb;
};

static void ostl_maybe_free(struct ostl *s)
{
    if (s->req || s->busy || s->prep || s->run)
        return;
    obj_df_reader_free(s->rd);
    json_decref(s->params);
    json_decref(s->umeta);
    if (s->inb)
        evbuffer_free(s->inb);
    free(s->account);
    free(s->container);
    free(s->object);
    free(s->storlet);
    free(s->node);
    free(s->trans_id);
    free(s->ctype);
    free(s->stl_etag);
    free(s->code_cap);
    free(s->verified);
    free(s->px_host);
    free(s->token);
    free(s->buf);
    free(s);
}

static void reply(struct ostl *s, int status, const char *body)
{
    if (!s->req)
        return;
    http_resp_header(s->req, "X-Storlet-Executed-On", s->node);
    obj_srv_reply(s->req, status, body);
}

/* ------------------------------------------------------------ http side */

static void http_drain(struct http_req *req, void *arg)
{
    (void)req;
    struct ostl *s = arg;
    if (s->run)
        eng_run_resume_output(s->run);
}

static void http_done(struct http_req *req, int err, void *arg)
{
    struct ostl *s = arg;
    s->req = NULL;
    obj_rq_http_done(req, err, s->rq);
    if (s->prep) {
        eng_prep_cancel(s->prep);
        s->prep = NULL;
    }
    if (s->run) {
        eng_run_cancel(s->run);
        s->run = NULL;
    }
    ostl_maybe_free(s);
}

static const struct http_req_ops stl_http_ops = {
    .drain = http_drain,
    .done = http_done,
};

/* ------------------------------------------------------------ input */

static void feed(struct ostl *s);

static int read_work(void *arg)
{
    struct ostl *s = arg;
    if (s->ranged) {
        uint64_t want = s->end - s->pos < FEED_CHUNK ? s->end - s->pos : FEED_CHUNK;
        s->nread = obj_df_pread(s->rd, s->buf, want, s->pos);
        if (s->nread == 0)
            s->nread = -EIO;
    } else {
        s->nread = obj_df_read(s->rd, s->buf, FEED_CHUNK);
    }
    return 0;
}

static void fail_input(struct ostl *s)
{
    log_err("storlet %s on /%s/%s/%s: reading the object failed: %s", s->storlet,
            s->account, s->container, s->object, strerror((int)-s->nread));
    if (s->run) {
        eng_run_cancel(s->run);
        s->run = NULL;
    }
    if (s->req) {
        if (s->started)
            http_resp_abort(s->req);
        else
            reply(s, 500, "Storlet input could not be read");
    }
}

static void read_done(void *arg, int status)
{
    (void)status;
    struct ostl *s = arg;
    s->busy = false;
    if (!s->run) {
        ostl_maybe_free(s);
        return;
    }
    if (s->nread < 0) {
        fail_input(s);
        ostl_maybe_free(s);
        return;
    }
    if (s->nread == 0)
        s->pos = s->end;   /* whole-body read: verified end */
    else
        s->pos += (uint64_t)s->nread;
    if (s->nread > 0)
        evbuffer_add(s->inb, s->buf, (size_t)s->nread);
    feed(s);
}

static void feed(struct ostl *s)
{
    if (!s->run || s->input_done || s->busy)
        return;
    if (evbuffer_get_length(s->inb) > 0 && !eng_run_write(s->run, s->inb))
        return;   /* input_drain calls again */
    if (s->pos >= s->end && (s->ranged || s->nread == 0)) {
        s->input_done = true;
        eng_run_input_end(s->run);
        return;
    }
    s->busy = true;
    if (workq_submit(s->w->port, read_work, read_done, s) != 0) {
        s->busy = false;
        s->nread = -EAGAIN;
        fail_input(s);
    }
}

/* ------------------------------------------------------------ engine side */


static void add_meta_headers(struct ostl *s, const struct eng_meta *m)
{
    struct http_req *req = s->req;
    const char *k;
    json_t *v;
    json_object_foreach(s->umeta, k, v) {
        if (m->metadata && json_object_get(m->metadata, k))
            continue;
        char *name = xasprintf("X-Object-Meta-%s", k);
        http_resp_header(req, name, json_string_value(v));
        free(name);
    }
    if (m->metadata) {
        json_object_foreach(m->metadata, k, v) {
            char *name = xasprintf("X-Object-Meta-%s", k);
            http_resp_header(req, name, json_string_value(v));
            free(name);
        }
    }
    http_resp_header(req, "Content-Type", m->content_type ? m->content_type : s->ctype);
    http_resp_header(req, "X-Storlet-Executed-On", s->node);
    if (s->stl_etag)
        http_resp_header(req, "X-Storlet-Etag", s->stl_etag);
    http_resp_header(req, "X-Storlet-Source-Etag", s->src_etag);
    http_resp_header(req, "X-Storlet-Sequence-Placement", "object=1, proxy=0");
    if (s->d.has_range)
        http_resp_headerf(req, "Storlet-Input-Range", "bytes %llu-%llu/%llu",
                          (unsigned long long)s->first, (unsigned long long)s->last,
                          (unsigned long long)s->size);
}

static void on_start(struct eng_run *r, const struct eng_meta *m, void *arg)
{
    (void)r;
    struct ostl *s = arg;
    s->started = true;
    add_meta_headers(s, m);
    http_resp_start(s->req, 200, HTTP_LENGTH_UNKNOWN);
}

static void on_output(struct eng_run *r, struct evbuffer *b, void *arg)
{
    struct ostl *s = arg;
    if (!http_resp_wants_more(s->req)) {
        eng_run_pause_output(r);
        return;
    }
    http_resp_add_buffer(s->req, b);
}

static void on_input_drain(struct eng_run *r, void *arg)
{
    (void)r;
    feed(arg);
}

static void on_done(struct eng_run *r, const struct eng_outcome *o, void *arg)
{
    (void)r;
    struct ostl *s = arg;
    s->run = NULL;
    if (s->log)
        eng_log_upload(s->w->base, s->px_host, s->px_port, s->token, s->account, s->storlet,
                       s->trans_id, o);
    if (s->req) {
        if (o->kind == ENG_OK)
            http_resp_end(s->req);
        else if (o->kind == ENG_FAILED_AFTER)
            http_resp_abort(s->req);
        else
            reply(s, o->status, o->reason);
    }
    ostl_maybe_free(s);
}

static const struct eng_run_ops run_ops = {
    .start = on_start,
    .output = on_output,
    .input_drain = on_input_drain,
    .done = on_done,
};

static void prep_done(struct eng_prep *p, const struct eng_prep_result *pr, void *arg)
{
    (void)p;
    struct ostl *s = arg;
    s->prep = NULL;
    if (!s->req) {
        ostl_maybe_free(s);
        return;
    }
    if (pr->status) {
        reply(s, pr->status, pr->reason);
        ostl_maybe_free(s);
        return;
    }
    s->stl_etag = xstrdup(pr->code.etag);
    /*
     * The storlet's fd 0 is always a pipe this process feeds with the body
     * bytes only (feed). It was once the .data file itself for a
     * whole-object GET (no copy), but a file can be seeked: the storlet
     * could lseek/pread back to the stored metadata header, system
     * metadata included, which the caller may not see. A pipe cannot be
     * repositioned (ESPIPE), so the storlet sees the body and nothing else.
     */
    struct eng_invocation inv = {
        .code = &pr->code, .code_dir = pr->code_dir, .parameters = s->params,
        .op = ENG_OP_GET, .account = s->account, .container = s->container,
        .object = s->object, .trans_id = s->trans_id, .on_proxy = false,
        .has_range = s->d.has_range, .range_first = s->first, .range_last = s->last,
        .range_size = s->size,
        .caller_user = http_req_header(s->req, "X-Backend-Storlet-User"),
        .caller_account = http_req_header(s->req, "X-Backend-Storlet-Caller-Account"),
        .content_length = (int64_t)(s->end - s->pos), .content_type = s->ctype,
        .metadata = s->umeta, .input_fd = -1,
        .svc_host = s->depth + 1 < ENG_SVC_DEPTH_MAX ? s->px_host : NULL,
        .svc_port = s->px_port, .svc_token = s->token, .svc_depth = s->depth,
    };
    struct err e;
    err_clear(&e);
    s->run = eng_run_start(s->srv->eng, s->w->base, &inv, &run_ops, s, &e);
    if (!s->run) {
        log_warn("storlet %s: %s", s->storlet, e.msg);
        reply(s, 503, e.msg);
        ostl_maybe_free(s);
        return;
    }
    feed(s);
}

/* ------------------------------------------------------------ entry */

int obj_storlet_caller(struct http_req *req, char **host, int *port, const char **token,
                       unsigned *depth, const char **why)
{
    *token = http_req_header(req, "X-Backend-Storlet-Token");
    const char *px = http_req_header(req, "X-Backend-Storlet-Proxy");
    const char *colon = px ? strrchr(px, ':') : NULL;
    uint64_t p = 0;
    if (!*token || !colon || parse_u64(colon + 1, &p) < 0 || p == 0 || p > 65535) {
        *why = "a storlet runs only on requests that come through the proxy";
        return 400;
    }
    const char *dh = http_req_header(req, "X-Backend-Storlet-Depth");
    uint64_t d = 0;
    if (dh && (parse_u64(dh, &d) < 0 || d >= ENG_SVC_DEPTH_MAX)) {
        *why = "storlets invoke each other too deeply";
        return 508;
    }
    *host = xstrndup(px, (size_t)(colon - px));
    *port = (int)p;
    *depth = (unsigned)d;
    return 0;
}

bool obj_storlet_range(const struct eng_decision *d, uint64_t size, uint64_t *first,
                       uint64_t *last)
{
    uint64_t f = d->range_first, l = size ? size - 1 : 0;
    if (d->range_suffix)
        f = d->range_last >= size ? 0 : size - d->range_last;
    else if (!d->range_open && d->range_last < l)
        l = d->range_last;
    if (size == 0 || f >= size)
        return false;
    *first = f;
    *last = l;
    return true;
}

void obj_storlet_src_meta(const struct obj_df_info *in, json_t **umeta, char **ctype)
{
    *umeta = json_object();
    *ctype = xstrdup("application/octet-stream");
    const char *k;
    json_t *v;
    json_object_foreach(in->meta, k, v) {
        if (!json_is_string(v))
            continue;
        if (strcasecmp(k, "Content-Type") == 0) {
            free(*ctype);
            *ctype = xstrdup(json_string_value(v));
        } else if (strncasecmp(k, "X-Object-Meta-", 14) == 0) {
            json_object_set(*umeta, k + 14, v);
        }
    }
}

int obj_storlet_backend(struct http_req *req, struct obj_storlet_req *out, const char **why)
{
    static _Thread_local char reason[600];
    struct eng_decision *d = &out->d;
    memset(d, 0, sizeof(*d));
    out->log_mask = 0;
    out->code_mask = 0;
    out->code_cap = NULL;
    const char *cj = http_req_header(req, "X-Backend-Storlet-Chain");
    json_error_t je;
    json_t *j = cj ? json_loads(cj, JSON_REJECT_DUPLICATES, &je) : NULL;
    struct err e;
    err_clear(&e);
    if (!j) {
        snprintf(reason, sizeof(reason), "X-Backend-Storlet-Chain: %s",
                 cj ? je.text : "missing");
        *why = reason;
        return 400;
    }
    int rc = eng_seq_from_json(j, ENG_SEQ_MAX, "X-Backend-Storlet-Chain", &out->seq, &e);
    json_decref(j);
    if (rc < 0) {
        str_copy(reason, e.msg, sizeof(reason));
        *why = reason;
        return 400;
    }
    const char *r = http_req_header(req, "X-Backend-Storlet-Range");
    const char *l = http_req_header(req, "X-Backend-Storlet-Log");
    const char *cs = http_req_header(req, "X-Backend-Storlet-Code-Stages");
    out->code_cap = http_req_header(req, "X-Backend-Storlet-Code-Cap");
    *why = NULL;
    if (r && eng_storlet_range_parse(r, d) < 0)
        *why = "X-Backend-Storlet-Range: expected one range";
    else if (l && eng_seq_stage_set_parse(l, out->seq.n, &out->log_mask) < 0)
        *why = "X-Backend-Storlet-Log: expected stage numbers";
    else if (cs && (!out->code_cap ||
                    eng_seq_stage_set_parse(cs, out->seq.n, &out->code_mask) < 0))
        *why = "X-Backend-Storlet-Code-Stages: expected stage numbers and a "
               "X-Backend-Storlet-Code-Cap";
    if (*why) {
        eng_seq_release(&out->seq);
        return 400;
    }
    d->where = ENG_RUN_HERE;
    d->op = ENG_OP_GET;
    return 0;
}

char *obj_storlet_verified(struct http_req *req, unsigned k)
{
    const char *v = http_req_header(req, ENG_VERIFIED_HEADER);
    json_t *a = v ? json_loads(v, JSON_REJECT_DUPLICATES, NULL) : NULL;
    json_t *o = json_array_get(a, k);
    char *out = json_is_object(o) ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(a);
    return out;
}

bool obj_storlet_manifest(struct http_req *req, const struct obj_df_info *in)
{
    /* A manifest's stored bytes are not the object the caller reads: the
     * proxy assembles the segments and runs the chain over them itself. */
    const char *k;
    json_t *v;
    json_object_foreach(in->meta, k, v) {
        /* a DLO (X-Object-Manifest) or an SLO (X-Static-Large-Object) */
        if ((strcasecmp(k, "X-Object-Manifest") != 0 &&
             strcasecmp(k, "X-Static-Large-Object") != 0) || !json_is_string(v))
            continue;
        http_resp_header(req, OBJ_STORLET_MANIFEST_HEADER, "1");
        http_resp_header(req, k, json_string_value(v));
        obj_srv_reply(req, 422, "a storlet chain does not run over a large object's "
                                "manifest on the object node");
        return true;
    }
    return false;
}

bool obj_storlet_wanted(struct http_req *req, struct obj_server *srv)
{
    return srv->eng && http_req_method(req) == HTTP_M_GET &&
           http_req_header(req, "X-Backend-Storlet-Chain") != NULL;
}

void obj_storlet_get(struct obj_rq *rq, struct obj_df_reader *rd, const char *dev,
                     const char *name)
{
    struct http_req *req = rq->req;
    struct obj_server *srv = rq->w->srv;
    struct obj_storlet_req br;
    eng_seq_init(&br.seq);
    const char *bwhy;
    int bst = obj_storlet_backend(req, &br, &bwhy);
    /* a chain, or a storlet rule's stage (code_mask: its answer must carry
     * its output's metadata only, never the stored object's, docs/rules.md
     * 4.2), runs as a sequence */
    if (bst == 0 && (br.seq.n > 1 || br.code_mask)) {
        obj_seq_get(rq, rd, dev, name, &br);
        return;
    }
    const struct obj_df_info *in = obj_df_info(rd);
    struct ostl *s = xcalloc(1, sizeof(*s));
    s->rq = rq;
    s->w = rq->w;
    s->srv = srv;
    s->req = req;
    s->rd = rd;
    s->node = xasprintf("%s:%d/%s", srv->conf.bind_ip, srv->ports[OBJ_ROLE_OBJECT], dev);
    const char *tx = http_req_header(req, "X-Trans-Id");
    s->trans_id = xstrdup(tx ? tx : "");
    http_req_set_ops(req, &stl_http_ops, s);
    if (bst != 0) {
        reply(s, bst, bwhy);
        ostl_maybe_free(s);
        return;
    }
    s->d = br.d;
    s->log = br.log_mask & 1u;
    s->code_cap = br.code_mask & 1u ? xstrdup(br.code_cap) : NULL;
    s->verified = obj_storlet_verified(req, 0);
    s->storlet = xstrdup(br.seq.st[0].storlet);
    s->params = json_incref(br.seq.st[0].params);
    eng_seq_release(&br.seq);

    /* "/a/c/o" */
    const char *a = name + 1, *c = strchr(a, '/');
    const char *o = c ? strchr(c + 1, '/') : NULL;
    if (!c || !o) {
        reply(s, 400, "bad object name");
        ostl_maybe_free(s);
        return;
    }
    s->account = xstrndup(a, (size_t)(c - a));
    s->container = xstrndup(c + 1, (size_t)(o - c - 1));
    s->object = xstrdup(o + 1);
    const char *token, *why;
    char *host;
    int port, st = obj_storlet_caller(req, &host, &port, &token, &s->depth, &why);
    if (st != 0) {
        reply(s, st, why);
        ostl_maybe_free(s);
        return;
    }
    s->px_host = xstrdup(host);
    s->px_port = port;
    s->token = xstrdup(token);

    s->size = in->content_length;
    str_copy(s->src_etag, in->etag, sizeof(s->src_etag));
    obj_storlet_src_meta(in, &s->umeta, &s->ctype);
    if (s->d.has_range) {
        uint64_t first, last;
        if (!obj_storlet_range(&s->d, s->size, &first, &last)) {
            http_resp_headerf(req, "Content-Range", "bytes */%llu",
                              (unsigned long long)s->size);
            reply(s, 416, "X-Storlet-Range: not satisfiable");
            free(host);
            ostl_maybe_free(s);
            return;
        }
        s->first = first;
        s->last = last;
        s->ranged = true;
        s->pos = first;
        s->end = last + 1;
    } else {
        s->pos = 0;
        s->end = s->size;
        s->nread = -1;   /* whole-body reads end on a 0 read, not on pos */
    }
    s->buf = xmalloc(FEED_CHUNK);
    s->inb = evbuffer_new();
    s->prep = eng_prep_start_known(srv->eng, s->w->base, host, (int)port, token, s->code_cap,
                                   s->verified, s->account, s->storlet, s->trans_id,
                                   prep_done, s);
    free(host);
}

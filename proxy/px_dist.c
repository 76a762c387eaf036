/*
 * px_dist.c - Distributed storlet requests (docs/compound-storlets.md
 * section 2): POST /v1/<account> with X-Storlet-Distributed: 1 and a JSON
 * body (eng_dist_parse).
 *
 *   body -> resources: the list, or a loopback listing of the container
 *           with the prefix (paged, counted against max_resources)
 *        -> splits: one loopback storlet GET per resource to this proxy
 *           with the caller's token and the split chain in the headers,
 *           so ACLs, rules and placement apply exactly as to the caller's
 *           own GET and the split runs on a node holding the object; at
 *           most `concurrency` at once (capped by the proxy's
 *           storlet_distributed_concurrency)
 *        -> merge: a chain of 1-4 runs here; the first one's fd 0 is the
 *           framed merge stream (eng_dist_put_*), fed part by part as
 *           splits deliver, each stage's output the next one's input
 *        -> the client (200), or a loopback PUT of `result` (201).
 *
 * Invariants. Memory is bounded whatever the outputs' sizes: a split holds
 * at most SPLIT_HIGH bytes of output before its socket is paused (plus
 * what the HTTP client itself buffers); the merge's pending input is at
 * most MIN_HIGH plus one chunk; the held-back merge output at most
 * HOLD_MAX plus one read. Only one split at a time (`cur`) streams into
 * the merge, because a part's chunks must be contiguous in the stream; a
 * split is counted against the concurrency until its whole output has
 * entered the stream. Any split failure fails the whole request with a
 * reason naming the resource; the merge's output is held back (up to
 * HOLD_MAX) until every split has ended, so that answer is a clean one.
 *
 * Life cycle: the state lives in the request pool; a pool cleanup frees
 * every loopback client and cancels the prep and the run, so nothing runs
 * after the client has gone. Threading: the worker's loop only.
 */
#include "proxy/px_dist.h"

#include <errno.h>
#include <limits.h>
#include <event2/buffer.h>
#include <jansson.h>
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
#include "engine/eng_dist.h"
#include "proxy/px_backend.h"
#include "proxy/px_cap.h"
#include "proxy/px_storlet.h"

#define SPLIT_HIGH (256u << 10)    /* a split's held output: pause above */
#define SPLIT_LOW (64u << 10)      /* ... and resume below */
#define MIN_HIGH (256u << 10)      /* merge input pending before a write */
#define CHUNK (64u << 10)          /* bytes per stream chunk */
#define HOLD_MAX (1u << 20)        /* merge output held until splits end */
#define ERR_BODY_MAX 1024
#define LIST_PAGE 1000
#define LIST_BODY_MAX (16u << 20)
#define MERGE_CTYPE "application/x-cairn-merge-stream"
#define DIST_BODY_TOO_LONG "the request body is more than 65536 bytes"
_Static_assert(ENG_DIST_BODY_MAX == 65536, "DIST_BODY_TOO_LONG names the limit");

struct dist;

/* One stage of the merge chain: its output feeds the next stage's input,
 * the last one's the answer. */
struct mstage {
    struct dist *d;
    unsigned k;
    struct eng_prep *prep;
    struct eng_run *run;
    char *etag;
    json_t *meta_out;          /* its output metadata: the next's input's */
    char *ctype_out;
    bool ended;                /* ended well (its output all taken) */
};

struct split {
    struct dist *d;
    size_t idx;
    struct http_client *c;
    int status;
    json_t *meta;              /* the split's output metadata */
    char *ctype;
    struct evbuffer *buf;      /* output not yet in the stream; or the
                                * error body of a failed split */
    bool head_ok, ended, paused;
};

struct dist {
    struct px_req *pr;
    struct eng_dist *req;
    const char *token;
    char host[64];
    int port;
    struct evbuffer *body;       /* the request body */
    const char *split_names;     /* "a, b" */
    const char *merge_name;      /* "a, b" */

    /* resources */
    size_t nres;
    const char **rc, **ro;       /* container, object of each */
    char **names;                /* listed names (heap) */
    size_t nnames, capnames;
    struct http_client *lc;      /* the listing page in flight */
    int lstatus;
    struct evbuffer *lbuf;
    size_t llimit;

    /* splits */
    struct split *sp;
    struct split *active[ENG_DIST_CONCURRENCY_MAX];
    size_t nactive, next, nended, nemitted;
    unsigned conc;
    struct split *cur;           /* the split streaming into the merge */

    /* the merge */
    struct mstage ms[ENG_DIST_CHAIN_MAX];
    unsigned nms;
    bool merge_launched;
    struct eng_run *run;         /* stage 0, fed the stream; NULL once over */
    bool in_done;                /* stage 0 has ended: drop split output */
    struct evbuffer *min;        /* merge input not yet in its pipe */
    bool input_full, end_sent, input_ended;
    bool merge_started, merge_done;   /* the last stage's start, end */
    json_t *mmeta;
    char *mctype;

    /* the answer */
    struct evbuffer *hold;       /* merge output held back */
    bool begun, out_ended;
    struct http_client *put;
    int put_status;
    char *put_etag;
    bool failed, answered;
};

/* ------------------------------------------------------------ helpers */

static char *quote(struct pool *p, const char *s, const char *safe)
{
    size_t n = strlen(s);
    char *out = pool_alloc(p, 3 * n + 1);
    names_quote(s, n, safe, out);
    return out;
}

/* "a, b" from a chain's storlet names, in the pool. */
static const char *chain_names(struct pool *p, const struct eng_seq *s)
{
    size_t n = 1;
    for (unsigned i = 0; i < s->n; i++)
        n += strlen(s->st[i].storlet) + 2;
    char *out = pool_alloc(p, n);
    out[0] = '\0';
    size_t at = 0;
    for (unsigned i = 0; i < s->n; i++)
        at += (size_t)snprintf(out + at, n - at, "%s%s", i ? ", " : "", s->st[i].storlet);
    return out;
}

static void stop_all(struct dist *d)
{
    for (unsigned k = 0; k < d->nms; k++) {
        eng_prep_cancel(d->ms[k].prep);
        d->ms[k].prep = NULL;
        eng_run_cancel(d->ms[k].run);
        d->ms[k].run = NULL;
    }
    d->run = NULL;
    http_client_free(d->lc);
    d->lc = NULL;
    http_client_free(d->put);
    d->put = NULL;
    for (size_t i = 0; i < d->nactive; i++) {
        http_client_free(d->active[i]->c);
        d->active[i]->c = NULL;
    }
}

static void cleanup(void *arg)
{
    struct dist *d = arg;
    stop_all(d);
    if (d->sp) {
        for (size_t i = 0; i < d->nres; i++) {
            json_decref(d->sp[i].meta);
            free(d->sp[i].ctype);
            if (d->sp[i].buf)
                evbuffer_free(d->sp[i].buf);
        }
        free(d->sp);
    }
    for (size_t i = 0; i < d->nnames; i++)
        free(d->names[i]);
    free(d->names);
    free(d->rc);
    free(d->ro);
    eng_dist_free(d->req);
    json_decref(d->mmeta);
    free(d->mctype);
    for (unsigned k = 0; k < d->nms; k++) {
        free(d->ms[k].etag);
        json_decref(d->ms[k].meta_out);
        free(d->ms[k].ctype_out);
    }
    free(d->put_etag);
    if (d->body)
        evbuffer_free(d->body);
    if (d->lbuf)
        evbuffer_free(d->lbuf);
    if (d->min)
        evbuffer_free(d->min);
    if (d->hold)
        evbuffer_free(d->hold);
}

/*
 * Fails the whole request: stops every split, the merge and the result's
 * PUT (a chunked PUT cut short stores nothing), and answers `status` with
 * msg, or, when the merge's output is already on its way to the client,
 * ends that response abnormally.
 */
static void fail(struct dist *d, int status, const char *msg)
{
    if (d->failed)
        return;
    d->failed = true;
    log_set_txn(d->pr->txn);
    log_warn("distributed request failed: %s", msg);
    log_set_txn(NULL);
    stop_all(d);
    if (d->pr->done)
        return;
    if (d->begun && !d->req->result.container) {
        /* the merge output is on its way: a cut body, never a short one
         * taken as whole */
        d->answered = true;
        http_resp_abort(d->pr->req);
        return;
    }
    if (d->answered)
        return;
    d->answered = true;
    px_reply_text(d->pr, status, msg);
}

/* "404 Not Found", or with the storlet's reason: "422 Unprocessable
 * Entity: not a P5 PGM". */
static void status_reason(int status, struct evbuffer *body, char *out, size_t n)
{
    int at = snprintf(out, n, "%d %s", status, http_status_reason(status));
    size_t len = body ? evbuffer_get_length(body) : 0;
    if (!len || at < 0 || (size_t)at + 3 >= n)
        return;
    char text[ERR_BODY_MAX + 1];
    if (len > ERR_BODY_MAX)
        len = ERR_BODY_MAX;
    evbuffer_copyout(body, text, len);
    text[len] = '\0';
    if (strncasecmp(text, "<html>", 6) == 0)
        return;   /* a standard page says no more than the status */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] < 0x20)
            text[i] = ' ';
    while (len && text[len - 1] == ' ')
        text[--len] = '\0';
    if (len)
        snprintf(out + at, n - (size_t)at, ": %s", text);
}

static void pump(struct dist *d);
static void check_finish(struct dist *d);

/* ------------------------------------------------------------ the merge */

static void begin_output(struct dist *d);

static void stage_prep(struct dist *d, unsigned k);

static struct eng_run *last_run(struct dist *d)
{
    return d->nms ? d->ms[d->nms - 1].run : NULL;
}

static void run_start_cb(struct eng_run *r, const struct eng_meta *m, void *arg)
{
    (void)r;
    struct mstage *ms = arg;
    struct dist *d = ms->d;
    if (ms->k + 1 < d->nms) {
        /* its output metadata is the next stage's input metadata, so the
         * next stage starts now */
        ms->meta_out = m->metadata ? json_deep_copy(m->metadata) : json_object();
        ms->ctype_out = m->content_type ? xstrdup(m->content_type) : NULL;
        stage_prep(d, ms->k + 1);
        return;
    }
    d->merge_started = true;
    d->mmeta = m->metadata ? json_deep_copy(m->metadata) : json_object();
    d->mctype = m->content_type ? xstrdup(m->content_type) : NULL;
    check_finish(d);
}

static void run_output(struct eng_run *r, struct evbuffer *b, void *arg)
{
    struct mstage *ms = arg;
    struct dist *d = ms->d;
    if (d->failed)
        return;
    if (ms->k + 1 < d->nms) {
        struct eng_run *next = d->ms[ms->k + 1].run;
        if (d->ms[ms->k + 1].ended) {
            evbuffer_drain(b, evbuffer_get_length(b));   /* it stopped early */
            return;
        }
        if (!next || !eng_run_write(next, b))
            eng_run_pause_output(r);   /* resumed by the next's input_drain */
        return;
    }
    if (!d->begun) {
        evbuffer_remove_buffer(b, d->hold, evbuffer_get_length(b));
        if (evbuffer_get_length(d->hold) >= HOLD_MAX)
            begin_output(d);   /* the doc's limit: start, a later failure cuts */
        return;
    }
    if (d->req->result.container) {
        if (!d->put || !http_client_wants_more(d->put)) {
            eng_run_pause_output(r);
            return;
        }
        http_client_add_buffer(d->put, b);
        return;
    }
    if (d->pr->done)
        return;
    if (!http_resp_wants_more(d->pr->req)) {
        eng_run_pause_output(r);
        return;
    }
    http_resp_add_buffer(d->pr->req, b);
}

static void run_input_drain(struct eng_run *r, void *arg)
{
    (void)r;
    struct mstage *ms = arg;
    struct dist *d = ms->d;
    if (ms->k == 0) {
        d->input_full = false;
        pump(d);
    } else if (d->ms[ms->k - 1].run) {
        eng_run_resume_output(d->ms[ms->k - 1].run);
    }
}

/* "merge sumlist" for one stage, "merge stage 2 (b)" in a chain. */
static void stage_name(const struct dist *d, unsigned k, char *out, size_t n)
{
    if (d->nms == 1)
        snprintf(out, n, "merge %s", d->req->merge.st[0].storlet);
    else
        snprintf(out, n, "merge stage %u (%s)", k + 1, d->req->merge.st[k].storlet);
}

static void run_done(struct eng_run *r, const struct eng_outcome *o, void *arg)
{
    (void)r;
    struct mstage *ms = arg;
    struct dist *d = ms->d;
    ms->run = NULL;
    if (ms->k == 0) {
        d->run = NULL;
        d->in_done = true;
    }
    if (d->failed)
        return;
    if (o->kind != ENG_OK) {
        char name[1100], msg[2400];
        stage_name(d, ms->k, name, sizeof(name));
        snprintf(msg, sizeof(msg), "%s failed: %s", name,
                 o->reason[0] ? o->reason : "the storlet failed");
        fail(d, o->kind == ENG_FAILED_BEFORE && o->status >= 400 ? o->status : 500, msg);
        return;
    }
    ms->ended = true;
    if (ms->k > 0 && d->ms[ms->k - 1].run)
        eng_run_resume_output(d->ms[ms->k - 1].run);   /* to drop the rest */
    if (ms->k + 1 < d->nms) {
        if (d->ms[ms->k + 1].run)
            eng_run_input_end(d->ms[ms->k + 1].run);
        /* else the next stage gets its input's end when it starts */
    } else {
        d->merge_done = true;
    }
    if (ms->k == 0)
        pump(d);   /* the merge may have stopped reading: drop the rest */
    check_finish(d);
}

static const struct eng_run_ops run_ops = {
    .start = run_start_cb,
    .output = run_output,
    .input_drain = run_input_drain,
    .done = run_done,
};

static void prep_done(struct eng_prep *p, const struct eng_prep_result *r, void *arg)
{
    (void)p;
    struct mstage *ms = arg;
    struct dist *d = ms->d;
    struct px_req *pr = d->pr;
    unsigned k = ms->k;
    ms->prep = NULL;
    if (d->failed || pr->done)
        return;
    char name[1100], msg[2400];
    stage_name(d, k, name, sizeof(name));
    if (r->status) {
        snprintf(msg, sizeof(msg), "%s: %s", name, r->reason);
        fail(d, r->status, msg);
        return;
    }
    ms->etag = xstrdup(r->code.etag);
    json_t *roles = json_array();
    for (size_t i = 0; i < pr->ngroups; i++)
        json_array_append_new(roles, json_string(pr->groups[i]));
    /* The merge's "object": the result it makes, else the resources'
     * container and prefix (empty for a list). */
    const struct eng_dist *q = d->req;
    const char *cont = q->result.container ? q->result.container
                       : q->container      ? q->container
                                           : "";
    const char *obj = q->result.container ? q->result.object : q->prefix ? q->prefix : "";
    const struct mstage *prev = k ? &d->ms[k - 1] : NULL;
    uint64_t life = (uint64_t)pr->srv->conf.storlet_dist_timeout;
    const char *cu, *ca;
    px_storlet_caller(pr, &cu, &ca);
    struct eng_invocation inv = {
        .code = &r->code, .code_dir = r->code_dir, .parameters = q->merge.st[k].params,
        .op = q->result.container ? ENG_OP_PUT : ENG_OP_GET, .account = pr->path.account,
        .container = cont, .object = obj, .trans_id = pr->txn, .on_proxy = true,
        .caller_user = cu, .caller_account = ca,
        .caller_roles = roles, .content_length = -1,
        .content_type = prev ? prev->ctype_out : MERGE_CTYPE,
        .metadata = prev ? prev->meta_out : NULL, .input_fd = -1,
        .svc_host = d->host, .svc_port = d->port, .svc_token = d->token, .svc_depth = 0,
        .wall_ms = life, .idle_ms = life,
    };
    struct err e;
    err_clear(&e);
    ms->run = eng_run_start(pr->srv->eng, pr->w->base, &inv, &run_ops, ms, &e);
    json_decref(roles);
    if (!ms->run) {
        snprintf(msg, sizeof(msg), "%s: %s", name, e.msg);
        fail(d, 503, msg);
        return;
    }
    if (k == 0) {
        d->run = ms->run;
        pump(d);
    } else if (prev->ended) {
        eng_run_input_end(ms->run);
    } else if (prev->run) {
        eng_run_resume_output(prev->run);   /* its output waited for us */
    }
}

/* Fetches stage k's code (with the caller's token), then starts it. */
static void stage_prep(struct dist *d, unsigned k)
{
    struct px_req *pr = d->pr;
    struct mstage *ms = &d->ms[k];
    ms->prep = eng_prep_start(pr->srv->eng, pr->w->base, d->host, d->port, d->token,
                              pr->path.account, d->req->merge.st[k].storlet, pr->txn,
                              prep_done, ms);
}

/* ------------------------------------------------------------ the stream */

static void launch(struct dist *d);

/* The next split to stream into the merge: one whose output has ended
 * (it goes in whole), else one that is paused with a full buffer (it
 * streams; the others wait). */
static struct split *pick(struct dist *d)
{
    struct split *full = NULL;
    for (size_t i = 0; i < d->nactive; i++) {
        struct split *s = d->active[i];
        if (!s->head_ok)
            continue;
        if (s->ended)
            return s;
        if (!full && s->paused)
            full = s;
    }
    return full;
}

static void split_retire(struct dist *d, struct split *s)
{
    for (size_t i = 0; i < d->nactive; i++) {
        if (d->active[i] == s) {
            memmove(&d->active[i], &d->active[i + 1], (d->nactive - i - 1) * sizeof(s));
            d->nactive--;
            break;
        }
    }
    evbuffer_free(s->buf);
    s->buf = NULL;
    json_decref(s->meta);
    s->meta = NULL;
    d->nemitted++;
}

/*
 * Moves split output into the merge's input as far as the merge takes it:
 * the current part's chunks, its end, the next part's frame, ..., the end
 * frame, then closes the input. Once the merge has ended, split output is
 * dropped (the merge may stop reading early) but the splits still must
 * succeed.
 */
static void pump(struct dist *d)
{
    while (!d->failed) {
        bool progress = false;
        bool sink = !d->in_done;
        if (sink && !d->run)
            return;   /* the merge is not running yet */
        if (!d->cur && (d->cur = pick(d)) != NULL) {
            struct split *s = d->cur;
            if (sink) {
                char *path = xasprintf("%s/%s", d->rc[s->idx], d->ro[s->idx]);
                eng_dist_put_part(d->min, s->idx, path, s->meta, s->ctype);
                free(path);
            }
            progress = true;
        }
        struct split *s = d->cur;
        if (s) {
            size_t len;
            while ((len = evbuffer_get_length(s->buf)) > 0 &&
                   (!sink || evbuffer_get_length(d->min) < MIN_HIGH)) {
                size_t n = len < CHUNK ? len : CHUNK;
                if (sink)
                    eng_dist_put_chunk(d->min, evbuffer_pullup(s->buf, (ssize_t)n), n);
                evbuffer_drain(s->buf, n);
                progress = true;
            }
            if (s->paused && s->c && evbuffer_get_length(s->buf) < SPLIT_LOW) {
                s->paused = false;
                http_client_resume(s->c);
            }
            if (s->ended && evbuffer_get_length(s->buf) == 0) {
                if (sink)
                    eng_dist_put_part_end(d->min);
                split_retire(d, s);
                d->cur = NULL;
                launch(d);
                if (d->failed)
                    return;
                progress = true;
            }
        }
        if (d->nres && d->nemitted == d->nres && !d->end_sent) {
            if (sink)
                eng_dist_put_end(d->min, d->nres);
            d->end_sent = true;
            progress = true;
        }
        if (sink && evbuffer_get_length(d->min)) {
            if (d->input_full)
                return;
            if (!eng_run_write(d->run, d->min)) {
                d->input_full = true;
                return;
            }
            /* the pipe took it all: there is room for more now, and
             * nothing else would call again (a paused split waits for
             * us, the pipe is not full) */
            progress = true;
        }
        if (sink && d->end_sent && !d->input_ended && !evbuffer_get_length(d->min)) {
            d->input_ended = true;
            eng_run_input_end(d->run);
        }
        if (!progress)
            return;
    }
}

/* ------------------------------------------------------------ the answer */

static const struct http_client_ops put_ops;

static void put_start(struct dist *d)
{
    struct px_req *pr = d->pr;
    const struct eng_dist *q = d->req;
    d->put = http_client_new(pr->w->base, d->host, d->port, NULL);
    struct http_client *c = d->put;
    http_client_header(c, "X-Auth-Token", d->token);
    http_client_header(c, "Content-Type", d->mctype ? d->mctype : "application/octet-stream");
    const char *k;
    json_t *v;
    json_object_foreach(d->mmeta, k, v) {
        if (strncasecmp(k, "Storlet-Generated", 17) == 0 ||
            strncasecmp(k, "Storlet-Distributed", 19) == 0)
            continue;   /* provenance is the proxy's to write */
        char *n = xasprintf("X-Object-Meta-%s", k);
        http_client_header(c, n, json_string_value(v));
        free(n);
    }
    char *names = eng_seq_names(&q->merge);
    http_client_header(c, "X-Object-Meta-Storlet-Generated-By", names);
    free(names);
    char *ev[ENG_DIST_CHAIN_MAX];
    for (unsigned st = 0; st < d->nms; st++)
        ev[st] = d->ms[st].etag;
    char *etags = eng_seq_etags_join(ev, d->nms);
    http_client_header(c, "X-Object-Meta-Storlet-Generated-By-Etag", etags);
    free(etags);
    char *pj = eng_seq_params_provenance(&q->merge);
    http_client_header(c, "X-Object-Meta-Storlet-Generated-Params", pj);
    free(pj);
    json_t *sj = eng_seq_to_json(&q->split);
    char *sp = json_dumps(sj, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(sj);
    if (strlen(sp) > 256)
        sp[256] = '\0';
    http_client_header(c, "X-Object-Meta-Storlet-Generated-Split", sp);
    free(sp);
    if (q->container) {
        char *from = xasprintf("%s/%s", q->container, q->prefix ? q->prefix : "");
        if (strlen(from) > 256)
            from[256] = '\0';
        http_client_header(c, "X-Object-Meta-Storlet-Generated-From", from);
        free(from);
    }
    http_client_headerf(c, "X-Object-Meta-Storlet-Distributed-Parts", "%zu", d->nres);
    char *target = xasprintf("/v1/%s/%s/%s", quote(pr->pool, pr->path.account, ""),
                             quote(pr->pool, q->result.container, ""),
                             quote(pr->pool, q->result.object, "/"));
    /* provenance is stored only with this proxy's capability (px_cap.h) */
    const char *cap = px_cap_mint_target(pr, PX_CAP_OUTPUT, target);
    if (cap)
        http_client_header(c, PX_CAP_HEADER, cap);
    int rc = http_client_start(c, "PUT", target, HTTP_LENGTH_UNKNOWN, &put_ops, d);
    free(target);
    if (rc < 0) {
        fail(d, 503, "distributed: cannot store the result");
        return;
    }
    http_client_add_buffer(c, d->hold);
}

static void put_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    struct dist *d = arg;
    d->put_status = h->status;
    const char *et = http_head_get(h, "ETag");
    d->put_etag = et ? xstrdup(et) : NULL;
}

static void put_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    (void)c;
    (void)arg;
    evbuffer_drain(b, evbuffer_get_length(b));
}

static void put_drain(struct http_client *c, void *arg)
{
    (void)c;
    struct dist *d = arg;
    if (last_run(d))
        eng_run_resume_output(last_run(d));
}

static void put_done(struct http_client *c, int err, void *arg)
{
    (void)c;
    struct dist *d = arg;
    http_client_free(d->put);
    d->put = NULL;
    if (d->failed)
        return;
    const struct eng_dist *q = d->req;
    if (err < 0 || d->put_status < 200 || d->put_status >= 300 || !d->out_ended) {
        char why[128], msg[1400];
        if (err < 0 || d->put_status == 0)
            snprintf(why, sizeof(why), "%s", strerror(err < 0 ? -err : EPROTO));
        else
            snprintf(why, sizeof(why), "%d %s", d->put_status,
                     http_status_reason(d->put_status));
        snprintf(msg, sizeof(msg), "storing the result in %s/%s failed: %s",
                 q->result.container, q->result.object, why);
        fail(d, d->put_status >= 400 && d->put_status < 500 ? d->put_status : 503, msg);
        return;
    }
    if (d->pr->done || d->answered)
        return;
    d->answered = true;
    struct http_req *req = d->pr->req;
    if (d->put_etag)
        http_resp_header(req, "Etag", d->put_etag);
    http_resp_headerf(req, "X-Storlet-Distributed-Parts", "%zu", d->nres);
    http_resp_header(req, "X-Storlet-Executed-On", "proxy");
    px_reply(d->pr, 201);
}

static const struct http_client_ops put_ops = {
    .response = put_response,
    .body = put_body,
    .drain = put_drain,
    .done = put_done,
};

/* The merge's output may go out: to the client (200) or to the result's
 * PUT, the held-back bytes first. */
static void begin_output(struct dist *d)
{
    if (d->begun || d->failed)
        return;
    d->begun = true;
    if (d->req->result.container) {
        put_start(d);
        return;
    }
    struct px_req *pr = d->pr;
    if (pr->done)
        return;
    struct http_req *req = pr->req;
    const char *k;
    json_t *v;
    json_object_foreach(d->mmeta, k, v) {
        char *n = xasprintf("X-Object-Meta-%s", k);
        http_resp_header(req, n, json_string_value(v));
        free(n);
    }
    http_resp_header(req, "Content-Type", d->mctype ? d->mctype : "application/octet-stream");
    http_resp_headerf(req, "X-Storlet-Distributed-Parts", "%zu", d->nres);
    http_resp_header(req, "X-Storlet-Executed-On", "proxy");
    px_resp_common(pr);
    d->answered = true;
    http_resp_start(req, 200, HTTP_LENGTH_UNKNOWN);
    http_resp_add_buffer(req, d->hold);
}

/* Output may start once every split has ended (or the held output is
 * full); the answer ends when the merge has ended too. */
static void check_finish(struct dist *d)
{
    if (d->failed || !d->nres)
        return;
    bool splits_over = d->nended == d->nres;
    if (splits_over && d->merge_started)
        begin_output(d);
    if (!splits_over || !d->merge_done || d->out_ended || d->failed)
        return;
    d->out_ended = true;
    if (d->req->result.container) {
        if (d->put)
            http_client_end(d->put);   /* its answer is ours (put_done) */
        return;
    }
    if (!d->pr->done)
        http_resp_end(d->pr->req);
}

/* ------------------------------------------------------------ the splits */

static void split_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    struct split *s = arg;
    struct dist *d = s->d;
    s->status = h->status;
    s->buf = evbuffer_new();
    if (h->status < 200 || h->status >= 300)
        return;   /* buf collects the reason */
    if (!px_storlet_usable(h)) {
        /* every storlet answer says where it ran: this one is the plain
         * object, and must never be merged as if it were the output */
        s->status = 0;
        return;
    }
    s->head_ok = true;
    s->meta = px_storlet_user_meta(h);
    const char *ct = http_head_get(h, "Content-Type");
    s->ctype = ct ? xstrdup(ct) : NULL;
    if (!d->merge_launched) {
        /* A split answered 200, so the account runs storlets: now the
         * merge may start (its later stages as each one's output begins). */
        d->merge_launched = true;
        stage_prep(d, 0);
    }
}

static void split_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    struct split *s = arg;
    struct dist *d = s->d;
    if (!s->head_ok) {
        size_t room = ERR_BODY_MAX - evbuffer_get_length(s->buf);
        size_t n = evbuffer_get_length(b);
        evbuffer_remove_buffer(b, s->buf, n < room ? n : room);
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    evbuffer_remove_buffer(b, s->buf, evbuffer_get_length(b));
    if (evbuffer_get_length(s->buf) >= SPLIT_HIGH && !s->paused) {
        s->paused = true;
        http_client_pause(c);
    }
    pump(d);
}

static void split_done(struct http_client *c, int err, void *arg)
{
    struct split *s = arg;
    struct dist *d = s->d;
    if (d->failed)
        return;
    if (!s->head_ok || err < 0) {
        char why[ERR_BODY_MAX + 64], msg[ERR_BODY_MAX + 2200];
        int code;
        if (s->head_ok) {
            snprintf(why, sizeof(why), "the output ended abnormally (%s)", strerror(-err));
            code = 502;
        } else if (s->status == 0 && err == 0) {
            snprintf(why, sizeof(why), "the answer is not a storlet's output");
            code = 502;
        } else if (s->status == 0) {
            snprintf(why, sizeof(why), "no answer (%s)", strerror(-err));
            code = 502;
        } else {
            status_reason(s->status, s->buf, why, sizeof(why));
            code = s->status >= 400 && s->status < 500 ? s->status : 502;
        }
        snprintf(msg, sizeof(msg), "split %s failed on %s/%s: %s", d->split_names,
                 d->rc[s->idx], d->ro[s->idx], why);
        fail(d, code, msg);
        return;
    }
    http_client_free(c);
    s->c = NULL;
    s->ended = true;
    d->nended++;
    pump(d);
    check_finish(d);
}

static void split_interim(struct http_client *c, const struct http_head *h, void *arg)
{
    struct split *s = arg;
    px_storlet_interim(s->d->pr, c, h);
}

static const struct http_client_ops split_ops = {
    .interim = split_interim,
    .response = split_response,
    .body = split_body,
    .done = split_done,
};

static void split_start(struct dist *d, struct split *s)
{
    struct px_req *pr = d->pr;
    const struct eng_seq *ch = &d->req->split;
    /* A split may read its whole object before its first output byte
     * (fixity of a 10 GB scan): its GET is silent for up to the storlet's
     * wall budget plus the proxy's own wait for the node, which the
     * client's default 60 s would cut short. The budget grows with the
     * object: the node says it in a 102 (px_storlet_interim); until then
     * the base wall time is waited for. */
    struct http_client_config cfg;
    http_client_config_init(&cfg);
    uint64_t io = (uint64_t)pr->srv->conf.storlet_wall_timeout + px_read_timeout(pr->srv);
    if (io > cfg.io_timeout_ms)
        cfg.io_timeout_ms = io > UINT_MAX ? UINT_MAX : (unsigned)io;
    s->c = http_client_new(pr->w->base, d->host, d->port, &cfg);
    struct http_client *c = s->c;
    http_client_header(c, "X-Auth-Token", d->token);
    http_client_header(c, "X-Run-Storlet", d->split_names);
    http_client_header(c, ENG_INTERIM_HEADER, "102");   /* split_interim */
    unsigned np = 0;
    for (unsigned k = 0; k < ch->n; k++) {
        const char *name;
        json_t *v;
        json_object_foreach(ch->st[k].params, name, v) {
            const char *val = json_string_value(v);
            size_t vl = strlen(val);
            char *qv = xmalloc(3 * vl + 1);
            names_quote(val, vl, "", qv);
            /* one stage takes the plain form, which a single storlet's
             * path reads too; a chain the stage-scoped one */
            char hn[64];
            if (ch->n == 1)
                snprintf(hn, sizeof(hn), "X-Storlet-Parameter-%u", ++np);
            else
                snprintf(hn, sizeof(hn), "X-Storlet-Stage-%u-Parameter-%u", k + 1, ++np);
            http_client_headerf(c, hn, "%s:%s", name, qv);
            free(qv);
        }
    }
    char *target = xasprintf("/v1/%s/%s/%s", quote(pr->pool, pr->path.account, ""),
                             quote(pr->pool, d->rc[s->idx], ""),
                             quote(pr->pool, d->ro[s->idx], "/"));
    int rc = http_client_start(c, "GET", target, 0, &split_ops, s);
    free(target);
    if (rc == 0)
        rc = http_client_end(c);
    if (rc < 0)
        fail(d, 503, "distributed: cannot start a split");
}

/* Starts splits while fewer than `concurrency` hold a slot. */
static void launch(struct dist *d)
{
    while (!d->failed && d->nactive < d->conc && d->next < d->nres) {
        struct split *s = &d->sp[d->next];
        s->d = d;
        s->idx = d->next++;
        d->active[d->nactive++] = s;
        split_start(d, s);
    }
}

static void splits_begin(struct dist *d)
{
    d->sp = xcalloc(d->nres, sizeof(*d->sp));
    d->min = evbuffer_new();
    d->hold = evbuffer_new();
    launch(d);
}

/* ------------------------------------------------------------ resources */

static void list_page(struct dist *d);

static void list_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    struct dist *d = arg;
    d->lstatus = h->status;
    d->lbuf = evbuffer_new();
}

static void list_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    (void)c;
    struct dist *d = arg;
    size_t have = evbuffer_get_length(d->lbuf);
    size_t n = evbuffer_get_length(b);
    if (d->lstatus < 200 || d->lstatus >= 300) {
        size_t room = have < ERR_BODY_MAX ? ERR_BODY_MAX - have : 0;
        evbuffer_remove_buffer(b, d->lbuf, n < room ? n : room);
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    if (have + n > LIST_BODY_MAX) {
        fail(d, 502, "distributed: a listing page is too large");
        return;
    }
    evbuffer_remove_buffer(b, d->lbuf, n);
}

static void list_done(struct http_client *c, int err, void *arg)
{
    (void)c;
    struct dist *d = arg;
    http_client_free(d->lc);
    d->lc = NULL;
    if (d->failed)
        return;
    const char *cont = d->req->container;
    char msg[ERR_BODY_MAX + 1400];
    if (err < 0 || d->lstatus == 0) {
        snprintf(msg, sizeof(msg), "listing container '%.256s' failed: %s", cont,
                 strerror(err < 0 ? -err : EPROTO));
        fail(d, 502, msg);
        return;
    }
    if (d->lstatus == 404) {
        snprintf(msg, sizeof(msg), "container '%.256s' not found", cont);
        fail(d, 404, msg);
        return;
    }
    if (d->lstatus < 200 || d->lstatus >= 300) {
        char why[ERR_BODY_MAX + 64];
        status_reason(d->lstatus, d->lbuf, why, sizeof(why));
        snprintf(msg, sizeof(msg), "cannot list container '%.256s': %s", cont, why);
        fail(d, d->lstatus < 500 ? d->lstatus : 502, msg);
        return;
    }
    size_t got = 0;
    size_t len = evbuffer_get_length(d->lbuf);
    if (d->lstatus != 204 && len) {
        json_error_t je;
        json_t *arr = json_loadb((const char *)evbuffer_pullup(d->lbuf, -1), len, 0, &je);
        if (!json_is_array(arr)) {
            json_decref(arr);
            fail(d, 502, "distributed: the container listing is not a JSON list");
            return;
        }
        size_t i;
        json_t *it;
        json_array_foreach(arr, i, it) {
            const char *name = json_string_value(json_object_get(it, "name"));
            if (!name)
                continue;   /* a subdir entry: there is no delimiter */
            if (d->nnames == d->capnames) {
                d->capnames = d->capnames ? 2 * d->capnames : 64;
                d->names = xrealloc(d->names, d->capnames * sizeof(*d->names));
            }
            d->names[d->nnames++] = xstrdup(name);
            got++;
        }
        json_decref(arr);
    }
    evbuffer_free(d->lbuf);
    d->lbuf = NULL;
    if (got == d->llimit && d->nnames <= d->req->max_resources) {
        list_page(d);   /* a full page: there may be more */
        return;
    }
    struct err e;
    err_clear(&e);
    int rc = eng_dist_check_count(d->req, d->nnames, &e);
    if (rc < 0) {
        fail(d, rc == -ENOENT ? 404 : 400, e.msg);
        return;
    }
    d->nres = d->nnames;
    d->rc = xcalloc(d->nres, sizeof(*d->rc));
    d->ro = xcalloc(d->nres, sizeof(*d->ro));
    for (size_t i = 0; i < d->nres; i++) {
        d->rc[i] = cont;
        d->ro[i] = d->names[i];
    }
    splits_begin(d);
}

static const struct http_client_ops list_ops = {
    .response = list_response,
    .body = list_body,
    .done = list_done,
};

/* One page of the listing (with the caller's token: its ACLs apply),
 * asking for one more name than max_resources allows in all. */
static void list_page(struct dist *d)
{
    struct px_req *pr = d->pr;
    size_t want = d->req->max_resources + 1 - d->nnames;
    d->llimit = want < LIST_PAGE ? want : LIST_PAGE;
    const char *marker = d->nnames ? d->names[d->nnames - 1] : "";
    char *target = xasprintf("/v1/%s/%s?format=json&limit=%zu&prefix=%s&marker=%s",
                             quote(pr->pool, pr->path.account, ""),
                             quote(pr->pool, d->req->container, ""), d->llimit,
                             quote(pr->pool, d->req->prefix ? d->req->prefix : "", ""),
                             quote(pr->pool, marker, ""));
    d->lstatus = 0;
    d->lc = http_client_new(pr->w->base, d->host, d->port, NULL);
    http_client_header(d->lc, "X-Auth-Token", d->token);
    int rc = http_client_start(d->lc, "GET", target, 0, &list_ops, d);
    free(target);
    if (rc == 0)
        rc = http_client_end(d->lc);
    if (rc < 0)
        fail(d, 503, "distributed: cannot list the container");
}

/* ------------------------------------------------------------ the request */

static void body_in(struct http_req *req, struct evbuffer *b, void *arg)
{
    (void)req;
    struct dist *d = arg;
    size_t have = evbuffer_get_length(d->body);
    size_t n = evbuffer_get_length(b);
    size_t room = have <= ENG_DIST_BODY_MAX ? ENG_DIST_BODY_MAX + 1 - have : 0;
    evbuffer_remove_buffer(b, d->body, n < room ? n : room);
    evbuffer_drain(b, evbuffer_get_length(b));
}

static void body_end(struct http_req *req, void *arg)
{
    (void)req;
    struct dist *d = arg;
    struct px_req *pr = d->pr;
    size_t len = evbuffer_get_length(d->body);
    if (len > ENG_DIST_BODY_MAX) {
        /* body_in kept one byte more than allowed, not the whole body:
         * its length is unknown (chunked), only that it is too long */
        d->answered = true;
        px_reply_text(pr, 400, DIST_BODY_TOO_LONG);
        return;
    }
    struct err e;
    err_clear(&e);
    d->req = eng_dist_parse((const char *)evbuffer_pullup(d->body, -1), len, &e);
    if (!d->req) {
        d->answered = true;
        px_reply_text(pr, 400, e.msg);
        return;
    }
    d->split_names = chain_names(pr->pool, &d->req->split);
    d->merge_name = chain_names(pr->pool, &d->req->merge);
    d->nms = d->req->merge.n;
    for (unsigned k = 0; k < d->nms; k++) {
        d->ms[k].d = d;
        d->ms[k].k = k;
    }
    d->conc = d->req->concurrency;
    if (d->conc > (unsigned)pr->srv->conf.storlet_dist_concurrency)
        d->conc = (unsigned)pr->srv->conf.storlet_dist_concurrency;
    if (d->conc > ENG_DIST_CONCURRENCY_MAX)
        d->conc = ENG_DIST_CONCURRENCY_MAX;
    if (!d->conc)
        d->conc = 1;
    log_set_txn(pr->txn);
    log_info("distributed split=%s merge=%s concurrency=%u", d->split_names, d->merge_name,
             d->conc);
    log_set_txn(NULL);
    if (d->req->objects) {
        d->nres = d->req->nobjects;
        d->rc = xcalloc(d->nres, sizeof(*d->rc));
        d->ro = xcalloc(d->nres, sizeof(*d->ro));
        for (size_t i = 0; i < d->nres; i++) {
            d->rc[i] = d->req->objects[i].container;
            d->ro[i] = d->req->objects[i].object;
        }
        splits_begin(d);
        return;
    }
    list_page(d);
}

static void client_drain(struct http_req *req, void *arg)
{
    (void)req;
    struct dist *d = arg;
    if (last_run(d))
        eng_run_resume_output(last_run(d));
}

static const struct http_req_ops req_ops = {
    .body = body_in,
    .body_end = body_end,
    .drain = client_drain,
};

bool px_dist_request(struct px_req *pr)
{
    if (pr->path.kind != NAMES_ACCOUNT || http_req_method(pr->req) != HTTP_M_POST)
        return false;
    const char *v = http_req_header(pr->req, ENG_DIST_HEADER);
    if (!v)
        return false;
    if (strcmp(v, "1") != 0) {
        px_reply_text(pr, 400, "X-Storlet-Distributed: expected 1");
        return true;
    }
    if (!pr->srv->eng) {
        px_reply_text(pr, 501, "Distributed storlets need storlets = true on the proxy");
        return true;
    }
    const char *tok = http_req_header(pr->req, "X-Auth-Token");
    if (!tok || !tok[0])
        tok = http_req_header(pr->req, "X-Storage-Token");
    if (!pr->authenticated || !tok || !tok[0]) {
        px_reply(pr, 401);
        return true;
    }
    const struct http_head *h = http_req_head(pr->req);
    if (h->body == HTTP_BODY_LENGTH && h->content_length > ENG_DIST_BODY_MAX) {
        px_reply_text(pr, 400, DIST_BODY_TOO_LONG);
        return true;
    }
    struct dist *d = pool_calloc(pr->pool, sizeof(*d));
    d->pr = pr;
    d->token = tok;
    d->body = evbuffer_new();
    px_storlet_self(pr, d->host, sizeof(d->host), &d->port);
    pool_cleanup_add(pr->pool, cleanup, d);
    http_req_set_ops(pr->req, &req_ops, d);
    return true;
}

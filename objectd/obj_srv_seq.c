/*
 * obj_srv_seq.c - the chain of storlets the proxy planned for this node
 * (X-Backend-Storlet-Chain, read by obj_srv_storlet.c): one stage - a
 * single storlet is a chain of one - or the part of a Sequence that runs
 * here (docs/compound-storlets.md section 1).
 *
 * The whole chain it was sent runs here, one sandbox per stage: the object
 * (or the X-Backend-Storlet-Range of it) is fed to stage 1, each stage's
 * output is the next stage's input, and only the last stage's output goes
 * back to the proxy, so a chain next to the data moves only its final
 * result over the network. No body byte passes through this process's
 * memory but for the integrity hash: the .data file is spliced into stage
 * 1's input pipe (feed), each stage's output pipe into the next one's input
 * pipe or, for the last, into the proxy's connection (on_output_fd). The answer is a chunked 200 without the stored
 * object's ETag and Content-Length, which describe other bytes; it carries
 * X-Storlet-Executed-On naming this node, X-Storlet-Source-Etag,
 * X-Storlet-Sequence-Placement: object=<n>, proxy=0 (the proxy, which may
 * run more stages, answers the client with the whole chain's placement) and
 * X-Storlet-Etag: the stages' versions, comma-separated. The last stage's
 * output metadata becomes X-Object-Meta-*; for a single storlet that is not
 * a rule's stage, over the stored object's own user metadata (a rule's
 * stage answers with its output's metadata only, docs/rules.md 4.2).
 *
 * Stage k+1 is got ready (eng_prep) when stage k starts its output, because
 * its invocation document carries stage k's output metadata as its input
 * metadata; until then stage k's output is paused. Back-pressure runs the
 * other way: a full input pipe of stage k+1 pauses stage k's output, and its
 * input_drain resumes it. A failure of any stage before the response has
 * started answers that stage's status with a reason naming the stage (a
 * single storlet's reason as it is); after it the response is aborted (no
 * last chunk).
 *
 * Invariants: run[k] != NULL only for started, unfinished stages; nstarted
 * stages have been started. Life cycle: freed once the http request is
 * over and no prep, run or disk job is in flight. Threading: the worker's
 * loop, except the read job on a disk thread.
 */
#include "objectd/obj_srv_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_COMPONENT "objectd"
#include "common/http.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng.h"
#include "engine/eng_seq.h"
#include "objectd/obj_diskfile.h"

#define SEQ_FEED_CHUNK (256 * 1024)
#define FEED_AHEAD (2 * 1024 * 1024)

struct oseq;

struct oseq_stage {
    struct oseq *s;
    unsigned k;
};

struct oseq {
    struct obj_rq *rq;
    struct obj_worker *w;
    struct obj_server *srv;
    struct http_req *req;        /* NULL once the request is over */
    struct obj_df_reader *rd;
    struct eng_seq seq;
    struct eng_prep *prep;
    struct eng_run *run[ENG_SEQ_MAX];
    struct oseq_stage stage[ENG_SEQ_MAX];
    bool ended[ENG_SEQ_MAX];     /* stage k finished its output */
    unsigned nstarted;
    char *account, *container, *object, *node, *trans_id;
    char *px_host, *token;
    int px_port;
    unsigned depth;
    char src_etag[40];
    json_t *umeta;               /* the object's user metadata */
    char *ctype;                 /* the object's content type */
    json_t *next_meta;           /* input metadata of the next stage */
    char *next_ctype;
    uint64_t size;
    struct eng_decision d;       /* the range of the first stage's input */
    uint32_t log_mask;           /* bit k: store stage k's log */
    uint32_t code_mask;          /* bit k: read stage k's code with code_cap */
    char *code_cap;
    char *etags[ENG_SEQ_MAX];    /* the stages' versions, as prepared */
    char *verified[ENG_SEQ_MAX]; /* the proxy's HEAD of each storlet, or NULL */
    bool ranged;
    uint64_t first, last;        /* ranged: the input range */
    /* the first stage's input, body offsets [start, end) (see feed):
     * [start, pos) spliced, [pos, ready) read by the disk job */
    uint64_t start, pos, ready, end;
    int body_fd;                 /* the reader's .data, owned by rd */
    uint64_t body_off;           /* of the body in body_fd */
    char *buf;                   /* the disk job's scratch */
    ssize_t nread;               /* the disk job's result */
    bool busy, all_ready, input_done, started, failed;
};

static void oseq_maybe_free(struct oseq *s)
{
    if (s->req || s->busy || s->prep)
        return;
    for (unsigned k = 0; k < s->seq.n; k++)
        if (s->run[k])
            return;
    obj_df_reader_free(s->rd);
    eng_seq_release(&s->seq);
    json_decref(s->umeta);
    json_decref(s->next_meta);
    free(s->account);
    free(s->container);
    free(s->object);
    free(s->node);
    free(s->trans_id);
    free(s->px_host);
    free(s->token);
    free(s->ctype);
    free(s->next_ctype);
    free(s->code_cap);
    for (unsigned k = 0; k < ENG_SEQ_MAX; k++) {
        free(s->etags[k]);
        free(s->verified[k]);
    }
    free(s->buf);
    free(s);
}

static void cancel_all(struct oseq *s)
{
    eng_prep_cancel(s->prep);
    s->prep = NULL;
    for (unsigned k = 0; k < s->seq.n; k++) {
        eng_run_cancel(s->run[k]);
        s->run[k] = NULL;
    }
}

/* Ends the request for a failure (once): a status before the response
 * started, an abort after. */
static void fail(struct oseq *s, int status, const char *why)
{
    if (s->failed)
        return;
    s->failed = true;
    cancel_all(s);
    if (!s->req)
        return;
    if (s->started) {
        http_resp_abort(s->req);
        return;
    }
    http_resp_header(s->req, "X-Storlet-Executed-On", s->node);
    obj_srv_reply(s->req, status, why);
}

static void fail_stage(struct oseq *s, unsigned k, int status, const char *reason)
{
    if (s->seq.n == 1) {
        fail(s, status, reason);
        return;
    }
    char why[1400];
    snprintf(why, sizeof(why), "stage %u (%s): %s", k + 1, s->seq.st[k].storlet, reason);
    fail(s, status, why);
}

/* ------------------------------------------------------------ http side */

static void http_drain(struct http_req *req, void *arg)
{
    (void)req;
    struct oseq *s = arg;
    if (s->seq.n > 0 && s->run[s->seq.n - 1])
        eng_run_resume_output(s->run[s->seq.n - 1]);
}

static void http_done(struct http_req *req, int err, void *arg)
{
    struct oseq *s = arg;
    s->req = NULL;
    obj_rq_http_done(req, err, s->rq);
    cancel_all(s);
    oseq_maybe_free(s);
}

static const struct http_req_ops seq_http_ops = {
    .drain = http_drain,
    .done = http_done,
};

/* ------------------------------------------------------------ input */

/*
 * The first stage's input goes from the .data file into its pipe by
 * splice(2) (eng_run_splice), never through this process's memory: the
 * pipe holds references to the page cache, and a storlet that splices its
 * input on (the C SDK's storlet_copy) passes them to its output pipe
 * untouched. The pipe stays a pipe (never the .data file itself: that
 * could be seeked back to the stored metadata header) and holds only the
 * body's bytes.
 *
 * The disk job reads each chunk before it is spliced, into a scratch
 * buffer: for the whole object with obj_df_read, so every byte is hashed
 * and the bytes that complete the body are released only once its MD5
 * matched (a mismatch quarantines the object and fails the request: the
 * storlet never sees the whole body, the response never ends cleanly), as
 * for a plain GET; for a range with a plain read, which brings the pages
 * into the page cache, so the splice on the loop does not wait for the
 * disk. [pos, ready) is read and not yet spliced; the job runs ahead of the
 * splices by at most FEED_AHEAD bytes (held by the page cache, not by us),
 * starting while the storlet is still being got ready.
 */
static void feed(struct oseq *s);

static int read_work(void *arg)
{
    struct oseq *s = arg;
    if (s->ranged) {
        uint64_t want = s->end - s->ready < SEQ_FEED_CHUNK ? s->end - s->ready
                                                           : SEQ_FEED_CHUNK;
        s->nread = obj_df_pread(s->rd, s->buf, want, s->ready);
        if (s->nread == 0)
            s->nread = -EIO;   /* the file is shorter than its length */
    } else {
        s->nread = obj_df_read(s->rd, s->buf, SEQ_FEED_CHUNK);
    }
    return 0;
}

static void input_failed(struct oseq *s, ssize_t err)
{
    log_err("storlet input /%s/%s/%s: reading the object failed: %s", s->account,
            s->container, s->object,
            err == -EUCLEAN ? "body corrupt, quarantined" : strerror((int)-err));
    fail(s, 500, "Storlet input could not be read");
}

static void read_done(void *arg, int status)
{
    (void)status;
    struct oseq *s = arg;
    s->busy = false;
    if (!s->req || s->failed) {
        oseq_maybe_free(s);
        return;
    }
    if (s->nread < 0) {
        input_failed(s, s->nread);
        oseq_maybe_free(s);
        return;
    }
    s->ready += (uint64_t)s->nread;
    /* a whole body is all read (and verified) when obj_df_read has
     * returned its last byte, or 0 for an empty one */
    if (s->ready >= s->end && (s->ranged || s->nread > 0 || s->end == s->start))
        s->all_ready = true;
    feed(s);
}

static void feed(struct oseq *s)
{
    if (s->input_done || s->failed)
        return;
    struct eng_run *r = s->run[0];
    if (r && s->pos < s->ready) {
        uint64_t off = s->body_off + s->pos;
        ssize_t n = eng_run_splice(r, s->body_fd, &off, (size_t)(s->ready - s->pos));
        if (n < 0) {
            input_failed(s, n);
            return;
        }
        s->pos += (uint64_t)n;   /* short: the pipe is full, input_drain follows */
    }
    if (r && s->all_ready && s->pos >= s->end) {
        s->input_done = true;
        eng_run_input_end(r);
        return;
    }
    if (s->busy || s->all_ready || s->ready - s->pos >= FEED_AHEAD)
        return;
    s->busy = true;
    if (workq_submit(s->w->port, read_work, read_done, s) != 0) {
        s->busy = false;
        fail(s, 503, "Disk queue full");
    }
}

/* ------------------------------------------------------------ stages */

static void start_prep(struct oseq *s, unsigned k);

static void on_start(struct eng_run *r, const struct eng_meta *m, void *arg)
{
    struct oseq_stage *st = arg;
    struct oseq *s = st->s;
    if (st->k + 1 < s->seq.n) {
        /* the next stage reads this one's output and its metadata */
        eng_run_pause_output(r);
        json_decref(s->next_meta);
        s->next_meta = m->metadata ? json_deep_copy(m->metadata) : json_object();
        free(s->next_ctype);
        s->next_ctype = xstrdup(m->content_type ? m->content_type
                                : s->ctype ? s->ctype : "application/octet-stream");
        start_prep(s, st->k + 1);
        return;
    }
    if (!s->req)
        return;
    s->started = true;
    struct http_req *req = s->req;
    const char *key;
    json_t *v;
    if (s->seq.n == 1 && !s->code_mask) {
        /* a single storlet: the object's own metadata, unless replaced */
        json_object_foreach(s->umeta, key, v) {
            if (m->metadata && json_object_get(m->metadata, key))
                continue;
            char *name = xasprintf("X-Object-Meta-%s", key);
            http_resp_header(req, name, json_string_value(v));
            free(name);
        }
    }
    if (m->metadata) {
        json_object_foreach(m->metadata, key, v) {
            char *name = xasprintf("X-Object-Meta-%s", key);
            http_resp_header(req, name, json_string_value(v));
            free(name);
        }
    }
    http_resp_header(req, "Content-Type", m->content_type ? m->content_type
                                          : s->next_ctype ? s->next_ctype : s->ctype);
    http_resp_header(req, "X-Storlet-Executed-On", s->node);
    http_resp_header(req, "X-Storlet-Source-Etag", s->src_etag);
    char *etags = eng_seq_etags_join(s->etags, s->seq.n);
    http_resp_header(req, "X-Storlet-Etag", etags);
    free(etags);
    if (s->ranged)
        http_resp_headerf(req, "Storlet-Input-Range", "bytes %llu-%llu/%llu",
                          (unsigned long long)s->first, (unsigned long long)s->last,
                          (unsigned long long)s->size);
    struct eng_seq_plan p = {.n = s->seq.n, .split = s->seq.n};
    char pl[64];
    eng_seq_plan_describe(&p, pl, sizeof(pl));
    http_resp_header(req, "X-Storlet-Sequence-Placement", pl);
    http_resp_start(req, 200, HTTP_LENGTH_UNKNOWN);
}

/* A stage's output, without a copy: the last stage's from its pipe
 * straight to the client's socket (the http drain callback resumes it),
 * another's into the next stage's input pipe (its input_drain resumes it;
 * until the next stage runs, on_start has paused it). */
static ssize_t on_output_fd(struct eng_run *r, int fd, size_t len, void *arg)
{
    (void)r;
    struct oseq_stage *st = arg;
    struct oseq *s = st->s;
    unsigned k = st->k;
    ssize_t n;
    if (k + 1 < s->seq.n) {
        if (!s->run[k + 1])
            return 0;
        n = eng_run_splice(s->run[k + 1], fd, NULL, len);
        if (n < 0) {
            log_err("sequence on /%s/%s/%s: stage %u to %u: %s", s->account, s->container,
                    s->object, k + 1, k + 2, strerror((int)-n));
            fail_stage(s, k + 1, 500, "its input could not be written");
        }
        return n;
    }
    if (!s->req)
        return 0;
    n = http_resp_splice(s->req, fd, len);
    if (n < 0 && n != -EAGAIN) {
        log_warn("storlet output /%s/%s/%s: to the client: %s", s->account, s->container,
                 s->object, strerror((int)-n));
        fail(s, 500, "Storlet output could not be sent");
    }
    return n;
}

static void on_input_drain(struct eng_run *r, void *arg)
{
    (void)r;
    struct oseq_stage *st = arg;
    struct oseq *s = st->s;
    if (st->k == 0)
        feed(s);
    else if (s->run[st->k - 1])
        eng_run_resume_output(s->run[st->k - 1]);
}

static void on_done(struct eng_run *r, const struct eng_outcome *o, void *arg)
{
    (void)r;
    struct oseq_stage *st = arg;
    struct oseq *s = st->s;
    unsigned k = st->k;
    s->run[k] = NULL;
    if (s->log_mask & (1u << k))
        eng_log_upload(s->w->base, s->px_host, s->px_port, s->token, s->account,
                       s->seq.st[k].storlet, s->trans_id, o);
    if (o->kind != ENG_OK) {
        fail_stage(s, k, o->kind == ENG_FAILED_AFTER ? 500 : o->status, o->reason);
        oseq_maybe_free(s);
        return;
    }
    s->ended[k] = true;
    if (k + 1 == s->seq.n) {
        if (s->req && !s->failed)
            http_resp_end(s->req);
    } else if (s->run[k + 1]) {
        eng_run_input_end(s->run[k + 1]);
    }
    oseq_maybe_free(s);
}

static const struct eng_run_ops stage_ops = {
    .start = on_start,
    .output_fd = on_output_fd,
    .input_drain = on_input_drain,
    .done = on_done,
};

static void prep_done(struct eng_prep *p, const struct eng_prep_result *pr, void *arg)
{
    (void)p;
    struct oseq *s = arg;
    s->prep = NULL;
    unsigned k = s->nstarted;
    if (!s->req || s->failed) {
        oseq_maybe_free(s);
        return;
    }
    if (pr->status) {
        fail_stage(s, k, pr->status, pr->reason);
        oseq_maybe_free(s);
        return;
    }
    s->stage[k].s = s;
    s->stage[k].k = k;
    free(s->etags[k]);
    s->etags[k] = xstrdup(pr->code.etag);
    struct eng_invocation inv = {
        .code = &pr->code, .code_dir = pr->code_dir, .parameters = s->seq.st[k].params,
        .op = ENG_OP_GET, .account = s->account, .container = s->container,
        .object = s->object, .trans_id = s->trans_id, .on_proxy = false,
        .caller_user = http_req_header(s->req, "X-Backend-Storlet-User"),
        .caller_account = http_req_header(s->req, "X-Backend-Storlet-Caller-Account"),
        .has_range = k == 0 && s->ranged, .range_first = s->first,
        .range_last = s->last, .range_size = s->size,
        .content_length = k == 0 ? (int64_t)(s->end - s->start) : -1,
        .budget_len = k == 0 ? 0 : (int64_t)(s->end - s->start),
        .content_type = k == 0 ? s->ctype : s->next_ctype,
        .metadata = k == 0 ? s->umeta : s->next_meta, .input_fd = -1,
        .svc_host = s->depth + 1 < ENG_SVC_DEPTH_MAX ? s->px_host : NULL,
        .svc_port = s->px_port, .svc_token = s->token, .svc_depth = s->depth,
    };
    struct err e;
    err_clear(&e);
    s->run[k] = eng_run_start(s->srv->eng, s->w->base, &inv, &stage_ops, &s->stage[k], &e);
    if (!s->run[k]) {
        log_warn("sequence stage %u (%s): %s", k + 1, s->seq.st[k].storlet, e.msg);
        fail_stage(s, k, 503, e.msg);
        oseq_maybe_free(s);
        return;
    }
    s->nstarted = k + 1;
    /* the proxy waits for this stage as long as it may run: tell it */
    eng_tell_budget(s->req, eng_run_wall_ms(s->run[k]));
    if (k == 0) {
        feed(s);
        return;
    }
    if (s->ended[k - 1])
        eng_run_input_end(s->run[k]);
    else if (s->run[k - 1])
        eng_run_resume_output(s->run[k - 1]);
}

static void start_prep(struct oseq *s, unsigned k)
{
    s->prep = eng_prep_start_known(s->srv->eng, s->w->base, s->px_host, s->px_port, s->token,
                                   s->code_mask & (1u << k) ? s->code_cap : NULL,
                                   s->verified[k], s->account, s->seq.st[k].storlet,
                                   s->trans_id, prep_done, s);
}

/* ------------------------------------------------------------ entry */

void obj_storlet_get(struct obj_rq *rq, struct obj_df_reader *rd, const char *dev,
                     const char *name)
{
    struct http_req *req = rq->req;
    struct obj_storlet_req br;
    eng_seq_init(&br.seq);
    const char *bwhy;
    int bst = obj_storlet_backend(req, &br, &bwhy);
    struct obj_server *srv = rq->w->srv;
    const struct obj_df_info *in = obj_df_info(rd);
    struct oseq *s = xcalloc(1, sizeof(*s));
    s->rq = rq;
    s->w = rq->w;
    s->srv = srv;
    s->req = req;
    s->rd = rd;
    s->seq = br.seq;        /* taken over */
    s->d = br.d;
    s->log_mask = br.log_mask;
    s->code_mask = br.code_mask;
    s->code_cap = br.code_cap ? xstrdup(br.code_cap) : NULL;
    for (unsigned k = 0; k < s->seq.n; k++)
        s->verified[k] = obj_storlet_verified(req, k);
    s->node = xasprintf("%s:%d/%s", srv->conf.bind_ip, srv->ports[OBJ_ROLE_OBJECT], dev);
    const char *tx = http_req_header(req, "X-Trans-Id");
    s->trans_id = xstrdup(tx ? tx : "");
    http_req_set_ops(req, &seq_http_ops, s);
    if (bst != 0) {
        fail(s, bst, bwhy);
        oseq_maybe_free(s);
        return;
    }
    const char *a = name + 1, *c = strchr(a, '/');
    const char *o = c ? strchr(c + 1, '/') : NULL;
    if (!c || !o) {
        fail(s, 400, "bad object name");
        oseq_maybe_free(s);
        return;
    }
    s->account = xstrndup(a, (size_t)(c - a));
    s->container = xstrndup(c + 1, (size_t)(o - c - 1));
    s->object = xstrdup(o + 1);
    const char *token, *why;
    int port, st = obj_storlet_caller(req, &s->px_host, &port, &token, &s->depth, &why);
    if (st != 0) {
        fail(s, st, why);
        oseq_maybe_free(s);
        return;
    }
    s->px_port = port;
    s->token = xstrdup(token);
    s->size = in->content_length;
    str_copy(s->src_etag, in->etag, sizeof(s->src_etag));
    obj_storlet_src_meta(in, &s->umeta, &s->ctype);
    s->start = 0;
    s->end = s->size;
    if (s->d.has_range) {
        /* the range is the first stage's input (as for one storlet) */
        uint64_t first, last;
        if (!obj_storlet_range(&s->d, s->size, &first, &last)) {
            http_resp_headerf(req, "Content-Range", "bytes */%llu",
                              (unsigned long long)s->size);
            fail(s, 416, "X-Storlet-Range: not satisfiable");
            oseq_maybe_free(s);
            return;
        }
        s->first = first;
        s->last = last;
        s->ranged = true;
        s->start = first;
        s->end = last + 1;
    }
    s->pos = s->ready = s->start;
    if (obj_df_body_fd(rd, &s->body_fd, &s->body_off) < 0) {
        fail(s, 500, "Storlet input could not be read");   /* not an existing object */
        oseq_maybe_free(s);
        return;
    }
    s->buf = xmalloc(SEQ_FEED_CHUNK);
    if (s->seq.n > 1)
        log_info("sequence of %u stages on /%s/%s/%s, all on this node", s->seq.n,
                 s->account, s->container, s->object);
    start_prep(s, 0);
    feed(s);   /* the first reads overlap getting the storlet ready */
}

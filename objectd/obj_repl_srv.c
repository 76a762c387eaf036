/*
 * obj_repl_srv.c - the server side of the background daemons.
 *
 * Object role:
 *   REPLICATE /<dev>/<part>   200, a JSON object {"<suffix>": "<md5>", ...}
 *   RUN /replicate | /audit | /expire
 *                             runs one pass of that daemon in this process
 *                             and answers 200 with its counters as JSON
 *                             once it is done (cairn-objectd --*-once is
 *                             the client). A pass of the same kind that
 *                             is running is waited for first.
 * Container and account roles:
 *   REPLICATE /<dev>/<part>/<a>[/<c>]  with a JSON body: one step of DB
 *                             replication (obj_repl_db.c), answered with
 *                             JSON.
 *
 * The suffix hashes are computed afresh on each call (obj_df_suffix_hashes:
 * no cache, so a push that just landed shows at once). Swift's REPLICATE
 * answers a pickle and may be asked to rehash suffixes named in the path;
 * ours always rehashes and speaks JSON, and only cairn's replicator calls
 * it. Objects themselves travel through the ordinary PUT/POST/DELETE
 * (obj_repl.c).
 *
 * Threading: the handlers run on a worker's loop; hashing, database work
 * and whole passes are jobs on the disk pool (obj_rq_submit), so a RUN
 * occupies one disk thread for the length of its pass.
 */
#define LOG_COMPONENT "objectd"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <urcu.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_db.h"
#include "objectd/obj_diskfile.h"
#include "objectd/obj_repl_int.h"
#include "objectd/obj_srv_int.h"

struct rreq {
    struct obj_rq rq;           /* first: the state is an obj_rq */
    char dev[256];
    uint32_t part;
    struct obj_df_suffix_hash *h;
    size_t n;
};

static void rreq_release(struct obj_rq *rq)
{
    struct rreq *r = (struct rreq *)rq;
    free(r->h);
    free(r);
}

static int hash_work(void *arg)
{
    struct rreq *r = arg;
    return obj_df_suffix_hashes(r->rq.w->srv->devs, r->dev, r->part, 0, &r->h,
                                &r->n);
}

static void hash_done(struct obj_rq *rq, int status)
{
    struct rreq *r = (struct rreq *)rq;
    if (status != 0) {
        obj_srv_reply(rq->req, status == -ENODEV ? 507 : 500, NULL);
        return;
    }
    json_t *j = json_object();
    for (size_t i = 0; i < r->n; i++)
        json_object_set_new(j, r->h[i].suffix,
                            json_stringn(r->h[i].md5, MD5_HEX_LEN - 1));
    char *body = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (!body)
        abort(); /* out of memory, as xmalloc */
    http_resp_simple(rq->req, 200, "application/json", body, strlen(body));
    free(body);
}

/* ------------------------------------------------------------ RUN */

struct runreq {
    struct obj_rq rq;
    enum obj_bg_daemon which;
    struct obj_bg_stats st;
};

static void runreq_release(struct obj_rq *rq)
{
    free(rq);
}

static int run_work(void *arg)
{
    struct runreq *r = arg;
    /* disk threads are not RCU readers by default; a pass reads rings */
    rcu_register_thread();
    int rc = obj_bg_run(r->rq.w->srv->bg, r->which, &r->st);
    rcu_unregister_thread();
    return rc;
}

static void run_done(struct obj_rq *rq, int status)
{
    struct runreq *r = (struct runreq *)rq;
    if (status != 0 && status != -ENOENT) {
        obj_srv_reply(rq->req, 500, strerror(-status));
        return;
    }
    const struct obj_bg_stats *st = &r->st;
    json_t *j = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b}",
        "parts", (json_int_t)st->parts, "suffixes", (json_int_t)st->suffixes,
        "pushed", (json_int_t)st->pushed, "failures", (json_int_t)st->failures,
        "removed", (json_int_t)st->removed, "checked", (json_int_t)st->checked,
        "quarantined", (json_int_t)st->quarantined,
        "expired", (json_int_t)st->expired, "bytes", (json_int_t)st->bytes,
        "no_ring", status == -ENOENT);
    char *body = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (!body)
        abort();
    http_resp_simple(rq->req, 200, "application/json", body, strlen(body));
    free(body);
}

static void handle_run(struct http_req *req, struct obj_worker *w)
{
    static const char *const names[] = { "/replicate", "/audit", "/expire" };
    const char *path = http_req_path(req);
    int which = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(path, names[i]) == 0)
            which = i;
    if (which < 0 || !w->srv->bg) {
        obj_srv_reply(req, 404, NULL);
        return;
    }
    struct runreq *r = xcalloc(1, sizeof(*r));
    r->rq.w = w;
    r->rq.req = req;
    r->rq.release = runreq_release;
    r->which = (enum obj_bg_daemon)which;
    http_req_set_ops(req, &obj_rq_ops_nobody, r);
    if (obj_rq_submit(&r->rq, run_work, run_done) != 0)
        obj_srv_reply(req, 503, "Disk queue full");
}

/* ------------------------------------------------------ REPLICATE dbs */

/* A REPLICATE body carries at most REPL_DB_BATCH rows of bounded size. */
#define DB_BODY_MAX (16u << 20)

struct dbreq {
    struct obj_rq rq;
    bool acct;
    bool too_big;
    char dev[256];
    char *a, *c;
    struct evbuffer *body;
    json_t *resp;
};

static void dbreq_release(struct obj_rq *rq)
{
    struct dbreq *d = (struct dbreq *)rq;
    free(d->a);
    free(d->c);
    if (d->body)
        evbuffer_free(d->body);
    json_decref(d->resp);
    free(d);
}

static int db_work(void *arg)
{
    struct dbreq *d = arg;
    size_t len = evbuffer_get_length(d->body);
    const char *text = (const char *)evbuffer_pullup(d->body, -1);
    json_error_t je;
    json_t *req = json_loadb(text ? text : "", len, 0, &je);
    if (!req)
        return -EINVAL;
    struct obj_db *db = NULL;
    int rc = obj_server_db(d->rq.w->srv, d->dev, &db);
    if (rc == 0)
        rc = obj_repl_db_apply(db, d->acct, d->a, d->c, req, &d->resp);
    json_decref(req);
    return rc;
}

static void db_done(struct obj_rq *rq, int status)
{
    struct dbreq *d = (struct dbreq *)rq;
    if (status != 0) {
        obj_srv_reply(rq->req, status == -EINVAL ? 400
                               : status == -ENODEV ? 507 : 500, NULL);
        return;
    }
    char *body = json_dumps(d->resp, JSON_COMPACT);
    if (!body)
        abort();
    http_resp_simple(rq->req, 200, "application/json", body, strlen(body));
    free(body);
}

static void db_body(struct http_req *req, struct evbuffer *in, void *arg)
{
    struct dbreq *d = arg;
    (void)req;
    if (d->too_big ||
        evbuffer_get_length(d->body) + evbuffer_get_length(in) > DB_BODY_MAX) {
        d->too_big = true;
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    evbuffer_remove_buffer(in, d->body, evbuffer_get_length(in));
}

static void db_body_end(struct http_req *req, void *arg)
{
    struct dbreq *d = arg;
    if (d->too_big) {
        obj_srv_reply(req, 413, NULL);
        return;
    }
    if (obj_rq_submit(&d->rq, db_work, db_done) != 0)
        obj_srv_reply(req, 503, "Disk queue full");
}

static const struct http_req_ops db_ops = {
    .body = db_body,
    .body_end = db_body_end,
    .done = obj_rq_http_done,
};

bool obj_repl_srv_handle_db(struct http_req *req, struct obj_worker *w,
                            bool acct)
{
    if (http_req_method(req) != HTTP_M_OTHER ||
        strcmp(http_req_method_str(req), "REPLICATE") != 0)
        return false;
    int nseg = acct ? 3 : 4;
    char *segs[4];
    if (obj_srv_split(req, nseg, nseg, false, segs) != 0)
        return true;
    uint32_t part;
    if (obj_srv_partition(req, segs[1], &part) != 0)
        return true;
    if (strlen(segs[0]) >= sizeof(((struct dbreq *)0)->dev)) {
        obj_srv_reply(req, 400, "Invalid device");
        return true;
    }
    struct dbreq *d = xcalloc(1, sizeof(*d));
    d->rq.w = w;
    d->rq.req = req;
    d->rq.release = dbreq_release;
    d->acct = acct;
    str_copy(d->dev, segs[0], sizeof(d->dev));
    d->a = xstrdup(segs[2]);
    d->c = acct ? NULL : xstrdup(segs[3]);
    d->body = evbuffer_new();
    if (!d->body)
        abort();
    http_req_set_ops(req, &db_ops, d);
    return true;
}

/* ------------------------------------------------------ REPLICATE objects */

bool obj_repl_srv_handle(struct http_req *req, struct obj_worker *w)
{
    if (http_req_method(req) != HTTP_M_OTHER)
        return false;
    if (strcmp(http_req_method_str(req), "RUN") == 0) {
        handle_run(req, w);
        return true;
    }
    if (strcmp(http_req_method_str(req), "REPLICATE") != 0)
        return false;
    char *segs[2];
    if (obj_srv_split(req, 2, 2, false, segs) != 0)
        return true;
    uint32_t part;
    if (obj_srv_partition(req, segs[1], &part) != 0)
        return true;
    if (strlen(segs[0]) >= sizeof(((struct rreq *)0)->dev)) {
        obj_srv_reply(req, 400, "Invalid device");
        return true;
    }
    struct rreq *r = xcalloc(1, sizeof(*r));
    r->rq.w = w;
    r->rq.req = req;
    r->rq.release = rreq_release;
    str_copy(r->dev, segs[0], sizeof(r->dev));
    r->part = part;
    http_req_set_ops(req, &obj_rq_ops_nobody, r);
    if (obj_rq_submit(&r->rq, hash_work, hash_done) != 0)
        obj_srv_reply(req, 503, "Disk queue full");
    return true;
}

/*
 * obj_srv_db.c - the container and account roles of cairn-objectd: the
 * backend API of Swift's container and account servers over obj_db
 * (RocksDB) and obj_listing (docs/backend-api.md).
 *
 * Container port: PUT/POST/HEAD/GET/DELETE /<dev>/<part>/<a>/<c>, and the
 * object rows object servers send, PUT/DELETE /<dev>/<part>/<a>/<c>/<o>.
 * Account port: PUT/POST/HEAD/GET/DELETE /<dev>/<part>/<a>, and container
 * reports, PUT /<dev>/<part>/<a>/<c>.
 *
 * Each request is one job on the disk pool (every obj_db call blocks). A
 * listing is formatted inside the job into an evbuffer that the loop then
 * sends: its size is bounded by the listing limit (10000 entries), not by
 * the container's size.
 *
 * Threading: handlers and continuations on the worker's loop; *_work on
 * disk threads.
 */
#define LOG_COMPONENT "objectd"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/bug.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_db.h"
#include "objectd/obj_listing.h"
#include "objectd/obj_srv_int.h"

/* Accounts whose containers are created on first use (Swift's '.'). */
#define AUTO_CREATE_PREFIX "."

enum dbop {
    C_PUT, C_POST, C_HEAD, C_GET, C_DELETE, C_ROW_PUT, C_ROW_DELETE,
    A_PUT, A_POST, A_HEAD, A_GET, A_DELETE, A_REPORT,
};

struct dreq {
    struct obj_rq rq;
    struct obj_server *srv;
    enum dbop op;
    char *dev, *account, *container, *object;
    struct ts ts;
    int32_t policy;
    uint32_t default_policy;
    struct obj_db_kv *kv;      /* heap copies of the request headers */
    size_t nkv;
    struct obj_listing_query q;
    bool have_q;
    /* results */
    int rc;
    struct err e;
    bool created, existed, changed;
    bool have_cinfo, have_ainfo;
    struct obj_db_cont_info cinfo;
    struct obj_db_acct_info ainfo;
    struct evbuffer *out;
    /* row update */
    struct obj_db_obj_update u;
    char *ctype, *etag;
    struct ts ctype_ts, meta_ts;
    bool have_ctype_ts, have_meta_ts;
    struct obj_db_cont_report rep;
    /* account update from a container PUT/DELETE */
    struct obj_upd_target tg[OBJ_UPD_MAX_TARGETS];
    int ntg;
    int n404;
};

static void dreq_free(struct dreq *d)
{
    free(d->dev);
    free(d->account);
    free(d->container);
    free(d->object);
    for (size_t i = 0; i < d->nkv; i++) {
        free((char *)d->kv[i].key);
        free((char *)d->kv[i].value);
    }
    free(d->kv);
    if (d->have_q)
        obj_listing_query_release(&d->q);
    if (d->have_cinfo)
        obj_db_cont_info_release(&d->cinfo);
    if (d->have_ainfo)
        obj_db_acct_info_release(&d->ainfo);
    if (d->out)
        evbuffer_free(d->out);
    free(d->ctype);
    free(d->etag);
    free(d);
}

static void dreq_release(struct obj_rq *rq)
{
    dreq_free((struct dreq *)rq);
}

/* ------------------------------------------------------------ work */

static int list_write(void *arg, const char *buf, size_t len)
{
    struct dreq *d = arg;
    return evbuffer_add(d->out, buf, len) == 0 ? 0 : -ENOMEM;
}

static int do_list(struct dreq *d, struct obj_db *db, bool account)
{
    d->out = evbuffer_new();
    struct obj_listing_fmt *f = obj_listing_fmt_new(
        d->q.format, account, account ? d->account : d->container,
        list_write, d);
    int rc = account ? obj_db_acct_list(db, d->account, &d->q.params,
                                        obj_listing_fmt_entry, f)
                     : obj_db_cont_list(db, d->account, d->container,
                                        &d->q.params, d->policy,
                                        obj_listing_fmt_entry, f);
    if (rc == 0)
        rc = obj_listing_fmt_finish(f);
    obj_listing_fmt_free(f);
    return rc;
}

static int db_work(void *arg)
{
    struct dreq *d = arg;
    struct obj_db *db;
    int rc = obj_server_db(d->srv, d->dev, &db);
    if (rc != 0)
        return rc;
    switch (d->op) {
    case C_PUT:
        rc = obj_db_cont_put(db, d->account, d->container, &d->ts, d->policy,
                             d->default_policy, d->kv, d->nkv, &d->created,
                             &d->e);
        if (rc == 0 && obj_db_cont_get_info(db, d->account, d->container,
                                            &d->cinfo) == 0)
            d->have_cinfo = true;
        break;
    case C_POST:
        rc = obj_db_cont_post(db, d->account, d->container, &d->ts, d->kv,
                              d->nkv, &d->e);
        break;
    case C_DELETE:
        rc = obj_db_cont_delete(db, d->account, d->container, &d->ts,
                                &d->existed);
        if ((rc == 0 || rc == -ESTALE) &&
            obj_db_cont_get_info(db, d->account, d->container, &d->cinfo) == 0)
            d->have_cinfo = true;
        break;
    case C_HEAD:
    case C_GET:
        rc = obj_db_cont_get_info(db, d->account, d->container, &d->cinfo);
        if (rc != 0)
            break;
        d->have_cinfo = true;
        if (d->op == C_GET && !d->cinfo.deleted)
            rc = do_list(d, db, false);
        break;
    case C_ROW_PUT:
    case C_ROW_DELETE:
        rc = obj_db_cont_update_object(
            db, d->account, d->container, &d->u,
            str_has_prefix(d->account, AUTO_CREATE_PREFIX), &d->changed);
        break;
    case A_PUT:
        rc = obj_db_acct_put(db, d->account, &d->ts, d->kv, d->nkv,
                             &d->created, &d->e);
        break;
    case A_POST:
        rc = obj_db_acct_post(db, d->account, &d->ts, d->kv, d->nkv, &d->e);
        break;
    case A_DELETE:
        rc = obj_db_acct_delete(db, d->account, &d->ts);
        break;
    case A_HEAD:
    case A_GET:
        rc = obj_db_acct_get_info(db, d->account, &d->ainfo);
        if (rc != 0)
            break;
        d->have_ainfo = true;
        if (d->op == A_GET && !d->ainfo.deleted)
            rc = do_list(d, db, true);
        break;
    case A_REPORT:
        rc = obj_db_acct_update_container(
            db, d->account, &d->rep,
            str_has_prefix(d->account, AUTO_CREATE_PREFIX), false);
        break;
    }
    return rc;
}

/* ------------------------------------------------------------ answers */

static void add_ts(struct http_req *req, const char *name, const struct ts *t,
                   bool internal)
{
    char b[TS_INTERNAL_LEN];
    if (internal)
        ts_internal(t, b);
    else
        ts_normal(t, b);
    http_resp_header(req, name, b);
}

static void add_meta(struct http_req *req, const struct obj_db_meta *m,
                     size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].value[0])
            http_resp_header(req, m[i].key, m[i].value);
}

static void cont_headers(struct dreq *d)
{
    struct http_req *req = d->rq.req;
    const struct obj_db_cont_info *c = &d->cinfo;
    add_ts(req, "X-Backend-Timestamp", &c->created_at, true);
    add_ts(req, "X-Backend-PUT-Timestamp", &c->put_ts, true);
    add_ts(req, "X-Backend-DELETE-Timestamp", &c->delete_ts, true);
    add_ts(req, "X-Backend-Status-Changed-At", &c->status_changed_at, true);
    http_resp_headerf(req, "X-Backend-Storage-Policy-Index", "%u",
                      c->policy_index);
    if (c->deleted)
        return;
    http_resp_headerf(req, "X-Container-Object-Count", "%llu",
                      (unsigned long long)c->object_count);
    http_resp_headerf(req, "X-Container-Bytes-Used", "%llu",
                      (unsigned long long)c->bytes_used);
    add_ts(req, "X-Timestamp", &c->created_at, false);
    add_ts(req, "X-PUT-Timestamp", &c->put_ts, false);
    http_resp_header(req, "X-Backend-Sharding-State", "unsharded");
    add_meta(req, c->meta, c->nmeta);
}

static void acct_headers(struct dreq *d)
{
    struct http_req *req = d->rq.req;
    const struct obj_db_acct_info *a = &d->ainfo;
    if (a->deleted) {
        if (a->status_deleted)
            http_resp_header(req, "X-Account-Status", "Deleted");
        return;
    }
    http_resp_headerf(req, "X-Account-Container-Count", "%llu",
                      (unsigned long long)a->container_count);
    http_resp_headerf(req, "X-Account-Object-Count", "%llu",
                      (unsigned long long)a->object_count);
    http_resp_headerf(req, "X-Account-Bytes-Used", "%llu",
                      (unsigned long long)a->bytes_used);
    add_ts(req, "X-Timestamp", &a->created_at, false);
    add_ts(req, "X-PUT-Timestamp", &a->put_ts, false);
    add_meta(req, a->meta, a->nmeta);
}

static void send_listing(struct dreq *d)
{
    struct http_req *req = d->rq.req;
    if (d->q.format_from_accept)
        http_resp_header(req, "Vary", "Accept");
    size_t len = evbuffer_get_length(d->out);
    if (d->q.format == OBJ_LISTING_PLAIN && len == 0) {
        http_resp_simple(req, 204, NULL, NULL, 0);
        return;
    }
    http_resp_headerf(req, "Content-Type", "%s; charset=utf-8",
                      d->q.content_type);
    http_resp_start(req, 200, (int64_t)len);
    http_resp_add_buffer(req, d->out);
    http_resp_end(req);
}

static void reply_rc(struct dreq *d, int rc, int ok)
{
    int st = obj_http_status(rc, ok);
    obj_srv_reply(d->rq.req, st, st >= 400 && d->e.msg[0] ? d->e.msg : NULL);
}

static void acct_report_done(void *arg)
{
    struct dreq *d = arg;
    d->rq.busy = false;
    if (d->rq.req == NULL) {
        d->rq.release(&d->rq);
        return;
    }
    if (d->n404 == d->ntg)
        obj_srv_reply(d->rq.req, 404, "Account not found");
    else if (d->op == C_PUT)
        obj_srv_reply(d->rq.req, d->created ? 201 : 202, NULL);
    else
        obj_srv_reply(d->rq.req, 204, NULL);
}

static void db_done(struct obj_rq *rq, int rc)
{
    struct dreq *d = (struct dreq *)rq;
    struct http_req *req = rq->req;
    if (rc == -ENODEV || rc == -ENOSPC) {
        obj_srv_reply(req, 507, NULL);
        return;
    }
    switch (d->op) {
    case C_PUT:
    case C_DELETE:
        if (rc != 0) {
            if (rc == -ESTALE && d->have_cinfo) {
                add_ts(req, "X-Backend-Timestamp", &d->cinfo.put_ts, true);
            }
            reply_rc(d, rc, 0);
            return;
        }
        if (d->op == C_DELETE && !d->existed) {
            obj_srv_reply(req, 404, NULL);
            return;
        }
        if (d->ntg > 0 && d->have_cinfo) {
            d->rq.busy = true;
            obj_acct_report(rq->w, d->dev, &d->cinfo, d->tg, d->ntg,
                            acct_report_done, d, &d->n404);
            return;
        }
        if (d->op == C_PUT)
            obj_srv_reply(req, d->created ? 201 : 202, NULL);
        else
            obj_srv_reply(req, 204, NULL);
        return;
    case C_POST:
        reply_rc(d, rc, 204);
        return;
    case C_HEAD:
    case C_GET:
        if (rc == -ENOENT && !d->have_cinfo) {
            obj_srv_reply(req, 404, NULL);
            return;
        }
        if (d->have_cinfo)
            cont_headers(d);
        if (d->have_cinfo && d->cinfo.deleted) {
            obj_srv_reply(req, 404, NULL);
            return;
        }
        if (rc != 0) {
            reply_rc(d, rc, 0);
            return;
        }
        if (d->op == C_HEAD) {
            obj_srv_reply(req, 204, NULL);
            return;
        }
        send_listing(d);
        return;
    case C_ROW_PUT:
    case C_ROW_DELETE:
        if (rc == 0 && d->changed)
            obj_acct_mark_dirty(rq->w, d->dev, d->account, d->container);
        reply_rc(d, rc, d->op == C_ROW_PUT ? 201 : 204);
        return;
    case A_PUT:
        reply_rc(d, rc, d->created ? 201 : 202);
        return;
    case A_POST:
        reply_rc(d, rc, 204);
        return;
    case A_DELETE:
        reply_rc(d, rc, 204);
        return;
    case A_HEAD:
    case A_GET:
        if (rc == -ENOENT && !d->have_ainfo) {
            obj_srv_reply(req, 404, NULL);
            return;
        }
        if (d->have_ainfo)
            acct_headers(d);
        if (d->have_ainfo && d->ainfo.deleted) {
            obj_srv_reply(req, 404, NULL);
            return;
        }
        if (rc != 0) {
            reply_rc(d, rc, 0);
            return;
        }
        if (d->op == A_HEAD) {
            obj_srv_reply(req, 204, NULL);
            return;
        }
        send_listing(d);
        return;
    case A_REPORT:
        reply_rc(d, rc, ts_cmp(&d->rep.delete_ts, &d->rep.put_ts) > 0 ? 204
                                                                       : 201);
        return;
    }
}

/* ------------------------------------------------------------ parsing */

static void copy_headers(struct dreq *d, struct http_req *req,
                         const char *extra_key, const char *extra_val)
{
    const struct http_head *h = http_req_head(req);
    d->kv = xcalloc(h->nheaders + 1, sizeof(*d->kv));
    for (unsigned i = 0; i < h->nheaders; i++) {
        /* a client must not set what the node keeps for itself */
        if (strcasecmp(h->headers[i].name, OBJ_ACCT_TARGETS_KEY) == 0)
            continue;
        d->kv[d->nkv].key = xstrdup(h->headers[i].name);
        d->kv[d->nkv].value = xstrdup(h->headers[i].value);
        d->nkv++;
    }
    if (extra_key) {
        d->kv[d->nkv].key = xstrdup(extra_key);
        d->kv[d->nkv].value = xstrdup(extra_val);
        d->nkv++;
    }
}

static int header_ts(struct http_req *req, const char *name, struct ts *out)
{
    const char *v = http_req_header(req, name);
    if (v == NULL) {
        *out = (struct ts){ 0, 0 };
        return 0;
    }
    return ts_parse(v, out);
}

static int header_u64(struct http_req *req, const char *name, uint64_t *out)
{
    const char *v = http_req_header(req, name);
    if (v == NULL) {
        *out = 0;
        return 0;
    }
    return parse_u64(v, out);
}

static struct dreq *dreq_new(struct obj_worker *w, struct http_req *req,
                             char **segs, int nsegs)
{
    struct dreq *d = xcalloc(1, sizeof(*d));
    d->rq.w = w;
    d->rq.req = req;
    d->rq.release = dreq_release;
    d->srv = w->srv;
    d->dev = xstrdup(segs[0]);
    d->account = xstrdup(segs[2]);
    if (nsegs > 3 && segs[3])
        d->container = xstrdup(segs[3]);
    if (nsegs > 4 && segs[4])
        d->object = xstrdup(segs[4]);
    d->policy = -1;
    const char *pol = http_req_header(req, "X-Backend-Storage-Policy-Index");
    int64_t pv;
    if (pol && parse_i64(pol, &pv) == 0 && pv >= 0 && pv < INT32_MAX)
        d->policy = (int32_t)pv;
    const char *dp = http_req_header(req, "X-Backend-Storage-Policy-Default");
    if (dp && parse_i64(dp, &pv) == 0 && pv >= 0 && pv < INT32_MAX)
        d->default_policy = (uint32_t)pv;
    http_req_set_ops(req, &obj_rq_ops_nobody, d);
    return d;
}

static void go(struct dreq *d)
{
    if (obj_rq_submit(&d->rq, db_work, db_done) != 0)
        obj_srv_reply(d->rq.req, 503, "Disk queue full");
}

static bool method_in(enum http_method m, const enum http_method *ok, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ok[i] == m)
            return true;
    return false;
}

static int check_meta(struct http_req *req, enum names_target t,
                      struct obj_server *srv)
{
    struct names_header *hv;
    size_t nh = obj_srv_names_headers(req, &hv);
    struct names_verdict v;
    if (names_check_metadata(hv, nh, t, &srv->cluster.constraints, &v) != 0) {
        obj_srv_reply(req, v.status, v.body);
        return -EINVAL;
    }
    return 0;
}

static int listing_query(struct dreq *d, struct http_req *req)
{
    struct err e;
    err_clear(&e);
    d->have_q = true;
    int rc = obj_listing_query_parse(http_req_query(req),
                                     http_req_header(req, "Accept"), &d->q,
                                     &e);
    if (rc != 0) {
        obj_srv_reply(req, obj_http_status(rc, 0), e.msg);
        return rc;
    }
    return 0;
}

/*
 * What every container and account request starts with: the counters, the
 * healthcheck and replication routes, the method, the path split into nsegs
 * (nsegs - 1 required; container paths may name an object row), the
 * partition, and the X-Timestamp of a write. Returns 0 to go on, or -1 when
 * the request was already answered.
 */
static int db_request_head(struct http_req *req, struct obj_worker *w,
                           bool account, char **segs, size_t nsegs,
                           enum http_method *m, uint32_t *part, struct ts *ts)
{
    atomic_fetch_add(&w->srv->n_requests, 1);
    if (obj_srv_healthcheck(req, w))
        return -1;
    if (obj_repl_srv_handle_db(req, w, account))
        return -1;
    static const enum http_method ok[] = { HTTP_M_PUT, HTTP_M_POST,
                                           HTTP_M_HEAD, HTTP_M_GET,
                                           HTTP_M_DELETE };
    *m = http_req_method(req);
    if (!method_in(*m, ok, ARRAY_SIZE(ok))) {
        http_resp_header(req, "Allow", "DELETE, GET, HEAD, POST, PUT");
        obj_srv_reply(req, 405, NULL);
        return -1;
    }
    if (obj_srv_split(req, (int)nsegs - 1, (int)nsegs, !account, segs) != 0)
        return -1;
    if (obj_srv_partition(req, segs[1], part) != 0)
        return -1;
    *ts = (struct ts){ 0, 0 };
    if (*m != HTTP_M_GET && *m != HTTP_M_HEAD &&
        obj_srv_timestamp(req, ts) != 0)
        return -1;
    return 0;
}

void obj_srv_handle_container(struct http_req *req, void *arg)
{
    struct obj_worker *w = arg;
    struct obj_server *srv = w->srv;
    char *segs[5];
    enum http_method m;
    uint32_t part;
    struct ts ts;
    if (db_request_head(req, w, false, segs, ARRAY_SIZE(segs), &m, &part,
                        &ts) != 0)
        return;
    if (segs[4]) {
        /* an object row from an object server */
        if (m != HTTP_M_PUT && m != HTTP_M_DELETE) {
            obj_srv_reply(req, 400, "Invalid method for an object row");
            return;
        }
        struct dreq *d = dreq_new(w, req, segs, 5);
        d->ts = ts;
        d->op = m == HTTP_M_PUT ? C_ROW_PUT : C_ROW_DELETE;
        d->u.name = d->object;
        d->u.ts = ts;
        d->u.deleted = m == HTTP_M_DELETE;
        d->u.policy_index = d->policy >= 0 ? (uint32_t)d->policy : 0;
        if (m == HTTP_M_PUT) {
            const char *ct = http_req_header(req, "X-Content-Type");
            const char *et = http_req_header(req, "X-Etag");
            if (header_u64(req, "X-Size", &d->u.size) != 0 || !ct || !et) {
                obj_srv_reply(req, 400, "Missing or bad X-Size, "
                                        "X-Content-Type or X-Etag");
                return;
            }
            d->ctype = xstrdup(ct);
            d->etag = xstrdup(et);
            d->u.content_type = d->ctype;
            d->u.etag = d->etag;
        } else {
            d->u.content_type = "";
            d->u.etag = "";
        }
        if (header_ts(req, "X-Content-Type-Timestamp", &d->ctype_ts) != 0 ||
            header_ts(req, "X-Meta-Timestamp", &d->meta_ts) != 0) {
            obj_srv_reply(req, 400, "Bad X-Content-Type-Timestamp or "
                                    "X-Meta-Timestamp");
            return;
        }
        if (d->ctype_ts.units)
            d->u.ctype_ts = &d->ctype_ts;
        if (d->meta_ts.units)
            d->u.meta_ts = &d->meta_ts;
        go(d);
        return;
    }
    struct names_verdict v;
    if (names_check_container_name(segs[3], strlen(segs[3]),
                                   &srv->cluster.constraints, &v) != 0 &&
        m == HTTP_M_PUT) {
        obj_srv_reply(req, v.status, v.body);
        return;
    }
    if ((m == HTTP_M_PUT || m == HTTP_M_POST) &&
        check_meta(req, NAMES_T_CONTAINER, srv) != 0)
        return;
    struct dreq *d = dreq_new(w, req, segs, 4);
    d->ts = ts;
    switch (m) {
    case HTTP_M_PUT: {
        d->op = C_PUT;
        int nt = obj_upd_parse_targets(req, "X-Account-", d->tg,
                                       OBJ_UPD_MAX_TARGETS);
        if (nt < 0) {
            obj_srv_reply(req, 400, "Bad X-Account-Host, -Device or "
                                    "-Partition headers");
            return;
        }
        d->ntg = nt;
        char *tv = nt > 0 ? obj_acct_targets_sysmeta(d->tg, nt) : NULL;
        copy_headers(d, req, tv ? OBJ_ACCT_TARGETS_KEY : NULL, tv);
        free(tv);
        break;
    }
    case HTTP_M_POST:
        d->op = C_POST;
        copy_headers(d, req, NULL, NULL);
        break;
    case HTTP_M_DELETE: {
        d->op = C_DELETE;
        int nt = obj_upd_parse_targets(req, "X-Account-", d->tg,
                                       OBJ_UPD_MAX_TARGETS);
        d->ntg = nt > 0 ? nt : 0;
        break;
    }
    case HTTP_M_HEAD:
        d->op = C_HEAD;
        break;
    default:
        d->op = C_GET;
        if (listing_query(d, req) != 0)
            return;
        break;
    }
    go(d);
}

void obj_srv_handle_account(struct http_req *req, void *arg)
{
    struct obj_worker *w = arg;
    struct obj_server *srv = w->srv;
    char *segs[4];
    enum http_method m;
    uint32_t part;
    struct ts ts;
    if (db_request_head(req, w, true, segs, ARRAY_SIZE(segs), &m, &part,
                        &ts) != 0)
        return;
    if (segs[3]) {
        /* a container's report */
        if (m != HTTP_M_PUT) {
            obj_srv_reply(req, 400, "Invalid method for a container report");
            return;
        }
        struct dreq *d = dreq_new(w, req, segs, 4);
        d->op = A_REPORT;
        d->rep.name = d->container;
        d->rep.policy_index = d->policy >= 0 ? (uint32_t)d->policy : 0;
        if (header_ts(req, "X-Put-Timestamp", &d->rep.put_ts) != 0 ||
            header_ts(req, "X-Delete-Timestamp", &d->rep.delete_ts) != 0 ||
            header_u64(req, "X-Object-Count", &d->rep.object_count) != 0 ||
            header_u64(req, "X-Bytes-Used", &d->rep.bytes_used) != 0) {
            obj_srv_reply(req, 400, "Bad container report headers");
            return;
        }
        go(d);
        return;
    }
    if ((m == HTTP_M_PUT || m == HTTP_M_POST) &&
        check_meta(req, NAMES_T_ACCOUNT, srv) != 0)
        return;
    struct dreq *d = dreq_new(w, req, segs, 3);
    d->ts = ts;
    switch (m) {
    case HTTP_M_PUT:
        d->op = A_PUT;
        copy_headers(d, req, NULL, NULL);
        break;
    case HTTP_M_POST:
        d->op = A_POST;
        copy_headers(d, req, NULL, NULL);
        break;
    case HTTP_M_DELETE:
        d->op = A_DELETE;
        break;
    case HTTP_M_HEAD:
        d->op = A_HEAD;
        break;
    default:
        d->op = A_GET;
        if (listing_query(d, req) != 0)
            return;
        break;
    }
    go(d);
}

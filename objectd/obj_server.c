/*
 * obj_server.c - what every request handler of cairn-objectd shares: the
 * request/job life cycle (obj_rq), path and timestamp validation with
 * Swift's answers, header helpers, and the table of open container and
 * account databases (one RocksDB per device, opened on first use).
 *
 * Threading: obj_rq_* and the helpers run on a worker's loop; the db table
 * is used from disk threads under db_lock.
 */
#define LOG_COMPONENT "objectd"

#include "objectd/obj_server.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/pool.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_db.h"
#include "objectd/obj_diskfile.h"
#include "objectd/obj_srv_int.h"

/* ------------------------------------------------------------ obj_rq */

static void rq_maybe_release(struct obj_rq *rq)
{
    if (rq->req == NULL && !rq->busy)
        rq->release(rq);
}

static void rq_job_done(void *arg, int status)
{
    struct obj_rq *rq = arg;
    rq->busy = false;
    if (rq->req == NULL) {
        rq->release(rq);
        return;
    }
    rq->cont(rq, status);
}

int obj_rq_submit(struct obj_rq *rq, workq_work_fn *work, obj_rq_cont_fn *cont)
{
    if (rq->busy)
        return -EBUSY;
    rq->cont = cont;
    int rc = workq_submit(rq->w->port, work, rq_job_done, rq);
    if (rc == 0)
        rq->busy = true;
    return rc;
}

/* One access line per request at info level (checked before formatting). */
static void access_log(struct http_req *req, int err)
{
    if (log_get_level() < LOG_LVL_INFO)
        return;
    const char *txn = http_req_header(req, "X-Trans-Id");
    uint64_t ms = (now_mono_ns() - http_req_start_ns(req)) / 1000000;
    log_info("%s \"%s %s\" %d %llu %llu %llums txn=%s%s%s",
             http_req_peer_str(req), http_req_method_str(req),
             http_req_target(req), http_req_status(req),
             (unsigned long long)http_req_bytes_sent(req),
             (unsigned long long)http_req_bytes_received(req),
             (unsigned long long)ms, txn ? txn : "-", err ? " error=" : "",
             err ? strerror(-err) : "");
}

void obj_rq_http_done(struct http_req *req, int err, void *arg)
{
    struct obj_rq *rq = arg;
    access_log(req, err);
    rq->req = NULL;
    rq_maybe_release(rq);
}

const struct http_req_ops obj_rq_ops_nobody = {
    .done = obj_rq_http_done,
};

/* ------------------------------------------------------------ helpers */

void obj_srv_reply(struct http_req *req, int status, const char *body)
{
    if (body == NULL || body[0] == '\0') {
        http_resp_simple(req, status, NULL, NULL, 0);
        return;
    }
    http_resp_simple(req, status, "text/plain; charset=UTF-8", body,
                     strlen(body));
}

int obj_srv_split(struct http_req *req, int minsegs, int maxsegs,
                  bool rest_with_last, char **segs)
{
    const char *raw = http_req_path(req);
    size_t rlen = strlen(raw);
    char *dec = pool_alloc(http_req_pool(req), rlen + 1);
    size_t dlen = names_unquote(raw, rlen, dec);
    struct names_verdict v;
    if (names_split_backend_path(dec, dlen, minsegs, maxsegs, rest_with_last,
                                 segs, &v) != 0) {
        obj_srv_reply(req, v.status, v.body);
        return -EINVAL;
    }
    return 0;
}

int obj_srv_partition(struct http_req *req, const char *seg, uint32_t *part)
{
    uint64_t v;
    if (parse_u64(seg, &v) != 0 || v > UINT32_MAX) {
        char body[128];
        snprintf(body, sizeof(body), "Invalid partition: %.64s", seg);
        obj_srv_reply(req, 400, body);
        return -EINVAL;
    }
    *part = (uint32_t)v;
    return 0;
}

int obj_srv_timestamp(struct http_req *req, struct ts *out)
{
    const char *h = http_req_header(req, "X-Timestamp");
    if (h == NULL || ts_parse(h, out) != 0) {
        obj_srv_reply(req, 400, "Missing X-Timestamp header");
        return -EINVAL;
    }
    return 0;
}

size_t obj_srv_names_headers(struct http_req *req, struct names_header **out)
{
    const struct http_head *h = http_req_head(req);
    struct names_header *v =
        pool_alloc(http_req_pool(req), (h->nheaders + 1) * sizeof(*v));
    for (unsigned i = 0; i < h->nheaders; i++) {
        v[i].name = h->headers[i].name;
        v[i].name_len = h->headers[i].name_len;
        v[i].value = h->headers[i].value;
        v[i].value_len = h->headers[i].value_len;
    }
    *out = v;
    return h->nheaders;
}

char *obj_srv_title(struct http_req *req, const char *name)
{
    char *t = pool_strdup(http_req_pool(req), name);
    bool up = true;
    for (char *p = t; *p; p++) {
        *p = up ? (char)toupper((unsigned char)*p)
                : (char)tolower((unsigned char)*p);
        up = (*p == '-');
    }
    return t;
}

bool obj_srv_hdr_prefix(const char *name, const char *prefix)
{
    return strncasecmp(name, prefix, strlen(prefix)) == 0;
}

/* GET /recon: counters as JSON, in the spirit of Swift's recon. */
static void recon(struct http_req *req, struct obj_worker *w)
{
    struct obj_server *s = w->srv;
    char body[512];
    int n = snprintf(
        body, sizeof(body),
        "{\"requests\": %lu, \"async_pending_saved\": %lu, "
        "\"async_pending_delivered\": %lu, \"disk_queue\": %zu, "
        "\"workers\": %lld, \"disk_threads\": %lld}",
        atomic_load(&s->n_requests), atomic_load(&s->n_async_saved),
        atomic_load(&s->n_async_done), workq_queued(s->wq),
        (long long)s->conf.workers, (long long)s->conf.disk_threads);
    http_resp_simple(req, 200, "application/json", body, (size_t)n);
}

bool obj_srv_healthcheck(struct http_req *req, struct obj_worker *w)
{
    if (strcmp(http_req_path(req), "/recon") == 0 &&
        http_req_method(req) == HTTP_M_GET) {
        recon(req, w);
        return true;
    }
    if (strcmp(http_req_path(req), "/healthcheck") != 0)
        return false;
    enum http_method m = http_req_method(req);
    if (m != HTTP_M_GET && m != HTTP_M_HEAD)
        obj_srv_reply(req, 405, NULL);
    else
        http_resp_simple(req, 200, "text/plain", "OK", 2);
    return true;
}

/* ------------------------------------------------------------ databases */

int obj_server_db(struct obj_server *s, const char *dev, struct obj_db **out)
{
    int rc = obj_devices_check(s->devs, dev);
    if (rc != 0)
        return rc == -EINVAL ? -ENODEV : rc;
    pthread_mutex_lock(&s->db_lock);
    for (size_t i = 0; i < s->ndbs; i++) {
        if (strcmp(s->dbs[i].dev, dev) == 0) {
            *out = s->dbs[i].db;
            pthread_mutex_unlock(&s->db_lock);
            return 0;
        }
    }
    /* Opening under the lock: it happens once per device, and two threads
     * must not open the same RocksDB. */
    char *path = xasprintf("%s/%s/db", s->conf.devices, dev);
    struct err e;
    err_clear(&e);
    struct obj_db *db = obj_db_open(path, &s->secret,
                                    s->conf.db_fsync ? 0 : OBJ_DB_NO_SYNC, &e);
    if (db == NULL) {
        log_err("%s", e.msg);
        free(path);
        pthread_mutex_unlock(&s->db_lock);
        return e.code ? e.code : -EIO;
    }
    free(path);
    s->dbs = xrealloc(s->dbs, (s->ndbs + 1) * sizeof(*s->dbs));
    str_copy(s->dbs[s->ndbs].dev, dev, sizeof(s->dbs[s->ndbs].dev));
    s->dbs[s->ndbs].db = db;
    s->ndbs++;
    *out = db;
    pthread_mutex_unlock(&s->db_lock);
    return 0;
}

void obj_server_close_dbs(struct obj_server *s)
{
    pthread_mutex_lock(&s->db_lock);
    for (size_t i = 0; i < s->ndbs; i++)
        obj_db_close(s->dbs[i].db);
    free(s->dbs);
    s->dbs = NULL;
    s->ndbs = 0;
    pthread_mutex_unlock(&s->db_lock);
}

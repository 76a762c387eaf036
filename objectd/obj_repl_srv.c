/*
 * obj_repl_srv.c - the replication verb of the object role:
 *
 *   REPLICATE /<dev>/<part>   200, a JSON object {"<suffix>": "<md5>", ...}
 *
 * the suffix hashes of the partition on this device, computed afresh
 * (obj_df_suffix_hashes: no cache, so a push that just landed shows at
 * once). Swift's REPLICATE answers a pickle and may be asked to rehash
 * suffixes named in the path; ours always rehashes and speaks JSON, and
 * only cairn's replicator calls it. The objects themselves travel through
 * the ordinary PUT/POST/DELETE (obj_repl.c).
 *
 * Threading: the handler runs on a worker's loop; the hashing is a job on
 * the disk pool (obj_rq_submit), as every disk access.
 */
#define LOG_COMPONENT "objectd"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_diskfile.h"
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

bool obj_repl_srv_handle(struct http_req *req, struct obj_worker *w)
{
    if (http_req_method(req) != HTTP_M_OTHER ||
        strcmp(http_req_method_str(req), "REPLICATE") != 0)
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

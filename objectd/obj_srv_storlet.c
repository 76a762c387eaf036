/*
 * obj_srv_storlet.c - what the proxy asks this node to run on a GET: the
 * chain it planned for this node (X-Backend-Storlet-Chain; docs/storlets.md
 * section 2, docs/rules.md 4.11) and the facts that go with it.
 *
 * The node never decides what runs: it runs exactly the chain the proxy
 * sends and ignores a client's X-Run-Storlet and X-Storlet-* headers, so a
 * request sent straight to a node cannot run or skip a storlet (it is a
 * plain GET). This file reads the proxy's backend headers (the chain, the
 * input range, which stages' logs to keep and whose code is read with a
 * capability, the proxy's own HEAD of each storlet), who the caller is and
 * where its proxy listens, what the storlets see of the source object, and
 * refuses a large object's manifest: no chain ever runs over one here (its
 * stored bytes are not the object), so the GET answers 422 with
 * X-Backend-Storlet-Manifest: 1 before anything starts, and the proxy runs
 * the chain over the assembled body. Running the chain - one stage or
 * several, a single storlet being a chain of one - is obj_srv_seq.c.
 *
 * Threading: the worker's loop; everything here is a pure function of the
 * request head or of the open object's info.
 */
#include "objectd/obj_srv_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng.h"
#include "engine/eng_seq.h"
#include "objectd/obj_diskfile.h"

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

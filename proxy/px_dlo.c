/*
 * px_dlo.c - dynamic large objects (Swift's DLO): a GET or HEAD of an
 * object carrying X-Object-Manifest: <container>/<prefix> answers the
 * concatenation of the objects of <container> whose names start with
 * <prefix>, in listing order.
 *
 * Flow: the manifest's own answer is seen by the object read (px_ctl.c);
 * px_dlo_start() takes over: it checks the caller may read the segment
 * container (owner, or its read ACL), lists the segments (one listing page,
 * as Swift: Content-Length and ETag only when it fits), computes the
 * length and the ETag (MD5 of the segment ETags, quoted), resolves Range
 * against that length (one range -> 206, several -> multipart/byteranges,
 * none satisfiable -> 416), and then streams a plan of pieces: literal
 * text (multipart part headers) and byte spans of the concatenation, each
 * span read segment by segment through px_read with a Range, relayed with
 * the same back-pressure as any GET. A segment that fails aborts the
 * response (http_resp_abort: the client sees a short body and a closed
 * connection, also when chunked), as Swift does.
 *
 * The segments' container's storlet rules decide too (a mandatory read rule
 * for the caller: 403), also on a storlet chain's own read of the manifest
 * (PX_CAP_RULED), whose chain held only the manifest's rules.
 *
 * Memory: the listing page (bounded by the listing limit) and the plan
 * (bounded by RANGE_MAX_RANGES) live in the request pool; bodies stream.
 * Threading: the worker thread owning the request.
 */
#define LOG_COMPONENT "proxy"
#include "proxy/px_dlo.h"

#include <errno.h>
#include <event2/buffer.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/http.h"
#include "common/log.h"
#include "common/md5.h"
#include "common/names.h"
#include "common/pool.h"
#include "common/preconds.h"
#include "common/range.h"
#include "common/timestamp.h"
#include "common/util.h"
#include "proxy/px_acl.h"
#include "proxy/px_auth.h"
#include "proxy/px_cap.h"
#include "proxy/px_ctl_int.h"
#include "proxy/px_rules.h"

#define DLO_LISTING_MAX (16u << 20) /* bytes of JSON listing kept */

struct dlo_seg {
    const char *name;
    uint64_t bytes;
};

struct dlo_piece {
    const char *text;       /* literal, or NULL for a byte span */
    size_t text_len;
    uint64_t start, end;    /* span of the concatenation, half-open */
};

struct px_dlo {
    struct px_req *pr;
    struct px_hdrs manifest;   /* the manifest's answer headers */
    char *container, *prefix;
    struct px_nodes lnodes;    /* segment container */
    struct evbuffer *listing;
    bool listing_too_big;
    struct dlo_seg *segs;
    size_t nsegs;
    uint64_t total;
    /* streaming */
    struct dlo_piece *plan;
    size_t nplan, cur;
    uint64_t pos;              /* next byte of the current span */
    size_t seg;                /* segment holding pos */
    uint64_t seg_off;          /* offset of segs[seg] in the concatenation */
    struct px_nodes snodes;
    uint64_t want_end;         /* end of the current segment read */
    const char *manifest_container_saved;
    bool dead;
};

static void dlo_cleanup(void *arg)
{
    struct px_dlo *d = arg;
    d->dead = true;
    if (d->listing)
        evbuffer_free(d->listing);
    d->listing = NULL;
}

/* ------------------------------------------------------------ streaming */

static void next_piece(struct px_dlo *d);

static void seg_headers(struct px_req *pr, struct http_client *c, void *arg)
{
    (void)pr;
    struct px_dlo *d = arg;
    uint64_t a = d->pos - d->seg_off, b = d->want_end - d->seg_off;
    http_client_headerf(c, "Range", "bytes=%llu-%llu", (unsigned long long)a,
                        (unsigned long long)(b - 1));
}

static bool seg_usable(int status, const struct http_head *h, void *arg)
{
    (void)h;
    (void)arg;
    return status == 200 || status == 206;
}

static void seg_response(struct px_req *pr, struct px_read *rd,
                         const struct http_head *h, void *arg)
{
    (void)pr;
    (void)rd;
    struct px_dlo *d = arg;
    /* A 200 means the node ignored the range: only fine for a whole
     * segment. Anything else would splice wrong bytes: give up. */
    uint64_t want = d->want_end - d->pos;
    int64_t len = px_head_length(h);
    if (len < 0 || (uint64_t)len != want) {
        log_warn("DLO segment %s/%s changed (%lld bytes, expected %llu)",
                 d->container, d->segs[d->seg].name, (long long)len,
                 (unsigned long long)want);
        px_read_abort(rd);
        d->dead = true;
        http_resp_abort(d->pr->req); /* the client sees a short body */
    }
}

static void seg_failed(struct px_req *pr, int status,
                       const struct px_hdrs *hdrs, void *arg)
{
    (void)hdrs;
    struct px_dlo *d = arg;
    log_warn("DLO segment %s/%s: %d", d->container, d->segs[d->seg].name,
             status);
    d->dead = true;
    if (!pr->done)
        http_resp_abort(pr->req);
}

static void seg_end(struct px_req *pr, int err, void *arg)
{
    struct px_dlo *d = arg;
    if (d->dead || pr->done)
        return;
    if (err < 0) {
        d->dead = true;
        http_resp_abort(pr->req);
        return;
    }
    d->pos = d->want_end;
    next_piece(d);
}

static const struct px_read_ops seg_ops = {
    .headers = seg_headers,
    .usable = seg_usable,
    .response = seg_response,
    .failed = seg_failed,
    .end = seg_end,
};

static void read_span(struct px_dlo *d)
{
    struct px_req *pr = d->pr;
    const struct dlo_piece *pc = &d->plan[d->cur];
    /* Find the segment holding pos (segments are walked forward only
     * within a span; a new span may start before the last one). */
    if (d->pos < d->seg_off) {
        d->seg = 0;
        d->seg_off = 0;
    }
    while (d->seg < d->nsegs && d->seg_off + d->segs[d->seg].bytes <= d->pos) {
        d->seg_off += d->segs[d->seg].bytes;
        d->seg++;
    }
    if (d->seg >= d->nsegs) {
        d->cur++;
        next_piece(d);
        return;
    }
    uint64_t seg_end_off = d->seg_off + d->segs[d->seg].bytes;
    d->want_end = pc->end < seg_end_off ? pc->end : seg_end_off;
    px_nodes_get(pr, PX_RING_OBJECT, pr->path.account, d->container,
                 d->segs[d->seg].name, 6, &d->snodes);
    px_read_start(pr, "GET", &d->snodes, pr->path.account, d->container,
                  d->segs[d->seg].name, NULL, &seg_ops, d);
}

static void next_piece(struct px_dlo *d)
{
    struct px_req *pr = d->pr;
    while (!d->dead && !pr->done && d->cur < d->nplan) {
        struct dlo_piece *pc = &d->plan[d->cur];
        if (pc->text) {
            http_resp_write(pr->req, pc->text, pc->text_len);
            d->cur++;
            continue;
        }
        if (d->pos < pc->start)
            d->pos = pc->start;
        if (d->pos >= pc->end) {
            d->cur++;
            continue;
        }
        read_span(d);
        return;
    }
    if (!d->dead && !pr->done)
        http_resp_end(pr->req);
}

/* ------------------------------------------------------------ headers */

static bool skip_manifest_header(const char *n)
{
    return strcasecmp(n, "Content-Length") == 0 ||
           strcasecmp(n, "ETag") == 0 || strcasecmp(n, "Content-Range") == 0 ||
           strcasecmp(n, "Connection") == 0 ||
           strcasecmp(n, "Transfer-Encoding") == 0 ||
           strcasecmp(n, "Date") == 0 || strcasecmp(n, "X-Trans-Id") == 0 ||
           strcasecmp(n, "X-Openstack-Request-Id") == 0 ||
           strncasecmp(n, "X-Backend-", 10) == 0 ||
           strncasecmp(n, "X-Object-Sysmeta-", 17) == 0 ||
           strncasecmp(n, "X-Object-Transient-Sysmeta-", 27) == 0;
}

static void add_manifest_headers(struct px_dlo *d)
{
    for (size_t i = 0; i < d->manifest.n; i++)
        if (!skip_manifest_header(d->manifest.v[i].name))
            http_resp_header(d->pr->req, d->manifest.v[i].name,
                             d->manifest.v[i].value);
    px_resp_common(d->pr);
}

static void respond(struct px_dlo *d)
{
    struct px_req *pr = d->pr;
    bool fits = !d->listing_too_big &&
                (int64_t)d->nsegs < pr->srv->cluster.constraints
                                        .container_listing_limit;
    /* ETag: MD5 over the segment ETags, quoted, when the listing is whole. */
    add_manifest_headers(d);
    const char *ctype = px_hdrs_get(&d->manifest, "Content-Type");
    if (!ctype)
        ctype = "application/octet-stream";
    bool head = http_req_method(pr->req) == HTTP_M_HEAD;
    char etag[MD5_HEX_LEN];
    if (fits) {
        struct md5 m;
        md5_init(&m);
        for (size_t i = 0; i < d->nsegs; i++) {
            /* hashes were stored right after the names (see parse) */
            const char *hash = d->segs[i].name + strlen(d->segs[i].name) + 1;
            md5_update(&m, hash, strlen(hash));
        }
        md5_final_hex(&m, etag);
    }
    /* Conditionals are about the assembled object (its ETag, when the
     * listing is whole, and the manifest's Last-Modified), decided before
     * the Range, as Swift's conditional response does. */
    struct preconds_req cq = {
        .if_match = http_req_header(pr->req, "If-Match"),
        .if_none_match = http_req_header(pr->req, "If-None-Match"),
        .if_modified_since = http_req_header(pr->req, "If-Modified-Since"),
        .if_unmodified_since = http_req_header(pr->req, "If-Unmodified-Since"),
    };
    int64_t lm = 0;
    const char *lmh = px_hdrs_get(&d->manifest, "Last-Modified");
    if (!lmh || ts_parse_http_date(lmh, &lm) != 0)
        lm = 0;
    struct preconds_obj co = {.exists = true, .etag = fits ? etag : NULL,
                              .last_modified = lm};
    int pc = preconds_eval_read(&cq, &co);
    if (pc) {
        if (fits)
            http_resp_headerf(pr->req, "ETag", "\"%s\"", etag);
        http_resp_start(pr->req, pc, 0);
        http_resp_end(pr->req);
        return;
    }
    struct range_set rs;
    enum range_outcome ro = fits && !head
                                ? range_resolve(http_req_header(pr->req,
                                                                "Range"),
                                                d->total, &rs)
                                : RANGE_WHOLE;
    if (ro == RANGE_UNSATISFIABLE) {
        char cr[64];
        range_content_range_unsatisfied(cr, sizeof(cr), d->total);
        http_resp_header(pr->req, "Content-Range", cr);
        px_reply(pr, 416);
        return;
    }
    d->plan = pool_calloc(pr->pool, (2 * RANGE_MAX_RANGES + 2) *
                                        sizeof(*d->plan));
    int64_t length;
    int status = 200;
    if (ro == RANGE_WHOLE) {
        d->plan[d->nplan++] = (struct dlo_piece){NULL, 0, 0, d->total};
        length = fits ? (int64_t)d->total : HTTP_LENGTH_UNKNOWN;
    } else if (rs.n == 1) {
        status = 206;
        char cr[96];
        range_content_range(cr, sizeof(cr), &rs.r[0], d->total);
        http_resp_header(pr->req, "Content-Range", cr);
        d->plan[d->nplan++] = (struct dlo_piece){NULL, 0, rs.r[0].start,
                                                 rs.r[0].end};
        length = (int64_t)(rs.r[0].end - rs.r[0].start);
    } else {
        status = 206;
        char boundary[RANGE_BOUNDARY_LEN + 1], ct[128];
        range_boundary_new(boundary);
        range_multipart_content_type(ct, sizeof(ct), boundary);
        length = (int64_t)range_multipart_length(&rs, boundary, ctype,
                                                  d->total);
        for (size_t i = 0; i < rs.n; i++) {
            size_t hl = range_part_header(NULL, 0, boundary, ctype, &rs.r[i],
                                          d->total);
            char *h = pool_alloc(pr->pool, hl + 1);
            range_part_header(h, hl + 1, boundary, ctype, &rs.r[i], d->total);
            d->plan[d->nplan++] = (struct dlo_piece){h, hl, 0, 0};
            d->plan[d->nplan++] = (struct dlo_piece){NULL, 0, rs.r[i].start,
                                                     rs.r[i].end};
            d->plan[d->nplan++] = (struct dlo_piece){RANGE_PART_TRAILER, 2, 0,
                                                     0};
        }
        size_t el = range_multipart_end(NULL, 0, boundary);
        char *e = pool_alloc(pr->pool, el + 1);
        range_multipart_end(e, el + 1, boundary);
        d->plan[d->nplan++] = (struct dlo_piece){e, el, 0, 0};
        /* The part headers name the object's type; the response's is
         * multipart (replace the manifest's Content-Type). */
        ctype = NULL;
        http_resp_header(pr->req, "Content-Type", ct);
    }
    if (fits)
        http_resp_headerf(pr->req, "ETag", "\"%s\"", etag);
    if (head) {
        http_resp_start(pr->req, 200, fits ? (int64_t)d->total
                                           : HTTP_LENGTH_UNKNOWN);
        http_resp_end(pr->req);
        return;
    }
    http_resp_start(pr->req, status, length);
    next_piece(d);
}

/* ------------------------------------------------------------ listing */

static bool list_usable(int status, const struct http_head *h, void *arg)
{
    (void)h;
    (void)arg;
    return status >= 200 && status < 300;
}

static void list_response(struct px_req *pr, struct px_read *rd,
                          const struct http_head *h, void *arg)
{
    (void)pr;
    (void)rd;
    (void)h;
    struct px_dlo *d = arg;
    d->listing = evbuffer_new();
}

static void list_body(struct px_req *pr, struct px_read *rd,
                      struct evbuffer *b, void *arg)
{
    (void)pr;
    (void)rd;
    struct px_dlo *d = arg;
    size_t have = evbuffer_get_length(d->listing);
    if (have + evbuffer_get_length(b) > DLO_LISTING_MAX) {
        d->listing_too_big = true;
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    evbuffer_add_buffer(d->listing, b);
}

static int parse_listing(struct px_dlo *d)
{
    struct px_req *pr = d->pr;
    size_t len = d->listing ? evbuffer_get_length(d->listing) : 0;
    if (d->listing_too_big)
        return -EFBIG;
    if (!len)
        return 0; /* 204: no segments */
    const char *text = (const char *)evbuffer_pullup(d->listing, -1);
    json_error_t je;
    json_t *arr = json_loadb(text, len, 0, &je);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return -EPROTO;
    }
    size_t n = json_array_size(arr);
    d->segs = pool_calloc(pr->pool, (n + 1) * sizeof(*d->segs));
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(arr, i);
        const char *name = json_string_value(json_object_get(it, "name"));
        const char *hash = json_string_value(json_object_get(it, "hash"));
        json_t *bytes = json_object_get(it, "bytes");
        if (!name || !hash || !json_is_integer(bytes) ||
            json_integer_value(bytes) < 0)
            continue; /* a subdir or something odd: not a segment */
        size_t nl = strlen(name), hl = strlen(hash);
        char *copy = pool_alloc(pr->pool, nl + hl + 2);
        memcpy(copy, name, nl + 1);
        memcpy(copy + nl + 1, hash, hl + 1);
        d->segs[d->nsegs].name = copy;
        d->segs[d->nsegs].bytes = (uint64_t)json_integer_value(bytes);
        d->total += d->segs[d->nsegs].bytes;
        d->nsegs++;
    }
    json_decref(arr);
    return 0;
}

static void list_end(struct px_req *pr, int err, void *arg)
{
    struct px_dlo *d = arg;
    if (pr->done)
        return;
    int rc = err < 0 ? err : parse_listing(d);
    if (rc < 0) {
        log_warn("DLO listing of %s: %s", d->container, strerror(-rc));
        px_reply(pr, 503);
        return;
    }
    respond(d);
}

static void list_failed(struct px_req *pr, int status,
                        const struct px_hdrs *hdrs, void *arg)
{
    (void)hdrs;
    struct px_dlo *d = arg;
    if (status == 404) {
        respond(d); /* no segment container: an empty object, as Swift */
        return;
    }
    px_reply(pr, 503);
}

static const struct px_read_ops list_ops = {
    .usable = list_usable,
    .response = list_response,
    .body = list_body,
    .failed = list_failed,
    .end = list_end,
};

static void list_segments(struct px_req *pr, struct px_dlo *d)
{
    size_t pl = strlen(d->prefix);
    char *q = pool_alloc(pr->pool, 3 * pl + 32);
    int k = snprintf(q, 32, "format=json&prefix=");
    names_quote(d->prefix, pl, "", q + k);
    px_nodes_get(pr, PX_RING_CONTAINER, pr->path.account, d->container, NULL,
                 3, &d->lnodes);
    px_read_start(pr, "GET", &d->lnodes, pr->path.account, d->container,
                  NULL, q, &list_ops, d);
}

/* The segment container's ACL decides for callers who are not owners. */
static void seg_acl_checked(struct px_req *pr, const struct px_cinfo *ci)
{
    struct px_dlo *d = pr->ctl;
    pr->path.container = d->manifest_container_saved;
    if (ci->status >= 500) {
        px_reply(pr, 503);
        return;
    }
    if (!pr->owner && !px_ctl_may_read(pr, ci->status < 300 ? ci->read_acl : NULL)) {
        px_ctl_deny(pr);
        return;
    }
    /* Segments under a mandatory storlet rule are never assembled raw
     * (docs/rules.md 4.2): the manifest is no way around the rule. */
    int sub = px_rules_subject_in(pr, d->container, ci->status < 300 ? ci->rules : "",
                                  NULL, ENG_RULES_READ);
    if (sub != 0) {
        if (sub < 0)
            px_reply(pr, 503);
        else
            px_reply_text(pr, 403, "The segments of this manifest are under a mandatory "
                                   "storlet rule");
        return;
    }
    list_segments(pr, d);
}

static void seg_rules_loaded(struct px_req *pr, const struct px_rules *r)
{
    (void)r;
    struct px_dlo *d = pr->ctl;
    d->manifest_container_saved = pr->path.container;
    pr->path.container = d->container;
    px_cinfo_get(pr, seg_acl_checked);
}

bool px_dlo_start(struct px_req *pr, const struct http_head *h)
{
    const char *m = http_head_get(h, "X-Object-Manifest");
    if (!m)
        return false;
    const char *q = http_req_query(pr->req);
    if (q && strstr(q, "multipart-manifest=get"))
        return false;
    struct px_dlo *d = pool_calloc(pr->pool, sizeof(*d));
    d->pr = pr;
    pool_cleanup_add(pr->pool, dlo_cleanup, d);
    px_hdrs_copy(pr->pool, h, &d->manifest);
    size_t ml = strlen(m);
    char *dec = pool_alloc(pr->pool, ml + 1);
    size_t dl = names_unquote(m, ml, dec);
    char *slash = memchr(dec, '/', dl);
    if (!slash || slash == dec || !slash[1] || memchr(dec, '\0', dl)) {
        /* Not a usable manifest: serve the object as it is stored. */
        return false;
    }
    *slash = '\0';
    d->container = dec;
    d->prefix = slash + 1;
    pr->ctl = d;
    if (px_cap_granted(pr, PX_CAP_RULED)) {
        /* a storlet chain's read: the chain holds the manifest's rules,
         * not the segments' container's, which still decide */
        px_rules_load_segments(pr, seg_rules_loaded);
        return true;
    }
    if (pr->owner && !(pr->rules && pr->rules->on)) {
        list_segments(pr, d);
    } else {
        d->manifest_container_saved = pr->path.container;
        pr->path.container = d->container;
        px_cinfo_get(pr, seg_acl_checked);
    }
    return true;
}

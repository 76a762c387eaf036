/*
 * px_slo.c - static large objects (Swift's SLO middleware, as of 2.30).
 *
 * A manifest is an object whose body is a JSON list of segments
 * ({"name": "/c/o", "bytes", "hash", "content_type", "last_modified",
 * optional "range": "first-last" and "sub_slo": true}, or {"data":
 * base64} for a few inline bytes held in the manifest) and which carries
 * X-Static-Large-Object: True, the sysmeta X-Object-Sysmeta-Slo-Etag/-Size
 * and ";swift_bytes=<total>" on its Content-Type (so that container
 * listings show the assembled size).
 *
 * Every segment is reached through this proxy itself (a loopback request
 * carrying the caller's token), never directly on the object nodes: so a
 * segment in another container is read, HEADed or deleted exactly with
 * the caller's rights (owner, ACLs), a segment under a mandatory storlet
 * rule is never handed out raw (the loopback answer says a rule applied,
 * and the assembly stops), and a segment that is itself an SLO is
 * assembled by the nested request. The nesting depth travels in
 * SLO_DEPTH_HEADER; a client setting it can only lower its own limit.
 *
 * GET/HEAD (px_slo_start): the manifest is read again from the object
 * nodes without the client's Range and conditionals (the node judged them
 * against the manifest's bytes); its entries give the length and ETag
 * (MD5 over the segment hashes, "hash:first-last;" for ranged ones). The
 * conditionals and the Range are resolved against that; one range or a
 * suffix gives 206, several multipart/byteranges, as px_dlo.c does. The
 * first segment's answer is awaited before the response starts (a missing
 * or changed first segment answers 409); a later failure cuts the
 * response (http_resp_abort), never a short 200. Every segment answer is
 * checked for its length and ETag.
 *
 * PUT (px_slo_put): the client's list (at most max_manifest_size bytes)
 * is checked as Swift's parse_and_validate_input does, every distinct
 * segment HEADed (SLO_PUT_CONCURRENCY at once), and the stored list built
 * from the HEAD answers; px_put_store writes it on the usual quorum path.
 * DELETE ?multipart-manifest=delete (px_slo_delete): a work list of
 * manifests to read and objects to delete, in Swift's order.
 *
 * Memory: the manifest (at most 2 * max_manifest_size bytes of stored
 * JSON: a PUT whose stored list would be larger is refused, so every
 * manifest written here can be read back) and the plan, in the request
 * pool; segment bytes pass through with back-pressure (the loopback read
 * pauses while the client's output is full), one segment read at a time.
 * Threading: the worker thread owning the request.
 */
#define LOG_COMPONENT "proxy"
#include "proxy/px_slo.h"

#include <errno.h>
#include <event2/buffer.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/bug.h"
#include "common/http.h"
#include "common/log.h"
#include "common/md5.h"
#include "common/names.h"
#include "common/pool.h"
#include "common/preconds.h"
#include "common/range.h"
#include "common/timestamp.h"
#include "common/util.h"
#include "proxy/px_ctl_int.h"
#include "proxy/px_mime.h"
#include "proxy/px_storlet.h"

#define SLO_DEPTH_HEADER "X-Cairn-Slo-Depth"
#define SLO_PUT_CONCURRENCY 4

bool px_slo_true(const char *v)
{
    return v && (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
                 strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0 ||
                 strcasecmp(v, "t") == 0 || strcasecmp(v, "y") == 0);
}

bool px_slo_query_has(struct px_req *pr, const char *param)
{
    const char *q = http_req_query(pr->req);
    size_t n = strlen(param);
    for (const char *f = q ? strstr(q, param) : NULL; f; f = strstr(f + 1, param))
        if ((f == q || f[-1] == '&') && (f[n] == '\0' || f[n] == '&'))
            return true;
    return false;
}

static unsigned req_depth(struct px_req *pr)
{
    const char *v = http_req_header(pr->req, SLO_DEPTH_HEADER);
    uint64_t d;
    if (!v || parse_u64(v, &d) != 0)
        return 0;
    return d > 1000 ? 1000 : (unsigned)d;
}

/* Starts a request to this proxy for account/<name> (name "/c/o", not
 * quoted) with the caller's token. extra_query may be NULL. */
static struct http_client *loop_start(struct px_req *pr, const char *method,
                                      const char *name, const char *extra_query,
                                      const char *range, unsigned depth,
                                      const struct http_client_ops *ops, void *arg)
{
    char host[64];
    int port;
    px_storlet_self(pr, host, sizeof(host), &port);
    struct http_client *c = http_client_new(pr->w->base, host, port, NULL);
    const char *tok = http_req_header(pr->req, "X-Auth-Token");
    if (!tok)
        tok = http_req_header(pr->req, "X-Storage-Token");
    if (tok)
        http_client_header(c, "X-Auth-Token", tok);
    http_client_headerf(c, SLO_DEPTH_HEADER, "%u", depth);
    if (range)
        http_client_header(c, "Range", range);
    const char *a = pr->path.account;
    size_t n = 3 * (strlen(a) + strlen(name)) + 16 +
               (extra_query ? strlen(extra_query) : 0);
    char *path = pool_alloc(pr->pool, n);
    size_t at = (size_t)snprintf(path, n, "/v1/");
    at += names_quote(a, strlen(a), "", path + at);
    if (name[0] != '/')
        path[at++] = '/';
    at += names_quote(name, strlen(name), "/", path + at);
    path[at] = '\0';
    if (extra_query)
        snprintf(path + at, n - at, "?%s", extra_query);
    int rc = http_client_start(c, method, path, 0, ops, arg);
    if (rc == 0)
        rc = http_client_end(c);
    if (rc < 0) {
        http_client_free(c);
        return NULL;
    }
    return c;
}

static const char *unquote_etag(struct pool *pool, const char *e)
{
    if (!e)
        return NULL;
    size_t n = strlen(e);
    if (n >= 2 && e[0] == '"' && e[n - 1] == '"')
        return pool_strndup(pool, e + 1, n - 2);
    return e;
}

/* ------------------------------------------------------------ base64 */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
    const char *p = c ? strchr(b64_alphabet, c) : NULL;
    return p ? (int)(p - b64_alphabet) : -1;
}

/*
 * Decodes standard base64 as Swift's strict_b64decode accepts it: only
 * alphabet characters before the '=' padding, and enough padding for the
 * last group (more is allowed). Returns the length written to out (room
 * for 3/4 of the input), or -1.
 */
static ssize_t b64_decode(const char *in, unsigned char *out)
{
    while (*in == '=')
        in++; /* Swift strips '=' at both ends before checking */
    size_t n = strlen(in), data = 0;
    while (data < n && in[data] != '=')
        data++;
    for (size_t i = data; i < n; i++)
        if (in[i] != '=')
            return -1;
    if (data % 4 == 1 || n - data < (4 - data % 4) % 4)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < data; i++) {
        int v = b64_value(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return (ssize_t)o;
}

/* Standard base64 with padding (pool string). */
static char *b64_encode(struct pool *pool, const unsigned char *in, size_t n)
{
    char *out = pool_alloc(pool, 4 * ((n + 2) / 3) + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* ------------------------------------------------------------ manifest */

struct slo_seg {
    const char *name;   /* "/c/o"; NULL for inline data */
    const unsigned char *data; /* inline data segment (len bytes) */
    const char *hash;
    uint64_t bytes;     /* the whole segment object */
    uint64_t first, len; /* the part used */
    bool ranged, sub;
};

/* "first-last" of a stored entry. */
static int parse_stored_range(const char *s, uint64_t *first, uint64_t *last)
{
    const char *dash = strchr(s, '-');
    if (!dash)
        return -1;
    char a[32], b[32];
    size_t la = (size_t)(dash - s), lb = strlen(dash + 1);
    if (!la || la >= sizeof(a) || !lb || lb >= sizeof(b))
        return -1;
    memcpy(a, s, la);
    a[la] = '\0';
    memcpy(b, dash + 1, lb + 1);
    if (parse_u64(a, first) != 0 || parse_u64(b, last) != 0 || *last < *first)
        return -1;
    return 0;
}

/* Parses a stored manifest into segs (pool). Returns 0 or -EPROTO. */
static int parse_manifest(struct pool *pool, const char *text, size_t len,
                          struct slo_seg **segs_out, size_t *n_out,
                          uint64_t *total, char etag[MD5_HEX_LEN])
{
    json_error_t je;
    json_t *arr = json_loadb(text, len, 0, &je);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return -EPROTO;
    }
    size_t n = json_array_size(arr);
    struct slo_seg *segs = pool_calloc(pool, (n + 1) * sizeof(*segs));
    struct md5 m;
    md5_init(&m);
    *total = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(arr, i);
        const char *b64 = json_string_value(json_object_get(it, "data"));
        if (b64) {
            unsigned char *buf = pool_alloc(pool, strlen(b64) * 3 / 4 + 3);
            ssize_t dl = b64_decode(b64, buf);
            if (dl < 1) {
                json_decref(arr);
                return -EPROTO;
            }
            segs[i].data = buf;
            segs[i].len = segs[i].bytes = (uint64_t)dl;
            segs[i].hash = "";
            struct md5 dm;
            char dh[MD5_HEX_LEN];
            md5_init(&dm);
            md5_update(&dm, buf, (size_t)dl);
            md5_final_hex(&dm, dh);
            md5_update(&m, dh, strlen(dh));
            *total += (uint64_t)dl;
            continue;
        }
        const char *name = json_string_value(json_object_get(it, "name"));
        const char *hash = json_string_value(json_object_get(it, "hash"));
        json_t *bytes = json_object_get(it, "bytes");
        const char *range = json_string_value(json_object_get(it, "range"));
        if (!name || !hash || !json_is_integer(bytes) ||
            json_integer_value(bytes) < 0) {
            json_decref(arr);
            return -EPROTO;
        }
        struct slo_seg *s = &segs[i];
        s->name = pool_strdup(pool, name);
        s->hash = pool_strdup(pool, hash);
        s->bytes = (uint64_t)json_integer_value(bytes);
        s->sub = json_is_true(json_object_get(it, "sub_slo"));
        s->first = 0;
        s->len = s->bytes;
        if (range) {
            uint64_t a, b;
            if (parse_stored_range(range, &a, &b) < 0) {
                json_decref(arr);
                return -EPROTO;
            }
            s->ranged = true;
            s->first = a;
            s->len = b - a + 1;
            md5_update(&m, hash, strlen(hash));
            md5_update(&m, ":", 1);
            md5_update(&m, range, strlen(range));
            md5_update(&m, ";", 1);
        } else {
            md5_update(&m, hash, strlen(hash));
        }
        *total += s->len;
    }
    json_decref(arr);
    md5_final_hex(&m, etag);
    *segs_out = segs;
    *n_out = n;
    return 0;
}

/* ------------------------------------------------------------ GET/HEAD */

struct slo_piece {
    const char *text;       /* literal, or NULL for a byte span */
    size_t text_len;
    uint64_t start, end;    /* span of the assembled object, half-open */
};

struct slo_get {
    struct px_req *pr;
    struct px_hdrs manifest;   /* the manifest's answer headers */
    struct px_nodes mnodes;
    struct evbuffer *mbuf;
    bool too_big;
    unsigned depth;
    struct slo_seg *segs;
    size_t nsegs;
    uint64_t total;
    char etag[MD5_HEX_LEN];
    bool raw;                  /* ?multipart-manifest=get&format=raw */
    /* the answer */
    int status;
    int64_t length;
    const char *content_range, *ctype;
    bool started;
    /* streaming */
    struct slo_piece *plan;
    size_t nplan, cur;
    uint64_t pos;              /* next byte of the current span */
    size_t seg;                /* segment holding pos */
    uint64_t seg_off;          /* offset of segs[seg] in the object */
    uint64_t want, got;        /* bytes of the current segment read */
    struct http_client *c;
    bool dead;
};

static void get_cleanup(void *arg)
{
    struct slo_get *g = arg;
    g->dead = true;
    if (g->mbuf)
        evbuffer_free(g->mbuf);
    g->mbuf = NULL;
    http_client_free(g->c);
    g->c = NULL;
}

static bool skip_manifest_header(const char *n)
{
    return strcasecmp(n, "Content-Length") == 0 ||
           strcasecmp(n, "ETag") == 0 || strcasecmp(n, "Content-Range") == 0 ||
           strcasecmp(n, "Content-Type") == 0 ||
           strcasecmp(n, "Connection") == 0 ||
           strcasecmp(n, "Transfer-Encoding") == 0 ||
           strcasecmp(n, "Date") == 0 || strcasecmp(n, "X-Trans-Id") == 0 ||
           strcasecmp(n, "X-Openstack-Request-Id") == 0 ||
           strcasecmp(n, "X-Timestamp") == 0 ||
           strncasecmp(n, "X-Backend-", 10) == 0 ||
           strncasecmp(n, "X-Object-Sysmeta-", 17) == 0 ||
           strncasecmp(n, "X-Object-Transient-Sysmeta-", 27) == 0;
}

/* The Content-Type without Swift's swift_bytes parameter. */
static const char *clean_ctype(struct pool *pool, const char *ct)
{
    if (!ct)
        return "application/octet-stream";
    const char *sb = strstr(ct, ";swift_bytes=");
    if (!sb)
        return ct;
    return pool_strndup(pool, ct, (size_t)(sb - ct));
}

static void send_head(struct slo_get *g, int status, int64_t length)
{
    struct px_req *pr = g->pr;
    for (size_t i = 0; i < g->manifest.n; i++)
        if (!skip_manifest_header(g->manifest.v[i].name))
            http_resp_header(pr->req, g->manifest.v[i].name, g->manifest.v[i].value);
    const char *me = px_hdrs_get(&g->manifest, "ETag");
    if (me)
        http_resp_header(pr->req, "X-Manifest-Etag", unquote_etag(pr->pool, me));
    http_resp_header(pr->req, "Content-Type", g->ctype);
    http_resp_headerf(pr->req, "ETag", "\"%s\"", g->etag);
    if (g->content_range)
        http_resp_header(pr->req, "Content-Range", g->content_range);
    px_resp_common(pr);
    g->started = true;
    http_resp_start(pr->req, status, length);
}

/* Gives up: before the response started the client gets status (Swift's
 * page; why only goes to the log, as it names segments), after it a cut
 * response. */
static void get_fail(struct slo_get *g, int status, const char *why)
{
    struct px_req *pr = g->pr;
    if (g->dead || pr->done)
        return;
    g->dead = true;
    log_warn("SLO %s: %s", http_req_target(pr->req), why);
    if (g->c) {
        http_client_free(g->c);
        g->c = NULL;
    }
    if (g->started)
        http_resp_abort(pr->req);
    else if (status == 403)
        px_reply_text(pr, 403, "A segment of this manifest is under a mandatory "
                               "storlet rule");
    else
        px_reply(pr, status); /* the details (segment names, ETags) are logged */
}

static void next_piece(struct slo_get *g);

static void out_drain(struct http_req *req, void *arg)
{
    (void)req;
    struct slo_get *g = arg;
    if (g->c)
        http_client_resume(g->c);
}

static const struct http_req_ops out_ops = {
    .drain = out_drain,
};

/* The first bytes are known good: start the response. */
static void begin(struct slo_get *g)
{
    if (g->started)
        return;
    send_head(g, g->status, g->length);
    http_req_set_ops(g->pr->req, &out_ops, g);
    /* literal text before the first span (a multipart part head) */
    for (size_t i = 0; i < g->cur; i++)
        if (g->plan[i].text)
            http_resp_write(g->pr->req, g->plan[i].text, g->plan[i].text_len);
}

static void seg_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    struct slo_get *g = arg;
    const struct slo_seg *s = &g->segs[g->seg];
    char why[512];
    if (h->status != 200 && h->status != 206) {
        snprintf(why, sizeof(why), "segment %s: %d", s->name, h->status);
        get_fail(g, 409, why);
        return;
    }
    if (http_head_get(h, "X-Storlet-Rules-Applied")) {
        snprintf(why, sizeof(why), "the segment %s is under a mandatory storlet rule",
                 s->name);
        get_fail(g, 403, why);
        return;
    }
    int64_t len = px_head_length(h);
    const char *et = unquote_etag(g->pr->pool, http_head_get(h, "ETag"));
    if (len < 0 || (uint64_t)len != g->want || (s->hash[0] && (!et || strcmp(et, s->hash) != 0))) {
        snprintf(why, sizeof(why), "segment %s changed (%lld bytes, ETag %s; expected %llu, %s)",
                 s->name, (long long)len, et ? et : "none", (unsigned long long)g->want,
                 s->hash);
        get_fail(g, 409, why);
        return;
    }
    begin(g);
}

static void seg_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    struct slo_get *g = arg;
    if (g->dead || g->pr->done) {
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    size_t n = evbuffer_get_length(b);
    if (g->got + n > g->want) {
        get_fail(g, 409, "a segment sent more bytes than announced");
        return;
    }
    struct http_req *req = g->pr->req;
    if (http_resp_wants_more(req)) {
        g->got += n;
        http_resp_add_buffer(req, b);
    }
    if (!http_resp_wants_more(req) || evbuffer_get_length(b))
        http_client_pause(c);
}

static void seg_done(struct http_client *c, int err, void *arg)
{
    struct slo_get *g = arg;
    g->c = NULL;
    http_client_free(c);
    if (g->dead || g->pr->done)
        return;
    if (err < 0 || g->got != g->want) {
        char why[512];
        snprintf(why, sizeof(why), "segment %s ended after %llu of %llu bytes",
                 g->segs[g->seg].name, (unsigned long long)g->got,
                 (unsigned long long)g->want);
        get_fail(g, 409, why);
        return;
    }
    g->pos += g->want;
    next_piece(g);
}

static const struct http_client_ops seg_ops = {
    .response = seg_response,
    .body = seg_body,
    .done = seg_done,
};

/* Starts the read of the next piece of the current span. Returns true
 * when it was served at once (inline data) and the caller goes on. */
static bool read_span(struct slo_get *g)
{
    const struct slo_piece *pc = &g->plan[g->cur];
    if (g->pos < g->seg_off) {
        g->seg = 0;
        g->seg_off = 0;
    }
    while (g->seg < g->nsegs && g->seg_off + g->segs[g->seg].len <= g->pos) {
        g->seg_off += g->segs[g->seg].len;
        g->seg++;
    }
    if (g->seg >= g->nsegs) {
        get_fail(g, 500, "the manifest is shorter than its length");
        return false;
    }
    const struct slo_seg *s = &g->segs[g->seg];
    uint64_t seg_end = g->seg_off + s->len;
    uint64_t end = pc->end < seg_end ? pc->end : seg_end;
    uint64_t a = s->first + (g->pos - g->seg_off);
    g->want = end - g->pos;
    g->got = 0;
    if (s->data) {
        /* inline bytes, held with the manifest already */
        begin(g);
        http_resp_write(g->pr->req, s->data + a, (size_t)g->want);
        g->pos += g->want;
        return true;
    }
    char range[64];
    snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)a,
             (unsigned long long)(a + g->want - 1));
    g->c = loop_start(g->pr, "GET", s->name, NULL, range, g->depth + 1, &seg_ops, g);
    if (!g->c)
        get_fail(g, 503, "cannot reach this proxy for a segment");
    return false;
}

static void next_piece(struct slo_get *g)
{
    struct px_req *pr = g->pr;
    while (!g->dead && !pr->done && g->cur < g->nplan) {
        struct slo_piece *pc = &g->plan[g->cur];
        if (pc->text) {
            if (g->started)
                http_resp_write(pr->req, pc->text, pc->text_len);
            g->cur++;
            continue;
        }
        if (g->pos < pc->start)
            g->pos = pc->start;
        if (g->pos >= pc->end) {
            g->cur++;
            continue;
        }
        if (read_span(g))
            continue;
        return;
    }
    if (g->dead || pr->done)
        return;
    if (!g->started)
        send_head(g, g->status, g->length);
    http_resp_end(pr->req);
}

static void respond(struct slo_get *g)
{
    struct px_req *pr = g->pr;
    g->ctype = clean_ctype(pr->pool, px_hdrs_get(&g->manifest, "Content-Type"));
    struct preconds_req cq = {
        .if_match = http_req_header(pr->req, "If-Match"),
        .if_none_match = http_req_header(pr->req, "If-None-Match"),
        .if_modified_since = http_req_header(pr->req, "If-Modified-Since"),
        .if_unmodified_since = http_req_header(pr->req, "If-Unmodified-Since"),
    };
    int64_t lm = 0;
    const char *lmh = px_hdrs_get(&g->manifest, "Last-Modified");
    if (!lmh || ts_parse_http_date(lmh, &lm) != 0)
        lm = 0;
    struct preconds_obj co = {.exists = true, .etag = g->etag, .last_modified = lm};
    int pc = preconds_eval_read(&cq, &co);
    if (pc) {
        send_head(g, pc, 0);
        http_resp_end(pr->req);
        return;
    }
    bool head = http_req_method(pr->req) == HTTP_M_HEAD;
    if (head) {
        send_head(g, 200, (int64_t)g->total);
        http_resp_end(pr->req);
        return;
    }
    struct range_set rs;
    enum range_outcome ro = range_resolve(http_req_header(pr->req, "Range"), g->total, &rs);
    if (ro == RANGE_UNSATISFIABLE) {
        char cr[64];
        range_content_range_unsatisfied(cr, sizeof(cr), g->total);
        http_resp_header(pr->req, "Content-Range", cr);
        px_reply(pr, 416);
        return;
    }
    g->plan = pool_calloc(pr->pool, (3 * RANGE_MAX_RANGES + 2) * sizeof(*g->plan));
    g->status = 200;
    if (ro == RANGE_WHOLE) {
        g->plan[g->nplan++] = (struct slo_piece){NULL, 0, 0, g->total};
        g->length = (int64_t)g->total;
    } else if (rs.n == 1) {
        g->status = 206;
        char *cr = pool_alloc(pr->pool, 96);
        range_content_range(cr, 96, &rs.r[0], g->total);
        g->content_range = cr;
        g->plan[g->nplan++] = (struct slo_piece){NULL, 0, rs.r[0].start, rs.r[0].end};
        g->length = (int64_t)(rs.r[0].end - rs.r[0].start);
    } else {
        g->status = 206;
        char boundary[RANGE_BOUNDARY_LEN + 1];
        char *ct = pool_alloc(pr->pool, 128);
        range_boundary_new(boundary);
        range_multipart_content_type(ct, 128, boundary);
        g->length = (int64_t)range_multipart_length(&rs, boundary, g->ctype, g->total);
        for (size_t i = 0; i < rs.n; i++) {
            size_t hl = range_part_header(NULL, 0, boundary, g->ctype, &rs.r[i], g->total);
            char *h = pool_alloc(pr->pool, hl + 1);
            range_part_header(h, hl + 1, boundary, g->ctype, &rs.r[i], g->total);
            g->plan[g->nplan++] = (struct slo_piece){h, hl, 0, 0};
            g->plan[g->nplan++] = (struct slo_piece){NULL, 0, rs.r[i].start, rs.r[i].end};
            g->plan[g->nplan++] = (struct slo_piece){RANGE_PART_TRAILER, 2, 0, 0};
        }
        size_t el = range_multipart_end(NULL, 0, boundary);
        char *e = pool_alloc(pr->pool, el + 1);
        range_multipart_end(e, el + 1, boundary);
        g->plan[g->nplan++] = (struct slo_piece){e, el, 0, 0};
        g->ctype = ct; /* the parts name the object's type */
    }
    next_piece(g);
}

/* The manifest in the form a client PUTs it (Swift's format=raw): path,
 * etag, size_bytes and range, keys sorted. */
static void respond_raw(struct slo_get *g, const char *text, size_t len)
{
    struct px_req *pr = g->pr;
    json_error_t je;
    json_t *arr = json_loadb(text, len, 0, &je);
    json_t *out = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it) {
        if (json_object_get(it, "data")) {
            json_array_append(out, it);
            continue;
        }
        json_t *o = json_object();
        json_object_set(o, "etag", json_object_get(it, "hash"));
        json_object_set(o, "path", json_object_get(it, "name"));
        if (json_object_get(it, "range"))
            json_object_set(o, "range", json_object_get(it, "range"));
        json_object_set(o, "size_bytes", json_object_get(it, "bytes"));
        json_array_append_new(out, o);
    }
    json_decref(arr);
    char *s = json_dumps(out, JSON_ENSURE_ASCII | JSON_SORT_KEYS);
    json_decref(out);
    size_t sl = strlen(s);
    struct md5 m;
    md5_init(&m);
    md5_update(&m, s, sl);
    md5_final_hex(&m, g->etag);
    for (size_t k = 0; k < g->manifest.n; k++)
        if (!skip_manifest_header(g->manifest.v[k].name))
            http_resp_header(pr->req, g->manifest.v[k].name, g->manifest.v[k].value);
    http_resp_header(pr->req, "Content-Type", g->ctype);
    http_resp_header(pr->req, "ETag", g->etag);
    px_resp_common(pr);
    http_resp_simple(pr->req, 200, NULL, s, sl);
    free(s);
}

static bool man_usable(int status, const struct http_head *h, void *arg)
{
    (void)h;
    (void)arg;
    return status == 200;
}

static void man_response(struct px_req *pr, struct px_read *rd, const struct http_head *h,
                         void *arg)
{
    (void)rd;
    struct slo_get *g = arg;
    /* the answer of this read is the manifest described (a newer one may
     * have replaced the one first seen) */
    px_hdrs_copy(pr->pool, h, &g->manifest);
    g->mbuf = evbuffer_new();
}

static void man_body(struct px_req *pr, struct px_read *rd, struct evbuffer *b, void *arg)
{
    (void)rd;
    struct slo_get *g = arg;
    size_t max = 2 * (size_t)pr->srv->conf.max_manifest_size;
    if (g->too_big || evbuffer_get_length(g->mbuf) + evbuffer_get_length(b) > max) {
        g->too_big = true;
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    evbuffer_add_buffer(g->mbuf, b);
}

static void man_end(struct px_req *pr, int err, void *arg)
{
    struct slo_get *g = arg;
    if (pr->done || g->dead)
        return;
    if (err < 0 || g->too_big || !g->mbuf) {
        px_reply(pr, 503);
        return;
    }
    size_t len = evbuffer_get_length(g->mbuf);
    const char *text = (const char *)evbuffer_pullup(g->mbuf, -1);
    if (!px_slo_true(px_hdrs_get(&g->manifest, "X-Static-Large-Object"))) {
        /* replaced by a plain object since the first answer */
        px_reply(pr, 503);
        return;
    }
    if (parse_manifest(pr->pool, text ? text : "", len, &g->segs, &g->nsegs, &g->total,
                       g->etag) < 0) {
        log_err("SLO %s: the manifest is not a valid segment list", http_req_target(pr->req));
        px_reply_text(pr, 500, "Unable to load SLO manifest");
        return;
    }
    g->ctype = clean_ctype(pr->pool, px_hdrs_get(&g->manifest, "Content-Type"));
    if (g->raw) {
        respond_raw(g, text ? text : "", len);
        return;
    }
    evbuffer_free(g->mbuf);
    g->mbuf = NULL;
    respond(g);
}

static void man_failed(struct px_req *pr, int status, const struct px_hdrs *hdrs, void *arg)
{
    (void)hdrs;
    (void)arg;
    px_reply(pr, status == 404 ? 404 : 503);
}

static const struct px_read_ops man_ops = {
    .usable = man_usable,
    .response = man_response,
    .body = man_body,
    .failed = man_failed,
    .end = man_end,
};

bool px_slo_start(struct px_req *pr, const struct http_head *h)
{
    if (!px_slo_true(http_head_get(h, "X-Static-Large-Object")))
        return false;
    bool raw = false;
    if (px_slo_query_has(pr, "multipart-manifest=get")) {
        if (!px_slo_query_has(pr, "format=raw"))
            return false;
        raw = true;
    }
    struct slo_get *g = pool_calloc(pr->pool, sizeof(*g));
    g->raw = raw;
    g->pr = pr;
    pool_cleanup_add(pr->pool, get_cleanup, g);
    g->depth = req_depth(pr);
    if (g->depth >= PX_SLO_MAX_DEPTH) {
        px_reply_text(pr, 409, "Max recursion depth exceeded on GET");
        return true;
    }
    pr->ctl = g;
    /* A HEAD needs no segment list: the PUT stored the length and the
     * ETag as sysmeta (Swift's HEAD answers from them too). */
    const char *se = http_head_get(h, "X-Object-Sysmeta-Slo-Etag");
    const char *ss = http_head_get(h, "X-Object-Sysmeta-Slo-Size");
    if (!raw && h->status == 200 && http_req_method(pr->req) == HTTP_M_HEAD && se &&
        strlen(se) == MD5_HEX_LEN - 1 && ss && parse_u64(ss, &g->total) == 0) {
        px_hdrs_copy(pr->pool, h, &g->manifest);
        str_copy(g->etag, se, sizeof(g->etag));
        respond(g);
        return true;
    }
    px_nodes_get(pr, PX_RING_OBJECT, pr->path.account, pr->path.container, pr->path.object,
                 6, &g->mnodes);
    px_read_start(pr, "GET", &g->mnodes, pr->path.account, pr->path.container,
                  pr->path.object, NULL, &man_ops, g);
    return true;
}

/* ------------------------------------------------------------ PUT */

struct slo_head {
    const char *path;          /* as the client gave it */
    struct slo_put *sp;
    struct http_client *c;
    int status;
    int64_t length;
    const char *etag, *ctype, *last_modified;
    bool slo, done;
};

struct slo_ent {
    const char *path;          /* NULL for inline data */
    const unsigned char *data; /* inline data (data_len bytes) */
    size_t data_len;
    const char *etag;          /* NULL: not checked */
    int64_t size;              /* < 0: not checked */
    bool has_range;
    bool suffix;               /* "-N" */
    bool open_end;             /* "M-" */
    uint64_t r1, r2;
    struct slo_head *head;
};

struct slo_put {
    struct px_req *pr;
    struct px_put *p;
    struct evbuffer *body;
    bool too_big, dead;
    struct slo_ent *ents;
    size_t nents;
    struct slo_head *heads;
    size_t nheads, next_head, inflight;
};

static void put_cleanup(void *arg)
{
    struct slo_put *sp = arg;
    sp->dead = true;
    if (sp->body)
        evbuffer_free(sp->body);
    sp->body = NULL;
    for (size_t i = 0; i < sp->nheads; i++) {
        http_client_free(sp->heads[i].c);
        sp->heads[i].c = NULL;
    }
}

static void reply_400_text(struct px_req *pr, const char *text)
{
    px_resp_common(pr);
    http_resp_simple(pr->req, 400, "text/plain", text, strlen(text));
}

/* Appends "Index %zu: what\n" to an evbuffer of problems. */
static void problem(struct evbuffer *e, size_t i, const char *what)
{
    evbuffer_add_printf(e, "Index %zu: %s\n", i, what);
}

/* One "M-N", "M-" or "-N" of a client range, spaces already removed. */
static int parse_one_range(const char *s, size_t len, struct slo_ent *e)
{
    const char *dash = memchr(s, '-', len);
    if (!dash)
        return -EINVAL;
    char a[32], b[32];
    size_t la = (size_t)(dash - s), lb = len - la - 1;
    if (la >= sizeof(a) || lb >= sizeof(b) || (!la && !lb))
        return -EINVAL;
    memcpy(a, s, la);
    a[la] = '\0';
    memcpy(b, dash + 1, lb);
    b[lb] = '\0';
    if (la && parse_u64(a, &e->r1) != 0)
        return -EINVAL;
    for (size_t i = 0; i < lb; i++)
        if (b[i] < '0' || b[i] > '9')
            return -EINVAL;
    if (lb && parse_u64(b, &e->r2) != 0)
        return -EINVAL;
    if (la && lb && e->r2 < e->r1)
        return -EINVAL;
    e->suffix = !la;
    e->open_end = !lb;
    return 0;
}

/* A segment's "range" as swob reads "bytes=<range>": spaces dropped,
 * every comma-separated part valid. Returns 0, -EINVAL (not a range) or
 * -E2BIG (several). */
static int parse_client_range(const char *s, struct slo_ent *e)
{
    char buf[256];
    size_t n = 0;
    for (; *s; s++) {
        if (*s == ' ')
            continue;
        if (n + 1 >= sizeof(buf))
            return -EINVAL;
        buf[n++] = *s;
    }
    buf[n] = '\0';
    size_t parts = 0;
    struct slo_ent first = *e, tmp = *e;
    for (const char *p = buf;; ) {
        size_t l = strcspn(p, ",");
        if (parse_one_range(p, l, parts ? &tmp : &first) < 0)
            return -EINVAL;
        parts++;
        if (!p[l])
            break;
        p += l + 1;
    }
    if (parts > 1)
        return -E2BIG;
    *e = first;
    e->has_range = true;
    return 0;
}

/* An integer as Python's int() reads a string: surrounding white space
 * and a sign allowed. */
static int parse_int_text(const char *s, int64_t *out)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    char buf[32];
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (!n || n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s[0] == '+' ? s + 1 : s, s[0] == '+' ? n - 1 : n);
    buf[s[0] == '+' ? n - 1 : n] = '\0';
    return parse_i64(buf, out);
}

/* The range's bytes of an object of len bytes, half-open; false when it
 * is not satisfiable. */
static bool range_for_length(const struct slo_ent *e, uint64_t len, uint64_t *a, uint64_t *b)
{
    if (e->suffix) {
        if (e->r2 == 0 || len == 0)
            return false;
        *a = e->r2 >= len ? 0 : len - e->r2;
        *b = len;
        return true;
    }
    if (e->r1 >= len)
        return false;
    *a = e->r1;
    *b = e->open_end || e->r2 + 1 > len ? len : e->r2 + 1;
    return true;
}

static void put_validate(struct slo_put *sp);

static void head_start_next(struct slo_put *sp);

static void head_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    struct slo_head *hd = arg;
    struct pool *pool = hd->sp->pr->pool;
    hd->status = h->status;
    hd->length = px_head_length(h);
    const char *v = http_head_get(h, "ETag");
    hd->etag = v ? unquote_etag(pool, pool_strdup(pool, v)) : "";
    v = http_head_get(h, "Content-Type");
    hd->ctype = pool_strdup(pool, v ? v : "application/octet-stream");
    v = http_head_get(h, "Last-Modified");
    hd->last_modified = v ? pool_strdup(pool, v) : NULL;
    hd->slo = px_slo_true(http_head_get(h, "X-Static-Large-Object"));
}

static void head_done(struct http_client *c, int err, void *arg)
{
    struct slo_head *hd = arg;
    struct slo_put *sp = hd->sp;
    hd->c = NULL;
    http_client_free(c);
    if (sp->dead || sp->pr->done)
        return;
    if (err < 0 || !hd->status)
        hd->status = 503;
    hd->done = true;
    sp->inflight--;
    head_start_next(sp);
}

static const struct http_client_ops head_ops = {
    .response = head_response,
    .done = head_done,
};

static void head_start_next(struct slo_put *sp)
{
    while (sp->next_head < sp->nheads && sp->inflight < SLO_PUT_CONCURRENCY) {
        struct slo_head *hd = &sp->heads[sp->next_head++];
        hd->sp = sp;
        const char *p = hd->path;
        while (*p == '/')
            p++;
        hd->c = loop_start(sp->pr, "HEAD", p, NULL, NULL, 0, &head_ops, hd);
        if (!hd->c) {
            hd->status = 503;
            hd->done = true;
            continue;
        }
        sp->inflight++;
    }
    if (sp->inflight == 0 && sp->next_head == sp->nheads)
        put_validate(sp);
}

/* "Sat, 21 Nov 2026 13:00:00 GMT" -> "2026-11-21T13:00:00.000000". */
static const char *iso_time(struct pool *pool, const char *http_date)
{
    int64_t secs = 0;
    if (!http_date || ts_parse_http_date(http_date, &secs) != 0)
        secs = (int64_t)time(NULL);
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    char *out = pool_alloc(pool, 40);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%S.000000", &tm);
    return out;
}

/* Swift's accept.best_match over text/plain, JSON and XML. */
static const char *out_format(struct px_req *pr)
{
    const char *acc = http_req_header(pr->req, "Accept");
    if (acc && strstr(acc, "application/json"))
        return "application/json";
    if (acc && strstr(acc, "application/xml"))
        return "application/xml";
    if (acc && strstr(acc, "text/xml"))
        return "text/xml";
    return "text/plain";
}

static void xml_escape(struct evbuffer *e, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            evbuffer_add(e, "&lt;", 4);
        else if (*s == '>')
            evbuffer_add(e, "&gt;", 4);
        else if (*s == '&')
            evbuffer_add(e, "&amp;", 5);
        else
            evbuffer_add(e, s, 1);
    }
}

/* Swift's bulk response body: sorted "key: value" lines, then the errors
 * ([quoted name, status] pairs), in the format asked for. keys/vals may
 * be empty (n = 0). vals that are numbers are given as text. */
static void bulk_body(struct evbuffer *e, const char *fmt, const char *root,
                      const char *const *keys, const char *const *vals, const bool *num,
                      size_t n, json_t *errors)
{
    if (strcmp(fmt, "application/json") == 0) {
        json_t *o = json_object();
        for (size_t i = 0; i < n; i++)
            json_object_set_new(o, keys[i],
                                num[i] ? json_integer(strtoll(vals[i], NULL, 10))
                                       : json_string(vals[i]));
        json_object_set(o, "Errors", errors);
        char *s = json_dumps(o, JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
        evbuffer_add(e, s, strlen(s));
        free(s);
        json_decref(o);
        return;
    }
    bool xml = strstr(fmt, "/xml") != NULL;
    if (xml)
        evbuffer_add_printf(e, "<%s>\n", root);
    for (size_t i = 0; i < n; i++) {
        if (xml) {
            char tag[64];
            size_t k = 0;
            for (const char *c = keys[i]; *c && k + 1 < sizeof(tag); c++)
                tag[k++] = *c == ' ' ? '_' : (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
            tag[k] = '\0';
            evbuffer_add_printf(e, "<%s>", tag);
            xml_escape(e, vals[i]);
            evbuffer_add_printf(e, "</%s>\n", tag);
        } else {
            evbuffer_add_printf(e, "%s: %s\n", keys[i], vals[i]);
        }
    }
    evbuffer_add_printf(e, xml ? "<errors>\n" : "Errors:\n");
    size_t i;
    json_t *pair;
    json_array_foreach(errors, i, pair) {
        const char *a = json_string_value(json_array_get(pair, 0));
        const char *b = json_string_value(json_array_get(pair, 1));
        if (xml) {
            evbuffer_add_printf(e, "<object><name>");
            xml_escape(e, a ? a : "");
            evbuffer_add_printf(e, "</name><status>");
            xml_escape(e, b ? b : "");
            evbuffer_add_printf(e, "</status></object>\n");
        } else {
            evbuffer_add_printf(e, "%s, %s\n", a ? a : "", b ? b : "");
        }
    }
    if (xml)
        evbuffer_add_printf(e, "</errors>\n</%s>\n", root);
}

static void add_problem(struct px_req *pr, json_t *probs, const char *path, const char *why)
{
    size_t l = strlen(path);
    char *q = pool_alloc(pr->pool, 3 * l + 1);
    q[names_quote(path, l, "/", q)] = '\0';
    json_array_append_new(probs, json_pack("[ss]", q, why));
}

static void put_validate(struct slo_put *sp)
{
    struct px_req *pr = sp->pr;
    json_t *probs = json_array();
    json_t *out = json_array();
    struct md5 m;
    md5_init(&m);
    uint64_t total = 0;
    for (size_t i = 0; i < sp->nents; i++) {
        struct slo_ent *e = &sp->ents[i];
        struct slo_head *hd = e->head;
        if (e->data) {
            json_t *o = json_object();
            json_object_set_new(o, "data",
                                json_string(b64_encode(pr->pool, e->data, e->data_len)));
            json_array_append_new(out, o);
            struct md5 dm;
            char dh[MD5_HEX_LEN];
            md5_init(&dm);
            md5_update(&dm, e->data, e->data_len);
            md5_final_hex(&dm, dh);
            md5_update(&m, dh, strlen(dh));
            total += e->data_len;
            continue;
        }
        if (hd->status < 200 || hd->status >= 300) {
            char st[64];
            snprintf(st, sizeof(st), "%d %s", hd->status, http_status_reason(hd->status));
            add_problem(pr, probs, e->path, st);
            continue;
        }
        uint64_t clen = hd->length < 0 ? 0 : (uint64_t)hd->length;
        uint64_t seglen = clen;
        char range[64] = "";
        if (e->has_range) {
            uint64_t a, b;
            if (!range_for_length(e, clen, &a, &b)) {
                add_problem(pr, probs, e->path, "Unsatisfiable Range");
            } else if (!(a == 0 && b == clen)) {
                snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)a,
                         (unsigned long long)(b - 1));
                seglen = b - a;
            }
        }
        if (seglen < 1 && i != sp->nents - 1)
            add_problem(pr, probs, e->path, "Too small; each segment must be at least 1 byte.");
        if (e->size >= 0 && (uint64_t)e->size != clen)
            add_problem(pr, probs, e->path, "Size Mismatch");
        if (e->etag && strcmp(e->etag, hd->etag) != 0)
            add_problem(pr, probs, e->path, "Etag Mismatch");
        const char *p = e->path;
        while (*p == '/')
            p++;
        size_t nl = strlen(p) + 2;
        char *name = pool_alloc(pr->pool, nl);
        snprintf(name, nl, "/%s", p);
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(name));
        json_object_set_new(o, "bytes", json_integer((json_int_t)clen));
        json_object_set_new(o, "hash", json_string(hd->etag));
        json_object_set_new(o, "content_type", json_string(hd->ctype));
        json_object_set_new(o, "last_modified",
                            json_string(iso_time(pr->pool, hd->last_modified)));
        if (range[0])
            json_object_set_new(o, "range", json_string(range));
        if (hd->slo)
            json_object_set_new(o, "sub_slo", json_true());
        json_array_append_new(out, o);
        if (range[0]) {
            md5_update(&m, hd->etag, strlen(hd->etag));
            md5_update(&m, ":", 1);
            md5_update(&m, range, strlen(range));
            md5_update(&m, ";", 1);
        } else {
            md5_update(&m, hd->etag, strlen(hd->etag));
        }
        total += seglen;
    }
    if (json_array_size(probs)) {
        const char *fmt = out_format(pr);
        struct evbuffer *e = evbuffer_new();
        bulk_body(e, fmt, "upload", NULL, NULL, NULL, 0, probs);
        size_t len = evbuffer_get_length(e);
        px_resp_common(pr);
        http_resp_simple(pr->req, 400, fmt, evbuffer_pullup(e, -1), len);
        evbuffer_free(e);
        json_decref(probs);
        json_decref(out);
        return;
    }
    json_decref(probs);
    char etag[MD5_HEX_LEN];
    md5_final_hex(&m, etag);
    const char *ce = unquote_etag(pr->pool, http_req_header(pr->req, "ETag"));
    if (ce && ce[0] && strcmp(ce, etag) != 0) {
        json_decref(out);
        px_reply(pr, 422);
        return;
    }
    char *text = json_dumps(out, JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    json_decref(out);
    size_t tl = strlen(text);
    if (tl > 2 * (size_t)pr->srv->conf.max_manifest_size) {
        free(text);
        char msg[96];
        snprintf(msg, sizeof(msg), "Stored manifest would be > %lld bytes",
                 2 * (long long)pr->srv->conf.max_manifest_size);
        px_reply_text(pr, 413, msg);
        return;
    }
    struct md5 mm;
    char metag[MD5_HEX_LEN];
    md5_init(&mm);
    md5_update(&mm, text, tl);
    md5_final_hex(&mm, metag);
    struct evbuffer *body = evbuffer_new();
    evbuffer_add(body, text, tl);
    free(text);
    char size[32], ctp[48];
    snprintf(size, sizeof(size), "%llu", (unsigned long long)total);
    snprintf(ctp, sizeof(ctp), ";swift_bytes=%llu", (unsigned long long)total);
    struct pool *pl = pr->pool;
    struct px_hdr extra[] = {
        {pool_strdup(pl, "X-Static-Large-Object"), pool_strdup(pl, "True")},
        {pool_strdup(pl, "X-Object-Sysmeta-Slo-Etag"), pool_strdup(pl, etag)},
        {pool_strdup(pl, "X-Object-Sysmeta-Slo-Size"), pool_strdup(pl, size)},
        {pool_strdup(pl, "ETag"), pool_strdup(pl, metag)},
    };
    char quoted[MD5_HEX_LEN + 2];
    snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
    px_put_store(sp->p, body, extra, ARRAY_SIZE(extra), ctp,
                 pool_strdup(pr->pool, quoted));
}

/* "Index i: extraneous keys "a", "b"" with the names sorted. */
static void extraneous(struct px_req *pr, struct evbuffer *errs, size_t i, json_t *extra)
{
    size_t ne = json_array_size(extra);
    const char **ks = pool_alloc(pr->pool, (ne + 1) * sizeof(*ks));
    for (size_t j = 0; j < ne; j++)
        ks[j] = json_string_value(json_array_get(extra, j));
    for (size_t a = 1; a < ne; a++)
        for (size_t b = a; b > 0 && strcmp(ks[b - 1], ks[b]) > 0; b--) {
            const char *t = ks[b];
            ks[b] = ks[b - 1];
            ks[b - 1] = t;
        }
    evbuffer_add_printf(errs, "Index %zu: extraneous keys ", i);
    for (size_t j = 0; j < ne; j++) {
        json_t *js = json_string(ks[j]);
        char *d = json_dumps(js, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
        evbuffer_add_printf(errs, "%s%s", j ? ", " : "", d);
        free(d);
        json_decref(js);
    }
    evbuffer_add(errs, "\n", 1);
}

/* Parses and checks the client's list (Swift's parse_and_validate_input),
 * then HEADs every distinct segment path. */
static void put_parse(struct slo_put *sp)
{
    struct px_req *pr = sp->pr;
    size_t len = evbuffer_get_length(sp->body);
    const char *text = (const char *)evbuffer_pullup(sp->body, -1);
    json_error_t je;
    json_t *arr = json_loadb(text ? text : "", len, 0, &je);
    if (!arr) {
        reply_400_text(pr, "Manifest must be valid JSON.\n");
        return;
    }
    if (!json_is_array(arr)) {
        json_decref(arr);
        reply_400_text(pr, "Manifest must be a list.\n");
        return;
    }
    size_t n = json_array_size(arr);
    sp->ents = pool_calloc(pr->pool, (n + 1) * sizeof(*sp->ents));
    sp->nents = n;
    struct evbuffer *errs = evbuffer_new();
    size_t ndata = 0;
    char self[2048];
    snprintf(self, sizeof(self), "%s/%s", pr->path.container, pr->path.object);
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(arr, i);
        struct slo_ent *e = &sp->ents[i];
        e->size = -1;
        if (!json_is_object(it)) {
            problem(errs, i, "not a JSON object");
            continue;
        }
        if (json_object_get(it, "data")) {
            bool only = json_object_size(it) == 1;
            if (!only) {
                json_t *extra = json_array();
                const char *k;
                json_t *v;
                json_object_foreach(it, k, v) {
                    if (strcmp(k, "data"))
                        json_array_append_new(extra, json_string(k));
                }
                extraneous(pr, errs, i, extra);
                json_decref(extra);
                continue;
            }
            const char *b64 = json_string_value(json_object_get(it, "data"));
            unsigned char *buf = b64 ? pool_alloc(pr->pool, strlen(b64) * 3 / 4 + 3) : NULL;
            ssize_t dl = b64 ? b64_decode(b64, buf) : -1;
            if (dl < 0) {
                problem(errs, i, "data must be valid base64");
                continue;
            }
            if (dl < 1) {
                problem(errs, i, "too small; each segment must be at least 1 byte.");
                continue;
            }
            e->data = buf;
            e->data_len = (size_t)dl;
            ndata++;
            continue;
        }
        if (!json_object_get(it, "path")) {
            problem(errs, i, "expected keys to include one of 'data' or 'path'");
            continue;
        }
        /* extraneous keys, sorted as Swift lists them */
        const char *k;
        json_t *v;
        json_t *extra = json_array();
        json_object_foreach(it, k, v) {
            if (strcmp(k, "path") && strcmp(k, "etag") && strcmp(k, "size_bytes") &&
                strcmp(k, "range"))
                json_array_append_new(extra, json_string(k));
        }
        if (json_array_size(extra)) {
            extraneous(pr, errs, i, extra);
            json_decref(extra);
            continue;
        }
        json_decref(extra);
        json_t *jp = json_object_get(it, "path");
        if (!json_is_string(jp)) {
            problem(errs, i, "\"path\" must be a string");
            continue;
        }
        json_t *je2 = json_object_get(it, "etag");
        if (je2 && !json_is_null(je2) && !json_is_string(je2)) {
            problem(errs, i, "\"etag\" must be a string or null (if provided)");
            continue;
        }
        const char *path = json_string_value(jp);
        /* /container/object: a slash inside once the ends are stripped */
        size_t pl = strlen(path), s0 = 0, s1 = pl;
        while (s0 < pl && path[s0] == '/')
            s0++;
        while (s1 > s0 && path[s1 - 1] == '/')
            s1--;
        if (!memchr(path + s0, '/', s1 - s0) || memchr(path, '\0', pl)) {
            problem(errs, i, "path does not refer to an object. Path must be of the form "
                             "/container/object.");
            continue;
        }
        json_t *js = json_object_get(it, "size_bytes");
        if (js && !json_is_null(js)) {
            int64_t sz;
            if (json_is_integer(js))
                sz = (int64_t)json_integer_value(js);
            else if (json_is_real(js) && json_real_value(js) > -9e18 &&
                     json_real_value(js) < 9e18)
                sz = (int64_t)json_real_value(js); /* int() truncates */
            else if (json_is_string(js) && parse_int_text(json_string_value(js), &sz) == 0)
                ;
            else {
                problem(errs, i, "invalid size_bytes");
                continue;
            }
            if (sz < 1 && i != n - 1) {
                problem(errs, i, "too small; each segment must be at least 1 byte.");
                continue;
            }
            e->size = sz < 0 ? 0 : sz;
            if (sz < 0)
                e->size = INT64_MAX; /* never equal to a length: Size Mismatch */
        }
        const char *rel = path;
        while (*rel == '/')
            rel++;
        if (strcmp(rel, self) == 0) {
            problem(errs, i, "manifest must not include itself as a segment");
            continue;
        }
        const char *rg = json_string_value(json_object_get(it, "range"));
        if (rg && rg[0]) {
            int rc = parse_client_range(rg, e);
            if (rc == -E2BIG) {
                problem(errs, i, "multiple ranges (only one allowed)");
                continue;
            }
            if (rc < 0) {
                problem(errs, i, "invalid range");
                continue;
            }
            uint64_t a, b;
            if (e->size >= 0 && e->size != INT64_MAX &&
                !range_for_length(e, (uint64_t)e->size, &a, &b)) {
                problem(errs, i, "unsatisfiable range");
                continue;
            }
        }
        e->path = pool_strdup(pr->pool, path);
        e->etag = json_is_string(je2) ? pool_strdup(pr->pool, json_string_value(je2)) : NULL;
    }
    json_decref(arr);
    if (n && ndata == n)
        evbuffer_add_printf(errs, "Inline data segments require at least one "
                                  "object-backed segment.\n");
    if (evbuffer_get_length(errs)) {
        evbuffer_add(errs, "", 1);
        reply_400_text(pr, (const char *)evbuffer_pullup(errs, -1));
        evbuffer_free(errs);
        return;
    }
    evbuffer_free(errs);
    if (n - ndata > (size_t)pr->srv->conf.max_manifest_segments) {
        char msg[128];
        snprintf(msg, sizeof(msg), "Number of object-backed segments must be <= %lld",
                 (long long)pr->srv->conf.max_manifest_segments);
        px_reply_text(pr, 413, msg);
        return;
    }
    /* one HEAD per distinct path */
    sp->heads = pool_calloc(pr->pool, (n + 1) * sizeof(*sp->heads));
    for (size_t i = 0; i < n; i++) {
        struct slo_ent *e = &sp->ents[i];
        if (e->data)
            continue;
        for (size_t j = 0; j < sp->nheads && !e->head; j++)
            if (strcmp(sp->heads[j].path, e->path) == 0)
                e->head = &sp->heads[j];
        if (!e->head) {
            e->head = &sp->heads[sp->nheads++];
            e->head->path = e->path;
        }
    }
    head_start_next(sp);
}

static void put_body(struct http_req *req, struct evbuffer *b, void *arg)
{
    (void)req;
    struct slo_put *sp = arg;
    size_t max = (size_t)sp->pr->srv->conf.max_manifest_size;
    if (sp->too_big || evbuffer_get_length(sp->body) + evbuffer_get_length(b) > max) {
        evbuffer_drain(b, evbuffer_get_length(b));
        if (!sp->too_big) {
            sp->too_big = true;
            char msg[64];
            snprintf(msg, sizeof(msg), "Manifest File > %zu bytes", max);
            px_reply_text(sp->pr, 413, msg);
        }
        return;
    }
    evbuffer_add_buffer(sp->body, b);
}

static void put_body_end(struct http_req *req, void *arg)
{
    (void)req;
    struct slo_put *sp = arg;
    if (sp->too_big || sp->pr->done)
        return;
    put_parse(sp);
}

static const struct http_req_ops put_ops = {
    .body = put_body,
    .body_end = put_body_end,
};

void px_slo_put(struct px_req *pr, struct px_put *p)
{
    enum http_body_kind bk = http_req_body_kind(pr->req);
    const struct http_head *h = http_req_head(pr->req);
    if (bk == HTTP_BODY_NONE && !http_head_get(h, "Content-Length")) {
        px_reply(pr, 411);
        return;
    }
    int64_t max = pr->srv->conf.max_manifest_size;
    if (bk == HTTP_BODY_LENGTH && (int64_t)h->content_length > max) {
        char msg[64];
        snprintf(msg, sizeof(msg), "Manifest File > %lld bytes", (long long)max);
        px_reply_text(pr, 413, msg);
        return;
    }
    struct slo_put *sp = pool_calloc(pr->pool, sizeof(*sp));
    sp->pr = pr;
    sp->p = p;
    sp->body = evbuffer_new();
    pool_cleanup_add(pr->pool, put_cleanup, sp);
    http_req_set_ops(pr->req, &put_ops, sp);
}

/* ------------------------------------------------------------ DELETE */

/*
 * The work list holds names to delete in order; a manifest is first read
 * (expand), which appends its segments and then itself, as Swift's
 * get_segments_to_delete_iter does. Plain deletes run DEL_CONCURRENCY at
 * once; reading a manifest and deleting one (after its segments) wait
 * until nothing else runs, so a manifest never outlives its segments'
 * deletes by being faster.
 */
#define DEL_CONCURRENCY 4

struct del_item {
    const char *name;   /* "/c/o" */
    bool expand;        /* a manifest whose segments go first */
    bool manifest;      /* a manifest, deleted after its segments */
    int err_code;       /* reading it as a manifest failed */
    const char *err_msg;
};

struct slo_del;

struct del_slot {
    struct slo_del *d;
    struct http_client *c;
    size_t item;
    int status;
    bool is_slo;
};

struct slo_del {
    struct px_req *pr;
    struct del_item *items;
    size_t n, cap, cur;
    struct del_slot slots[DEL_CONCURRENCY];
    size_t inflight;
    bool exclusive;            /* a manifest read or delete is running */
    struct evbuffer *mbuf;     /* the manifest being read */
    bool too_big, dead, finished;
    unsigned deleted, not_found;
    json_t *errors;
    int resp_status;           /* 400, 401 or 502 once something failed */
    const char *resp_body;
};

static void del_cleanup(void *arg)
{
    struct slo_del *d = arg;
    d->dead = true;
    for (size_t i = 0; i < DEL_CONCURRENCY; i++) {
        http_client_free(d->slots[i].c);
        d->slots[i].c = NULL;
    }
    if (d->mbuf)
        evbuffer_free(d->mbuf);
    d->mbuf = NULL;
    json_decref(d->errors);
    d->errors = NULL;
}

static void del_push(struct slo_del *d, const char *name, bool expand)
{
    if (d->n == d->cap) {
        size_t nc = d->cap ? 2 * d->cap : 16;
        struct del_item *v = pool_alloc(d->pr->pool, nc * sizeof(*v));
        if (d->n)
            memcpy(v, d->items, d->n * sizeof(*v));
        d->items = v;
        d->cap = nc;
    }
    d->items[d->n++] = (struct del_item){name, expand, false, 0, NULL};
}

static void del_next(struct slo_del *d);

static void del_finish(struct slo_del *d)
{
    struct px_req *pr = d->pr;
    if (d->finished)
        return;
    d->finished = true;
    char status[64];
    int st = d->resp_status;
    if (!st && !d->deleted && !d->not_found) {
        st = 400;
        d->resp_body = "Invalid bulk delete.";
    }
    if (!st)
        st = 200;
    snprintf(status, sizeof(status), "%d %s", st, http_status_reason(st));
    char nd[24], nf[24];
    snprintf(nd, sizeof(nd), "%u", d->deleted);
    snprintf(nf, sizeof(nf), "%u", d->not_found);
    const char *keys[] = {"Number Deleted", "Number Not Found", "Response Body",
                          "Response Status"};
    const char *vals[] = {nd, nf, d->resp_body ? d->resp_body : "", status};
    const bool num[] = {true, true, false, false};
    const char *acc = http_req_header(pr->req, "Accept");
    const char *fmt = acc ? out_format(pr) : "text/plain";
    struct evbuffer *e = evbuffer_new();
    bulk_body(e, fmt, "delete", keys, vals, num, 4, d->errors);
    size_t len = evbuffer_get_length(e);
    px_resp_common(pr);
    http_resp_simple(pr->req, 200, fmt, evbuffer_pullup(e, -1), len);
    evbuffer_free(e);
}

static void del_fail_item(struct slo_del *d, const char *name, const char *why, int code)
{
    add_problem(d->pr, d->errors, name, why);
    if (code == 401)
        d->resp_status = 401;
    else if (code >= 500 && d->resp_status != 401)
        d->resp_status = 502;
    else if (!d->resp_status)
        d->resp_status = 400;
}

static void del_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    struct del_slot *sl = arg;
    struct slo_del *d = sl->d;
    sl->status = h->status;
    sl->is_slo = px_slo_true(http_head_get(h, "X-Static-Large-Object"));
    if (d->items[sl->item].expand) {
        if (d->mbuf)
            evbuffer_free(d->mbuf);
        d->mbuf = evbuffer_new();
        d->too_big = false;
    }
}

static void del_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    (void)c;
    struct del_slot *sl = arg;
    struct slo_del *d = sl->d;
    size_t max = 2 * (size_t)d->pr->srv->conf.max_manifest_size;
    if (!d->items[sl->item].expand || !d->mbuf || d->too_big ||
        evbuffer_get_length(d->mbuf) + evbuffer_get_length(b) > max) {
        if (d->items[sl->item].expand)
            d->too_big = true;
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    evbuffer_add_buffer(d->mbuf, b);
}

/* The manifest of item it was read: queue its segments, then itself. */
static void del_expanded(struct slo_del *d, struct del_slot *sl, int err)
{
    struct del_item it = d->items[sl->item];
    it.expand = false;
    it.manifest = true;
    if (err < 0 || !sl->status) {
        it.err_code = 503;
        it.err_msg = "Unable to load SLO manifest or segment.";
    } else if (sl->status == 404) {
        it.err_code = 404;
    } else if (sl->status == 401) {
        it.err_code = 401;
        it.err_msg = "401 Unauthorized";
    } else if (sl->status < 200 || sl->status >= 300) {
        it.err_code = 500;
        it.err_msg = "Unable to load SLO manifest or segment.";
    } else if (!sl->is_slo) {
        it.err_code = 400;
        it.err_msg = "Not an SLO manifest";
    } else {
        struct slo_seg *segs;
        size_t n;
        uint64_t total;
        char etag[MD5_HEX_LEN];
        size_t len = d->mbuf ? evbuffer_get_length(d->mbuf) : 0;
        const char *text = len ? (const char *)evbuffer_pullup(d->mbuf, -1) : "";
        if (d->too_big || parse_manifest(d->pr->pool, text, len, &segs, &n, &total, etag) < 0) {
            it.err_code = 500;
            it.err_msg = "Unable to load SLO manifest";
        } else if (d->n - d->cur + n > 10 * (size_t)d->pr->srv->conf.max_manifest_segments) {
            d->resp_status = 400;
            d->resp_body = "Too many buffered slo segments to delete.";
            d->cur = d->n; /* stop: report what was done */
            return;
        } else {
            for (size_t i = 0; i < n; i++)
                if (segs[i].name)   /* not inline data */
                    del_push(d, segs[i].name, segs[i].sub);
        }
    }
    if (d->mbuf) {
        evbuffer_free(d->mbuf);
        d->mbuf = NULL;
    }
    del_push(d, it.name, false);
    struct del_item *last = &d->items[d->n - 1];
    last->manifest = true;
    last->err_code = it.err_code;
    last->err_msg = it.err_msg;
}

static void del_done(struct http_client *c, int err, void *arg)
{
    struct del_slot *sl = arg;
    struct slo_del *d = sl->d;
    sl->c = NULL;
    http_client_free(c);
    if (d->dead || d->pr->done)
        return;
    d->inflight--;
    const struct del_item *it = &d->items[sl->item];
    if (it->expand || it->manifest)
        d->exclusive = false;
    if (it->expand) {
        del_expanded(d, sl, err);
    } else {
        int st = err < 0 || !sl->status ? 503 : sl->status;
        if (st >= 200 && st < 300) {
            d->deleted++;
        } else if (st == 404) {
            d->not_found++;
        } else {
            char s[64];
            snprintf(s, sizeof(s), "%d %s", st, http_status_reason(st));
            del_fail_item(d, it->name, s, st);
        }
    }
    del_next(d);
}

static const struct http_client_ops del_ops = {
    .response = del_response,
    .body = del_body,
    .done = del_done,
};

static void del_next(struct slo_del *d)
{
    while (d->cur < d->n && !d->exclusive) {
        struct del_item *it = &d->items[d->cur];
        if (it->err_code == 404) {
            d->not_found++;
            d->cur++;
            continue;
        }
        if (it->err_code) {
            del_fail_item(d, it->name, it->err_msg, it->err_code);
            d->cur++;
            continue;
        }
        if (json_array_size(d->errors) >= 1000) {
            d->resp_status = 400;
            d->resp_body = "Max delete failures exceeded";
            d->cur = d->n;
            break;
        }
        bool exclusive = it->expand || it->manifest;
        if ((exclusive && d->inflight) || d->inflight >= DEL_CONCURRENCY)
            return;   /* a slot's end calls again */
        struct del_slot *sl = NULL;
        for (size_t i = 0; i < DEL_CONCURRENCY && !sl; i++)
            if (!d->slots[i].c)
                sl = &d->slots[i];
        *sl = (struct del_slot){.d = d, .item = d->cur};
        d->cur++;
        sl->c = loop_start(d->pr, it->expand ? "GET" : "DELETE", it->name,
                           it->expand ? "multipart-manifest=get" : NULL, NULL, 0, &del_ops, sl);
        if (!sl->c) {
            del_fail_item(d, it->name, "503 Service Unavailable", 503);
            continue;
        }
        d->inflight++;
        d->exclusive = exclusive;
    }
    if (d->cur >= d->n && !d->inflight)
        del_finish(d);
}

void px_slo_delete(struct px_req *pr)
{
    struct slo_del *d = pool_calloc(pr->pool, sizeof(*d));
    d->pr = pr;
    d->errors = json_array();
    pool_cleanup_add(pr->pool, del_cleanup, d);
    pr->ctl = d;
    size_t n = strlen(pr->path.container) + strlen(pr->path.object) + 3;
    char *name = pool_alloc(pr->pool, n);
    snprintf(name, n, "/%s/%s", pr->path.container, pr->path.object);
    del_push(d, name, true);
    del_next(d);
}

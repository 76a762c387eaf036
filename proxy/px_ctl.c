/*
 * px_ctl.c - request dispatch, authorization, and the account, container
 * and object controllers except object PUT/COPY (px_put.c); see px_ctl.h.
 *
 * Authorization follows tempauth's delay-denial: a request an owner may
 * make goes on at once; otherwise, for container reads and object
 * requests, the container's ACLs are fetched first (px_cinfo_get, cached
 * per worker) and the decision made with them. Denials are 401 without a
 * valid token and 403 with one.
 */
#define LOG_COMPONENT "proxy"
#include "proxy/px_storlet.h"
#include "proxy/px_ctl.h"
#include "proxy/px_cap.h"

#include <errno.h>
#include <event2/buffer.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/bug.h"
#include "common/http.h"
#include "common/log.h"
#include "common/names.h"
#include "common/pool.h"
#include "common/timestamp.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng_rules.h"
#include "proxy/px_acl.h"
#include "proxy/px_auth.h"
#include "proxy/px_ctl_int.h"
#include "proxy/px_dist.h"
#include "proxy/px_dlo.h"
#include "proxy/px_slo.h"
#include "proxy/px_quorum.h"
#include "proxy/px_rules.h"
#include "engine/eng.h"

#define CINFO_TTL_MS 10000
#define CINFO_MAX 4096

/* ------------------------------------------------------------ info cache */

struct cinfo_entry {
    char *key;        /* "a/c" */
    uint64_t expires; /* px_now_ms */
    char *read_acl, *write_acl, *rules;
};

/* One cache per process, shared by the workers, so that an ACL change made
 * through one worker applies at once on the others. The lock is held only
 * for a linear lookup and a few string copies. */
struct px_cinfo_cache {
    pthread_mutex_t lock;
    uint64_t gen;     /* counts forgets: an answer to a HEAD sent before
                       * one may hold what the change replaced */
    size_t n;
    struct cinfo_entry v[CINFO_MAX];
};

struct px_cinfo_cache *px_cinfo_new(void)
{
    struct px_cinfo_cache *c = xcalloc(1, sizeof(struct px_cinfo_cache));
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void centry_clear(struct cinfo_entry *e)
{
    free(e->key);
    free(e->read_acl);
    free(e->write_acl);
    free(e->rules);
    memset(e, 0, sizeof(*e));
}

void px_cinfo_free(struct px_cinfo_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        centry_clear(&c->v[i]);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static struct cinfo_entry *cinfo_find(struct px_cinfo_cache *c, const char *a,
                                      const char *cont)
{
    size_t la = strlen(a);
    for (size_t i = 0; i < c->n; i++) {
        const char *k = c->v[i].key;
        if (strncmp(k, a, la) == 0 && k[la] == '/' && strcmp(k + la + 1, cont) == 0)
            return &c->v[i];
    }
    return NULL;
}

static void forget_locked(struct px_cinfo_cache *cc, const char *a,
                          const char *c)
{
    struct cinfo_entry *e = cinfo_find(cc, a, c);
    if (!e)
        return;
    centry_clear(e);
    *e = cc->v[--cc->n];
    memset(&cc->v[cc->n], 0, sizeof(*e));
}

void px_cinfo_forget(struct px_worker *w, const char *a, const char *c)
{
    pthread_mutex_lock(&w->cinfo->lock);
    w->cinfo->gen++;
    forget_locked(w->cinfo, a, c);
    pthread_mutex_unlock(&w->cinfo->lock);
}

/* Caches what a HEAD sent at sent_ms (px_now_ms), in generation gen,
 * said. It lives CINFO_TTL_MS from the sending, not the answer, so a
 * proxy holds nothing older than that whatever the network's delays
 * (the bound of docs/rules.md's note on caches). */
static void cinfo_store(struct px_worker *w, const char *a, const char *c,
                        const struct px_cinfo *ci, uint64_t sent_ms, uint64_t gen)
{
    struct px_cinfo_cache *cc = w->cinfo;
    pthread_mutex_lock(&cc->lock);
    if (gen != cc->gen) {
        pthread_mutex_unlock(&cc->lock);
        return;
    }
    forget_locked(cc, a, c);
    uint64_t now = px_now_ms();
    if (cc->n == CINFO_MAX) {
        /* Full: drop expired entries, else the oldest slot. */
        for (size_t i = 0; i < cc->n;) {
            if (cc->v[i].expires <= now) {
                centry_clear(&cc->v[i]);
                cc->v[i] = cc->v[--cc->n];
                memset(&cc->v[cc->n], 0, sizeof(cc->v[0]));
            } else {
                i++;
            }
        }
        if (cc->n == CINFO_MAX)
            centry_clear(&cc->v[--cc->n]);
    }
    struct cinfo_entry *e = &cc->v[cc->n++];
    e->key = xasprintf("%s/%s", a, c);
    e->expires = sent_ms + CINFO_TTL_MS;
    e->read_acl = xstrdup(ci->read_acl);
    e->write_acl = xstrdup(ci->write_acl);
    e->rules = xstrdup(ci->rules ? ci->rules : "");
    pthread_mutex_unlock(&cc->lock);
}

struct cinfo_req {
    px_cinfo_fn *fn;
    struct px_nodes nodes;
    struct px_cinfo ci;
    uint64_t sent_ms, gen;   /* when the HEAD left, the cache's gen then */
};

static void cinfo_response(struct px_req *pr, struct px_read *rd,
                           const struct http_head *h, void *arg)
{
    (void)rd;
    struct cinfo_req *cr = arg;
    const char *r = http_head_get(h, "X-Container-Read");
    const char *wr = http_head_get(h, "X-Container-Write");
    const char *ru = http_head_get(h, ENG_RULES_CONTAINER_SYSMETA);
    cr->ci.status = h->status;
    cr->ci.rules = pool_strdup(pr->pool, ru ? ru : "");
    cr->ci.read_acl = pool_strdup(pr->pool, r ? r : "");
    cr->ci.write_acl = pool_strdup(pr->pool, wr ? wr : "");
}

static bool cinfo_usable(int status, const struct http_head *h, void *arg)
{
    (void)h;
    (void)arg;
    return status >= 200 && status < 300;
}

static void cinfo_end(struct px_req *pr, int err, void *arg)
{
    struct cinfo_req *cr = arg;
    if (err < 0) {
        cr->ci.status = 503;
    } else {
        cinfo_store(pr->w, pr->path.account, pr->path.container, &cr->ci, cr->sent_ms,
                    cr->gen);
    }
    cr->fn(pr, &cr->ci);
}

static void cinfo_failed(struct px_req *pr, int status,
                         const struct px_hdrs *hdrs, void *arg)
{
    (void)hdrs;
    struct cinfo_req *cr = arg;
    cr->ci.status = status;
    cr->ci.read_acl = "";
    cr->ci.write_acl = "";
    cr->ci.rules = "";
    cr->fn(pr, &cr->ci);
}

static const struct px_read_ops cinfo_ops = {
    .usable = cinfo_usable,
    .response = cinfo_response,
    .failed = cinfo_failed,
    .end = cinfo_end,
};

void px_cinfo_get(struct px_req *pr, px_cinfo_fn *fn)
{
    struct px_cinfo_cache *cc = pr->w->cinfo;
    pthread_mutex_lock(&cc->lock);
    struct cinfo_entry *e = cinfo_find(cc, pr->path.account,
                                       pr->path.container);
    uint64_t now = px_now_ms();
    if (e && e->expires > now) {
        struct px_cinfo ci = {204, pool_strdup(pr->pool, e->read_acl),
                              pool_strdup(pr->pool, e->write_acl),
                              pool_strdup(pr->pool, e->rules)};
        pthread_mutex_unlock(&cc->lock);
        fn(pr, &ci);
        return;
    }
    uint64_t gen = cc->gen;
    pthread_mutex_unlock(&cc->lock);
    struct cinfo_req *cr = pool_calloc(pr->pool, sizeof(*cr));
    cr->fn = fn;
    cr->sent_ms = now;
    cr->gen = gen;
    px_nodes_get(pr, PX_RING_CONTAINER, pr->path.account, pr->path.container,
                 NULL, 3, &cr->nodes);
    px_read_start(pr, "HEAD", &cr->nodes, pr->path.account,
                  pr->path.container, NULL, NULL, &cinfo_ops, cr);
}

/* ------------------------------------------------------------ helpers */

int64_t px_head_length(const struct http_head *h)
{
    if (h->body == HTTP_BODY_CHUNKED || h->body == HTTP_BODY_UNTIL_CLOSE)
        return HTTP_LENGTH_UNKNOWN;
    const char *v = http_head_get(h, "Content-Length");
    uint64_t n;
    if (v && parse_u64(v, &n) == 0)
        return (int64_t)n;
    return h->body == HTTP_BODY_LENGTH ? (int64_t)h->content_length : 0;
}

static bool hdr_prefix(const char *name, const char *prefix)
{
    return strncasecmp(name, prefix, strlen(prefix)) == 0;
}

static bool is_private_header(const char *n)
{
    return strcasecmp(n, "Connection") == 0 ||
           strcasecmp(n, "Content-Length") == 0 ||
           strcasecmp(n, "Transfer-Encoding") == 0 ||
           strcasecmp(n, "Date") == 0 || strcasecmp(n, "Keep-Alive") == 0 ||
           strcasecmp(n, "Server") == 0 || strcasecmp(n, "X-Trans-Id") == 0 ||
           strcasecmp(n, "X-Openstack-Request-Id") == 0 ||
           hdr_prefix(n, "X-Backend-") ||
           hdr_prefix(n, "X-Object-Sysmeta-") ||
           hdr_prefix(n, "X-Container-Sysmeta-") ||
           hdr_prefix(n, "X-Account-Sysmeta-") ||
           hdr_prefix(n, "X-Object-Transient-Sysmeta-");
}

static bool is_owner_header(const char *n)
{
    return strcasecmp(n, "X-Container-Read") == 0 ||
           strcasecmp(n, "X-Container-Write") == 0 ||
           strcasecmp(n, "X-Container-Sync-To") == 0 ||
           strcasecmp(n, "X-Container-Sync-Key") == 0 ||
           hdr_prefix(n, "X-Container-Meta-Temp-Url-Key") ||
           hdr_prefix(n, "X-Account-Meta-Temp-Url-Key") ||
           strcasecmp(n, "X-Account-Access-Control") == 0;
}

#define RULES_ACCT_SYSMETA "X-Account-Sysmeta-Cairn-Storlet-Rules"
#define RULES_CONT_SYSMETA "X-Container-Sysmeta-Cairn-Storlet-Rules"

/* Only a rules manager sees a rule document (docs/rules.md section 1). */
static bool may_manage_rules(const struct px_req *pr)
{
    return eng_rules_may_manage(pr->path.account, pr->groups, pr->ngroups);
}

/* An account read by a rules manager: which containers hold a mandatory
 * rule (their marks, docs/rules.md 4.12), quoted, comma-separated. */
static void rules_marks_header(struct px_req *pr, const struct http_head *h)
{
    if (pr->path.kind != NAMES_ACCOUNT || !may_manage_rules(pr))
        return;
    size_t plen = strlen(PX_RULES_MARK_PREFIX), len = 0;
    for (unsigned i = 0; i < h->nheaders; i++)
        if (strncasecmp(h->headers[i].name, PX_RULES_MARK_PREFIX, plen) == 0)
            len += strlen(h->headers[i].value) + 1;
    if (!len)
        return;
    char *v = pool_alloc(pr->pool, len + 1), *p = v;
    for (unsigned i = 0; i < h->nheaders; i++) {
        const char *m = h->headers[i].value;
        if (strncasecmp(h->headers[i].name, PX_RULES_MARK_PREFIX, plen) != 0 || !m[0])
            continue;
        p += snprintf(p, len + 1 - (size_t)(p - v), "%s%s", p == v ? "" : ",", m);
    }
    if (p != v)
        http_resp_header(pr->req, "X-Storlet-Rules-Mandatory-Containers", v);
}

void px_relay_headers(struct px_req *pr, const struct http_head *h)
{
    rules_marks_header(pr, h);
    for (unsigned i = 0; i < h->nheaders; i++) {
        const char *n = h->headers[i].name;
        if ((strcasecmp(n, RULES_ACCT_SYSMETA) == 0 ||
             strcasecmp(n, RULES_CONT_SYSMETA) == 0) && h->headers[i].value[0] &&
            may_manage_rules(pr))
            http_resp_header(pr->req, "X-Storlet-Rules", h->headers[i].value);
        if (is_private_header(n) || (!pr->owner && is_owner_header(n)))
            continue;
        http_resp_header(pr->req, n, h->headers[i].value);
    }
    px_resp_common(pr);
}

static size_t req_headers(struct px_req *pr, struct names_header **out)
{
    const struct http_head *h = http_req_head(pr->req);
    struct names_header *v = pool_alloc(pr->pool,
                                        (h->nheaders + 1) * sizeof(*v));
    size_t n = 0;
    for (unsigned i = 0; i < h->nheaders; i++) {
        /* provenance is dropped or stored as sysmeta: never user
         * metadata, so it does not count against its limits */
        if (hdr_prefix(h->headers[i].name, PX_PROV_META))
            continue;
        v[n].name = h->headers[i].name;
        v[n].name_len = h->headers[i].name_len;
        v[n].value = h->headers[i].value;
        v[n].value_len = h->headers[i].value_len;
        n++;
    }
    *out = v;
    return n;
}

int px_check_meta(struct px_req *pr, int target)
{
    struct names_header *hv;
    size_t n = req_headers(pr, &hv);
    struct names_verdict v;
    if (names_check_metadata(hv, n, (enum names_target)target,
                             &pr->srv->cluster.constraints, &v) < 0) {
        px_reply_text(pr, v.status, v.body);
        return -1;
    }
    return 0;
}

int px_delete_at(struct px_req *pr, char *out, size_t outsz)
{
    out[0] = '\0';
    const char *after = http_req_header(pr->req, "X-Delete-After");
    const char *at = http_req_header(pr->req, "X-Delete-At");
    int64_t now = (int64_t)time(NULL);
    if (after) {
        int64_t x;
        if (parse_i64(after, &x) < 0) {
            px_reply_text(pr, 400, "Non-integer X-Delete-After");
            return -1;
        }
        if (x < 0) {
            px_reply_text(pr, 400, "X-Delete-After in past");
            return -1;
        }
        snprintf(out, outsz, "%lld", (long long)(now + x));
        return 0;
    }
    if (at) {
        int64_t x;
        if (parse_i64(at, &x) < 0) {
            px_reply_text(pr, 400, "Non-integer X-Delete-At");
            return -1;
        }
        if (x < now) {
            px_reply_text(pr, 400, "X-Delete-At in past");
            return -1;
        }
        snprintf(out, outsz, "%lld", (long long)x);
    }
    return 0;
}

static bool is_allowed_obj_header(const char *n)
{
    static const char *const allowed[] = {
        "Content-Disposition", "Content-Encoding", "X-Object-Manifest",
        "Cache-Control", "Content-Language", "Expires", "X-Robots-Tag",
    };
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strcasecmp(n, allowed[i]) == 0)
            return true;
    /* provenance is never a client's to write (px_ctl_int.h) */
    return hdr_prefix(n, "X-Object-Meta-") && !hdr_prefix(n, PX_PROV_META);
}

void px_obj_forward_headers(struct px_req *pr, struct http_client *c)
{
    const struct http_head *h = http_req_head(pr->req);
    for (unsigned i = 0; i < h->nheaders; i++)
        if (is_allowed_obj_header(h->headers[i].name))
            http_client_header(c, h->headers[i].name, h->headers[i].value);
}

/* Account/container metadata to forward: X-<T>-Meta-*, and X-Remove-<T>-*
 * turned into an empty value (which deletes). */
static void forward_meta(struct px_req *pr, struct http_client *c,
                         const char *type)
{
    char meta[64], remove[64];
    snprintf(meta, sizeof(meta), "X-%s-Meta-", type);
    snprintf(remove, sizeof(remove), "X-Remove-%s-", type);
    const struct http_head *h = http_req_head(pr->req);
    for (unsigned i = 0; i < h->nheaders; i++) {
        const char *n = h->headers[i].name;
        if (hdr_prefix(n, meta)) {
            http_client_header(c, n, h->headers[i].value);
        } else if (hdr_prefix(n, remove)) {
            char buf[512];
            snprintf(buf, sizeof(buf), "X-%s-%s", type, n + strlen(remove));
            http_client_header(c, buf, "");
        } else if (strcasecmp(type, "Container") == 0 &&
                   (strcasecmp(n, "X-Container-Sync-To") == 0 ||
                    strcasecmp(n, "X-Container-Sync-Key") == 0)) {
            http_client_header(c, n, h->headers[i].value);
        }
    }
}

static void set_timestamp(struct px_req *pr)
{
    struct ts t = ts_now();
    ts_normal(&t, pr->ts);
}

static void reply_allow(struct px_req *pr, const char *allow)
{
    http_resp_header(pr->req, "Allow", allow);
    px_reply(pr, 405);
}

static void deny(struct px_req *pr)
{
    if (!pr->authenticated) {
        http_resp_headerf(pr->req, "Www-Authenticate", "Swift realm=\"%s\"",
                          pr->path.account);
        px_reply(pr, 401);
    } else {
        px_reply(pr, 403);
    }
}

static enum px_authz authorize(struct px_req *pr, const char *acl)
{
    enum http_method m = http_req_method(pr->req);
    struct px_identity id = {pr->authenticated, pr->groups, pr->ngroups};
    struct px_authz_req r = {
        .account = pr->path.account,
        .has_container = pr->path.container != NULL,
        .has_object = pr->path.object != NULL,
        .method_put_or_delete = m == HTTP_M_PUT || m == HTTP_M_DELETE,
        .method_options = m == HTTP_M_OPTIONS,
        .reseller_prefix = px_auth_reseller_prefix(pr->srv->auth),
        .acl = acl,
        .referer = http_req_header(pr->req, "Referer"),
    };
    return px_acl_authorize(&id, &r);
}

bool px_ctl_may_read(struct px_req *pr, const char *acl)
{
    return pr->owner || authorize(pr, acl) != PX_AUTHZ_DENY;
}

bool px_ctl_may_write(struct px_req *pr, const char *acl)
{
    return pr->owner || authorize(pr, acl) != PX_AUTHZ_DENY;
}

void px_ctl_deny(struct px_req *pr)
{
    deny(pr);
}

/* ------------------------------------------------------------ reads */

/* A GET/HEAD whose backend answer is relayed to the client. */
struct relay {
    struct px_nodes nodes;
    enum names_kind kind;
    const char *ruled;   /* an object HEAD under a mandatory read rule
                          * (docs/rules.md 4.3): the rule ids applied */
    struct evbuffer *listing; /* a listing rewritten for rules (4.10) */
    const char *listing_type; /* the format the client asked for */
    bool listing_on;          /* the answer is a listing being rewritten */
    bool format_forced;       /* the listing's format is in the query only */
    bool facts_sent;          /* X-Backend-Storlet-Facts-Timestamp went */
    bool chain_sent;          /* X-Backend-Storlet-Chain went */
};

static void relay_headers_out(struct px_req *pr, struct http_client *c,
                              void *arg)
{
    struct relay *rl = arg;
    static const char *const pass[] = {
        "Range", "If-Match", "If-None-Match", "If-Modified-Since",
        "If-Unmodified-Since", "X-Newest", "Accept",
    };
    for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
        const char *v = http_req_header(pr->req, pass[i]);
        if (!v)
            continue;
        /* Under a mandatory rule the stored ETag is never an input and
         * the stored bytes are never read by range (docs/rules.md 4.2):
         * If-Match with ETags was answered 412 before, If-None-Match
         * with ETags is ignored, "*" keeps its meaning. */
        if (rl && rl->ruled &&
            (strcasecmp(pass[i], "Range") == 0 ||
             ((strcasecmp(pass[i], "If-Match") == 0 ||
               strcasecmp(pass[i], "If-None-Match") == 0) && strcmp(v, "*") != 0)))
            continue;
        /* A listing under rules is read in the format the proxy chose
         * (json_query), whatever the client asked. */
        if (rl && (rl->listing || rl->format_forced) && strcasecmp(pass[i], "Accept") == 0)
            continue;
        http_client_header(c, pass[i], v);
    }
    /* A Range asks for bytes of the assembled object when the object is a
     * DLO manifest, so the node must answer with the manifest whole (as
     * Swift's dlo middleware asks); with ?multipart-manifest=get the
     * manifest is what is read and the Range is its own. */
    const char *q = http_req_query(pr->req);
    if (rl && rl->kind == NAMES_OBJECT && http_req_header(pr->req, "Range") &&
        !(q && strstr(q, "multipart-manifest=get")))
        http_client_header(c, "X-Backend-Ignore-Range-If-Metadata-Present",
                           "X-Object-Manifest, X-Static-Large-Object");
    if (px_storlet_forward_headers(pr, c) && rl)
        rl->chain_sent = true;
    if (rl && rl->kind == NAMES_OBJECT && px_rules_facts_header(pr, c))
        rl->facts_sent = true;
}

static bool obj_usable(int status, const struct http_head *h, void *arg)
{
    if (px_storlet_usable(h))
        return true;   /* a storlet's answer, whatever its status */
    const struct relay *rl = arg;
    /* the plain object from a node that ignored the chain (storlets off
     * there) is not the storlet's output: try another node */
    if (rl && rl->chain_sent && status >= 200 && status < 300)
        return false;
    /* A 409 to a read insisting on the version whose facts decided the
     * rules (docs/rules.md 4.1): this node has another version (or none);
     * another node may have that one. None: relay_failed decides again. */
    if (status == 409 && rl && rl->facts_sent)
        return false;
    return (status >= 200 && status < 400) || status == 412 || status == 416;
}

static bool has_format_param(struct px_req *pr)
{
    const char *q = http_req_query(pr->req);
    for (const char *f = q ? strstr(q, "format=") : NULL; f;
         f = strstr(f + 1, "format="))
        if (f == q || f[-1] == '&')
            return true;
    return false;
}

/* The listing format a request asks for, as Swift's listing_formats:
 * format= wins, then Accept, then plain. */
static const char *listing_type(struct px_req *pr)
{
    const char *q = http_req_query(pr->req);
    if (q) {
        for (const char *f = strstr(q, "format="); f; f = strstr(f + 1, "format=")) {
            if (f != q && f[-1] != '&')
                continue;
            f += 7;
            size_t n = strcspn(f, "&");
            if (n == 4 && strncasecmp(f, "json", 4) == 0)
                return "application/json; charset=utf-8";
            if (n == 3 && strncasecmp(f, "xml", 3) == 0)
                return "application/xml; charset=utf-8";
            return "text/plain; charset=utf-8";
        }
    }
    const char *acc = http_req_header(pr->req, "Accept");
    if (acc && strstr(acc, "application/json"))
        return "application/json; charset=utf-8";
    if (acc && strstr(acc, "application/xml"))
        return "application/xml; charset=utf-8";
    if (acc && strstr(acc, "text/xml"))
        return "text/xml; charset=utf-8";
    return "text/plain; charset=utf-8";
}

/* Swift's account server adds per-policy totals for each policy holding
 * containers, and `swift stat` prints them ("Containers in policy ...").
 * Cairn has one policy, so its totals are the account's. */
static void add_policy_stats(struct px_req *pr, const struct http_head *h)
{
    static const char *const names[][2] = {
        {"X-Account-Container-Count",
         "X-Account-Storage-Policy-Policy-0-Container-Count"},
        {"X-Account-Object-Count",
         "X-Account-Storage-Policy-Policy-0-Object-Count"},
        {"X-Account-Bytes-Used",
         "X-Account-Storage-Policy-Policy-0-Bytes-Used"},
    };
    const char *cc = http_head_get(h, names[0][0]);
    if (h->status < 200 || h->status >= 300 || !cc || strcmp(cc, "0") == 0)
        return;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        const char *v = http_head_get(h, names[i][0]);
        if (v && !http_head_get(h, names[i][1]))
            http_resp_header(pr->req, names[i][1], v);
    }
}

/* Provenance (px_ctl_int.h): the stored sysmeta is shown under the user
 * metadata name; user metadata of that name (an object stored before
 * provenance was sysmeta) is not shown, since anyone could have set it.
 * Returns true when it dealt with the header. */
static bool relay_provenance(struct px_req *pr, const char *n, const char *v)
{
    if (hdr_prefix(n, PX_PROV_META))
        return true;
    if (!hdr_prefix(n, PX_PROV_SYSMETA))
        return false;
    size_t len = PX_PROV_META_LEN + strlen(n + PX_PROV_SYSMETA_LEN) + 1;
    char *shown = pool_alloc(pr->pool, len);
    snprintf(shown, len, "%s%s", PX_PROV_META, n + PX_PROV_SYSMETA_LEN);
    http_resp_header(pr->req, shown, v);
    return true;
}

/* Headers that tell facts of the stored bytes, which a caller under a
 * mandatory read rule must not learn (docs/rules.md 4.2, 4.3). */
static bool is_raw_fact_header(const char *n)
{
    return strcasecmp(n, "ETag") == 0 || strcasecmp(n, "Content-Range") == 0 ||
           strcasecmp(n, "X-Object-Manifest") == 0 ||
           strcasecmp(n, "X-Static-Large-Object") == 0 ||
           strcasecmp(n, "X-Manifest-Etag") == 0 || hdr_prefix(n, "X-Symlink-") ||
           hdr_prefix(n, "X-Object-Meta-");
}

/* HEAD of an object under a mandatory read rule (docs/rules.md 4.3). */
static void ruled_head_response(struct px_req *pr, const struct http_head *h,
                                const char *applied)
{
    for (unsigned i = 0; i < h->nheaders; i++) {
        const char *n = h->headers[i].name;
        if (is_private_header(n) || (!pr->owner && is_owner_header(n)) ||
            is_raw_fact_header(n))
            continue;
        const char *v = h->headers[i].value;
        const char *sb = strcasecmp(n, "Content-Type") == 0 ? strstr(v, ";swift_bytes=") : NULL;
        if (sb) {
            /* an SLO manifest's type carries the assembled length */
            http_resp_header(pr->req, n, pool_strndup(pr->pool, v, (size_t)(sb - v)));
            continue;
        }
        http_resp_header(pr->req, n, v);
    }
    http_resp_header(pr->req, "X-Storlet-Rules-Applied", applied);
    px_resp_common(pr);
    http_resp_start(pr->req, h->status,
                    h->status == 304 || h->status == 204 ? 0 : HTTP_LENGTH_UNKNOWN);
}

/* A listing under rules (4.10): the backend's JSON is collected (bounded
 * by the listing limit), rewritten and sent in the format asked for. */
#define LISTING_MAX ((size_t)64 << 20)

static void listing_response(struct px_req *pr, const struct http_head *h)
{
    struct relay *rl = pr->ctl;
    for (unsigned i = 0; i < h->nheaders; i++) {
        const char *n = h->headers[i].name;
        if (is_private_header(n) || (!pr->owner && is_owner_header(n)) ||
            strcasecmp(n, "X-Put-Timestamp") == 0 || strcasecmp(n, "Content-Type") == 0)
            continue;
        if ((strcasecmp(n, RULES_ACCT_SYSMETA) == 0 || strcasecmp(n, RULES_CONT_SYSMETA) == 0))
            continue;
        http_resp_header(pr->req, n, h->headers[i].value);
    }
    const char *rules = http_head_get(h, RULES_CONT_SYSMETA);
    if (rules && rules[0] && may_manage_rules(pr))
        http_resp_header(pr->req, "X-Storlet-Rules", rules);
    http_resp_header(pr->req, "Content-Type", rl->listing_type);
    if (!http_head_get(h, "Accept-Ranges"))
        http_resp_header(pr->req, "Accept-Ranges", "bytes");
    if (!http_head_get(h, "Vary") && !has_format_param(pr))
        http_resp_header(pr->req, "Vary", "Accept");
    if (!http_head_get(h, "X-Storage-Policy"))
        http_resp_header(pr->req, "X-Storage-Policy", "Policy-0");
    px_resp_common(pr);
    rl->listing_on = true;
    http_resp_start(pr->req, h->status, HTTP_LENGTH_UNKNOWN);
}

static void listing_body(struct px_req *pr, struct px_read *rd, struct evbuffer *b,
                         void *arg)
{
    struct relay *rl = arg;
    if (!rl->listing_on) {
        http_resp_add_buffer(pr->req, b);   /* an error's body */
        return;
    }
    if (evbuffer_get_length(rl->listing) + evbuffer_get_length(b) > LISTING_MAX) {
        px_read_abort(rd);
        log_err("%s: listing larger than %zu bytes", http_req_target(pr->req), LISTING_MAX);
        http_resp_abort(pr->req);
        return;
    }
    evbuffer_add_buffer(rl->listing, b);
}

static void listing_free(void *arg)
{
    evbuffer_free(arg);
}

static void object_facts_read(struct px_req *pr);

static void relay_response(struct px_req *pr, struct px_read *rd,
                           const struct http_head *h, void *arg)
{
    struct relay *rl = arg;
    /* A storlet chain sent to the node with this read: the node runs none
     * over a manifest, the proxy runs it over the assembled object. */
    if (rl->kind == NAMES_OBJECT && px_storlet_manifest(pr, rd, h))
        return;
    /* A manifest answered 304 or 412 was judged by its own ETag; the
     * assembled object's decides (px_dlo evaluates the conditionals). */
    if (rl->ruled) {
        ruled_head_response(pr, h, rl->ruled);
        return;
    }
    if (rl->listing && h->status >= 200 && h->status < 300 && h->status != 204) {
        listing_response(pr, h);
        return;
    }
    if (rl->kind == NAMES_OBJECT &&
        (h->status == 200 || h->status == 304 || h->status == 412) &&
        (px_dlo_start(pr, h) || px_slo_start(pr, h))) {
        px_read_abort(rd); /* the manifest's own bytes are not wanted */
        return;
    }
    for (unsigned i = 0; i < h->nheaders; i++) {
        const char *n = h->headers[i].name, *v = h->headers[i].value;
        if (rl->kind != NAMES_OBJECT &&
            (strcasecmp(n, RULES_ACCT_SYSMETA) == 0 ||
             strcasecmp(n, RULES_CONT_SYSMETA) == 0) && v[0] && may_manage_rules(pr))
            http_resp_header(pr->req, "X-Storlet-Rules", v);
        if (rl->kind == NAMES_OBJECT && relay_provenance(pr, n, v))
            continue;
        if (is_private_header(n) || (!pr->owner && is_owner_header(n)) ||
            strcasecmp(n, "X-Put-Timestamp") == 0)
            continue;
        if (rl->kind == NAMES_OBJECT && strcasecmp(n, "Content-Type") == 0 &&
            (strstr(v, ";swift_bytes=") ||
             px_slo_true(http_head_get(h, "X-Static-Large-Object")))) {
            /* an SLO manifest read as itself is JSON; its listing size
             * (swift_bytes) is no part of any type */
            http_resp_header(pr->req, n,
                             px_slo_true(http_head_get(h, "X-Static-Large-Object"))
                                 ? "application/json; charset=utf-8"
                                 : pool_strndup(pr->pool, v,
                                                (size_t)(strstr(v, ";swift_bytes=") - v)));
            continue;
        }
        if (rl->kind == NAMES_OBJECT && strcasecmp(n, "ETag") == 0 &&
            v[0] == '"' && h->headers[i].value_len >= 2) {
            char *u = pool_strndup(pr->pool, v + 1, h->headers[i].value_len - 2);
            http_resp_header(pr->req, "ETag", u);
            continue;
        }
        http_resp_header(pr->req, n, v);
    }
    if (rl->kind != NAMES_OBJECT) {
        rules_marks_header(pr, h);
        if (!http_head_get(h, "Content-Type"))
            http_resp_header(pr->req, "Content-Type", listing_type(pr));
        if (!http_head_get(h, "Accept-Ranges"))
            http_resp_header(pr->req, "Accept-Ranges", "bytes");
        if (!http_head_get(h, "Vary") && !has_format_param(pr))
            http_resp_header(pr->req, "Vary", "Accept");
        if (rl->kind == NAMES_ACCOUNT)
            add_policy_stats(pr, h);
        if (rl->kind == NAMES_CONTAINER &&
            !http_head_get(h, "X-Storage-Policy"))
            http_resp_header(pr->req, "X-Storage-Policy", "Policy-0");
        const char *pt = http_head_get(h, "X-Put-Timestamp");
        struct ts t;
        if (rl->kind == NAMES_CONTAINER && pt && !http_head_get(h, "Last-Modified") &&
            ts_parse(pt, &t) == 0) {
            char d[TS_HTTP_DATE_LEN];
            ts_http_date(ts_ceil_seconds(&t), d);
            http_resp_header(pr->req, "Last-Modified", d);
        }
    }
    px_resp_common(pr);
    int64_t len = px_head_length(h);
    if (h->status == 304 || h->status == 204)
        len = 0;
    http_resp_start(pr->req, h->status, len);
}

static void relay_end(struct px_req *pr, int err, void *arg)
{
    struct relay *rl = arg;
    if (pr->done)
        return;
    if (rl && rl->listing_on && err == 0) {
        struct evbuffer *out = evbuffer_new();
        size_t n = evbuffer_get_length(rl->listing);
        const char *json = (const char *)evbuffer_pullup(rl->listing, (ssize_t)n);
        int rc = px_rules_listing(pr, pr->rules, json ? json : "[]", json ? n : 2,
                                  strstr(rl->listing_type, "xml") != NULL, out);
        if (rc < 0) {
            evbuffer_free(out);
            log_err("%s: a container listing that is not JSON", http_req_target(pr->req));
            http_resp_abort(pr->req);
            return;
        }
        http_resp_add_buffer(pr->req, out);
        evbuffer_free(out);
        http_resp_end(pr->req);
        return;
    }
    if (err < 0) {
        /* The node failed mid-body: the client sees a short body and a
         * closed connection, and can retry with a Range. */
        log_warn("%s: source failed mid-body: %s", http_req_target(pr->req),
                 strerror(-err));
        /* chunked: http_resp_end would send the last chunk and make the
         * short body look whole */
        http_resp_abort(pr->req);
        return;
    }
    http_resp_end(pr->req);
}

static const char *listing_type(struct px_req *pr);

/* What Swift answers for an account that does not exist yet when
 * account_autocreate is on: an empty listing with zero counts (HEAD 200,
 * plain GET 204, JSON "[]", XML an empty <account> element). */
static void empty_account(struct px_req *pr)
{
    char ts[TS_NORMAL_LEN];
    struct ts t = ts_now();
    ts_normal(&t, ts);
    const char *type = listing_type(pr);
    http_resp_header(pr->req, "X-Account-Container-Count", "0");
    http_resp_header(pr->req, "X-Account-Object-Count", "0");
    http_resp_header(pr->req, "X-Account-Bytes-Used", "0");
    http_resp_header(pr->req, "X-Timestamp", ts);
    http_resp_header(pr->req, "X-Put-Timestamp", ts);
    if (!has_format_param(pr))
        http_resp_header(pr->req, "Vary", "Accept");
    px_resp_common(pr);
    if (http_req_method(pr->req) == HTTP_M_HEAD) {
        http_resp_simple(pr->req, 200, type, NULL, 0);
    } else if (strstr(type, "json")) {
        http_resp_simple(pr->req, 200, type, "[]", 2);
    } else if (strstr(type, "xml")) {
        const char *a = pr->path.account;
        size_t cap = strlen(a) * 6 + 128, n = 0;
        char *body = pool_alloc(pr->pool, cap);
        n += (size_t)snprintf(body, cap, "<?xml version=\"1.0\" "
                              "encoding=\"UTF-8\"?>\n<account name=\"");
        for (const char *c = a; *c; c++) {
            const char *esc = *c == '&' ? "&amp;" : *c == '<' ? "&lt;"
                            : *c == '>' ? "&gt;" : *c == '"' ? "&quot;" : NULL;
            if (esc)
                n += (size_t)snprintf(body + n, cap - n, "%s", esc);
            else
                body[n++] = *c;
        }
        n += (size_t)snprintf(body + n, cap - n, "\">\n</account>");
        http_resp_simple(pr->req, 200, type, body, n);
    } else {
        http_resp_header(pr->req, "Content-Type", type);
        http_resp_simple(pr->req, 204, NULL, NULL, 0);
    }
}

static void relay_failed(struct px_req *pr, int status,
                         const struct px_hdrs *hdrs, void *arg)
{
    struct relay *rl = arg;
    if (status == 404 && rl->kind == NAMES_ACCOUNT &&
        pr->srv->conf.account_autocreate) {
        empty_account(pr);
        return;
    }
    if (status == 409 && rl->facts_sent && !px_cap_granted(pr, PX_CAP_RULED)) {
        /* no node has the version whose facts decided the rules: the
         * object changed; decide again, once (docs/rules.md 4.1). (The
         * proxy's own read for a chain relays the 409 to the chain,
         * which decides again.) */
        if (!px_ctl_decide_again(pr))
            px_reply_text(pr, 503, PX_RULES_CHANGED_TWICE);
        return;
    }
    if (status == 404 && hdrs && rl->kind == NAMES_OBJECT) {
        /* Keep what Swift shows on a 404 (X-Backend-* stay hidden). */
        (void)hdrs;
    }
    /* A success no node could give in a usable form: the nodes answered
     * the plain object to a storlet chain none of them ran (obj_usable). */
    bool unrun = status >= 200 && status < 300;
    if (unrun)
        status = 503;
    if (http_req_method(pr->req) == HTTP_M_HEAD) {
        px_resp_common(pr);
        http_resp_header(pr->req, "Content-Type", "text/html; charset=UTF-8");
        http_resp_simple(pr->req, status, NULL, NULL, 0);
        return;
    }
    if (unrun) {
        px_reply_text(pr, status, PX_STORLET_UNRUN);
        return;
    }
    px_reply(pr, status);
}


static const struct px_read_ops relay_obj_ops = {
    .headers = relay_headers_out,
    .usable = obj_usable,
    .response = relay_response,
    .failed = relay_failed,
    .end = relay_end,
};

static bool listing_usable(int status, const struct http_head *h, void *arg)
{
    (void)h;
    (void)arg;
    return (status >= 200 && status < 300) || status == 412 ||
           status == 400 || status == 406;
}

static const struct px_read_ops relay_listing_ops = {
    .headers = relay_headers_out,
    .usable = listing_usable,
    .response = relay_response,
    .failed = relay_failed,
    .end = relay_end,
};

static const struct px_read_ops rules_listing_ops = {
    .headers = relay_headers_out,
    .usable = listing_usable,
    .response = relay_response,
    .failed = relay_failed,
    .body = listing_body,
    .end = relay_end,
};

/* ---- X-Newest: ask every primary, read from the newest first */

struct newest {
    struct px_nodes *nodes;
    void (*then)(struct px_req *pr, void *arg);
    void *arg;
};

static void newest_done(struct px_req *pr, struct px_fan_reply *rv, size_t n,
                        void *arg)
{
    struct newest *nw = arg;
    struct ts best = {-1, 0};
    struct px_node *pick = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *v = rv[i].status >= 200 && rv[i].status < 300
                            ? px_hdrs_get(&rv[i].hdrs, "X-Backend-Timestamp")
                            : NULL;
        if (!v && rv[i].status >= 200 && rv[i].status < 300)
            v = px_hdrs_get(&rv[i].hdrs, "X-Timestamp");
        struct ts t;
        if (v && ts_parse(v, &t) == 0 && ts_cmp(&t, &best) > 0) {
            best = t;
            pick = rv[i].node;
        }
    }
    if (pick && pick != &nw->nodes->v[0]) {
        /* Move the newest node to the front; the others keep their order
         * as fallbacks. */
        struct px_node tmp = *pick;
        size_t at = (size_t)(pick - nw->nodes->v);
        memmove(&nw->nodes->v[1], &nw->nodes->v[0], at * sizeof(tmp));
        nw->nodes->v[0] = tmp;
    }
    nw->then(pr, nw->arg);
}

void px_newest_first(struct px_req *pr, struct px_nodes *nodes, const char *a,
                     const char *c, const char *o,
                     void (*then)(struct px_req *pr, void *arg), void *arg)
{
    struct newest *nw = pool_calloc(pr->pool, sizeof(*nw));
    nw->nodes = nodes;
    nw->then = then;
    nw->arg = arg;
    px_fan_start(pr, "HEAD", nodes, nodes->replicas, a, c, o, NULL, NULL, 0,
                 NULL, newest_done, nw);
}

static bool header_true(struct px_req *pr, const char *name)
{
    const char *v = http_req_header(pr->req, name);
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
                 strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 ||
                 strcasecmp(v, "t") == 0 || strcasecmp(v, "y") == 0);
}

struct read_go {
    struct relay *rl;
    const char *q;
    enum px_ring_kind ring;
};

static const struct px_read_ops relay_obj_ops;
static const struct px_read_ops relay_listing_ops;

static void read_go(struct px_req *pr, void *arg)
{
    struct read_go *g = arg;
    const struct names_api_path *p = &pr->path;
    px_read_start(pr, http_req_method_str(pr->req), &g->rl->nodes,
                  p->account, p->container, p->object, g->q,
                  g->ring == PX_RING_OBJECT ? &relay_obj_ops
                  : g->rl->listing          ? &rules_listing_ops
                                            : &relay_listing_ops,
                  g->rl);
}

/* The query of a listing read in format `fmt` ("json" or "plain"): every
 * format= dropped and format=<fmt> appended last. The container server
 * takes the last format= it decodes, so a parameter this scan does not
 * see as one (an encoded name, "%66ormat=") loses to the appended one. */
static const char *json_query(struct px_req *pr, const char *q, const char *fmt)
{
    size_t n = q ? strlen(q) : 0;
    char *out = pool_alloc(pr->pool, n + 16), *o = out;
    for (const char *p = q; p && *p;) {
        size_t k = strcspn(p, "&");
        if (!(k >= 7 && strncmp(p, "format=", 7) == 0)) {
            if (o != out)
                *o++ = '&';
            memcpy(o, p, k);
            o += k;
        }
        p += k;
        if (*p == '&')
            p++;
    }
    snprintf(o, 16, "%sformat=%s", o == out ? "" : "&", fmt);
    return out;
}

static void do_read2(struct px_req *pr, enum px_ring_kind ring, const char *ruled);

static void do_read(struct px_req *pr, enum px_ring_kind ring)
{
    do_read2(pr, ring, NULL);
}

static void do_read2(struct px_req *pr, enum px_ring_kind ring, const char *ruled)
{
    struct relay *rl = pool_calloc(pr->pool, sizeof(*rl));
    rl->kind = pr->path.kind;
    rl->ruled = ruled;
    const struct names_api_path *p = &pr->path;
    px_nodes_get(pr, ring, p->account, p->container, p->object, 3 * 2,
                 &rl->nodes);
    const char *q = http_req_method(pr->req) == HTTP_M_GET
                        ? http_req_query(pr->req) : NULL;
    if (ring == PX_RING_OBJECT)
        q = NULL;
    if (q) {
        struct names_verdict v;
        int64_t limit;
        const char *l = strstr(q, "limit=");
        char lbuf[32] = "";
        if (l && (l == q || l[-1] == '&')) {
            size_t n = strcspn(l + 6, "&");
            if (n < sizeof(lbuf)) {
                memcpy(lbuf, l + 6, n);
                lbuf[n] = '\0';
            }
        }
        int64_t max = ring == PX_RING_ACCOUNT
                          ? pr->srv->cluster.constraints.account_listing_limit
                          : pr->srv->cluster.constraints.container_listing_limit;
        if (names_listing_limit(lbuf[0] ? lbuf : NULL, max, &limit, &v) < 0) {
            px_reply_text(pr, v.status, v.body);
            return;
        }
    }
    const char *lt = ring == PX_RING_CONTAINER ? listing_type(pr) : NULL;
    if (lt && http_req_method(pr->req) == HTTP_M_GET && pr->rules &&
        pr->rules->any_mandatory && !strstr(lt, "text/plain")) {
        /* docs/rules.md 4.10: rows subject to a mandatory read rule lose
         * their hash and size; plain listings hold names only */
        rl->listing = evbuffer_new();
        pool_cleanup_add(pr->pool, listing_free, rl->listing);
        rl->listing_type = lt;
        q = json_query(pr, q, "json");
        pr->ctl = rl;
    } else if (lt && http_req_method(pr->req) == HTTP_M_GET && pr->rules &&
               pr->rules->any_mandatory) {
        /* names only, and only if the container server reads the request
         * as the proxy does: its own reading of format= and Accept
         * (Swift's: last format= wins, Accept by quality) could pick JSON
         * with the stored hashes where listing_type saw plain */
        rl->format_forced = true;
        q = json_query(pr, q, "plain");
    }
    struct read_go *g = pool_calloc(pr->pool, sizeof(*g));
    g->rl = rl;
    g->q = q;
    g->ring = ring;
    if (header_true(pr, "X-Newest"))
        px_newest_first(pr, &rl->nodes, p->account, p->container, p->object,
                        read_go, g);
    else
        read_go(pr, g);
}

/* ------------------------------------------------------------ writes */

struct write {
    struct px_nodes nodes;
    struct px_nodes upd;      /* account nodes (container writes) or
                                 container nodes (object writes) */
    struct px_nodes upd_acct; /* account nodes marked for a mandatory rule */
    const char *method;
    int success;              /* status to answer on a 2xx quorum */
    bool retry_after_create;  /* account POST on a missing account */
    char delete_at[32];
    char *acl_read, *acl_write;
    const char *rules;   /* canonical rule document, "" removes, NULL: keep */
    bool rules_mandatory;     /* ... and it has a mandatory rule */
    int unmark_status;        /* removing the container's mark (4.12),
                               * then answering this; 0: setting it */
    void (*go)(struct px_req *pr, struct write *wr); /* after the rule checks */
};

/*
 * X-Storlet-Rules on an account or container write (docs/rules.md section
 * 1): only a rules manager may send it (403), the document must pass
 * eng_rules_parse (400 naming the rule); its canonical form goes to the
 * backend as sysmeta. Returns 0 or -1 when it answered.
 */
static int rules_checked(struct px_req *pr, struct write *wr)
{
    const char *v = http_req_header(pr->req, "X-Storlet-Rules");
    if (!v)
        return 0;
    if (!may_manage_rules(pr)) {
        px_reply_text(pr, 403, "X-Storlet-Rules: only the account's owner or a "
                               "reseller admin may manage storlet rules");
        return -1;
    }
    if (!v[0]) {
        wr->rules = "";
        return 0;
    }
    struct err e;
    err_clear(&e);
    struct eng_rules *r = eng_rules_parse(v, strlen(v), "X-Storlet-Rules", &e);
    if (!r) {
        px_reply_text(pr, 400, e.msg);
        return -1;
    }
    char *canon = eng_rules_serialize(r);
    wr->rules_mandatory = eng_rules_has_mandatory(r);
    eng_rules_free(r);
    wr->rules = pool_strdup(pr->pool, canon);
    free(canon);
    return 0;
}

static void account_update_headers(struct px_req *pr, struct http_client *c,
                                   size_t i, void *arg)
{
    struct write *wr = arg;
    forward_meta(pr, c, "Container");
    if (wr->rules)
        http_client_header(c, RULES_CONT_SYSMETA, wr->rules);
    if (wr->acl_read)
        http_client_header(c, "X-Container-Read", wr->acl_read);
    if (wr->acl_write)
        http_client_header(c, "X-Container-Write", wr->acl_write);
    if (wr->upd.n) {
        const struct px_node *an = &wr->upd.v[i % wr->upd.n];
        http_client_headerf(c, "X-Account-Host", "%s:%u", an->ip, an->port);
        http_client_headerf(c, "X-Account-Partition", "%u", wr->upd.part);
        http_client_header(c, "X-Account-Device", an->device);
    }
}

static void account_meta_headers(struct px_req *pr, struct http_client *c,
                                 size_t i, void *arg)
{
    (void)i;
    struct write *wr = arg;
    forward_meta(pr, c, "Account");
    if (wr->rules)
        http_client_header(c, RULES_ACCT_SYSMETA, wr->rules);
}

/*
 * The checks of a rule document that need the account (docs/rules.md
 * section 1 and 4.12): a document may be set only in an account enabled
 * for storlets (or one this very request enables); and before a container
 * document with a mandatory rule is stored, the container's mark is set
 * on the account (px_rules.h), so that writes to its storlet and
 * dependency containers need a rules manager from then on. After a
 * document without a mandatory rule replaced it (or removed it), or the
 * container was deleted, the mark is removed (rules_unmark). Both go with
 * the request's X-Timestamp: the newest write decides the document and
 * the mark alike, whatever order concurrent writes land in.
 */
static void rules_mark_done(struct px_req *pr, struct px_fan_reply *rv, size_t n, void *arg)
{
    struct write *wr = arg;
    int st[16];
    size_t k = n < 16 ? n : 16;
    for (size_t i = 0; i < k; i++)
        st[i] = rv[i].status;
    int best = px_best_status(st, k, wr->upd_acct.replicas, false);
    px_rules_forget_account(pr->path.account);
    if (wr->unmark_status) {
        /* the document is stored: a mark left in place only keeps 4.12's
         * restriction, which the next write of the container clears */
        if (best < 200 || best >= 300)
            log_warn("%s/%s: removing the account's mark for a mandatory storlet rule: %d",
                     pr->path.account, pr->path.container, best);
        px_reply(pr, wr->unmark_status);
        return;
    }
    if (best < 200 || best >= 300) {
        log_warn("%s: marking the account for a mandatory storlet rule: %d",
                 pr->path.account, best);
        px_reply(pr, 503);
        return;
    }
    wr->go(pr, wr);
}

static void rules_mark_headers(struct px_req *pr, struct http_client *c, size_t i, void *arg)
{
    (void)i;
    struct write *wr = arg;
    px_rules_mark_header(pr, c, pr->path.container, !wr->unmark_status);
}

static void rules_mark(struct px_req *pr, struct write *wr)
{
    px_nodes_get(pr, PX_RING_ACCOUNT, pr->path.account, NULL, NULL, 3, &wr->upd_acct);
    px_fan_start(pr, "POST", &wr->upd_acct, wr->upd_acct.replicas, pr->path.account, NULL,
                 NULL, NULL, NULL, 0, rules_mark_headers, rules_mark_done, wr);
}

/* After a container write that leaves no mandatory rule in the
 * container: removes its mark, then answers `status`. */
static void rules_unmark(struct px_req *pr, struct write *wr, int status)
{
    wr->unmark_status = status;
    rules_mark(pr, wr);
}

static void unmark_if_marked(struct px_req *pr, const struct px_rules_account *ai, void *arg)
{
    struct write *wr = arg;
    /* not known whether it is marked: removing is harmless */
    if (!ai || px_rules_marked(pr, ai->marks, pr->path.container))
        rules_unmark(pr, wr, wr->unmark_status);
    else
        px_reply(pr, wr->unmark_status);
}

static void rules_enabled_checked(struct px_req *pr, const struct px_rules_account *ai,
                                  void *arg)
{
    struct write *wr = arg;
    if (!ai->enabled &&
        !(pr->path.kind == NAMES_ACCOUNT &&
          eng_account_enabled(http_req_header(pr->req, "X-Account-Meta-Storlet-Enabled")))) {
        px_reply_text(pr, 400, "Account disabled for storlets");
        return;
    }
    if (wr->rules_mandatory && pr->path.kind == NAMES_CONTAINER) {
        rules_mark(pr, wr);
        return;
    }
    wr->go(pr, wr);
}

/* Runs wr->go once the rule document of the request (if it sets one)
 * passed the account checks; answers otherwise. */
static void rules_then_write(struct px_req *pr, struct write *wr)
{
    if (!wr->rules || !wr->rules[0]) {
        wr->go(pr, wr);
        return;
    }
    pr->ctl = wr;
    px_rules_account_info(pr, rules_enabled_checked, wr);
}

void px_container_update_headers(struct px_req *pr, struct http_client *c,
                                 const struct px_nodes *cont, size_t i,
                                 size_t nobj)
{
    (void)pr;
    if (!cont->replicas || !nobj)
        return;
    char hosts[1024] = "", devs[512] = "";
    size_t hl = 0, dl = 0, idx[16];
    size_t k = px_update_targets(cont->replicas, nobj, i, idx, 16);
    for (size_t j = 0; j < k; j++) {
        const struct px_node *cn = &cont->v[idx[j]];
        hl += (size_t)snprintf(hosts + hl, sizeof(hosts) - hl, "%s%s:%u",
                               hl ? "," : "", cn->ip, cn->port);
        dl += (size_t)snprintf(devs + dl, sizeof(devs) - dl, "%s%s",
                               dl ? "," : "", cn->device);
        if (hl >= sizeof(hosts) || dl >= sizeof(devs))
            return;
    }
    if (!hl)
        return;
    http_client_header(c, "X-Container-Host", hosts);
    http_client_headerf(c, "X-Container-Partition", "%u", cont->part);
    http_client_header(c, "X-Container-Device", devs);
}

static void object_write_headers(struct px_req *pr, struct http_client *c,
                                 size_t i, void *arg)
{
    struct write *wr = arg;
    if (strcmp(wr->method, "POST") == 0) {
        px_obj_forward_headers(pr, c);
        const char *ct = http_req_header(pr->req, "Content-Type");
        if (ct)
            http_client_header(c, "Content-Type", ct);
        if (wr->delete_at[0])
            http_client_header(c, "X-Delete-At", wr->delete_at);
    } else {
        px_container_update_headers(pr, c, &wr->upd, i, wr->nodes.replicas);
    }
}

static void write_done(struct px_req *pr, struct px_fan_reply *rv, size_t n,
                       void *arg);

static void start_write(struct px_req *pr, struct write *wr,
                        px_fan_hdr_fn *hdr_fn)
{
    const struct names_api_path *p = &pr->path;
    px_fan_start(pr, wr->method, &wr->nodes, wr->nodes.replicas, p->account,
                 p->container, p->object, NULL, NULL, 0, hdr_fn, write_done,
                 wr);
}

static void account_created(struct px_req *pr, struct px_fan_reply *rv,
                            size_t n, void *arg);

/* Creates the account (autocreate), then continues with `then`. */
struct autocreate {
    struct px_nodes nodes;
    void (*then)(struct px_req *pr, void *arg);
    void *arg;
};

static void account_created(struct px_req *pr, struct px_fan_reply *rv,
                            size_t n, void *arg)
{
    struct autocreate *ac = arg;
    int st[16];
    for (size_t i = 0; i < n && i < 16; i++)
        st[i] = rv[i].status;
    int best = px_best_status(st, n < 16 ? n : 16, ac->nodes.replicas, false);
    if (best < 200 || best >= 300) {
        log_warn("account autocreate of %s failed: %d", pr->path.account, best);
        px_reply(pr, 503);
        return;
    }
    ac->then(pr, ac->arg);
}

static void autocreate_account(struct px_req *pr,
                               void (*then)(struct px_req *, void *), void *arg)
{
    struct autocreate *ac = pool_calloc(pr->pool, sizeof(*ac));
    ac->then = then;
    ac->arg = arg;
    px_nodes_get(pr, PX_RING_ACCOUNT, pr->path.account, NULL, NULL, 3,
                 &ac->nodes);
    px_fan_start(pr, "PUT", &ac->nodes, ac->nodes.replicas, pr->path.account,
                 NULL, NULL, NULL, NULL, 0, NULL, account_created, ac);
}

static void write_again(struct px_req *pr, void *arg)
{
    struct write *wr = arg;
    wr->retry_after_create = false;
    start_write(pr, wr, account_meta_headers);
}

static void write_done(struct px_req *pr, struct px_fan_reply *rv, size_t n,
                       void *arg)
{
    struct write *wr = arg;
    int st[16];
    size_t k = n < 16 ? n : 16;
    for (size_t i = 0; i < k; i++)
        st[i] = rv[i].status;
    bool is_delete = strcmp(wr->method, "DELETE") == 0;
    int best = px_best_status(st, k, wr->nodes.replicas,
                              is_delete && pr->path.kind == NAMES_OBJECT);
    if (best == 404 && wr->retry_after_create) {
        autocreate_account(pr, write_again, wr);
        return;
    }
    if (pr->path.kind == NAMES_CONTAINER)
        px_cinfo_forget(pr->w, pr->path.account, pr->path.container);
    if (pr->path.kind == NAMES_ACCOUNT)
        px_rules_forget_account(pr->path.account);
    bool container_put = pr->path.kind == NAMES_CONTAINER &&
                         strcmp(wr->method, "PUT") == 0;
    bool ok = best >= 200 && best < 300;
    if (ok && wr->success && !container_put)
        best = wr->success;
    if (ok && pr->path.kind == NAMES_CONTAINER && wr->rules && !wr->rules_mandatory) {
        /* no mandatory rule left in the container: its mark goes */
        rules_unmark(pr, wr, best);
        return;
    }
    if (ok && pr->path.kind == NAMES_CONTAINER && is_delete) {
        /* so does a deleted container's (its document went with it) */
        wr->unmark_status = best;
        px_rules_account_info_or_null(pr, unmark_if_marked, wr);
        return;
    }
    px_reply(pr, best);
}

/* ------------------------------------------------------------ account */

static void account_post_go(struct px_req *pr, struct write *wr)
{
    start_write(pr, wr, account_meta_headers);
}

static void do_account(struct px_req *pr)
{
    enum http_method m = http_req_method(pr->req);
    switch (m) {
    case HTTP_M_GET:
    case HTTP_M_HEAD:
        do_read(pr, PX_RING_ACCOUNT);
        return;
    case HTTP_M_POST: {
        if (px_check_meta(pr, NAMES_T_ACCOUNT) < 0)
            return;
        struct write *wr = pool_calloc(pr->pool, sizeof(*wr));
        if (rules_checked(pr, wr) < 0)
            return;
        wr->method = "POST";
        wr->success = 204;
        wr->retry_after_create = pr->srv->conf.account_autocreate;
        set_timestamp(pr);
        px_nodes_get(pr, PX_RING_ACCOUNT, pr->path.account, NULL, NULL, 3,
                     &wr->nodes);
        wr->go = account_post_go;
        rules_then_write(pr, wr);
        return;
    }
    case HTTP_M_PUT:
    case HTTP_M_DELETE: {
        if (!pr->srv->conf.allow_account_management) {
            reply_allow(pr, "GET, OPTIONS, POST, HEAD");
            return;
        }
        if (m == HTTP_M_DELETE && http_req_query(pr->req)) {
            px_reply_text(pr, 400, "Non-empty query string");
            return;
        }
        if (m == HTTP_M_PUT && px_check_meta(pr, NAMES_T_ACCOUNT) < 0)
            return;
        struct write *wr = pool_calloc(pr->pool, sizeof(*wr));
        wr->method = m == HTTP_M_PUT ? "PUT" : "DELETE";
        wr->success = 0;
        set_timestamp(pr);
        px_nodes_get(pr, PX_RING_ACCOUNT, pr->path.account, NULL, NULL, 3,
                     &wr->nodes);
        start_write(pr, wr, account_meta_headers);
        return;
    }
    default:
        reply_allow(pr, "GET, OPTIONS, DELETE, PUT, POST, HEAD");
    }
}

/* ------------------------------------------------------------ container */

static int clean_acls(struct px_req *pr, struct write *wr)
{
    static const char *const names[] = {"X-Container-Read",
                                        "X-Container-Write"};
    for (int i = 0; i < 2; i++) {
        const char *v = http_req_header(pr->req, names[i]);
        char rm[64];
        snprintf(rm, sizeof(rm), "X-Remove-%s", names[i] + 2);
        if (!v && http_req_header(pr->req, rm))
            v = "";
        if (!v)
            continue;
        size_t sz = strlen(v) + 1;
        char *out = pool_alloc(pr->pool, sz);
        char why[512];
        if (px_acl_clean(names[i], v, out, sz, why, sizeof(why)) < 0) {
            px_reply_text(pr, 400, why);
            return -1;
        }
        if (i == 0)
            wr->acl_read = out;
        else
            wr->acl_write = out;
    }
    return 0;
}

static void container_write_go(struct px_req *pr, void *arg)
{
    struct write *wr = arg;
    start_write(pr, wr, account_update_headers);
}

struct ainfo {
    struct px_nodes nodes;
    struct write *wr;
};

static bool ainfo_usable(int status, const struct http_head *h, void *arg)
{
    (void)h;
    (void)arg;
    return status >= 200 && status < 300;
}

static void ainfo_response(struct px_req *pr, struct px_read *rd,
                           const struct http_head *h, void *arg)
{
    (void)pr;
    (void)rd;
    (void)h;
    (void)arg;
}

static void ainfo_end(struct px_req *pr, int err, void *arg)
{
    struct ainfo *ai = arg;
    if (err < 0) {
        px_reply(pr, 503);
        return;
    }
    container_write_go(pr, ai->wr);
}

static void ainfo_failed(struct px_req *pr, int status,
                         const struct px_hdrs *hdrs, void *arg)
{
    (void)hdrs;
    struct ainfo *ai = arg;
    if (status == 404 && pr->srv->conf.account_autocreate) {
        autocreate_account(pr, container_write_go, ai->wr);
        return;
    }
    px_reply(pr, status == 404 ? 404 : 503);
}

static const struct px_read_ops ainfo_ops = {
    .usable = ainfo_usable,
    .response = ainfo_response,
    .failed = ainfo_failed,
    .end = ainfo_end,
};

static void container_put_go(struct px_req *pr, struct write *wr)
{
    struct ainfo *ai = pool_calloc(pr->pool, sizeof(*ai));
    ai->wr = wr;
    px_nodes_get(pr, PX_RING_ACCOUNT, pr->path.account, NULL, NULL, 3, &ai->nodes);
    px_read_start(pr, "HEAD", &ai->nodes, pr->path.account, NULL, NULL, NULL, &ainfo_ops,
                  ai);
}

static void container_write_go2(struct px_req *pr, struct write *wr)
{
    start_write(pr, wr, account_update_headers);
}

static void do_container(struct px_req *pr)
{
    enum http_method m = http_req_method(pr->req);
    const char *cn = pr->path.container;
    struct names_verdict v;
    if ((m == HTTP_M_PUT) &&
        names_check_container_name(cn, strlen(cn),
                                   &pr->srv->cluster.constraints, &v) < 0) {
        px_reply_text(pr, v.status, v.body);
        return;
    }
    switch (m) {
    case HTTP_M_GET:
    case HTTP_M_HEAD:
        do_read(pr, PX_RING_CONTAINER);
        return;
    case HTTP_M_PUT:
    case HTTP_M_POST:
    case HTTP_M_DELETE: {
        struct write *wr = pool_calloc(pr->pool, sizeof(*wr));
        wr->method = m == HTTP_M_PUT ? "PUT" : m == HTTP_M_POST ? "POST"
                                                                : "DELETE";
        wr->success = m == HTTP_M_PUT ? 201 : 204;
        if (m != HTTP_M_DELETE) {
            if (px_check_meta(pr, NAMES_T_CONTAINER) < 0 ||
                rules_checked(pr, wr) < 0 || clean_acls(pr, wr) < 0)
                return;
        }
        const char *pol = http_req_header(pr->req, "X-Storage-Policy");
        if (m == HTTP_M_PUT && pol && strcasecmp(pol, "Policy-0") != 0) {
            /* One storage policy exists (index 0, named Policy-0). */
            char msg[600];
            snprintf(msg, sizeof(msg), "Invalid X-Storage-Policy '%.500s'",
                     pol);
            px_resp_common(pr);
            http_resp_simple(pr->req, 400, "text/plain", msg, strlen(msg));
            return;
        }
        set_timestamp(pr);
        px_nodes_get(pr, PX_RING_CONTAINER, pr->path.account, cn, NULL, 3,
                     &wr->nodes);
        if (m != HTTP_M_POST)
            px_nodes_get(pr, PX_RING_ACCOUNT, pr->path.account, NULL, NULL,
                         0, &wr->upd);
        px_cinfo_forget(pr->w, pr->path.account, cn);
        wr->go = m == HTTP_M_PUT ? container_put_go : container_write_go2;
        rules_then_write(pr, wr);
        return;
    }
    default:
        reply_allow(pr, "GET, OPTIONS, DELETE, PUT, POST, HEAD");
    }
}

/* ------------------------------------------------------------ object */

void px_obj_read(struct px_req *pr)
{
    do_read(pr, PX_RING_OBJECT);
}

static void do_object_authorized(struct px_req *pr)
{
    enum http_method m = http_req_method(pr->req);
    const char *o = pr->path.object;
    if (px_storlet_object(pr))
        return;
    switch (m) {
    case HTTP_M_GET:
    case HTTP_M_HEAD:
        do_read(pr, PX_RING_OBJECT);
        return;
    case HTTP_M_PUT:
        px_obj_put(pr);
        return;
    case HTTP_M_COPY:
        px_obj_copy(pr);
        return;
    case HTTP_M_POST:
    case HTTP_M_DELETE: {
        if (m == HTTP_M_DELETE && px_slo_query_has(pr, "multipart-manifest=delete")) {
            px_slo_delete(pr);
            return;
        }
        struct write *wr = pool_calloc(pr->pool, sizeof(*wr));
        wr->method = m == HTTP_M_POST ? "POST" : "DELETE";
        wr->success = m == HTTP_M_POST ? 202 : 204;
        if (m == HTTP_M_POST) {
            if (px_check_meta(pr, NAMES_T_OBJECT) < 0 ||
                px_delete_at(pr, wr->delete_at, sizeof(wr->delete_at)) < 0)
                return;
            if (http_req_header(pr->req, "X-Static-Large-Object")) {
                px_reply_text(pr, 400, "X-Static-Large-Object is a reserved "
                                       "header");
                return;
            }
        }
        set_timestamp(pr);
        px_nodes_get(pr, PX_RING_OBJECT, pr->path.account, pr->path.container,
                     o, 3, &wr->nodes);
        if (m == HTTP_M_DELETE)
            px_nodes_get(pr, PX_RING_CONTAINER, pr->path.account,
                         pr->path.container, NULL, 0, &wr->upd);
        start_write(pr, wr, object_write_headers);
        return;
    }
    default:
        reply_allow(pr, "GET, OPTIONS, DELETE, PUT, POST, HEAD");
    }
}

/* ---- storlet rules on object requests (docs/rules.md section 4) */

/* Does a conditional header name ETags (anything but "*")? */
static bool names_etags(const char *v)
{
    if (!v)
        return false;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return !(n == 1 && v[0] == '*');
}

static bool query_has(struct px_req *pr, const char *kv)
{
    const char *q = http_req_query(pr->req);
    size_t n = strlen(kv);
    for (const char *f = q ? strstr(q, kv) : NULL; f; f = strstr(f + 1, kv))
        if ((f == q || f[-1] == '&') && (f[n] == '\0' || f[n] == '&'))
            return true;
    return false;
}

/* The container a COPY writes into (its Destination), or NULL. */
static const char *copy_dest_container(struct px_req *pr)
{
    const char *d = http_req_header(pr->req, "Destination");
    if (!d)
        return NULL;
    size_t len = strlen(d);
    char *dec = pool_alloc(pr->pool, len + 1);
    size_t dl = names_unquote(d, len, dec);
    dec[dl] = '\0';
    char *c = dec[0] == '/' ? dec + 1 : dec;
    char *slash = strchr(c, '/');
    if (slash)
        *slash = '\0';
    return c;
}

/* Splits "c/o" or "/c/o" (URL-quoted, as Destination and X-Copy-From
 * carry it) into decoded pool strings. Returns 0 or -1. */
static int split_copy_ref(struct px_req *pr, const char *ref, const char **c,
                          const char **o)
{
    size_t len = strlen(ref);
    char *dec = pool_alloc(pr->pool, len + 1);
    size_t dl = names_unquote(ref, len, dec);
    dec[dl] = '\0';
    char *cs = dec[0] == '/' ? dec + 1 : dec;
    char *slash = strchr(cs, '/');
    if (!slash || slash == cs || !slash[1])
        return -1;
    *slash = '\0';
    *c = cs;
    *o = slash + 1;
    return 0;
}

/* The checks of a GET under a mandatory read rule (docs/rules.md 4.2)
 * that answer before anything runs. Returns true when it answered. */
static bool mandatory_get_refused(struct px_req *pr)
{
    if (query_has(pr, "multipart-manifest=get")) {
        px_reply_text(pr, 403, "The manifest of an object under a mandatory storlet rule "
                               "cannot be read");
        return true;
    }
    if (http_req_header(pr->req, "X-Storlet-Range")) {
        px_reply_text(pr, 400, "X-Storlet-Range cannot be used on an object under a "
                               "mandatory storlet rule; use Range");
        return true;
    }
    if (names_etags(http_req_header(pr->req, "If-Match"))) {
        px_reply(pr, 412);
        return true;
    }
    return false;
}

/* The client's chain (X-Run-Storlet) into *client; returns 1 when there
 * is none, 0, or -1 after answering 400. */
static int client_chain(struct px_req *pr, struct eng_seq *client)
{
    struct err e;
    err_clear(&e);
    eng_seq_init(client);
    int rc = eng_seq_from_head(http_req_head(pr->req), http_req_query(pr->req), client, &e);
    if (rc < 0)
        px_reply_text(pr, 400, e.msg);
    return rc < 0 ? -1 : rc;
}

/* A request whose decision runs a mandatory storlet, on a proxy that
 * runs none: refused, never served or stored as if no rule existed.
 * Returns true when it answered. */
static bool no_engine_refused(struct px_req *pr, const struct eng_rules_decision *d)
{
    if (pr->srv->eng || !d->mandatory || (d->n_pre == 0 && d->n_post == 0))
        return false;
    log_set_txn(pr->txn);
    log_warn("%s %s: a mandatory storlet rule applies (%s) but this proxy runs no storlets",
             http_req_method_str(pr->req), http_req_target(pr->req), d->applied);
    log_set_txn(NULL);
    px_reply_text(pr, 503, "A mandatory storlet rule applies to this object; this proxy "
                           "does not run storlets");
    return true;
}

/* COPY / X-Copy-From with both sides' rules at hand (4.6). */
static void copy_rules_loaded(struct px_req *pr)
{
    if (px_rules_need_copy_facts(pr)) {
        /* a rule of the source matches on its content type or metadata:
         * decide with them, also when the source is not the path's
         * object (PUT with X-Copy-From; docs/rules.md 4.1) */
        px_rules_read_copy_facts(pr, copy_rules_loaded);
        return;
    }
    struct eng_seq client;
    int rc = client_chain(pr, &client);
    if (rc < 0)
        return;
    struct eng_rules_decision d;
    struct err e;
    err_clear(&e);
    rc = px_rules_eval(pr, ENG_RULES_COPY, rc == 0 ? &client : NULL, &d, &e);
    eng_seq_release(&client);
    if (rc < 0) {
        px_reply_text(pr, 400, e.msg);
        return;
    }
    bool mand = d.mandatory;
    bool read_rule = d.mandatory && d.n_pre > 0;
    bool refused = no_engine_refused(pr, &d);
    eng_rules_decision_release(&d);
    if (refused)
        return;
    if (read_rule && http_req_header(pr->req, "X-Storlet-Range")) {
        /* as for a GET (4.2): a cut record would reach the mandatory
         * storlet, which may pass its first line as a header */
        px_reply_text(pr, 400, "X-Storlet-Range cannot be used on an object under a "
                               "mandatory storlet rule");
        return;
    }
    if (mand) {
        if (http_req_header(pr->req, "Destination-Account") ||
            http_req_header(pr->req, "X-Copy-From-Account") ||
            header_true(pr, "X-Fresh-Metadata")) {
            px_reply_text(pr, 400, "A copy under a mandatory storlet rule cannot cross "
                                   "accounts or ask X-Fresh-Metadata");
            return;
        }
        if (query_has(pr, "multipart-manifest=get")) {
            px_reply_text(pr, 403, "The manifest of an object under a mandatory storlet "
                                   "rule cannot be read");
            return;
        }
    }
    do_object_authorized(pr);   /* px_storlet_object runs the decision */
}

/*
 * GET, PUT, COPY under rules: the checks of 4.2 and 4.6 that answer
 * before anything runs; the chain itself is made by px_storlet.c's
 * chain_of (px_rules_eval) when the request goes on. Returns true when it
 * answered or took the request.
 */
static bool rules_chain(struct px_req *pr)
{
    enum http_method m = http_req_method(pr->req);
    const char *xcf = http_req_header(pr->req, "X-Copy-From");
    if (m == HTTP_M_COPY || (m == HTTP_M_PUT && xcf)) {
        const char *c, *o;
        const char *ref = m == HTTP_M_COPY ? http_req_header(pr->req, "Destination") : xcf;
        if (!ref || split_copy_ref(pr, ref, &c, &o) < 0) {
            /* never on undecided: a storlet copy must not read or write
             * what no rule was asked about */
            px_reply_text(pr, 412, m == HTTP_M_COPY
                                       ? "Destination header must be of the form "
                                         "<container name>/<object name>"
                                       : "X-Copy-From header must be of the form "
                                         "<container name>/<object name>");
            return true;
        }
        if (m == HTTP_M_COPY)
            px_rules_load_copy(pr, pr->path.container, pr->path.object, c, o,
                               copy_rules_loaded);
        else
            px_rules_load_copy(pr, c, o, pr->path.container, pr->path.object,
                               copy_rules_loaded);
        return true;
    }
    if (m == HTTP_M_PUT && !pr->srv->eng) {
        /* a mandatory write rule's storlets must write what is stored */
        struct eng_rules_decision d;
        struct err e;
        err_clear(&e);
        if (px_rules_eval(pr, ENG_RULES_PUT, NULL, &d, &e) < 0) {
            px_reply_text(pr, 400, e.msg);
            return true;
        }
        bool refused = no_engine_refused(pr, &d);
        eng_rules_decision_release(&d);
        return refused;
    }
    if (m != HTTP_M_GET)
        return false;
    struct eng_seq client;
    int rc = client_chain(pr, &client);
    if (rc < 0)
        return true;
    struct eng_rules_decision d;
    struct err e;
    err_clear(&e);
    rc = px_rules_eval(pr, ENG_RULES_GET, rc == 0 ? &client : NULL, &d, &e);
    eng_seq_release(&client);
    if (rc < 0) {
        px_reply_text(pr, 400, e.msg);
        return true;
    }
    bool mand = d.mandatory && d.n_pre > 0;
    bool answered = mand && (mandatory_get_refused(pr) || no_engine_refused(pr, &d));
    eng_rules_decision_release(&d);
    return answered;
}

/*
 * What the rules hold for an authorized object request before anything
 * is read or written. Returns true when it answered (or took the
 * request), false to go on as without rules.
 */
static bool rules_object(struct px_req *pr)
{
    const struct px_rules *r = pr->rules;
    if (!r || !r->on)
        return false;
    enum http_method m = http_req_method(pr->req);
    bool manager = may_manage_rules(pr);
    /* 4.12: whoever rewrites a mandatory storlet's code rewrites the rule */
    if (r->account_mandatory && !manager) {
        bool code = ((m == HTTP_M_PUT || m == HTTP_M_POST || m == HTTP_M_DELETE) &&
                     px_rules_code_container(pr->path.container)) ||
                    (m == HTTP_M_COPY && px_rules_code_container(copy_dest_container(pr)));
        if (code) {
            px_reply_text(pr, 403, "Storlet code in an account with mandatory storlet rules "
                                   "may be changed only by a manager of its rules");
            return true;
        }
    }
    /* a copy's other side may hold rules though this container has none */
    if (m == HTTP_M_COPY || (m == HTTP_M_PUT && http_req_header(pr->req, "X-Copy-From")))
        return rules_chain(pr);
    if (px_rules_code_container(pr->path.container) ||
        (!r->sets.account && !r->sets.container))
        return false;
    const char *o = pr->path.object;
    switch (m) {
    case HTTP_M_POST:
        /* 4.5: metadata could move the object out of the rule's match */
        if (!manager && px_rules_subject(pr, r, o, NULL, NULL, ENG_RULES_READ)) {
            px_reply_text(pr, 403, "The object is under a mandatory storlet rule: its "
                                   "metadata may be changed only by a manager of its rules");
            return true;
        }
        return false;
    case HTTP_M_HEAD: {
        struct eng_rules_decision d;
        struct err e;
        err_clear(&e);
        if (px_rules_eval(pr, ENG_RULES_HEAD, NULL, &d, &e) < 0) {
            px_reply_text(pr, 400, e.msg);
            return true;
        }
        bool mand = d.mandatory;
        const char *applied = pool_strdup(pr->pool, d.applied);
        eng_rules_decision_release(&d);
        if (!mand)
            return false;
        /* 4.3: no storlet runs; no fact of the stored bytes leaves */
        if (names_etags(http_req_header(pr->req, "If-Match"))) {
            px_reply(pr, 412);
            return true;
        }
        do_read2(pr, PX_RING_OBJECT, applied);
        return true;
    }
    default:
        break;
    }
    return rules_chain(pr);
}

static void object_facts_read(struct px_req *pr);

static void object_rules_loaded(struct px_req *pr, const struct px_rules *r)
{
    (void)r;
    if (px_rules_need_facts(pr)) {
        /* a rule matches on the object's content type or metadata:
         * decide with them (docs/rules.md 4.1) */
        px_rules_read_facts(pr, object_facts_read);
        return;
    }
    if (rules_object(pr))
        return;
    do_object_authorized(pr);
}

static void object_facts_read(struct px_req *pr)
{
    object_rules_loaded(pr, pr->rules);
}

bool px_ctl_decide_again(struct px_req *pr)
{
    struct px_rules *r = pr->rules;
    if (!r || !r->facts || !r->facts_ts[0] || r->facts_reads >= 2 || pr->done)
        return false;
    log_set_txn(pr->txn);
    log_info("%s %s: the object changed since its facts were read: deciding again",
             http_req_method_str(pr->req), http_req_target(pr->req));
    log_set_txn(NULL);
    pr->ctl = NULL;
    pr->stl = NULL;
    if (r->facts_copy_src)
        /* a PUT with X-Copy-From: its source's facts */
        px_rules_read_copy_facts(pr, copy_rules_loaded);
    else
        px_rules_read_facts(pr, object_facts_read);
    return true;
}

static void object_acl_checked(struct px_req *pr, const struct px_cinfo *ci)
{
    if (ci->status >= 500) {
        px_reply(pr, 503);
        return;
    }
    if (!pr->owner) {
        enum http_method m = http_req_method(pr->req);
        /* A COPY reads the object of its path (the destination's write
         * access is checked by the copy itself). */
        bool read = m == HTTP_M_GET || m == HTTP_M_HEAD || m == HTTP_M_COPY;
        const char *acl = ci->status < 300 ? (read ? ci->read_acl
                                                   : ci->write_acl)
                                           : NULL;
        if (authorize(pr, acl) == PX_AUTHZ_DENY) {
            deny(pr);
            return;
        }
    }
    if (http_req_method(pr->req) == HTTP_M_PUT && ci->status == 404) {
        px_reply(pr, 404);
        return;
    }
    /* also without storlets: a mandatory rule is refused, not ignored */
    px_rules_load(pr, ci->status < 300 ? ci->rules : "", object_rules_loaded);
}

static void container_rules_loaded(struct px_req *pr, const struct px_rules *r)
{
    (void)r;
    do_container(pr);
}

static void container_acl_checked(struct px_req *pr, const struct px_cinfo *ci)
{
    if (ci->status >= 500) {
        px_reply(pr, 503);
        return;
    }
    if (!pr->owner &&
        authorize(pr, ci->status < 300 ? ci->read_acl : NULL) == PX_AUTHZ_DENY) {
        deny(pr);
        return;
    }
    if (http_req_method(pr->req) == HTTP_M_GET && ci->status < 300) {
        px_rules_load(pr, ci->rules, container_rules_loaded);
        return;
    }
    do_container(pr);
}

static bool method_known(enum http_method m, enum names_kind k)
{
    switch (m) {
    case HTTP_M_GET:
    case HTTP_M_HEAD:
    case HTTP_M_PUT:
    case HTTP_M_POST:
    case HTTP_M_DELETE:
        return true;
    case HTTP_M_COPY:
        return k == NAMES_OBJECT;
    default:
        return false;
    }
}

void px_ctl_dispatch(struct px_req *pr)
{
    enum http_method m = http_req_method(pr->req);
    enum names_kind k = pr->path.kind;
    /* Swift's Allow lists (COPY is the copy middleware's, so a 405 does
     * not name it, an OPTIONS does). */
    const char *allow = k != NAMES_ACCOUNT ||
                                pr->srv->conf.allow_account_management
                            ? "GET, OPTIONS, DELETE, PUT, POST, HEAD"
                            : "GET, OPTIONS, POST, HEAD";
    if (m == HTTP_M_OPTIONS) {
        http_resp_header(pr->req, "Allow",
                         k == NAMES_OBJECT
                             ? "GET, OPTIONS, DELETE, PUT, POST, HEAD, COPY"
                             : allow);
        /* A CORS preflight (with Origin) needs the container's
         * Access-Control metadata, which Cairn does not implement: it is
         * refused as Swift refuses an origin it does not allow. */
        px_reply(pr, http_req_header(pr->req, "Origin") ? 401 : 200);
        return;
    }
    if (!method_known(m, k) ||
        (k == NAMES_ACCOUNT && (m == HTTP_M_PUT || m == HTTP_M_DELETE) &&
         !pr->srv->conf.allow_account_management)) {
        reply_allow(pr, allow);
        return;
    }
    struct names_verdict v;
    const char *a = pr->path.account;
    if (names_check_account_name(a, strlen(a), &pr->srv->cluster.constraints,
                                 &v) < 0) {
        px_reply_text(pr, v.status, v.body);
        return;
    }
    if (px_dist_request(pr))
        return;   /* each split's GET is authorized as the caller's own */
    enum px_authz az = authorize(pr, NULL);
    /* A verified code capability (px_cap_admit checked method and
     * container) reads storlet code with the account owner's rights. */
    if (az == PX_AUTHZ_OWNER || px_cap_granted(pr, PX_CAP_CODE))
        pr->owner = true;
    if (k == NAMES_ACCOUNT) {
        if (az == PX_AUTHZ_DENY) {
            deny(pr);
            return;
        }
        do_account(pr);
        return;
    }
    if (k == NAMES_CONTAINER) {
        if (pr->owner && m != HTTP_M_GET) {
            do_container(pr);
        } else if (m == HTTP_M_GET || m == HTTP_M_HEAD) {
            px_cinfo_get(pr, container_acl_checked);
        } else {
            deny(pr);
        }
        return;
    }
    /* Objects: every request needs the container's rules (docs/rules.md
     * 4.1), also on a proxy without storlets, which must refuse what a
     * mandatory rule would run rather than serve the stored bytes. */
    px_cinfo_get(pr, object_acl_checked);
}

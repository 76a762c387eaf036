/*
 * px_server.c - the front door of cairn-proxy: every client request enters
 * px_handle(), which assigns the transaction id, answers /healthcheck,
 * /info and the auth prefix itself, authenticates the token, parses the API
 * path, and hands account, container and object requests to the
 * controllers (px_ctl.c). The access log line is written when the request
 * is over. See docs/internals/proxy.md.
 *
 * Threading: runs on the worker thread that owns the request.
 */
#define LOG_COMPONENT "proxy"
#include "proxy/px_server.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <urcu.h>

#include "common/bug.h"
#include "common/http.h"
#include "common/log.h"
#include "common/pool.h"
#include "common/timestamp.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "proxy/px_auth.h"
#include "proxy/px_cap.h"
#include "proxy/px_ctl.h"
#include "ring/ring.h"

/* Swift's default body text per status (swob RESPONSE_REASONS). */
static const char *status_text(int status)
{
    switch (status) {
    case 202: return "The request is accepted for processing.";
    case 400: return "The server could not comply with the request since it "
                     "is either malformed or otherwise incorrect.";
    case 401: return "This server could not verify that you are authorized "
                     "to access the document you requested.";
    case 403: return "Access was denied to this resource.";
    case 404: return "The resource could not be found.";
    case 405: return "The method is not allowed for this resource.";
    case 406: return "The resource is not available in a format acceptable "
                     "to your browser.";
    case 408: return "The server has waited too long for the request to be "
                     "sent by the client.";
    case 409: return "There was a conflict when trying to complete your "
                     "request.";
    case 410: return "This resource is no longer available.";
    case 411: return "Content-Length header required.";
    case 412: return "A precondition for this request was not met.";
    case 413: return "The body of your request was too large for this "
                     "server.";
    case 414: return "The request URI was too long for this server.";
    case 416: return "The Range requested is not available.";
    case 422: return "Unable to process the contained instructions";
    case 499: return "The client was disconnected during request.";
    case 500: return "The server has either erred or is incapable of "
                     "performing the requested operation.";
    case 501: return "The requested method is not implemented by this "
                     "server.";
    case 502: return "Bad gateway.";
    case 503: return "The server is currently unavailable. Please try again "
                     "at a later time.";
    case 504: return "The gateway timed out.";
    default: return "";
    }
}

static const char *reason(int status)
{
    switch (status) {
    case 416: return "Requested Range Not Satisfiable";
    case 499: return "Client Disconnect";
    case 500: return "Internal Error";
    default: return http_status_reason(status);
    }
}

void px_resp_common(struct px_req *pr)
{
    http_resp_header(pr->req, "X-Trans-Id", pr->txn);
    http_resp_header(pr->req, "X-Openstack-Request-Id", pr->txn);
}

void px_reply(struct px_req *pr, int status)
{
    const char *t = status_text(status);
    if (!t[0] || status == 204 || status == 304 || status < 200) {
        if (status != 304)
            http_resp_header(pr->req, "Content-Type",
                             "text/html; charset=UTF-8");
        px_resp_common(pr);
        http_resp_simple(pr->req, status, NULL, NULL, 0);
        return;
    }
    char body[512];
    int n = snprintf(body, sizeof(body), "<html><h1>%s</h1><p>%s</p></html>",
                     reason(status), t);
    px_resp_common(pr);
    http_resp_simple(pr->req, status, "text/html; charset=UTF-8", body,
                     (size_t)n);
}

void px_reply_text(struct px_req *pr, int status, const char *body)
{
    if (!body || !body[0]) {
        px_reply(pr, status);
        return;
    }
    px_resp_common(pr);
    http_resp_simple(pr->req, status, "text/html; charset=UTF-8", body,
                     strlen(body));
}

unsigned px_read_timeout(const struct px_server *s)
{
    return (unsigned)(s->conf.recoverable_node_timeout
                          ? s->conf.recoverable_node_timeout
                          : s->conf.node_timeout);
}

static void node_copy(struct px_node *n, const struct ring_dev *d,
                      bool handoff)
{
    str_copy(n->ip, d->ip, sizeof(n->ip));
    n->port = d->port;
    str_copy(n->device, d->device, sizeof(n->device));
    n->id = d->id;
    n->handoff = handoff;
}

void px_nodes_get(struct px_req *pr, enum px_ring_kind kind,
                  const char *account, const char *container,
                  const char *object, size_t handoffs, struct px_nodes *out)
{
    const struct ring_dev *prim[16];
    rcu_read_lock();
    const struct ring *r = ring_watch_get(pr->srv->rings[kind]);
    out->kind = kind;
    out->part = ring_partition(r, &pr->srv->secret, account, container, object);
    size_t np = ring_primaries(r, out->part, prim, 16);
    out->replicas = np;
    out->max_handoffs = handoffs;
    out->handoffs_loaded = false;
    out->v = pool_calloc(pr->pool, (np + handoffs + 1) * sizeof(*out->v));
    out->n = 0;
    for (size_t i = 0; i < np; i++)
        node_copy(&out->v[out->n++], prim[i], false);
    rcu_read_unlock();
}

void px_nodes_load_handoffs(struct px_req *pr, struct px_nodes *nodes)
{
    static __thread struct ring_handoff_iter it;
    if (nodes->handoffs_loaded || !nodes->max_handoffs)
        return;
    nodes->handoffs_loaded = true;
    rcu_read_lock();
    /* The ring may have been reloaded since the primaries were looked up;
     * the handoffs of the same partition in the current ring are as good
     * (a part outside a smaller ring simply has none). */
    const struct ring *r = ring_watch_get(pr->srv->rings[nodes->kind]);
    if (nodes->part < ring_partition_count(r)) {
        ring_handoffs_begin(r, nodes->part, &it);
        const struct ring_dev *d;
        size_t limit = nodes->replicas + nodes->max_handoffs;
        while (nodes->n < limit && (d = ring_handoff_next(&it)))
            node_copy(&nodes->v[nodes->n++], d, true);
    }
    rcu_read_unlock();
}

/* ------------------------------------------------------------ trans-id */

static uint64_t rnd64(struct px_worker *w)
{
    uint64_t x = w->rnd;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    w->rnd = x;
    return x;
}

static void make_txn(struct px_req *pr)
{
    /* tx + 21 hex + '-' + 10 hex of the epoch seconds, as Swift. */
    uint64_t a = rnd64(pr->w), b = rnd64(pr->w);
    char hex[33];
    snprintf(hex, sizeof(hex), "%016llx%016llx", (unsigned long long)a,
             (unsigned long long)b);
    hex[21] = '\0';
    snprintf(pr->txn, sizeof(pr->txn), "tx%s-%010llx", hex,
             (unsigned long long)time(NULL));
    const char *extra = http_req_header(pr->req, "X-Trans-Id-Extra");
    if (extra && extra[0]) {
        size_t len = strlen(pr->txn);
        char q[100];
        size_t n = strlen(extra) > 32 ? 32 : strlen(extra);
        names_quote(extra, n, "", q);
        snprintf(pr->txn + len, sizeof(pr->txn) - len, "-%s", q);
    }
}

/* ------------------------------------------------------------ access log */

static void on_done_log(void *arg)
{
    struct px_req *pr = arg;
    pr->done = true;
    if (pr->abort_fn)
        pr->abort_fn(pr);
    if (log_get_level() < LOG_LVL_INFO)
        return;
    uint64_t dur = now_mono_ns() - http_req_start_ns(pr->req);
    int status = http_req_status(pr->req);
    log_set_txn(pr->txn);
    log_info("%s %s %s %d %llu %llu %.4f", http_req_peer_str(pr->req),
             http_req_method_str(pr->req), http_req_target(pr->req),
             status ? status : 499,
             (unsigned long long)http_req_bytes_received(pr->req),
             (unsigned long long)http_req_bytes_sent(pr->req),
             (double)dur / 1e9);
    log_set_txn(NULL);
}

static void path_release(void *arg)
{
    names_api_path_release(arg);
}

/* ------------------------------------------------------------ endpoints */

static void do_info(struct px_req *pr)
{
    enum http_method m = http_req_method(pr->req);
    if (m == HTTP_M_OPTIONS) {
        http_resp_header(pr->req, "Allow", "HEAD, GET, OPTIONS");
        px_reply(pr, 200);
        return;
    }
    if (m != HTTP_M_GET && m != HTTP_M_HEAD) {
        http_resp_header(pr->req, "Allow", "HEAD, GET, OPTIONS");
        px_reply(pr, 405);
        return;
    }
    px_resp_common(pr);
    const char *j = pr->srv->info_json;
    http_resp_simple(pr->req, 200, "application/json; charset=UTF-8", j,
                     strlen(j));
}

static void do_auth(struct px_req *pr, const char *subpath)
{
    struct px_auth_grant g;
    const char *user = http_req_header(pr->req, "X-Auth-User");
    if (!user)
        user = http_req_header(pr->req, "X-Storage-User");
    const char *key = http_req_header(pr->req, "X-Auth-Key");
    if (!key)
        key = http_req_header(pr->req, "X-Storage-Pass");
    px_auth_get_token(pr->srv->auth, http_req_method_str(pr->req), subpath,
                      user, key, (int64_t)time(NULL), &g);
    if (g.status == 401)
        http_resp_headerf(pr->req, "Www-Authenticate", "Swift realm=\"%s\"",
                          g.realm);
    if (g.status != 200) {
        px_reply(pr, g.status);
        return;
    }
    const char *host = http_req_header(pr->req, "Host");
    char url[1024];
    if (g.storage_url) {
        str_copy(url, g.storage_url, sizeof(url));
    } else if (host && host[0] && strlen(host) < 512) {
        snprintf(url, sizeof(url), "http://%s/v1/%s", host, g.account);
    } else {
        snprintf(url, sizeof(url), "http://%s:%d/v1/%s",
                 pr->srv->conf.bind_ip, pr->srv->port, g.account);
    }
    http_resp_header(pr->req, "X-Auth-Token", g.token);
    http_resp_header(pr->req, "X-Storage-Token", g.token);
    http_resp_headerf(pr->req, "X-Auth-Token-Expires", "%lld",
                      (long long)g.expires_in);
    http_resp_header(pr->req, "X-Storage-Url", url);
    px_reply(pr, 200);
}

/* Reads the token, if any, into pr's identity. Returns false after
 * answering 401 for a token that does not verify. */
static bool identify(struct px_req *pr)
{
    const char *tok = http_req_header(pr->req, "X-Auth-Token");
    if (!tok || !tok[0])
        tok = http_req_header(pr->req, "X-Storage-Token");
    if (!tok || !tok[0])
        return true;
    pr->token_sent = true;
    size_t storesz = 8192;
    pr->group_store = pool_alloc(pr->pool, storesz);
    int rc = px_auth_groups(pr->srv->auth, tok, (int64_t)time(NULL),
                            pr->groups, ARRAY_SIZE(pr->groups), &pr->ngroups,
                            pr->group_store, storesz);
    if (rc < 0) {
        const char *acct = pr->path.account ? pr->path.account : "unknown";
        http_resp_headerf(pr->req, "Www-Authenticate", "Swift realm=\"%s\"",
                          acct);
        px_reply(pr, 401);
        return false;
    }
    pr->authenticated = true;
    return true;
}

void px_handle(struct http_req *req, void *arg)
{
    struct px_worker *w = arg;
    struct pool *pool = http_req_pool(req);
    struct px_req *pr = pool_calloc(pool, sizeof(*pr));
    pr->w = w;
    pr->srv = w->srv;
    pr->req = req;
    pr->pool = pool;
    make_txn(pr);
    pool_cleanup_add(pool, path_release, &pr->path);
    pool_cleanup_add(pool, on_done_log, pr);

    const char *path = http_req_path(req);
    if (strcmp(path, "/healthcheck") == 0) {
        px_resp_common(pr);
        http_resp_simple(req, 200, "text/plain", "OK", 2);
        return;
    }
    if (strcmp(path, "/info") == 0) {
        do_info(pr);
        return;
    }
    const char *ap = pr->srv->conf.auth_prefix;
    size_t apl = strlen(ap);
    if (strncmp(path, ap, apl) == 0 ||
        (apl > 1 && ap[apl - 1] == '/' && strlen(path) == apl - 1 &&
         strncmp(path, ap, apl - 1) == 0)) {
        do_auth(pr, strlen(path) >= apl ? path + apl : "");
        return;
    }
    struct names_verdict v;
    if (names_parse_api_path(path, strlen(path),
                             &pr->srv->cluster.constraints, &pr->path,
                             &v) < 0) {
        px_reply_text(pr, v.status, v.body);
        return;
    }
    px_cap_admit(pr);
    if (!identify(pr))
        return;
    px_ctl_dispatch(pr);
}

/* ------------------------------------------------------------ /info */

char *px_info_build(const struct px_server *s)
{
    const struct cluster_constraints *k = &s->cluster.constraints;
    json_t *sw = json_object();
    json_object_set_new(sw, "version", json_string("2.30.1-cairn"));
    json_object_set_new(sw, "strict_cors_mode", json_true());
    json_t *pol = json_object();
    json_object_set_new(pol, "name", json_string("Policy-0"));
    json_object_set_new(pol, "aliases", json_string("Policy-0"));
    json_object_set_new(pol, "default", json_true());
    json_t *pols = json_array();
    json_array_append_new(pols, pol);
    json_object_set_new(sw, "policies", pols);
    json_object_set_new(sw, "allow_account_management",
                        json_boolean(s->conf.allow_account_management));
    json_object_set_new(sw, "account_autocreate",
                        json_boolean(s->conf.account_autocreate));
    json_object_set_new(sw, "max_file_size",
                        json_integer((json_int_t)k->max_file_size));
#define NUM(f) json_object_set_new(sw, #f, json_integer(k->f))
    NUM(max_meta_name_length);
    NUM(max_meta_value_length);
    NUM(max_meta_count);
    NUM(max_meta_overall_size);
    NUM(max_header_size);
    json_object_set_new(sw, "max_request_line", json_integer(8192));
    NUM(max_object_name_length);
    NUM(container_listing_limit);
    NUM(account_listing_limit);
    NUM(max_account_name_length);
    NUM(max_container_name_length);
    NUM(extra_header_count);
#undef NUM
    json_t *root = json_object();
    json_object_set_new(root, "swift", sw);
    json_t *ta = json_object();
    json_object_set_new(ta, "account_acls", json_false());
    json_object_set_new(root, "tempauth", ta);
    json_t *slo = json_object();
    json_object_set_new(slo, "max_manifest_segments",
                        json_integer((json_int_t)s->conf.max_manifest_segments));
    json_object_set_new(slo, "max_manifest_size",
                        json_integer((json_int_t)s->conf.max_manifest_size));
    json_object_set_new(slo, "min_segment_size", json_integer(1));
    json_object_set_new(root, "slo", slo);
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    char *copy = xstrdup(out);
    free(out);
    return copy;
}

/*
 * px_storlet.c - the proxy's side of the storlet engine (docs/storlets.md,
 * docs/compound-storlets.md section 1).
 *
 * Deployment checks on PUT/POST into the `storlet` and `dependency`
 * containers; the account's X-Account-Meta-Storlet-Enabled (px_rules.c's
 * account info, as Swift's get_account_info: the proxy's one cache of it,
 * shared with the rule documents). Then the proxy
 * owns the chain: chain_of() turns the request into the struct eng_seq to
 * run (the client's X-Run-Storlet list; THE one place where the chain is
 * made, so that rules can add stages there), the storlets' placement facts
 * come from HEADs of their objects with the caller's token (X-Object-Meta-
 * Storlet-Run-On and -Services, cached per worker and caller for
 * FACTS_TTL_MS; what the HEAD said goes to the node as ENG_VERIFIED_HEADER,
 * which spares it the same HEAD), eng_seq_plan splits the
 * chain into an object-node prefix and a proxy rest, and everything below
 * runs from that plan:
 *
 *   GET, all on the node    the normal object read (px_obj_read) carries
 *                           X-Backend-Storlet-Chain (eng_seq_to_json of the
 *                           chain) and the node's answer is relayed;
 *   GET, split              a backend GET with the prefix's chain feeds the
 *                           rest, run here, into the client response;
 *   GET, all here           loopback GET of the plain object (Run-On-Proxy,
 *                           or a first stage that must run on the proxy);
 *   PUT                     client body -> every stage here -> loopback PUT;
 *   COPY / X-Copy-From      the source as a GET would read it (loopback
 *                           HEAD of the source to authorize, then a backend
 *                           GET with the prefix's chain; or a loopback GET
 *                           of the plain source when nothing runs on the
 *                           node) -> the rest here -> loopback PUT.
 *
 * An object node runs only what X-Backend-Storlet-Chain says; a client's
 * X-Run-Storlet and X-Storlet-* headers never reach it. Stages here run one
 * sandbox each, stage k's output piped into stage k+1 (stage k+1 is got
 * ready when stage k starts output, since its invocation document carries
 * stage k's output metadata), back-pressure both ways. Every answer says
 * X-Storlet-Sequence-Placement: object=<k>, proxy=<n-k>. Objects written
 * through a chain carry provenance metadata naming it.
 *
 * "Loopback" requests go to this proxy's own listener with the caller's
 * token, so every read and write is authorized exactly as the caller's own
 * request would be: a storlet sees data with the caller's rights, never
 * more.
 *
 * Life cycle: the state lives in the request pool; a pool cleanup frees
 * the loopback clients and cancels the preps and runs, so nothing runs
 * after the client has gone. Threading: the worker's loop only.
 */
#include "proxy/px_storlet.h"

#include <errno.h>
#include <limits.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_COMPONENT "proxy"
#include "common/http.h"
#include "common/log.h"
#include "common/md5.h"
#include "common/names.h"
#include "common/pool.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng.h"
#include "engine/eng_seq.h"
#include "proxy/px_auth.h"
#include "proxy/px_backend.h"
#include "proxy/px_cap.h"
#include "proxy/px_ctl_int.h"
#include "proxy/px_rules.h"

#define ERR_BODY_MAX 1024

/* An object node's answer to a chain over a large object's manifest: it
 * ran nothing (objectd's OBJ_STORLET_MANIFEST_HEADER). */
#define PST_MANIFEST_HEADER "X-Backend-Storlet-Manifest"

struct pst;

struct pst_stage {
    struct pst *s;
    unsigned k;
};

struct pst {
    struct px_req *pr;
    struct eng_decision d;
    /* the chain (chain_of) and its plan */
    struct eng_seq seq;
    uint32_t log_mask;         /* bit k: store stage k's log in storletlog */
    uint32_t code_mask;        /* bit k: stage k's code is read with the
                                * account's authority (PX_CAP_CODE), not the
                                * caller's (a rule's storlet) */
    const char *code_cap;      /* that capability (pool), minted once */
    struct eng_seq_props props[ENG_SEQ_MAX];
    char *etag[ENG_SEQ_MAX];   /* storlet versions: facts, then the runs */
    char *verified[ENG_SEQ_MAX]; /* what the caller's HEAD of stage k's storlet
                                * said (ENG_VERIFIED_HEADER's element), or NULL */
    struct eng_seq_plan plan;
    char placement[64];
    const char *token;
    char host[64];
    int port;
    bool upload;               /* a checked PUT into storlet/dependency */
    unsigned depth;            /* X-Storlet-Depth */
    bool src_client;           /* input: the client's body (PUT) */
    bool snk_client;           /* output: the client response (GET) */
    const char *src_path;      /* "/v1/a/c/o" of the loopback source */
    const char *dst_path;      /* "/v1/a/c/o" of the loopback PUT */
    const char *src_name;      /* "c/o" for provenance */
    const char *src_c, *src_o; /* decoded source container and object */

    struct px_nodes onodes;
    struct http_client *fact[ENG_SEQ_MAX];
    unsigned facts_pending;
    bool facts_failed;

    struct eng_prep *prep;
    struct eng_run *run[ENG_SEQ_MAX];
    struct pst_stage stage[ENG_SEQ_MAX];
    bool ended[ENG_SEQ_MAX];
    json_t *next_meta;         /* input metadata of the next stage */
    char *next_ctype;
    struct http_client *src, *snk;
    struct px_read *brd;       /* backend read of the node prefix */
    char *node;                /* where the node prefix ran */

    /* what the source said */
    int src_status;
    int64_t src_len;
    char *src_ctype, *src_etag;
    char *input_range;         /* Storlet-Input-Range of a ranged source */
    json_t *src_meta;          /* user metadata, no prefix */
    json_t *out_meta;          /* metadata for the PUT (output or source's) */
    char *out_ctype;
    struct evbuffer *errbody;
    bool src_ended, src_paused;

    /* storlet rules (docs/rules.md, px_rules.h) in the chain */
    bool ruled;                /* rules were decided for this request */
    bool mandatory;            /* a mandatory rule applied */
    unsigned n_pre, n_post;    /* rule stages before / after the client's */
    unsigned rule_lo, rule_hi; /* stages [rule_lo, rule_hi) are plain rules' */
    char applied[256];         /* X-Storlet-Rules-Applied */
    const char *sent_etag;     /* a ruled PUT's ETag: of the body sent */
    struct md5 sent_md5;
    /* Range on the chain's output under a mandatory rule (4.2) */
    bool cut;
    uint64_t cut_first, cut_last, out_pos;
    struct event *stop_ev;     /* stops the chain after a cut, from the loop */

    /* the loopback PUT's answer; the start of a refusal's body (its
     * reason, "Metadata name too long: ...") for the client */
    int snk_status;
    char *snk_etag, *snk_lm;
    char snk_reason[1024];
    size_t snk_reason_len;
    bool answered, failed;
};

static void go(struct pst *s);
static void facts_done(struct pst *s);

/* ------------------------------------------------------------ helpers */

static void cleanup(void *arg)
{
    struct pst *s = arg;
    if (s->stop_ev)
        event_free(s->stop_ev);
    s->stop_ev = NULL;
    eng_prep_cancel(s->prep);
    s->prep = NULL;
    for (unsigned k = 0; k < ENG_SEQ_MAX; k++) {
        eng_run_cancel(s->run[k]);
        s->run[k] = NULL;
        http_client_free(s->fact[k]);
        s->fact[k] = NULL;
        free(s->etag[k]);
        free(s->verified[k]);
    }
    if (s->brd)
        px_read_abort(s->brd);
    s->brd = NULL;
    http_client_free(s->src);
    s->src = NULL;
    http_client_free(s->snk);
    s->snk = NULL;
    eng_seq_release(&s->seq);
    json_decref(s->next_meta);
    json_decref(s->src_meta);
    json_decref(s->out_meta);
    free(s->next_ctype);
    free(s->node);
    free(s->src_ctype);
    free(s->src_etag);
    free(s->input_range);
    free(s->out_ctype);
    free(s->snk_etag);
    free(s->snk_lm);
    if (s->errbody)
        evbuffer_free(s->errbody);
}

static void stop_all(struct pst *s)
{
    eng_prep_cancel(s->prep);
    s->prep = NULL;
    for (unsigned k = 0; k < ENG_SEQ_MAX; k++) {
        eng_run_cancel(s->run[k]);
        s->run[k] = NULL;
        http_client_free(s->fact[k]);
        s->fact[k] = NULL;
    }
    if (s->brd)
        px_read_abort(s->brd);
    s->brd = NULL;
    http_client_free(s->src);
    s->src = NULL;
    http_client_free(s->snk);
    s->snk = NULL;
}

/* Answers once; later failures only close things down. */
static void answer(struct pst *s, int status, const char *text)
{
    if (s->answered || s->pr->done)
        return;
    s->answered = true;
    http_resp_header(s->pr->req, "X-Storlet-Executed-On", "proxy");
    if (s->placement[0])
        http_resp_header(s->pr->req, "X-Storlet-Sequence-Placement", s->placement);
    px_reply_text(s->pr, status, text);
}

/* Ends the request for a failure (once): its status before the client
 * response started, an abnormal end after (never a short body as whole,
 * never a partial PUT stored). */
static void fail(struct pst *s, int status, const char *why)
{
    if (s->failed)
        return;
    s->failed = true;
    stop_all(s);
    if (s->answered && s->snk_client && !s->pr->done) {
        http_resp_abort(s->pr->req);
        return;
    }
    answer(s, status, why);
}

/* A stage's failure; the reason names the stage in a chain of several. */
static bool rule_stage(const struct pst *s, unsigned k)
{
    return s->ruled && (k < s->n_pre || k >= s->seq.n - s->n_post ||
                        (k >= s->rule_lo && k < s->rule_hi));
}

static bool mandatory_stage(const struct pst *s, unsigned k)
{
    return s->ruled && (k < s->n_pre || k >= s->seq.n - s->n_post);
}

static void fail_stage(struct pst *s, unsigned k, int status, const char *reason)
{
    if (mandatory_stage(s, k)) {
        /* its own reason may quote the data: the log only (4.2) */
        log_warn("mandatory storlet %s (stage %u) failed: %d %s", s->seq.st[k].storlet,
                 k + 1, status, reason ? reason : "");
        char why[1200];
        snprintf(why, sizeof(why), "mandatory storlet %s failed", s->seq.st[k].storlet);
        fail(s, status, why);
        return;
    }
    if (s->seq.n == 1) {
        fail(s, status, reason);
        return;
    }
    char why[1400];
    snprintf(why, sizeof(why), "stage %u (%s): %s", k + 1, s->seq.st[k].storlet, reason);
    fail(s, status, why);
}

static char *quote(struct pool *p, const char *s)
{
    size_t n = strlen(s);
    char *out = pool_alloc(p, 3 * n + 1);
    names_quote(s, n, "/", out);
    return out;
}

static void add_meta(struct http_client *c, json_t *meta)
{
    const char *k;
    json_t *v;
    json_object_foreach(meta, k, v) {
        if (strncasecmp(k, "Storlet-Generated", 17) == 0)
            continue;   /* provenance is the engine's to write */
        char *n = xasprintf("X-Object-Meta-%s", k);
        http_client_header(c, n, json_string_value(v));
        free(n);
    }
}

/* User metadata without the provenance (px_ctl_int.h), which describes
 * the stored bytes, not a storlet's output, and is not the storlet's to
 * see: an object node's run does not see it either. */
json_t *px_storlet_user_meta(const struct http_head *h)
{
    json_t *m = json_object();
    for (unsigned i = 0; i < h->nheaders; i++)
        if (strncasecmp(h->headers[i].name, "X-Object-Meta-", 14) == 0 &&
            strncasecmp(h->headers[i].name, PX_PROV_META, PX_PROV_META_LEN) != 0)
            json_object_set_new(m, h->headers[i].name + 14, json_string(h->headers[i].value));
    return m;
}

static bool is_storlet_header(const char *n)
{
    return strcasecmp(n, "X-Run-Storlet") == 0 || strncasecmp(n, "X-Storlet-", 10) == 0;
}

/* The capability that reads the account's storlet code (both `storlet`
 * and `dependency`) with the owner's rights, for stages in code_mask. */
static const char *code_cap_of(struct pst *s, unsigned k)
{
    if (!(s->code_mask & (1u << k)))
        return NULL;
    if (!s->code_cap) {
        /* One capability serves every stage's code fetch, on the node and
         * here; a late stage fetches after the earlier ones have run, each
         * for up to its wall budget, which grows with the input: at most
         * that of the largest object (the length is not known yet). */
        const struct px_server *srv = s->pr->srv;
        uint64_t wall = eng_wall_budget_ms((uint64_t)srv->conf.storlet_wall_timeout,
                                           (int64_t)srv->cluster.constraints.max_file_size,
                                           srv->conf.storlet_min_input_rate) / 1000 + 1;
        uint64_t ttl = PX_CAP_TTL + (uint64_t)s->seq.n * wall;
        s->code_cap = px_cap_mint_for(s->pr, PX_CAP_CODE, NULL, NULL, true,
                                      ttl > UINT_MAX ? UINT_MAX : (unsigned)ttl);
    }
    return s->code_cap;
}

/* The first stage that runs here, and whether any does. */
static unsigned first_here(const struct pst *s)
{
    return s->plan.split;
}

static bool any_here(const struct pst *s)
{
    return s->plan.split < s->seq.n;
}

static void note_etags(struct pst *s, const char *list, unsigned n)
{
    /* the node's X-Storlet-Etag: its stages' versions, comma-separated */
    const char *p = list;
    for (unsigned k = 0; p && k < n; k++) {
        size_t len = strcspn(p, ",");
        if (len > 0) {
            free(s->etag[k]);
            s->etag[k] = xstrndup(p, len);
        }
        p = p[len] ? p + len + 1 : NULL;
    }
}

/* ------------------------------------------------------------ the sink */

static const struct http_client_ops snk_ops;

static void add_provenance(struct pst *s, struct http_client *c)
{
    /* provenance: stored only with this proxy's capability (px_cap.h) */
    const char *cap = px_cap_mint_target(s->pr, PX_CAP_OUTPUT, s->dst_path);
    if (cap)
        http_client_header(c, PX_CAP_HEADER, cap);
    char *names = eng_seq_names(&s->seq);
    http_client_header(c, "X-Object-Meta-Storlet-Generated-By", names);
    free(names);
    bool any = false;
    for (unsigned k = 0; k < s->seq.n; k++)
        any = any || s->etag[k];
    if (any) {
        char *etags = eng_seq_etags_join(s->etag, s->seq.n);
        http_client_header(c, "X-Object-Meta-Storlet-Generated-By-Etag", etags);
        free(etags);
    }
    char *ps = eng_seq_params_provenance(&s->seq);
    http_client_header(c, "X-Object-Meta-Storlet-Generated-Params", ps);
    free(ps);
    if (s->src_name) {
        http_client_header(c, "X-Object-Meta-Storlet-Generated-From", s->src_name);
        /* the source's ETag is a fact of its stored bytes, which a
         * mandatory read rule hides from this caller (docs/rules.md 4.6) */
        if (s->src_etag && !(s->ruled && s->n_pre > 0))
            http_client_header(c, "X-Object-Meta-Storlet-Generated-From-Etag", s->src_etag);
    }
}

static void snk_start(struct pst *s)
{
    struct px_req *pr = s->pr;
    s->snk = http_client_new(pr->w->base, s->host, s->port, NULL);
    struct http_client *c = s->snk;
    http_client_header(c, "X-Auth-Token", s->token);
    const struct http_head *h = http_req_head(pr->req);
    /* the client's own headers, minus framing, storlet and copy ones */
    static const char *const skip[] = {
        "Content-Length", "Transfer-Encoding", "Expect", "Host", "Connection",
        "X-Auth-Token", "X-Storage-Token", "X-Copy-From", "Destination", "ETag",
        "Range", "Content-Type", "X-Copy-From-Account", "Destination-Account",
        "X-Fresh-Metadata", "Keep-Alive", "TE", "Trailer", "Upgrade", PX_CAP_HEADER,
    };
    for (unsigned i = 0; i < h->nheaders; i++) {
        const char *n = h->headers[i].name;
        bool drop = is_storlet_header(n) || strncasecmp(n, "X-Object-Meta-", 14) == 0;
        for (size_t j = 0; j < sizeof(skip) / sizeof(skip[0]) && !drop; j++)
            drop = strcasecmp(n, skip[j]) == 0;
        if (!drop)
            http_client_header(c, n, h->headers[i].value);
    }
    const char *ct = s->out_ctype ? s->out_ctype
                     : http_req_header(pr->req, "Content-Type") ? http_req_header(pr->req, "Content-Type")
                     : s->src_ctype;
    if (ct)
        http_client_header(c, "Content-Type", ct);
    if (!s->out_meta)
        s->out_meta = json_object();
    if (s->d.op == ENG_OP_COPY) {
        json_t *cm = px_storlet_user_meta(h);   /* the COPY's own metadata wins */
        json_object_update(s->out_meta, cm);
        json_decref(cm);
    }
    add_meta(c, s->out_meta);
    add_provenance(s, c);
    if (s->ruled) {
        /* the chain holds the destination's write rules */
        const char *rc = px_cap_mint_target(pr, PX_CAP_RULED, s->dst_path);
        if (rc)
            http_client_header(c, PX_CAP_HEADER, rc);
    }
    if (http_client_start(c, "PUT", s->dst_path, HTTP_LENGTH_UNKNOWN, &snk_ops, s) < 0)
        fail(s, 503, "storlet: cannot store the output");
}

static void snk_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    struct pst *s = arg;
    s->snk_status = h->status;
    const char *et = http_head_get(h, "ETag");
    const char *lm = http_head_get(h, "Last-Modified");
    s->snk_etag = et ? xstrdup(et) : NULL;
    s->snk_lm = lm ? xstrdup(lm) : NULL;
}

static void snk_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    (void)c;
    struct pst *s = arg;
    size_t room = sizeof(s->snk_reason) - 1 - s->snk_reason_len;
    if (s->snk_status >= 400 && room > 0)
        s->snk_reason_len += (size_t)evbuffer_remove(b, s->snk_reason + s->snk_reason_len, room);
    evbuffer_drain(b, evbuffer_get_length(b));
}

static void src_resume(struct pst *s);

static void snk_drain(struct http_client *c, void *arg)
{
    (void)c;
    struct pst *s = arg;
    unsigned last = s->seq.n - 1;
    if (any_here(s) && s->run[last])
        eng_run_resume_output(s->run[last]);
    else if (!any_here(s))
        src_resume(s);
}

static const char *executed_on(struct pst *s)
{
    if (!any_here(s))
        return s->node ? s->node : "object";
    if (first_here(s) == 0 || !s->node)
        return "proxy";
    char *v = pool_alloc(s->pr->pool, strlen(s->node) + 8);
    snprintf(v, strlen(s->node) + 8, "%s, proxy", s->node);
    return v;
}

static void snk_done(struct http_client *c, int err, void *arg)
{
    (void)c;
    struct pst *s = arg;
    if (err < 0 || s->snk_status == 0) {
        fail(s, 503, "storlet: storing the output failed");
        return;
    }
    if (s->pr->done || s->answered)
        return;
    s->answered = true;
    struct http_req *req = s->pr->req;
    if (s->snk_status >= 200 && s->snk_status < 300) {
        if (s->snk_etag)
            http_resp_header(req, "ETag", s->snk_etag);
        if (s->snk_lm)
            http_resp_header(req, "Last-Modified", s->snk_lm);
        if (s->src_name) {
            http_resp_header(req, "X-Storlet-Generated-From", s->src_name);
            http_resp_header(req, "X-Storlet-Generated-From-Account", s->pr->path.account);
        }
    }
    http_resp_header(req, "X-Storlet-Executed-On", executed_on(s));
    http_resp_header(req, "X-Storlet-Sequence-Placement", s->placement);
    if (s->applied[0])
        http_resp_header(req, "X-Storlet-Rules-Applied", s->applied);
    s->snk_reason[s->snk_reason_len] = '\0';
    if (s->snk_status >= 400 && s->snk_reason_len > 0 && s->snk_reason[0] != '<')
        px_reply_text(s->pr, s->snk_status, s->snk_reason);   /* not a stock page */
    else
        px_reply(s->pr, s->snk_status);
}

static const struct http_client_ops snk_ops = {
    .response = snk_response,
    .body = snk_body,
    .drain = snk_drain,
    .done = snk_done,
};

/* Output of the chain (the last stage here, or the node prefix when
 * nothing runs here): to the client or the loopback PUT. Returns false
 * when the sink is full (the producer pauses until a drain). */
static void cut_end(struct pst *s);
static void client_end(struct pst *s);

static bool sink_take(struct pst *s, struct evbuffer *b)
{
    if (s->failed) {
        evbuffer_drain(b, evbuffer_get_length(b));   /* after a cut */
        return true;
    }
    if (s->snk_client) {
        if (!http_resp_wants_more(s->pr->req))
            return false;
        if (s->cut) {
            /* Range on the output of the whole chain (docs/rules.md 4.2) */
            size_t n = evbuffer_get_length(b);
            if (s->out_pos < s->cut_first) {
                uint64_t skip = s->cut_first - s->out_pos;
                size_t d = skip < n ? (size_t)skip : n;
                evbuffer_drain(b, d);
                s->out_pos += d;
                n -= d;
            }
            if (n && s->out_pos + n > s->cut_last + 1) {
                size_t keep = (size_t)(s->cut_last + 1 - s->out_pos);
                struct evbuffer *part = evbuffer_new();
                evbuffer_remove_buffer(b, part, keep);
                evbuffer_drain(b, evbuffer_get_length(b));
                http_resp_add_buffer(s->pr->req, part);
                evbuffer_free(part);
                s->out_pos += keep;
                cut_end(s);
                return true;
            }
            s->out_pos += n;
        }
        http_resp_add_buffer(s->pr->req, b);
        return true;
    }
    if (!s->snk || !http_client_wants_more(s->snk))
        return false;
    http_client_add_buffer(s->snk, b);
    return true;
}

/* ------------------------------------------------------------ the source */

static void src_pause(struct pst *s)
{
    s->src_paused = true;
    if (s->src_client)
        http_req_pause(s->pr->req);
    else if (s->src)
        http_client_pause(s->src);
    else if (s->brd)
        px_read_pause(s->brd);
}

static void src_resume(struct pst *s)
{
    if (!s->src_paused)
        return;
    s->src_paused = false;
    if (s->src_client)
        http_req_resume(s->pr->req);
    else if (s->src)
        http_client_resume(s->src);
    else if (s->brd)
        px_read_resume(s->brd);
}

/* Source bytes: into the first stage here, or straight to the sink. */
static void src_take(struct pst *s, struct evbuffer *b)
{
    if (s->failed) {
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    if (!any_here(s)) {
        if (!sink_take(s, b))
            src_pause(s);
        return;
    }
    struct eng_run *r = s->run[first_here(s)];
    if (!r || !eng_run_write(r, b))
        src_pause(s);
}

static void src_end(struct pst *s)
{
    s->src_ended = true;
    if (s->failed)
        return;
    if (s->sent_etag) {
        char hex[MD5_HEX_LEN];
        md5_final_hex(&s->sent_md5, hex);
        const char *want = s->sent_etag;
        size_t wl = strlen(want);
        if (wl >= 2 && want[0] == '"' && want[wl - 1] == '"') {
            want++;
            wl -= 2;
        }
        if (wl != strlen(hex) || strncasecmp(want, hex, wl) != 0) {
            fail(s, 422, "Unprocessable Entity: the ETag does not match the body sent");
            return;   /* the chunked PUT is never completed: nothing stored */
        }
    }
    if (!any_here(s)) {
        if (s->snk_client)
            client_end(s);   /* a ruled GET the node ran whole */
        else if (s->snk)
            http_client_end(s->snk);
        return;
    }
    struct eng_run *r = s->run[first_here(s)];
    if (r)
        eng_run_input_end(r);
}

static void prep_stage(struct pst *s, unsigned k);
static void respond_headers(struct pst *s, const struct eng_meta *m);
static void client_response_start(struct pst *s);

static const struct http_req_ops client_out_ops;

/* The source's head (loopback or backend) is here: what the first stage
 * here reads, or what the PUT stores when nothing runs here. */
static void src_head(struct pst *s, const struct http_head *h)
{
    const char *v = http_head_get(h, "Content-Type");
    s->src_ctype = v ? xstrdup(v) : NULL;
    v = http_head_get(h, "X-Storlet-Source-Etag");
    if (!v)
        v = http_head_get(h, "ETag");
    if (v && v[0] == '"' && strlen(v) >= 2)
        s->src_etag = xstrndup(v + 1, strlen(v) - 2);
    else
        s->src_etag = v ? xstrdup(v) : NULL;
    v = http_head_get(h, "X-Storlet-Etag");
    if (v)
        note_etags(s, v, first_here(s));
    v = http_head_get(h, "X-Storlet-Executed-On");
    if (v && first_here(s) > 0)
        s->node = xstrdup(v);
    s->src_meta = px_storlet_user_meta(h);
    s->src_len = h->body == HTTP_BODY_LENGTH ? (int64_t)h->content_length : -1;
    /* the input range: the node's report, or a loopback 206's */
    v = http_head_get(h, "Storlet-Input-Range");
    if (!v && s->d.has_range && h->status == 206)
        v = http_head_get(h, "Content-Range");
    if (v)
        s->input_range = xstrdup(v);
    if (!any_here(s) && s->snk_client) {
        /* a ruled GET the node ran whole: its output to the client */
        if (s->pr->done)
            return;
        struct eng_meta m = {NULL, s->src_ctype};
        respond_headers(s, &m);
        s->answered = true;
        client_response_start(s);
        /* sink_take pauses the node's read when the client is slow:
         * the client's drain resumes it */
        http_req_set_ops(s->pr->req, &client_out_ops, s);
        return;
    }
    if (!any_here(s)) {
        /* the object node ran the whole chain: its output is stored */
        s->out_meta = json_deep_copy(s->src_meta);
        snk_start(s);
        return;
    }
    /* hold the body until the first stage here is running */
    src_pause(s);
    prep_stage(s, first_here(s));
}

static void errbody_take(struct pst *s, struct evbuffer *b)
{
    size_t room = ERR_BODY_MAX - evbuffer_get_length(s->errbody);
    size_t n = evbuffer_get_length(b);
    evbuffer_remove_buffer(b, s->errbody, n < room ? n : room);
    evbuffer_drain(b, evbuffer_get_length(b));
}

/* The source answered 409: it is not the version whose facts decided
 * the chain (docs/rules.md 4.1). Nothing of this chain has answered: it
 * is dropped, and the request decided again from fresh facts, once;
 * after that, 503. */
static void source_changed(struct pst *s)
{
    struct px_req *pr = s->pr;
    bool again = !s->answered && !s->failed && !pr->done;
    if (again) {
        s->failed = true;   /* this chain answers nothing any more */
        stop_all(s);
        if (px_ctl_decide_again(pr))
            return;
        s->failed = false;
    }
    fail(s, 503, PX_RULES_CHANGED_TWICE);
}

static void errbody_answer(struct pst *s)
{
    size_t n = evbuffer_get_length(s->errbody);
    char *t = xmalloc(n + 1);
    evbuffer_remove(s->errbody, t, n);
    t[n] = '\0';
    if (s->src_status == 409 && px_rules_facts_used(s->pr)) {
        free(t);
        source_changed(s);
        return;
    }
    /* a mandatory stage that failed on the node: the generic reason (its
     * own may quote the data, docs/rules.md 4.2) */
    unsigned k = 0, split = first_here(s);
    bool any = false;
    for (unsigned i = 0; i < split; i++)
        any = any || mandatory_stage(s, i);
    if (any && s->src_status != 404) {
        unsigned long v;
        char *end;
        if (strncmp(t, "stage ", 6) == 0 && (v = strtoul(t + 6, &end, 10)) >= 1 &&
            v <= split && *end == ' ')
            k = (unsigned)v - 1;
        else
            while (k + 1 < split && !mandatory_stage(s, k))
                k++;
        if (mandatory_stage(s, k)) {
            fail_stage(s, k, s->src_status, t);
            free(t);
            return;
        }
    }
    fail(s, s->src_status, t);
    free(t);
}

/* -- loopback source: the plain object (or an authorizing HEAD) */

static void node_src_start(struct pst *s);

static void src_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    struct pst *s = arg;
    s->src_status = h->status;
    if (h->status < 200 || h->status >= 300) {
        s->errbody = evbuffer_new();
        return;
    }
    if (first_here(s) > 0)
        return;   /* an authorizing HEAD: the backend read follows */
    if (s->d.has_range && h->status != 206) {
        /* the read ignored the range (a large object whose segments one
         * listing page does not hold): never feed the whole as the range */
        fail(s, 501, "X-Storlet-Range: this large object cannot be read by range");
        return;
    }
    src_head(s, h);
}

static void src_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    (void)c;
    struct pst *s = arg;
    if (s->errbody) {
        errbody_take(s, b);
        return;
    }
    src_take(s, b);
}

static void src_done(struct http_client *c, int err, void *arg)
{
    (void)c;
    struct pst *s = arg;
    if (s->errbody) {
        errbody_answer(s);
        return;
    }
    if (err < 0 || s->src_status == 0) {
        fail(s, 503, "storlet: reading the source failed");
        return;
    }
    if (first_here(s) > 0) {
        /* the caller may read the source: read it through the node */
        http_client_free(s->src);
        s->src = NULL;
        node_src_start(s);
        return;
    }
    src_end(s);
}

static const struct http_client_ops src_ops = {
    .response = src_response,
    .body = src_body,
    .done = src_done,
};

/* Does the request ask for a manifest itself (?multipart-manifest=get)?
 * Then a storlet reads the manifest's own bytes, as a plain GET would. */
static bool manifest_get(struct px_req *pr)
{
    static const char want[] = "multipart-manifest=get";
    const char *q = http_req_query(pr->req);
    for (const char *f = q ? strstr(q, want) : NULL; f; f = strstr(f + 1, want))
        if ((f == q || f[-1] == '&') && (f[sizeof(want) - 1] == '\0' ||
                                         f[sizeof(want) - 1] == '&'))
            return true;
    return false;
}

/* A loopback GET of the plain source (nothing runs on the node), or a
 * HEAD that only checks the caller may read it (head_only). A large
 * object's manifest is assembled by that GET, with the caller's rights. */
static void mandatory_conditionals(struct pst *s, struct http_client *c);

static void loop_src_start(struct pst *s, bool head_only)
{
    struct px_req *pr = s->pr;
    const char *path = s->src_path;
    if (manifest_get(pr)) {
        size_t len = strlen(path) + 32;
        char *q = pool_alloc(pr->pool, len);
        snprintf(q, len, "%s?multipart-manifest=get", path);
        path = q;
    }
    s->src = http_client_new(pr->w->base, s->host, s->port, NULL);
    struct http_client *c = s->src;
    http_client_header(c, "X-Auth-Token", s->token);
    if (s->ruled) {
        /* the chain holds the source's read rules: read it as stored */
        const char *rc = px_cap_mint_target(pr, PX_CAP_RULED, s->src_path);
        if (rc)
            http_client_header(c, PX_CAP_HEADER, rc);
        /* decided with the source's facts: that version only */
        if (pr->rules->facts && pr->rules->facts_ts[0])
            http_client_header(c, PX_RULES_FACTS_HEADER, pr->rules->facts_ts);
    }
    if (!head_only)
        mandatory_conditionals(s, c);
    if (!head_only && s->d.has_range) {
        if (s->d.range_suffix)
            http_client_headerf(c, "Range", "bytes=-%llu", (unsigned long long)s->d.range_last);
        else if (s->d.range_open)
            http_client_headerf(c, "Range", "bytes=%llu-", (unsigned long long)s->d.range_first);
        else
            http_client_headerf(c, "Range", "bytes=%llu-%llu",
                                (unsigned long long)s->d.range_first,
                                (unsigned long long)s->d.range_last);
    }
    int rc = http_client_start(c, head_only ? "HEAD" : "GET", path, 0, &src_ops, s);
    if (rc == 0)
        rc = http_client_end(c);
    if (rc < 0)
        fail(s, 503, "storlet: cannot read the source");
}

/* -- backend source: the node runs the chain's prefix */

/*
 * ENG_VERIFIED_HEADER: per stage of the node's prefix, what this caller's
 * HEAD of the storlet said (now, or within FACTS_TTL_MS: facts_cached), so
 * that the node need not ask again; null for a stage whose facts are not
 * at hand (the node then HEADs it itself). Kept under one header line.
 */
#define VERIFIED_LINE_MAX 6144
static void verified_header(struct pst *s, struct http_client *c)
{
    char line[VERIFIED_LINE_MAX];
    size_t n = 0;
    bool any = false;
    line[n++] = '[';
    for (unsigned k = 0; k < s->plan.split; k++) {
        const char *v = s->verified[k];
        size_t need = (v ? strlen(v) : 4) + 2;
        if (!v || n + need + 8 >= sizeof(line))
            v = "null";
        else
            any = true;
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", k ? "," : "", v);
    }
    line[n++] = ']';
    line[n] = '\0';
    if (any)
        http_client_header(c, ENG_VERIFIED_HEADER, line);
}

static void backend_headers(struct pst *s, struct http_client *c)
{
    struct px_req *pr = s->pr;
    struct eng_seq prefix;
    eng_seq_init(&prefix);
    struct err e;
    for (unsigned k = 0; k < s->plan.split; k++)
        eng_seq_append(&prefix, s->seq.st[k].storlet, s->seq.st[k].params, ENG_SEQ_MAX, &e);
    json_t *j = eng_seq_to_json(&prefix);
    char *cj = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    eng_seq_release(&prefix);
    http_client_header(c, "X-Backend-Storlet-Chain", cj);
    /* each stage's wall budget comes back as a 102 (px_storlet_interim) */
    http_client_header(c, ENG_INTERIM_HEADER, "102");
    free(cj);
    const char *r = http_req_header(pr->req, "X-Storlet-Range");
    if (s->d.has_range && r)
        http_client_header(c, "X-Backend-Storlet-Range", r);
    char logs[128];
    if (eng_seq_stage_set_format(s->log_mask, 0, s->plan.split, logs, sizeof(logs)) > 0)
        http_client_header(c, "X-Backend-Storlet-Log", logs);
    if (eng_seq_stage_set_format(s->code_mask, 0, s->plan.split, logs, sizeof(logs)) > 0) {
        unsigned k = 0;
        while (!(s->code_mask & (1u << k)))
            k++;
        const char *cap = code_cap_of(s, k);
        if (cap) {
            http_client_header(c, "X-Backend-Storlet-Code-Stages", logs);
            http_client_header(c, "X-Backend-Storlet-Code-Cap", cap);
        }
    }
    px_rules_facts_header(pr, c);
    mandatory_conditionals(s, c);
    http_client_header(c, "X-Backend-Storlet-Token", s->token);
    verified_header(s, c);
    char ah[64];
    int ap;
    px_storlet_advertised(pr, ah, sizeof(ah), &ap);
    http_client_headerf(c, "X-Backend-Storlet-Proxy", "%s:%d", ah, ap);
    if (s->depth)
        http_client_headerf(c, "X-Backend-Storlet-Depth", "%u", s->depth);
    const char *cu, *ca;
    px_storlet_caller(pr, &cu, &ca);
    if (cu[0])
        http_client_header(c, "X-Backend-Storlet-User", cu);
    http_client_header(c, "X-Backend-Storlet-Caller-Account", ca ? ca : pr->path.account);
}

static void brd_headers(struct px_req *pr, struct http_client *c, void *arg)
{
    (void)pr;
    backend_headers(arg, c);
}

static bool brd_usable(int status, const struct http_head *h, void *arg)
{
    /* A node that did not run the chain it was sent (storlets off there)
     * answers the plain object: never the chain's output, above all not
     * under a mandatory read rule. Another node may run it; none: 503.
     * A precondition's 304 or 412 (under a mandatory rule, which sends
     * conditions) is an answer whoever gives it: none of its headers go
     * out. */
    const struct pst *s = arg;
    return px_storlet_usable(h) || (s->mandatory && (status == 304 || status == 412));
}

/*
 * The conditional headers of a GET under a mandatory read rule, for the
 * read of its source (docs/rules.md 4.2): If-Modified-Since and
 * If-Unmodified-Since as usual, If-None-Match and If-Match only as "*"
 * (the stored ETag is never an input; If-Match with ETags was 412
 * before anything ran).
 */
static void mandatory_conditionals(struct pst *s, struct http_client *c)
{
    if (!s->mandatory || s->d.op != ENG_OP_GET)
        return;
    static const char *const names[] = {"If-Modified-Since", "If-Unmodified-Since",
                                        "If-None-Match", "If-Match"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = http_req_header(s->pr->req, names[i]);
        if (v && (i < 2 || strcmp(v, "*") == 0))
            http_client_header(c, names[i], v);
    }
}

static void manifest_on_proxy(struct pst *s);

static void brd_response(struct px_req *pr, struct px_read *rd, const struct http_head *h,
                         void *arg)
{
    struct pst *s = arg;
    if (http_head_get(h, PST_MANIFEST_HEADER)) {
        px_read_abort(rd);
        s->brd = NULL;
        manifest_on_proxy(s);
        return;
    }
    if (h->status == 304 || h->status == 412) {
        /* a condition of a GET under a mandatory rule decided: nothing
         * runs, and none of the stored object's headers go out */
        px_read_abort(rd);
        s->brd = NULL;
        if (!s->answered && !pr->done) {
            s->answered = true;
            s->failed = true;
            if (s->applied[0])
                http_resp_header(pr->req, "X-Storlet-Rules-Applied", s->applied);
            px_reply(pr, h->status);
        }
        stop_all(s);
        return;
    }
    s->src_status = h->status;
    if (h->status < 200 || h->status >= 300) {
        s->errbody = evbuffer_new();
        return;
    }
    src_head(s, h);
}

static void brd_body(struct px_req *pr, struct px_read *rd, struct evbuffer *b, void *arg)
{
    (void)pr;
    (void)rd;
    struct pst *s = arg;
    if (s->errbody) {
        errbody_take(s, b);
        return;
    }
    src_take(s, b);
}

static void brd_failed(struct px_req *pr, int status, const struct px_hdrs *hdrs, void *arg)
{
    (void)hdrs;
    struct pst *s = arg;
    s->brd = NULL;
    if (status == 409 && px_rules_facts_used(pr)) {
        source_changed(s);
        return;
    }
    fail(s, status == 404 ? 404 : 503,
         status == 404                    ? "Not Found"
         : status >= 200 && status < 300 ? PX_STORLET_UNRUN   /* brd_usable */
                                          : NULL);
}

static void brd_end(struct px_req *pr, int err, void *arg)
{
    (void)pr;
    struct pst *s = arg;
    s->brd = NULL;
    if (s->errbody) {
        errbody_answer(s);
        return;
    }
    if (err < 0) {
        fail(s, 503, "storlet: reading the source failed");
        return;
    }
    src_end(s);
}

static const struct px_read_ops brd_ops = {
    .headers = brd_headers,
    .usable = brd_usable,
    .response = brd_response,
    .failed = brd_failed,
    .body = brd_body,
    .end = brd_end,
};

static void node_src_start(struct pst *s)
{
    struct px_req *pr = s->pr;
    px_nodes_get(pr, PX_RING_OBJECT, pr->path.account, s->src_c, s->src_o, 3 * 2, &s->onodes);
    s->brd = px_read_start(pr, "GET", &s->onodes, pr->path.account, s->src_c, s->src_o, NULL,
                           &brd_ops, s);
}

/* ------------------------------------------------------------ stages here */

static void client_drain(struct http_req *req, void *arg)
{
    (void)req;
    struct pst *s = arg;
    unsigned last = s->seq.n - 1;
    if (s->run[last])
        eng_run_resume_output(s->run[last]);
    else if (!any_here(s))
        src_resume(s);   /* the node's output goes straight to the client */
}

static void client_body(struct http_req *req, struct evbuffer *b, void *arg)
{
    (void)req;
    struct pst *s = arg;
    if (s->sent_etag) {
        /* the client's ETag names the bytes it sent (docs/rules.md 4.4) */
        int n = evbuffer_peek(b, -1, NULL, NULL, 0);
        if (n > 0) {
            struct evbuffer_iovec *v = xmalloc((size_t)n * sizeof(*v));
            n = evbuffer_peek(b, -1, NULL, v, n);
            for (int i = 0; i < n; i++)
                md5_update(&s->sent_md5, v[i].iov_base, v[i].iov_len);
            free(v);
        }
    }
    src_take(s, b);
}

static void client_body_end(struct http_req *req, void *arg)
{
    (void)req;
    src_end(arg);
}

static const struct http_req_ops client_ops = {
    .body = client_body,
    .body_end = client_body_end,
    .drain = client_drain,
};

static const struct http_req_ops client_out_ops = {
    .drain = client_drain,
};

static void respond_headers(struct pst *s, const struct eng_meta *m)
{
    struct http_req *req = s->pr->req;
    const char *k;
    json_t *v;
    /* a chain of several answers with its last stage's metadata; one
     * storlet keeps the object's, under its output's */
    json_t *base = first_here(s) == 0 && (s->seq.n > 1 || s->mandatory) ? NULL : s->src_meta;
    json_object_foreach(base, k, v) {
        if (m->metadata && json_object_get(m->metadata, k))
            continue;
        char *n = xasprintf("X-Object-Meta-%s", k);
        http_resp_header(req, n, json_string_value(v));
        free(n);
    }
    if (m->metadata) {
        json_object_foreach(m->metadata, k, v) {
            char *n = xasprintf("X-Object-Meta-%s", k);
            http_resp_header(req, n, json_string_value(v));
            free(n);
        }
    }
    const char *ct = m->content_type ? m->content_type
                     : s->next_ctype ? s->next_ctype
                     : s->src_ctype ? s->src_ctype : "application/octet-stream";
    http_resp_header(req, "Content-Type", ct);
    http_resp_header(req, "X-Storlet-Executed-On", executed_on(s));
    http_resp_header(req, "X-Storlet-Sequence-Placement", s->placement);
    if (s->applied[0])
        http_resp_header(req, "X-Storlet-Rules-Applied", s->applied);
    if (s->input_range)
        http_resp_header(req, "Storlet-Input-Range", s->input_range);
    px_resp_common(s->pr);
}

static void cut_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    stop_all(arg);
}

/* The chain's output is over: end the client response. Under a Range
 * cut still waiting for its last byte the output was shorter than the
 * Content-Range already sent promised, so the response ends abnormally
 * rather than as a short body that looks whole. */
static void client_end(struct pst *s)
{
    if (s->pr->done)
        return;
    if (s->cut) {
        log_notice("storlet output ended at byte %llu, before the range %llu-%llu",
                   (unsigned long long)s->out_pos, (unsigned long long)s->cut_first,
                   (unsigned long long)s->cut_last);
        http_resp_abort(s->pr->req);
        return;
    }
    http_resp_end(s->pr->req);
}

/* The output is complete at the end of a Range cut: end the response
 * and stop the chain (its remaining output is not wanted). The stop runs
 * from the loop: this is called from inside a stage's or the source's
 * output callback, which must not free its own run or read. */
static void cut_end(struct pst *s)
{
    s->cut = false;
    s->failed = true;   /* nothing more is answered; more output is dropped */
    if (!s->pr->done)
        http_resp_end(s->pr->req);
    if (!s->stop_ev)
        s->stop_ev = event_new(s->pr->w->base, -1, 0, cut_stop, s);
    if (s->stop_ev)
        event_active(s->stop_ev, EV_TIMEOUT, 0);
}

static void client_response_start(struct pst *s)
{
    if (s->cut) {
        http_resp_headerf(s->pr->req, "Content-Range", "bytes %llu-%llu/*",
                          (unsigned long long)s->cut_first,
                          (unsigned long long)s->cut_last);
        http_resp_start(s->pr->req, 206, HTTP_LENGTH_UNKNOWN);
        return;
    }
    http_resp_start(s->pr->req, 200, HTTP_LENGTH_UNKNOWN);
}

static void stage_start(struct eng_run *r, const struct eng_meta *m, void *arg)
{
    struct pst_stage *st = arg;
    struct pst *s = st->s;
    if (st->k + 1 < s->seq.n) {
        /* the next stage reads this one's output and its metadata */
        eng_run_pause_output(r);
        json_decref(s->next_meta);
        s->next_meta = m->metadata ? json_deep_copy(m->metadata) : json_object();
        char *ct = xstrdup(m->content_type ? m->content_type
                           : s->next_ctype ? s->next_ctype
                           : s->src_ctype ? s->src_ctype : "application/octet-stream");
        free(s->next_ctype);
        s->next_ctype = ct;
        prep_stage(s, st->k + 1);
        return;
    }
    if (s->snk_client) {
        if (s->pr->done)
            return;
        respond_headers(s, m);
        s->answered = true;
        client_response_start(s);
        return;
    }
    /* PUT or COPY: the output metadata over the request's (or source's);
     * a copy's source read raw here under a mandatory read rule gives none
     * of its stored metadata, as its GET would not (docs/rules.md 4.2) */
    bool hide = s->d.op == ENG_OP_COPY && s->ruled && s->n_pre > 0 && first_here(s) == 0;
    s->out_meta = s->src_meta && !hide ? json_deep_copy(s->src_meta) : json_object();
    if (m->metadata)
        json_object_update(s->out_meta, m->metadata);
    if (m->content_type)
        s->out_ctype = xstrdup(m->content_type);
    snk_start(s);
}

static void stage_output(struct eng_run *r, struct evbuffer *b, void *arg)
{
    struct pst_stage *st = arg;
    struct pst *s = st->s;
    if (st->k + 1 == s->seq.n) {
        if (!sink_take(s, b))
            eng_run_pause_output(r);
        return;
    }
    struct eng_run *next = s->run[st->k + 1];
    if (!next || !eng_run_write(next, b))
        eng_run_pause_output(r);
}

static void stage_input_drain(struct eng_run *r, void *arg)
{
    (void)r;
    struct pst_stage *st = arg;
    struct pst *s = st->s;
    if (st->k == first_here(s))
        src_resume(s);
    else if (s->run[st->k - 1])
        eng_run_resume_output(s->run[st->k - 1]);
}

static void stage_done(struct eng_run *r, const struct eng_outcome *o, void *arg)
{
    (void)r;
    struct pst_stage *st = arg;
    struct pst *s = st->s;
    unsigned k = st->k;
    s->run[k] = NULL;
    if (s->log_mask & (1u << k))
        eng_log_upload(s->pr->w->base, s->host, s->port, s->token, s->pr->path.account,
                       s->seq.st[k].storlet, s->pr->txn, o);
    if (o->kind != ENG_OK) {
        fail_stage(s, k, o->kind == ENG_FAILED_AFTER ? 500 : o->status, o->reason);
        return;
    }
    s->ended[k] = true;
    if (k + 1 < s->seq.n) {
        if (s->run[k + 1])
            eng_run_input_end(s->run[k + 1]);
        return;
    }
    if (s->snk_client) {
        client_end(s);
    } else if (s->snk) {
        http_client_end(s->snk);   /* the PUT's answer is the reply */
    }
}

static const struct eng_run_ops stage_ops = {
    .start = stage_start,
    .output = stage_output,
    .input_drain = stage_input_drain,
    .done = stage_done,
};

/* "bytes a-b/size" (Content-Range or Storlet-Input-Range) into *first,
 * *last, *size; false when v is not of that form. */
static bool range_of(const char *v, uint64_t *first, uint64_t *last, uint64_t *size)
{
    if (!v || strncasecmp(v, "bytes ", 6) != 0)
        return false;
    v += 6;
    const char *dash = strchr(v, '-'), *slash = dash ? strchr(dash, '/') : NULL;
    char a[32], b[32];
    size_t al = dash ? (size_t)(dash - v) : 0, bl = slash ? (size_t)(slash - dash - 1) : 0;
    if (!slash || al == 0 || al >= sizeof(a) || bl == 0 || bl >= sizeof(b))
        return false;
    memcpy(a, v, al);
    a[al] = '\0';
    memcpy(b, dash + 1, bl);
    b[bl] = '\0';
    return parse_u64(a, first) == 0 && parse_u64(b, last) == 0 &&
           parse_u64(slash + 1, size) == 0 && *first <= *last;
}

static void prep_done(struct eng_prep *p, const struct eng_prep_result *r, void *arg)
{
    (void)p;
    struct pst *s = arg;
    struct px_req *pr = s->pr;
    s->prep = NULL;
    unsigned k = first_here(s);
    while (k < s->seq.n && (s->run[k] || s->ended[k]))
        k++;
    if (pr->done || s->failed || k >= s->seq.n)
        return;
    if (r->status) {
        fail_stage(s, k, r->status, r->reason);
        return;
    }
    free(s->etag[k]);
    s->etag[k] = xstrdup(r->code.etag);
    bool first = k == first_here(s);
    if (first && s->src_client) {
        const struct http_head *h = http_req_head(pr->req);
        s->src_meta = px_storlet_user_meta(h);
        const char *ct = http_req_header(pr->req, "Content-Type");
        s->src_ctype = ct ? xstrdup(ct) : NULL;
        s->src_len = h->body == HTTP_BODY_LENGTH ? (int64_t)h->content_length : -1;
    }
    json_t *jr = json_array();
    for (size_t i = 0; i < pr->ngroups; i++)
        json_array_append_new(jr, json_string(pr->groups[i]));
    /* the chain's first stage reads the X-Storlet-Range here (not a stage
     * after a node prefix): its invocation document says so */
    uint64_t rf = 0, rl = 0, rs = 0;
    bool ranged = k == 0 && s->d.has_range && range_of(s->input_range, &rf, &rl, &rs);
    s->stage[k].s = s;
    s->stage[k].k = k;
    const char *cu, *ca;
    px_storlet_caller(pr, &cu, &ca);
    struct eng_invocation inv = {
        .code = &r->code, .code_dir = r->code_dir, .parameters = s->seq.st[k].params,
        .op = s->d.op, .account = pr->path.account,
        .container = pr->path.container, .object = pr->path.object,
        .trans_id = pr->txn, .on_proxy = true,
        .has_range = ranged, .range_first = rf, .range_last = rl, .range_size = rs,
        .caller_user = cu, .caller_account = ca,
        .caller_roles = jr, .content_length = first ? s->src_len : -1,
        .budget_len = first ? 0 : s->src_len,   /* a later stage: the chain's input */
        .content_type = first ? s->src_ctype : s->next_ctype,
        .metadata = first ? s->src_meta : s->next_meta, .input_fd = -1,
        .svc_host = s->depth + 1 < ENG_SVC_DEPTH_MAX ? s->host : NULL,
        .svc_port = s->port, .svc_token = s->token, .svc_depth = s->depth,
    };
    struct err e;
    err_clear(&e);
    s->run[k] = eng_run_start(pr->srv->eng, pr->w->base, &inv, &stage_ops, &s->stage[k], &e);
    json_decref(jr);
    if (s->run[k])   /* a loopback split or a services invoke waits for it */
        eng_tell_budget(pr->req, eng_run_wall_ms(s->run[k]));
    if (!s->run[k]) {
        log_warn("storlet stage %u (%s): %s", k + 1, s->seq.st[k].storlet, e.msg);
        fail_stage(s, k, 503, e.msg);
        return;
    }
    if (first) {
        if (s->src_client) {
            http_req_set_ops(pr->req, &client_ops, s);
        } else {
            if (s->snk_client)
                http_req_set_ops(pr->req, &client_out_ops, s);
            if (s->src_ended)
                eng_run_input_end(s->run[k]);
            else
                src_resume(s);
        }
        return;
    }
    if (s->ended[k - 1])
        eng_run_input_end(s->run[k]);
    else if (s->run[k - 1])
        eng_run_resume_output(s->run[k - 1]);
}

static void prep_stage(struct pst *s, unsigned k)
{
    struct px_req *pr = s->pr;
    s->prep = eng_prep_start_known(pr->srv->eng, pr->w->base, s->host, s->port, s->token,
                                   code_cap_of(s, k), s->verified[k], pr->path.account,
                                   s->seq.st[k].storlet, pr->txn, prep_done, s);
}

/* ------------------------------------------------------------ facts */

/*
 * What the planner knows of a storlet (its object's Run-On and Services
 * metadata), cached per worker thread for FACTS_TTL_MS by account, name
 * and caller (facts_who), with the ETag it was read at and what the HEAD
 * said (verified): a storlet re-uploaded with other placement metadata is
 * planned by it within that time. This is the permission check of the
 * storlet for the whole request: the node takes `verified` for its own
 * HEAD, so within FACTS_TTL_MS of a change the previous version may still
 * run, and a caller who lost read access to it may still run it
 * (docs/internals/engine.md).
 */
#define FACTS_SLOTS 128
#define FACTS_TTL_MS 10000
#define VERIFIED_MAX 768
struct facts_slot {
    char account[128];
    char name[256];
    char who[MD5_HEX_LEN];     /* whose HEAD said it: md5 of the token, or of
                                * the account's authority (a rule's stage) */
    struct eng_seq_props props;
    char etag[64];
    char verified[VERIFIED_MAX];
    uint64_t expires_ms;
};
static _Thread_local struct facts_slot facts_cache[FACTS_SLOTS];

static struct facts_slot *facts_slot_of(const char *a, const char *n)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = a; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ '/') * 1099511628211ull;
    for (const char *p = n; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return &facts_cache[h % FACTS_SLOTS];
}

/* The facts are the caller's: a HEAD that one token may make says nothing
 * of another's rights, and the node trusts them (ENG_VERIFIED_HEADER). */
static void facts_who(struct pst *s, unsigned k, char who[MD5_HEX_LEN])
{
    struct md5 m;
    md5_init(&m);
    if (s->code_mask & (1u << k)) {
        md5_update(&m, "code-cap", 8);
    } else {
        md5_update(&m, "token:", 6);
        md5_update(&m, s->token, strlen(s->token));
    }
    md5_final_hex(&m, who);
}

static bool facts_cached(struct pst *s, unsigned k)
{
    const char *a = s->pr->path.account, *n = s->seq.st[k].storlet;
    struct facts_slot *sl = facts_slot_of(a, n);
    char who[MD5_HEX_LEN];
    facts_who(s, k, who);
    if (strcmp(sl->account, a) != 0 || strcmp(sl->name, n) != 0 ||
        strcmp(sl->who, who) != 0 || px_now_ms() >= sl->expires_ms)
        return false;
    s->props[k] = sl->props;
    free(s->etag[k]);
    s->etag[k] = sl->etag[0] ? xstrdup(sl->etag) : NULL;
    free(s->verified[k]);
    s->verified[k] = sl->verified[0] ? xstrdup(sl->verified) : NULL;
    return true;
}

static void facts_remember(struct pst *s, unsigned k)
{
    const char *a = s->pr->path.account, *n = s->seq.st[k].storlet;
    if (strlen(a) >= sizeof(facts_cache[0].account) ||
        strlen(n) >= sizeof(facts_cache[0].name))
        return;
    struct facts_slot *sl = facts_slot_of(a, n);
    str_copy(sl->account, a, sizeof(sl->account));
    str_copy(sl->name, n, sizeof(sl->name));
    facts_who(s, k, sl->who);
    sl->props = s->props[k];
    str_copy(sl->verified,
             s->verified[k] && strlen(s->verified[k]) < sizeof(sl->verified) ? s->verified[k]
                                                                              : "",
             sizeof(sl->verified));
    str_copy(sl->etag, s->etag[k] && strlen(s->etag[k]) < sizeof(sl->etag) ? s->etag[k] : "",
             sizeof(sl->etag));
    sl->expires_ms = px_now_ms() + FACTS_TTL_MS;
}

static unsigned fact_index(struct pst *s, struct http_client *c)
{
    for (unsigned k = 0; k < s->seq.n; k++)
        if (s->fact[k] == c)
            return k;
    return ENG_SEQ_MAX;
}

/* ENG_VERIFIED_HEADER's element for a storlet the caller just HEADed with
 * success: its ETag and X-Object-Meta-Storlet-* headers, or NULL when it is
 * not a deployed storlet (the node's own HEAD then says why) or too big. */
static char *verified_of(struct pst *s, unsigned k, const struct http_head *h)
{
    struct eng_code code;
    struct err e;
    err_clear(&e);
    if (eng_code_from_head(&code, s->pr->path.account, s->seq.st[k].storlet, h, &e) < 0)
        return NULL;
    json_t *o = json_object();
    bool whole = true;
    for (unsigned i = 0; i < h->nheaders && whole; i++) {
        const char *n = h->headers[i].name;
        if (strcasecmp(n, "ETag") == 0 || strncasecmp(n, "X-Object-Meta-Storlet-", 22) == 0)
            whole = json_object_set_new(o, n, json_string(h->headers[i].value)) == 0;
    }
    char *v = whole ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    if (v && strlen(v) >= VERIFIED_MAX) {
        free(v);
        v = NULL;
    }
    return v;
}

static void fact_response(struct http_client *c, const struct http_head *h, void *arg)
{
    struct pst *s = arg;
    unsigned k = fact_index(s, c);
    if (k >= s->seq.n || s->facts_failed)
        return;
    if (h->status < 200 || h->status >= 300) {
        s->facts_failed = true;
        fail_stage(s, k, 401, "Failed to verify access to the storlet");
        return;
    }
    struct err e;
    err_clear(&e);
    if (eng_seq_props_from_head(h, &s->props[k], &e) < 0) {
        s->facts_failed = true;
        fail_stage(s, k, 400, e.msg);
        return;
    }
    const char *et = http_head_get(h, "ETag");
    free(s->etag[k]);
    s->etag[k] = et ? xstrdup(et) : NULL;
    free(s->verified[k]);
    s->verified[k] = verified_of(s, k, h);
    facts_remember(s, k);
}

static void fact_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    (void)c;
    (void)arg;
    evbuffer_drain(b, evbuffer_get_length(b));
}

static void fact_done(struct http_client *c, int err, void *arg)
{
    struct pst *s = arg;
    unsigned k = fact_index(s, c);
    if (k >= s->seq.n)
        return;
    s->fact[k] = NULL;
    http_client_free(c);
    s->facts_pending--;
    if (s->facts_failed)
        return;
    if (err < 0) {
        s->facts_failed = true;
        fail_stage(s, k, 503, "storlet: cannot read the storlet's metadata");
        return;
    }
    if (s->facts_pending == 0)
        facts_done(s);
}

static const struct http_client_ops fact_ops = {
    .response = fact_response,
    .body = fact_body,
    .done = fact_done,
};

/* HEADs (with the caller's token) the storlets the cache does not know,
 * in parallel; facts_done follows. */
static void facts_start(struct pst *s)
{
    struct px_req *pr = s->pr;
    const char *acct = quote(pr->pool, pr->path.account);
    for (unsigned k = 0; k < s->seq.n; k++) {
        if (facts_cached(s, k))
            continue;
        const char *name = quote(pr->pool, s->seq.st[k].storlet);
        size_t len = strlen(acct) + strlen(name) + 32;
        char *path = pool_alloc(pr->pool, len);
        snprintf(path, len, "/v1/%s/%s/%s", acct, ENG_STORLET_CONTAINER, name);
        struct http_client *c = http_client_new(pr->w->base, s->host, s->port, NULL);
        s->fact[k] = c;
        s->facts_pending++;
        http_client_header(c, "X-Auth-Token", s->token);
        const char *cap = code_cap_of(s, k);
        if (cap)
            http_client_header(c, PX_CAP_HEADER, cap);
        int rc = http_client_start(c, "HEAD", path, 0, &fact_ops, s);
        if (rc == 0)
            rc = http_client_end(c);
        if (rc < 0) {
            s->facts_failed = true;
            fail_stage(s, k, 503, "storlet: cannot read the storlet's metadata");
            return;
        }
    }
    if (s->facts_pending == 0)
        facts_done(s);
}

/* ------------------------------------------------------------ the chain */

/*
 * THE place where the chain to run is made from the request: the client's
 * X-Run-Storlet list with its parameters (eng_seq_from_head), composed
 * with the storlet rules (docs/rules.md section 3, px_rules_eval):
 * mandatory read stages before the client's, mandatory write stages
 * after, or a plain rule's stages when the client named none; and two
 * stage sets on s: log_mask, whose logs go to storletlog (the client's
 * stages with X-Storlet-Generate-Log, never a rule's), and code_mask,
 * whose storlet code is read with the account's authority instead of the
 * caller's (every rule's stage). Everything downstream (facts, placement,
 * the hand-off to the node, execution, provenance) runs from these alone.
 * Synchronous: the rule documents were loaded before (px_rules_load).
 * Returns 0 with *out filled (n == 0: no storlet runs, the request goes on
 * as a plain one), or a negative errno with the reason in e: -EINVAL or
 * -E2BIG answer 400, -EACCES 403, anything else 503. *out is empty on
 * entry.
 */
static int chain_of(struct pst *s, struct eng_seq *out, struct err *e)
{
    struct px_req *pr = s->pr;
    struct eng_seq client;
    eng_seq_init(&client);
    int rc = eng_seq_from_head(http_req_head(pr->req), http_req_query(pr->req), &client, e);
    if (rc < 0)
        return rc;
    enum eng_rules_method m = s->d.op == ENG_OP_GET   ? ENG_RULES_GET
                              : s->d.op == ENG_OP_PUT ? ENG_RULES_PUT
                                                      : ENG_RULES_COPY;
    struct eng_rules_decision d;
    rc = px_rules_eval(pr, m, rc == 0 ? &client : NULL, &d, e);
    eng_seq_release(&client);
    if (rc < 0)
        return rc;
    rc = eng_seq_extend(out, &d.chain, ENG_SEQ_MAX, e);
    if (rc == 0 && m == ENG_RULES_PUT && out->n > 0 && eng_manifest_put(http_req_head(pr->req))) {
        /* the client named no storlet (eng_decide refused that): a write
         * rule's stages would read the manifest, while the data went up
         * in segments without them (docs/rules.md 4.4) */
        rc = d.mandatory ? -EACCES : -EINVAL;
        err_set(e, rc, "%s", d.mandatory
                                 ? "A mandatory storlet rule applies to writes of this object: "
                                   "a large object's manifest cannot be stored here (its "
                                   "segments went up without the rule's storlets); upload "
                                   "it unsegmented"
                                 : "A storlet rule applies to writes of this object: a large "
                                   "object's manifest carries no data for it; upload it "
                                   "unsegmented");
    }
    if (rc == 0) {
        s->ruled = pr->rules && pr->rules->on;
        s->mandatory = d.mandatory;
        s->n_pre = d.n_pre;
        s->n_post = d.n_post;
        if (d.main == ENG_RULES_MAIN_PLAIN) {
            s->rule_lo = d.n_pre;
            s->rule_hi = out->n - d.n_post;
        }
        str_copy(s->applied, d.applied, sizeof(s->applied));
        s->log_mask = 0;
        if (s->d.generate_log && d.main == ENG_RULES_MAIN_EXPLICIT)
            for (unsigned k = d.n_pre; k < out->n - d.n_post; k++)
                s->log_mask |= 1u << k;
        s->code_mask = 0;
        for (unsigned k = 0; k < out->n; k++)
            if (rule_stage(s, k))
                s->code_mask |= 1u << k;
        /* a client ETag names the bytes it sent, whoever chose the chain
         * (docs/rules.md 4.4): checked, never silently dropped */
        if (s->src_client && out->n > 0 && http_req_header(pr->req, "ETag")) {
            s->sent_etag = http_req_header(pr->req, "ETag");
            md5_init(&s->sent_md5);
        }
    }
    eng_rules_decision_release(&d);
    return rc;
}

/* The plan is made: run it. */
static void facts_done(struct pst *s)
{
    struct px_req *pr = s->pr;
    enum eng_seq_input in =
        s->d.op == ENG_OP_PUT || s->d.on_proxy ? ENG_SEQ_FROM_PROXY : ENG_SEQ_FROM_OBJECT;
    struct err e;
    err_clear(&e);
    if (eng_seq_plan(&s->seq, s->props, in, &s->plan, &e) < 0) {
        fail(s, 400, e.msg);
        return;
    }
    eng_seq_plan_describe(&s->plan, s->placement, sizeof(s->placement));
    log_info("storlet chain of %u on %s: %s", s->seq.n, http_req_target(pr->req),
             s->placement);
    if (s->plan.split > 0) {
        /* The node's chain may consume its input for its whole wall
         * budget before the first output byte: waiting only node_timeout
         * would give up on a working node and run the chain again
         * elsewhere. Until the node says a stage's budget (a 102,
         * px_storlet_interim, which may lengthen the wait: the budget grows
         * with the input) the base wall time is waited for. */
        uint64_t t = (uint64_t)pr->srv->conf.storlet_wall_timeout +
                     (uint64_t)px_read_timeout(pr->srv);
        pr->read_timeout_ms = t > UINT_MAX ? UINT_MAX : (unsigned)t;
    }
    if (s->d.op == ENG_OP_GET && !any_here(s) && !s->applied[0]) {
        pr->stl = s;            /* px_storlet_forward_headers sends the chain */
        px_obj_read(pr);
        return;
    }
    if (s->src_client) {
        prep_stage(s, 0);       /* PUT: the body waits for the first stage */
        return;
    }
    if (s->plan.split == 0) {
        loop_src_start(s, false);
        return;
    }
    if (s->d.op == ENG_OP_COPY) {
        loop_src_start(s, true);   /* may the caller read the source? */
        return;
    }
    node_src_start(s);
}

/*
 * The source is a large object's manifest: its stored bytes are not the
 * object, so the node ran nothing (objectd's obj_storlet_manifest). Every
 * stage runs here over a loopback GET of the source, which assembles the
 * segments with the caller's rights (their container's ACL and rules
 * apply, px_dlo.c); a stage that must run on the object node cannot run.
 */
static void manifest_on_proxy(struct pst *s)
{
    struct err e;
    err_clear(&e);
    if (eng_seq_plan(&s->seq, s->props, ENG_SEQ_FROM_PROXY, &s->plan, &e) < 0) {
        char why[600];
        snprintf(why, sizeof(why), "%s (a large object is assembled on the proxy)", e.msg);
        fail(s, 400, why);
        return;
    }
    eng_seq_plan_describe(&s->plan, s->placement, sizeof(s->placement));
    log_info("storlet chain of %u on the large object %s: %s", s->seq.n,
             http_req_target(s->pr->req), s->placement);
    loop_src_start(s, false);
}

static void go(struct pst *s)
{
    struct px_req *pr = s->pr;
    struct err e;
    err_clear(&e);
    int rc = chain_of(s, &s->seq, &e);
    if (rc < 0) {
        answer(s, rc == -EINVAL || rc == -E2BIG ? 400 : rc == -EACCES ? 403 : 503,
               e.msg[0] ? e.msg : NULL);
        return;
    }
    if (s->seq.n == 0) {
        /* nothing to run after all: the plain request */
        if (s->d.op == ENG_OP_GET)
            px_obj_read(pr);
        else if (s->d.op == ENG_OP_PUT)
            px_obj_put(pr);
        else
            px_obj_copy(pr);
        return;
    }
    facts_start(s);
}

/* ------------------------------------------------------------ account */

/* Whether the account is enabled for storlets comes from px_rules.c's
 * account info: one process-wide cache for the storlet switch and the
 * rule documents, forgotten at once by px_rules_forget_account when this
 * proxy changes the account (docs/rules.md, note on account info). */
static void enabled_known(struct px_req *pr, const struct px_rules_account *ai, void *arg)
{
    (void)pr;
    struct pst *s = arg;
    if (!ai->enabled) {
        answer(s, 400, "Account disabled for storlets");
        return;
    }
    if (s->upload) {
        px_obj_put(s->pr);   /* the account may hold storlets: store it */
        return;
    }
    go(s);
}

static void check_enabled(struct pst *s);

/* Returns false when it answered (bad metadata) or took the request (a
 * valid PUT waits for the account check). */
static bool upload_checked(struct px_req *pr)
{
    enum http_method m = http_req_method(pr->req);
    if (m != HTTP_M_PUT && m != HTTP_M_POST)
        return true;
    const char *c = pr->path.container;
    bool stl = strcmp(c, ENG_STORLET_CONTAINER) == 0;
    if (!stl && strcmp(c, ENG_DEPENDENCY_CONTAINER) != 0)
        return true;
    if (http_req_header(pr->req, "X-Copy-From"))
        return true;
    bool reseller = false;
    for (size_t i = 0; i < pr->ngroups; i++)
        reseller = reseller || strcmp(pr->groups[i], ".reseller_admin") == 0;
    struct err e;
    err_clear(&e);
    int rc = stl ? eng_validate_storlet(pr->path.object, http_req_head(pr->req), reseller, &e)
                 : eng_validate_dependency(pr->path.object, http_req_head(pr->req), &e);
    if (rc == 0 && m == HTTP_M_POST)
        return true;
    if (rc == 0) {
        struct pst *s = pool_calloc(pr->pool, sizeof(*s));
        s->pr = pr;
        s->upload = true;
        pool_cleanup_add(pr->pool, cleanup, s);
        check_enabled(s);
        return false;
    }
    px_reply_text(pr, rc == -EPERM ? 403 : 400, e.msg);
    return false;
}

/*
 * A request without X-Run-Storlet on which storlet rules put a chain
 * (docs/rules.md section 3): fills *d as eng_decide would for a storlet
 * request of that operation. Returns false when no rule applies.
 */
static bool rules_entry(struct px_req *pr, struct eng_decision *d)
{
    if (!pr->rules || !pr->rules->on)
        return false;
    enum http_method m = http_req_method(pr->req);
    enum eng_op op;
    enum eng_rules_method rm;
    if (m == HTTP_M_GET) {
        op = ENG_OP_GET;
        rm = ENG_RULES_GET;
    } else if (m == HTTP_M_PUT && !http_req_header(pr->req, "X-Copy-From")) {
        op = ENG_OP_PUT;
        rm = ENG_RULES_PUT;
    } else if (m == HTTP_M_PUT || m == HTTP_M_COPY) {
        op = ENG_OP_COPY;
        rm = ENG_RULES_COPY;
    } else {
        return false;
    }
    struct eng_rules_decision rd;
    struct err e;
    err_clear(&e);
    if (px_rules_eval(pr, rm, NULL, &rd, &e) < 0) {
        /* chain_of decides again and answers the 400 */
        rd.chain.n = 1;
    }
    bool any = rd.chain.n > 0;
    eng_rules_decision_release(&rd);
    if (!any)
        return false;
    memset(d, 0, sizeof(*d));
    d->where = op == ENG_OP_PUT ? ENG_RUN_HERE : ENG_FORWARD;
    d->op = op;
    return true;
}

/* Range under rules: bytes=a-b of the chain's output (4.2). Anything
 * else (open, suffix, several ranges) is ignored, as HTTP allows: the
 * whole output with 200. An open range would need a Content-Range naming
 * a last byte nobody knows before the chain has ended. */
static void rules_range(struct pst *s)
{
    const char *v = http_req_header(s->pr->req, "Range");
    if (!v || strncasecmp(v, "bytes=", 6) != 0 || strchr(v, ','))
        return;
    v += 6;
    const char *dash = strchr(v, '-');
    if (!dash || dash == v)
        return;
    char a[32], b[32];
    size_t al = (size_t)(dash - v), bl = strlen(dash + 1);
    if (al >= sizeof(a) || bl >= sizeof(b))
        return;
    memcpy(a, v, al);
    a[al] = '\0';
    memcpy(b, dash + 1, bl + 1);
    uint64_t first, last = 0;
    if (bl == 0 || parse_u64(a, &first) < 0 || parse_u64(b, &last) < 0 || last < first)
        return;
    s->cut = true;
    s->cut_first = first;
    s->cut_last = last;
}

bool px_storlet_object(struct px_req *pr)
{
    if (!pr->srv->eng)
        return false;
    if (!upload_checked(pr))
        return true;
    struct eng_decision d;
    eng_decide(ENG_ROLE_PROXY, http_req_head(pr->req), &d);
    bool by_rules = false;
    if (d.where == ENG_NONE) {
        if (!rules_entry(pr, &d))
            return false;
        by_rules = true;
    }
    if (d.where == ENG_REJECT) {
        px_reply_text(pr, d.status, d.reason);
        return true;
    }
    const char *tok = http_req_header(pr->req, "X-Auth-Token");
    if (!tok || !tok[0])
        tok = http_req_header(pr->req, "X-Storage-Token");
    if (!tok || !tok[0]) {
        if (!by_rules) {
            px_reply_text(pr, 401, "Failed to verify access to the storlet");
            return true;
        }
        /* an anonymous caller (public container) under a rule: the
         * chain's own requests are anonymous too (an empty token), its
         * rules' code is read with the account's capability */
        tok = "";
    }
    const char *dh = http_req_header(pr->req, "X-Storlet-Depth");
    uint64_t depth = 0;
    if (dh && (parse_u64(dh, &depth) < 0 || depth >= ENG_SVC_DEPTH_MAX)) {
        px_reply_text(pr, 508, "storlets invoke each other too deeply");
        return true;
    }
    struct pst *s = pool_calloc(pr->pool, sizeof(*s));
    s->pr = pr;
    s->depth = (unsigned)depth;
    s->d = d;
    s->d.storlet = NULL;   /* the chain (chain_of) says what runs */
    s->token = tok;
    if (by_rules && d.op == ENG_OP_GET)
        rules_range(s);
    eng_seq_init(&s->seq);
    px_storlet_self(pr, s->host, sizeof(s->host), &s->port);
    pool_cleanup_add(pr->pool, cleanup, s);

    const char *acct = quote(pr->pool, pr->path.account);
    const char *self = quote(pr->pool, pr->path.container);
    const char *obj = quote(pr->pool, pr->path.object);
    char *here = pool_alloc(pr->pool, strlen(acct) + strlen(self) + strlen(obj) + 8);
    snprintf(here, strlen(acct) + strlen(self) + strlen(obj) + 8, "/v1/%s/%s/%s", acct, self,
             obj);
    s->src_c = pr->path.container;
    s->src_o = pr->path.object;
    switch (d.op) {
    case ENG_OP_GET:
        s->snk_client = true;
        s->src_path = here;
        break;
    case ENG_OP_PUT:
        s->src_client = true;
        s->dst_path = here;
        break;
    case ENG_OP_COPY: {
        bool is_copy = http_req_method(pr->req) == HTTP_M_COPY;
        const char *ref = is_copy ? http_req_header(pr->req, "Destination")
                                  : http_req_header(pr->req, "X-Copy-From");
        if (!ref || !*ref) {
            px_reply_text(pr, 412, "Destination header required");
            return true;
        }
        /* read as px_ctl.c's rules and px_put.c's copy read it (decoded,
         * one leading "/", split at the first "/"), so the object copied
         * is the one the rules were decided for, and quoted again: no
         * query or second path rides along */
        size_t rl = strlen(ref);
        char *dec = pool_alloc(pr->pool, rl + 1);
        dec[names_unquote(ref, rl, dec)] = '\0';
        char *rc = dec[0] == '/' ? dec + 1 : dec;
        char *slash = strchr(rc, '/');
        if (!slash || slash == rc || !slash[1]) {
            px_reply_text(pr, 412, "Bad header value: expected <container>/<object>");
            return true;
        }
        *slash = '\0';
        const char *qc = quote(pr->pool, rc), *qo = quote(pr->pool, slash + 1);
        size_t on = strlen(acct) + strlen(qc) + strlen(qo) + 8;
        char *other = pool_alloc(pr->pool, on);
        snprintf(other, on, "/v1/%s/%s/%s", acct, qc, qo);
        char *hn = pool_alloc(pr->pool, strlen(pr->path.container) + strlen(pr->path.object) + 2);
        snprintf(hn, strlen(pr->path.container) + strlen(pr->path.object) + 2, "%s/%s",
                 pr->path.container, pr->path.object);
        s->src_path = is_copy ? here : other;
        s->dst_path = is_copy ? other : here;
        s->src_name = hn;
        if (!is_copy) {
            s->src_c = rc;
            s->src_o = slash + 1;
            /* provenance names the source decoded, as a COPY's does */
            size_t nl = strlen(rc) + strlen(slash + 1) + 2;
            char *n = pool_alloc(pr->pool, nl);
            snprintf(n, nl, "%s/%s", rc, slash + 1);
            s->src_name = n;
        }
        break;
    }
    }
    check_enabled(s);
    return true;
}

/* Is the account enabled? (an internal read, as Swift's account info) */
static void check_enabled(struct pst *s)
{
    px_rules_account_info(s->pr, enabled_known, s);
}

bool px_storlet_forward_headers(struct px_req *pr, struct http_client *c)
{
    struct pst *s = pr->stl;
    if (!pr->srv->eng || !s)
        return false;
    backend_headers(s, c);
    return true;
}

void px_storlet_caller(struct px_req *pr, const char **user, const char **account)
{
    /* px_auth_groups' list: the token's account, account:user, groups */
    *user = pr->ngroups >= 2 ? pr->groups[1] : "";
    *account = NULL;
    if (pr->ngroups >= 1) {
        const char *pfx = px_auth_reseller_prefix(pr->srv->auth);
        size_t n = strlen(pfx) + strlen(pr->groups[0]) + 1;
        char *a = pool_alloc(pr->pool, n);
        snprintf(a, n, "%s%s", pfx, pr->groups[0]);
        *account = a;
    }
}

void px_storlet_interim(struct px_req *pr, struct http_client *c, const struct http_head *h)
{
    uint64_t ms;
    if (eng_budget_of(h, &ms) < 0)
        return;
    uint64_t t = ms + px_read_timeout(pr->srv);
    http_client_extend_io_timeout(c, t > UINT_MAX ? UINT_MAX : (unsigned)t);
    eng_tell_budget(pr->req, ms);
}

bool px_storlet_usable(const struct http_head *h)
{
    return http_head_get(h, "X-Storlet-Executed-On") != NULL ||
           http_head_get(h, PST_MANIFEST_HEADER) != NULL;
}

bool px_storlet_manifest(struct px_req *pr, struct px_read *rd, const struct http_head *h)
{
    struct pst *s = pr->stl;
    if (!pr->srv->eng || !s || !http_head_get(h, PST_MANIFEST_HEADER))
        return false;
    px_read_abort(rd);
    pr->stl = NULL;
    manifest_on_proxy(s);
    return true;
}

void px_storlet_self(struct px_req *pr, char *host, size_t n, int *port)
{
    const char *ip = pr->srv->conf.bind_ip;
    if (!ip || !*ip || strcmp(ip, "0.0.0.0") == 0)
        ip = "127.0.0.1";
    else if (strcmp(ip, "::") == 0)
        ip = "::1";
    str_copy(host, ip, n);
    *port = pr->srv->port;
}

void px_storlet_advertised(struct px_req *pr, char *host, size_t n, int *port)
{
    const struct px_conf *c = &pr->srv->conf;
    px_storlet_self(pr, host, n, port);
    if (c->storlet_proxy_host[0]) {
        str_copy(host, c->storlet_proxy_host, n);
        if (c->storlet_proxy_port)
            *port = c->storlet_proxy_port;
    }
}

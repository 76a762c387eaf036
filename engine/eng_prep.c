/*
 * eng_prep.c - getting a storlet ready to run: who may run it, which
 * version, its code on this node.
 *
 * Every step is an ordinary Swift request sent to the proxy with the
 * caller's token, so the proxy's authentication and ACLs decide, never the
 * engine: HEAD of the storlet object (read access to the `storlet`
 * container; its ETag and X-Object-Meta-Storlet-* say which version and how
 * to run it), HEAD of each dependency, then a GET of each file the cache
 * does not hold under that ETag (checked against it before use). A node
 * that already holds every file makes one HEAD per file and no GET.
 * eng_prep_start_known skips the storlet's HEAD: the proxy made it with the
 * same credentials (ENG_VERIFIED_HEADER) and its answer stands for ours.
 *
 * Threading: a prep belongs to the thread of its event_base. Cache writes
 * are blocking but small (storlet code).
 */
#include "engine/eng.h"
#include "engine/eng_int.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_COMPONENT "engine"
#include "common/bug.h"
#include "common/http.h"
#include "common/http_parser.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "common/xalloc.h"

#define PREP_DEPS_MAX 16

struct eng_prep {
    struct eng *g;
    struct event_base *base;
    char *host;
    int port;
    char *token;
    char *cap;                 /* capability to send, or NULL */
    char *trans_id;
    char *account, *name;
    eng_prep_fn *cb;
    void *arg;
    struct http_client *c;

    /* what the HEADs said (owned copies) */
    char *etag, *language, *main, *deps_hdr;
    bool object_metadata, admin;
    size_t ndeps;
    char *dep_name[PREP_DEPS_MAX];
    char *dep_etag[PREP_DEPS_MAX];
    unsigned dep_mode[PREP_DEPS_MAX];

    /* the step in progress */
    int step;                  /* 0: HEAD storlet, 1..n: HEAD dep, then GETs */
    bool getting;
    size_t get_idx;            /* 0 = storlet, 1.. = deps */
    struct eng_fill *fill;
    int hold;                  /* the code directory, held until cb ran */
    int file_hold[PREP_DEPS_MAX + 1]; /* each file, held once found */
    bool refetched;            /* fetched again after an eviction */
    int status;
    int ferr;
    char *verified;            /* the proxy's answer for the storlet, or NULL */
    struct event *kick;        /* starts a verified prep from the loop */
};

static void next(struct eng_prep *p);

static char *quote_path(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(3 * n + 1);
    names_quote(s, n, "/", out);
    return out;
}

static void prep_free(struct eng_prep *p)
{
    http_client_free(p->c);
    if (p->kick)
        event_free(p->kick);
    free(p->verified);
    eng_cache_abort(p->fill);
    eng_cache_release(p->hold);
    for (size_t i = 0; i <= PREP_DEPS_MAX; i++)
        eng_cache_release(p->file_hold[i]);
    free(p->host);
    free(p->token);
    free(p->cap);
    free(p->trans_id);
    free(p->account);
    free(p->name);
    free(p->etag);
    free(p->language);
    free(p->main);
    free(p->deps_hdr);
    for (size_t i = 0; i < p->ndeps; i++) {
        free(p->dep_name[i]);
        free(p->dep_etag[i]);
    }
    free(p);
}

static void finish(struct eng_prep *p, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finish(struct eng_prep *p, int status, const char *fmt, ...)
{
    struct eng_prep_result r;
    memset(&r, 0, sizeof(r));
    r.status = status;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r.reason, sizeof(r.reason), fmt, ap);
        va_end(ap);
    }
    struct eng_dep deps[PREP_DEPS_MAX];
    if (status == 0) {
        for (size_t i = 0; i < p->ndeps; i++)
            deps[i] = (struct eng_dep){ p->dep_name[i], p->dep_etag[i], p->dep_mode[i] };
        r.code = (struct eng_code){
            .account = p->account, .name = p->name, .etag = p->etag,
            .language = p->language, .main = p->main,
            .object_metadata = p->object_metadata, .admin = p->admin,
            .deps = deps, .ndeps = p->ndeps,
        };
        struct err e;
        err_clear(&e);
        int rc = eng_code_dir_hold(p->g, &r.code, r.code_dir, sizeof(r.code_dir), &p->hold,
                                   &e);
        if (rc == -ENOENT && !p->refetched) {
            /* a file went (evicted) after it was found: fetch again, once */
            p->refetched = true;
            p->get_idx = 0;
            for (size_t i = 0; i <= PREP_DEPS_MAX; i++) {
                eng_cache_release(p->file_hold[i]);
                p->file_hold[i] = -1;
            }
            next(p);
            return;
        }
        if (rc < 0) {
            r.status = 503;
            snprintf(r.reason, sizeof(r.reason), "storlet code: %s", e.msg);
        }
    }
    if (r.status && r.status != 401)
        log_warn("storlet %s/%s: %d %s", p->account, p->name, r.status, r.reason);
    p->cb(p, &r, p->arg);
    prep_free(p);
}

static char *unquote(const char *et)
{
    char *etag = xstrdup(et[0] == '"' ? et + 1 : et);
    size_t el = strlen(etag);
    if (el && etag[el - 1] == '"')
        etag[el - 1] = '\0';
    return etag;
}

/* The storlet's HEAD (the node's own, or the proxy's: known_go) said h:
 * its version, how to run it, its dependencies. Sets p->status on error
 * and then changes nothing else. */
static void take_storlet(struct eng_prep *p, const struct http_head *h)
{
    const char *et = http_head_get(h, "ETag");
    if (!et) {
        p->status = 502;
        return;
    }
    char *etag = unquote(et);
    struct eng_code code;
    struct err e;
    err_clear(&e);
    if (eng_code_from_head(&code, p->account, p->name, h, &e) < 0) {
        p->status = 400;
        free(etag);
        return;
    }
    p->etag = etag;
    p->language = xstrdup(code.language);
    p->main = xstrdup(code.main);
    p->object_metadata = code.object_metadata;
    p->admin = code.admin;
    const char *d = http_head_get(h, "X-Object-Meta-Storlet-Dependency");
    p->deps_hdr = d ? xstrdup(d) : NULL;
    /* split the (already validated) list */
    for (char *s = p->deps_hdr; s && *s && p->ndeps < PREP_DEPS_MAX;) {
        while (*s == ' ' || *s == ',')
            s++;
        if (!*s)
            break;
        size_t len = strcspn(s, ",");
        size_t t = len;
        while (t > 0 && s[t - 1] == ' ')
            t--;
        p->dep_name[p->ndeps++] = xstrndup(s, t);
        s += len;
    }
}

static void on_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    struct eng_prep *p = arg;
    p->status = h->status;
    if (h->status < 200 || h->status >= 300)
        return;
    if (p->getting) {
        struct err e;
        err_clear(&e);
        const char *nm = p->get_idx == 0 ? p->name : p->dep_name[p->get_idx - 1];
        const char *et = p->get_idx == 0 ? p->etag : p->dep_etag[p->get_idx - 1];
        const char *got = http_head_get(h, "ETag");
        if (!got || strcasecmp(got, et) != 0) {
            p->status = 409;   /* changed between HEAD and GET */
            return;
        }
        p->fill = eng_cache_begin(p->g, p->account, nm, et, &e);
        if (!p->fill)
            p->ferr = e.code;
        return;
    }
    if (p->step == 0) {
        take_storlet(p, h);
        return;
    }
    const char *et = http_head_get(h, "ETag");
    if (!et) {
        p->status = 502;
        return;
    }
    char *etag = unquote(et);
    size_t i = (size_t)p->step - 1;
    p->dep_etag[i] = etag;
    const char *perm = http_head_get(h, "X-Object-Meta-Storlet-Dependency-Permissions");
    unsigned mode = 0644;
    if (perm && *perm) {
        unsigned m = 0;
        for (const char *q = perm; *q >= '0' && *q <= '7'; q++)
            m = m * 8 + (unsigned)(*q - '0');
        mode = m & 0755;
    }
    p->dep_mode[i] = mode;
}

static void on_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    (void)c;
    struct eng_prep *p = arg;
    if (p->fill && !p->ferr) {
        struct evbuffer_iovec v[8];
        int n = evbuffer_peek(b, -1, NULL, v, 8);
        for (int i = 0; i < n && i < 8 && !p->ferr; i++)
            p->ferr = eng_cache_write(p->fill, v[i].iov_base, v[i].iov_len);
    }
    evbuffer_drain(b, evbuffer_get_length(b));
}

static void on_done(struct http_client *c, int err, void *arg)
{
    struct eng_prep *p = arg;
    if (!http_client_reusable(c)) {
        http_client_free(p->c);
        p->c = NULL;
    }
    if (err < 0) {
        finish(p, 503, "storlet: request to the proxy failed: %s", strerror(-err));
        return;
    }
    const char *what = p->getting ? "fetching" : "checking";
    if (p->status == 401 || p->status == 403 || p->status == 404) {
        if (!p->getting && p->step == 0)
            finish(p, 401, "Failed to verify access to the storlet %s", p->name);
        else
            finish(p, 401, "Failed to verify access to the storlet %s's dependency %s",
                   p->name, p->dep_name[p->getting ? p->get_idx - 1 : (size_t)p->step - 1]);
        return;
    }
    if (p->status == 400 && !p->getting) {
        finish(p, 400, "storlet %s is not deployed (X-Object-Meta-Storlet-* missing)",
               p->name);
        return;
    }
    if (p->status < 200 || p->status >= 300) {
        finish(p, 503, "storlet %s: %s it answered %d", p->name, what, p->status);
        return;
    }
    if (p->getting) {
        struct eng_fill *f = p->fill;
        p->fill = NULL;
        struct err e;
        err_clear(&e);
        if (p->ferr == -EFBIG) {
            eng_cache_abort(f);
            finish(p, 500, "storlet %s: code larger than this node's storlet_cache_size",
                   p->name);
            return;
        }
        if (!f || p->ferr) {
            eng_cache_abort(f);
            finish(p, 503, "storlet %s: cache write failed: %s", p->name,
                   strerror(p->ferr ? -p->ferr : EIO));
            return;
        }
        if (eng_cache_commit(f, &e) < 0) {
            finish(p, 503, "storlet %s: %s", p->name, e.msg);
            return;
        }
        /* held until the code directory is built, so that filling the
         * cache with the next file cannot evict this one */
        const char *nm = p->get_idx == 0 ? p->name : p->dep_name[p->get_idx - 1];
        const char *et = p->get_idx == 0 ? p->etag : p->dep_etag[p->get_idx - 1];
        p->file_hold[p->get_idx] = eng_cache_hold_file(p->g, p->account, nm, et);
        p->get_idx++;
    } else {
        p->step++;
    }
    next(p);
}

static const struct http_client_ops prep_ops = {
    .response = on_response,
    .body = on_body,
    .done = on_done,
};

static void deferred_fail(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct eng_prep *p = arg;
    finish(p, 503, "storlet: cannot ask the proxy: %s", strerror(-p->status));
}

static void send_req(struct eng_prep *p, const char *method, const char *container,
                     const char *obj)
{
    if (!p->c)
        p->c = http_client_new(p->base, p->host, p->port, NULL);
    char *qa = quote_path(p->account), *qo = quote_path(obj);
    char *target = xasprintf("/v1/%s/%s/%s", qa, container, qo);
    free(qa);
    free(qo);
    http_client_header(p->c, "X-Auth-Token", p->token);
    if (p->cap)
        http_client_header(p->c, ENG_CAP_HEADER, p->cap);
    if (p->trans_id)
        http_client_header(p->c, "X-Trans-Id-Extra", p->trans_id);
    p->status = 0;
    int rc = http_client_start(p->c, method, target, 0, &prep_ops, p);
    free(target);
    if (rc == 0)
        rc = http_client_end(p->c);
    if (rc < 0) {
        /* a stale keep-alive connection: one fresh try */
        http_client_free(p->c);
        p->c = http_client_new(p->base, p->host, p->port, NULL);
        qa = quote_path(p->account);
        qo = quote_path(obj);
        target = xasprintf("/v1/%s/%s/%s", qa, container, qo);
        free(qa);
        free(qo);
        http_client_header(p->c, "X-Auth-Token", p->token);
        if (p->cap)
            http_client_header(p->c, ENG_CAP_HEADER, p->cap);
        rc = http_client_start(p->c, method, target, 0, &prep_ops, p);
        free(target);
        if (rc == 0)
            rc = http_client_end(p->c);
    }
    if (rc < 0) {
        /* never call back from inside eng_prep_start: defer */
        p->status = rc;
        event_base_once(p->base, -1, EV_TIMEOUT, deferred_fail, p, NULL);
    }
}

static void next(struct eng_prep *p)
{
    if (!p->getting && (size_t)p->step <= p->ndeps) {
        if (p->step == 0)
            send_req(p, "HEAD", ENG_STORLET_CONTAINER, p->name);
        else
            send_req(p, "HEAD", ENG_DEPENDENCY_CONTAINER, p->dep_name[p->step - 1]);
        return;
    }
    p->getting = true;
    while (p->get_idx <= p->ndeps) {
        const char *nm = p->get_idx == 0 ? p->name : p->dep_name[p->get_idx - 1];
        const char *et = p->get_idx == 0 ? p->etag : p->dep_etag[p->get_idx - 1];
        int h = eng_cache_hold_file(p->g, p->account, nm, et);
        if (h >= 0) {
            eng_cache_release(p->file_hold[p->get_idx]);
            p->file_hold[p->get_idx] = h;
            p->get_idx++;
            continue;
        }
        send_req(p, "GET", p->get_idx == 0 ? ENG_STORLET_CONTAINER : ENG_DEPENDENCY_CONTAINER,
                 nm);
        return;
    }
    finish(p, 0, NULL);
}

struct eng_prep *eng_prep_start(struct eng *g, struct event_base *base, const char *host,
                                int port, const char *token, const char *account,
                                const char *storlet, const char *trans_id, eng_prep_fn *cb,
                                void *arg)
{
    return eng_prep_start_cap(g, base, host, port, token, NULL, account, storlet, trans_id,
                              cb, arg);
}

struct eng_prep *eng_prep_start_cap(struct eng *g, struct event_base *base, const char *host,
                                    int port, const char *token, const char *cap,
                                    const char *account, const char *storlet,
                                    const char *trans_id, eng_prep_fn *cb, void *arg)
{
    return eng_prep_start_known(g, base, host, port, token, cap, NULL, account, storlet,
                                trans_id, cb, arg);
}

/* A verified prep's first step, from the loop: the proxy's answer stands
 * for the storlet's HEAD; one that does not make sense is asked again. */
static void known_go(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct eng_prep *p = arg;
    json_error_t je;
    json_t *o = json_loads(p->verified, JSON_REJECT_DUPLICATES, &je);
    struct http_header hs[32];
    struct http_head h;
    memset(&h, 0, sizeof(h));
    h.status = 200;
    h.headers = hs;
    const char *k;
    json_t *v;
    bool ok = json_is_object(o);
    if (ok) {
        json_object_foreach(o, k, v) {
            if (!json_is_string(v) || h.nheaders >= ARRAY_SIZE(hs)) {
                ok = false;
                break;
            }
            hs[h.nheaders++] = (struct http_header){
                .name = k, .value = json_string_value(v),
                .name_len = (uint32_t)strlen(k),
                .value_len = (uint32_t)json_string_length(v),
            };
        }
    }
    p->status = 200;
    if (ok)
        take_storlet(p, &h);
    json_decref(o);
    if (ok && p->status == 200) {
        p->step = 1;           /* the storlet's HEAD is done */
    } else {
        log_warn("storlet %s/%s: %s unusable, asking the proxy", p->account, p->name,
                 ENG_VERIFIED_HEADER);
        p->step = 0;
    }
    next(p);
}

struct eng_prep *eng_prep_start_known(struct eng *g, struct event_base *base,
                                      const char *host, int port, const char *token,
                                      const char *cap, const char *verified,
                                      const char *account, const char *storlet,
                                      const char *trans_id, eng_prep_fn *cb, void *arg)
{
    struct eng_prep *p = xcalloc(1, sizeof(*p));
    p->cap = cap && *cap ? xstrdup(cap) : NULL;
    p->hold = -1;
    for (size_t i = 0; i <= PREP_DEPS_MAX; i++)
        p->file_hold[i] = -1;
    p->g = g;
    p->base = base;
    p->host = xstrdup(host);
    p->port = port;
    p->token = xstrdup(token ? token : "");
    p->trans_id = trans_id ? xstrdup(trans_id) : NULL;
    p->account = xstrdup(account);
    p->name = xstrdup(storlet);
    p->cb = cb;
    p->arg = arg;
    if (verified && *verified) {
        /* never call back from inside eng_prep_start: from the loop */
        p->verified = xstrdup(verified);
        p->kick = evtimer_new(base, known_go, p);
        static const struct timeval now = { 0, 0 };
        evtimer_add(p->kick, &now);
        return p;
    }
    next(p);
    return p;
}

void eng_prep_cancel(struct eng_prep *p)
{
    if (p)
        prep_free(p);
}

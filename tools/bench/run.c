/*
 * run.c - the load engine (see run.h).
 *
 * One thread drives every transfer with curl's multi-socket API over epoll:
 * curl tells us which sockets to watch (sock_cb) and when to call it back
 * (timer_cb), and each wake-up hands curl only the sockets that are ready.
 * (curl_multi_perform instead visits every transfer on every wake-up, with a
 * poll(2) per connection: at concurrency 32 that was ~40 system calls per
 * request, measured, where a request needs about 3.)
 *
 * Object life cycle (enum obj_state): a PUT creates PENDING; success makes it
 * LIVE and puts it in the pool that GET/HEAD/DELETE draw from; a DELETE takes
 * it out of the pool when it starts (so no new reader picks it) and only
 * objects with no reader in flight are deleted, so a mix never reads what it
 * is deleting. Any request that ends in doubt (error, abandoned) leaves the
 * object DOUBT: out of the pool, but still deleted by the cleanup phase,
 * which accepts 404 for it.
 */
#include "tools/bench/run.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/bug.h"
#include "common/md5.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "tools/bench/swift.h"

#define PATTERN_SIZE (1u << 20) /* power of two */
#define PROGRESS_NS 250000000ull
#define POLL_MS 100
/* Cleanup sends a failed DELETE again (a busy Swift answers 503 while it
 * may well have deleted), up to this many times, a second apart. */
#define CLEANUP_TRIES 4
#define CLEANUP_RETRY_NS 1000000000ull

enum obj_state { OBJ_PENDING, OBJ_LIVE, OBJ_DELETING, OBJ_GONE, OBJ_DOUBT };

struct obj {
    uint64_t size;
    uint64_t pool_pos; /* index in r->pool while LIVE */
    uint32_t readers;  /* GET/HEAD in flight */
    uint8_t state;
    uint8_t tries;     /* cleanup DELETEs sent */
    unsigned char md5[MD5_DIGEST_LEN]; /* of the body PUT, when verifying */
};

struct slot {
    struct run *r;
    CURL *h;
    bool busy;
    enum bench_op op;
    uint64_t obj;
    uint64_t size;     /* body to send (PUT) or expected (GET) */
    uint64_t pos;      /* body bytes sent or received */
    uint64_t pat_off;  /* where in the pattern this object's body starts */
    uint64_t start_ns;
    struct md5 md5;
    char etag[MD5_HEX_LEN];
    char *url;
    size_t url_cap;
};

struct run {
    const struct bench_opts *o;
    char *storage_url;
    char *token;
    char tag[16];
    char **cont;          /* URL-escaped container names */
    bool *cont_created;
    CURLM *multi;
    int epfd;
    bool timer_set;         /* curl asked to be called back at timer_ns */
    uint64_t timer_ns;
    struct curl_slist *hdrs;
    struct curl_slist *get_hdrs;   /* hdrs + --header, for GETs */
    struct slot *slots;
    unsigned nslots;
    unsigned char *pattern;
    uint64_t rng;
    struct obj *objs;
    uint64_t nobjs, objs_cap;
    uint64_t *pool;       /* ids of LIVE objects */
    uint64_t npool;
    /* Current phase. */
    enum run_phase kind;
    struct phase_stats *ps;
    uint64_t start_ns, deadline_ns, limit, started;
    uint64_t prepop_target; /* prepopulate until this many PUTs succeeded */
    uint64_t cleanup_cursor;
    uint64_t *retry;        /* cleanup DELETEs to send again */
    uint64_t nretry, retry_cap;
    uint64_t retry_at_ns;
    unsigned busy;
    int signals_at_start;
};

static volatile sig_atomic_t signals_seen;

void run_signal(int sig)
{
    (void)sig;
    signals_seen = signals_seen + 1;
}

/* splitmix64: small, fast, good enough to pick operations and sizes. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0. The modulo bias is < n / 2^64: irrelevant here. */
static uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return rng_next(s) % n;
}

static uint64_t obj_pattern_offset(const struct run *r, uint64_t id)
{
    uint64_t s = id ^ r->o->seed ^ 0x5bd1e995u;
    return rng_next(&s) & (PATTERN_SIZE - 1);
}

/* ------------------------------------------------------------ callbacks */

static size_t read_cb(char *buf, size_t sz, size_t n, void *arg)
{
    struct slot *s = arg;
    size_t want = sz * n;
    if (want > s->size - s->pos)
        want = (size_t)(s->size - s->pos);
    size_t done = 0;
    while (done < want) {
        size_t off = (size_t)((s->pat_off + s->pos + done) & (PATTERN_SIZE - 1));
        size_t chunk = PATTERN_SIZE - off;
        if (chunk > want - done)
            chunk = want - done;
        memcpy(buf + done, s->r->pattern + off, chunk);
        done += chunk;
    }
    if (s->r->o->verify)
        md5_update(&s->md5, buf, want);
    s->pos += want;
    return want;
}

/* curl rewinds an upload only to resend it from the start (e.g. after a
 * reused connection turned out closed); the body is positional, so any
 * offset works, but the running MD5 must restart with it. */
static int seek_cb(void *arg, curl_off_t offset, int origin)
{
    struct slot *s = arg;
    if (origin != SEEK_SET || offset != 0)
        return CURL_SEEKFUNC_CANTSEEK;
    s->pos = 0;
    md5_init(&s->md5);
    return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *buf, size_t sz, size_t n, void *arg)
{
    struct slot *s = arg;
    size_t len = sz * n;
    if (s->op == BENCH_GET && s->r->o->verify)
        md5_update(&s->md5, buf, len);
    s->pos += len;
    return len;
}

static size_t header_cb(char *buf, size_t sz, size_t n, void *arg)
{
    struct slot *s = arg;
    size_t len = sz * n;
    if (len > 5 && strncasecmp(buf, "etag:", 5) == 0) {
        const char *v = buf + 5, *end = buf + len;
        while (v < end && (*v == ' ' || *v == '\t' || *v == '"'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' ||
                           end[-1] == '"'))
            end--;
        size_t vl = (size_t)(end - v);
        if (vl >= sizeof(s->etag))
            vl = sizeof(s->etag) - 1;
        memcpy(s->etag, v, vl);
        s->etag[vl] = '\0';
    } else if (len > 9 && strncasecmp(buf, "HTTP/", 5) == 0) {
        /* A new response (after 100 Continue or a retry): forget the old. */
        s->etag[0] = '\0';
    }
    return len;
}

/* ------------------------------------------------------------ objects */

static void pool_add(struct run *r, uint64_t id)
{
    r->objs[id].pool_pos = r->npool;
    r->pool[r->npool++] = id;
}

static void pool_remove(struct run *r, uint64_t id)
{
    uint64_t pos = r->objs[id].pool_pos;
    uint64_t last = r->pool[--r->npool];
    r->pool[pos] = last;
    r->objs[last].pool_pos = pos;
}

static uint64_t obj_new(struct run *r, uint64_t size)
{
    if (r->nobjs == r->objs_cap) {
        r->objs_cap = r->objs_cap ? r->objs_cap * 2 : 1024;
        r->objs = xrealloc(r->objs, r->objs_cap * sizeof(*r->objs));
        r->pool = xrealloc(r->pool, r->objs_cap * sizeof(*r->pool));
    }
    struct obj *ob = &r->objs[r->nobjs];
    memset(ob, 0, sizeof(*ob));
    ob->size = size;
    ob->state = OBJ_PENDING;
    return r->nobjs++;
}

static uint64_t pick_size(struct run *r)
{
    const struct size_dist *d = &r->o->size;
    const struct size_entry *en = &d->e[0];
    if (d->n > 1) {
        uint64_t w = rng_below(&r->rng, d->total_weight);
        for (unsigned i = 0; i < d->n; i++) {
            if (w < d->e[i].weight) {
                en = &d->e[i];
                break;
            }
            w -= d->e[i].weight;
        }
    }
    if (en->hi == en->lo)
        return en->lo;
    return en->lo + rng_below(&r->rng, en->hi - en->lo + 1);
}

/* A LIVE object to read, or UINT64_MAX when there is none. */
static uint64_t pick_for_read(struct run *r)
{
    if (r->npool == 0)
        return UINT64_MAX;
    return r->pool[rng_below(&r->rng, r->npool)];
}

/* A LIVE object nobody is reading, or UINT64_MAX. At most `concurrency`
 * pool members are being read, so the scan is short. */
static uint64_t pick_for_delete(struct run *r)
{
    if (r->npool == 0)
        return UINT64_MAX;
    uint64_t start = rng_below(&r->rng, r->npool);
    for (uint64_t i = 0; i < r->npool; i++) {
        uint64_t id = r->pool[(start + i) % r->npool];
        if (r->objs[id].readers == 0)
            return id;
    }
    return UINT64_MAX;
}

/* ------------------------------------------------------------ requests */

static void slot_url(struct slot *s)
{
    struct run *r = s->r;
    snprintf(s->url, s->url_cap, "%s/%s/%s-%" PRIu64, r->storage_url,
             r->cont[s->obj % r->o->containers], r->tag, s->obj);
}

static void slot_start(struct slot *s, enum bench_op op, uint64_t id)
{
    struct run *r = s->r;
    struct obj *ob = &r->objs[id];
    CURL *h = s->h;
    s->op = op;
    s->obj = id;
    s->pos = 0;
    s->etag[0] = '\0';
    s->size = ob->size;
    md5_init(&s->md5);
    slot_url(s);
    curl_easy_setopt(h, CURLOPT_URL, s->url);
    /* HTTPGET=1 also clears UPLOAD and NOBODY left by the previous request. */
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, op == BENCH_GET ? r->get_hdrs : r->hdrs);
    switch (op) {
    case BENCH_PUT:
        s->pat_off = obj_pattern_offset(r, id);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)ob->size);
        break;
    case BENCH_GET:
        ob->readers++;
        break;
    case BENCH_HEAD:
        ob->readers++;
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        break;
    case BENCH_DELETE:
        if (ob->state == OBJ_LIVE)
            pool_remove(r, id);
        if (r->kind == RUN_CLEANUP)
            ob->tries++;
        ob->state = OBJ_DELETING;
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
        break;
    case BENCH_NOPS:
        BUG_ON(1);
    }
    s->busy = true;
    r->busy++;
    r->started++;
    s->start_ns = now_mono_ns();
    CURLMcode mc = curl_multi_add_handle(r->multi, h);
    BUG_ON(mc != CURLM_OK);
}

/* Picks the next request for the current phase; false if there is none now. */
static bool next_request(struct run *r, enum bench_op *op, uint64_t *id)
{
    if (signals_seen != r->signals_at_start)
        return false;
    if (r->limit && r->started >= r->limit)
        return false;
    if (r->deadline_ns && now_mono_ns() >= r->deadline_ns)
        return false;
    switch (r->kind) {
    case RUN_PREPOP:
        if (r->prepop_target) {
            /* Count successes, so reads get the objects asked for; give up
             * once failures alone reach the target. */
            const struct op_stats *put = &r->ps->op[BENCH_PUT];
            if (put->ok + r->busy >= r->prepop_target || put->errors >= r->prepop_target)
                return false;
        }
        *op = BENCH_PUT;
        *id = obj_new(r, pick_size(r));
        return true;
    case RUN_CLEANUP:
        while (r->cleanup_cursor < r->nobjs) {
            uint64_t i = r->cleanup_cursor++;
            uint8_t st = r->objs[i].state;
            if (st == OBJ_LIVE || st == OBJ_DOUBT || st == OBJ_PENDING) {
                *op = BENCH_DELETE;
                *id = i;
                return true;
            }
        }
        if (r->nretry && now_mono_ns() >= r->retry_at_ns) {
            *op = BENCH_DELETE;
            *id = r->retry[--r->nretry];
            return true;
        }
        return false;
    case RUN_MEASURE:
        break;
    }
    const struct bench_opts *o = r->o;
    uint64_t w = rng_below(&r->rng, o->mix_total);
    enum bench_op pick = BENCH_PUT;
    for (int i = 0; i < BENCH_NOPS; i++) {
        if (w < o->mix[i]) {
            pick = (enum bench_op)i;
            break;
        }
        w -= o->mix[i];
    }
    uint64_t cand = UINT64_MAX;
    if (pick == BENCH_GET || pick == BENCH_HEAD)
        cand = pick_for_read(r);
    else if (pick == BENCH_DELETE)
        cand = pick_for_delete(r);
    if (pick != BENCH_PUT && cand == UINT64_MAX) {
        /* Nothing to read or delete yet (or any more): create instead if
         * the mix creates at all, else wait for a completion. */
        if (!o->mix[BENCH_PUT])
            return false;
        pick = BENCH_PUT;
    }
    if (pick == BENCH_PUT)
        cand = obj_new(r, pick_size(r));
    *op = pick;
    *id = cand;
    return true;
}

static void fill_slots(struct run *r)
{
    for (unsigned i = 0; i < r->nslots; i++) {
        struct slot *s = &r->slots[i];
        if (s->busy)
            continue;
        enum bench_op op;
        uint64_t id;
        if (!next_request(r, &op, &id))
            return;
        slot_start(s, op, id);
    }
}

static bool body_ok(struct slot *s, struct obj *ob)
{
    if (s->op == BENCH_GET && s->pos != ob->size)
        return false;
    if (!s->r->o->verify || (s->op != BENCH_GET && s->op != BENCH_PUT))
        return true;
    unsigned char d[MD5_DIGEST_LEN];
    char hex[MD5_HEX_LEN];
    md5_final(&s->md5, d);
    hex_encode(d, sizeof(d), hex);
    if (s->etag[0] && strcasecmp(s->etag, hex) != 0)
        return false;
    if (s->op == BENCH_PUT) {
        memcpy(ob->md5, d, sizeof(d));
        return true;
    }
    return memcmp(d, ob->md5, sizeof(d)) == 0;
}

/* Releases the slot's hold on its object after the request ended; `ok` is
 * whether the server is known to have done what was asked. */
static void settle_object(struct run *r, struct slot *s, bool ok)
{
    struct obj *ob = &r->objs[s->obj];
    switch (s->op) {
    case BENCH_PUT:
        if (ok) {
            ob->state = OBJ_LIVE;
            pool_add(r, s->obj);
        } else {
            ob->state = OBJ_DOUBT;
        }
        break;
    case BENCH_GET:
    case BENCH_HEAD:
        ob->readers--;
        break;
    case BENCH_DELETE:
        if (ok) {
            ob->state = OBJ_GONE;
        } else {
            ob->state = OBJ_DOUBT;
        }
        break;
    case BENCH_NOPS:
        break;
    }
}

static void slot_done(struct slot *s, CURLcode cc, uint64_t end_ns)
{
    struct run *r = s->r;
    struct obj *ob = &r->objs[s->obj];
    uint64_t t = end_ns - r->start_ns;
    long status = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(r->multi, s->h);
    s->busy = false;
    r->busy--;

    bool ok = cc == CURLE_OK && status >= 200 && status <= 299;
    bool mismatch = ok && !body_ok(s, ob);
    /* In cleanup, an object that is already gone (or whose PUT never
     * landed) is what was wanted. */
    if (r->kind == RUN_CLEANUP && cc == CURLE_OK && status == 404)
        ok = true;
    if (mismatch)
        ok = false;
    settle_object(r, s, ok);
    if (!ok && r->kind == RUN_CLEANUP && ob->tries < CLEANUP_TRIES) {
        if (r->nretry == r->retry_cap) {
            r->retry_cap = r->retry_cap ? r->retry_cap * 2 : 64;
            r->retry = xrealloc(r->retry, r->retry_cap * sizeof(*r->retry));
        }
        r->retry[r->nretry++] = s->obj;
        r->retry_at_ns = end_ns + CLEANUP_RETRY_NS;
        r->ps->retried++;
        return;
    }
    if (ok)
        stats_ok(r->ps, s->op, t, end_ns - s->start_ns,
                 s->op == BENCH_PUT || s->op == BENCH_GET ? s->pos : 0);
    else
        stats_fail(r->ps, s->op, t, cc == CURLE_OK ? status : 0, (int)cc, mismatch);
}

/* Drops every request in flight (after a signal): not counted anywhere. */
static void abandon_all(struct run *r)
{
    for (unsigned i = 0; i < r->nslots; i++) {
        struct slot *s = &r->slots[i];
        if (!s->busy)
            continue;
        curl_multi_remove_handle(r->multi, s->h);
        settle_object(r, s, false);
        s->busy = false;
        r->busy--;
    }
}

/* ------------------------------------------------------------ event loop */

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct run *r = userp;
    if (what == CURL_POLL_REMOVE) {
        /* curl may already have closed it; then the kernel dropped it too. */
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
        curl_multi_assign(r->multi, fd, NULL);
        return 0;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    if (socketp) {
        if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev) == -1 && errno == ENOENT)
            epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev);
    } else {
        if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) == -1 && errno == EEXIST)
            epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev);
        curl_multi_assign(r->multi, fd, r);
    }
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct run *r = userp;
    r->timer_set = timeout_ms >= 0;
    if (r->timer_set)
        r->timer_ns = now_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    return 0;
}

/* Milliseconds until `at` (rounded up), at most `cap`; 0 if passed. */
static int ms_until(uint64_t at, uint64_t now, int cap)
{
    if (at <= now)
        return 0;
    uint64_t ms = (at - now + 999999) / 1000000;
    return ms < (uint64_t)cap ? (int)ms : cap;
}

/* Waits for socket events or curl's timer (or POLL_MS, or the next cleanup
 * retry) and lets curl act on them. */
static void loop_once(struct run *r)
{
    uint64_t now = now_mono_ns();
    int timeout = POLL_MS;
    if (r->timer_set)
        timeout = ms_until(r->timer_ns, now, timeout);
    if (r->nretry)
        timeout = ms_until(r->retry_at_ns, now, timeout);
    struct epoll_event evs[64];
    int n = epoll_wait(r->epfd, evs, (int)ARRAY_SIZE(evs), timeout);
    int running;
    for (int i = 0; i < n; i++) {
        int flags = 0;
        if (evs[i].events & EPOLLIN)
            flags |= CURL_CSELECT_IN;
        if (evs[i].events & EPOLLOUT)
            flags |= CURL_CSELECT_OUT;
        if (evs[i].events & (EPOLLERR | EPOLLHUP))
            flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(r->multi, evs[i].data.fd, flags, &running);
    }
    if (r->timer_set && now_mono_ns() >= r->timer_ns) {
        r->timer_set = false;
        curl_multi_socket_action(r->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

/* ------------------------------------------------------------ progress */

struct progress {
    bool on;
    uint64_t last_ns, last_done, last_bytes;
};

static void progress_draw(struct run *r, struct progress *p, uint64_t now)
{
    if (!p->on || now - p->last_ns < PROGRESS_NS)
        return;
    struct phase_stats *ps = r->ps;
    uint64_t done = 0, bytes = 0, errors = 0;
    for (int i = 0; i < BENCH_NOPS; i++) {
        done += stats_done(&ps->op[i]);
        bytes += ps->op[i].bytes;
        errors += ps->op[i].errors;
    }
    double dt = (double)(now - p->last_ns) / 1e9;
    double el = (double)(now - r->start_ns) / 1e9;
    char last[48] = "";
    if (ps->nticks)
        snprintf(last, sizeof(last), "  p99(1s) %.1f ms",
                 (double)ps->ticks[ps->nticks - 1].p99 / 1e6);
    fprintf(stderr, "\r\033[K%s %6.1fs  %" PRIu64 " ops  %.0f op/s  %.1f MB/s  %" PRIu64
                    " errors  %u in flight%s",
            ps->name, el, done, (double)(done - p->last_done) / dt,
            (double)(bytes - p->last_bytes) / dt / 1e6, errors, r->busy, last);
    p->last_ns = now;
    p->last_done = done;
    p->last_bytes = bytes;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void run_phase(struct run *r, enum run_phase kind, struct phase_stats *ps, bool show_progress)
{
    const struct bench_opts *o = r->o;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    if (getloadavg(&ps->load_start, 1) != 1)
        ps->load_start = -1;
    r->kind = kind;
    r->ps = ps;
    r->started = 0;
    r->limit = 0;
    r->prepop_target = 0;
    r->nretry = 0;
    r->deadline_ns = 0;
    r->cleanup_cursor = 0;
    r->signals_at_start = signals_seen;
    r->start_ns = now_mono_ns();
    if (kind == RUN_PREPOP) {
        r->prepop_target = o->prepop_count;
        if (o->prepop_ns)
            r->deadline_ns = r->start_ns + o->prepop_ns;
    } else if (kind == RUN_MEASURE) {
        r->limit = o->count;
        if (o->duration_ns)
            r->deadline_ns = r->start_ns + o->duration_ns;
    }
    struct progress prog = {show_progress, r->start_ns, 0, 0};

    fill_slots(r);
    uint64_t end_ns = r->start_ns;
    while (r->busy || r->nretry) {
        loop_once(r);
        uint64_t now = now_mono_ns();
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(r->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            void *s = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
            slot_done(s, m->data.result, now);
            end_ns = now;
        }
        if (signals_seen != r->signals_at_start) {
            abandon_all(r);
            ps->interrupted = true;
            break;
        }
        fill_slots(r);
        progress_draw(r, &prog, now);
    }
    if (prog.on)
        fputs("\r\033[K", stderr);
    if (ps->interrupted)
        end_ns = now_mono_ns();
    ps->elapsed_ns = end_ns - r->start_ns;
    /* Stopped before its count or deadline with nothing left to act on. */
    if (kind == RUN_MEASURE && !ps->interrupted &&
        ((r->limit && r->started < r->limit) ||
         (r->deadline_ns && end_ns < r->deadline_ns)))
        ps->exhausted = true;
    stats_finish(ps);
    getrusage(RUSAGE_SELF, &ru1);
    ps->cpu_user = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
    ps->cpu_sys = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
    if (getloadavg(&ps->load_end, 1) != 1)
        ps->load_end = -1;
    r->ps = NULL;
}

/* ------------------------------------------------------------ set-up */

const char *run_tag(const struct run *r)
{
    return r->tag;
}

uint64_t run_live_objects(const struct run *r)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < r->nobjs; i++)
        if (r->objs[i].state != OBJ_GONE)
            n++;
    return n;
}

struct run *run_new(const struct bench_opts *o, const char *storage_url, const char *token)
{
    struct run *r = xcalloc(1, sizeof(*r));
    r->o = o;
    size_t ul = strlen(storage_url);
    while (ul > 0 && storage_url[ul - 1] == '/')
        ul--;
    r->storage_url = xstrndup(storage_url, ul);
    r->token = xstrdup(token);
    r->rng = o->seed;
    uint64_t tagseed = o->seed ^ now_mono_ns() ^ ((uint64_t)getpid() << 32);
    snprintf(r->tag, sizeof(r->tag), "cb%08" PRIx64, rng_next(&tagseed) & 0xffffffffu);

    r->pattern = xmalloc(PATTERN_SIZE);
    uint64_t ps = o->seed + 1;
    for (size_t i = 0; i < PATTERN_SIZE; i += 8) {
        uint64_t v = rng_next(&ps);
        memcpy(r->pattern + i, &v, 8);
    }

    r->multi = curl_multi_init();
    BUG_ON(!r->multi);
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    BUG_ON(r->epfd == -1);
    curl_multi_setopt(r->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(r->multi, CURLMOPT_SOCKETDATA, r);
    curl_multi_setopt(r->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(r->multi, CURLMOPT_TIMERDATA, r);
    char *tok = xasprintf("X-Auth-Token: %s", token);
    r->hdrs = curl_slist_append(r->hdrs, tok);
    /* No "Expect: 100-continue" round trip before each PUT body. */
    r->hdrs = curl_slist_append(r->hdrs, "Expect:");
    for (struct curl_slist *l = r->hdrs; l; l = l->next)
        r->get_hdrs = curl_slist_append(r->get_hdrs, l->data);
    for (unsigned i = 0; i < o->nget_headers; i++)
        r->get_hdrs = curl_slist_append(r->get_hdrs, o->get_headers[i]);
    free(tok);
    BUG_ON(!r->hdrs || !r->get_hdrs);

    CURL *esc_h = curl_easy_init();
    BUG_ON(!esc_h);
    r->cont = xcalloc(o->containers, sizeof(*r->cont));
    r->cont_created = xcalloc(o->containers, sizeof(*r->cont_created));
    size_t cmax = 0;
    for (unsigned i = 0; i < o->containers; i++) {
        char *name = xasprintf("%s-%u", o->container_prefix, i);
        char *e = curl_easy_escape(esc_h, name, 0);
        BUG_ON(!e);
        r->cont[i] = xstrdup(e);
        curl_free(e);
        free(name);
        if (strlen(r->cont[i]) > cmax)
            cmax = strlen(r->cont[i]);
    }
    curl_easy_cleanup(esc_h);

    bool big = o->size.max >= (1u << 20);
    r->nslots = o->concurrency;
    r->slots = xcalloc(r->nslots, sizeof(*r->slots));
    for (unsigned i = 0; i < r->nslots; i++) {
        struct slot *s = &r->slots[i];
        s->r = r;
        s->url_cap = ul + cmax + 64;
        s->url = xmalloc(s->url_cap);
        CURL *h = s->h = curl_easy_init();
        BUG_ON(!h);
        curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)s);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->hdrs);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, s);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, s);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
        if (o->verify) {
            curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
            curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
        }
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
        /* Never through an http_proxy from the environment (a benchmark
         * measures the endpoint); this also spares curl a getenv() per
         * request. */
        curl_easy_setopt(h, CURLOPT_PROXY, "");
        if (o->timeout_ns)
            curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(o->timeout_ns / 1000000));
        if (o->insecure) {
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (big) {
            /* Fewer, larger socket reads and writes for big bodies. */
            curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
            curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
        }
    }
    return r;
}

void run_free(struct run *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < r->nslots; i++) {
        if (r->slots[i].busy)
            curl_multi_remove_handle(r->multi, r->slots[i].h);
        curl_easy_cleanup(r->slots[i].h);
        free(r->slots[i].url);
    }
    free(r->slots);
    curl_multi_cleanup(r->multi);
    close(r->epfd);
    curl_slist_free_all(r->hdrs);
    curl_slist_free_all(r->get_hdrs);
    for (unsigned i = 0; i < r->o->containers; i++)
        free(r->cont[i]);
    free(r->cont);
    free(r->cont_created);
    free(r->pattern);
    free(r->objs);
    free(r->pool);
    free(r->retry);
    free(r->storage_url);
    free(r->token);
    free(r);
}

/* ------------------------------------------------------------ containers */

int run_create_containers(struct run *r, struct err *e)
{
    for (unsigned i = 0; i < r->o->containers; i++) {
        char *name = xasprintf("%s-%u", r->o->container_prefix, i);
        long st = swift_request("PUT", r->storage_url, name, r->token, r->o->insecure, e);
        if (st == 201)
            r->cont_created[i] = true;
        if (st < 0 || (st != 201 && st != 202)) {
            if (st > 0) {
                err_set(e, -EIO, "PUT container %s: answered %ld", name, st);
            } else {
                char why[ERR_MSG_MAX];
                str_copy(why, e->msg, sizeof(why));
                err_set(e, -EIO, "PUT container %s: %s", name, why);
            }
            free(name);
            return -EIO;
        }
        free(name);
    }
    return 0;
}

unsigned run_containers_created(const struct run *r)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->o->containers; i++)
        n += r->cont_created[i];
    return n;
}

unsigned run_delete_containers(struct run *r)
{
    unsigned failed = 0;
    for (unsigned i = 0; i < r->o->containers; i++) {
        if (!r->cont_created[i])
            continue;
        char *name = xasprintf("%s-%u", r->o->container_prefix, i);
        struct err e;
        err_clear(&e);
        long st = -EIO;
        /* A container lists its objects asynchronously in Swift: a DELETE
         * right after the last object DELETE may still see it non-empty. */
        for (int attempt = 0; attempt < 10; attempt++) {
            st = swift_request("DELETE", r->storage_url, name, r->token, r->o->insecure, &e);
            if (st != 409 && st != 503)
                break;
            usleep(200000);
        }
        if (st == 204 || st == 404) {
            r->cont_created[i] = false;
        } else {
            failed++;
            if (st < 0)
                fprintf(stderr, "cairn-bench: cleanup: %s\n", e.msg);
            else
                fprintf(stderr, "cairn-bench: cleanup: DELETE container %s: answered %ld\n",
                        name, st);
        }
        free(name);
    }
    return failed;
}

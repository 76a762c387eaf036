/*
 * eng_svc.c - the services channel (fd 4, docs/storlets.md section 3.8):
 * a running storlet reads other objects and runs other storlets.
 *
 * Every request becomes an ordinary GET sent to the proxy with the token
 * of the request that started the storlet (the storlet never sees it), so
 * the proxy's authentication and ACLs decide exactly as for the caller: a
 * storlet can read what its caller can read, never more. "invoke" is a GET
 * with X-Run-Storlet and the parameters as X-Storlet-Parameter-N headers,
 * plus X-Storlet-Depth so that chains stop at ENG_SVC_DEPTH_MAX.
 *
 * One request at a time, as the ABI says: frame in, reply frame out (with
 * the read end of a pipe for a 2xx), the body streamed into the pipe with
 * back-pressure (the proxy connection is paused while the pipe is full),
 * then the pipe closed and an end frame. A storlet that closes the pipe
 * early abandons the stream (end frame ok:false).
 *
 * Threading: the run's event loop. Owned by the run (eng_exec.c).
 */
#include "engine/eng.h"
#include "engine/eng_frame.h"
#include "engine/eng_int.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_COMPONENT "engine"
#include "common/http.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "common/xalloc.h"

#define SVC_FRAME_MAX 65536

struct eng_svc {
    struct event_base *base;
    int fd;                     /* our end of fd 4 */
    struct event *ev;
    char *host, *token, *account;
    int port;
    unsigned depth;
    uint64_t wall_ms;           /* the run's wall budget: longest silence */
    char *in;                   /* frame being read */
    size_t in_len;
    bool broken;

    /* the request in progress */
    bool busy;
    int64_t id;
    struct http_client *c;
    int status;
    int pipe_wr;
    struct event *ev_pipe;
    uint64_t bytes;
    int64_t want_len;           /* Content-Length of a read, -1 unknown */
    bool paused, abandoned, replied;

    uint64_t progress, progress_seen;   /* requests + stream bytes taken */
};

static void svc_read_cb(evutil_socket_t fd, short what, void *arg);

/* Sends one frame, with fd as SCM_RIGHTS when >= 0. The socket is empty
 * (the storlet waits for this reply), so a small frame goes in one call. */
static int send_frame(struct eng_svc *s, json_t *o, int fd)
{
    size_t len;
    char *f = eng_frame_of(o, &len);
    json_decref(o);
    if (!f)
        return -EINVAL;
    ssize_t w = eng_frame_sendmsg(s->fd, f, len, fd, MSG_NOSIGNAL | MSG_DONTWAIT);
    free(f);
    if (w != (ssize_t)len) {
        s->broken = true;   /* the storlet does not read its replies */
        return -EPIPE;
    }
    return 0;
}

static void reply_error(struct eng_svc *s, int64_t id, int status, const char *reason)
{
    send_frame(s, json_pack("{s:s, s:I, s:i, s:s}", "type", "reply", "id", (json_int_t)id,
                            "status", status, "reason", reason), -1);
}

static void req_end(struct eng_svc *s, bool ok, const char *reason)
{
    if (s->c) {
        http_client_free(s->c);
        s->c = NULL;
    }
    if (s->ev_pipe) {
        event_free(s->ev_pipe);
        s->ev_pipe = NULL;
    }
    if (s->pipe_wr >= 0) {
        close(s->pipe_wr);
        s->pipe_wr = -1;
    }
    if (s->replied && s->status >= 200 && s->status < 300)
        send_frame(s, json_pack("{s:s, s:I, s:b, s:I, s:s}", "type", "end", "id",
                                (json_int_t)s->id, "ok", ok, "bytes",
                                (json_int_t)s->bytes, "reason", reason ? reason : ""),
                   -1);
    s->busy = false;
    s->replied = false;
    if (!s->broken)
        event_add(s->ev, NULL);   /* the next request */
}

/* ---- the proxy side */

static void on_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    struct eng_svc *s = arg;
    s->status = h->status;
    if (h->status < 200 || h->status >= 300) {
        reply_error(s, s->id, h->status, http_status_reason(h->status));
        s->replied = true;
        return;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) == -1) {
        s->status = 503;
        reply_error(s, s->id, 503, "no pipe for the stream");
        s->replied = true;
        return;
    }
    fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
    s->pipe_wr = p[1];
    json_t *meta = json_object();
    for (unsigned i = 0; i < h->nheaders; i++)
        if (strncasecmp(h->headers[i].name, "X-Object-Meta-", 14) == 0)
            json_object_set_new(meta, h->headers[i].name + 14,
                                json_string(h->headers[i].value));
    const char *ct = http_head_get(h, "Content-Type");
    s->want_len = h->body == HTTP_BODY_LENGTH ? (int64_t)h->content_length : -1;
    json_t *o = json_pack("{s:s, s:I, s:i, s:s, s:o}", "type", "reply", "id",
                          (json_int_t)s->id, "status", h->status, "reason",
                          http_status_reason(h->status), "metadata", meta);
    json_object_set_new(o, "content_type", ct ? json_string(ct) : json_null());
    json_object_set_new(o, "content_length",
                        s->want_len >= 0 ? json_integer(s->want_len) : json_null());
    send_frame(s, o, p[0]);
    close(p[0]);
    s->replied = true;
}

static void pipe_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct eng_svc *s = arg;
    if (s->paused && s->c) {
        s->paused = false;
        http_client_resume(s->c);
    }
}

static void on_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    struct eng_svc *s = arg;
    if (s->pipe_wr < 0 || s->abandoned) {
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    while (evbuffer_get_length(b) > 0) {
        int n = evbuffer_write(b, s->pipe_wr);
        if (n > 0) {
            s->bytes += (uint64_t)n;
            s->progress += (uint64_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            s->paused = true;
            http_client_pause(c);
            if (!s->ev_pipe)
                s->ev_pipe = event_new(s->base, s->pipe_wr, EV_WRITE, pipe_writable, s);
            event_add(s->ev_pipe, NULL);
            return;
        }
        /* the storlet closed the pipe: it abandons the stream */
        s->abandoned = true;
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
}

static void on_done(struct http_client *c, int err, void *arg)
{
    (void)c;
    struct eng_svc *s = arg;
    s->c = NULL;   /* freed by the client's owner below */
    http_client_free(c);
    if (!s->replied) {
        s->status = 503;
        reply_error(s, s->id, 503, err < 0 ? strerror(-err) : "no answer");
        s->replied = true;
        req_end(s, false, NULL);
        return;
    }
    bool ok = err == 0 && !s->abandoned &&
              (s->want_len < 0 || (uint64_t)s->want_len == s->bytes);
    req_end(s, ok, ok ? "" : s->abandoned ? "the storlet closed the stream"
                                          : "the stream ended short");
}

/* The proxy says how long an invoked storlet may run (a 102 with its wall
 * budget, which grows with its input): wait that long plus the usual wait
 * for the proxy. The run that asked is held to its own budget anyway. */
static void on_interim(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)arg;
    uint64_t ms;
    if (eng_budget_of(h, &ms) < 0)
        return;
    struct http_client_config d;
    http_client_config_init(&d);
    ms += d.io_timeout_ms;
    http_client_extend_io_timeout(c, ms > UINT_MAX ? UINT_MAX : (unsigned)ms);
}

static const struct http_client_ops svc_ops = {
    .interim = on_interim,
    .response = on_response,
    .body = on_body,
    .done = on_done,
};

/* "c/o" in the caller's account, or "/account/c/o": the names as they
 * are (a space, '?', '#', '%', UTF-8), percent-encoded for the request
 * line, so a name is never read as a query or an escape. */
static char *target_of(struct eng_svc *s, const char *path)
{
    size_t n = strlen(path);
    char *q = xmalloc(3 * n + 1);
    names_quote(path, n, "/", q);
    char *t = path[0] == '/' ? xasprintf("/v1%s", q) : xasprintf("/v1/%s/%s", s->account, q);
    free(q);
    return t;
}

static void handle(struct eng_svc *s, json_t *f)
{
    json_t *jid = json_object_get(f, "id");
    const char *op = json_string_value(json_object_get(f, "op"));
    const char *path = json_string_value(json_object_get(f, "path"));
    int64_t id = json_is_integer(jid) ? json_integer_value(jid) : 0;
    if (id <= 0 || !op || !path || !*path || strstr(path, "..")) {
        reply_error(s, id, 400, "bad services request (id, op, path)");
        event_add(s->ev, NULL);
        return;
    }
    bool invoke = strcmp(op, "invoke") == 0;
    if (!invoke && strcmp(op, "read") != 0) {
        reply_error(s, id, 400, "unknown op");
        event_add(s->ev, NULL);
        return;
    }
    if (invoke && s->depth + 1 >= ENG_SVC_DEPTH_MAX) {
        reply_error(s, id, 508, "storlets invoke each other too deeply");
        event_add(s->ev, NULL);
        return;
    }
    s->busy = true;
    s->id = id;
    s->status = 0;
    s->bytes = 0;
    s->abandoned = s->paused = s->replied = false;
    s->pipe_wr = -1;
    struct http_client_config cfg;
    http_client_config_init(&cfg);
    /* an invoked storlet may be silent for its whole run (a fixity): at
     * least as long as the caller's own budget, longer if the proxy says
     * so (on_interim) */
    if (s->wall_ms > cfg.io_timeout_ms)
        cfg.io_timeout_ms = s->wall_ms > UINT_MAX ? UINT_MAX : (unsigned)s->wall_ms;
    s->c = http_client_new(s->base, s->host, s->port, &cfg);
    http_client_header(s->c, "X-Auth-Token", s->token);
    http_client_headerf(s->c, "X-Storlet-Depth", "%u", s->depth + 1);
    if (invoke) {
        http_client_header(s->c, ENG_INTERIM_HEADER, "102");
        const char *st = json_string_value(json_object_get(f, "storlet"));
        if (!st || !*st) {
            http_client_free(s->c);
            s->c = NULL;
            s->busy = false;
            reply_error(s, id, 400, "invoke: no storlet");
            event_add(s->ev, NULL);
            return;
        }
        http_client_header(s->c, "X-Run-Storlet", st);
        json_t *params = json_object_get(f, "parameters");
        const char *k;
        json_t *v;
        unsigned n = 0;
        json_object_foreach(params, k, v) {
            if (!json_is_string(v))
                continue;
            char name[48];
            snprintf(name, sizeof(name), "X-Storlet-Parameter-%u", ++n);
            char *val = xasprintf("%s:%s", k, json_string_value(v));
            http_client_header(s->c, name, val);
            free(val);
        }
    } else {
        const char *range = json_string_value(json_object_get(f, "range"));
        if (range)
            http_client_header(s->c, "Range", range);
    }
    char *target = target_of(s, path);
    int rc = http_client_start(s->c, "GET", target, 0, &svc_ops, s);
    free(target);
    if (rc == 0)
        rc = http_client_end(s->c);
    if (rc < 0) {
        http_client_free(s->c);
        s->c = NULL;
        s->busy = false;
        reply_error(s, id, 503, "cannot reach the proxy");
        event_add(s->ev, NULL);
    }
}

static void svc_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct eng_svc *s = arg;
    if (s->busy)
        return;
    for (;;) {
        if (s->in_len >= 4) {
            const unsigned char *u = (const unsigned char *)s->in;
            size_t fl = (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 | u[3];
            if (fl == 0 || fl > SVC_FRAME_MAX) {
                s->broken = true;
                event_del(s->ev);
                return;
            }
            if (s->in_len >= fl + 4) {
                json_t *f = json_loadb(s->in + 4, fl, JSON_REJECT_DUPLICATES, NULL);
                memmove(s->in, s->in + 4 + fl, s->in_len - fl - 4);
                s->in_len -= fl + 4;
                event_del(s->ev);
                if (!json_is_object(f)) {
                    json_decref(f);
                    s->broken = true;
                    return;
                }
                s->progress++;
                handle(s, f);
                json_decref(f);
                return;
            }
        }
        ssize_t n = read(fd, s->in + s->in_len, SVC_FRAME_MAX + 4 - s->in_len);
        if (n > 0) {
            s->in_len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        event_del(s->ev);   /* the storlet closed fd 4 */
        return;
    }
}

struct eng_svc *eng_svc_new(struct event_base *base, int fd, const char *host, int port,
                            const char *token, const char *account, unsigned depth,
                            uint64_t wall_ms)
{
    struct eng_svc *s = xcalloc(1, sizeof(*s));
    s->wall_ms = wall_ms;
    s->base = base;
    s->fd = fd;
    s->host = xstrdup(host);
    s->port = port;
    s->token = xstrdup(token);
    s->account = xstrdup(account);
    s->depth = depth;
    s->pipe_wr = -1;
    s->in = xmalloc(SVC_FRAME_MAX + 4);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    s->ev = event_new(base, fd, EV_READ | EV_PERSIST, svc_read_cb, s);
    event_add(s->ev, NULL);
    return s;
}

bool eng_svc_progressed(struct eng_svc *s)
{
    bool moved = s->progress != s->progress_seen;
    s->progress_seen = s->progress;
    /* a request in progress whose stream is not blocked on the storlet */
    return moved || (s->busy && !s->paused);
}

void eng_svc_free(struct eng_svc *s)
{
    if (!s)
        return;
    http_client_free(s->c);
    if (s->ev_pipe)
        event_free(s->ev_pipe);
    if (s->pipe_wr >= 0)
        close(s->pipe_wr);
    event_free(s->ev);
    close(s->fd);
    free(s->host);
    free(s->token);
    free(s->account);
    free(s->in);
    free(s);
}

/*
 * http_server.c - the HTTP/1.1 server: connections, requests, responses.
 *
 * One struct http_conn per accepted socket, with one struct http_req
 * embedded (a connection carries one request at a time; the next
 * pipelined head is not parsed before the current request is finished).
 * All progress is made by conn_process(), which runs from the event loop:
 * from the read callback, the write callback, the timer and the "kick"
 * event that http_* calls activate when they change a request's state.
 * Handler callbacks are called only from there, never from inside an
 * http_* call, so a handler may call anything from any callback.
 *
 * Reading is enabled only while a head is awaited or the body is being
 * read, not paused, and less than read_max decoded bytes wait for the
 * handler: that bounds the input side. The output side is bounded by the
 * handler writing only while http_resp_wants_more(), with the drain
 * callback from the bufferevent's write low watermark.
 *
 * Writing: the bufferevent's write event is off while the output is empty.
 * conn_flush() sends what is queued straight to the socket and switches
 * the write event on only for what the socket did not take (write_on); the
 * write callback switches it off again once the output is empty. Letting
 * libevent do it would switch EPOLLOUT on and off (two epoll_ctl) around
 * every body chunk written to a socket that keeps up. Invariant: outside
 * http_* calls and callbacks, output is queued only while write_on. A
 * socket error met by a direct write is left for the bufferevent's own
 * write to find and report.
 *
 * Reading more per wakeup: libevent 2.1 reads at most 4 KiB per read
 * callback, so the read callback tops the input up with one larger read
 * when that 4 KiB was not all there was (http_read_more).
 *
 * Lifetime: a connection is freed by conn_free() only outside
 * conn_process() (conn_close() defers it with close_now when called
 * inside). A request ends in req_finish(), which calls done, clears the
 * connection's pool and readies the parser for the next head.
 *
 * Threading: everything belongs to the thread of the event_base.
 */
#include "common/http.h"
#include "common/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/bug.h"
#include "common/pool.h"
#include "common/util.h"
#include "common/xalloc.h"

#define LOG_COMPONENT "http"
#include "common/log.h"

enum resp_state { RESP_NONE, RESP_BODY, RESP_DONE };
enum timer_kind { T_NONE, T_IDLE, T_HEADER, T_BODY, T_LINGER };

/* How long a closing connection reads and discards what the client still
 * sends, so that our last response is not destroyed by a TCP reset. */
#define LINGER_MS 2000

struct http_req {
    struct http_conn *conn;
    const struct http_req_ops *ops;
    void *arg;
    struct evbuffer *body;      /* decoded body for the handler (reused) */
    struct evbuffer *resp_hdrs; /* headers added before http_resp_start */
    char *path;
    bool active;
    bool reading;       /* a body callback is set: read the body */
    bool paused;
    bool fresh;         /* body bytes not offered to the handler yet */
    bool body_complete; /* parser reached the end of the body */
    bool body_end_called;
    bool continue_sent;
    enum resp_state resp;
    bool resp_chunked;
    bool resp_nobody;   /* HEAD, 1xx, 204, 304 */
    bool resp_until_close;
    bool aborted;
    int64_t resp_len;
    uint64_t resp_written;
    size_t splice_left; /* http_resp_splice: bytes of its chunk still owed */
    int status;
    uint64_t received;
    uint64_t start_ns;
};

struct http_conn {
    struct http_server *srv;
    struct bufferevent *bev;
    struct event *kick;
    struct event *timer;
    struct event *splice_wait;  /* http_resp_splice: the socket was full */
    enum timer_kind timer_kind;
    struct http_parser parser;
    struct http_head head;
    struct pool *pool;
    struct http_req req;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    char peer_str[64];
    bool in_process;
    bool close_now;     /* conn_close() was called inside conn_process */
    bool closing;       /* close once the output is sent */
    bool eof;           /* the client half-closed */
    bool lingering;     /* output sent, write side shut, discarding input */
    bool write_on;      /* the bufferevent's write event is enabled */
    size_t read_high;   /* input buffer bound (read high watermark) */
    size_t in_seen;     /* input length after the last processing */
    LIST_ENTRY(http_conn) link;
};

/* After accept() fails (EMFILE, ENFILE, ENOMEM), how long the listener
 * rests: the pending connection keeps the socket readable, so retrying at
 * once would spin. */
#define ACCEPT_BACKOFF_MS 100

struct http_server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *accept_retry;
    struct http_server_config cfg;
    http_handler_fn *handler;
    void *arg;
    LIST_HEAD(, http_conn) conns;
    unsigned nconns;
    bool shutting;
    http_server_done_fn *done;
    void *done_arg;
};

void http_server_config_init(struct http_server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    http_limits_init(&cfg->limits);
    cfg->idle_timeout_ms = 60000;
    cfg->header_timeout_ms = 60000;
    cfg->body_timeout_ms = 60000;
    cfg->write_timeout_ms = 60000;
    cfg->write_high = 256 * 1024;
    cfg->write_low = 64 * 1024;
    cfg->read_max = 256 * 1024;
}

static void conn_process(struct http_conn *c);

/* ------------------------------------------------------------ plumbing */

static struct evbuffer *conn_out(const struct http_conn *c)
{
    return bufferevent_get_output(c->bev);
}

static struct evbuffer *conn_in(const struct http_conn *c)
{
    return bufferevent_get_input(c->bev);
}

static void conn_kick(struct http_conn *c)
{
    if (!c->in_process)
        event_active(c->kick, EV_TIMEOUT, 0);
}

/* Sends queued output now; what the socket does not take is left to the
 * bufferevent (write event on until the output is empty). Calls no
 * callback and never frees c. */
static void conn_flush(struct http_conn *c)
{
    struct evbuffer *out = conn_out(c);
    if (c->write_on || evbuffer_get_length(out) == 0)
        return;
    (void)http_write_now(c->bev);
    if (evbuffer_get_length(out) > 0) {
        c->write_on = true;
        bufferevent_enable(c->bev, EV_WRITE);
    }
}

static void conn_free(struct http_conn *c)
{
    struct http_server *s = c->srv;
    LIST_REMOVE(c, link);
    s->nconns--;
    bufferevent_free(c->bev);
    if (c->splice_wait)
        event_free(c->splice_wait);
    event_free(c->kick);
    event_free(c->timer);
    pool_free(c->pool);
    evbuffer_free(c->req.body);
    evbuffer_free(c->req.resp_hdrs);
    http_head_release(&c->head);
    free(c);
    if (s->shutting && s->nconns == 0 && s->done) {
        http_server_done_fn *done = s->done;
        s->done = NULL;
        done(s, s->done_arg);
    }
}

static void conn_close(struct http_conn *c)
{
    if (c->in_process)
        c->close_now = true;
    else
        conn_free(c);
}

static void timer_arm(struct http_conn *c, enum timer_kind kind, bool restart)
{
    const struct http_server_config *cfg = &c->srv->cfg;
    unsigned ms = 0;
    if (kind == c->timer_kind && !restart)
        return;
    c->timer_kind = kind;
    switch (kind) {
    case T_IDLE: ms = cfg->idle_timeout_ms; break;
    case T_HEADER: ms = cfg->header_timeout_ms; break;
    case T_BODY: ms = cfg->body_timeout_ms; break;
    case T_LINGER: ms = LINGER_MS; break;
    case T_NONE: break;
    }
    if (ms == 0) {
        event_del(c->timer);
        return;
    }
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(c->timer, &tv);
}

/* Writes a complete error answer and marks the connection for closing. */
static void conn_send_error(struct http_conn *c, int status, const char *why)
{
    struct evbuffer *out = conn_out(c);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status,
                        why ? why : http_status_reason(status));
    http_out_date(out);
    evbuffer_add_printf(out, "Content-Length: 0\r\nConnection: close\r\n\r\n");
    c->closing = true;
}

/*
 * The last response has been sent: shut our write side and read and drop
 * what the client still sends until it closes or LINGER_MS pass. Closing
 * with unread input would make the kernel send a reset, and a reset can
 * destroy the response before the client has read it (an early 413 to an
 * upload is the usual case).
 */
static void conn_linger(struct http_conn *c)
{
    if (c->lingering)
        return;
    if (c->eof) {
        conn_close(c);
        return;
    }
    c->lingering = true;
    (void)shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    evbuffer_drain(conn_in(c), evbuffer_get_length(conn_in(c)));
    timer_arm(c, T_LINGER, true);
    bufferevent_enable(c->bev, EV_READ);
}

/*
 * Reading is off while the handler pauses the body or has read_max bytes
 * of it waiting, and once the connection is closing. Otherwise it stays
 * on, also while a request without a body is being answered: toggling it
 * would cost two epoll_ctl calls per request, and the input buffer is
 * bounded by the bufferevent's read high watermark (set in on_accept), so
 * pipelined bytes wait there unparsed.
 */
static void conn_update_read(struct http_conn *c)
{
    struct http_req *r = &c->req;
    bool want;
    if (c->lingering)
        want = true;
    else if (c->closing || c->eof)
        want = false;
    else if (!r->active || !r->reading || r->body_complete)
        want = true;
    else
        want = !r->paused &&
               evbuffer_get_length(r->body) < c->srv->cfg.read_max;
    if (want)
        bufferevent_enable(c->bev, EV_READ);
    else
        bufferevent_disable(c->bev, EV_READ);
}

/* --------------------------------------------------------- request life */

static void req_begin(struct http_conn *c)
{
    struct http_req *r = &c->req;
    r->active = true;
    r->ops = NULL;
    r->arg = NULL;
    r->path = NULL;
    r->reading = r->paused = r->fresh = false;
    r->body_complete = c->head.body == HTTP_BODY_NONE;
    r->body_end_called = false;
    r->continue_sent = false;
    r->resp = RESP_NONE;
    r->resp_chunked = r->resp_nobody = r->resp_until_close = false;
    r->aborted = false;
    r->resp_len = 0;
    r->resp_written = 0;
    r->splice_left = 0;
    r->status = 0;
    r->received = 0;
    r->start_ns = now_mono_ns();
    if (c->srv->shutting)
        c->closing = true;
}

/*
 * The server is done with the request: tell the handler, free the pool and
 * either ready the parser for the next head or close.
 */
static void req_finish(struct http_conn *c, int err)
{
    struct http_req *r = &c->req;
    BUG_ON(!r->active);
    if (r->ops && r->ops->done)
        r->ops->done(r, err, r->arg);
    r->active = false;
    r->ops = NULL;
    pool_clear(c->pool);
    evbuffer_drain(r->body, evbuffer_get_length(r->body));
    evbuffer_drain(r->resp_hdrs, evbuffer_get_length(r->resp_hdrs));
    if (err || !c->head.keep_alive || r->resp_until_close || !r->body_complete)
        c->closing = true;
    if (c->srv->shutting)
        c->closing = true;
    http_parser_reset(&c->parser, false);
    if (c->closing && evbuffer_get_length(conn_out(c)) == 0)
        conn_linger(c);
}

/* The request failed on the client side (timeout, bad framing): answer if
 * nothing was answered yet, finish, close after the output is sent. */
static void req_fail(struct http_conn *c, int err, int status)
{
    if (c->req.resp == RESP_NONE && status) {
        conn_send_error(c, status, NULL);
        c->req.status = status;
    }
    c->closing = true;
    req_finish(c, err);
}

/* One round of progress; returns true if anything changed. */
static bool conn_step(struct http_conn *c)
{
    struct http_req *r = &c->req;
    struct evbuffer *in = conn_in(c);

    if (!r->active) {
        if (c->closing || c->lingering)
            return false;
        enum http_rc rc = http_parser_head(&c->parser, in, &c->head);
        if (rc == HTTP_AGAIN) {
            if (c->eof) {
                /* half-closed and no complete request left */
                c->closing = true;
                if (evbuffer_get_length(conn_out(c)) == 0)
                    conn_close(c);
            } else if (evbuffer_get_length(in) > 0)
                timer_arm(c, T_HEADER, false);
            else if (c->srv->shutting)
                conn_close(c);
            else if (c->timer_kind != T_HEADER)
                timer_arm(c, T_IDLE, false);
            return false;
        }
        if (rc == HTTP_ERROR) {
            timer_arm(c, T_NONE, false);
            conn_send_error(c, c->parser.err_status, c->parser.err_reason);
            return false;
        }
        timer_arm(c, T_NONE, false);
        req_begin(c);
        c->srv->handler(r, c->srv->arg);
        return true;
    }

    bool progress = false;
    if (r->reading && !r->paused) {
        size_t have = evbuffer_get_length(r->body);
        size_t max = c->srv->cfg.read_max;
        if (!r->body_complete && have < max) {
            enum http_rc rc =
                http_parser_body(&c->parser, &c->head, in, r->body, max - have);
            if (rc == HTTP_ERROR) {
                req_fail(c, -EPROTO, 400);
                return false;
            }
            if (evbuffer_get_length(r->body) > have) {
                r->received += evbuffer_get_length(r->body) - have;
                r->fresh = true;
                progress = true;
            }
            if (rc == HTTP_OK) {
                r->body_complete = true;
                progress = true;
            }
        }
        if (r->body_complete)
            timer_arm(c, T_NONE, false);
        else if (progress || c->timer_kind != T_BODY)
            timer_arm(c, T_BODY, true);
        if (r->fresh && evbuffer_get_length(r->body) > 0 && r->ops &&
            r->ops->body) {
            r->fresh = false;
            r->ops->body(r, r->body, r->arg);
            progress = true;
        }
        if (r->body_complete && !r->body_end_called && !r->paused &&
            evbuffer_get_length(r->body) == 0) {
            r->body_end_called = true;
            if (r->ops && r->ops->body_end)
                r->ops->body_end(r, r->arg);
            progress = true;
        }
    } else if (r->paused && c->timer_kind == T_BODY) {
        timer_arm(c, T_NONE, false);
    }

    if (r->resp == RESP_DONE) {
        req_finish(c, r->aborted ? -ECONNABORTED : 0);
        return true;
    }
    return progress;
}

static void conn_process(struct http_conn *c)
{
    if (c->in_process)
        return;
    c->in_process = true;
    while (!c->close_now && conn_step(c))
        ;
    if (!c->close_now && !c->lingering) {
        conn_flush(c);
        if (c->closing && !c->req.active &&
            evbuffer_get_length(conn_out(c)) == 0)
            conn_linger(c); /* a close inside is deferred to close_now */
    }
    c->in_process = false;
    if (c->close_now) {
        conn_free(c);
        return;
    }
    c->in_seen = evbuffer_get_length(conn_in(c));
    conn_update_read(c);
}

/* ------------------------------------------------------------ callbacks */

static void on_read(struct bufferevent *bev, void *arg)
{
    struct http_conn *c = arg;
    struct evbuffer *in = conn_in(c);
    if (c->lingering) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    size_t have = evbuffer_get_length(in);
    if (have >= c->in_seen + HTTP_LIBEVENT_READ && have < c->read_high)
        http_read_more(bev, c->read_high - have);
    conn_process(c);
}

/* The output can take more: the handler's drain callback, if its
 * response body is being written. */
static void conn_drain(struct http_conn *c)
{
    struct http_req *r = &c->req;
    if (r->active && r->resp == RESP_BODY && r->ops && r->ops->drain) {
        c->in_process = true; /* handler calls must only kick */
        r->ops->drain(r, r->arg);
        c->in_process = false;
        conn_process(c);
    }
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct http_conn *c = arg;
    struct http_req *r = &c->req;
    if (evbuffer_get_length(conn_out(c)) == 0 && c->write_on) {
        /* libevent has already deleted the event: no epoll call here */
        c->write_on = false;
        bufferevent_disable(bev, EV_WRITE);
    }
    if (c->lingering)
        return;
    if (c->closing && !r->active && evbuffer_get_length(conn_out(c)) == 0) {
        conn_linger(c);
        return;
    }
    conn_drain(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct http_conn *c = arg;
    struct http_req *r = &c->req;
    if (c->lingering) {
        conn_free(c);
        return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
        (!r->active || r->body_complete)) {
        /* A half-close after whole requests: answer what was asked. */
        c->eof = true;
        conn_process(c);
        return;
    }
    if (r->active) {
        c->in_process = true;
        req_finish(c, (what & BEV_EVENT_TIMEOUT) ? -ETIMEDOUT : -ECONNRESET);
        c->in_process = false;
    }
    conn_free(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    enum timer_kind kind = c->timer_kind;
    c->timer_kind = T_NONE;
    c->in_process = true;
    if (kind == T_LINGER) {
        c->close_now = true;
    } else if (kind == T_BODY && c->req.active) {
        req_fail(c, -ETIMEDOUT, 408);
    } else if (kind == T_HEADER && !c->req.active &&
               evbuffer_get_length(conn_in(c)) > 0) {
        conn_send_error(c, 408, NULL);
    } else {
        c->close_now = true;
    }
    if (!c->close_now && !c->lingering)
        conn_flush(c);
    c->in_process = false;
    if (c->close_now) {
        conn_free(c);
        return;
    }
    if (c->closing && !c->req.active && evbuffer_get_length(conn_out(c)) == 0) {
        conn_linger(c); /* may free c */
        return;
    }
    conn_update_read(c);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    conn_process(arg);
}

static void format_peer(struct http_conn *c)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (c->peer.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&c->peer;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        port = ntohs(a->sin_port);
        snprintf(c->peer_str, sizeof(c->peer_str), "%s:%d", ip, port);
    } else if (c->peer.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&c->peer;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        port = ntohs(a->sin6_port);
        snprintf(c->peer_str, sizeof(c->peer_str), "[%s]:%d", ip, port);
    } else {
        snprintf(c->peer_str, sizeof(c->peer_str), "unix");
    }
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *arg)
{
    struct http_server *s = arg;
    const struct http_server_config *cfg = &s->cfg;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    struct http_conn *c = xcalloc(1, sizeof(*c));
    c->srv = s;
    c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    BUG_ON(!c->bev);
    c->kick = event_new(s->base, -1, 0, on_kick, c);
    c->timer = event_new(s->base, -1, 0, on_timer, c);
    BUG_ON(!c->kick || !c->timer);
    http_parser_init(&c->parser, HTTP_PARSE_REQUEST, &cfg->limits);
    http_head_init(&c->head);
    c->pool = pool_new();
    c->req.conn = c;
    c->req.body = evbuffer_new();
    c->req.resp_hdrs = evbuffer_new();
    BUG_ON(!c->req.body || !c->req.resp_hdrs);
    if ((size_t)salen <= sizeof(c->peer)) {
        memcpy(&c->peer, sa, (size_t)salen);
        c->peer_len = (socklen_t)salen;
    }
    format_peer(c);
    LIST_INSERT_HEAD(&s->conns, c, link);
    s->nconns++;

    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, cfg->write_low, 0);
    /* Room for the largest head the limits allow, and a body read. */
    size_t read_high = cfg->limits.max_request_line +
                       cfg->limits.max_header_size + 4096;
    if (read_high < cfg->read_max)
        read_high = cfg->read_max;
    bufferevent_setwatermark(c->bev, EV_READ, 0, read_high);
    c->read_high = read_high;
    /* When the socket backs up, libevent writes at most 16 KiB per call by
     * default: a whole watermark's worth at once instead. */
    bufferevent_set_max_single_write(c->bev, cfg->write_high > 16384
                                                 ? cfg->write_high : 16384);
    if (cfg->write_timeout_ms) {
        struct timeval wt = {cfg->write_timeout_ms / 1000,
                             (cfg->write_timeout_ms % 1000) * 1000};
        bufferevent_set_timeouts(c->bev, NULL, &wt);
    }
    /* A new bufferevent has writing enabled: off until output backs up
     * (conn_flush), or every queued byte would switch EPOLLOUT on. */
    bufferevent_disable(c->bev, EV_WRITE);
    /* A fresh connection waits for its first head under the header
     * timeout: a client that connects and says nothing is a slow client. */
    timer_arm(c, T_HEADER, true);
    conn_update_read(c);
}

/* --------------------------------------------------------------- server */

static void on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
    struct http_server *s = arg;
    if (s->listener)
        evconnlistener_enable(s->listener);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    struct http_server *s = arg;
    int e = EVUTIL_SOCKET_ERROR();
    log_warn("accept: %s; pausing accepts for %d ms (%u connections open)",
             strerror(e), ACCEPT_BACKOFF_MS, s->nconns);
    evconnlistener_disable(l);
    struct timeval tv = {0, ACCEPT_BACKOFF_MS * 1000};
    event_add(s->accept_retry, &tv);
}

struct http_server *http_server_new(struct event_base *base, int listen_fd,
                                    const struct http_server_config *cfg,
                                    http_handler_fn *handler, void *arg)
{
    struct http_server *s = xcalloc(1, sizeof(*s));
    s->base = base;
    if (cfg)
        s->cfg = *cfg;
    else
        http_server_config_init(&s->cfg);
    if (s->cfg.write_low > s->cfg.write_high)
        s->cfg.write_low = s->cfg.write_high;
    s->handler = handler;
    s->arg = arg;
    LIST_INIT(&s->conns);
    s->listener = evconnlistener_new(base, on_accept, s,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                     -1, listen_fd);
    BUG_ON(!s->listener);
    evconnlistener_set_error_cb(s->listener, on_accept_error);
    s->accept_retry = event_new(base, -1, 0, on_accept_retry, s);
    BUG_ON(!s->accept_retry);
    return s;
}

void http_server_shutdown(struct http_server *s, http_server_done_fn *done,
                          void *arg)
{
    s->shutting = true;
    s->done = done;
    s->done_arg = arg;
    if (s->listener) {
        evconnlistener_free(s->listener);
        s->listener = NULL;
    }
    event_del(s->accept_retry);
    struct http_conn *c, *next;
    for (c = LIST_FIRST(&s->conns); c; c = next) {
        next = LIST_NEXT(c, link);
        if (c->req.active) {
            c->closing = true; /* after the response in progress */
        } else if (evbuffer_get_length(conn_out(c)) > 0 && !c->lingering) {
            c->closing = true; /* after the last response is sent */
            bufferevent_disable(c->bev, EV_READ);
        } else {
            conn_free(c);
        }
    }
    if (s->nconns == 0 && s->done) {
        s->done = NULL;
        done(s, arg);
    }
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    s->done = NULL;
    while (!LIST_EMPTY(&s->conns)) {
        struct http_conn *c = LIST_FIRST(&s->conns);
        if (c->req.active) {
            c->in_process = true;
            req_finish(c, -ECONNABORTED);
            c->in_process = false;
        }
        conn_free(c);
    }
    if (s->listener)
        evconnlistener_free(s->listener);
    event_free(s->accept_retry);
    free(s);
}

unsigned http_server_conn_count(const struct http_server *s)
{
    return s->nconns;
}

/* ------------------------------------------------------------- requests */

void http_req_set_ops(struct http_req *r, const struct http_req_ops *ops,
                      void *arg)
{
    struct http_conn *c = r->conn;
    r->ops = ops;
    r->arg = arg;
    if (ops && ops->body && !r->reading) {
        r->reading = true;
        if (c->head.expect_continue && r->resp == RESP_NONE &&
            !r->continue_sent && !r->body_complete) {
            evbuffer_add(conn_out(c), "HTTP/1.1 100 Continue\r\n\r\n", 25);
            r->continue_sent = true;
        }
    }
    conn_kick(c);
}

void http_req_pause(struct http_req *r)
{
    r->paused = true;
    if (!r->conn->in_process)
        conn_update_read(r->conn);
}

void http_req_resume(struct http_req *r)
{
    if (!r->paused)
        return;
    r->paused = false;
    r->fresh = true;
    conn_kick(r->conn);
}

const struct http_head *http_req_head(const struct http_req *r)
{
    return &r->conn->head;
}

enum http_method http_req_method(const struct http_req *r)
{
    return r->conn->head.meth;
}

const char *http_req_method_str(const struct http_req *r)
{
    return r->conn->head.method;
}

const char *http_req_target(const struct http_req *r)
{
    return r->conn->head.target;
}

const char *http_req_path(struct http_req *r)
{
    if (!r->path) {
        const char *t = r->conn->head.target;
        r->path = pool_strndup(r->conn->pool, t, strcspn(t, "?"));
    }
    return r->path;
}

const char *http_req_query(const struct http_req *r)
{
    const char *q = strchr(r->conn->head.target, '?');
    return q ? q + 1 : NULL;
}

const char *http_req_header(const struct http_req *r, const char *name)
{
    return http_head_get(&r->conn->head, name);
}

bool http_req_expects_continue(const struct http_req *r)
{
    return r->conn->head.expect_continue;
}

enum http_body_kind http_req_body_kind(const struct http_req *r)
{
    return r->conn->head.body;
}

struct pool *http_req_pool(struct http_req *r)
{
    return r->conn->pool;
}

const struct sockaddr *http_req_peer(const struct http_req *r, socklen_t *len)
{
    if (len)
        *len = r->conn->peer_len;
    return (const struct sockaddr *)&r->conn->peer;
}

const char *http_req_peer_str(const struct http_req *r)
{
    return r->conn->peer_str;
}

int http_req_status(const struct http_req *r)
{
    return r->status;
}

uint64_t http_req_bytes_sent(const struct http_req *r)
{
    return r->resp_written;
}

uint64_t http_req_bytes_received(const struct http_req *r)
{
    return r->received;
}

uint64_t http_req_start_ns(const struct http_req *r)
{
    return r->start_ns;
}

/* ------------------------------------------------------------ responses */

int http_resp_header(struct http_req *r, const char *name, const char *value)
{
    if (!http_header_ok(name, value))
        return -EINVAL;
    http_out_header(r->resp_hdrs, name, value);
    return 0;
}

int http_resp_headerf(struct http_req *r, const char *name, const char *fmt,
                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = xvasprintf(fmt, ap);
    va_end(ap);
    int rc = http_resp_header(r, name, v);
    free(v);
    return rc;
}

int http_resp_start(struct http_req *r, int status, int64_t content_length)
{
    struct http_conn *c = r->conn;
    struct evbuffer *out = conn_out(c);
    const struct http_head *h = &c->head;
    if (r->resp != RESP_NONE || status < 200 || status > 999)
        return -EINVAL;

    r->resp_nobody = h->meth == HTTP_M_HEAD || status == 204 || status == 304;
    r->resp_len = content_length;
    /* A body that will never be read means the connection cannot be
     * reused: the client is told now. */
    if (!r->body_complete && !r->reading)
        c->closing = true;
    if (!h->keep_alive || c->srv->shutting)
        c->closing = true;

    char line[64];
    const char *reason = http_status_reason(status);
    size_t rl = strlen(reason);
    memcpy(line, "HTTP/1.1 ", 9);
    line[9] = (char)('0' + status / 100);
    line[10] = (char)('0' + status / 10 % 10);
    line[11] = (char)('0' + status % 10);
    line[12] = ' ';
    BUG_ON(rl > sizeof(line) - 15); /* reasons are short constants */
    memcpy(line + 13, reason, rl);
    memcpy(line + 13 + rl, "\r\n", 2);
    evbuffer_add(out, line, 15 + rl);
    http_out_date(out);
    evbuffer_add_buffer(out, r->resp_hdrs);
    if (status == 204) {
        /* no framing headers at all */
    } else if (content_length >= 0) {
        http_out_header_u64(out, "Content-Length",
                            (unsigned long long)content_length);
    } else if (!r->resp_nobody) {
        if (h->version >= 11) {
            evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
            r->resp_chunked = true;
        } else {
            r->resp_until_close = true;
            c->closing = true;
        }
    }
    if (c->closing)
        evbuffer_add(out, "Connection: close\r\n", 19);
    else if (h->version == 10)
        evbuffer_add(out, "Connection: keep-alive\r\n", 24);
    evbuffer_add(out, "\r\n", 2);
    r->resp = RESP_BODY;
    r->status = status;
    return 0;
}

int http_resp_interim(struct http_req *r, int status, const char *name,
                      const char *value)
{
    struct http_conn *c = r->conn;
    if (r->resp != RESP_NONE || status < 102 || status > 199 ||
        (name && !http_header_ok(name, value)))
        return -EINVAL;
    if (c->head.version < 11 ||
        (c->head.expect_continue && !r->continue_sent && !r->body_complete))
        return -EPROTO;
    struct evbuffer *out = conn_out(c);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status, http_status_reason(status));
    if (name)
        http_out_header(out, name, value);
    evbuffer_add(out, "\r\n", 2);
    conn_flush(c);
    return 0;
}

static int resp_check(struct http_req *r, size_t len)
{
    if (r->resp != RESP_BODY || r->splice_left > 0)
        return -EINVAL;
    if (r->resp_len >= 0 && r->resp_written + len > (uint64_t)r->resp_len)
        return -EMSGSIZE;
    return 0;
}

int http_resp_write(struct http_req *r, const void *data, size_t len)
{
    int rc = resp_check(r, len);
    if (rc || r->resp_nobody || len == 0)
        return rc;
    struct evbuffer *out = conn_out(r->conn);
    if (r->resp_chunked)
        http_out_chunk(out, data, len);
    else
        evbuffer_add(out, data, len);
    r->resp_written += len;
    conn_flush(r->conn);
    return 0;
}

int http_resp_add_buffer(struct http_req *r, struct evbuffer *buf)
{
    size_t len = evbuffer_get_length(buf);
    int rc = resp_check(r, len);
    if (rc)
        return rc;
    if (r->resp_nobody || len == 0) {
        evbuffer_drain(buf, len);
        return 0;
    }
    struct evbuffer *out = conn_out(r->conn);
    if (r->resp_chunked)
        http_out_chunk_buffer(out, buf);
    else
        evbuffer_add_buffer(out, buf);
    r->resp_written += len;
    conn_flush(r->conn);
    return 0;
}

/* The socket can take more after http_resp_splice found it full (or it
 * stayed full for write_timeout_ms: the client is too slow, as for a
 * bufferevent write). */
static void on_splice_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct http_conn *c = arg;
    struct http_req *r = &c->req;
    if (what & EV_TIMEOUT) {
        if (r->active) {
            c->in_process = true;
            req_finish(c, -ETIMEDOUT);
            c->in_process = false;
        }
        conn_free(c);
        return;
    }
    conn_drain(c);
}

static void splice_wait(struct http_conn *c)
{
    if (!c->splice_wait)
        c->splice_wait = event_new(bufferevent_get_base(c->bev), bufferevent_getfd(c->bev),
                                   EV_WRITE, on_splice_writable, c);
    unsigned ms = c->srv->cfg.write_timeout_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(c->splice_wait, ms ? &tv : NULL);
}

ssize_t http_resp_splice(struct http_req *r, int fd, size_t len)
{
    struct http_conn *c = r->conn;
    struct evbuffer *out = conn_out(c);
    if (r->resp != RESP_BODY || r->resp_nobody)
        return -EINVAL;
    if (evbuffer_get_length(out) > 0) {
        conn_flush(c);
        if (evbuffer_get_length(out) > 0)
            return -EAGAIN;   /* the write callback's drain follows */
    }
    if (r->splice_left == 0) {
        int avail = 0;
        if (ioctl(fd, FIONREAD, &avail) == -1)
            return -errno;
        size_t n = avail > 0 ? (size_t)avail : 0;
        if (n > len)
            n = len;
        if (n == 0)
            return 0;
        if (r->resp_len >= 0 && r->resp_written + n > (uint64_t)r->resp_len)
            return -EMSGSIZE;
        r->splice_left = n;
        if (r->resp_chunked) {
            char hdr[24];
            int hl = snprintf(hdr, sizeof(hdr), "%zx\r\n", n);
            evbuffer_add(out, hdr, (size_t)hl);
            conn_flush(c);
            if (evbuffer_get_length(out) > 0)
                return -EAGAIN;
        }
    }
    size_t want = r->splice_left < len ? r->splice_left : len;
    ssize_t m = splice(fd, NULL, bufferevent_getfd(c->bev), NULL, want,
                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (m > 0) {
        r->splice_left -= (size_t)m;
        r->resp_written += (uint64_t)m;
        if (r->splice_left == 0 && r->resp_chunked) {
            evbuffer_add(out, "\r\n", 2);
            conn_flush(c);
        }
        return m;
    }
    if (m == 0)
        return -EIO;   /* the pipe ended inside bytes FIONREAD counted */
    if (errno == EAGAIN || errno == EINTR) {
        splice_wait(c);   /* the socket is full (the pipe holds the bytes) */
        return -EAGAIN;
    }
    return -errno;
}

int http_resp_add_file(struct http_req *r, struct evbuffer_file_segment *seg,
                       uint64_t off, size_t len)
{
    int rc = resp_check(r, len);
    if (rc || r->resp_nobody || len == 0)
        return rc;
    struct evbuffer *out = conn_out(r->conn);
    if (r->resp_chunked)
        evbuffer_add_printf(out, "%zx\r\n", len);
    /* the bufferevent's output drains to its socket, so libevent keeps
     * the range as a sendfile chain instead of reading it into memory */
    if (evbuffer_add_file_segment(out, seg, (ev_off_t)off, (ev_off_t)len) != 0)
        return -ENOMEM;
    if (r->resp_chunked)
        evbuffer_add(out, "\r\n", 2);
    r->resp_written += len;
    conn_flush(r->conn);
    return 0;
}

bool http_resp_wants_more(const struct http_req *r)
{
    return evbuffer_get_length(conn_out(r->conn)) < r->conn->srv->cfg.write_high;
}

size_t http_resp_buffered(const struct http_req *r)
{
    return evbuffer_get_length(conn_out(r->conn));
}

int http_resp_end(struct http_req *r)
{
    struct http_conn *c = r->conn;
    int rc = 0;
    if (r->resp != RESP_BODY)
        return -EINVAL;
    if (r->splice_left > 0) {   /* a spliced chunk is short: never end it */
        http_resp_abort(r);
        return -EPROTO;
    }
    if (r->resp_chunked)
        http_out_last_chunk(conn_out(c));
    if (!r->resp_nobody && r->resp_len >= 0 &&
        r->resp_written < (uint64_t)r->resp_len) {
        c->closing = true;
        rc = -EPROTO;
    }
    r->resp = RESP_DONE;
    conn_flush(c);
    conn_kick(c);
    return rc;
}

void http_resp_abort(struct http_req *r)
{
    if (r->resp == RESP_DONE)
        return;
    r->resp = RESP_DONE;
    r->aborted = true;
    r->conn->closing = true;
    conn_kick(r->conn);
}

int http_resp_simple(struct http_req *r, int status, const char *content_type,
                     const void *body, size_t len)
{
    if (content_type && http_resp_header(r, "Content-Type", content_type))
        return -EINVAL;
    int rc = http_resp_start(r, status, (int64_t)len);
    if (rc)
        return rc;
    if (len)
        (void)http_resp_write(r, body, len);
    return http_resp_end(r);
}

/*
 * http_client.c - one HTTP/1.1 client connection on a bufferevent.
 *
 * States of a request: the request head and body go out (req_state), the
 * response comes in (WAIT_HEAD, then BODY). The two run independently: a
 * server may answer before the body is sent (an early 413) and the
 * response then still completes; the connection is simply not reused.
 * As in the server, progress is made in client_process() from the event
 * loop only (read/write/event callbacks and the kick event), and user
 * callbacks are called only from there; http_client_free() from inside a
 * callback is deferred until the callback returns (free_pending).
 *
 * Reading: enabled while waiting for a head, or reading the body, not
 * paused, with less than read_max bytes waiting for the caller; also while
 * idle, so that a server closing a keep-alive connection is noticed. A
 * read callback that got libevent's whole 4 KiB tops the input up with one
 * larger read (http_read_more, bounded by read_max); an error that read
 * meets is kept in read_err, so that the EOF libevent then sees is not
 * taken for the clean end of a close-delimited body.
 *
 * Writing: as in the server, the bufferevent's write event is off while
 * the output is empty (libevent would switch EPOLLOUT on and off around
 * every request head and body chunk otherwise). client_flush() sends what
 * is queued straight to the socket once connected and switches the write
 * event on only for what the socket did not take (write_on); on_write
 * switches it off when the output is empty. A request head is flushed
 * from the loop (kick) unless a body write or http_client_end comes first
 * and takes it along, so a small request leaves in one send.
 *
 * Threading: belongs to the thread of its event_base.
 */
#include "common/http.h"
#include "common/http_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/bug.h"
#include "common/xalloc.h"

enum req_state { REQ_NONE, REQ_BODY, REQ_ENDED };
enum resp_state { RS_WAIT_HEAD, RS_BODY };

struct http_client {
    struct event_base *base;
    struct http_client_config cfg;
    struct bufferevent *bev;    /* NULL once the connection is closed */
    struct event *kick;
    char hostport[80];
    int connect_err;            /* address error found at creation */
    struct http_parser parser;
    struct http_head head;
    struct evbuffer *body;
    struct evbuffer *hdrs;
    const struct http_client_ops *ops;
    void *arg;
    bool active;
    bool connected;
    bool head_request;
    bool paused;
    bool fresh;
    bool body_complete;
    bool eof;
    bool reusable;
    bool in_process;
    int in_cb;
    bool free_pending;
    bool broken;           /* request body cut short: never reuse */
    bool await_continue;   /* sent Expect: 100-continue, no answer yet */
    bool write_on;         /* the bufferevent's write event is enabled */
    bool drain_owed;       /* a flush emptied the output: drain from kick */
    int read_err;          /* socket error met by http_read_more, or 0 */
    size_t in_seen;        /* input length after the last processing */
    bool expect_header;    /* an Expect: 100-continue header was added */
    unsigned req_io_ms;    /* this request's longer read timeout, or 0 */
    enum req_state req;
    enum resp_state resp;
    bool req_chunked;
    int64_t req_len;
    uint64_t req_written;
};

void http_client_config_init(struct http_client_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    http_limits_init(&cfg->limits);
    cfg->connect_timeout_ms = 5000;
    cfg->io_timeout_ms = 60000;
    cfg->write_high = 256 * 1024;
    cfg->write_low = 64 * 1024;
    cfg->read_max = 256 * 1024;
}

static void client_process(struct http_client *c);

/* Switches the write event on for output the socket could not take. */
static void want_write(struct http_client *c)
{
    if (!c->write_on) {
        c->write_on = true;
        bufferevent_enable(c->bev, EV_WRITE);
    }
}

/* Sends queued output now if connected; the rest is left to the
 * bufferevent. A socket error is left for its own write to report. */
static void client_flush(struct http_client *c)
{
    if (!c->bev || !c->connected || c->write_on)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t before = evbuffer_get_length(out);
    if (before == 0)
        return;
    (void)http_write_now(c->bev);
    if (evbuffer_get_length(out) > 0) {
        want_write(c);
    } else if (before > c->cfg.write_low) {
        /* Output queued while connecting (or over write_low) is gone
         * without a write event, so on_write will not say so: the writer
         * may be waiting for a drain. */
        c->drain_owed = true;
        event_active(c->kick, EV_TIMEOUT, 0);
    }
}

static void client_destroy(struct http_client *c)
{
    if (c->bev)
        bufferevent_free(c->bev);
    event_free(c->kick);
    evbuffer_free(c->body);
    evbuffer_free(c->hdrs);
    http_head_release(&c->head);
    free(c);
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    if (c->in_cb || c->in_process) {
        c->free_pending = true;
        c->ops = NULL; /* no callback after free */
        if (c->bev) {
            bufferevent_free(c->bev);
            c->bev = NULL;
        }
        return;
    }
    client_destroy(c);
}

static void close_conn(struct http_client *c)
{
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    c->reusable = false;
}

static void kick(struct http_client *c)
{
    if (!c->in_process)
        event_active(c->kick, EV_TIMEOUT, 0);
}

/* The read timeout runs only once the server owes an answer: after the
 * request body ended, while it waits for 100 Continue, or once a response
 * (maybe an early one) has begun. While the body
 * is still being sent the server rightly says nothing, however long the
 * body takes; the write timeout (which runs only while output is pending)
 * catches a server that stops reading. Call again when c->req or
 * c->await_continue changes. */
static void set_io_timeouts(struct http_client *c, bool on)
{
    if (!c->bev || !c->connected)
        return;
    unsigned ms = c->cfg.io_timeout_ms;
    if (ms && c->req_io_ms > ms)
        ms = c->req_io_ms;
    if (!on || ms == 0) {
        bufferevent_set_timeouts(c->bev, NULL, NULL);
        return;
    }
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    bool owed = c->req != REQ_BODY || c->await_continue ||
                c->resp != RS_WAIT_HEAD;
    bufferevent_set_timeouts(c->bev, owed ? &tv : NULL, &tv);
}

void http_client_extend_io_timeout(struct http_client *c, unsigned ms)
{
    if (!c->active || c->cfg.io_timeout_ms == 0 || ms <= c->cfg.io_timeout_ms ||
        ms <= c->req_io_ms)
        return;
    c->req_io_ms = ms;
    set_io_timeouts(c, true);
}

static void update_read(struct http_client *c)
{
    if (!c->bev)
        return;
    bool want;
    if (c->eof)
        want = false;
    else if (!c->active)
        want = c->connected; /* notice the server closing an idle conn */
    else if (c->resp == RS_WAIT_HEAD)
        want = true;
    else
        want = !c->paused && !c->body_complete &&
               evbuffer_get_length(c->body) < c->cfg.read_max;
    if (want)
        bufferevent_enable(c->bev, EV_READ);
    else
        bufferevent_disable(c->bev, EV_READ);
}

/* Calls done and decides whether the connection can be reused. */
static void finish(struct http_client *c, int err)
{
    if (!c->active)
        return;
    c->active = false;
    c->req_io_ms = 0;
    /* Bytes beyond the response mean the framing is off: no reuse. */
    c->reusable = err == 0 && c->head.keep_alive && c->req == REQ_ENDED &&
                  !c->broken && !c->eof && !c->read_err && c->bev != NULL &&
                  evbuffer_get_length(bufferevent_get_input(c->bev)) == 0;
    evbuffer_drain(c->body, evbuffer_get_length(c->body));
    if (c->reusable) {
        set_io_timeouts(c, false);
        http_parser_reset(&c->parser, false);
    } else {
        close_conn(c);
    }
    c->req = REQ_NONE;
    if (c->ops && c->ops->done) {
        c->in_cb++;
        c->ops->done(c, err, c->arg);
        c->in_cb--;
    }
}

/* One round of progress on the response; true if anything changed. */
static bool step(struct http_client *c)
{
    if (!c->active || !c->bev)
        return false;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    if (c->resp == RS_WAIT_HEAD) {
        enum http_rc rc = http_parser_head(&c->parser, in, &c->head);
        if (rc == HTTP_AGAIN) {
            if (c->eof)
                finish(c, -ECONNRESET);
            return false;
        }
        if (rc == HTTP_ERROR) {
            finish(c, -EPROTO);
            return false;
        }
        if (c->head.status < 200) {
            bool cont = c->head.status == 100;
            http_parser_reset(&c->parser, c->head_request);
            if (cont) {
                c->await_continue = false;
                set_io_timeouts(c, true);
            }
            if (cont && c->ops && c->ops->cont) {
                c->in_cb++;
                c->ops->cont(c, c->arg);
                c->in_cb--;
            } else if (!cont && c->ops && c->ops->interim) {
                c->in_cb++;
                c->ops->interim(c, &c->head, c->arg);
                c->in_cb--;
            }
            return true;
        }
        c->resp = RS_BODY;
        c->await_continue = false;
        set_io_timeouts(c, true);
        c->body_complete = c->head.body == HTTP_BODY_NONE;
        if (c->ops && c->ops->response) {
            c->in_cb++;
            c->ops->response(c, &c->head, c->arg);
            c->in_cb--;
        }
        return true;
    }

    bool progress = false;
    if (c->paused)
        return false;
    size_t have = evbuffer_get_length(c->body);
    if (!c->body_complete && have < c->cfg.read_max) {
        enum http_rc rc = http_parser_body(&c->parser, &c->head, in, c->body,
                                           c->cfg.read_max - have);
        if (rc == HTTP_ERROR) {
            finish(c, -EPROTO);
            return false;
        }
        if (evbuffer_get_length(c->body) > have) {
            c->fresh = true;
            progress = true;
        }
        if (rc == HTTP_OK) {
            c->body_complete = true;
            progress = true;
        } else if (c->eof && evbuffer_get_length(in) == 0) {
            if (c->head.body != HTTP_BODY_UNTIL_CLOSE) {
                finish(c, -ECONNRESET);
                return false;
            }
            c->body_complete = true;
            progress = true;
        }
    }
    if (c->fresh && evbuffer_get_length(c->body) > 0) {
        c->fresh = false;
        if (c->ops && c->ops->body) {
            c->in_cb++;
            c->ops->body(c, c->body, c->arg);
            c->in_cb--;
        } else {
            evbuffer_drain(c->body, evbuffer_get_length(c->body));
        }
        progress = true;
    }
    if (c->body_complete && !c->paused && evbuffer_get_length(c->body) == 0) {
        finish(c, 0);
        return true;
    }
    return progress;
}

static void client_process(struct http_client *c)
{
    if (c->in_process)
        return;
    c->in_process = true;
    while (!c->free_pending && step(c))
        ;
    c->in_process = false;
    if (c->free_pending) {
        if (!c->in_cb)
            client_destroy(c);
        return;
    }
    if (c->bev)
        c->in_seen = evbuffer_get_length(bufferevent_get_input(c->bev));
    client_flush(c);
    update_read(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct http_client *c = arg;
    if (!c->active) {
        /* Bytes nobody asked for: the connection's framing cannot be
         * trusted any more (and they must not pile up). */
        close_conn(c);
        return;
    }
    size_t have = evbuffer_get_length(bufferevent_get_input(bev));
    if (have >= c->in_seen + HTTP_LIBEVENT_READ && have < c->cfg.read_max &&
        !c->read_err) {
        ssize_t r = http_read_more(bev, c->cfg.read_max - have);
        if (r < 0 && r != -EAGAIN && r != -ENOBUFS)
            c->read_err = (int)r;
    }
    client_process(c);
}

/* Tells the caller to write more of the body. Returns true if c was
 * freed meanwhile (then destroyed here). */
static bool call_drain(struct http_client *c)
{
    if (c->active && c->req == REQ_BODY && !c->await_continue && c->ops &&
        c->ops->drain) {
        c->in_cb++;
        c->ops->drain(c, c->arg);
        c->in_cb--;
        if (c->free_pending) {
            client_destroy(c);
            return true;
        }
    }
    return false;
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct http_client *c = arg;
    if (c->write_on && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        /* libevent has already deleted the event: no epoll call here */
        c->write_on = false;
        bufferevent_disable(bev, EV_WRITE);
    }
    (void)call_drain(c);
}

static int socket_err(struct http_client *c)
{
    int e = c->bev ? evutil_socket_geterror(bufferevent_getfd(c->bev)) : 0;
    if (e == 0)
        e = EVUTIL_SOCKET_ERROR();
    return e > 0 ? -e : -ECONNRESET;
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct http_client *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        c->connected = true;
        int one = 1;
        (void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
                         &one, sizeof(one));
        bufferevent_set_timeouts(bev, NULL, NULL);
        set_io_timeouts(c, c->active);
        client_flush(c); /* what was queued while connecting */
        update_read(c);
        return;
    }
    c->in_process = true;
    if ((what & BEV_EVENT_EOF) && c->read_err)
        what |= BEV_EVENT_ERROR; /* the reset our own read met */
    if (what & (BEV_EVENT_TIMEOUT | BEV_EVENT_ERROR)) {
        int err = (what & BEV_EVENT_TIMEOUT) ? -ETIMEDOUT
                  : c->read_err              ? c->read_err
                                             : socket_err(c);
        close_conn(c);
        if (c->active)
            finish(c, err);
        else if (!c->connected)
            c->connect_err = err; /* reported by the next request */
    } else if (what & BEV_EVENT_EOF) {
        c->eof = true;
        if (!c->active)
            close_conn(c);
    }
    c->in_process = false;
    client_process(c); /* EOF may complete a close-delimited body */
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    struct http_client *c = arg;
    if (c->active && !c->bev) {
        /* the connection failed before this request could be sent */
        c->in_process = true;
        finish(c, c->connect_err ? c->connect_err : -ENOTCONN);
        c->in_process = false;
        if (c->free_pending) {
            client_destroy(c);
            return;
        }
    }
    if (c->drain_owed) {
        c->drain_owed = false;
        if (call_drain(c))
            return;
    }
    client_process(c);
}

struct http_client *http_client_new(struct event_base *base, const char *host,
                                    int port,
                                    const struct http_client_config *cfg)
{
    struct http_client *c = xcalloc(1, sizeof(*c));
    c->base = base;
    if (cfg)
        c->cfg = *cfg;
    else
        http_client_config_init(&c->cfg);
    if (c->cfg.write_low > c->cfg.write_high)
        c->cfg.write_low = c->cfg.write_high;
    c->kick = event_new(base, -1, 0, on_kick, c);
    c->body = evbuffer_new();
    c->hdrs = evbuffer_new();
    BUG_ON(!c->kick || !c->body || !c->hdrs);
    http_parser_init(&c->parser, HTTP_PARSE_RESPONSE, &c->cfg.limits);
    http_head_init(&c->head);
    snprintf(c->hostport, sizeof(c->hostport),
             strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);

    struct addrinfo hints = {0}, *ai = NULL;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, portstr, &hints, &ai) != 0) {
        c->connect_err = -EINVAL;
        return c;
    }
    c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    BUG_ON(!c->bev);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    /* Off until output backs up (client_flush); connecting watches the
     * socket for writability by itself. */
    bufferevent_disable(c->bev, EV_WRITE);
    bufferevent_setwatermark(c->bev, EV_WRITE, c->cfg.write_low, 0);
    /* libevent writes at most 16 KiB per call by default */
    bufferevent_set_max_single_write(c->bev, c->cfg.write_high > 16384
                                                 ? c->cfg.write_high : 16384);
    if (c->cfg.connect_timeout_ms) {
        struct timeval tv = {c->cfg.connect_timeout_ms / 1000,
                             (c->cfg.connect_timeout_ms % 1000) * 1000};
        bufferevent_set_timeouts(c->bev, NULL, &tv);
    }
    if (bufferevent_socket_connect(c->bev, ai->ai_addr, (int)ai->ai_addrlen)) {
        /* Immediate failure (e.g. no route): reported by the first
         * request. */
        c->connect_err = -errno ? -errno : -ECONNREFUSED;
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    freeaddrinfo(ai);
    return c;
}

int http_client_header(struct http_client *c, const char *name,
                       const char *value)
{
    if (!http_header_ok(name, value))
        return -EINVAL;
    if (strcasecmp(name, "expect") == 0 &&
        strcasecmp(value, "100-continue") == 0)
        c->expect_header = true;
    http_out_header(c->hdrs, name, value);
    return 0;
}

int http_client_headerf(struct http_client *c, const char *name,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = xvasprintf(fmt, ap);
    va_end(ap);
    int rc = http_client_header(c, name, v);
    free(v);
    return rc;
}

int http_client_start(struct http_client *c, const char *method,
                      const char *target, int64_t content_length,
                      const struct http_client_ops *ops, void *arg)
{
    if (c->active)
        return -EBUSY;
    if (!c->bev && !c->connect_err)
        return -ENOTCONN;
    c->ops = ops;
    c->arg = arg;
    c->active = true;
    c->head_request = strcmp(method, "HEAD") == 0;
    c->paused = c->fresh = c->body_complete = false;
    c->resp = RS_WAIT_HEAD;
    c->req = REQ_BODY;
    c->req_len = content_length;
    c->req_written = 0;
    c->req_chunked = content_length < 0;
    c->reusable = false;
    c->broken = false;
    c->await_continue = c->expect_header;
    c->expect_header = false;
    http_parser_reset(&c->parser, c->head_request);
    if (!c->bev) {
        /* The address was bad or the connect failed: done(err) from the
         * loop, as for a failure found later. */
        evbuffer_drain(c->hdrs, evbuffer_get_length(c->hdrs));
        kick(c);
        return 0;
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target,
                        c->hostport);
    evbuffer_add_buffer(out, c->hdrs);
    if (c->req_chunked)
        evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
    else if (content_length > 0 ||
             (strcmp(method, "GET") != 0 && !c->head_request &&
              strcmp(method, "DELETE") != 0))
        http_out_header_u64(out, "Content-Length",
                            (unsigned long long)content_length);
    evbuffer_add(out, "\r\n", 2);
    set_io_timeouts(c, true);
    update_read(c);
    kick(c); /* flushes the head unless a write or the end takes it first */
    return 0;
}

static int req_check(struct http_client *c, size_t len)
{
    if (!c->active || c->req != REQ_BODY || !c->bev)
        return -EINVAL;
    if (!c->req_chunked && c->req_written + len > (uint64_t)c->req_len)
        return -EMSGSIZE;
    return 0;
}

/* A body chunk for an idle socket goes out from the caller's memory,
 * without a copy into the output buffer first; whatever the socket does
 * not take is queued, and a real error is left for the bufferevent's own
 * write to find. Returns the bytes sent. */
static size_t try_send_now(struct http_client *c, const void *data, size_t len)
{
    if (!c->connected || c->await_continue ||
        evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
        return 0;
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd < 0)
        return 0;
    ssize_t n = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    return n > 0 ? (size_t)n : 0;
}

int http_client_write(struct http_client *c, const void *data, size_t len)
{
    int rc = req_check(c, len);
    if (rc || len == 0)
        return rc;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (c->req_chunked) {
        http_out_chunk(out, data, len);
        client_flush(c);
    } else {
        size_t sent = try_send_now(c, data, len);
        evbuffer_add(out, (const char *)data + sent, len - sent);
        if (sent > 0 && sent < len)
            want_write(c); /* the socket is full: no point trying again */
        else
            client_flush(c);
    }
    c->req_written += len;
    return 0;
}

int http_client_add_buffer(struct http_client *c, struct evbuffer *buf)
{
    size_t len = evbuffer_get_length(buf);
    int rc = req_check(c, len);
    if (rc || len == 0)
        return rc;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (c->req_chunked)
        http_out_chunk_buffer(out, buf);
    else
        evbuffer_add_buffer(out, buf);
    c->req_written += len;
    client_flush(c);
    return 0;
}

bool http_client_wants_more(const struct http_client *c)
{
    if (!c->bev)
        return false;
    return evbuffer_get_length(bufferevent_get_output(c->bev)) <
           c->cfg.write_high;
}

int http_client_end(struct http_client *c)
{
    if (!c->active || c->req != REQ_BODY)
        return -EINVAL;
    c->req = REQ_ENDED;
    if (!c->bev)
        return 0;
    set_io_timeouts(c, true);
    if (c->req_chunked) {
        http_out_last_chunk(bufferevent_get_output(c->bev));
    } else if (c->req_written < (uint64_t)c->req_len) {
        c->broken = true;
        return -EPROTO;
    }
    client_flush(c);
    return 0;
}

void http_client_pause(struct http_client *c)
{
    c->paused = true;
    if (!c->in_process)
        update_read(c);
}

void http_client_resume(struct http_client *c)
{
    if (!c->paused)
        return;
    c->paused = false;
    c->fresh = true;
    kick(c);
}

bool http_client_reusable(const struct http_client *c)
{
    return !c->active && c->reusable && c->bev && !c->eof;
}

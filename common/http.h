/*
 * http.h - HTTP/1.1 server and client on libevent bufferevents, streaming
 * both ways with bounded memory. Design notes: docs/internals/http.md.
 *
 * Why not evhttp: it reads a whole request body into memory before calling
 * the handler, so it cannot carry object bodies. Here a body never sits
 * whole in memory: the request body reaches the handler in chunks as it is
 * read, reading stops while the handler is behind, and a response body is
 * written in chunks the handler produces while the output buffer is below a
 * watermark. The same holds for the client side.
 *
 * SERVER, in one paragraph. Make a listening socket with http_listen() (it
 * sets SO_REUSEPORT, so each worker thread makes its own socket on the same
 * port and its own server on its own event_base). For every request, once
 * its head has been read, the server calls the handler. The handler looks
 * at method, target and headers, and either answers at once
 * (http_resp_simple) or registers callbacks with http_req_set_ops() and
 * answers later: http_resp_start() (status, headers, length or chunked),
 * http_resp_write()/http_resp_add_buffer() while http_resp_wants_more(),
 * then http_resp_end(). The body callback receives the decoded request body
 * as it arrives; http_req_pause()/http_req_resume() stop and restart reading
 * the client (back-pressure). The drain callback says the output buffer has
 * fallen to the low watermark: write more. The done callback says the
 * request is over (err 0) or the connection failed; after it returns the
 * request and its pool are gone.
 *
 *     static void on_req(struct http_req *req, void *arg)
 *     {
 *         if (http_req_method(req) != HTTP_M_GET) {
 *             http_resp_simple(req, 405, NULL, NULL, 0);
 *             return;
 *         }
 *         http_resp_header(req, "Content-Type", "text/plain");
 *         http_resp_start(req, 200, 5);
 *         http_resp_write(req, "hello", 5);
 *         http_resp_end(req);
 *     }
 *
 * The server handles framing itself: Content-Length or chunked request
 * bodies; Content-Length, chunked or close-delimited responses (chunked only
 * to HTTP/1.1 clients); no body on HEAD, 1xx, 204, 304; keep-alive by the
 * version's default and the Connection header; one request at a time per
 * connection (a pipelined request is not parsed before the previous
 * response has ended); Date and Connection headers. Limits and timeouts
 * answer as Swift's eventlet server does (see http_server_config).
 *
 * CLIENT: one struct http_client is one connection to host:port, which
 * carries one request at a time and can be reused (keep-alive) after a
 * request completes. The request body is streamed like a response body
 * (write while http_client_wants_more, continue from drain), the response
 * body arrives like a request body (body callback, pause/resume), parsed by
 * the same parser in response mode.
 *
 *     http_client_header(c, "X-Timestamp", ts);
 *     http_client_start(c, "PUT", "/sda1/3/a/c/o", len, &put_ops, st);
 *     ... http_client_write(c, ...) while http_client_wants_more(c) ...
 *     http_client_end(c);
 *     ... put_ops.response(c, head) then put_ops.done(c, 0) ...
 *
 * Signals: sockets are written with writev(2), so a process using this
 * must ignore SIGPIPE (signal(SIGPIPE, SIG_IGN) in main); a peer that went
 * away then shows as an error on its connection, not a dead process.
 *
 * Threading: a server, its connections and requests, and a client belong to
 * the thread that runs their event_base. Nothing here locks. Callbacks are
 * never called from inside an http_* function the handler calls: they run
 * from the event loop (so calling http_resp_end() inside the body callback
 * is safe). Return convention: int functions return 0 or a negative errno.
 */
#ifndef CAIRN_HTTP_H
#define CAIRN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/http_parser.h"

struct event_base;
struct evbuffer;
struct pool;
struct err;

/* content_length argument of http_resp_start/http_client_start: the length
 * is not known in advance (chunked, or close-delimited for HTTP/1.0). */
#define HTTP_LENGTH_UNKNOWN (-1)

/* Standard reason phrase ("Not Found"), "Unknown" for unlisted codes. */
const char *http_status_reason(int status);

/* Is name a token and value free of CR, LF, NUL and other controls (tab
 * allowed)? What the header-adding functions check. */
bool http_header_ok(const char *name, const char *value);

/* ------------------------------------------------------------ listening */

/*
 * Makes a non-blocking TCP socket bound to host:port (numeric IPv4 or IPv6
 * address; port 0 picks a free port) with SO_REUSEADDR and SO_REUSEPORT,
 * listening with `backlog`. Several sockets on the same port (one per
 * worker thread) share the incoming connections in the kernel.
 * Returns the fd (caller owns it; http_server_new takes it over) or a
 * negative errno with e filled ("127.0.0.1:6200: Address already in use").
 */
int http_listen(const char *host, int port, int backlog, struct err *e);

/*
 * Before the first http_listen on a port: 0 if no socket is bound to
 * host:port, else a negative errno with e filled (-EADDRINUSE:
 * "127.0.0.1:6200: Address already in use"). SO_REUSEPORT would let a
 * second daemon configured on a taken port start and silently share it
 * with the first; this makes that a start-up error instead.
 */
int http_port_unused(const char *host, int port, struct err *e);

/* The local port an fd is bound to, or a negative errno. */
int http_socket_port(int fd);

/* --------------------------------------------------------------- server */

struct http_server;
struct http_req;

struct http_server_config {
    /*
     * Head limits. Defaults as Swift's eventlet server: request line
     * >= 8192 bytes -> 414; a header line >= 8192 -> 400 "Header Line Too
     * Long"; all header lines > 65536 -> 400 "Headers Too Large"; more
     * than 201 headers -> 431. The connection is closed after the answer.
     */
    struct http_limits limits;
    /* Timeouts in milliseconds; 0 disables. */
    unsigned idle_timeout_ms;   /* keep-alive: no byte of a next request
                                   (60000); the connection is closed */
    unsigned header_timeout_ms; /* first byte of a head to its end (60000);
                                   408 and close. Not extended by progress:
                                   a slow client cannot hold it forever */
    unsigned body_timeout_ms;   /* no request body byte while the server is
                                   reading (paused time excluded) (60000);
                                   408 if no response started, close */
    unsigned write_timeout_ms;  /* no progress writing to the client while
                                   output is pending (60000); close */
    /* Output watermarks in bytes: http_resp_wants_more() is false at or
     * above write_high (256 KiB); the drain callback runs when the output
     * falls to write_low (64 KiB). */
    size_t write_high;
    size_t write_low;
    /* Decoded request body the server holds for the handler before it
     * stops reading the client (256 KiB). */
    size_t read_max;
};

/* Fills the defaults documented above. */
void http_server_config_init(struct http_server_config *cfg);

/*
 * Called once per request when its head has been read. The handler must
 * eventually end the response (http_resp_end or http_resp_simple), or the
 * connection stays busy until the client goes away. `arg` is the one given
 * to http_server_new.
 */
typedef void http_handler_fn(struct http_req *req, void *arg);

/*
 * Makes a server accepting on listen_fd (taken over: closed by the server)
 * in `base`. cfg is copied; NULL means defaults. Never NULL (aborts on OOM).
 * When accept() fails (out of fds or memory), a warning is logged and
 * accepting pauses for 100 ms instead of spinning.
 */
struct http_server *http_server_new(struct event_base *base, int listen_fd,
                                    const struct http_server_config *cfg,
                                    http_handler_fn *handler, void *arg);

typedef void http_server_done_fn(struct http_server *srv, void *arg);

/*
 * Graceful shutdown: stops accepting (closes the listening socket), closes
 * idle connections, answers requests in progress with "Connection: close"
 * and closes each connection when its response has ended and been sent.
 * done(srv, arg) runs when the last connection has closed (possibly before
 * this function returns). Then free the server.
 */
void http_server_shutdown(struct http_server *srv, http_server_done_fn *done,
                          void *arg);

/*
 * Closes everything at once: requests in progress get done(-ECONNABORTED).
 * http_server_free(NULL) is a no-op. Not from inside a callback of the
 * server's own requests.
 */
void http_server_free(struct http_server *srv);

/* Open connections (for tests and statistics). */
unsigned http_server_conn_count(const struct http_server *srv);

/* ------------------------------------------------------------- requests */

/*
 * Callbacks of one request, all optional, all with the arg given to
 * http_req_set_ops. None is called from inside http_req_set_ops or any
 * other http_* call: they run from the event loop.
 */
struct http_req_ops {
    /*
     * Decoded request body bytes have arrived in `body` (chunked framing
     * removed). Take what you can (evbuffer_remove_buffer, evbuffer_drain);
     * what you leave stays at the front and is offered again with the next
     * bytes or after http_req_resume(). Leave bytes only together with
     * http_req_pause(): the server stops reading once read_max bytes wait.
     */
    void (*body)(struct http_req *req, struct evbuffer *body, void *arg);
    /* The whole request body has been received and taken (called once, also
     * for requests without a body, after http_req_set_ops with a body
     * callback). */
    void (*body_end)(struct http_req *req, void *arg);
    /* The response output fell to write_low: write more. */
    void (*drain)(struct http_req *req, void *arg);
    /*
     * The request is over: err 0 when the response has ended (it is queued
     * for the client), else -ECONNRESET (client gone), -ETIMEDOUT, -EPROTO
     * (bad request body framing; the server has answered 400 if the
     * response had not started) or -ECONNABORTED (server freed). The request
     * and its pool are freed when this returns; pool cleanups run then too.
     * Do not call http_* functions on req from here.
     */
    void (*done)(struct http_req *req, int err, void *arg);
};

/*
 * Registers the request's callbacks (ops must outlive the request; a
 * static const struct is typical). With a body callback, this also starts
 * reading the request body, and when the client sent
 * "Expect: 100-continue" and no response has started, it sends
 * "HTTP/1.1 100 Continue" first. A handler that refuses a request answers
 * without setting a body callback: the body is then never read and the
 * connection is closed after the answer when a body was announced.
 * May be called again to change the callbacks.
 */
void http_req_set_ops(struct http_req *req, const struct http_req_ops *ops,
                      void *arg);

/* Stops reading the request body (and the client); idempotent. While
 * paused, the body timeout does not run. */
void http_req_pause(struct http_req *req);
/* Resumes reading and re-offers bytes left in the body buffer. */
void http_req_resume(struct http_req *req);

/* The parsed head: method, target, version, headers (see http_parser.h;
 * http_head_get/http_head_next for lookups). Valid until done. */
const struct http_head *http_req_head(const struct http_req *req);
enum http_method http_req_method(const struct http_req *req);
/* "GET", "PUT", ... as sent. */
const char *http_req_method_str(const struct http_req *req);
/* Raw target as sent ("/v1/a/c/o%20x?format=json"), undecoded. */
const char *http_req_target(const struct http_req *req);
/* The target up to '?', undecoded; NUL-terminated copy in the pool. */
const char *http_req_path(struct http_req *req);
/* What follows the first '?', or NULL when there is no '?'. */
const char *http_req_query(const struct http_req *req);
/* First value of a header (case-insensitive), or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);
/* Did the client send Expect: 100-continue (HTTP/1.1)? */
bool http_req_expects_continue(const struct http_req *req);
/* Request body framing: HTTP_BODY_NONE, _LENGTH (content length in the
 * head) or _CHUNKED. */
enum http_body_kind http_req_body_kind(const struct http_req *req);
/* The request's pool: allocations and cleanups live until the request is
 * done (pool.h). */
struct pool *http_req_pool(struct http_req *req);
/* Peer address and its "ip:port" text ("[::1]:5000" for IPv6). */
const struct sockaddr *http_req_peer(const struct http_req *req,
                                     socklen_t *len);
const char *http_req_peer_str(const struct http_req *req);

/*
 * For the access log line: the status sent (0 if no response started),
 * response body bytes written by the handler, decoded request body bytes
 * received, and CLOCK_MONOTONIC nanoseconds (now_mono_ns) when the head
 * had been read. These, and the request-head accessors above, stay valid
 * inside done and inside the request pool's cleanups (which run right
 * after done), so a pool cleanup can write the log line.
 */
int http_req_status(const struct http_req *req);
uint64_t http_req_bytes_sent(const struct http_req *req);
uint64_t http_req_bytes_received(const struct http_req *req);
uint64_t http_req_start_ns(const struct http_req *req);

/* ------------------------------------------------------------ responses */

/*
 * Adds a response header before http_resp_start (copied). Do not add
 * Content-Length, Transfer-Encoding, Connection or Date: the server writes
 * them from http_resp_start's arguments and the connection state.
 * Returns 0, or -EINVAL (nothing added) when the name is not a token or
 * the value holds CR, LF or another control character other than tab:
 * a value built from client input can never split the response.
 */
int http_resp_header(struct http_req *req, const char *name,
                     const char *value);
int http_resp_headerf(struct http_req *req, const char *name,
                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Writes the status line and headers. content_length is the body length,
 * or HTTP_LENGTH_UNKNOWN: chunked to HTTP/1.1 clients, close-delimited to
 * HTTP/1.0 ones. For HEAD, give the length the GET would have (it is sent
 * as Content-Length) and write nothing: body writes are discarded for
 * HEAD, 1xx, 204 and 304. Returns 0, or -EINVAL when a response already
 * started.
 */
int http_resp_start(struct http_req *req, int status, int64_t content_length);

/*
 * An interim (1xx) response before the final one: "HTTP/1.1 <status>"
 * with the one header name: value (name NULL: none), sent now. Several
 * may be sent; the final response follows with http_resp_start. Only for
 * 102..199 (100 Continue is the server's own, 101 is an upgrade), only to
 * an HTTP/1.1 client (RFC 9110 15.2: a 1.0 client is sent none), and not
 * while that client waits for 100 Continue (it might take the 1xx for it).
 * Many clients take any status for the final one, so send one only to a
 * client that asked. Returns 0, -EINVAL (bad status or header, or a final
 * response has started) or -EPROTO (not sendable on this request).
 */
int http_resp_interim(struct http_req *req, int status, const char *name,
                      const char *value);

/*
 * Body bytes (copied / moved out of buf without copying). Returns 0,
 * -EINVAL before http_resp_start or after http_resp_end, or -EMSGSIZE when
 * more than the announced Content-Length would be written (nothing is
 * written then). The server buffers whatever it is given: call these only
 * while http_resp_wants_more(), and continue from the drain callback.
 */
int http_resp_write(struct http_req *req, const void *data, size_t len);
int http_resp_add_buffer(struct http_req *req, struct evbuffer *buf);

/*
 * Body bytes moved from fd, a pipe, straight to the client's socket with
 * splice(2): they never enter this process's memory. Moves at most len
 * bytes, of those the pipe holds now, and only once everything queued
 * before them has been sent. For a chunked response the bytes the pipe
 * held at the call make one chunk, and until all of it has been moved by
 * further calls nothing else may be written (http_resp_write and
 * http_resp_add_buffer return -EINVAL; http_resp_end aborts). Returns the
 * bytes moved (> 0); 0 when the pipe is empty; -EAGAIN when queued output
 * or a full socket is in the way (the drain callback follows); -EINVAL
 * outside a body or for a response without one; -EMSGSIZE past the
 * Content-Length; another -errno when the socket failed (abort).
 */
ssize_t http_resp_splice(struct http_req *req, int fd, size_t len);

/*
 * Body bytes [off, off + len) of a file segment, sent with sendfile(2)
 * from the page cache without passing through user space. The output
 * holds a reference to seg until those bytes are sent (or the connection
 * is freed), so the caller may free its own reference at once. The file
 * must not change until then. Same returns and flow control as
 * http_resp_write.
 */
struct evbuffer_file_segment;
int http_resp_add_file(struct http_req *req, struct evbuffer_file_segment *seg,
                       uint64_t off, size_t len);

/* Is the output buffer below write_high? */
bool http_resp_wants_more(const struct http_req *req);
/* Bytes waiting in the connection's output buffer. */
size_t http_resp_buffered(const struct http_req *req);

/*
 * Ends the response (the last chunk for chunked). If fewer bytes than the
 * announced Content-Length were written, the connection is closed after
 * the output is sent (the client sees a short body) and -EPROTO is
 * returned. The request then finishes: done(0) runs from the event loop.
 */
int http_resp_end(struct http_req *req);

/*
 * Gives up on a response that cannot be completed (a proxied body whose
 * source failed): what is queued is still sent, then the connection is
 * closed without the last chunk or the missing Content-Length bytes, so
 * the client sees a truncated body, never a complete-looking wrong one.
 * Also usable before http_resp_start (the client sees the connection
 * close). The request finishes with done(-ECONNABORTED).
 */
void http_resp_abort(struct http_req *req);

/*
 * A whole short response: headers added so far, Content-Type if not NULL,
 * the body (len bytes; NULL/0 for none). Returns as http_resp_start.
 */
int http_resp_simple(struct http_req *req, int status,
                     const char *content_type, const void *body, size_t len);

/* --------------------------------------------------------------- client */

struct http_client;

struct http_client_config {
    struct http_limits limits;   /* for the response head (defaults) */
    unsigned connect_timeout_ms; /* TCP connect (5000) */
    unsigned io_timeout_ms;      /* while a request is in progress: no
                                    progress writing pending bytes, or no
                                    byte received once an answer is owed
                                    (body sent, 100 Continue awaited, or
                                    response begun), for this long (60000);
                                    done(-ETIMEDOUT) */
    size_t write_high;           /* as the server's (256 KiB / 64 KiB) */
    size_t write_low;
    size_t read_max;             /* decoded response body held (256 KiB) */
};

void http_client_config_init(struct http_client_config *cfg);

/* Callbacks of one client request, all optional except done. Called from
 * the event loop only, never from inside an http_client_* call. */
struct http_client_ops {
    /* "100 Continue" arrived (the request carried Expect: 100-continue):
     * send the body now. */
    void (*cont)(struct http_client *c, void *arg);
    /* Optional: an interim response other than 100 (102 Processing...)
     * arrived; h is valid during the call only. Each one restarts the
     * read timeout, as any byte does. */
    void (*interim)(struct http_client *c, const struct http_head *h, void *arg);
    /* The final response head (status >= 200; other 1xx go to interim).
     * It stays valid until done returns. */
    void (*response)(struct http_client *c, const struct http_head *resp,
                     void *arg);
    /* Decoded response body bytes; the same contract as the server's body
     * callback: take what you can, leave the rest only with
     * http_client_pause(). */
    void (*body)(struct http_client *c, struct evbuffer *body, void *arg);
    /* The request output fell to write_low: write more of the body. Not
     * called while waiting for 100 Continue (an Expect: 100-continue
     * header added with http_client_header). */
    void (*drain)(struct http_client *c, void *arg);
    /*
     * The request is over: err 0 when the whole response was received
     * (and taken), else -ECONNREFUSED or another connect errno, -ETIMEDOUT,
     * -ECONNRESET (the server closed early), -EPROTO (unparsable response).
     * The client may be freed or reused (http_client_reusable) from here.
     */
    void (*done)(struct http_client *c, int err, void *arg);
};

/*
 * A client connection to host:port (numeric IPv4/IPv6 address, no DNS),
 * connecting at once, in the background. Never NULL (aborts on OOM); a bad
 * address or a failed connect is reported by the first request's done.
 * cfg is copied; NULL means defaults.
 */
struct http_client *http_client_new(struct event_base *base, const char *host,
                                    int port,
                                    const struct http_client_config *cfg);

/* Closes the connection; no callback runs afterwards. Allowed from inside
 * the client's own callbacks. http_client_free(NULL) is a no-op. */
void http_client_free(struct http_client *c);

/* Adds a request header before http_client_start (copied). Host,
 * Content-Length and Transfer-Encoding are written by http_client_start.
 * Returns 0 or -EINVAL, with the same checks as http_resp_header. */
int http_client_header(struct http_client *c, const char *name,
                       const char *value);
int http_client_headerf(struct http_client *c, const char *name,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Sends the request line and headers (plus "Host: host:port"). The body
 * is content_length bytes, HTTP_LENGTH_UNKNOWN for chunked, 0 for none
 * (no Content-Length is sent for a bodiless GET, HEAD or DELETE). Then
 * write the body with http_client_write/_add_buffer while
 * http_client_wants_more() and finish with http_client_end() (also for
 * a request without a body). With "Expect: 100-continue" among the headers,
 * wait for the cont callback before writing (or for response: the server
 * refused). Returns 0, -EBUSY while a request is in progress, or
 * -ENOTCONN when the connection can no longer be used (make a new client).
 */
int http_client_start(struct http_client *c, const char *method,
                      const char *target, int64_t content_length,
                      const struct http_client_ops *ops, void *arg);

/* Body bytes, as http_resp_write/_add_buffer; -EINVAL when no request body
 * is being written, -EMSGSIZE beyond the announced length. */
int http_client_write(struct http_client *c, const void *data, size_t len);
int http_client_add_buffer(struct http_client *c, struct evbuffer *buf);
bool http_client_wants_more(const struct http_client *c);
/* Ends the request body. Returns 0, -EINVAL if not writing a body, or
 * -EPROTO if fewer bytes than announced were written (the connection will
 * not be reused). */
int http_client_end(struct http_client *c);

/* For the rest of the current request, the read timeout is at least ms
 * (a server said it may be silent that long: an interim response with a
 * storlet's wall budget); the configured one again from the next request
 * on. No effect without a request or when the configured timeout is 0
 * (none) or longer. */
void http_client_extend_io_timeout(struct http_client *c, unsigned ms);

/* Stop / restart reading the response (back-pressure); idempotent. */
void http_client_pause(struct http_client *c);
void http_client_resume(struct http_client *c);

/* After done(0): can the connection carry another request (keep-alive on
 * both sides, request fully sent, connection open)? */
bool http_client_reusable(const struct http_client *c);

#endif

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
 * request completes. The request body is streamed like a response body,
 * the response arrives like a request body, with the same parser.
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
     * than 100 headers -> 431. The connection is closed after the answer.
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

/* ------------------------------------------------------------ responses */

/*
 * Adds a response header before http_resp_start (copied). Do not add
 * Content-Length, Transfer-Encoding, Connection or Date: the server writes
 * them from http_resp_start's arguments and the connection state.
 */
void http_resp_header(struct http_req *req, const char *name,
                      const char *value);
void http_resp_headerf(struct http_req *req, const char *name,
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
 * Body bytes (copied / moved out of buf without copying). Returns 0,
 * -EINVAL before http_resp_start or after http_resp_end, or -EMSGSIZE when
 * more than the announced Content-Length would be written (nothing is
 * written then). The server buffers whatever it is given: call these only
 * while http_resp_wants_more(), and continue from the drain callback.
 */
int http_resp_write(struct http_req *req, const void *data, size_t len);
int http_resp_add_buffer(struct http_req *req, struct evbuffer *buf);

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
 * A whole short response: headers added so far, Content-Type if not NULL,
 * the body (len bytes; NULL/0 for none). Returns as http_resp_start.
 */
int http_resp_simple(struct http_req *req, int status,
                     const char *content_type, const void *body, size_t len);

#endif

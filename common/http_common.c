/*
 * http_common.c - pieces of the HTTP layer that are not the server or the
 * client: the listening socket, reason phrases, output framing helpers,
 * the larger socket read both use.
 *
 * Threading: the Date cache is per thread, everything else is stateless.
 */
#include "common/http.h"
#include "common/http_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "common/err.h"

const char *http_status_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 102: return "Processing";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request URI Too Long";
    case 416: return "Requested Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Disconnect";
    case 500: return "Internal Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}

bool http_header_ok(const char *name, const char *value)
{
    static const char tspecials[] = "()<>@,;:\\\"/[]?={} \t";
    if (!*name)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr(tspecials, *p))
            return false;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return false;
    return true;
}

/* A TCP socket bound to host:port, SO_REUSEADDR always, SO_REUSEPORT when
 * shared; listening with backlog when backlog > 0. fd or -errno (e). */
static int bind_socket(const char *host, int port, bool shared, int backlog,
                       struct err *e)
{
    struct addrinfo hints = {0}, *ai = NULL;
    char portstr[16];
    int fd = -1, rc, one = 1;

    snprintf(portstr, sizeof(portstr), "%d", port);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0)
        return err_set(e, -EINVAL, "%s:%d: not a numeric address: %s", host,
                       port, gai_strerror(rc));
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        rc = err_set(e, -errno, "%s:%d: socket: %s", host, port,
                     strerror(errno));
        goto out;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
        (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
        (backlog > 0 && listen(fd, backlog) == -1)) {
        rc = err_set(e, -errno, "%s:%d: %s", host, port, strerror(errno));
        close(fd);
        fd = -1;
        goto out;
    }
    rc = fd;
out:
    freeaddrinfo(ai);
    return rc;
}

int http_listen(const char *host, int port, int backlog, struct err *e)
{
    return bind_socket(host, port, true, backlog, e);
}

int http_port_unused(const char *host, int port, struct err *e)
{
    /* A socket without SO_REUSEPORT cannot bind beside any listener, even
     * one that has it: the bind fails exactly when the port is taken. */
    int fd = bind_socket(host, port, false, 0, e);
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

int http_socket_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
        return -errno;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -EAFNOSUPPORT;
}

void http_out_header(struct evbuffer *out, const char *name,
                     const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    char small[256];
    if (nl + vl + 4 <= sizeof(small)) {
        /* one append for the usual short header */
        memcpy(small, name, nl);
        memcpy(small + nl, ": ", 2);
        memcpy(small + nl + 2, value, vl);
        memcpy(small + nl + 2 + vl, "\r\n", 2);
        evbuffer_add(out, small, nl + vl + 4);
        return;
    }
    evbuffer_add(out, name, nl);
    evbuffer_add(out, ": ", 2);
    evbuffer_add(out, value, vl);
    evbuffer_add(out, "\r\n", 2);
}

void http_out_header_u64(struct evbuffer *out, const char *name,
                         unsigned long long v)
{
    char digits[24];
    size_t i = sizeof(digits);
    digits[--i] = '\0';
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    http_out_header(out, name, digits + i);
}

void http_out_chunk(struct evbuffer *out, const void *data, size_t len)
{
    if (len == 0)
        return;
    evbuffer_add_printf(out, "%zx\r\n", len);
    evbuffer_add(out, data, len);
    evbuffer_add(out, "\r\n", 2);
}

void http_out_chunk_buffer(struct evbuffer *out, struct evbuffer *buf)
{
    size_t len = evbuffer_get_length(buf);
    if (len == 0)
        return;
    evbuffer_add_printf(out, "%zx\r\n", len);
    evbuffer_add_buffer(out, buf);
    evbuffer_add(out, "\r\n", 2);
}

void http_out_last_chunk(struct evbuffer *out)
{
    evbuffer_add(out, "0\r\n\r\n", 5);
}

void http_out_date(struct evbuffer *out)
{
    static _Thread_local time_t cached_at;
    static _Thread_local char line[64];
    static _Thread_local size_t len;
    time_t now = time(NULL);
    if (now != cached_at || len == 0) {
        struct tm tm;
        gmtime_r(&now, &tm);
        len = strftime(line, sizeof(line),
                       "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        cached_at = now;
    }
    evbuffer_add(out, line, len);
}

static ssize_t read_into(struct evbuffer *in, evutil_socket_t fd, size_t room)
{
    struct evbuffer_iovec v[2];
    struct iovec iov[2];
    int n = evbuffer_reserve_space(in, (ev_ssize_t)room, v, 2);
    if (n <= 0)
        return -ENOBUFS;
    size_t left = room;
    for (int i = 0; i < n; i++) {
        /* reserve_space may offer more than asked: keep to the bound */
        if (v[i].iov_len > left)
            v[i].iov_len = left;
        left -= v[i].iov_len;
        iov[i].iov_base = v[i].iov_base;
        iov[i].iov_len = v[i].iov_len;
    }
    ssize_t r;
    do
        r = readv(fd, iov, n);
    while (r == -1 && errno == EINTR);
    if (r <= 0) {
        int e = errno;
        evbuffer_commit_space(in, v, 0);
        return r == 0 ? 0 : (e == EWOULDBLOCK ? -EAGAIN : -e);
    }
    size_t got = (size_t)r;
    int used = 0;
    for (int i = 0; i < n && got > 0; i++, used++) {
        if (v[i].iov_len > got)
            v[i].iov_len = got;
        got -= v[i].iov_len;
    }
    evbuffer_commit_space(in, v, used);
    return r;
}

ssize_t http_read_more(struct bufferevent *bev, size_t room)
{
    struct evbuffer *in = bufferevent_get_input(bev);
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd < 0 || room == 0)
        return -EAGAIN;
    if (room > HTTP_READ_MORE_MAX)
        room = HTTP_READ_MORE_MAX;
    /* libevent keeps the end of an input buffer frozen outside its own
     * reads (so that nobody else appends): thaw it for ours, as it does */
    evbuffer_unfreeze(in, 0);
    ssize_t r = read_into(in, fd, room);
    evbuffer_freeze(in, 0);
    return r;
}

ssize_t http_write_now(struct bufferevent *bev)
{
    struct evbuffer *out = bufferevent_get_output(bev);
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd < 0)
        return -EBADF;
    /* libevent keeps the front of an output buffer frozen outside its own
     * writes (evbuffer_write would refuse): thaw it for ours, as it does */
    evbuffer_unfreeze(out, 1);
    int n = evbuffer_write(out, fd);
    int e = errno;
    evbuffer_freeze(out, 1);
    if (n < 0)
        return e == EWOULDBLOCK ? -EAGAIN : -e;
    return n;
}

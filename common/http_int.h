/*
 * http_int.h - what the HTTP server and client share and nobody else
 * needs: body framing on output and the cached Date header.
 */
#ifndef CAIRN_HTTP_INT_H
#define CAIRN_HTTP_INT_H

#include <stddef.h>
#include <sys/types.h>

struct evbuffer;
struct bufferevent;

/* The most libevent 2.1 reads from a socket per read callback
 * (EVBUFFER_MAX_READ in its buffer.c, not configurable before 2.2). */
#define HTTP_LIBEVENT_READ 4096

/* The most one http_read_more reads. The reservation is allocated whole
 * however little arrives: with 32 concurrent 64 MiB transfers through
 * the proxy, 256 KiB gave 37 MB of proxy RSS, 128 KiB 31 MB (4 KiB reads
 * only: 14 MB), for the same CPU per byte. */
#define HTTP_READ_MORE_MAX (128 * 1024)

/*
 * One read of up to `room` bytes from the bufferevent's socket straight
 * into its input buffer, for a read callback that found libevent's 4 KiB
 * full: it saves a wakeup, an ioctl and a readv per 4 KiB of a large body.
 * Returns the bytes read, 0 at EOF, or a negative errno (-EAGAIN when
 * nothing was waiting, -ENOBUFS when no room could be reserved). EOF and errors stay visible to libevent's next
 * read only as EOF, so a caller that must tell a reset from a clean close
 * keeps the error itself.
 */
ssize_t http_read_more(struct bufferevent *bev, size_t room);

/*
 * Writes the bufferevent's queued output straight to its socket (one
 * writev, as much as the socket takes) and drains what was sent. Returns
 * the bytes written or a negative errno (-EAGAIN: the socket is full); an
 * error is also left for the bufferevent's own next write to report.
 */
ssize_t http_write_now(struct bufferevent *bev);

/* Appends len bytes as one chunk ("%zx\r\n" data "\r\n"); nothing for 0. */
void http_out_chunk(struct evbuffer *out, const void *data, size_t len);
/* Moves all of buf into out as one chunk. */
void http_out_chunk_buffer(struct evbuffer *out, struct evbuffer *buf);
/* Appends the last chunk and an empty trailer. */
void http_out_last_chunk(struct evbuffer *out);
/* "name: value\r\n" without printf. */
void http_out_header(struct evbuffer *out, const char *name,
                     const char *value);
/* "name: <decimal>\r\n" without printf. */
void http_out_header_u64(struct evbuffer *out, const char *name,
                         unsigned long long v);
/* "Date: <IMF-fixdate>\r\n", formatted once per second per thread. */
void http_out_date(struct evbuffer *out);

#endif

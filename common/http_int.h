/*
 * http_int.h - what the HTTP server and client share and nobody else
 * needs: body framing on output and the cached Date header.
 */
#ifndef CAIRN_HTTP_INT_H
#define CAIRN_HTTP_INT_H

#include <stddef.h>

struct evbuffer;

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

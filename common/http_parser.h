/*
 * http_parser.h - the HTTP/1.1 message parser shared by the server and the
 * client (one parser, a request mode and a response mode).
 *
 * The parser reads from a libevent evbuffer and never calls back: the
 * caller asks "is a whole head there?" (http_parser_head) and "move decoded
 * body bytes over" (http_parser_body), as often as data arrives. It scans
 * each received byte for line ends once (evbuffer_search from where the last
 * call stopped), so a client dripping one byte at a time costs O(n), and it
 * enforces the line, count and size limits while the head is still
 * incomplete, so an oversized head is refused before it is buffered whole.
 *
 * A complete head is copied once into the struct http_head's own buffer and
 * split in place: header names and values are NUL-terminated pointers into
 * that buffer, there is no allocation per header, and a struct http_head
 * reused for the next message on the connection allocates nothing at all.
 * Body bytes are moved between evbuffers with evbuffer_remove_buffer (no
 * copy for whole chains); chunked framing and trailers are removed.
 *
 * Limits and the status to answer when one is exceeded follow what Swift's
 * eventlet server answers: docs/internals/http.md has the table.
 *
 * Threading: a parser and a head belong to one connection, one thread.
 */
#ifndef CAIRN_HTTP_PARSER_H
#define CAIRN_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* Return values of the parser's steps (STYLE R4's OK/AGAIN/ERROR). */
enum http_rc {
    HTTP_OK = 0,     /* the step is complete */
    HTTP_AGAIN = 1,  /* needs more input (or the output limit was reached) */
    HTTP_ERROR = -1, /* malformed or over a limit; see http_parser.err_* */
};

enum http_parser_mode {
    HTTP_PARSE_REQUEST,
    HTTP_PARSE_RESPONSE,
};

struct http_limits {
    size_t max_request_line; /* request or status line incl. CRLF; 8192 */
    size_t max_header_line;  /* one header line incl. CRLF; 8192 */
    size_t max_header_size;  /* all header lines together; 65536 */
    unsigned max_headers;    /* number of header lines; 201 */
};

/* Fills the defaults above (what Swift behind eventlet accepts). */
void http_limits_init(struct http_limits *l);

enum http_method {
    HTTP_M_OTHER = 0, /* valid token, see http_head.method */
    HTTP_M_GET,
    HTTP_M_HEAD,
    HTTP_M_PUT,
    HTTP_M_POST,
    HTTP_M_DELETE,
    HTTP_M_OPTIONS,
    HTTP_M_COPY,
};

/* How the body of a parsed message is delimited. */
enum http_body_kind {
    HTTP_BODY_NONE,        /* no body (or Content-Length: 0) */
    HTTP_BODY_LENGTH,      /* Content-Length bytes */
    HTTP_BODY_CHUNKED,     /* Transfer-Encoding: chunked */
    HTTP_BODY_UNTIL_CLOSE, /* response only: until the peer closes */
};

/* One header line. Both strings are NUL-terminated, value trimmed of
 * surrounding whitespace; the lengths exclude the NUL. */
struct http_header {
    const char *name;
    const char *value;
    uint32_t name_len;
    uint32_t value_len;
};

/*
 * A parsed message head. The caller embeds it, initializes it once with
 * http_head_init() and releases it with http_head_release(); between
 * messages http_parser_head() overwrites it. Every pointer inside is valid
 * until the next http_parser_head() or http_head_release() on it.
 */
struct http_head {
    /* request line (request mode) */
    enum http_method meth;
    const char *method; /* e.g. "GET" */
    const char *target; /* raw request-target: path and query, undecoded */
    /* status line (response mode) */
    int status;
    const char *reason;
    /* both */
    int version;        /* 10 for HTTP/1.0, 11 for HTTP/1.1 (and 1.x > 1) */
    struct http_header *headers;
    unsigned nheaders;
    /* framing facts derived from the headers */
    enum http_body_kind body;
    uint64_t content_length; /* when body == HTTP_BODY_LENGTH */
    bool keep_alive;         /* version default, overridden by Connection */
    bool expect_continue;    /* HTTP/1.1 request with Expect: 100-continue */
    /* private */
    char *buf;
    size_t cap;
    unsigned hcap;
};

void http_head_init(struct http_head *h);
void http_head_release(struct http_head *h);

/* First value of header `name` (case-insensitive, no copy), or NULL. */
const char *http_head_get(const struct http_head *h, const char *name);

/*
 * Iterates over every header named `name`: start with *idx = 0; returns the
 * next value and advances *idx, or NULL when there are no more.
 */
const char *http_head_next(const struct http_head *h, const char *name,
                           unsigned *idx);

/* Case-insensitive comparison of a header name with (s, n) without copying.*/
bool http_name_eq(const char *s, size_t n, const char *name);

struct http_parser {
    enum http_parser_mode mode;
    struct http_limits lim;
    int state;
    /* head scanning */
    size_t scanned;    /* bytes of the buffered head already searched */
    size_t line_start; /* offset of the current line */
    size_t first_line; /* length of the request/status line */
    unsigned nlines;
    /* body */
    uint64_t remaining; /* of the Content-Length body or the current chunk */
    size_t trailer_size;
    bool head_request;  /* response mode: the request was HEAD */
    /* why HTTP_ERROR was returned */
    int err_status;         /* status to answer (400, 414, 431, 501, 505) */
    const char *err_reason; /* short static text, e.g. "Header Line Too Long" */
};

/* Prepares a parser for the first message. lim NULL means defaults. */
void http_parser_init(struct http_parser *p, enum http_parser_mode mode,
                      const struct http_limits *lim);

/*
 * Prepares for the next message on the same connection (after the previous
 * body returned HTTP_OK). In response mode, head_request says whether the
 * request this response answers was HEAD (it has no body).
 */
void http_parser_reset(struct http_parser *p, bool head_request);

/*
 * Looks for a complete head at the front of `in`. Returns HTTP_AGAIN when
 * more bytes are needed (nothing is drained, except empty lines before a
 * request line), HTTP_OK when the head was removed from `in` and parsed
 * into h (the body, if any, follows in `in`), or HTTP_ERROR with
 * err_status/err_reason set (the connection must be closed after the error
 * answer: the framing is lost).
 * Response mode: a 1xx head is returned like any other; its body kind is
 * NONE, and the caller calls http_parser_reset() to read the final head.
 */
enum http_rc http_parser_head(struct http_parser *p, struct evbuffer *in,
                              struct http_head *h);

/*
 * Moves up to `max` decoded body bytes from `in` to the end of `out`.
 * Returns HTTP_OK when the whole body (chunked: including the last chunk
 * and the trailers, which are discarded) has been consumed, HTTP_AGAIN when
 * more input is needed or `max` bytes were moved, HTTP_ERROR on bad chunk
 * framing (err_status 400). For HTTP_BODY_UNTIL_CLOSE it never returns
 * HTTP_OK: the end is the peer's close, which the caller sees.
 * `h` is the head returned by http_parser_head for this message.
 */
enum http_rc http_parser_body(struct http_parser *p, const struct http_head *h,
                              struct evbuffer *in, struct evbuffer *out,
                              size_t max);

/* True once http_parser_head returned HTTP_OK for the current message. */
bool http_parser_in_body(const struct http_parser *p);

#endif

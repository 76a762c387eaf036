/*
 * check_http.c - unit tests for the HTTP layer: the parser (every split of
 * the input gives the same result, chunked edge cases, limits with the
 * status Swift answers, pipelining, 100-continue), then a real server in a
 * thread on 127.0.0.1 driven with raw sockets and with the client side.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/http_parser.h"
#include "common/xalloc.h"

/* ------------------------------------------------------------ parser */

struct transcript {
    char *s;
    size_t len, cap;
};

static void tr_add(struct transcript *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void tr_add(struct transcript *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *x = xvasprintf(fmt, ap);
    va_end(ap);
    size_t n = strlen(x);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = xrealloc(t->s, t->cap);
    }
    memcpy(t->s + t->len, x, n + 1);
    t->len += n;
    free(x);
}

static void describe_head(struct transcript *t, const struct http_head *h,
                          enum http_parser_mode mode)
{
    if (mode == HTTP_PARSE_REQUEST)
        tr_add(t, "[%s %s %d", h->method, h->target, h->version);
    else
        tr_add(t, "[%d %s %d", h->status, h->reason, h->version);
    for (unsigned i = 0; i < h->nheaders; i++)
        tr_add(t, " %s=%s", h->headers[i].name, h->headers[i].value);
    tr_add(t, " body=%d cl=%llu ka=%d ec=%d]", (int)h->body,
           (unsigned long long)h->content_length, h->keep_alive,
           h->expect_continue);
}

/*
 * Feeds `data` to a parser in pieces: cut at `split` (0: whole), or
 * `step` bytes at a time when step > 0. Parses every message (pipelining)
 * and returns a transcript of heads, bodies and the error if any.
 * `max` bounds each http_parser_body call.
 */
static char *parse_split(enum http_parser_mode mode, const char *data,
                         size_t len, size_t split, size_t step, size_t max,
                         const struct http_limits *lim)
{
    struct transcript t = {0};
    struct http_parser p;
    struct http_head h;
    struct evbuffer *in = evbuffer_new(), *body = evbuffer_new();
    http_parser_init(&p, mode, lim);
    http_head_init(&h);
    size_t fed = 0;
    bool failed = false;
    tr_add(&t, "%s", "");
    while (!failed) {
        size_t n = len - fed;
        if (step)
            n = n < step ? n : step;
        else if (split && fed < split)
            n = split - fed;
        evbuffer_add(in, data + fed, n);
        fed += n;
        for (;;) {
            if (!http_parser_in_body(&p)) {
                enum http_rc rc = http_parser_head(&p, in, &h);
                if (rc == HTTP_AGAIN)
                    break;
                if (rc == HTTP_ERROR) {
                    tr_add(&t, "ERR %d %s", p.err_status, p.err_reason);
                    failed = true;
                    break;
                }
                describe_head(&t, &h, mode);
            }
            size_t before = evbuffer_get_length(body);
            enum http_rc rc = http_parser_body(&p, &h, in, body, max);
            if (rc == HTTP_ERROR) {
                tr_add(&t, "ERR %d %s", p.err_status, p.err_reason);
                failed = true;
                break;
            }
            if (rc == HTTP_AGAIN) {
                ck_assert_uint_le(evbuffer_get_length(body) - before, max);
                if (evbuffer_get_length(body) - before == max)
                    continue; /* output limit reached, not input */
                break;
            }
            size_t bl = evbuffer_get_length(body);
            tr_add(&t, "{%.*s}", (int)bl, (char *)evbuffer_pullup(body, -1));
            evbuffer_drain(body, bl);
            http_parser_reset(&p, false);
        }
        if (fed == len)
            break;
    }
    if (!failed && http_parser_in_body(&p)) {
        size_t bl = evbuffer_get_length(body);
        tr_add(&t, "EOF{%.*s}", (int)bl, (char *)evbuffer_pullup(body, -1));
    } else if (!failed && evbuffer_get_length(in) > 0) {
        tr_add(&t, "PARTIAL %zu", evbuffer_get_length(in));
    }
    http_head_release(&h);
    evbuffer_free(in);
    evbuffer_free(body);
    return t.s;
}

static char *parse_req(const char *s)
{
    return parse_split(HTTP_PARSE_REQUEST, s, strlen(s), 0, 0, SIZE_MAX, NULL);
}

static char *parse_resp(const char *s)
{
    return parse_split(HTTP_PARSE_RESPONSE, s, strlen(s), 0, 0, SIZE_MAX,
                       NULL);
}

/* Every split point, byte-at-a-time feeding and a tiny output limit all
 * give the transcript of the whole input. */
static void check_all_splits(enum http_parser_mode mode, const char *s,
                             const char *expect)
{
    size_t len = strlen(s);
    char *whole = parse_split(mode, s, len, 0, 0, SIZE_MAX, NULL);
    ck_assert_str_eq(whole, expect);
    for (size_t i = 1; i < len; i++) {
        char *x = parse_split(mode, s, len, i, 0, SIZE_MAX, NULL);
        ck_assert_msg(strcmp(x, whole) == 0, "split at %zu: %s", i, x);
        free(x);
    }
    char *x = parse_split(mode, s, len, 0, 1, SIZE_MAX, NULL);
    ck_assert_str_eq(x, whole);
    free(x);
    x = parse_split(mode, s, len, 0, 3, 1, NULL);
    ck_assert_str_eq(x, whole);
    free(x);
    free(whole);
}

START_TEST(request_head_and_length_body_at_every_split)
{
    check_all_splits(HTTP_PARSE_REQUEST,
                     "PUT /v1/a/c/o?x=1 HTTP/1.1\r\n"
                     "Host: h\r\n"
                     "Content-Length: 5\r\n"
                     "X-Object-Meta-Color:   blue  \r\n"
                     "\r\n"
                     "hello",
                     "[PUT /v1/a/c/o?x=1 11 Host=h Content-Length=5 "
                     "X-Object-Meta-Color=blue body=1 cl=5 ka=1 ec=0]{hello}");
}
END_TEST

START_TEST(chunked_request_at_every_split)
{
    check_all_splits(HTTP_PARSE_REQUEST,
                     "POST / HTTP/1.1\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n"
                     "5\r\nhello\r\n"
                     "1;ext=1\r\n \r\n"
                     "A\r\n0123456789\r\n"
                     "0\r\nTrailer: x\r\n\r\n"
                     "GET /next HTTP/1.0\r\n\r\n",
                     "[POST / 11 Transfer-Encoding=chunked body=2 cl=0 ka=1 "
                     "ec=0]{hello 0123456789}"
                     "[GET /next 10 body=0 cl=0 ka=0 ec=0]{}");
}
END_TEST

START_TEST(chunked_edge_cases)
{
    const char *pre = "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    const char *head = "[PUT / 11 Transfer-Encoding=chunked body=2 cl=0 ka=1 ec=0]";
    struct {
        const char *body;
        const char *result; /* after the head */
    } cases[] = {
        {"0\r\n\r\n", "{}"},
        {"0\n\n", "{}"},                           /* bare LF tolerated */
        {"00000003\r\nabc\r\n0\r\n\r\n", "{abc}"},  /* leading zeros */
        {"3 ; a=b\r\nabc\r\n0\r\n\r\n", "{abc}"},  /* BWS before ext */
        {"x\r\n", "ERR 400 Bad Chunk"},
        {"\r\n", "ERR 400 Bad Chunk"},
        {"-1\r\n", "ERR 400 Bad Chunk"},
        {"3\r\nabcX\r\n", "ERR 400 Bad Chunk"},    /* data not followed by CRLF */
        {"3\r\nabc\rX", "ERR 400 Bad Chunk"},
        {"3x\r\nabc\r\n", "ERR 400 Bad Chunk"},
        {"10000000000000000\r\n", "ERR 400 Bad Chunk"}, /* 2^64 */
        {"3\r\nab", "EOF{ab}"},                    /* incomplete */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *in = xasprintf("%s%s", pre, cases[i].body);
        char *expect = xasprintf("%s%s", head, cases[i].result);
        char *got = parse_req(in);
        ck_assert_msg(strcmp(got, expect) == 0, "case %zu: %s", i, got);
        free(in);
        free(expect);
        free(got);
    }
    /* A chunk-size line longer than 4096 bytes is refused while incomplete. */
    char *in = xmalloc(strlen(pre) + 5000 + 1);
    memcpy(in, pre, strlen(pre));
    memset(in + strlen(pre), '0', 5000);
    in[strlen(pre) + 5000] = '\0';
    char *got = parse_req(in);
    ck_assert(strstr(got, "ERR 400 Bad Chunk") != NULL);
    free(got);
    free(in);
    /* Trailers over max_header_size are refused. */
    struct transcript t = {0};
    tr_add(&t, "%s0\r\n", pre);
    for (int i = 0; i < 100; i++)
        tr_add(&t, "T%d: %01000d\r\n", i, 0);
    tr_add(&t, "\r\n");
    got = parse_req(t.s);
    ck_assert(strstr(got, "ERR 400 Bad Chunk") != NULL);
    free(got);
    free(t.s);
}
END_TEST

START_TEST(framing_errors_get_the_right_status)
{
    struct {
        const char *in;
        const char *err;
    } cases[] = {
        {"PUT / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "ERR 400 Invalid Content-Length"},
        {"PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "ERR 400 Invalid Content-Length"},
        {"PUT / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", "ERR 400 Invalid Content-Length"},
        {"PUT / HTTP/1.1\r\nContent-Length:\r\n\r\n", "ERR 400 Invalid Content-Length"},
        {"PUT / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", "ERR 400 Invalid Content-Length"},
        {"PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "ERR 400 Invalid Content-Length"},
        {"PUT / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         "ERR 400 Content-Length With Transfer-Encoding"},
        {"PUT / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "ERR 501 Not Implemented"},
        {"PUT / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "ERR 501 Not Implemented"},
        {"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
         "ERR 501 Not Implemented"},
        {"GET / HTTP/2.0\r\n\r\n", "ERR 505 HTTP Version Not Supported"},
        {"GET / HTTP/1.1 x\r\n\r\n", "ERR 400 Bad Request"},
        {"GET /\r\n\r\n", "ERR 400 Bad Request"},
        {"GET  / HTTP/1.1\r\n\r\n", "ERR 400 Bad Request"},
        {"GET / HTTP/0.9\r\n\r\n", "ERR 400 Bad Request"},
        {"GET / HTTX/1.1\r\n\r\n", "ERR 400 Bad Request"},
        {"G(T / HTTP/1.1\r\n\r\n", "ERR 400 Bad Request"},
        {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "ERR 400 Bad Request"},
        {"GET / HTTP/1.1\r\n: x\r\n\r\n", "ERR 400 Bad Request"},
        {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "ERR 400 Bad Request"},
        {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "ERR 400 Bad Request"},
        {"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", "ERR 400 Bad Request"},
        {"\x16\x03\x01\x02\x00\x01", "ERR 400 Bad Request"}, /* TLS hello */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = parse_req(cases[i].in);
        ck_assert_msg(strcmp(got, cases[i].err) == 0, "case %zu: %s", i, got);
        free(got);
    }
    /* A NUL byte inside the head. */
    static const char nul[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
    char *got = parse_split(HTTP_PARSE_REQUEST, nul, sizeof(nul) - 1, 0, 0,
                            SIZE_MAX, NULL);
    ck_assert_str_eq(got, "ERR 400 Bad Request");
    free(got);
}
END_TEST

/* Builds "GET /<path> HTTP/1.1\r\n" + headers into a transcript. */
START_TEST(limits_answer_what_swift_answers)
{
    struct transcript t = {0};
    char *got;
    /* request line: 8191 bytes with CRLF pass, 8192 give 414 */
    size_t pad = 8191 - strlen("GET / HTTP/1.1\r\n");
    char *path = xmalloc(pad + 1);
    memset(path, 'a', pad);
    path[pad] = '\0';
    tr_add(&t, "GET /%s HTTP/1.1\r\n\r\n", path);
    got = parse_req(t.s);
    ck_assert(strncmp(got, "[GET /aaa", 9) == 0);
    free(got);
    t.len = 0;
    tr_add(&t, "GET /%sa HTTP/1.1\r\n\r\n", path);
    got = parse_req(t.s);
    ck_assert_str_eq(got, "ERR 414 Request URI Too Long");
    free(got);
    /* refused before the line end arrives */
    t.len = 0;
    tr_add(&t, "GET /%sa HTTP/1.1\r", path);
    got = parse_req(t.s);
    ck_assert_str_eq(got, "ERR 414 Request URI Too Long");
    free(got);
    free(path);

    /* one header line: 8191 with CRLF pass, 8192 give 400 */
    pad = 8191 - strlen("X: \r\n");
    char *val = xmalloc(pad + 2);
    memset(val, 'v', pad + 1);
    val[pad] = '\0';
    t.len = 0;
    tr_add(&t, "GET / HTTP/1.1\r\nX: %s\r\n\r\n", val);
    got = parse_req(t.s);
    ck_assert(strncmp(got, "[GET / 11 X=vvv", 15) == 0);
    free(got);
    val[pad] = 'v';
    val[pad + 1] = '\0';
    t.len = 0;
    tr_add(&t, "GET / HTTP/1.1\r\nX: %s\r\n\r\n", val);
    got = parse_req(t.s);
    ck_assert_str_eq(got, "ERR 400 Header Line Too Long");
    free(got);
    t.len = 0;
    tr_add(&t, "GET / HTTP/1.1\r\nX: %s\r", val);
    got = parse_req(t.s);
    ck_assert_str_eq(got, "ERR 400 Header Line Too Long");
    free(got);
    free(val);

    /* header count: 100 pass, 101 give 431 */
    t.len = 0;
    tr_add(&t, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 100; i++)
        tr_add(&t, "H%d: x\r\n", i);
    size_t mark = t.len;
    tr_add(&t, "\r\n");
    got = parse_req(t.s);
    ck_assert(strncmp(got, "[GET / 11 H0=x", 14) == 0);
    free(got);
    t.len = mark;
    tr_add(&t, "H100: x\r\n\r\n");
    got = parse_req(t.s);
    ck_assert_str_eq(got, "ERR 431 Too Many Headers");
    free(got);

    /* total header size over 65536 gives 400 */
    t.len = 0;
    tr_add(&t, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 9; i++)
        tr_add(&t, "H%d: %08000d\r\n", i, 0);
    tr_add(&t, "\r\n");
    got = parse_req(t.s);
    ck_assert_str_eq(got, "ERR 400 Headers Too Large");
    free(got);

    /* configurable */
    struct http_limits lim;
    http_limits_init(&lim);
    lim.max_headers = 2;
    const char *three = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    got = parse_split(HTTP_PARSE_REQUEST, three, strlen(three), 0, 0, SIZE_MAX,
                      &lim);
    ck_assert_str_eq(got, "ERR 431 Too Many Headers");
    free(got);
    free(t.s);
}
END_TEST

START_TEST(keep_alive_expect_and_lookup)
{
    char *got = parse_req("GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n");
    ck_assert(strstr(got, "ka=0") != NULL);
    free(got);
    got = parse_req("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ck_assert(strstr(got, "ka=1") != NULL);
    free(got);
    got = parse_req("GET / HTTP/1.0\r\n\r\n");
    ck_assert(strstr(got, "ka=0") != NULL);
    free(got);
    got = parse_req("PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc");
    ck_assert(strstr(got, "ec=1]{abc}") != NULL);
    free(got);
    got = parse_req("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
    ck_assert(strstr(got, "ec=0") != NULL);
    free(got);
    /* empty lines before a request are skipped; HTTP/1.2 is 1.1 */
    got = parse_req("\r\n\n\r\nGET / HTTP/1.2\r\n\r\n");
    ck_assert_str_eq(got, "[GET / 11 body=0 cl=0 ka=1 ec=0]{}");
    free(got);

    /* lookup: case-insensitive, multiple values, no copy */
    struct http_parser p;
    struct http_head h;
    struct evbuffer *in = evbuffer_new();
    http_parser_init(&p, HTTP_PARSE_REQUEST, NULL);
    http_head_init(&h);
    evbuffer_add_printf(in, "DELETE /a HTTP/1.1\r\nX-A: 1\r\nx-b: 2\r\n"
                            "X-a: 3\r\n\r\n");
    ck_assert_int_eq(http_parser_head(&p, in, &h), HTTP_OK);
    ck_assert_int_eq(h.meth, HTTP_M_DELETE);
    ck_assert_str_eq(http_head_get(&h, "x-a"), "1");
    ck_assert_str_eq(http_head_get(&h, "X-B"), "2");
    ck_assert_ptr_null(http_head_get(&h, "x-c"));
    ck_assert_ptr_null(http_head_get(&h, "x-"));
    unsigned idx = 0;
    ck_assert_str_eq(http_head_next(&h, "X-A", &idx), "1");
    ck_assert_str_eq(http_head_next(&h, "X-A", &idx), "3");
    ck_assert_ptr_null(http_head_next(&h, "X-A", &idx));
    ck_assert(http_name_eq("Content-Length", 14, "content-length"));
    ck_assert(!http_name_eq("Content-Lengt", 13, "content-length"));
    ck_assert_int_eq(http_parser_body(&p, &h, in, in, SIZE_MAX), HTTP_OK);
    http_head_release(&h);
    evbuffer_free(in);
}
END_TEST

START_TEST(pipelined_requests_parse_one_at_a_time)
{
    check_all_splits(HTTP_PARSE_REQUEST,
                     "GET /1 HTTP/1.1\r\n\r\n"
                     "PUT /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"
                     "HEAD /3 HTTP/1.1\r\n\r\n",
                     "[GET /1 11 body=0 cl=0 ka=1 ec=0]{}"
                     "[PUT /2 11 Content-Length=2 body=1 cl=2 ka=1 ec=0]{ab}"
                     "[HEAD /3 11 body=0 cl=0 ka=1 ec=0]{}");
    /* the head parser does not look past the current message */
    struct http_parser p;
    struct http_head h;
    struct evbuffer *in = evbuffer_new();
    http_parser_init(&p, HTTP_PARSE_REQUEST, NULL);
    http_head_init(&h);
    evbuffer_add_printf(in, "GET /1 HTTP/1.1\r\n\r\nGARBAGE\x01\r\n\r\n");
    ck_assert_int_eq(http_parser_head(&p, in, &h), HTTP_OK);
    ck_assert_uint_eq(evbuffer_get_length(in), 12);
    http_head_release(&h);
    evbuffer_free(in);
}
END_TEST

START_TEST(responses_frame_by_status_and_method)
{
    check_all_splits(HTTP_PARSE_RESPONSE,
                     "HTTP/1.1 100 Continue\r\n\r\n"
                     "HTTP/1.1 201 Created\r\nContent-Length: 0\r\nEtag: x\r\n\r\n"
                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n0\r\n\r\n"
                     "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
                     "HTTP/1.0 200 OK\r\n\r\nuntil close",
                     "[100 Continue 11 body=0 cl=0 ka=1 ec=0]{}"
                     "[201 Created 11 Content-Length=0 Etag=x body=0 cl=0 ka=1 ec=0]{}"
                     "[200 OK 11 Transfer-Encoding=chunked body=2 cl=0 ka=1 ec=0]{abc}"
                     "[204 No Content 11 Content-Length=7 body=0 cl=7 ka=1 ec=0]{}"
                     "[200 OK 10 body=3 cl=0 ka=0 ec=0]EOF{until close}");
    char *got = parse_resp("HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx");
    ck_assert_str_eq(got, "[200  11 Content-Length=1 body=1 cl=1 ka=1 ec=0]{x}");
    free(got);
    got = parse_resp("HTTP/1.1 20 OK\r\n\r\n");
    ck_assert_str_eq(got, "ERR 400 Bad Status Line");
    free(got);
    got = parse_resp("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n");
    ck_assert_str_eq(got, "ERR 400 Invalid Content-Length");
    free(got);

    /* A response to HEAD has no body whatever its headers say. */
    struct http_parser p;
    struct http_head h;
    struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
    http_parser_init(&p, HTTP_PARSE_RESPONSE, NULL);
    http_parser_reset(&p, true);
    http_head_init(&h);
    evbuffer_add_printf(in, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
    ck_assert_int_eq(http_parser_head(&p, in, &h), HTTP_OK);
    ck_assert_int_eq(h.body, HTTP_BODY_NONE);
    ck_assert_uint_eq(h.content_length, 10);
    ck_assert_int_eq(http_parser_body(&p, &h, in, out, SIZE_MAX), HTTP_OK);
    http_head_release(&h);
    evbuffer_free(in);
    evbuffer_free(out);
}
END_TEST

START_TEST(head_reuse_allocates_nothing_new)
{
    struct http_parser p;
    struct http_head h;
    struct evbuffer *in = evbuffer_new();
    http_parser_init(&p, HTTP_PARSE_REQUEST, NULL);
    http_head_init(&h);
    evbuffer_add_printf(in, "GET /a HTTP/1.1\r\nA: 1\r\n\r\n");
    ck_assert_int_eq(http_parser_head(&p, in, &h), HTTP_OK);
    char *buf = h.buf;
    struct http_header *hdrs = h.headers;
    http_parser_reset(&p, false);
    evbuffer_add_printf(in, "GET /b HTTP/1.1\r\nB: 2\r\n\r\n");
    ck_assert_int_eq(http_parser_head(&p, in, &h), HTTP_OK);
    ck_assert_ptr_eq(h.buf, buf);
    ck_assert_ptr_eq(h.headers, hdrs);
    ck_assert_str_eq(h.target, "/b");
    http_head_release(&h);
    evbuffer_free(in);
}
END_TEST

static void add_parser_tests(Suite *s)
{
    TCase *tc = tcase_create("parser");
    tcase_add_test(tc, request_head_and_length_body_at_every_split);
    tcase_add_test(tc, chunked_request_at_every_split);
    tcase_add_test(tc, chunked_edge_cases);
    tcase_add_test(tc, framing_errors_get_the_right_status);
    tcase_add_test(tc, limits_answer_what_swift_answers);
    tcase_add_test(tc, keep_alive_expect_and_lookup);
    tcase_add_test(tc, pipelined_requests_parse_one_at_a_time);
    tcase_add_test(tc, responses_frame_by_status_and_method);
    tcase_add_test(tc, head_reuse_allocates_nothing_new);
    suite_add_tcase(s, tc);
}

int main(void)
{
    Suite *s = suite_create("http");
    add_parser_tests(s);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

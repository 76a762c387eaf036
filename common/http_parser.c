/*
 * http_parser.c - HTTP/1.1 head and body framing over evbuffers.
 *
 * State machine (docs/internals/http.md has the picture):
 *   P_HEAD -> P_BODY (Content-Length / until close)      -> P_DONE
 *          -> P_CHUNK_SIZE <-> P_CHUNK_DATA -> P_CHUNK_CRLF
 *                          -> P_TRAILER (after the 0 chunk) -> P_DONE
 *          -> P_DONE (no body)
 * http_parser_reset() goes back to P_HEAD. Any HTTP_ERROR leaves the parser
 * in P_ERROR until reset; callers close the connection.
 *
 * Head limits are checked on every call against the bytes buffered so far,
 * so a head that will be too big is refused as soon as that is certain.
 * The semantics follow eventlet (what Swift answers): a line is too long
 * when it reaches the limit including its line end.
 */
#include "common/http_parser.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "common/bug.h"
#include "common/util.h"
#include "common/xalloc.h"

enum {
    P_HEAD,
    P_BODY,
    P_CHUNK_SIZE,
    P_CHUNK_DATA,
    P_CHUNK_CRLF,
    P_TRAILER,
    P_DONE,
    P_ERROR,
};

/* A chunk-size line with its extensions; nobody legitimate comes close. */
#define CHUNK_LINE_MAX 4096

void http_limits_init(struct http_limits *l)
{
    l->max_request_line = 8192;
    l->max_header_line = 8192;
    l->max_header_size = 65536;
    /* Swift raises http.client's limit to MAX_HEADER_COUNT * 1.6 =
     * (90 metadata + 36) * 1.6 = 201.6 for its servers. */
    l->max_headers = 201;
}

void http_head_init(struct http_head *h)
{
    memset(h, 0, sizeof(*h));
}

void http_head_release(struct http_head *h)
{
    free(h->buf);
    free(h->headers);
    http_head_init(h);
}

bool http_name_eq(const char *s, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

const char *http_head_next(const struct http_head *h, const char *name,
                           unsigned *idx)
{
    size_t n = strlen(name);
    for (unsigned i = *idx; i < h->nheaders; i++) {
        const struct http_header *x = &h->headers[i];
        if (x->name_len == n && strncasecmp(x->name, name, n) == 0) {
            *idx = i + 1;
            return x->value;
        }
    }
    *idx = h->nheaders;
    return NULL;
}

const char *http_head_get(const struct http_head *h, const char *name)
{
    unsigned i = 0;
    return http_head_next(h, name, &i);
}

void http_parser_init(struct http_parser *p, enum http_parser_mode mode,
                      const struct http_limits *lim)
{
    memset(p, 0, sizeof(*p));
    p->mode = mode;
    if (lim)
        p->lim = *lim;
    else
        http_limits_init(&p->lim);
    p->state = P_HEAD;
}

void http_parser_reset(struct http_parser *p, bool head_request)
{
    struct http_limits lim = p->lim;
    http_parser_init(p, p->mode, &lim);
    p->head_request = head_request;
}

bool http_parser_in_body(const struct http_parser *p)
{
    return p->state != P_HEAD && p->state != P_ERROR;
}

static enum http_rc fail(struct http_parser *p, int status, const char *why)
{
    p->state = P_ERROR;
    p->err_status = status;
    p->err_reason = why;
    return HTTP_ERROR;
}

/* RFC 9110 tchar. */
static const unsigned char tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
    ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
    ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
    ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

static bool is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!tchar[(unsigned char)s[i]])
            return false;
    return true;
}

/* Parses "HTTP/d.d" (exactly 8 bytes). Returns 10, 11, 20+ or -1. */
static int parse_version(const char *s, size_t n)
{
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || s[6] != '.' ||
        s[5] < '0' || s[5] > '9' || s[7] < '0' || s[7] > '9')
        return -1;
    int major = s[5] - '0', minor = s[7] - '0';
    if (major == 1)
        return minor == 0 ? 10 : 11;
    return major == 0 ? -1 : major * 10 + minor;
}

static enum http_method method_of(const char *m, size_t n)
{
    static const struct {
        const char *s;
        enum http_method m;
    } tab[] = {
        {"GET", HTTP_M_GET},       {"HEAD", HTTP_M_HEAD},
        {"PUT", HTTP_M_PUT},       {"POST", HTTP_M_POST},
        {"DELETE", HTTP_M_DELETE}, {"OPTIONS", HTTP_M_OPTIONS},
        {"COPY", HTTP_M_COPY},
    };
    for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
        if (strlen(tab[i].s) == n && memcmp(tab[i].s, m, n) == 0)
            return tab[i].m;
    return HTTP_M_OTHER;
}

/* NUL-terminates the line starting at s, returns its length without the
 * line end and sets *next to the following line. The head ends in "\n". */
static size_t cut_line(char *s, char **next)
{
    char *lf = strchr(s, '\n');
    *next = lf + 1;
    if (lf > s && lf[-1] == '\r')
        lf--;
    *lf = '\0';
    return (size_t)(lf - s);
}

static enum http_rc parse_request_line(struct http_parser *p,
                                       struct http_head *h, char *s, size_t n)
{
    char *sp1 = memchr(s, ' ', n);
    if (!sp1)
        return fail(p, 400, "Bad Request");
    char *sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s));
    if (!sp2)
        return fail(p, 400, "Bad Request");
    size_t mlen = (size_t)(sp1 - s), tlen = (size_t)(sp2 - sp1 - 1);
    size_t vlen = n - (size_t)(sp2 + 1 - s);
    if (!is_token(s, mlen) || tlen == 0)
        return fail(p, 400, "Bad Request");
    for (size_t i = 0; i < tlen; i++) {
        unsigned char c = (unsigned char)sp1[1 + i];
        if (c <= 0x20 || c == 0x7f)
            return fail(p, 400, "Bad Request");
    }
    int v = parse_version(sp2 + 1, vlen);
    if (v < 0)
        return fail(p, 400, "Bad Request");
    if (v >= 20)
        return fail(p, 505, "HTTP Version Not Supported");
    *sp1 = *sp2 = '\0';
    h->method = s;
    h->meth = method_of(s, mlen);
    h->target = sp1 + 1;
    h->version = v;
    return HTTP_OK;
}

static enum http_rc parse_status_line(struct http_parser *p,
                                      struct http_head *h, char *s, size_t n)
{
    if (n < 12 || s[8] != ' ')
        return fail(p, 400, "Bad Status Line");
    int v = parse_version(s, 8);
    if (v != 10 && v != 11)
        return fail(p, 400, "Bad Status Line");
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (s[i] < '0' || s[i] > '9')
            return fail(p, 400, "Bad Status Line");
        st = st * 10 + (s[i] - '0');
    }
    if (st < 100 || (n > 12 && s[12] != ' '))
        return fail(p, 400, "Bad Status Line");
    h->version = v;
    h->status = st;
    h->reason = n > 12 ? s + 13 : s + 12;
    return HTTP_OK;
}

static enum http_rc parse_header_line(struct http_parser *p,
                                      struct http_header *x, char *s, size_t n)
{
    char *colon = memchr(s, ':', n);
    if (!colon || !is_token(s, (size_t)(colon - s)))
        return fail(p, 400, "Bad Request");
    char *v = colon + 1, *end = s + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (char *c = v; c < end; c++) {
        unsigned char u = (unsigned char)*c;
        if ((u < 0x20 && u != '\t') || u == 0x7f)
            return fail(p, 400, "Bad Request");
    }
    *colon = '\0';
    *end = '\0';
    x->name = s;
    x->name_len = (uint32_t)(colon - s);
    x->value = v;
    x->value_len = (uint32_t)(end - v);
    return HTTP_OK;
}

/* Does the comma-separated list `v` hold `tok` (case-insensitive)? */
static bool list_has(const char *v, const char *tok)
{
    size_t tl = strlen(tok);
    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        const char *e = v;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > v && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - v) == tl && strncasecmp(v, tok, tl) == 0)
            return true;
        v = e;
    }
    return false;
}

/* RFC 9112 section 6: which framing the headers ask for. */
static enum http_rc derive_framing(struct http_parser *p, struct http_head *h)
{
    bool have_cl = false, have_te = false, te_chunked = false;
    uint64_t cl = 0;
    bool conn_close = false, conn_keep = false;

    for (unsigned i = 0; i < h->nheaders; i++) {
        const struct http_header *x = &h->headers[i];
        switch (x->name_len) {
        case 14:
            if (strcasecmp(x->name, "content-length") == 0) {
                uint64_t v;
                if (x->value_len == 0 || parse_u64(x->value, &v) != 0)
                    return fail(p, 400, "Invalid Content-Length");
                if (have_cl && v != cl)
                    return fail(p, 400, "Invalid Content-Length");
                have_cl = true;
                cl = v;
            }
            break;
        case 17:
            if (strcasecmp(x->name, "transfer-encoding") == 0) {
                /* Only "chunked", alone, is understood; a second TE header
                 * or any other coding is refused. */
                te_chunked = !have_te && strcasecmp(x->value, "chunked") == 0;
                have_te = true;
            }
            break;
        case 10:
            if (strcasecmp(x->name, "connection") == 0) {
                conn_close |= list_has(x->value, "close");
                conn_keep |= list_has(x->value, "keep-alive");
            }
            break;
        case 6:
            if (p->mode == HTTP_PARSE_REQUEST &&
                strcasecmp(x->name, "expect") == 0 &&
                strcasecmp(x->value, "100-continue") == 0 && h->version >= 11)
                h->expect_continue = true;
            break;
        default:
            break;
        }
    }

    h->keep_alive = h->version >= 11 ? !conn_close : (conn_keep && !conn_close);
    h->body = HTTP_BODY_NONE;
    h->content_length = 0;

    if (p->mode == HTTP_PARSE_REQUEST) {
        if (have_te && have_cl)
            return fail(p, 400, "Content-Length With Transfer-Encoding");
        if (have_te && !te_chunked)
            return fail(p, 501, "Not Implemented");
        if (te_chunked)
            h->body = HTTP_BODY_CHUNKED;
        else if (have_cl && cl > 0)
            h->body = HTTP_BODY_LENGTH;
        h->content_length = cl;
        return HTTP_OK;
    }

    /* Response mode. */
    if (p->head_request || h->status < 200 || h->status == 204 ||
        h->status == 304) {
        h->content_length = cl;
        return HTTP_OK;
    }
    if (have_te) {
        h->body = te_chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_UNTIL_CLOSE;
        if (!te_chunked)
            h->keep_alive = false;
    } else if (have_cl) {
        h->body = cl > 0 ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
        h->content_length = cl;
    } else {
        h->body = HTTP_BODY_UNTIL_CLOSE;
        h->keep_alive = false;
    }
    return HTTP_OK;
}

static enum http_rc parse_head(struct http_parser *p, struct evbuffer *in,
                               struct http_head *h, size_t len)
{
    if (h->cap < len + 1) {
        free(h->buf);
        h->cap = len + 1 > 1024 ? len + 1 : 1024;
        h->buf = xmalloc(h->cap);
    }
    if (h->hcap < p->lim.max_headers) {
        free(h->headers);
        h->hcap = p->lim.max_headers;
        h->headers = xmalloc(h->hcap * sizeof(*h->headers));
    }
    BUG_ON(evbuffer_remove(in, h->buf, len) != (int)len);
    h->buf[len] = '\0';
    h->method = h->target = h->reason = NULL;
    h->meth = HTTP_M_OTHER;
    h->status = 0;
    h->nheaders = 0;
    h->expect_continue = false;

    char *line = h->buf, *next;
    /* A NUL inside the head would cut a line short: refuse it. */
    if (memchr(h->buf, '\0', len))
        return fail(p, 400, "Bad Request");
    size_t n = cut_line(line, &next);
    enum http_rc rc = p->mode == HTTP_PARSE_REQUEST
                          ? parse_request_line(p, h, line, n)
                          : parse_status_line(p, h, line, n);
    if (rc != HTTP_OK)
        return rc;
    for (line = next; *line; line = next) {
        n = cut_line(line, &next);
        if (n == 0)
            break; /* the empty line ending the head */
        if (*line == ' ' || *line == '\t')
            return fail(p, 400, "Bad Request"); /* obsolete line folding */
        BUG_ON(h->nheaders >= h->hcap);
        rc = parse_header_line(p, &h->headers[h->nheaders], line, n);
        if (rc != HTTP_OK)
            return rc;
        h->nheaders++;
    }
    rc = derive_framing(p, h);
    if (rc != HTTP_OK)
        return rc;
    switch (h->body) {
    case HTTP_BODY_NONE:
        p->state = P_DONE;
        break;
    case HTTP_BODY_LENGTH:
        p->remaining = h->content_length;
        p->state = P_BODY;
        break;
    case HTTP_BODY_UNTIL_CLOSE:
        p->state = P_BODY;
        break;
    case HTTP_BODY_CHUNKED:
        p->state = P_CHUNK_SIZE;
        break;
    }
    return HTTP_OK;
}

/* Is the line [off, off+len) of `in` empty ("\n" or "\r\n")? */
static bool line_is_empty(struct evbuffer *in, size_t off, size_t len)
{
    if (len > 2)
        return false;
    if (len == 1)
        return true;
    char c[1];
    struct evbuffer_ptr ptr;
    evbuffer_ptr_set(in, &ptr, off, EVBUFFER_PTR_SET);
    evbuffer_copyout_from(in, &ptr, c, 1);
    return c[0] == '\r';
}

/* Something that is not an HTTP request at all (TLS, binary junk) shows in
 * its first bytes: refuse it without waiting for a line end. */
static bool bad_method_prefix(struct evbuffer *in, size_t len)
{
    char c[16];
    size_t n = len < sizeof(c) ? len : sizeof(c);
    evbuffer_copyout(in, c, n);
    for (size_t i = 0; i < n; i++) {
        if (c[i] == ' ')
            return i == 0;
        if (!tchar[(unsigned char)c[i]])
            return true;
    }
    return false;
}

enum http_rc http_parser_head(struct http_parser *p, struct evbuffer *in,
                              struct http_head *h)
{
    BUG_ON(p->state != P_HEAD);
    const struct http_limits *l = &p->lim;
    bool req = p->mode == HTTP_PARSE_REQUEST;
    size_t len = evbuffer_get_length(in);

    while (p->scanned < len) {
        struct evbuffer_ptr pos;
        evbuffer_ptr_set(in, &pos, p->scanned, EVBUFFER_PTR_SET);
        pos = evbuffer_search(in, "\n", 1, &pos);
        if (pos.pos < 0) {
            p->scanned = len;
            break;
        }
        size_t eol = (size_t)pos.pos;
        size_t line_len = eol + 1 - p->line_start;
        if (p->nlines == 0) {
            if (line_is_empty(in, p->line_start, line_len)) {
                if (!req)
                    return fail(p, 400, "Bad Status Line");
                /* RFC 9112 2.2: ignore empty lines before a request. */
                evbuffer_drain(in, eol + 1);
                len -= eol + 1;
                p->scanned = p->line_start = 0;
                continue;
            }
            if (line_len >= l->max_request_line)
                return req ? fail(p, 414, "Request URI Too Long")
                           : fail(p, 400, "Status Line Too Long");
            p->first_line = line_len;
        } else {
            if (line_is_empty(in, p->line_start, line_len))
                return parse_head(p, in, h, eol + 1);
            if (line_len >= l->max_header_line)
                return fail(p, 400, "Header Line Too Long");
            if (p->nlines > l->max_headers)
                return fail(p, 431, "Too Many Headers");
            if (eol + 1 - p->first_line > l->max_header_size)
                return fail(p, 400, "Headers Too Large");
        }
        p->nlines++;
        p->line_start = p->scanned = eol + 1;
    }

    /* The current line is incomplete: refuse it as soon as it must end up
     * over a limit. */
    size_t cur = len - p->line_start;
    if (p->nlines == 0) {
        if (cur > 0 && cur + 1 >= l->max_request_line)
            return req ? fail(p, 414, "Request URI Too Long")
                       : fail(p, 400, "Status Line Too Long");
        if (req && cur > 0 && bad_method_prefix(in, len))
            return fail(p, 400, "Bad Request");
    } else {
        if (cur > 0 && cur + 1 >= l->max_header_line)
            return fail(p, 400, "Header Line Too Long");
        if (len - p->first_line > l->max_header_size)
            return fail(p, 400, "Headers Too Large");
    }
    return HTTP_AGAIN;
}

/* Reads one line (chunk size or trailer) from the front of `in`.
 * Returns its length including the LF, 0 if incomplete, or -1 if it would
 * be longer than max. */
static ssize_t front_line(struct evbuffer *in, size_t max)
{
    struct evbuffer_ptr pos = evbuffer_search(in, "\n", 1, NULL);
    if (pos.pos < 0)
        return evbuffer_get_length(in) >= max ? -1 : 0;
    if ((size_t)pos.pos + 1 > max)
        return -1;
    return pos.pos + 1;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* chunk-size [ chunk-ext ] CRLF; extensions are ignored but must not hold
 * control characters. */
static int parse_chunk_size(const unsigned char *s, size_t n, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    if (n > 0 && s[n - 1] == '\n')
        n--;
    if (n > 0 && s[n - 1] == '\r')
        n--;
    for (; i < n && hexval(s[i]) >= 0; i++) {
        if (v >> 60)
            return -1; /* would overflow 64 bits */
        v = v << 4 | (uint64_t)hexval(s[i]);
    }
    if (i == 0)
        return -1;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < n && s[i] != ';')
        return -1;
    for (; i < n; i++)
        if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
            return -1;
    *out = v;
    return 0;
}

enum http_rc http_parser_body(struct http_parser *p, const struct http_head *h,
                              struct evbuffer *in, struct evbuffer *out,
                              size_t max)
{
    size_t moved = 0;
    for (;;) {
        size_t avail = evbuffer_get_length(in);
        switch (p->state) {
        case P_DONE:
            return HTTP_OK;
        case P_ERROR:
            return HTTP_ERROR;
        case P_HEAD:
            BUG_ON("http_parser_body before a head" == NULL);
            return HTTP_ERROR;
        case P_BODY:
        case P_CHUNK_DATA: {
            bool counted = p->state == P_CHUNK_DATA ||
                           h->body == HTTP_BODY_LENGTH;
            size_t n = avail < max - moved ? avail : max - moved;
            if (counted && n > p->remaining)
                n = (size_t)p->remaining;
            if (n > 0) {
                evbuffer_remove_buffer(in, out, n);
                moved += n;
            }
            if (counted) {
                p->remaining -= n;
                if (p->remaining == 0) {
                    p->state = p->state == P_BODY ? P_DONE : P_CHUNK_CRLF;
                    continue;
                }
            }
            return HTTP_AGAIN;
        }
        case P_CHUNK_SIZE: {
            ssize_t n = front_line(in, CHUNK_LINE_MAX);
            if (n < 0)
                return fail(p, 400, "Bad Chunk");
            if (n == 0)
                return HTTP_AGAIN;
            unsigned char *s = evbuffer_pullup(in, n);
            uint64_t sz;
            if (parse_chunk_size(s, (size_t)n, &sz) != 0)
                return fail(p, 400, "Bad Chunk");
            evbuffer_drain(in, (size_t)n);
            p->remaining = sz;
            p->state = sz ? P_CHUNK_DATA : P_TRAILER;
            if (sz && moved == max)
                return HTTP_AGAIN;
            continue;
        }
        case P_CHUNK_CRLF: {
            char c[2];
            if (avail < 1)
                return HTTP_AGAIN;
            evbuffer_copyout(in, c, avail < 2 ? 1 : 2);
            if (c[0] == '\n') {
                evbuffer_drain(in, 1);
            } else if (c[0] == '\r') {
                if (avail < 2)
                    return HTTP_AGAIN;
                if (c[1] != '\n')
                    return fail(p, 400, "Bad Chunk");
                evbuffer_drain(in, 2);
            } else {
                return fail(p, 400, "Bad Chunk");
            }
            p->state = P_CHUNK_SIZE;
            continue;
        }
        case P_TRAILER: {
            ssize_t n = front_line(in, p->lim.max_header_line);
            if (n < 0)
                return fail(p, 400, "Bad Chunk");
            if (n == 0)
                return HTTP_AGAIN;
            p->trailer_size += (size_t)n;
            if (p->trailer_size > p->lim.max_header_size)
                return fail(p, 400, "Bad Chunk");
            bool empty = line_is_empty(in, 0, (size_t)n);
            evbuffer_drain(in, (size_t)n);
            if (empty)
                p->state = P_DONE;
            continue;
        }
        default:
            BUG_ON(1);
        }
    }
}

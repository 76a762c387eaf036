/*
 * fuzz_http.c - libFuzzer target for common/http_parser: arbitrary bytes,
 * fed in arbitrary splits, to the request parser and to the response
 * parser, message after message (pipelining), with a small bound on each
 * body step. The first two bytes choose the split sizes and the bound, so
 * the fuzzer explores splits too. Checks the parser's own promises: no
 * more than `max` body bytes per step, lengths match the strings, a parsed
 * head always has a method/target or a status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/http_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(enum http_parser_mode mode, const uint8_t *data, size_t size,
                unsigned seed, size_t max)
{
    struct http_parser p;
    struct http_head h;
    struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
    struct http_limits lim;
    http_limits_init(&lim);
    if (seed & 0x100) {
        /* small limits reach the limit paths with small inputs */
        lim.max_request_line = 64;
        lim.max_header_line = 48;
        lim.max_header_size = 200;
        lim.max_headers = 5;
    }
    http_parser_init(&p, mode, &lim);
    http_head_init(&h);
    size_t off = 0;
    bool dead = false;
    while (off < size && !dead) {
        seed = seed * 1103515245u + 12345u;
        size_t n = 1 + (seed >> 16) % 17;
        if (n > size - off)
            n = size - off;
        evbuffer_add(in, data + off, n);
        off += n;
        for (;;) {
            if (!http_parser_in_body(&p)) {
                enum http_rc rc = http_parser_head(&p, in, &h);
                if (rc == HTTP_AGAIN)
                    break;
                if (rc == HTTP_ERROR) {
                    if (p.err_status < 400 || !p.err_reason)
                        abort();
                    dead = true;
                    break;
                }
                if (mode == HTTP_PARSE_REQUEST &&
                    (!h.method || !h.target || !*h.target))
                    abort();
                if (mode == HTTP_PARSE_RESPONSE &&
                    (h.status < 100 || h.status > 999))
                    abort();
                for (unsigned i = 0; i < h.nheaders; i++)
                    if (strlen(h.headers[i].name) != h.headers[i].name_len ||
                        strlen(h.headers[i].value) != h.headers[i].value_len ||
                        h.headers[i].name_len == 0)
                        abort();
                (void)http_head_get(&h, "content-length");
            }
            enum http_rc rc = http_parser_body(&p, &h, in, out, max);
            size_t moved = evbuffer_get_length(out);
            if (moved > max)
                abort();
            evbuffer_drain(out, moved);
            if (rc == HTTP_ERROR) {
                dead = true;
                break;
            }
            if (rc == HTTP_AGAIN) {
                if (moved == max)
                    continue; /* the output bound stopped it, not input */
                break;
            }
            http_parser_reset(&p, (seed & 0x200) != 0);
        }
    }
    http_head_release(&h);
    evbuffer_free(in);
    evbuffer_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned seed = (unsigned)data[0] << 8 | data[1];
    size_t max = 1 + (data[1] & 0x3f) * 97;
    run(HTTP_PARSE_REQUEST, data + 2, size - 2, seed, max);
    run(HTTP_PARSE_RESPONSE, data + 2, size - 2, seed, max);
    return 0;
}

/*
 * fuzz_names.c - libFuzzer target for common/names, the first code that
 * sees a client's request path and headers. The input is read as a request
 * path, then as a backend path, then as "name: value" header lines for the
 * metadata checks. Properties checked besides memory safety: a valid path
 * has the segments its kind promises; quote() then unquote() gives back the
 * input; a string the UTF-8 validator accepts has a code point count no
 * larger than its byte count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cluster_conf.h"
#include "common/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                          \
    do {                                                                  \
        if (!(x))                                                         \
            abort();                                                      \
    } while (0)

static struct cluster_conf cc;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        cluster_conf_defaults(&cc);
        ready = 1;
    }
    if (size > 16384)
        return 0;
    const char *s = (const char *)data;
    struct names_verdict v;

    struct names_api_path p;
    if (names_parse_api_path(s, size, &cc.constraints, &p, &v) == 0) {
        CHECK(v.status == 0 && p.account && *p.account);
        CHECK((p.kind >= NAMES_CONTAINER) == (p.container != NULL));
        CHECK((p.kind == NAMES_OBJECT) == (p.object != NULL));
        names_check_account_name(p.account, strlen(p.account),
                                 &cc.constraints, &v);
        names_api_path_release(&p);
    } else {
        CHECK(v.status >= 400 && v.status < 500);
    }

    char *buf = malloc(size + 1);
    memcpy(buf, s, size);
    buf[size] = '\0';
    char *segs[5];
    names_split_backend_path(buf, size, 3, 5, true, segs, &v);
    free(buf);

    char *q = malloc(3 * size + 1), *back = malloc(3 * size + 1);
    size_t qn = names_quote(s, size, "/", q);
    CHECK(names_unquote(q, qn, back) == size);
    CHECK(memcmp(back, s, size) == 0);
    free(q);
    free(back);

    if (names_utf8_valid(s, size, NAMES_UTF8_ALLOW_NUL))
        CHECK(names_utf8_count(s, size) <= size);

    /* Lines "name: value" as headers. */
    struct names_header h[64];
    size_t n = 0;
    const char *p0 = s, *end = s + size;
    while (p0 < end && n < 64) {
        const char *nl = memchr(p0, '\n', (size_t)(end - p0));
        const char *le = nl ? nl : end;
        const char *colon = memchr(p0, ':', (size_t)(le - p0));
        if (colon) {
            h[n].name = p0;
            h[n].name_len = (size_t)(colon - p0);
            h[n].value = colon + 1;
            h[n].value_len = (size_t)(le - colon - 1);
            n++;
        }
        p0 = nl ? nl + 1 : end;
    }
    for (int t = NAMES_T_ACCOUNT; t <= NAMES_T_OBJECT; t++)
        names_check_metadata(h, n, (enum names_target)t, &cc.constraints, &v);
    struct names_object_put put = {(int64_t)size - 1, size % 2 == 0,
                                   n ? "text/plain" : NULL, s,
                                   size < 2000 ? size : 2000};
    names_check_object_creation(&put, h, n, &cc.constraints, &v);
    return 0;
}

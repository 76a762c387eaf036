/*
 * check_eng.c - unit tests for the storlet engine: the extension service's
 * decisions (where a storlet runs, what is refused), parameters, the
 * deployment checks, and the execution service running real storlets in
 * the real sandbox on a private event loop (identity byte for byte, output
 * metadata, failures before output with their status and reason, the code
 * cache refusing bytes that do not match the ETag).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/http_parser.h"
#include "common/md5.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng.h"
#include "engine/eng_frame.h"

/* A parsed request head from raw text ("GET /x HTTP/1.1\r\nA: b\r\n\r\n"). */
struct req {
    struct http_parser p;
    struct http_head h;
};

static struct req *parse(const char *raw)
{
    struct req *r = xcalloc(1, sizeof(*r));
    http_parser_init(&r->p, HTTP_PARSE_REQUEST, NULL);
    http_head_init(&r->h);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, raw, strlen(raw));
    ck_assert_int_eq(http_parser_head(&r->p, b, &r->h), HTTP_OK);
    evbuffer_free(b);
    return r;
}

static void req_free(struct req *r)
{
    http_head_release(&r->h);
    free(r);
}

static struct eng_decision decide(enum eng_role role, const char *raw)
{
    struct req *r = parse(raw);
    struct eng_decision d;
    eng_decide(role, &r->h, &d);
    d.storlet = NULL;   /* points into r */
    req_free(r);
    return d;
}

START_TEST(where_it_runs)
{
    struct eng_decision d;
    d = decide(ENG_ROLE_PROXY, "GET /v1/a/c/o HTTP/1.1\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_NONE);
    d = decide(ENG_ROLE_PROXY, "GET /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_FORWARD);
    ck_assert_int_eq(d.op, ENG_OP_GET);
    ck_assert(!d.on_proxy);
    d = decide(ENG_ROLE_OBJECT, "GET /d/1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_RUN_HERE);
    d = decide(ENG_ROLE_PROXY,
               "GET /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\nX-Storlet-Run-On-Proxy:\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_RUN_HERE);
    ck_assert(d.on_proxy);
    d = decide(ENG_ROLE_OBJECT,
               "GET /d/1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\nX-Storlet-Run-On-Proxy:\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_NONE);
    d = decide(ENG_ROLE_PROXY, "PUT /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_RUN_HERE);
    ck_assert_int_eq(d.op, ENG_OP_PUT);
    d = decide(ENG_ROLE_OBJECT, "PUT /d/1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_NONE);
    d = decide(ENG_ROLE_PROXY,
               "PUT /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\nX-Copy-From: c/src\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_FORWARD);
    ck_assert_int_eq(d.op, ENG_OP_COPY);
    d = decide(ENG_ROLE_PROXY,
               "COPY /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\nDestination: c/d\r\n"
               "X-Storlet-Run-On-Proxy:\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_RUN_HERE);
    ck_assert_int_eq(d.op, ENG_OP_COPY);
    d = decide(ENG_ROLE_PROXY, "HEAD /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_NONE);
    d = decide(ENG_ROLE_PROXY, "DELETE /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_NONE);
}
END_TEST

START_TEST(what_is_refused)
{
    struct eng_decision d;
    d = decide(ENG_ROLE_PROXY,
               "GET /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\nX-Storlet-Run-On-Proxy: yes\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_REJECT);
    ck_assert_int_eq(d.status, 400);
    d = decide(ENG_ROLE_PROXY,
               "GET /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\nRange: bytes=0-1\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_REJECT);
    ck_assert_int_eq(d.status, 400);
    ck_assert(strstr(d.reason, "X-Storlet-Range") != NULL);
    d = decide(ENG_ROLE_PROXY, "GET /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n"
                               "X-Storlet-Range: bytes=0-1,4-5\r\n\r\n");
    ck_assert_int_eq(d.status, 400);
    d = decide(ENG_ROLE_PROXY, "GET /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n"
                               "X-Storlet-Range: bytes=5-3\r\n\r\n");
    ck_assert_int_eq(d.status, 400);
    d = decide(ENG_ROLE_PROXY, "COPY /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n"
                               "Destination: c/d\r\nDestination-Account: b\r\n\r\n");
    ck_assert_int_eq(d.status, 400);
    d = decide(ENG_ROLE_PROXY, "PUT /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n"
                               "X-Copy-From: c/s\r\nX-Fresh-Metadata: true\r\n\r\n");
    ck_assert_int_eq(d.status, 400);
    d = decide(ENG_ROLE_PROXY, "GET /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: a/b\r\n\r\n");
    ck_assert_int_eq(d.status, 400);
    /* a large object's manifest PUT carries no data to transform */
    d = decide(ENG_ROLE_PROXY, "PUT /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n"
                               "X-Object-Manifest: c_segments/o/\r\n\r\n");
    ck_assert_int_eq(d.status, 400);
    ck_assert(strstr(d.reason, "manifest") != NULL);
    d = decide(ENG_ROLE_PROXY, "PUT /v1/a/c/o?multipart-manifest=put HTTP/1.1\r\n"
                               "X-Run-Storlet: id\r\n\r\n");
    ck_assert_int_eq(d.status, 400);
    d = decide(ENG_ROLE_PROXY, "PUT /v1/a/c/o?x=1 HTTP/1.1\r\nX-Run-Storlet: id\r\n\r\n");
    ck_assert_int_eq(d.where, ENG_RUN_HERE);
    d = decide(ENG_ROLE_PROXY, "PUT /v1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n"
                               "X-Storlet-Range: bytes=0-1\r\n\r\n");
    ck_assert_int_eq(d.status, 400);
}
END_TEST

START_TEST(storlet_range_forms)
{
    struct eng_decision d;
    d = decide(ENG_ROLE_OBJECT, "GET /d/1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n"
                                "X-Storlet-Range: bytes=10-19\r\n\r\n");
    ck_assert(d.has_range);
    ck_assert_uint_eq(d.range_first, 10);
    ck_assert_uint_eq(d.range_last, 19);
    d = decide(ENG_ROLE_OBJECT, "GET /d/1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n"
                                "X-Storlet-Range: bytes=10-\r\n\r\n");
    ck_assert(d.has_range && d.range_open);
    d = decide(ENG_ROLE_OBJECT, "GET /d/1/a/c/o HTTP/1.1\r\nX-Run-Storlet: id\r\n"
                                "X-Storlet-Range: bytes=-7\r\n\r\n");
    ck_assert(d.has_range && d.range_suffix);
    ck_assert_uint_eq(d.range_last, 7);
}
END_TEST

static json_t *params(const char *raw, const char *query, struct err *e)
{
    struct req *r = parse(raw);
    json_t *o = eng_params(&r->h, query, e);
    req_free(r);
    return o;
}

START_TEST(parameters_from_headers_and_query)
{
    struct err e;
    err_clear(&e);
    json_t *o = params("GET /x HTTP/1.1\r\nX-Storlet-Parameter-1: Word:a%20b:c\r\n"
                       "X-Storlet-Parameter-x: n:1\r\n\r\n",
                       "pattern=x+y%21&format=json&empty", &e);
    ck_assert_msg(o != NULL, "%s", e.msg);
    ck_assert_str_eq(json_string_value(json_object_get(o, "word")), "a b:c");
    ck_assert_str_eq(json_string_value(json_object_get(o, "n")), "1");
    ck_assert_str_eq(json_string_value(json_object_get(o, "pattern")), "x y!");
    ck_assert_str_eq(json_string_value(json_object_get(o, "empty")), "");
    /* alone, format is the storlet's (Swift reads it on listings only) */
    ck_assert_str_eq(json_string_value(json_object_get(o, "format")), "json");
    json_decref(o);
    /* beside multipart-manifest it is Swift's (an SLO's format=raw) */
    o = params("GET /x HTTP/1.1\r\n\r\n", "format=raw&x=1&multipart%2Dmanifest=get", &e);
    ck_assert_msg(o != NULL, "%s", e.msg);
    ck_assert_ptr_null(json_object_get(o, "format"));
    ck_assert_ptr_null(json_object_get(o, "multipart-manifest"));
    ck_assert_str_eq(json_string_value(json_object_get(o, "x")), "1");
    json_decref(o);

    ck_assert_ptr_null(params("GET /x HTTP/1.1\r\nX-Storlet-Parameter-1: a:1\r\n\r\n", "a=2", &e));
    ck_assert(strstr(e.msg, "twice") != NULL);
    ck_assert_ptr_null(params("GET /x HTTP/1.1\r\nX-Storlet-Parameter-1: storlet_x:1\r\n\r\n",
                              NULL, &e));
    ck_assert(strstr(e.msg, "reserved") != NULL);
    ck_assert_ptr_null(params("GET /x HTTP/1.1\r\nX-Storlet-Parameter-1: novalue\r\n\r\n", NULL,
                              &e));
    ck_assert_ptr_null(params("GET /x HTTP/1.1\r\n\r\n", "a%20b=1", &e));
}
END_TEST

static int validate(const char *name, const char *hdrs, bool admin, struct err *e)
{
    char *raw = xasprintf("PUT /v1/a/storlet/%s HTTP/1.1\r\n%s\r\n", name, hdrs);
    struct req *r = parse(raw);
    int rc = eng_validate_storlet(name, &r->h, admin, e);
    req_free(r);
    free(raw);
    return rc;
}

#define GOOD_PY "X-Object-Meta-Storlet-Language: python\r\n" \
                "X-Object-Meta-Storlet-Interface-Version: 1.0\r\n" \
                "X-Object-Meta-Storlet-Object-Metadata: no\r\n"

START_TEST(deployment_checks)
{
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(validate("up.py", GOOD_PY "X-Object-Meta-Storlet-Main: up.main\r\n", false, &e), 0);
    ck_assert_int_eq(validate("up.py", GOOD_PY, false, &e), -EINVAL);
    ck_assert_str_eq(e.msg, "Mandatory parameter is missing: X-Object-Meta-Storlet-Main");
    ck_assert_int_eq(validate("up.py", GOOD_PY "X-Object-Meta-Storlet-Main: other.main\r\n",
                              false, &e), -EINVAL);
    ck_assert_int_eq(validate("up.py", GOOD_PY "X-Object-Meta-Storlet-Main: up.a.b\r\n",
                              false, &e), -EINVAL);
    ck_assert(strstr(e.msg, "Submodule") != NULL);
    ck_assert_int_eq(validate("up", GOOD_PY "X-Object-Meta-Storlet-Main: up.main\r\n",
                              false, &e), -EINVAL);
    ck_assert_int_eq(validate("x", "X-Object-Meta-Storlet-Language: java\r\n", false, &e),
                     -EINVAL);
    ck_assert(strstr(e.msg, "Unsupported Language") != NULL);
    const char *nat = "X-Object-Meta-Storlet-Language: native\r\n"
                      "X-Object-Meta-Storlet-Interface-Version: 1.0\r\n"
                      "X-Object-Meta-Storlet-Object-Metadata: yes\r\n";
    char *h = xasprintf("%sX-Object-Meta-Storlet-Main: fixity\r\n", nat);
    ck_assert_int_eq(validate("fixity", h, false, &e), 0);
    free(h);
    h = xasprintf("%sX-Object-Meta-Storlet-Main: run.sh\r\n", nat);
    ck_assert_int_eq(validate("fixity", h, false, &e), -EINVAL);
    free(h);
    h = xasprintf("%sX-Object-Meta-Storlet-Main: run.sh\r\n"
                  "X-Object-Meta-Storlet-Dependency: lib.so, run.sh\r\n", nat);
    ck_assert_int_eq(validate("fixity", h, false, &e), 0);
    free(h);
    h = xasprintf("%sX-Object-Meta-Storlet-Main: fixity\r\n"
                  "X-Object-Meta-Storlet-Dependency: a,a\r\n", nat);
    ck_assert_int_eq(validate("fixity", h, false, &e), -EINVAL);
    ck_assert(strstr(e.msg, "twice") != NULL);
    free(h);
    h = xasprintf("%sX-Object-Meta-Storlet-Main: fixity\r\n"
                  "X-Object-Meta-Storlet-Dependency: fixity\r\n", nat);
    ck_assert_int_eq(validate("fixity", h, false, &e), -EINVAL);
    free(h);
    h = xasprintf("%sX-Object-Meta-Storlet-Main: fixity\r\n"
                  "X-Object-Meta-Storlet-Sandbox: admin\r\n", nat);
    ck_assert_int_eq(validate("fixity", h, false, &e), -EPERM);
    ck_assert_int_eq(validate("fixity", h, true, &e), 0);
    free(h);
    h = xasprintf("%sX-Object-Meta-Storlet-Main: fixity\r\n"
                  "X-Object-Meta-Storlet-Interface-Version: 2.0\r\n", nat);
    ck_assert_int_eq(validate("cairn_storlet.py", h, false, &e), -EINVAL);
    free(h);

    struct req *r = parse("PUT /v1/a/dependency/lib HTTP/1.1\r\n"
                          "X-Object-Meta-Storlet-Dependency-Version: 1\r\n"
                          "X-Object-Meta-Storlet-Dependency-Permissions: 0755\r\n\r\n");
    ck_assert_int_eq(eng_validate_dependency("lib", &r->h, &e), 0);
    req_free(r);
    r = parse("PUT /v1/a/dependency/lib HTTP/1.1\r\n"
              "X-Object-Meta-Storlet-Dependency-Version: 1\r\n"
              "X-Object-Meta-Storlet-Dependency-Permissions: 0055\r\n\r\n");
    ck_assert_int_eq(eng_validate_dependency("lib", &r->h, &e), -EINVAL);
    req_free(r);
    r = parse("PUT /v1/a/dependency/lib HTTP/1.1\r\n\r\n");
    ck_assert_int_eq(eng_validate_dependency("lib", &r->h, &e), -EINVAL);
    req_free(r);
    ck_assert(eng_account_enabled("True"));
    ck_assert(!eng_account_enabled("false"));
    ck_assert(!eng_account_enabled(NULL));
}
END_TEST

/* The wall budget: base + input / rate, rounded up to the millisecond,
 * never past ENG_WALL_MAX_MS, and no growth when it does not apply. */
START_TEST(wall_budget)
{
    const uint64_t MiB = 1024 * 1024;
    /* 10 GiB at 16 MiB/s: 640 s more */
    ck_assert_uint_eq(eng_wall_budget_ms(30000, (int64_t)(10240 * MiB), 16 * MiB), 670000);
    /* one byte earns a whole millisecond (rounded up), exact values none more */
    ck_assert_uint_eq(eng_wall_budget_ms(30000, 1, 16 * MiB), 30001);
    ck_assert_uint_eq(eng_wall_budget_ms(30000, (int64_t)(16 * MiB), 16 * MiB), 31000);
    ck_assert_uint_eq(eng_wall_budget_ms(30000, (int64_t)(16 * MiB) + 1, 16 * MiB), 31001);
    ck_assert_uint_eq(eng_wall_budget_ms(0, 1500, 1000), 1500);
    /* 0 turns growth off; an unknown or empty input grows nothing */
    ck_assert_uint_eq(eng_wall_budget_ms(30000, (int64_t)(10240 * MiB), 0), 30000);
    ck_assert_uint_eq(eng_wall_budget_ms(30000, -1, 16 * MiB), 30000);
    ck_assert_uint_eq(eng_wall_budget_ms(30000, 0, 16 * MiB), 30000);
    /* overflow: huge inputs, tiny rates, huge rates, a huge base */
    ck_assert_uint_eq(eng_wall_budget_ms(30000, INT64_MAX, 1), ENG_WALL_MAX_MS);
    ck_assert_uint_eq(eng_wall_budget_ms(30000, INT64_MAX, 16 * MiB), ENG_WALL_MAX_MS);
    ck_assert_uint_eq(eng_wall_budget_ms(UINT64_MAX, 1, 1), ENG_WALL_MAX_MS);
    ck_assert_uint_eq(eng_wall_budget_ms(ENG_WALL_MAX_MS - 1, 1000, 1), ENG_WALL_MAX_MS);
    uint64_t b = eng_wall_budget_ms(30000, INT64_MAX, UINT64_MAX);
    ck_assert(b > 30000 && b <= 31001);
    b = eng_wall_budget_ms(30000, INT64_MAX, (uint64_t)INT64_MAX + 2);
    ck_assert(b > 30000 && b <= 31001);
    /* which length: a chain's, the input's, the range's, none */
    struct eng_invocation inv = { .content_length = 4096 };
    ck_assert_int_eq(eng_budget_input(&inv), 4096);
    inv.budget_len = 10000;
    ck_assert_int_eq(eng_budget_input(&inv), 10000);
    inv = (struct eng_invocation){ .content_length = -1, .has_range = true,
                                   .range_first = 100, .range_last = 199, .range_size = 1000 };
    ck_assert_int_eq(eng_budget_input(&inv), 100);
    inv.range_last = UINT64_MAX;
    inv.range_first = 0;
    ck_assert_int_eq(eng_budget_input(&inv), 0);   /* no such length */
    inv = (struct eng_invocation){ .content_length = -1 };
    ck_assert_int_eq(eng_budget_input(&inv), 0);   /* a chunked PUT */
    /* just below the cap stays exact */
    ck_assert_uint_eq(eng_wall_budget_ms(1000, (int64_t)(ENG_WALL_MAX_MS - 2000), 1000),
                      ENG_WALL_MAX_MS - 1000);
}
END_TEST

/* ------------------------------------------------------------ execution */

static char cache_dir[] = "/tmp/check_eng.XXXXXX";

static int rm_one(const char *p, const struct stat *st, int f, struct FTW *w)
{
    (void)st;
    (void)f;
    (void)w;
    remove(p);
    return 0;
}

static struct eng *engine(void)
{
    ck_assert_ptr_nonnull(mkdtemp(cache_dir));
    chmod(cache_dir, 0755);
    struct eng_config cfg = { .cache_dir = cache_dir, .wall_ms = 20000, .idle_ms = 10000 };
    struct err e;
    err_clear(&e);
    struct eng *g = eng_start(&cfg, &e);
    ck_assert_msg(g != NULL, "%s", e.msg);
    return g;
}

static void cache_file(struct eng *g, const char *name, const void *data, size_t len,
                       char etag[MD5_HEX_LEN])
{
    struct md5 m;
    md5_init(&m);
    md5_update(&m, data, len);
    md5_final_hex(&m, etag);
    struct err e;
    err_clear(&e);
    struct eng_fill *f = eng_cache_begin(g, "AUTH_t", name, etag, &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    ck_assert_int_eq(eng_cache_write(f, data, len), 0);
    ck_assert_msg(eng_cache_commit(f, &e) == 0, "%s", e.msg);
    ck_assert(eng_cache_has(g, "AUTH_t", name, etag));
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = xmalloc((size_t)n + 1);
    ck_assert_int_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

struct result {
    struct event_base *base;
    struct evbuffer *out;
    bool started, done;
    struct eng_outcome o;
    char reason[1024];
    char meta[512];
    const struct evbuffer *in_left;
    struct evbuffer *in;
    struct eng_run *run;
};

static void r_start(struct eng_run *r, const struct eng_meta *m, void *arg)
{
    (void)r;
    struct result *res = arg;
    res->started = true;
    if (m->metadata) {
        char *s = json_dumps(m->metadata, JSON_COMPACT | JSON_SORT_KEYS);
        str_copy(res->meta, s, sizeof(res->meta));
        free(s);
    }
}

static void r_output(struct eng_run *r, struct evbuffer *b, void *arg)
{
    (void)r;
    struct result *res = arg;
    evbuffer_remove_buffer(b, res->out, evbuffer_get_length(b));
}

static void r_drain(struct eng_run *r, void *arg)
{
    struct result *res = arg;
    if (eng_run_write(r, res->in))
        eng_run_input_end(r);
}

static void r_done(struct eng_run *r, const struct eng_outcome *o, void *arg)
{
    (void)r;
    struct result *res = arg;
    res->done = true;
    res->o = *o;
    str_copy(res->reason, o->reason, sizeof(res->reason));
    res->o.log = NULL;
    event_base_loopbreak(res->base);
}

static const struct eng_run_ops ops = {
    .start = r_start, .output = r_output, .input_drain = r_drain, .done = r_done,
};

static void run(struct eng *g, const struct eng_code *c, const void *input, size_t len,
                struct result *res)
{
    struct err e;
    err_clear(&e);
    char dir[4096];
    ck_assert_msg(eng_code_dir(g, c, dir, sizeof(dir), &e) == 0, "%s", e.msg);
    memset(res, 0, sizeof(*res));
    res->base = event_base_new();
    res->out = evbuffer_new();
    res->in = evbuffer_new();
    evbuffer_add(res->in, input, len);
    json_t *params = json_object();
    struct eng_invocation inv = {
        .code = c, .code_dir = dir, .parameters = params, .op = ENG_OP_GET,
        .account = "AUTH_t", .container = "c", .object = "o", .trans_id = "tx1",
        .content_length = (int64_t)len, .input_fd = -1,
    };
    res->run = eng_run_start(g, res->base, &inv, &ops, res, &e);
    ck_assert_msg(res->run != NULL, "%s", e.msg);
    if (eng_run_write(res->run, res->in))
        eng_run_input_end(res->run);
    event_base_dispatch(res->base);
    ck_assert(res->done);
    json_decref(params);
    evbuffer_free(res->in);
    event_base_free(res->base);
}

static const char *build_dir(void)
{
    const char *b = getenv("CAIRN_BUILD");
    return b ? b : "build";
}

START_TEST(identity_byte_for_byte)
{
    struct eng *g = engine();
    char *p = xasprintf("%s/storlets/identity", build_dir());
    size_t n;
    char *code = slurp(p, &n);
    ck_assert_msg(code != NULL, "%s missing", p);
    char etag[MD5_HEX_LEN];
    cache_file(g, "identity", code, n, etag);
    struct eng_code c = { .account = "AUTH_t", .name = "identity", .etag = etag,
                          .language = "native", .main = "identity" };
    size_t len = 3 * 1024 * 1024 + 17;
    char *data = xmalloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (char)(i * 7 + (i >> 9));
    struct result res;
    run(g, &c, data, len, &res);
    ck_assert_msg(res.o.kind == ENG_OK, "%d %s", res.o.status, res.reason);
    ck_assert(res.started);
    ck_assert_uint_eq(evbuffer_get_length(res.out), len);
    ck_assert(memcmp(evbuffer_pullup(res.out, -1), data, len) == 0);
    ck_assert_uint_eq(res.o.bytes_out, len);
    ck_assert_uint_eq(res.o.bytes_in, len);
    evbuffer_free(res.out);
    free(data);
    free(code);
    free(p);
    eng_free(g);
    nftw(cache_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}
END_TEST

START_TEST(fixity_metadata)
{
    struct eng *g = engine();
    char *p = xasprintf("%s/storlets/fixity", build_dir());
    size_t n;
    char *code = slurp(p, &n);
    ck_assert_msg(code != NULL, "%s missing", p);
    char etag[MD5_HEX_LEN];
    cache_file(g, "fixity", code, n, etag);
    struct eng_code c = { .account = "AUTH_t", .name = "fixity", .etag = etag,
                          .language = "native", .main = "fixity" };
    struct result res;
    run(g, &c, "hello", 5, &res);
    ck_assert_msg(res.o.kind == ENG_OK, "%d %s", res.o.status, res.reason);
    ck_assert_msg(strstr(res.meta, "5d41402abc4b2a76b9719d911017c592") != NULL, "%s", res.meta);
    evbuffer_free(res.out);
    free(code);
    free(p);
    eng_free(g);
    nftw(cache_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}
END_TEST

START_TEST(failures_before_output)
{
    struct eng *g = engine();
    const char *s1 = "#!/bin/sh\necho 'starting' >&2\necho 'the input is bad' >&2\nexit 3\n";
    const char *s2 = "#!/bin/sh\necho 'no such parameter: x' >&2\nexit 64\n";
    const char *s3 = "#!/bin/sh\nexec 3>&-\nexec cat\n";
    char e1[MD5_HEX_LEN], e2[MD5_HEX_LEN], e3[MD5_HEX_LEN];
    cache_file(g, "fail.sh", s1, strlen(s1), e1);
    cache_file(g, "usage.sh", s2, strlen(s2), e2);
    cache_file(g, "cat.sh", s3, strlen(s3), e3);
    struct result res;
    struct eng_code c = { .account = "AUTH_t", .name = "fail.sh", .etag = e1,
                          .language = "native", .main = "fail.sh" };
    run(g, &c, "x", 1, &res);
    ck_assert_int_eq(res.o.kind, ENG_FAILED_BEFORE);
    ck_assert_int_eq(res.o.status, 500);
    ck_assert(!res.started);
    ck_assert_msg(strstr(res.reason, "the input is bad") != NULL, "%s", res.reason);
    evbuffer_free(res.out);

    c.name = c.main = "usage.sh";
    c.etag = e2;
    run(g, &c, "x", 1, &res);
    ck_assert_int_eq(res.o.kind, ENG_FAILED_BEFORE);
    ck_assert_int_eq(res.o.status, 400);
    ck_assert_str_eq(res.reason, "no such parameter: x");
    evbuffer_free(res.out);

    /* the smallest valid storlet: closes fd 3, copies */
    c.name = c.main = "cat.sh";
    c.etag = e3;
    run(g, &c, "abc", 3, &res);
    ck_assert_msg(res.o.kind == ENG_OK, "%s", res.reason);
    ck_assert_uint_eq(evbuffer_get_length(res.out), 3);
    evbuffer_free(res.out);

    /* a fill whose bytes do not hash to the ETag is refused */
    struct err e;
    err_clear(&e);
    struct eng_fill *f = eng_cache_begin(g, "AUTH_t", "x", e1, &e);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(eng_cache_write(f, "other", 5), 0);
    ck_assert_int_eq(eng_cache_commit(f, &e), -EBADMSG);
    ck_assert(!eng_cache_has(g, "AUTH_t", "x", e1));
    /* a code dir needs every file cached */
    struct eng_code missing = { .account = "AUTH_t", .name = "nothere", .etag = e1,
                                .language = "native", .main = "nothere" };
    char dir[4096];
    ck_assert_int_eq(eng_code_dir(g, &missing, dir, sizeof(dir), &e), -ENOENT);
    eng_free(g);
    nftw(cache_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}
END_TEST

/* Number of "cairn-eng.*" entries in dir. */
static int eng_dirs_in(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        n += strncmp(de->d_name, "cairn-eng.", 10) == 0;
    closedir(d);
    return n;
}

/* The launcher's socket directory follows TMPDIR, so that a daemon a test
 * kills leaves nothing in /tmp; a TMPDIR a socket path cannot hold, or a
 * relative one, falls back to /tmp instead of failing the start. */
START_TEST(launcher_socket_under_tmpdir)
{
    char tmp[] = "/tmp/check_eng_tmpdir.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    setenv("TMPDIR", tmp, 1);
    struct eng *g = engine();
    ck_assert_int_eq(eng_dirs_in(tmp), 1);
    eng_free(g);
    ck_assert_int_eq(eng_dirs_in(tmp), 0);
    nftw(cache_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    str_copy(cache_dir, "/tmp/check_eng.XXXXXX", sizeof(cache_dir));

    char deep[200];
    int w = snprintf(deep, sizeof(deep), "%s/%0120d", tmp, 0);
    ck_assert(w > 0 && (size_t)w < sizeof(deep));
    ck_assert_int_eq(mkdir(deep, 0700), 0);
    setenv("TMPDIR", deep, 1);
    g = engine();   /* asserts the start */
    ck_assert_int_eq(eng_dirs_in(deep), 0);
    eng_free(g);
    nftw(cache_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    str_copy(cache_dir, "/tmp/check_eng.XXXXXX", sizeof(cache_dir));

    setenv("TMPDIR", "relative", 1);
    g = engine();
    eng_free(g);
    nftw(cache_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST

/* The output metadata a storlet may send (docs/storlets.md 3.5): what
 * becomes headers must be within Swift's limits and header-safe. */
START_TEST(output_metadata_limits)
{
    static const struct {
        const char *json;
        bool ok;
    } cases[] = {
        { "{}", true },
        { "{\"Md5\": \"abc\", \"Note\": \"caf\u00e9\"}", true },
        { "{\"a:b\": \"x\"}", false },           /* ':' in a key */
        { "{\"a b\": \"x\"}", false },           /* space */
        { "{\"caf\u00e9\": \"x\"}", false },     /* not ASCII */
        { "{\"\": \"x\"}", false },
        { "{\"k\": \"a\\tb\"}", false },        /* a control character */
        { "{\"k\": \"a\\u007fb\"}", false },
        { "{\"k\": 1}", false },
    };
    char why[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *m = json_loads(cases[i].json, 0, NULL);
        ck_assert_msg(m, "case %zu parses", i);
        ck_assert_msg(eng_frame_meta_ok(m, NULL, why, sizeof(why)) == cases[i].ok,
                      "case %zu: %s", i, cases[i].json);
        json_decref(m);
    }
    /* sizes: a 128-byte key and a 256-byte value pass, one more fails */
    char k[130], v[258];
    memset(k, 'k', 129);
    memset(v, 'v', 257);
    k[129] = v[257] = '\0';
    json_t *m = json_object();
    json_object_set_new(m, k + 1, json_string(v + 1));
    ck_assert(eng_frame_meta_ok(m, NULL, why, sizeof(why)));
    json_object_set_new(m, k, json_string("x"));
    ck_assert(!eng_frame_meta_ok(m, NULL, why, sizeof(why)));
    json_decref(m);
    m = json_object();
    json_object_set_new(m, "k", json_string(v));
    ck_assert(!eng_frame_meta_ok(m, NULL, why, sizeof(why)));
    json_decref(m);
    /* 90 keys pass, 91 fail; 4096 bytes pass, 4097 fail */
    m = json_object();
    char name[16];
    for (int i = 0; i < 90; i++) {
        snprintf(name, sizeof(name), "K%02d", i);
        json_object_set_new(m, name, json_string("v"));
    }
    ck_assert(eng_frame_meta_ok(m, NULL, why, sizeof(why)));
    json_object_set_new(m, "K90", json_string("v"));
    ck_assert(!eng_frame_meta_ok(m, NULL, why, sizeof(why)));
    ck_assert_msg(strstr(why, "91 keys") != NULL, "%s", why);
    json_decref(m);
    m = json_object();
    memset(v, 'v', 256);
    v[256] = '\0';
    for (int i = 0; i < 16; i++) {          /* 16 * (3 + 253) = 4096 */
        snprintf(name, sizeof(name), "K%02d", i);
        json_object_set_new(m, name, json_string(v + 3));
    }
    ck_assert(eng_frame_meta_ok(m, NULL, why, sizeof(why)));
    json_object_set_new(m, "K", json_string(""));
    ck_assert(!eng_frame_meta_ok(m, NULL, why, sizeof(why)));
    json_decref(m);
    /* the content type: a string, short, no control characters */
    m = json_object();
    json_t *ct = json_string("text/plain; charset=utf-8");
    ck_assert(eng_frame_meta_ok(m, ct, why, sizeof(why)));
    json_decref(ct);
    ct = json_string("text/plain\r\nX-Injected: 1");
    ck_assert(!eng_frame_meta_ok(m, ct, why, sizeof(why)));
    json_decref(ct);
    memset(v, 't', 257);
    v[257] = '\0';
    ct = json_string(v);                  /* 257 bytes */
    ck_assert(!eng_frame_meta_ok(m, ct, why, sizeof(why)));
    json_decref(ct);
    ct = json_integer(3);
    ck_assert(!eng_frame_meta_ok(m, ct, why, sizeof(why)));
    json_decref(ct);
    json_decref(m);
}
END_TEST

int main(void)
{
    /* as the daemons do (eng.h): a storlet that exits without reading,
     * before its input is written (fail.sh under load), is an EPIPE for
     * eng_run_write, not a SIGPIPE that kills the test */
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("eng");
    TCase *tc = tcase_create("extension");
    tcase_add_test(tc, where_it_runs);
    tcase_add_test(tc, what_is_refused);
    tcase_add_test(tc, storlet_range_forms);
    tcase_add_test(tc, parameters_from_headers_and_query);
    tcase_add_test(tc, deployment_checks);
    tcase_add_test(tc, wall_budget);
    tcase_add_test(tc, output_metadata_limits);
    suite_add_tcase(s, tc);
    TCase *tx = tcase_create("execution");
    tcase_set_timeout(tx, 60);
    tcase_add_test(tx, identity_byte_for_byte);
    tcase_add_test(tx, fixity_metadata);
    tcase_add_test(tx, failures_before_output);
    tcase_add_test(tx, launcher_socket_under_tmpdir);
    suite_add_tcase(s, tx);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

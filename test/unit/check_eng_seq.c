/*
 * check_eng_seq.c - unit tests for Sequence storlets (engine/eng_seq.h):
 * X-Run-Storlet lists and stage-scoped parameters (table of good and bad
 * heads with the reason each must give), the JSON form and its round trip,
 * the placement planner's splits, the placement facts of a storlet's head,
 * provenance names and the stage sets of X-Backend-Storlet-Log.
 */
#include <check.h>
#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_parser.h"
#include "common/xalloc.h"
#include "engine/eng_seq.h"

struct req {
    struct http_parser p;
    struct http_head h;
};

static struct req *parse(const char *headers)
{
    struct req *r = xcalloc(1, sizeof(*r));
    http_parser_init(&r->p, HTTP_PARSE_REQUEST, NULL);
    http_head_init(&r->h);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "GET /v1/a/c/o HTTP/1.1\r\n%s\r\n", headers);
    ck_assert_int_eq(http_parser_head(&r->p, b, &r->h), HTTP_OK);
    evbuffer_free(b);
    return r;
}

static void req_free(struct req *r)
{
    http_head_release(&r->h);
    free(r);
}

/* Parses headers into s; returns the rc, e gets the reason. */
static int from_head(const char *headers, const char *query, struct eng_seq *s, struct err *e)
{
    struct req *r = parse(headers);
    eng_seq_init(s);
    err_clear(e);
    int rc = eng_seq_from_head(&r->h, query, s, e);
    req_free(r);
    return rc;
}

static const char *param(const struct eng_seq *s, unsigned i, const char *k)
{
    return json_string_value(json_object_get(s->st[i].params, k));
}

START_TEST(header_lists)
{
    struct eng_seq s;
    struct err e;
    ck_assert_int_eq(from_head("", NULL, &s, &e), 1);
    ck_assert_uint_eq(s.n, 0);

    ck_assert_int_eq(from_head("X-Run-Storlet: fixity\r\n", NULL, &s, &e), 0);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.st[0].storlet, "fixity");
    ck_assert_uint_eq(json_object_size(s.st[0].params), 0);
    eng_seq_release(&s);

    ck_assert_int_eq(from_head("X-Run-Storlet: deid.py , grep,  wordcount.py\r\n", NULL, &s, &e),
                     0);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_str_eq(s.st[0].storlet, "deid.py");
    ck_assert_str_eq(s.st[1].storlet, "grep");
    ck_assert_str_eq(s.st[2].storlet, "wordcount.py");
    eng_seq_release(&s);
    ck_assert_uint_eq(s.n, 0);

    /* eight stages are allowed, nine are not */
    ck_assert_int_eq(from_head("X-Run-Storlet: a,b,c,d,e,f,g,h\r\n", NULL, &s, &e), 0);
    ck_assert_uint_eq(s.n, ENG_SEQ_CLIENT_MAX);
    eng_seq_release(&s);
}
END_TEST

static const struct {
    const char *headers;
    const char *query;
    const char *reason;   /* a substring the 400 reason must hold */
} bad_heads[] = {
    {"X-Run-Storlet: a,,b\r\n", NULL, "stage 2 is empty"},
    {"X-Run-Storlet: a,b,\r\n", NULL, "stage 3 is empty"},
    {"X-Run-Storlet: ,a\r\n", NULL, "stage 1 is empty"},
    {"X-Run-Storlet:  \r\n", NULL, "stage 1 is empty"},
    {"X-Run-Storlet: a,b,c,d,e,f,g,h,i\r\n", NULL, "more than 8 stages"},
    {"X-Run-Storlet: a,c/o\r\n", NULL, "stage 2: storlet name"},
    {"X-Run-Storlet: ..\r\n", NULL, "stage 1: storlet name"},
    {"X-Run-Storlet: a\r\nX-Storlet-Stage-2-Parameter-1: k:v\r\n", NULL,
     "the sequence has 1 stage"},
    {"X-Run-Storlet: a,b\r\nX-Storlet-Stage-0-Parameter-1: k:v\r\n", NULL,
     "expected X-Storlet-Stage-<k>-Parameter-<N>"},
    {"X-Run-Storlet: a,b\r\nX-Storlet-Stage-x-Parameter-1: k:v\r\n", NULL,
     "expected X-Storlet-Stage-<k>-Parameter-<N>"},
    {"X-Run-Storlet: a,b\r\nX-Storlet-Stage-1-Param-1: k:v\r\n", NULL,
     "expected X-Storlet-Stage-<k>-Parameter-<N>"},
    {"X-Run-Storlet: a,b\r\nX-Storlet-Stage-1-Parameter-1: nocolon\r\n", NULL,
     "expected key:value"},
    {"X-Run-Storlet: a,b\r\nX-Storlet-Stage-1-Parameter-1: k:v\r\n"
     "X-Storlet-Stage-1-Parameter-2: K:w\r\n", NULL, "'k' given twice for stage 1"},
    {"X-Run-Storlet: a,b\r\nX-Storlet-Stage-2-Parameter-1: storlet_x:v\r\n", NULL,
     "reserved"},
    {"X-Run-Storlet: a,b\r\nX-Storlet-Stage-2-Parameter-1: a b:v\r\n", NULL,
     "[A-Za-z0-9_.-]"},
    {"X-Run-Storlet: a\r\nX-Storlet-Parameter-1: k:v\r\n", "k=w", "given twice"},
};

START_TEST(header_errors)
{
    struct eng_seq s;
    struct err e;
    int rc = from_head(bad_heads[_i].headers, bad_heads[_i].query, &s, &e);
    ck_assert_msg(rc == -EINVAL, "case %d: rc %d", _i, rc);
    ck_assert_msg(strstr(e.msg, bad_heads[_i].reason), "case %d: reason '%s' lacks '%s'", _i,
                  e.msg, bad_heads[_i].reason);
    ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(stage_parameters)
{
    struct eng_seq s;
    struct err e;
    ck_assert_int_eq(from_head("X-Run-Storlet: deid.py,grep,wordcount.py\r\n"
                               "X-Storlet-Parameter-1: format:csv\r\n"
                               "X-Storlet-Stage-2-Parameter-1: pattern:a%2Cb\r\n"
                               "X-Storlet-Stage-2-Parameter-2: Format:lines\r\n"
                               "x-storlet-stage-3-parameter-x: mode:fast\r\n",
                               "level=2", &s, &e),
                     0);
    ck_assert_uint_eq(s.n, 3);
    /* request-wide parameters reach every stage */
    ck_assert_str_eq(param(&s, 0, "format"), "csv");
    ck_assert_str_eq(param(&s, 0, "level"), "2");
    ck_assert_uint_eq(json_object_size(s.st[0].params), 2);
    /* a stage's own value overrides; values are URL-unquoted, keys lower-cased */
    ck_assert_str_eq(param(&s, 1, "format"), "lines");
    ck_assert_str_eq(param(&s, 1, "pattern"), "a,b");
    ck_assert_str_eq(param(&s, 1, "level"), "2");
    ck_assert_str_eq(param(&s, 2, "mode"), "fast");
    ck_assert_ptr_null(param(&s, 0, "mode"));
    ck_assert_ptr_null(param(&s, 0, "pattern"));
    eng_seq_release(&s);
}
END_TEST

START_TEST(json_form)
{
    struct eng_seq s, back;
    struct err e;
    json_error_t je;
    json_t *j = json_loads("[{\"storlet\": \"deid.py\", \"parameters\": {\"fields\": \"ssn\"}},"
                           " {\"storlet\": \"wordcount.py\"}]", 0, &je);
    eng_seq_init(&s);
    ck_assert_int_eq(eng_seq_from_json(j, ENG_SEQ_CLIENT_MAX, "action", &s, &e), 0);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(param(&s, 0, "fields"), "ssn");
    ck_assert_uint_eq(json_object_size(s.st[1].params), 0);
    json_t *out = eng_seq_to_json(&s);
    eng_seq_init(&back);
    ck_assert_int_eq(eng_seq_from_json(out, ENG_SEQ_MAX, "chain", &back, &e), 0);
    ck_assert_uint_eq(back.n, 2);
    ck_assert_str_eq(back.st[1].storlet, "wordcount.py");
    ck_assert(json_equal(back.st[0].params, s.st[0].params));
    json_decref(out);
    json_decref(j);
    eng_seq_release(&back);
    eng_seq_release(&s);

    /* a single object is a one-stage chain */
    j = json_loads("{\"storlet\": \"fixity\", \"parameters\": {\"algorithms\": \"md5\"}}", 0, &je);
    eng_seq_init(&s);
    ck_assert_int_eq(eng_seq_from_json(j, 1, "split", &s, &e), 0);
    ck_assert_uint_eq(s.n, 1);
    json_decref(j);
    eng_seq_release(&s);
}
END_TEST

static const struct {
    const char *json;
    unsigned max;
    const char *reason;
} bad_json[] = {
    {"[]", 8, "x: the sequence is empty"},
    {"\"fixity\"", 8, "stage 1: expected an object"},
    {"[{\"storlet\": \"a\"}, 3]", 8, "stage 2: expected an object"},
    {"{\"name\": \"a\"}", 8, "unknown key \"name\""},
    {"{\"storlet\": 5}", 8, "\"storlet\" must be a string"},
    {"{\"storlet\": \"a/b\"}", 8, "storlet name"},
    {"{\"storlet\": \"a\", \"parameters\": []}", 8, "\"parameters\" must be an object"},
    {"{\"storlet\": \"a\", \"parameters\": {\"k\": 1}}", 8, "parameter 'k' is not a string"},
    {"{\"storlet\": \"a\", \"parameters\": {\"storlet_k\": \"v\"}}", 8, "reserved"},
    {"[{\"storlet\": \"a\"}, {\"storlet\": \"b\"}]", 1, "more than 1 stages"},
};

START_TEST(json_errors)
{
    struct eng_seq s;
    struct err e;
    json_error_t je;
    json_t *j = json_loads(bad_json[_i].json, JSON_DECODE_ANY, &je);
    ck_assert_ptr_nonnull(j);
    eng_seq_init(&s);
    err_clear(&e);
    ck_assert_int_eq(eng_seq_from_json(j, bad_json[_i].max, "x", &s, &e), -EINVAL);
    ck_assert_msg(strstr(e.msg, bad_json[_i].reason), "case %d: '%s' lacks '%s'", _i, e.msg,
                  bad_json[_i].reason);
    ck_assert_uint_eq(s.n, 0);
    json_decref(j);
}
END_TEST

START_TEST(append_and_extend_limits)
{
    struct eng_seq a, b;
    struct err e;
    eng_seq_init(&a);
    eng_seq_init(&b);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(eng_seq_append(&a, "s", NULL, ENG_SEQ_MAX, &e), 0);
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(eng_seq_append(&b, "t", NULL, ENG_SEQ_MAX, &e), 0);
    ck_assert_int_eq(eng_seq_extend(&a, &b, ENG_SEQ_MAX, &e), -E2BIG);
    ck_assert_uint_eq(a.n, 10);   /* all or none */
    ck_assert_int_eq(eng_seq_append(&b, "a,b", NULL, ENG_SEQ_MAX, &e), -EINVAL);
    ck_assert_int_eq(eng_seq_append(&b, " a", NULL, ENG_SEQ_MAX, &e), -EINVAL);
    ck_assert_int_eq(eng_seq_append(&b, "a\x01", NULL, ENG_SEQ_MAX, &e), -EINVAL);
    ck_assert_int_eq(eng_seq_append(&b, "\xff", NULL, ENG_SEQ_MAX, &e), -EINVAL);
    ck_assert_int_eq(eng_seq_extend(&b, &b, ENG_SEQ_MAX, &e), 0);   /* 7 + 7 */
    ck_assert_uint_eq(b.n, 14);
    ck_assert(eng_seq_name_ok("p1 scan (copy).py"));
    eng_seq_release(&a);
    eng_seq_release(&b);
}
END_TEST

/* ------------------------------------------------------------ planner */

#define A {ENG_SEQ_RUN_ANY, false}
#define O {ENG_SEQ_RUN_OBJECT, false}
#define P {ENG_SEQ_RUN_PROXY, false}
#define S {ENG_SEQ_RUN_ANY, true}

static const struct {
    unsigned n;
    struct eng_seq_props props[4];
    enum eng_seq_input input;
    int rc;
    unsigned split;
    const char *reason;
} plans[] = {
    /* everything can run next to the data: the whole chain does */
    {3, {A, A, O}, ENG_SEQ_FROM_OBJECT, 0, 3, NULL},
    {1, {A}, ENG_SEQ_FROM_OBJECT, 0, 1, NULL},
    /* a proxy-only stage ends the object-node prefix */
    {3, {A, P, A}, ENG_SEQ_FROM_OBJECT, 0, 1, NULL},
    {3, {P, A, A}, ENG_SEQ_FROM_OBJECT, 0, 0, NULL},
    {3, {O, A, S}, ENG_SEQ_FROM_OBJECT, 0, 2, NULL},
    /* input on the proxy: nothing goes back to an object node */
    {3, {A, A, A}, ENG_SEQ_FROM_PROXY, 0, 0, NULL},
    /* an object-only stage after the split cannot be honoured */
    {3, {A, P, O}, ENG_SEQ_FROM_OBJECT, -EINVAL, 0,
     "stage 3 (s3) must run on the object node, but an earlier stage runs on the proxy"},
    {2, {O, A}, ENG_SEQ_FROM_PROXY, -EINVAL, 0, "stage 1 (s1) must run on the object node, "
     "but this request's input is on the proxy"},
    {0, {A}, ENG_SEQ_FROM_OBJECT, 0, 0, NULL},
};

START_TEST(planner)
{
    struct eng_seq s;
    struct err e;
    eng_seq_init(&s);
    for (unsigned i = 0; i < plans[_i].n; i++) {
        char name[16];
        snprintf(name, sizeof(name), "s%u", i + 1);
        ck_assert_int_eq(eng_seq_append(&s, name, NULL, ENG_SEQ_MAX, &e), 0);
    }
    struct eng_seq_plan p;
    err_clear(&e);
    int rc = eng_seq_plan(&s, plans[_i].props, plans[_i].input, &p, &e);
    ck_assert_msg(rc == plans[_i].rc, "case %d: rc %d", _i, rc);
    if (rc == 0) {
        ck_assert_uint_eq(p.n, plans[_i].n);
        ck_assert_msg(p.split == plans[_i].split, "case %d: split %u", _i, p.split);
    } else {
        ck_assert_str_eq(e.msg, plans[_i].reason);
    }
    eng_seq_release(&s);
}
END_TEST

START_TEST(run_on_and_describe)
{
    enum eng_seq_run_on r;
    ck_assert_int_eq(eng_seq_run_on_parse(NULL, &r), 0);
    ck_assert_int_eq(r, ENG_SEQ_RUN_ANY);
    ck_assert_int_eq(eng_seq_run_on_parse("Object", &r), 0);
    ck_assert_int_eq(r, ENG_SEQ_RUN_OBJECT);
    ck_assert_int_eq(eng_seq_run_on_parse("PROXY", &r), 0);
    ck_assert_int_eq(r, ENG_SEQ_RUN_PROXY);
    ck_assert_int_eq(eng_seq_run_on_parse("anywhere", &r), -EINVAL);
    struct eng_seq_plan p = {3, 2};
    char buf[64];
    eng_seq_plan_describe(&p, buf, sizeof(buf));
    ck_assert_str_eq(buf, "object=2, proxy=1");
}
END_TEST

START_TEST(props_from_head)
{
    static const struct {
        const char *headers;
        int rc;
        enum eng_seq_run_on run_on;
        bool services;
        const char *reason;
    } cases[] = {
        {"", 0, ENG_SEQ_RUN_ANY, false, NULL},
        {"X-Object-Meta-Storlet-Run-On: Proxy\r\n", 0, ENG_SEQ_RUN_PROXY, false, NULL},
        {"X-Object-Meta-Storlet-Run-On: object\r\n"
         "X-Object-Meta-Storlet-Services: no\r\n", 0, ENG_SEQ_RUN_OBJECT, false, NULL},
        {"X-Object-Meta-Storlet-Services: YES\r\n", 0, ENG_SEQ_RUN_ANY, true, NULL},
        {"X-Object-Meta-Storlet-Run-On: anywhere\r\n", -EINVAL, 0, false,
         "X-Object-Meta-Storlet-Run-On: any, object or proxy"},
        {"X-Object-Meta-Storlet-Services: maybe\r\n", -EINVAL, 0, false,
         "X-Object-Meta-Storlet-Services: yes or no"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct req *r = parse(cases[i].headers);
        struct eng_seq_props p;
        struct err e;
        err_clear(&e);
        int rc = eng_seq_props_from_head(&r->h, &p, &e);
        req_free(r);
        ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d", i, rc);
        if (rc == 0) {
            ck_assert_int_eq(p.run_on, cases[i].run_on);
            ck_assert_int_eq(p.services, cases[i].services);
        } else {
            ck_assert_str_eq(e.msg, cases[i].reason);
        }
    }
}
END_TEST

START_TEST(provenance_values)
{
    char e1[] = "e1", e3[] = "e3";
    char *et[] = {e1, NULL, e3};
    char *v = eng_seq_etags_join(et, 3);
    ck_assert_str_eq(v, "e1,,e3");
    free(v);
    v = eng_seq_etags_join(et, 0);
    ck_assert_str_eq(v, "");
    free(v);

    struct eng_seq s;
    struct err e;
    eng_seq_init(&s);
    json_t *p = json_pack("{s:s, s:s}", "mode", "mask", "fields", "name");
    ck_assert_int_eq(eng_seq_append(&s, "deid.py", p, ENG_SEQ_MAX, &e), 0);
    v = eng_seq_params_provenance(&s);
    ck_assert_str_eq(v, "{\"fields\":\"name\",\"mode\":\"mask\"}");
    free(v);
    char big[400];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_t *q = json_pack("{s:s}", "pattern", big);
    ck_assert_int_eq(eng_seq_append(&s, "grep", q, ENG_SEQ_MAX, &e), 0);
    v = eng_seq_params_provenance(&s);
    ck_assert_uint_eq(strlen(v), ENG_SEQ_PROV_MAX);
    const char *head = "[{\"fields\":\"name\",\"mode\":\"mask\"},{\"pattern\":\"xx";
    ck_assert(strncmp(v, head, strlen(head)) == 0);
    free(v);
    json_decref(p);
    json_decref(q);
    eng_seq_release(&s);
}
END_TEST

START_TEST(names_and_stage_sets)
{
    struct eng_seq s;
    struct err e;
    eng_seq_init(&s);
    char *n = eng_seq_names(&s);
    ck_assert_str_eq(n, "");
    free(n);
    ck_assert_int_eq(eng_seq_append(&s, "deid.py", NULL, ENG_SEQ_MAX, &e), 0);
    ck_assert_int_eq(eng_seq_append(&s, "grep", NULL, ENG_SEQ_MAX, &e), 0);
    ck_assert_int_eq(eng_seq_append(&s, "wordcount.py", NULL, ENG_SEQ_MAX, &e), 0);
    n = eng_seq_names(&s);
    ck_assert_str_eq(n, "deid.py,grep,wordcount.py");
    free(n);
    eng_seq_release(&s);

    uint32_t m = 0;
    ck_assert_int_eq(eng_seq_stage_set_parse("1,3", 3, &m), 0);
    ck_assert_uint_eq(m, 5);
    ck_assert_int_eq(eng_seq_stage_set_parse("2", 2, &m), 0);
    ck_assert_uint_eq(m, 2);
    static const char *const bad[] = {"", "0", "4", "1,", ",1", "1,,2", "a", "1 ,2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(eng_seq_stage_set_parse(bad[i], 3, &m) == -EINVAL, "'%s'", bad[i]);

    char buf[64];
    /* stages 0..4 with bits 0, 2, 3: the prefix [0, 3) numbers from 1 */
    ck_assert_uint_eq(eng_seq_stage_set_format(0xd, 0, 3, buf, sizeof(buf)), 2);
    ck_assert_str_eq(buf, "1,3");
    ck_assert_uint_eq(eng_seq_stage_set_format(0xd, 2, 5, buf, sizeof(buf)), 2);
    ck_assert_str_eq(buf, "1,2");
    ck_assert_uint_eq(eng_seq_stage_set_format(0x2, 2, 5, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "");
    /* a short buffer is cut, never overrun */
    ck_assert_uint_eq(eng_seq_stage_set_format(0xff, 0, 8, buf, 4), 8);
    ck_assert_str_eq(buf, "1,2");
    ck_assert_int_eq(eng_seq_stage_set_parse("1,3", 3, &m), 0);
    ck_assert_uint_eq(eng_seq_stage_set_format(m, 0, 3, buf, sizeof(buf)), 2);
    ck_assert_str_eq(buf, "1,3");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eng_seq");
    TCase *tc = tcase_create("headers");
    tcase_add_test(tc, header_lists);
    tcase_add_loop_test(tc, header_errors, 0, (int)(sizeof(bad_heads) / sizeof(bad_heads[0])));
    tcase_add_test(tc, stage_parameters);
    suite_add_tcase(s, tc);
    TCase *tj = tcase_create("json");
    tcase_add_test(tj, json_form);
    tcase_add_loop_test(tj, json_errors, 0, (int)(sizeof(bad_json) / sizeof(bad_json[0])));
    tcase_add_test(tj, append_and_extend_limits);
    suite_add_tcase(s, tj);
    TCase *tp = tcase_create("planner");
    tcase_add_loop_test(tp, planner, 0, (int)(sizeof(plans) / sizeof(plans[0])));
    tcase_add_test(tp, run_on_and_describe);
    tcase_add_test(tp, props_from_head);
    tcase_add_test(tp, names_and_stage_sets);
    tcase_add_test(tp, provenance_values);
    suite_add_tcase(s, tp);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

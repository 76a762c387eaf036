/*
 * check_eng_dist.c - unit tests for Distributed requests
 * (engine/eng_dist.h): good documents of both resource forms with their
 * defaults, a table of bad documents with the 400 reason each must give,
 * the fan-out check on a listing's count, and the merge input stream byte
 * for byte.
 */
#include <check.h>
#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "engine/eng_dist.h"

static struct eng_dist *parse(const char *doc, struct err *e)
{
    err_clear(e);
    return eng_dist_parse(doc, strlen(doc), e);
}

START_TEST(objects_form)
{
    struct err e;
    struct eng_dist *d = parse(
        "{\"resources\": {\"objects\": [\"scans/a.pgm\", \"scans/p1/b.pgm\", \"other/c\"]},"
        " \"split\": {\"storlet\": \"cellcount\", \"parameters\": {\"threshold\": \"128\"}},"
        " \"merge\": {\"storlet\": \"sumlist\"},"
        " \"result\": \"results/cells.json\", \"concurrency\": 4}", &e);
    ck_assert_msg(d != NULL, "%s", e.msg);
    ck_assert_uint_eq(d->nobjects, 3);
    ck_assert_str_eq(d->objects[1].container, "scans");
    ck_assert_str_eq(d->objects[1].object, "p1/b.pgm");
    ck_assert_str_eq(d->objects[2].container, "other");
    ck_assert_ptr_null(d->container);
    ck_assert_uint_eq(d->split.n, 1);
    ck_assert_str_eq(d->split.st[0].storlet, "cellcount");
    ck_assert_str_eq(json_string_value(json_object_get(d->split.st[0].params, "threshold")),
                     "128");
    ck_assert_str_eq(d->merge.st[0].storlet, "sumlist");
    ck_assert_str_eq(d->result.container, "results");
    ck_assert_str_eq(d->result.object, "cells.json");
    ck_assert_uint_eq(d->concurrency, 4);
    ck_assert_uint_eq(d->max_resources, ENG_DIST_RESOURCES_DEFAULT);
    eng_dist_free(d);
    eng_dist_free(NULL);
}
END_TEST

START_TEST(container_form)
{
    struct err e;
    struct eng_dist *d = parse(
        "{\"resources\": {\"container\": \"books\"},"
        " \"split\": [{\"storlet\": \"grep\", \"parameters\": {\"pattern\": \"x\"}},"
        "  {\"storlet\": \"wordcount.py\"}],"
        " \"merge\": {\"storlet\": \"wcmerge.py\"}, \"max_resources\": 100}", &e);
    ck_assert_msg(d != NULL, "%s", e.msg);
    ck_assert_uint_eq(d->nobjects, 0);
    ck_assert_str_eq(d->container, "books");
    ck_assert_str_eq(d->prefix, "");
    ck_assert_uint_eq(d->split.n, 2);
    ck_assert_ptr_null(d->result.container);
    ck_assert_uint_eq(d->concurrency, ENG_DIST_CONCURRENCY_DEFAULT);
    ck_assert_uint_eq(d->max_resources, 100);
    /* the fan-out bound on the listing's count: never a short answer */
    ck_assert_int_eq(eng_dist_check_count(d, 100, &e), 0);
    ck_assert_int_eq(eng_dist_check_count(d, 101, &e), -E2BIG);
    ck_assert_str_eq(e.msg, "the prefix '' of container 'books' names more than 100 objects; "
                            "raise max_resources or narrow the prefix");
    ck_assert_int_eq(eng_dist_check_count(d, 0, &e), -ENOENT);
    ck_assert_str_eq(e.msg, "the prefix '' of container 'books' names no object");
    eng_dist_free(d);

    d = parse("{\"resources\": {\"container\": \"scans\", \"prefix\": \"p1/\"},"
              " \"split\": {\"storlet\": \"cellcount\"}, \"merge\": {\"storlet\": \"sumlist\"}}",
              &e);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->prefix, "p1/");
    eng_dist_free(d);
}
END_TEST

#define SM "\"split\": {\"storlet\": \"s\"}, \"merge\": {\"storlet\": \"m\"}"

static const struct {
    const char *doc;
    const char *reason;
} bad[] = {
    {"", "not JSON"},
    {"[]", "expected an object with resources, split and merge"},
    {"{\"resources\": {\"container\": \"c\"}, " SM ", \"reslut\": \"c/o\"}",
     "unknown key \"reslut\""},
    {"{" SM "}", "resources: missing"},
    {"{\"resources\": [\"c/o\"], " SM "}", "resources: expected {\"objects\""},
    {"{\"resources\": {\"objects\": []}, " SM "}", "resources.objects: expected a non-empty list"},
    {"{\"resources\": {\"objects\": [\"c/o\"], \"container\": \"c\"}, " SM "}",
     "give either \"objects\" or \"container\""},
    {"{\"resources\": {\"prefix\": \"p\"}, " SM "}", "\"objects\" or \"container\" is required"},
    {"{\"resources\": {\"container\": \"c\", \"limit\": 3}, " SM "}",
     "resources: unknown key \"limit\""},
    {"{\"resources\": {\"objects\": [\"c/o\", 7]}, " SM "}",
     "resources.objects[1]: expected a string"},
    {"{\"resources\": {\"objects\": [\"nocontainer\"]}, " SM "}",
     "resources.objects[0]: 'nocontainer': expected container/object"},
    {"{\"resources\": {\"objects\": [\"/o\"]}, " SM "}", "expected container/object"},
    {"{\"resources\": {\"objects\": [\"c/\"]}, " SM "}", "expected container/object"},
    {"{\"resources\": {\"objects\": [\"c/o\", \"d/o\", \"c/o\"]}, " SM "}",
     "resources.objects[2]: the same object as resources.objects[0]"},
    {"{\"resources\": {\"container\": \"a/b\"}, " SM "}",
     "resources.container: 1-256 bytes without '/'"},
    {"{\"resources\": {\"container\": \"\"}, " SM "}", "resources.container"},
    {"{\"resources\": {\"container\": \"c\", \"prefix\": 1}, " SM "}",
     "resources.prefix: expected a string"},
    {"{\"resources\": {\"container\": \"c\"}, \"merge\": {\"storlet\": \"m\"}}",
     "split: missing"},
    {"{\"resources\": {\"container\": \"c\"}, \"split\": {\"storlet\": \"s\"}}",
     "merge: missing"},
    {"{\"resources\": {\"container\": \"c\"}, \"split\": {\"storlet\": \"a/b\"},"
     " \"merge\": {\"storlet\": \"m\"}}", "split: stage 1: storlet name"},
    {"{\"resources\": {\"container\": \"c\"}, \"split\": {\"storlet\": \"s\"},"
     " \"merge\": [{\"storlet\": \"a\"}, {\"storlet\": \"b\"}, {\"storlet\": \"c\"},"
     " {\"storlet\": \"d\"}, {\"storlet\": \"e\"}]}", "merge: more than 4 stages"},
    {"{\"resources\": {\"container\": \"c\"}, \"split\": {\"storlet\": \"s\","
     " \"parameters\": {\"storlet_x\": \"1\"}}, \"merge\": {\"storlet\": \"m\"}}", "reserved"},
    {"{\"resources\": {\"container\": \"c\"}, " SM ", \"result\": \"nope\"}",
     "result: 'nope': expected container/object"},
    {"{\"resources\": {\"container\": \"c\"}, " SM ", \"result\": 1}",
     "result: expected a string"},
    {"{\"resources\": {\"container\": \"c\"}, " SM ", \"concurrency\": 0}",
     "concurrency: expected an integer 1-64"},
    {"{\"resources\": {\"container\": \"c\"}, " SM ", \"concurrency\": 65}",
     "concurrency: expected an integer 1-64"},
    {"{\"resources\": {\"container\": \"c\"}, " SM ", \"max_resources\": 10001}",
     "max_resources: expected an integer 1-10000"},
    {"{\"resources\": {\"container\": \"c\"}, " SM ", \"max_resources\": \"5\"}",
     "max_resources: expected an integer"},
    {"{\"resources\": {\"objects\": [\"c/a\", \"c/b\", \"c/c\"]}, " SM ", \"max_resources\": 2}",
     "resources.objects: 3 objects, more than max_resources 2"},
};

START_TEST(bad_documents)
{
    struct err e;
    struct eng_dist *d = parse(bad[_i].doc, &e);
    ck_assert_msg(d == NULL, "case %d parsed", _i);
    ck_assert_int_eq(e.code, -EINVAL);
    ck_assert_msg(strstr(e.msg, bad[_i].reason), "case %d: '%s' lacks '%s'", _i, e.msg,
                  bad[_i].reason);
}
END_TEST

START_TEST(size_limits)
{
    struct err e;
    /* 1001 objects */
    size_t cap = 1001 * 16 + 256;
    char *doc = malloc(cap);
    size_t n = (size_t)snprintf(doc, cap, "{\"resources\": {\"objects\": [");
    for (int i = 0; i < 1001; i++)
        n += (size_t)snprintf(doc + n, cap - n, "%s\"c/o%d\"", i ? "," : "", i);
    n += (size_t)snprintf(doc + n, cap - n, "]}, " SM "}");
    ck_assert_ptr_null(eng_dist_parse(doc, n, &e));
    ck_assert_str_eq(e.msg, "resources.objects: more than 1000 objects");
    free(doc);
    ck_assert_ptr_null(eng_dist_parse("{}", ENG_DIST_BODY_MAX + 1, &e));
    ck_assert_str_eq(e.msg, "the request body is 65537 bytes, at most 65536");
}
END_TEST

START_TEST(merge_stream)
{
    struct evbuffer *b = evbuffer_new();
    json_t *meta = json_pack("{s:s}", "Cells", "3");
    ck_assert_int_eq(eng_dist_put_part(b, 2, "scans/a.pgm", meta, "application/json"), 0);
    ck_assert_int_eq(eng_dist_put_chunk(b, "{\"cells\":3}", 11), 0);
    ck_assert_int_eq(eng_dist_put_chunk(b, "\n", 1), 0);
    ck_assert_int_eq(eng_dist_put_part_end(b), 0);
    ck_assert_int_eq(eng_dist_put_part(b, 0, "scans/b.pgm", NULL, NULL), 0);
    ck_assert_int_eq(eng_dist_put_part_end(b), 0);
    ck_assert_int_eq(eng_dist_put_end(b, 2), 0);
    ck_assert_int_eq(eng_dist_put_chunk(b, "x", 0), -EINVAL);
    ck_assert_int_eq(eng_dist_put_chunk(b, "x", ENG_DIST_CHUNK_MAX + 1), -EINVAL);

    static const char h1[] = "{\"type\":\"part\",\"index\":2,\"path\":\"scans/a.pgm\","
                             "\"metadata\":{\"Cells\":\"3\"},\"content_type\":\"application/json\"}";
    static const char h2[] = "{\"type\":\"part\",\"index\":0,\"path\":\"scans/b.pgm\","
                             "\"metadata\":{},\"content_type\":null}";
    static const char end[] = "{\"type\":\"end\",\"parts\":2}";
    unsigned char want[512];
    size_t w = 0;
#define U32(v) do { want[w++] = 0; want[w++] = 0; want[w++] = (unsigned char)((v) >> 8); \
                    want[w++] = (unsigned char)(v); } while (0)
#define BYTES(s, n) do { memcpy(want + w, s, n); w += n; } while (0)
    U32(sizeof(h1) - 1);
    BYTES(h1, sizeof(h1) - 1);
    U32(11);
    BYTES("{\"cells\":3}", 11);
    U32(1);
    BYTES("\n", 1);
    U32(0);
    U32(sizeof(h2) - 1);
    BYTES(h2, sizeof(h2) - 1);
    U32(0);
    U32(sizeof(end) - 1);
    BYTES(end, sizeof(end) - 1);
    ck_assert_uint_eq(evbuffer_get_length(b), w);
    ck_assert(memcmp(evbuffer_pullup(b, -1), want, w) == 0);
    json_decref(meta);
    evbuffer_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eng_dist");
    TCase *tc = tcase_create("document");
    tcase_add_test(tc, objects_form);
    tcase_add_test(tc, container_form);
    tcase_add_loop_test(tc, bad_documents, 0, (int)(sizeof(bad) / sizeof(bad[0])));
    tcase_add_test(tc, size_limits);
    suite_add_tcase(s, tc);
    TCase *ts = tcase_create("stream");
    tcase_add_test(ts, merge_stream);
    suite_add_tcase(s, ts);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * check_range.c - unit tests for common/range.h and common/preconds.h.
 *
 * The expected answers in the tables were produced by Swift 2.30's swob
 * (Range.ranges_for_length, Response conditional_response) on the same
 * inputs, so these tables are the behaviour we promise to match.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/preconds.h"
#include "common/range.h"

#define W RANGE_WHOLE
#define P RANGE_PARTIAL
#define U RANGE_UNSATISFIABLE

static const struct range_case {
    const char *hdr;
    uint64_t len;
    enum range_outcome want;
    size_t n;
    struct range_byte r[8];
} range_cases[] = {
    {"bytes=0-0", 10, P, 1, {{0, 1}}},
    {"bytes=0-9", 10, P, 1, {{0, 10}}},
    {"bytes=0-99", 10, P, 1, {{0, 10}}},
    {"bytes=5-", 10, P, 1, {{5, 10}}},
    {"bytes=-3", 10, P, 1, {{7, 10}}},
    {"bytes=-30", 10, P, 1, {{0, 10}}},
    {"bytes=-0", 10, U, 0, {{0, 0}}},
    {"bytes=10-", 10, U, 0, {{0, 0}}},
    {"bytes=10-20", 10, U, 0, {{0, 0}}},
    {"bytes=9-", 10, P, 1, {{9, 10}}},
    {"BYTES=1-2", 10, P, 1, {{1, 3}}},
    {" bytes = 1 - 2 , 4 - 5", 10, P, 2, {{1, 3}, {4, 6}}},
    /* syntax errors: the header is ignored */
    {"bytes=5-3", 10, W, 0, {{0, 0}}},
    {"bytes=-", 10, W, 0, {{0, 0}}},
    {"bytes=45", 10, W, 0, {{0, 0}}},
    {"bytes=a-3", 10, W, 0, {{0, 0}}},
    {"bytes=1-b", 10, W, 0, {{0, 0}}},
    {"bytes=1-2,", 10, W, 0, {{0, 0}}},
    {"bytes=", 10, W, 0, {{0, 0}}},
    {"", 10, W, 0, {{0, 0}}},
    {NULL, 10, W, 0, {{0, 0}}},
    {"items=1-2", 10, W, 0, {{0, 0}}},
    {"bytes=1-2,5-3", 10, W, 0, {{0, 0}}},
    {"bytes=--0", 10, W, 0, {{0, 0}}},
    {"bytes=+1-2", 10, P, 1, {{1, 3}}},
    {"bytes=1-+2", 10, W, 0, {{0, 0}}},
    {"bytes=1--2", 10, W, 0, {{0, 0}}},
    /* empty object */
    {"bytes=0-", 0, U, 0, {{0, 0}}},
    {"bytes=-5", 0, W, 0, {{0, 0}}},
    {"bytes=0-0", 0, U, 0, {{0, 0}}},
    {"bytes=-0", 0, U, 0, {{0, 0}}},
    /* several ranges; unsatisfiable ones are dropped */
    {"bytes=0-1,3-4", 10, P, 2, {{0, 2}, {3, 5}}},
    {"bytes=0-1,20-30", 10, P, 1, {{0, 2}}},
    {"bytes=20-30,40-50", 10, U, 0, {{0, 0}}},
    /* overlaps: more than two overlapping pairs is refused */
    {"bytes=0-5,1-6,2-7", 10, U, 0, {{0, 0}}},
    {"bytes=0-5,1-6", 10, P, 2, {{0, 6}, {1, 7}}},
    {"bytes=0-5,5-9", 10, P, 2, {{0, 6}, {5, 10}}},
    {"bytes=0-4,5-9,0-9", 10, P, 3, {{0, 5}, {5, 10}, {0, 10}}},
    /* out of order: 7 is fine, 8 is refused */
    {"bytes=9-9,8-8,7-7,6-6,5-5,4-4,3-3", 10, P, 7,
     {{9, 10}, {8, 9}, {7, 8}, {6, 7}, {5, 6}, {4, 5}, {3, 4}}},
    {"bytes=9-9,8-8,7-7,6-6,5-5,4-4,3-3,2-2", 10, U, 0, {{0, 0}}},
    {"bytes=1-2,1-1,3-3,4-4,5-5,6-6,7-7,8-8", 10, U, 0, {{0, 0}}},
    {"bytes=1-1,1-2", 10, P, 2, {{1, 2}, {1, 3}}},
    /* numbers beyond 64 bits */
    {"bytes=99999999999999999999999-", 10, U, 0, {{0, 0}}},
    {"bytes=0-99999999999999999999999", 10, P, 1, {{0, 10}}},
    {"bytes=-99999999999999999999999", 10, P, 1, {{0, 10}}},
};

START_TEST(range_table)
{
    const struct range_case *c = &range_cases[_i];
    struct range_set set;
    enum range_outcome got = range_resolve(c->hdr, c->len, &set);
    ck_assert_msg(got == c->want, "'%s' len %llu: outcome %d, want %d",
                  c->hdr ? c->hdr : "(null)", (unsigned long long)c->len, got,
                  c->want);
    ck_assert_uint_eq(set.n, c->n);
    for (size_t i = 0; i < c->n; i++) {
        ck_assert_uint_eq(set.r[i].start, c->r[i].start);
        ck_assert_uint_eq(set.r[i].end, c->r[i].end);
    }
}
END_TEST

/* Builds "bytes=0-0,1-1,...,(n-1)-(n-1)" into a heap string. */
static char *many_ranges(unsigned n)
{
    size_t cap = 16 + (size_t)n * 16;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    size_t off = (size_t)snprintf(s, cap, "bytes=");
    for (unsigned i = 0; i < n; i++)
        off += (size_t)snprintf(s + off, cap - off, "%s%u-%u", i ? "," : "",
                                i, i);
    return s;
}

START_TEST(range_count_limit)
{
    struct range_set set;
    char *h50 = many_ranges(50);
    char *h51 = many_ranges(51);
    ck_assert_int_eq(range_resolve(h50, 100, &set), RANGE_PARTIAL);
    ck_assert_uint_eq(set.n, 50);
    ck_assert_int_eq(range_resolve(h51, 100, &set), RANGE_UNSATISFIABLE);
    /* only satisfiable ranges count: the 51st is past the end here */
    ck_assert_int_eq(range_resolve(h51, 50, &set), RANGE_PARTIAL);
    ck_assert_uint_eq(set.n, 50);
    /* a syntax error after many ranges still voids the whole header */
    size_t l = strlen(h51);
    char *bad = malloc(l + 8);
    ck_assert_ptr_nonnull(bad);
    memcpy(bad, h51, l);
    memcpy(bad + l, ",9-1", 5);
    ck_assert_int_eq(range_resolve(bad, 100, &set), RANGE_WHOLE);
    free(bad);
    free(h51);
    free(h50);
}
END_TEST

START_TEST(range_multipart_text_is_swifts)
{
    /* The exact body swob sends for bytes=0-1,3-4,-2 of "0123456789". */
    static const char want[] =
        "--0123456789abcdef0123456789abcdef\r\nContent-Type: text/plain\r\n"
        "Content-Range: bytes 0-1/10\r\n\r\n01\r\n"
        "--0123456789abcdef0123456789abcdef\r\nContent-Type: text/plain\r\n"
        "Content-Range: bytes 3-4/10\r\n\r\n34\r\n"
        "--0123456789abcdef0123456789abcdef\r\nContent-Type: text/plain\r\n"
        "Content-Range: bytes 8-9/10\r\n\r\n89\r\n"
        "--0123456789abcdef0123456789abcdef--";
    const char *obj = "0123456789";
    const char *b = "0123456789abcdef0123456789abcdef";
    struct range_set set;
    ck_assert_int_eq(range_resolve("bytes=0-1,3-4,-2", 10, &set), RANGE_PARTIAL);
    ck_assert_uint_eq(range_multipart_length(&set, b, "text/plain", 10), 327);
    ck_assert_uint_eq(sizeof(want) - 1, 327);

    char body[512];
    size_t off = 0;
    for (size_t i = 0; i < set.n; i++) {
        off += range_part_header(body + off, sizeof(body) - off, b,
                                 "text/plain", &set.r[i], 10);
        memcpy(body + off, obj + set.r[i].start, set.r[i].end - set.r[i].start);
        off += set.r[i].end - set.r[i].start;
        memcpy(body + off, RANGE_PART_TRAILER, 2);
        off += 2;
    }
    off += range_multipart_end(body + off, sizeof(body) - off, b);
    ck_assert_uint_eq(off, 327);
    ck_assert(memcmp(body, want, off) == 0);

    char buf[128];
    range_content_range(buf, sizeof(buf), &set.r[2], 10);
    ck_assert_str_eq(buf, "bytes 8-9/10");
    range_content_range_unsatisfied(buf, sizeof(buf), 10);
    ck_assert_str_eq(buf, "bytes */10");
    range_multipart_content_type(buf, sizeof(buf), b);
    ck_assert_str_eq(buf,
                     "multipart/byteranges;boundary=0123456789abcdef0123456789abcdef");
    /* sizing call */
    ck_assert_uint_eq(range_part_header(NULL, 0, b, "text/plain", &set.r[0], 10),
                      strlen("--") + 32 + strlen("\r\nContent-Type: text/plain\r\n"
                                                 "Content-Range: bytes 0-1/10\r\n\r\n"));
}
END_TEST

START_TEST(range_boundary_is_hex_and_varies)
{
    char a[RANGE_BOUNDARY_LEN + 1], b[RANGE_BOUNDARY_LEN + 1];
    range_boundary_new(a);
    range_boundary_new(b);
    ck_assert_uint_eq(strlen(a), RANGE_BOUNDARY_LEN);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), RANGE_BOUNDARY_LEN);
    ck_assert_str_ne(a, b);
}
END_TEST

/* ------------------------------------------------------------ preconds */

#define LM 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */
#define D "Sun, 06 Nov 1994 08:49:37 GMT"
#define DM1 "Sun, 06 Nov 1994 08:49:36 GMT"

static const struct precond_case {
    bool exists;
    const char *im, *inm, *ims, *ius; /* If-Match, -None-Match, -Modified-Since, -Unmodified-Since */
    int want;                         /* 0 = proceed */
} precond_cases[] = {
    {true, NULL, NULL, NULL, NULL, 0},
    {true, NULL, "abc", NULL, NULL, 304},
    {true, NULL, "\"abc\"", NULL, NULL, 304},
    {true, NULL, "x, \"abc\" ", NULL, NULL, 304},
    {true, NULL, "*", NULL, NULL, 304},
    {true, NULL, "xyz", NULL, NULL, 0},
    {true, NULL, "", NULL, NULL, 0},
    {true, "abc", NULL, NULL, NULL, 0},
    {true, "\"abc\"", NULL, NULL, NULL, 0},
    {true, "xyz", NULL, NULL, NULL, 412},
    {true, "*", NULL, NULL, NULL, 0},
    {true, "", NULL, NULL, NULL, 412},
    {true, "W/\"abc\"", NULL, NULL, NULL, 412},
    {true, "\"*\"", NULL, NULL, NULL, 0},
    {false, "*", NULL, NULL, NULL, 412},
    {false, "abc", NULL, NULL, NULL, 0},
    {false, NULL, "*", NULL, NULL, 0},
    {false, NULL, NULL, D, NULL, 0},
    /* order: If-None-Match before If-Match before the dates */
    {true, "xyz", "abc", NULL, NULL, 304},
    {true, "xyz", NULL, D, NULL, 412},
    {true, NULL, NULL, D, NULL, 304},
    {true, NULL, NULL, DM1, NULL, 0},
    {true, NULL, NULL, "garbage", NULL, 0},
    {true, NULL, NULL, NULL, D, 0},
    {true, NULL, NULL, NULL, DM1, 412},
    {true, NULL, NULL, NULL, "garbage", 0},
    {true, NULL, NULL, D, DM1, 304},
    {true, NULL, "xyz", D, NULL, 304},
    {true, "abc", NULL, NULL, DM1, 412},
    {true, NULL, NULL, "Sunday, 06-Nov-94 08:49:37 GMT", NULL, 304},
    {true, NULL, NULL, "Sun Nov  6 08:49:37 1994", NULL, 304},
    {true, NULL, NULL, "Sun, 31 Feb 1994 08:49:37 GMT", NULL, 0},
};

START_TEST(precond_table)
{
    const struct precond_case *c = &precond_cases[_i];
    struct preconds_req req = {c->im, c->inm, c->ims, c->ius};
    struct preconds_obj obj = {c->exists, c->exists ? "abc" : NULL, LM};
    ck_assert_msg(preconds_eval_read(&req, &obj) == c->want,
                  "case %d: got %d want %d", _i, preconds_eval_read(&req, &obj),
                  c->want);
}
END_TEST

START_TEST(precond_write_rules)
{
    struct preconds_obj there = {true, "abc", LM};
    struct preconds_obj absent = {false, NULL, 0};
    struct preconds_req star = {NULL, "*", NULL, NULL};
    struct preconds_req tag = {NULL, "\"abc\"", NULL, NULL};
    struct preconds_req other = {NULL, "xyz", NULL, NULL};
    struct preconds_req ifmatch = {"xyz", NULL, NULL, NULL};
    ck_assert_int_eq(preconds_eval_write(&star, &there), 412);
    ck_assert_int_eq(preconds_eval_write(&star, &absent), 0);
    ck_assert_int_eq(preconds_eval_write(&tag, &there), 412);
    ck_assert_int_eq(preconds_eval_write(&other, &there), 0);
    ck_assert_int_eq(preconds_eval_write(&ifmatch, &there), 0);
    ck_assert(preconds_list_has_star("*"));
    ck_assert(preconds_list_has_star(" \"*\" "));
    ck_assert(preconds_list_has_star("abc, *"));
    ck_assert(!preconds_list_has_star("abc"));
    ck_assert(!preconds_list_has_star(NULL));
    ck_assert(preconds_etag_in_list("a, b ,\"c\"", "c"));
    ck_assert(preconds_etag_in_list("a, b ,\"c\"", "\"b\""));
    ck_assert(!preconds_etag_in_list("a, b", "ab"));
    ck_assert(!preconds_etag_in_list(NULL, "a"));
}
END_TEST

static Suite *range_suite(void)
{
    Suite *s = suite_create("range");
    TCase *tc = tcase_create("range");
    tcase_add_loop_test(tc, range_table, 0, (int)(sizeof(range_cases) / sizeof(range_cases[0])));
    tcase_add_test(tc, range_count_limit);
    tcase_add_test(tc, range_multipart_text_is_swifts);
    tcase_add_test(tc, range_boundary_is_hex_and_varies);
    suite_add_tcase(s, tc);
    tc = tcase_create("preconds");
    tcase_add_loop_test(tc, precond_table, 0,
                        (int)(sizeof(precond_cases) / sizeof(precond_cases[0])));
    tcase_add_test(tc, precond_write_rules);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(range_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

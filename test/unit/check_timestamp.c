/*
 * check_timestamp.c - unit tests for common/timestamp. The vectors were
 * produced by Swift 2.30's swift.common.utils.Timestamp (normal, internal,
 * short, isoformat, ceil, from_isoformat) and by Python's
 * email.utils.parsedate as Swift's swob uses it, and are kept here as data.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timestamp.h"

struct vec {
    const char *in, *normal, *internal, *shrt, *iso;
    int64_t ceil;
};

static const struct vec vecs[] = {
    {"1700000000.12345", "1700000000.12345", "1700000000.12345",
     "1700000000.12345", "2023-11-14T22:13:20.123450", 1700000001},
    {"1700000000.123456", "1700000000.12346", "1700000000.12346",
     "1700000000.12346", "2023-11-14T22:13:20.123460", 1700000001},
    {"1700000000.123455", "1700000000.12346", "1700000000.12346",
     "1700000000.12346", "2023-11-14T22:13:20.123460", 1700000001},
    {"1700000000.123465", "1700000000.12347", "1700000000.12347",
     "1700000000.12347", "2023-11-14T22:13:20.123470", 1700000001},
    {"1111111111.111115", "1111111111.11111", "1111111111.11111",
     "1111111111.11111", "2005-03-18T01:58:31.111110", 1111111112},
    {"1402464677.000015", "1402464677.00002", "1402464677.00002",
     "1402464677.00002", "2014-06-11T05:31:17.000020", 1402464678},
    {"0", "0000000000.00000", "0000000000.00000", "0000000000.00000",
     "1970-01-01T00:00:00.000000", 0},
    {"1.5", "0000000001.50000", "0000000001.50000", "0000000001.50000",
     "1970-01-01T00:00:01.500000", 2},
    {"+5", "0000000005.00000", "0000000005.00000", "0000000005.00000",
     "1970-01-01T00:00:05.000000", 5},
    {"1e-5", "0000000000.00001", "0000000000.00001", "0000000000.00001",
     "1970-01-01T00:00:00.000010", 1},
    {"1.7e9", "1700000000.00000", "1700000000.00000", "1700000000.00000",
     "2023-11-14T22:13:20.000000", 1700000000},
    {"1700000000", "1700000000.00000", "1700000000.00000",
     "1700000000.00000", "2023-11-14T22:13:20.000000", 1700000000},
    {"1700000000.12345_000000000000000a", "1700000000.12345",
     "1700000000.12345_000000000000000a", "1700000000.12345_a",
     "2023-11-14T22:13:20.123450", 1700000001},
    {"1700000000.12345_a", "1700000000.12345",
     "1700000000.12345_000000000000000a", "1700000000.12345_a",
     "2023-11-14T22:13:20.123450", 1700000001},
    {"1700000000.12345_", "1700000000.12345", "1700000000.12345",
     "1700000000.12345", "2023-11-14T22:13:20.123450", 1700000001},
    {"9999999999.99999", "9999999999.99999", "9999999999.99999",
     "9999999999.99999", "2286-11-20T17:46:39.999990", 10000000000},
    {"9999999999.999996", "10000000000.00000", "10000000000.00000",
     "10000000000.00000", "2286-11-20T17:46:40.000000", 10000000000},
    {"1402464677.04188_ffffffffffffffff", "1402464677.04188",
     "1402464677.04188_ffffffffffffffff", "1402464677.04188_ffffffffffffffff",
     "2014-06-11T05:31:17.041880", 1402464678},
};

START_TEST(forms_match_swift)
{
    const struct vec *v = &vecs[_i];
    struct ts t;
    ck_assert_int_eq(ts_parse(v->in, &t), 0);
    char n[TS_NORMAL_LEN], in[TS_INTERNAL_LEN], sh[TS_INTERNAL_LEN],
        iso[TS_ISO_LEN];
    ts_normal(&t, n);
    ts_internal(&t, in);
    ts_short(&t, sh);
    ts_isoformat(&t, iso);
    ck_assert_str_eq(n, v->normal);
    ck_assert_str_eq(in, v->internal);
    ck_assert_str_eq(sh, v->shrt);
    ck_assert_str_eq(iso, v->iso);
    ck_assert_int_eq(ts_ceil_seconds(&t), v->ceil);
    /* Every output form parses back to the same timestamp (except at
     * 10^10 s, which Swift refuses to read back too). */
    struct ts back;
    if (t.units >= 10000000000LL * TS_UNITS_PER_SEC) {
        ck_assert_int_eq(ts_parse(in, &back), -ERANGE);
        return;
    }
    ck_assert_int_eq(ts_parse(in, &back), 0);
    ck_assert_int_eq(ts_cmp(&t, &back), 0);
    ck_assert_int_eq(ts_parse(sh, &back), 0);
    ck_assert_int_eq(ts_cmp(&t, &back), 0);
    ck_assert_int_eq(ts_parse_iso(iso, &back), 0);
    ck_assert_int_eq(back.units, t.units);
}
END_TEST

START_TEST(rejects_what_swift_rejects)
{
    static const char *const bad[] = {"abc", "", "1_g", "nan", "inf", "1__2",
                                      " 1", "1 ", "0x10", "1e", ".", "_1",
                                      "1.2.3", "1e5e5"};
    struct ts t;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(ts_parse(bad[i], &t) == -EINVAL, "%s", bad[i]);
    ck_assert_int_eq(ts_parse("-1", &t), -ERANGE);
    ck_assert_int_eq(ts_parse("10000000000", &t), -ERANGE);
    ck_assert_int_eq(ts_parse("1e400", &t), -ERANGE);
    ck_assert_int_eq(ts_parse("1_10000000000000000", &t), -ERANGE);
    /* found by fuzz_timestamp: negative zero is zero */
    ck_assert_int_eq(ts_parse("-0", &t), 0);
    ck_assert_int_eq(t.units, 0);
    char n0[TS_NORMAL_LEN];
    ts_normal(&t, n0);
    ck_assert_str_eq(n0, "0000000000.00000");
    ck_assert_int_eq(ts_parse_n("1700000000.5xyz", 12, &t), 0);
    ck_assert_int_eq(t.units, 170000000050000LL);
    ck_assert_int_eq(ts_from_double(0.0 / 0.0, 0, &t), -EINVAL);
    ck_assert_int_eq(ts_from_double(1e10, 0, &t), -ERANGE);
    ck_assert_int_eq(ts_from_double(1402464677.04188, 3, &t), 0);
    ck_assert_int_eq(t.offset, 3);
    ck_assert(ts_to_double(&t) == 1402464677.04188);
}
END_TEST

START_TEST(ordering_is_time_then_offset)
{
    static const char *const sorted[] = {
        "0000000000.00000",  "0000000000.00000_0000000000000001",
        "0000000001.00000",  "1402464677.04188",
        "1402464677.04188_0000000000000001",
        "1402464677.04188_00000000000000ff",
        "1402464677.04189",  "9999999999.99999",
    };
    size_t n = sizeof(sorted) / sizeof(sorted[0]);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            struct ts a, b;
            ck_assert_int_eq(ts_parse(sorted[i], &a), 0);
            ck_assert_int_eq(ts_parse(sorted[j], &b), 0);
            int c = ts_cmp(&a, &b);
            int want = i < j ? -1 : i > j ? 1 : 0;
            ck_assert_int_eq(c, want);
            /* the internal strings sort the same way */
            char ia[TS_INTERNAL_LEN], ib[TS_INTERNAL_LEN];
            ts_internal(&a, ia);
            ts_internal(&b, ib);
            int sc = strcmp(ia, ib);
            ck_assert_int_eq(sc < 0 ? -1 : sc > 0 ? 1 : 0, want);
        }
    }
}
END_TEST

START_TEST(now_is_the_wall_clock)
{
    time_t before = time(NULL);
    struct ts t = ts_now();
    time_t after = time(NULL);
    ck_assert_int_ge(t.units / TS_UNITS_PER_SEC, (int64_t)before);
    ck_assert_int_le(t.units / TS_UNITS_PER_SEC, (int64_t)after + 1);
    ck_assert_uint_eq(t.offset, 0);
}
END_TEST

START_TEST(iso_parsing)
{
    static const struct {
        const char *iso, *internal;
    } v[] = {
        {"2014-02-28T23:22:36.698390", "1393629756.69839"},
        {"1970-01-01T00:00:00.000000", "0000000000.00000"},
        {"2024-01-02T03:04:05.12345", "1704164645.12345"},
        {"2024-01-02T03:04:05.5", "1704164645.50000"},
        {"2000-02-29T12:00:00.000001", "0951825600.00000"},
        {"2024-01-02T03:04:05.000005", "1704164645.00001"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct ts t;
        ck_assert_int_eq(ts_parse_iso(v[i].iso, &t), 0);
        char buf[TS_INTERNAL_LEN];
        ts_internal(&t, buf);
        ck_assert_str_eq(buf, v[i].internal);
    }
    struct ts t;
    ck_assert_int_eq(ts_parse_iso("2023-02-29T00:00:00.0", &t), -EINVAL);
    ck_assert_int_eq(ts_parse_iso("2023-01-01T00:00:00", &t), -EINVAL);
    ck_assert_int_eq(ts_parse_iso("2023-01-01T00:00:00.1234567", &t),
                     -EINVAL);
    ck_assert_int_eq(ts_parse_iso("2023-01-01 00:00:00.1", &t), -EINVAL);
    ck_assert_int_eq(ts_parse_iso("1969-12-31T23:59:59.0", &t), -ERANGE);
}
END_TEST

START_TEST(http_dates)
{
    static const struct {
        int64_t secs;
        const char *s;
    } fmt[] = {
        {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
        {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
        {1700000001, "Tue, 14 Nov 2023 22:13:21 GMT"},
        {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
        {4102444800, "Fri, 01 Jan 2100 00:00:00 GMT"},
    };
    for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
        char buf[TS_HTTP_DATE_LEN];
        ts_http_date(fmt[i].secs, buf);
        ck_assert_str_eq(buf, fmt[i].s);
        int64_t back;
        ck_assert_int_eq(ts_parse_http_date(buf, &back), 0);
        ck_assert_int_eq(back, fmt[i].secs);
    }
    static const struct {
        const char *s;
        int64_t secs;
    } ok[] = {
        {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
        {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
        {"Sun Nov  6 08:49:37 1994", 784111777},
        {"06 Nov 1994 08:49:37 GMT", 784111777},
        {"Sun, 06 Nov 1994 08:49 GMT", 784111740},
        {"Sun, 06 Nov 1994 08:49:37 +0200", 784111777},
        {"sun, 06 nov 1994 08:49:37 gmt", 784111777},
        {"Wed, 29 Feb 2024 23:59:59 GMT", 1709251199},
        {"Mon, 06 Nov 68 08:49:37 GMT", 3119417377},
        {"Mon, 06 Nov 69 08:49:37 GMT", -4806623},
        {"Sun,06 Nov 1994 08:49:37 GMT", 784111777},
        {"06 November 1994 08:49:37 GMT", 784111777},
        {"Sun, 06 Nov 1994 08:49:37", 784111777},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t secs = 0;
        ck_assert_msg(ts_parse_http_date(ok[i].s, &secs) == 0, "%s",
                      ok[i].s);
        ck_assert_msg(secs == ok[i].secs, "%s: %lld", ok[i].s,
                      (long long)secs);
    }
    static const char *const bad[] = {
        "garbage", "", "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 29 Feb 2023 08:49:37 GMT", "Sun, 06 Nov 1994 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT x y z w v",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t secs;
        ck_assert_msg(ts_parse_http_date(bad[i], &secs) == -EINVAL, "%s",
                      bad[i]);
    }
}
END_TEST

static Suite *timestamp_suite(void)
{
    Suite *s = suite_create("timestamp");
    TCase *tc = tcase_create("swift");
    tcase_add_loop_test(tc, forms_match_swift, 0,
                        (int)(sizeof(vecs) / sizeof(vecs[0])));
    tcase_add_test(tc, rejects_what_swift_rejects);
    tcase_add_test(tc, ordering_is_time_then_offset);
    tcase_add_test(tc, now_is_the_wall_clock);
    suite_add_tcase(s, tc);
    tc = tcase_create("dates");
    tcase_add_test(tc, iso_parsing);
    tcase_add_test(tc, http_dates);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(timestamp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

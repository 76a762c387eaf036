/*
 * check_bench.c - unit tests of cairn-bench's histogram and argument syntax.
 *
 * The build links tool objects only into the tool itself, so this test
 * compiles the two tool sources it covers (hist.c, opts.c: self-contained,
 * no main) into itself. The engine and reports are covered end to end by
 * tools/bench/test_bench.py.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/util.h"
#include "tools/bench/hist.c"
#include "tools/bench/opts.c"

START_TEST(hist_index_is_contiguous_and_monotonic)
{
    /* Every bucket's low value maps back to it, and buckets tile the range. */
    for (unsigned i = 0; i + 1 < HIST_BUCKETS; i++) {
        uint64_t lo = hist_bucket_low(i);
        ck_assert_uint_eq(hist_index(lo), i);
        ck_assert_uint_eq(lo + hist_bucket_width(i), hist_bucket_low(i + 1));
        ck_assert_uint_eq(hist_index(lo + hist_bucket_width(i) - 1), i);
    }
    ck_assert_uint_eq(hist_index(UINT64_MAX), HIST_BUCKETS - 1);
    ck_assert_uint_eq(hist_index(0), 0);
    ck_assert_uint_eq(hist_index(127), 127);
}
END_TEST

START_TEST(hist_quantiles_within_relative_error)
{
    static struct hist h;
    hist_reset(&h);
    /* 1..100000 us in ns: quantile q is q*100000 us. */
    for (uint64_t v = 1; v <= 100000; v++)
        hist_record(&h, v * 1000);
    ck_assert_uint_eq(h.count, 100000);
    ck_assert_uint_eq(h.min, 1000);
    ck_assert_uint_eq(h.max, 100000000);
    double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (unsigned i = 0; i < 4; i++) {
        double want = qs[i] * 100000 * 1000;
        double got = (double)hist_quantile(&h, qs[i]);
        ck_assert_msg(fabs(got - want) / want <= 1.0 / HIST_HALF,
                      "q=%g got %g want %g", qs[i], got, want);
    }
    ck_assert_uint_eq(hist_quantile(&h, 1.0), 100000000);
    ck_assert_uint_eq(hist_quantile(&h, 0.0), 1000);
    ck_assert(fabs(hist_mean(&h) - 50000.5 * 1000) < 1);
}
END_TEST

START_TEST(hist_merge_adds_and_empty_is_zero)
{
    static struct hist a, b;
    hist_reset(&a);
    hist_reset(&b);
    ck_assert_uint_eq(hist_quantile(&a, 0.5), 0);
    ck_assert(hist_mean(&a) == 0);
    hist_record(&a, 5);
    hist_record(&b, 7000000);
    hist_merge(&a, &b);
    ck_assert_uint_eq(a.count, 2);
    ck_assert_uint_eq(a.min, 5);
    ck_assert_uint_eq(a.max, 7000000);
    ck_assert_uint_eq(hist_quantile(&a, 0.5), 5);
    ck_assert_uint_eq(hist_quantile(&a, 0.99), 7000000);
}
END_TEST

START_TEST(sizes_and_durations)
{
    uint64_t v;
    ck_assert_int_eq(opts_parse_size("4k", &v), 0);
    ck_assert_uint_eq(v, 4096);
    ck_assert_int_eq(opts_parse_size("64MiB", &v), 0);
    ck_assert_uint_eq(v, 64u << 20);
    ck_assert_int_eq(opts_parse_size("5G", &v), 0);
    ck_assert_uint_eq(v, 5ull << 30);
    ck_assert_int_eq(opts_parse_size("100", &v), 0);
    ck_assert_uint_eq(v, 100);
    ck_assert_int_eq(opts_parse_size("0", &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(opts_parse_size("4x", &v), -EINVAL);
    ck_assert_int_eq(opts_parse_size("k", &v), -EINVAL);
    ck_assert_int_eq(opts_parse_size("4kk", &v), -EINVAL);
    ck_assert_int_eq(opts_parse_size("99999999999t", &v), -ERANGE);
    ck_assert_int_eq(opts_parse_duration("30s", &v), 0);
    ck_assert_uint_eq(v, 30000000000ull);
    ck_assert_int_eq(opts_parse_duration("500ms", &v), 0);
    ck_assert_uint_eq(v, 500000000ull);
    ck_assert_int_eq(opts_parse_duration("1.5", &v), 0);
    ck_assert_uint_eq(v, 1500000000ull);
    ck_assert_int_eq(opts_parse_duration("2m", &v), 0);
    ck_assert_uint_eq(v, 120000000000ull);
    ck_assert_int_eq(opts_parse_duration("1h", &v), 0);
    ck_assert_int_eq(opts_parse_duration("3 s", &v), -EINVAL);
    ck_assert_int_eq(opts_parse_duration("s", &v), -EINVAL);
}
END_TEST

START_TEST(mix_and_size_lists)
{
    struct bench_opts o;
    struct err e;
    ck_assert_int_eq(opts_parse_mix(&o, "put=20,get=70,head=5,delete=5", &e), 0);
    ck_assert_uint_eq(o.mix[BENCH_PUT], 20);
    ck_assert_uint_eq(o.mix[BENCH_DELETE], 5);
    ck_assert_uint_eq(o.mix_total, 100);
    ck_assert_str_eq(o.mix_text, "put=20,get=70,head=5,delete=5");
    ck_assert_int_eq(opts_parse_mix(&o, "GET", &e), 0);
    ck_assert_uint_eq(o.mix[BENCH_GET], 1);
    ck_assert_uint_eq(o.mix[BENCH_PUT], 0);
    ck_assert_str_eq(o.mix_text, "get");
    ck_assert_int_eq(opts_parse_mix(&o, "put,get", &e), 0);
    ck_assert_uint_eq(o.mix_total, 2);
    ck_assert_int_eq(opts_parse_mix(&o, "put=0", &e), -EINVAL);
    ck_assert_int_eq(opts_parse_mix(&o, "put=1,put=2", &e), -EINVAL);
    ck_assert_int_eq(opts_parse_mix(&o, "put=", &e), -EINVAL);
    ck_assert_int_eq(opts_parse_mix(&o, "post=1", &e), -EINVAL);

    struct size_dist d;
    ck_assert_int_eq(opts_parse_size_dist(&d, "4k", &e), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_uint_eq(d.e[0].lo, 4096);
    ck_assert_uint_eq(d.e[0].hi, 4096);
    ck_assert_int_eq(opts_parse_size_dist(&d, "1m-4m", &e), 0);
    ck_assert_uint_eq(d.e[0].hi, 4u << 20);
    ck_assert_uint_eq(d.max, 4u << 20);
    ck_assert_int_eq(opts_parse_size_dist(&d, "4k:70,1m-4m:30", &e), 0);
    ck_assert_uint_eq(d.n, 2);
    ck_assert_uint_eq(d.total_weight, 100);
    ck_assert_int_eq(opts_parse_size_dist(&d, "4k:70,1m", &e), -EINVAL);
    ck_assert_int_eq(opts_parse_size_dist(&d, "4m-1m", &e), -EINVAL);
    ck_assert_int_eq(opts_parse_size_dist(&d, "4k:0", &e), -EINVAL);
    ck_assert_int_eq(opts_parse_size_dist(&d, "", &e), -EINVAL);
}
END_TEST

/* opts_parse over a NULL-terminated list of literals (argv must be mutable). */
static int parse(struct bench_opts *o, struct err *e, ...)
{
    static char store[32][64];
    static char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, e);
    const char *a;
    while ((a = va_arg(ap, const char *)) && argc < 31) {
        str_copy(store[argc], a, sizeof(store[argc]));
        argv[argc] = store[argc];
        argc++;
    }
    va_end(ap);
    argv[argc] = NULL;
    return opts_parse(o, argc, argv, e);
}

START_TEST(whole_command_lines)
{
    struct bench_opts o;
    struct err e;
    ck_assert_int_eq(parse(&o, &e, "cairn-bench", "-A", "http://h/auth/v1.0", "-U", "a:u", "-K",
                           "k", "--mix", "get=9,put=1", "-n", "10", "-p", "5s", "--max-errors",
                           "1.5%", NULL),
                     OPTS_RUN);
    ck_assert_uint_eq(o.count, 10);
    ck_assert_uint_eq(o.duration_ns, 0);
    ck_assert_uint_eq(o.prepop_ns, 5000000000ull);
    ck_assert(o.max_errors_pct);
    ck_assert_uint_eq(o.max_errors, 150);
    ck_assert_int_eq(parse(&o, &e, "cairn-bench", "--os-storage-url", "http://h/v1/AUTH_a",
                           "--os-auth-token", "t", NULL),
                     OPTS_RUN);
    ck_assert_uint_eq(o.duration_ns, 30000000000ull);
    ck_assert_int_eq(parse(&o, &e, "cairn-bench", "--os-auth-token", "t", NULL), -EINVAL);
    ck_assert_str_eq(e.msg, "--os-auth-token needs --os-storage-url");
    ck_assert_int_eq(parse(&o, &e, "cairn-bench", "--help", NULL), OPTS_HELP);
    ck_assert_int_eq(parse(&o, &e, "cairn-bench", "--os-storage-url", "http://h/v1/AUTH_a",
                           "--os-auth-token", "t", "-H", "X-Run-Storlet: identity",
                           "--header", "X-Storlet-Parameter-1: a:b", NULL),
                     OPTS_RUN);
    ck_assert_uint_eq(o.nget_headers, 2);
    ck_assert_str_eq(o.get_headers[1], "X-Storlet-Parameter-1: a:b");
    ck_assert_int_eq(parse(&o, &e, "cairn-bench", "-H", "nocolon", NULL), -EINVAL);
}
END_TEST

static Suite *bench_suite(void)
{
    Suite *s = suite_create("bench");
    TCase *tc = tcase_create("hist");
    tcase_add_test(tc, hist_index_is_contiguous_and_monotonic);
    tcase_add_test(tc, hist_quantiles_within_relative_error);
    tcase_add_test(tc, hist_merge_adds_and_empty_is_zero);
    suite_add_tcase(s, tc);
    tc = tcase_create("opts");
    tcase_add_test(tc, sizes_and_durations);
    tcase_add_test(tc, mix_and_size_lists);
    tcase_add_test(tc, whole_command_lines);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bench_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * check_pool.c - unit tests for common/pool: alignment, big allocations,
 * cleanup order, reuse after clear.
 */
#include <check.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/pool.h"

START_TEST(pool_allocations_are_aligned_and_distinct)
{
    struct pool *p = pool_new();
    char *prev = NULL;
    for (int i = 0; i < 1000; i++) {
        char *a = pool_alloc(p, (size_t)(i % 37) + 1);
        ck_assert((uintptr_t)a % alignof(max_align_t) == 0);
        memset(a, 0x5a, (size_t)(i % 37) + 1);
        ck_assert(a != prev);
        prev = a;
    }
    char *big = pool_alloc(p, 100000);
    memset(big, 1, 100000);
    char *small = pool_calloc(p, 8);
    ck_assert_int_eq(small[7], 0);
    ck_assert_str_eq(pool_strndup(p, "abcdef", 3), "abc");
    ck_assert_str_eq(pool_strdup(p, "xyz"), "xyz");
    ck_assert_uint_ge(pool_used(p), 100000);
    pool_free(p);
    pool_free(NULL);
}
END_TEST

static char order[16];
static size_t norder;

static void record(void *arg)
{
    order[norder++] = *(char *)arg;
}

static void record_and_add(void *arg)
{
    struct pool *p = arg;
    order[norder++] = 'x';
    static char z = 'z';
    pool_cleanup_add(p, record, &z);
}

START_TEST(pool_cleanups_run_lifo_on_clear_and_free)
{
    static char a = 'a', b = 'b', c = 'c';
    struct pool *p = pool_new();
    pool_cleanup_add(p, record, &a);
    pool_cleanup_add(p, record, &b);
    pool_clear(p);
    ck_assert_uint_eq(norder, 2);
    ck_assert(memcmp(order, "ba", 2) == 0);
    ck_assert_uint_eq(pool_used(p), 0);
    pool_clear(p); /* nothing left to run */
    ck_assert_uint_eq(norder, 2);
    pool_cleanup_add(p, record, &c);
    pool_cleanup_add(p, record_and_add, p);
    (void)pool_alloc(p, 50000);
    pool_free(p);
    ck_assert_uint_eq(norder, 5);
    ck_assert(memcmp(order, "baxzc", 5) == 0);
}
END_TEST

static Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("pool");
    tcase_add_test(tc, pool_allocations_are_aligned_and_distinct);
    tcase_add_test(tc, pool_cleanups_run_lifo_on_clear_and_free);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pool_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

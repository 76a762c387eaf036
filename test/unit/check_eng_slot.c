/*
 * check_eng_slot.c - unit tests for the tenant slot table (engine/eng_slot.c):
 * many accounts get distinct slots, the table survives a restart, a second
 * opener of the same file sees the first one's slots, exhaustion is ENOSPC,
 * and a torn last line from a crash is cut off.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "engine/eng_slot.h"

static char dir[64];
static char path[128];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/check_eng_slot.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/slots", dir);
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

START_TEST(many_accounts_distinct_and_persistent)
{
    struct err e;
    err_clear(&e);
    enum { N = 1000 };
    static uint32_t got[N];
    static unsigned char seen[N + 2];
    struct eng_slots *t = eng_slots_open(path, 1000000, &e);
    ck_assert_ptr_nonnull(t);
    for (int i = 0; i < N; i++) {
        char a[32];
        snprintf(a, sizeof(a), "AUTH_acct%d", i);
        ck_assert_int_eq(eng_slots_get(t, a, &got[i], &e), 0);
        ck_assert_uint_ge(got[i], 1);
        ck_assert_uint_le(got[i], N);
        ck_assert_int_eq(seen[got[i]], 0);   /* no collision */
        seen[got[i]] = 1;
    }
    uint32_t s;
    ck_assert_int_eq(eng_slots_get(t, "AUTH_acct17", &s, &e), 0);
    ck_assert_uint_eq(s, got[17]);
    /* another process of the node (a second opener) allocates after us */
    struct eng_slots *t2 = eng_slots_open(path, 1000000, &e);
    ck_assert_ptr_nonnull(t2);
    ck_assert_int_eq(eng_slots_get(t2, "AUTH_new", &s, &e), 0);
    ck_assert_uint_eq(s, N + 1);
    uint32_t s1;
    ck_assert_int_eq(eng_slots_get(t, "AUTH_new", &s1, &e), 0);
    ck_assert_uint_eq(s1, s);
    ck_assert_int_eq(eng_slots_get(t, "AUTH_newer", &s1, &e), 0);
    ck_assert_uint_eq(s1, N + 2);
    eng_slots_free(t);
    eng_slots_free(t2);
    /* restart: every account keeps its slot */
    t = eng_slots_open(path, 1000000, &e);
    ck_assert_ptr_nonnull(t);
    for (int i = 0; i < N; i += 97) {
        char a[32];
        snprintf(a, sizeof(a), "AUTH_acct%d", i);
        ck_assert_int_eq(eng_slots_get(t, a, &s, &e), 0);
        ck_assert_uint_eq(s, got[i]);
    }
    eng_slots_free(t);
}
END_TEST

START_TEST(exhaustion_is_enospc_and_never_reuses)
{
    struct err e;
    err_clear(&e);
    struct eng_slots *t = eng_slots_open(path, 4, &e);   /* slots 1..3 */
    ck_assert_ptr_nonnull(t);
    uint32_t s;
    ck_assert_int_eq(eng_slots_get(t, "a", &s, &e), 0);
    ck_assert_uint_eq(s, 1);
    ck_assert_int_eq(eng_slots_get(t, "b", &s, &e), 0);
    ck_assert_int_eq(eng_slots_get(t, "c", &s, &e), 0);
    ck_assert_uint_eq(s, 3);
    ck_assert_int_eq(eng_slots_get(t, "d", &s, &e), -ENOSPC);
    ck_assert_int_eq(eng_slots_get(t, "b", &s, &e), 0);
    ck_assert_uint_eq(s, 2);
    eng_slots_free(t);
    t = eng_slots_open(path, 4, &e);
    ck_assert_int_eq(eng_slots_get(t, "d", &s, &e), -ENOSPC);
    eng_slots_free(t);
}
END_TEST

START_TEST(torn_line_cut_and_garbage_refused)
{
    struct err e;
    err_clear(&e);
    FILE *f = fopen(path, "w");
    fputs("1 alice\n2 bo", f);   /* crash mid-append */
    fclose(f);
    struct eng_slots *t = eng_slots_open(path, 100, &e);
    ck_assert_ptr_nonnull(t);
    uint32_t s;
    ck_assert_int_eq(eng_slots_get(t, "carol", &s, &e), 0);
    ck_assert_uint_eq(s, 2);
    eng_slots_free(t);
    t = eng_slots_open(path, 100, &e);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(eng_slots_get(t, "carol", &s, &e), 0);
    ck_assert_uint_eq(s, 2);
    ck_assert_int_eq(eng_slots_get(t, "alice", &s, &e), 0);
    ck_assert_uint_eq(s, 1);
    eng_slots_free(t);
    f = fopen(path, "w");
    fputs("1 alice\n1 mallory\n", f);   /* a duplicate slot */
    fclose(f);
    ck_assert_ptr_null(eng_slots_open(path, 100, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, ":2:"));
}
END_TEST

static Suite *slot_suite(void)
{
    Suite *s = suite_create("eng_slot");
    TCase *tc = tcase_create("slot");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, many_accounts_distinct_and_persistent);
    tcase_add_test(tc, exhaustion_is_enospc_and_never_reuses);
    tcase_add_test(tc, torn_line_cut_and_garbage_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(slot_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

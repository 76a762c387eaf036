/*
 * check_px_cap.c - unit tests for the proxy's capabilities (px_cap.h):
 * a minted value verifies for its purpose and path until it expires, and
 * nothing else does: not a forged one, another process's, an expired one,
 * one for another path, account or purpose, or one with any field changed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "engine/eng.h"
#include "proxy/px_cap.h"

#define NOW 1800000000
#define OBJ "/v1/AUTH_test/out/r\xc3\xa9sult; v=1.csv"

static struct px_cap_key key, other;

static void setup(void)
{
    ck_assert_int_eq(px_cap_key_init(&key), 0);
    ck_assert_int_eq(px_cap_key_init(&other), 0);
    ck_assert(memcmp(key.k, other.k, sizeof(key.k)) != 0);
}

START_TEST(minted_value_verifies)
{
    char *v = px_cap_mint(&key, PX_CAP_OUTPUT, "AUTH_test", OBJ, false, NOW + 60);
    ck_assert_ptr_nonnull(v);
    ck_assert_msg(strncmp(v, "v1;storlet-output;1800000060;x;", 31) == 0, "%s", v);
    ck_assert_str_eq(PX_CAP_HEADER, ENG_CAP_HEADER);   /* one header, two names */
    for (const char *p = v; *p; p++)   /* plain ASCII whatever the name */
        ck_assert(*p > ' ' && *p < 127);
    ck_assert(px_cap_check(&key, v, PX_CAP_OUTPUT, OBJ, NOW));
    ck_assert(px_cap_check(&key, v, PX_CAP_OUTPUT, OBJ, NOW + 60));
    free(v);
}
END_TEST

START_TEST(ruled_value_is_its_own_purpose)
{
    /* the rules' "already decided" mark: exactly its object, no other use */
    char *v = px_cap_mint(&key, PX_CAP_RULED, "AUTH_test", OBJ, false, NOW + 60);
    ck_assert_ptr_nonnull(v);
    ck_assert(px_cap_check(&key, v, PX_CAP_RULED, OBJ, NOW));
    ck_assert(!px_cap_check(&key, v, PX_CAP_OUTPUT, OBJ, NOW));
    ck_assert(!px_cap_check(&key, v, PX_CAP_CODE, OBJ, NOW));
    ck_assert(!px_cap_check(&key, v, PX_CAP_RULED, "/v1/AUTH_test/out/other", NOW));
    ck_assert(!px_cap_check(&other, v, PX_CAP_RULED, OBJ, NOW));
    free(v);
}
END_TEST

START_TEST(expired_value_fails)
{
    char *v = px_cap_mint(&key, PX_CAP_OUTPUT, "AUTH_test", OBJ, false, NOW + 60);
    ck_assert(!px_cap_check(&key, v, PX_CAP_OUTPUT, OBJ, NOW + 61));
    free(v);
}
END_TEST

START_TEST(wrong_path_or_purpose_fails)
{
    char *v = px_cap_mint(&key, PX_CAP_OUTPUT, "AUTH_test", OBJ, false, NOW + 60);
    ck_assert(!px_cap_check(&key, v, PX_CAP_CODE, OBJ, NOW));
    ck_assert(!px_cap_check(&key, v, PX_CAP_OUTPUT, "/v1/AUTH_test/out/other", NOW));
    ck_assert(!px_cap_check(&key, v, PX_CAP_OUTPUT, OBJ "x", NOW));
    ck_assert(!px_cap_check(&key, v, PX_CAP_OUTPUT, "/v1/AUTH_test/out", NOW));
    ck_assert(!px_cap_check(&key, v, PX_CAP_OUTPUT, "/v1/AUTH_evil/out/r\xc3\xa9sult; v=1.csv",
                            NOW));
    free(v);
}
END_TEST

START_TEST(prefix_scope_stays_inside)
{
    char *v = px_cap_mint(&key, PX_CAP_CODE, "AUTH_a", "/v1/AUTH_a/", true, NOW + 60);
    ck_assert_ptr_nonnull(v);
    ck_assert(px_cap_check(&key, v, PX_CAP_CODE, "/v1/AUTH_a/storlet/x", NOW));
    ck_assert(px_cap_check(&key, v, PX_CAP_CODE, "/v1/AUTH_a/dependency/d/e", NOW));
    ck_assert(!px_cap_check(&key, v, PX_CAP_CODE, "/v1/AUTH_ab/storlet/x", NOW));
    ck_assert(!px_cap_check(&key, v, PX_CAP_CODE, "/v1/AUTH_a", NOW));
    free(v);
    /* exact and prefix are different grants for the same text */
    v = px_cap_mint(&key, PX_CAP_CODE, "AUTH_a", "/v1/AUTH_a/storlet/", false, NOW + 60);
    ck_assert(!px_cap_check(&key, v, PX_CAP_CODE, "/v1/AUTH_a/storlet/x", NOW));
    free(v);
}
END_TEST

START_TEST(mint_refuses_bad_arguments)
{
    ck_assert_ptr_null(px_cap_mint(&key, "admin", "AUTH_a", "/v1/AUTH_a/c/o", false, NOW));
    ck_assert_ptr_null(px_cap_mint(&key, PX_CAP_CODE, "AUTH_a", "/v1/AUTH_b/c/o", false, NOW));
    ck_assert_ptr_null(px_cap_mint(&key, PX_CAP_CODE, "AUTH_a", "/v1/AUTH_ab/c", false, NOW));
    /* a prefix must end at a "/" so that it cannot spill into a sibling */
    ck_assert_ptr_null(px_cap_mint(&key, PX_CAP_CODE, "AUTH_a", "/v1/AUTH_a", true, NOW));
    ck_assert_ptr_null(px_cap_mint(&key, PX_CAP_CODE, "AUTH_a", "/v1/AUTH_a/sto", true, NOW));
    ck_assert_ptr_null(px_cap_mint(&key, PX_CAP_CODE, "AUTH_a", "/v1/AUTH_a/c/o", false, 0));
}
END_TEST

START_TEST(forged_values_fail)
{
    char *v = px_cap_mint(&key, PX_CAP_OUTPUT, "AUTH_test", OBJ, false, NOW + 60);
    /* another process's key */
    ck_assert(!px_cap_check(&other, v, PX_CAP_OUTPUT, OBJ, NOW));
    /* made up by a client: right form, made-up MAC */
    char *f = xasprintf("v1;storlet-output;1800000060;x;%064d;/v1/AUTH_test/out/o", 0);
    ck_assert(!px_cap_check(&key, f, PX_CAP_OUTPUT, "/v1/AUTH_test/out/o", NOW));
    free(f);
    static const char *const junk[] = {
        "", "v1", "v1;;;;;", "v2;storlet-output;1800000060;x;00;/v1/AUTH_test/out/o",
        "v1;storlet-output;-5;x;", "v1;storlet-output;1800000060;x;zz;/v1/a",
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        ck_assert(!px_cap_check(&key, junk[i], PX_CAP_OUTPUT, OBJ, NOW));
    ck_assert(!px_cap_check(&key, NULL, PX_CAP_OUTPUT, OBJ, NOW));
    free(v);
}
END_TEST

/* Changing any one field of a valid value must break it. */
START_TEST(tampered_values_fail)
{
    char *v = px_cap_mint(&key, PX_CAP_OUTPUT, "AUTH_test", "/v1/AUTH_test/out/o", false,
                          NOW + 60);
    char *t;
    /* later expiry */
    t = xstrdup(v);
    memcpy(strstr(t, "1800000060"), "1900000060", 10);
    ck_assert(!px_cap_check(&key, t, PX_CAP_OUTPUT, "/v1/AUTH_test/out/o", NOW));
    free(t);
    /* exact -> prefix, aimed at the container */
    t = xstrdup(v);
    strstr(t, ";x;")[1] = 'p';
    char *u = xasprintf("%.*s/v1/AUTH_test/out/", (int)(strrchr(t, ';') + 1 - t), t);
    ck_assert(!px_cap_check(&key, u, PX_CAP_OUTPUT, "/v1/AUTH_test/out/o", NOW));
    free(u);
    free(t);
    /* another path under the same MAC */
    t = xstrdup(v);
    t[strlen(t) - 1] = 'p';
    ck_assert(!px_cap_check(&key, t, PX_CAP_OUTPUT, "/v1/AUTH_test/out/p", NOW));
    free(t);
    /* the same path spelled with percent-escapes is the same grant */
    t = xasprintf("%.*s/v1/AUTH_test/out/%%6F", (int)(strrchr(v, ';') + 1 - v), v);
    ck_assert(px_cap_check(&key, t, PX_CAP_OUTPUT, "/v1/AUTH_test/out/o", NOW));
    free(t);
    /* every MAC digit matters */
    char *mac = strchr(strstr(v, ";x;") + 3, ';') - 64;
    for (int i = 0; i < 64; i++) {
        t = xstrdup(v);
        char *m = t + (mac - v) + i;
        *m = *m == '0' ? '1' : '0';
        ck_assert(!px_cap_check(&key, t, PX_CAP_OUTPUT, "/v1/AUTH_test/out/o", NOW));
        free(t);
    }
    /* the purpose name */
    t = xasprintf("v1;" PX_CAP_CODE ";%s", strchr(v + 3, ';') + 1);
    ck_assert(!px_cap_check(&key, t, PX_CAP_CODE, "/v1/AUTH_test/out/o", NOW));
    free(t);
    free(v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("px_cap");
    TCase *tc = tcase_create("cap");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, minted_value_verifies);
    tcase_add_test(tc, ruled_value_is_its_own_purpose);
    tcase_add_test(tc, expired_value_fails);
    tcase_add_test(tc, wrong_path_or_purpose_fails);
    tcase_add_test(tc, prefix_scope_stays_inside);
    tcase_add_test(tc, mint_refuses_bad_arguments);
    tcase_add_test(tc, forged_values_fail);
    tcase_add_test(tc, tampered_values_fail);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

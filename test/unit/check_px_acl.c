/*
 * check_px_acl.c - unit tests for proxy/px_acl: Swift's clean_acl cases,
 * referrer matching, and tempauth's authorization decision (owner,
 * reseller admin, .r:* for objects, .rlistings, group grants, 401 vs 403).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_acl.h"

static const char *clean(const char *hdr, const char *v, int *rc)
{
    static char out[256], why[256];
    *rc = px_acl_clean(hdr, v, out, sizeof(out), why, sizeof(why));
    return *rc == 0 ? out : why;
}

START_TEST(clean_normalises_like_swift)
{
    int rc;
    ck_assert_str_eq(clean("X-Container-Read", "bob, sue", &rc), "bob,sue");
    ck_assert_str_eq(clean("X-Container-Read", "bob , sue", &rc), "bob,sue");
    ck_assert_str_eq(clean("X-Container-Read", "bob,,,sue", &rc), "bob,sue");
    ck_assert_str_eq(clean("X-Container-Read", ".referrer : *", &rc), ".r:*");
    ck_assert_str_eq(clean("X-Container-Read", ".ref:*.example.com", &rc),
                     ".r:.example.com");
    ck_assert_str_eq(clean("X-Container-Read", ".r:*, .rlistings", &rc),
                     ".r:*,.rlistings");
    ck_assert_str_eq(clean("X-Container-Read", ".r:-thief.com", &rc),
                     ".r:-thief.com");
    ck_assert_str_eq(clean("X-Container-Read", "test:tester", &rc),
                     "test:tester");
    ck_assert_str_eq(clean("X-Container-Read", "", &rc), "");
    ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(clean_rejects_bad_acls)
{
    int rc;
    clean("X-Container-Read", ".r:", &rc);
    ck_assert_int_eq(rc, -EINVAL);
    clean("X-Container-Read", ".r:-", &rc);
    ck_assert_int_eq(rc, -EINVAL);
    const char *why = clean("X-Container-Read", ".x:foo", &rc);
    ck_assert_int_eq(rc, -EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "Unknown designator"));
    why = clean("X-Container-Write", ".r:*", &rc);
    ck_assert_int_eq(rc, -EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "Referrers not allowed in write ACL"));
    char small[4], w[64];
    ck_assert_int_eq(px_acl_clean("X-Container-Read", "abcdef", small,
                                  sizeof(small), w, sizeof(w)),
                     -ENOSPC);
}
END_TEST

START_TEST(referrers_apply_in_order)
{
    ck_assert(px_acl_referrer_allowed(".r:*", NULL));
    ck_assert(px_acl_referrer_allowed(".r:*", "http://a.com/x"));
    ck_assert(!px_acl_referrer_allowed("bob", "http://a.com/x"));
    ck_assert(px_acl_referrer_allowed(".r:.example.com",
                                      "https://www.example.com:8080/p"));
    ck_assert(!px_acl_referrer_allowed(".r:.example.com", "http://example.org/"));
    ck_assert(!px_acl_referrer_allowed(".r:.example.com,.r:-thief.example.com",
                                       "http://thief.example.com/"));
    ck_assert(px_acl_referrer_allowed(".r:.example.com,.r:-thief.example.com",
                                      "http://good.example.com/"));
    ck_assert(!px_acl_referrer_allowed(".r:*,.r:-.thief.com",
                                       "http://x.thief.com/"));
    ck_assert(px_acl_referrer_allowed(".r:host.com", "http://user@HOST.com/"));
    ck_assert(!px_acl_referrer_allowed(".r:host.com", "host.com"));
}
END_TEST

START_TEST(groups_and_rlistings)
{
    const char *g[] = {"test", "test:tester", "AUTH_test"};
    ck_assert(px_acl_has_group("test2:bob,test:tester", g, 3));
    ck_assert(px_acl_has_group("test", g, 3));
    ck_assert(!px_acl_has_group("test2,test:other", g, 3));
    ck_assert(!px_acl_has_group(".r:test", g, 3));
    ck_assert(px_acl_has_group("test%3Atester", g, 3));
    ck_assert(px_acl_has_rlistings(".r:*,.rlistings"));
    ck_assert(!px_acl_has_rlistings(".r:*"));
}
END_TEST

static enum px_authz az(bool auth, const char *const *groups, size_t n,
                        const char *account, bool cont, bool obj, bool putdel,
                        const char *acl, const char *referer)
{
    struct px_identity id = {auth, groups, n};
    struct px_authz_req r = {account, cont, obj, putdel, false, "AUTH_", acl,
                             referer};
    return px_acl_authorize(&id, &r);
}

START_TEST(authorize_decisions)
{
    const char *admin[] = {"test", "test:tester", "AUTH_test"};
    const char *plain[] = {"test", "test:tester3"};
    const char *other[] = {"test2", "test2:tester2", "AUTH_test2"};
    const char *reseller[] = {"admin", "admin:admin", ".reseller_admin"};
    /* the owner may do anything but PUT/DELETE of the account itself */
    ck_assert_int_eq(az(true, admin, 3, "AUTH_test", false, false, false,
                        NULL, NULL), PX_AUTHZ_OWNER);
    ck_assert_int_eq(az(true, admin, 3, "AUTH_test", false, false, true,
                        NULL, NULL), PX_AUTHZ_DENY);
    ck_assert_int_eq(az(true, admin, 3, "AUTH_test", true, true, true, NULL,
                        NULL), PX_AUTHZ_OWNER);
    /* a reseller admin owns every account of the prefix */
    ck_assert_int_eq(az(true, reseller, 3, "AUTH_test", false, false, true,
                        NULL, NULL), PX_AUTHZ_OWNER);
    ck_assert_int_eq(az(true, reseller, 3, "OTHER_test", false, false, false,
                        NULL, NULL), PX_AUTHZ_DENY);
    /* a user without .admin is not an owner */
    ck_assert_int_eq(az(true, plain, 2, "AUTH_test", true, false, false,
                        NULL, NULL), PX_AUTHZ_DENY);
    /* another account's user: only through the ACL */
    ck_assert_int_eq(az(true, other, 3, "AUTH_test", true, true, true, NULL,
                        NULL), PX_AUTHZ_DENY);
    ck_assert_int_eq(az(true, other, 3, "AUTH_test", true, true, true,
                        "test2:tester2", NULL), PX_AUTHZ_ALLOW);
    ck_assert_int_eq(az(true, other, 3, "AUTH_test", true, true, true,
                        "test2", NULL), PX_AUTHZ_ALLOW);
    /* anonymous: .r:* opens objects, listings need .rlistings */
    ck_assert_int_eq(az(false, NULL, 0, "AUTH_test", true, true, false,
                        ".r:*", NULL), PX_AUTHZ_ALLOW);
    ck_assert_int_eq(az(false, NULL, 0, "AUTH_test", true, false, false,
                        ".r:*", NULL), PX_AUTHZ_DENY);
    ck_assert_int_eq(az(false, NULL, 0, "AUTH_test", true, false, false,
                        ".r:*,.rlistings", NULL), PX_AUTHZ_ALLOW);
    ck_assert_int_eq(az(false, NULL, 0, "AUTH_test", false, false, false,
                        NULL, NULL), PX_AUTHZ_DENY);
    /* groups of an unauthenticated request never count */
    ck_assert_int_eq(az(false, admin, 3, "AUTH_test", true, true, false,
                        "test", NULL), PX_AUTHZ_DENY);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("px_acl");
    TCase *tc = tcase_create("acl");
    tcase_add_test(tc, clean_normalises_like_swift);
    tcase_add_test(tc, clean_rejects_bad_acls);
    tcase_add_test(tc, referrers_apply_in_order);
    tcase_add_test(tc, groups_and_rlistings);
    tcase_add_test(tc, authorize_decisions);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * check_token.c - unit tests for common/token: round trip, tampering of
 * every byte, other secrets, expiry, limits, and the token's shape.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/token.h"

static const char secret[] = "0123456789abcdef-cluster-secret";
#define SECLEN (sizeof(secret) - 1)

static struct token_claims sample(void)
{
    struct token_claims c;
    memset(&c, 0, sizeof(c));
    snprintf(c.account, sizeof(c.account), "test");
    snprintf(c.user, sizeof(c.user), "tester");
    c.ngroups = 3;
    snprintf(c.groups[0], sizeof(c.groups[0]), "test");
    snprintf(c.groups[1], sizeof(c.groups[1]), "test:tester");
    snprintf(c.groups[2], sizeof(c.groups[2]), "AUTH_test");
    c.expires = 1700086400;
    return c;
}

START_TEST(round_trip)
{
    struct token_claims c = sample(), got;
    char tok[TOKEN_MAX_LEN];
    int n = token_issue(secret, SECLEN, &c, tok, sizeof(tok));
    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(strlen(tok), (size_t)n);
    ck_assert(strncmp(tok, "AUTH_tk", 7) == 0);
    /* header-safe: letters, digits, '-', '_' and exactly one '.' */
    int dots = 0;
    for (int i = 0; i < n; i++) {
        char ch = tok[i];
        ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789-_.", ch) != NULL);
        dots += ch == '.';
    }
    ck_assert_int_eq(dots, 1);
    ck_assert_int_eq(token_verify(secret, SECLEN, tok, (size_t)n, 1700000000,
                                  &got), 0);
    ck_assert_str_eq(got.account, "test");
    ck_assert_str_eq(got.user, "tester");
    ck_assert_uint_eq(got.ngroups, 3);
    ck_assert_str_eq(got.groups[1], "test:tester");
    ck_assert_str_eq(got.groups[2], "AUTH_test");
    ck_assert_int_eq(got.expires, 1700086400);
    /* deterministic for the same claims and secret */
    char again[TOKEN_MAX_LEN];
    ck_assert_int_eq(token_issue(secret, SECLEN, &c, again, sizeof(again)),
                     n);
    ck_assert_str_eq(tok, again);
}
END_TEST

START_TEST(every_tampered_byte_fails)
{
    struct token_claims c = sample(), got;
    char tok[TOKEN_MAX_LEN];
    int n = token_issue(secret, SECLEN, &c, tok, sizeof(tok));
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    for (int i = 0; i < n; i++) {
        for (const char *a = alphabet; *a; a++) {
            if (*a == tok[i])
                continue;
            char t2[TOKEN_MAX_LEN];
            memcpy(t2, tok, (size_t)n + 1);
            t2[i] = *a;
            int rc = token_verify(secret, SECLEN, t2, (size_t)n, 1700000000,
                                  &got);
            ck_assert_msg(rc == -EKEYREJECTED || rc == -EINVAL,
                          "pos %d char %c accepted", i, *a);
            ck_assert_str_eq(got.account, "");
        }
    }
    /* truncated and extended tokens */
    for (int cut = 0; cut < n; cut++)
        ck_assert_int_ne(token_verify(secret, SECLEN, tok, (size_t)cut,
                                      1700000000, &got), 0);
    char longer[TOKEN_MAX_LEN + 2];
    memcpy(longer, tok, (size_t)n);
    longer[n] = 'A';
    ck_assert_int_ne(token_verify(secret, SECLEN, longer, (size_t)n + 1,
                                  1700000000, &got), 0);
}
END_TEST

START_TEST(forged_claims_with_a_real_mac_fail)
{
    /* Take the MAC of one token and the payload of another. */
    struct token_claims a = sample(), b = sample(), got;
    snprintf(b.groups[2], sizeof(b.groups[2]), ".reseller_admin");
    char ta[TOKEN_MAX_LEN], tb[TOKEN_MAX_LEN];
    int na = token_issue(secret, SECLEN, &a, ta, sizeof(ta));
    int nb = token_issue(secret, SECLEN, &b, tb, sizeof(tb));
    char *da = strchr(ta, '.'), *db = strchr(tb, '.');
    char forged[2 * TOKEN_MAX_LEN];
    int n = snprintf(forged, sizeof(forged), "%.*s%s", (int)(db - tb), tb,
                     da);
    ck_assert_int_eq(token_verify(secret, SECLEN, forged, (size_t)n,
                                  1700000000, &got), -EKEYREJECTED);
    (void)na;
    (void)nb;
}
END_TEST

START_TEST(other_secret_and_expiry)
{
    struct token_claims c = sample(), got;
    char tok[TOKEN_MAX_LEN];
    int n = token_issue(secret, SECLEN, &c, tok, sizeof(tok));
    static const char other[] = "0123456789abcdef-cluster-secreT";
    ck_assert_int_eq(token_verify(other, sizeof(other) - 1, tok, (size_t)n,
                                  1700000000, &got), -EKEYREJECTED);
    ck_assert_int_eq(token_verify(secret, SECLEN, tok, (size_t)n,
                                  1700086399, &got), 0);
    ck_assert_int_eq(token_verify(secret, SECLEN, tok, (size_t)n,
                                  1700086400, &got), -EKEYEXPIRED);
    ck_assert_str_eq(got.account, "");
    ck_assert_int_eq(token_verify("short", 5, tok, (size_t)n, 0, &got),
                     -EINVAL);
    ck_assert_int_eq(token_issue("short", 5, &c, tok, sizeof(tok)), -EINVAL);
}
END_TEST

START_TEST(limits_and_bad_claims)
{
    struct token_claims c, got;
    memset(&c, 'x', sizeof(c));
    c.account[TOKEN_NAME_MAX] = '\0';
    c.user[TOKEN_NAME_MAX] = '\0';
    c.ngroups = TOKEN_GROUPS_MAX;
    for (int i = 0; i < TOKEN_GROUPS_MAX; i++)
        c.groups[i][TOKEN_NAME_MAX] = '\0';
    c.expires = INT64_MAX;
    static char tok[TOKEN_MAX_LEN];
    int n = token_issue(secret, SECLEN, &c, tok, sizeof(tok));
    ck_assert_int_gt(n, 0);
    ck_assert_int_lt(n, (int)TOKEN_MAX_LEN);
    ck_assert_int_eq(token_verify(secret, SECLEN, tok, (size_t)n, 0, &got),
                     0);
    ck_assert_uint_eq(strlen(got.groups[TOKEN_GROUPS_MAX - 1]),
                      TOKEN_NAME_MAX);
    ck_assert_int_eq(token_issue(secret, SECLEN, &c, tok, (size_t)n),
                     -ENOSPC);

    c.ngroups = TOKEN_GROUPS_MAX + 1;
    ck_assert_int_eq(token_issue(secret, SECLEN, &c, tok, sizeof(tok)),
                     -EINVAL);
    c = sample();
    c.account[0] = '\0';
    ck_assert_int_eq(token_issue(secret, SECLEN, &c, tok, sizeof(tok)),
                     -EINVAL);
    c = sample();
    memset(c.user, 'u', sizeof(c.user)); /* not terminated within limit */
    ck_assert_int_eq(token_issue(secret, SECLEN, &c, tok, sizeof(tok)),
                     -EINVAL);
    c = sample();
    c.ngroups = 0;
    n = token_issue(secret, SECLEN, &c, tok, sizeof(tok));
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(token_verify(secret, SECLEN, tok, (size_t)n, 0, &got),
                     0);
    ck_assert_uint_eq(got.ngroups, 0);

    const char *junk[] = {"", "AUTH_tk", "AUTH_tk.", "Bearer xyz",
                          "AUTH_tk00000000000000000000000000000000"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        ck_assert_int_eq(token_verify(secret, SECLEN, junk[i],
                                      strlen(junk[i]), 0, &got), -EINVAL);
}
END_TEST

static Suite *token_suite(void)
{
    Suite *s = suite_create("token");
    TCase *tc = tcase_create("token");
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, every_tampered_byte_fails);
    tcase_add_test(tc, forged_claims_with_a_real_mac_fail);
    tcase_add_test(tc, other_secret_and_expiry);
    tcase_add_test(tc, limits_and_bad_claims);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(token_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

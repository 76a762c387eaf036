/*
 * check_px_misc.c - unit tests for the proxy's small pure parts:
 * Content-Type guessing (px_mime), quorum and best-response selection
 * (px_quorum), error limiting (px_backend), tempauth users and tokens
 * (px_auth), and that etc/proxy-server.conf.sample is what the option
 * table renders. Regenerate the sample with
 *   CAIRN_UPDATE_SAMPLES=1 build/test/check_px_misc
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "proxy/px_auth.h"
#include "proxy/px_backend.h"
#include "proxy/px_conf.h"
#include "proxy/px_mime.h"
#include "proxy/px_quorum.h"

static const char *mime(const char *n)
{
    return px_mime_guess(n, strlen(n));
}

START_TEST(mime_guesses_like_python)
{
    ck_assert_str_eq(mime("a.txt"), "text/plain");
    ck_assert_str_eq(mime("dir/photo.JPG"), "image/jpeg");
    ck_assert_str_eq(mime("x.json"), "application/json");
    ck_assert_str_eq(mime("x.tar.gz"), "application/x-tar");
    ck_assert_str_eq(mime("x.gz"), "application/octet-stream");
    ck_assert_str_eq(mime("noext"), "application/octet-stream");
    ck_assert_str_eq(mime("dir.d/noext"), "application/octet-stream");
    ck_assert_str_eq(mime("trailingdot."), "application/octet-stream");
    ck_assert_str_eq(mime("x.unknownext"), "application/octet-stream");
    ck_assert_str_eq(mime("scan.pdf"), "application/pdf");
    ck_assert_str_eq(mime(".html"), "application/octet-stream");
}
END_TEST

START_TEST(quorum_sizes)
{
    ck_assert_uint_eq(px_quorum_size(1), 1);
    ck_assert_uint_eq(px_quorum_size(2), 2);
    ck_assert_uint_eq(px_quorum_size(3), 2);
    ck_assert_uint_eq(px_quorum_size(4), 3);
    ck_assert_uint_eq(px_quorum_size(5), 3);
}
END_TEST

START_TEST(best_status_like_swift)
{
    int a[] = {201, 201, 202};
    ck_assert_int_eq(px_best_status(a, 3, 3, false), 202);
    int b[] = {201, 503, 201};
    ck_assert_int_eq(px_best_status(b, 3, 3, false), 201);
    int c[] = {201, 503, 503};
    ck_assert_int_eq(px_best_status(c, 3, 3, false), 503);
    int d[] = {404, 404, 204};
    ck_assert_int_eq(px_best_status(d, 3, 3, true), 404);
    int e[] = {204, 404, 503};
    ck_assert_int_eq(px_best_status(e, 3, 3, false), 503);
    ck_assert_int_eq(px_best_status(e, 3, 3, true), 204);
    int f[] = {201};
    ck_assert_int_eq(px_best_status(f, 1, 3, false), 503); /* missing = 503 */
    int g[] = {409, 412, 201};
    ck_assert_int_eq(px_best_status(g, 3, 3, false), 412);
    int h[] = {201, 201, 503, 503};
    ck_assert_int_eq(px_best_status(h, 4, 4, false), 503);
}
END_TEST

START_TEST(update_targets_cover_every_replica)
{
    size_t out[8];
    /* 3 and 3: one each */
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(px_update_targets(3, 3, i, out, 8), 1);
        ck_assert_uint_eq(out[0], i);
    }
    /* 5 container replicas over 3 object nodes: 0,3 / 1,4 / 2 */
    ck_assert_uint_eq(px_update_targets(5, 3, 0, out, 8), 2);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(out[1], 3);
    ck_assert_uint_eq(px_update_targets(5, 3, 1, out, 8), 2);
    ck_assert_uint_eq(out[1], 4);
    ck_assert_uint_eq(px_update_targets(5, 3, 2, out, 8), 1);
    /* 1 container replica over 3 object nodes: U = max(1 + 3 - 2, 1) = 2 */
    for (size_t i = 0; i < 2; i++) {
        ck_assert_uint_eq(px_update_targets(1, 3, i, out, 8), 1);
        ck_assert_uint_eq(out[0], 0);
    }
    ck_assert_uint_eq(px_update_targets(1, 3, 2, out, 8), 0);
    /* 3 container replicas over 4 object nodes: U = max(2 + 4 - 2, 3) = 4 */
    ck_assert_uint_eq(px_update_targets(3, 4, 3, out, 8), 1);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(px_update_targets(0, 3, 0, out, 8), 0);
    ck_assert_uint_eq(px_update_targets(5, 3, 0, out, 1), 1);
}
END_TEST

START_TEST(error_limit_skips_then_forgets)
{
    struct px_errl *e = px_errl_new(2, 1000);
    struct px_node n = {"127.0.0.1", 6200, "sdb1", 0, false};
    struct px_node m = {"127.0.0.1", 6200, "sdb2", 1, false};
    ck_assert(!px_errl_limited(e, &n, 100));
    px_errl_error(e, &n, 100, false);
    px_errl_error(e, &n, 110, false);
    ck_assert(!px_errl_limited(e, &n, 120)); /* limit not exceeded yet */
    px_errl_error(e, &n, 130, false);
    ck_assert(px_errl_limited(e, &n, 140));
    ck_assert(!px_errl_limited(e, &m, 140)); /* per device */
    ck_assert(px_errl_limited(e, &n, 1130));
    ck_assert(!px_errl_limited(e, &n, 1131)); /* interval since last error */
    ck_assert(!px_errl_limited(e, &n, 1140));
    px_errl_error(e, &m, 2000, true); /* 507: at once */
    ck_assert(px_errl_limited(e, &m, 2001));
    ck_assert(px_status_is_node_error(503));
    ck_assert(px_status_is_node_error(-1));
    ck_assert(!px_status_is_node_error(507));
    ck_assert(!px_status_is_node_error(404));
    px_errl_free(e);
}
END_TEST

static struct px_auth *auth_from(const char *text, struct px_conf *pc)
{
    struct conf_errors errs;
    conf_errors_init(&errs);
    struct conf *f = conf_parse_buf("proxy.conf", text, strlen(text), &errs);
    memset(pc, 0, sizeof(*pc));
    px_conf_apply(f, pc, &errs);
    ck_assert_msg(errs.count == 0, "%s", errs.n ? errs.msgs[0] : "");
    struct px_auth *a = px_auth_new(pc, &errs);
    ck_assert_ptr_nonnull(a);
    conf_free(f);
    conf_errors_release(&errs);
    return a;
}

START_TEST(auth_issues_and_verifies_tokens)
{
    struct px_conf pc;
    struct px_auth *a = auth_from("[filter:tempauth]\n"
                                  "secret = 0123456789abcdef\n"
                                  "user_test_tester = testing .admin\n"
                                  "user_test_tester3 = testing3\n",
                                  &pc);
    struct px_auth_grant g;
    px_auth_get_token(a, "GET", "v1.0", "test:tester", "testing", 1000, &g);
    ck_assert_int_eq(g.status, 200);
    ck_assert_str_eq(g.account, "AUTH_test");
    ck_assert(g.expires_in >= 86400 && g.expires_in < 86460);
    const char *gr[16];
    char store[2048];
    size_t n;
    ck_assert_int_eq(px_auth_groups(a, g.token, 1001, gr, 16, &n, store,
                                    sizeof(store)), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(gr[0], "test");
    ck_assert_str_eq(gr[1], "test:tester");
    ck_assert_str_eq(gr[2], "AUTH_test");
    /* expired, tampered */
    ck_assert_int_eq(px_auth_groups(a, g.token, 1000 + 90000, gr, 16, &n,
                                    store, sizeof(store)), -EKEYEXPIRED);
    char bad[TOKEN_MAX_LEN];
    str_copy(bad, g.token, sizeof(bad));
    bad[10] ^= 1;
    ck_assert_int_lt(px_auth_groups(a, bad, 1001, gr, 16, &n, store,
                                    sizeof(store)), 0);
    /* the same user soon after gets the same token */
    struct px_auth_grant g2;
    px_auth_get_token(a, "GET", "v1.0", "test:tester", "testing", 1001, &g2);
    ck_assert_str_eq(g.token, g2.token);
    /* wrong key, unknown user, no colon, other method, other path */
    px_auth_get_token(a, "GET", "v1.0", "test:tester", "nope", 1000, &g);
    ck_assert_int_eq(g.status, 401);
    ck_assert_str_eq(g.realm, "unknown");
    px_auth_get_token(a, "GET", "v1.0", "test:nobody", "testing", 1000, &g);
    ck_assert_int_eq(g.status, 401);
    px_auth_get_token(a, "GET", "v1.0", "tester", "testing", 1000, &g);
    ck_assert_int_eq(g.status, 401);
    px_auth_get_token(a, "POST", "v1.0", "test:tester", "testing", 1000, &g);
    ck_assert_int_eq(g.status, 405);
    px_auth_get_token(a, "GET", "v2/x", "test:tester", "testing", 1000, &g);
    ck_assert_int_eq(g.status, 400);
    /* the account-in-path form */
    px_auth_get_token(a, "GET", "v1/test/auth", "tester3", "testing3", 1000,
                      &g);
    ck_assert_int_eq(g.status, 200);
    ck_assert_int_eq(px_auth_groups(a, g.token, 1001, gr, 16, &n, store,
                                    sizeof(store)), 0);
    ck_assert_uint_eq(n, 2);
    px_auth_free(a);
    px_conf_release(&pc);
}
END_TEST

START_TEST(conf_requires_secret)
{
    const char *text = "[filter:tempauth]\nsecret = short\n"
                       "user_bad = x\n";
    struct conf_errors errs;
    conf_errors_init(&errs);
    struct conf *f = conf_parse_buf("p.conf", text, strlen(text), &errs);
    struct px_conf pc = {0};
    ck_assert_int_eq(px_conf_apply(f, &pc, &errs), -EINVAL);
    ck_assert_uint_eq(errs.count, 2);
    ck_assert_ptr_nonnull(strstr(errs.msgs[0], "p.conf:2: [filter:tempauth] "
                                               "secret"));
    px_conf_release(&pc);
    conf_free(f);
    conf_errors_release(&errs);
}
END_TEST

static char *read_all(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    char *buf = xmalloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

START_TEST(storlet_proxy_address_parses)
{
    char h[64];
    int port;
    ck_assert_int_eq(px_conf_parse_address("10.1.2.3", h, sizeof(h), &port), 0);
    ck_assert_str_eq(h, "10.1.2.3");
    ck_assert_int_eq(port, 0);
    ck_assert_int_eq(px_conf_parse_address("10.1.2.3:8081", h, sizeof(h), &port), 0);
    ck_assert_int_eq(port, 8081);
    ck_assert_int_eq(px_conf_parse_address("[fd00::7]:8080", h, sizeof(h), &port), 0);
    ck_assert_str_eq(h, "fd00::7");
    ck_assert_int_eq(port, 8080);
    ck_assert_int_eq(px_conf_parse_address("[::1]", h, sizeof(h), &port), 0);
    ck_assert_str_eq(h, "::1");
    static const char *const bad[] = { "proxy.example", "10.1.2.3:", "10.1.2.3:0",
                                       "10.1.2.3:70000", "fd00::7", "[fd00::7", "[x]:1",
                                       "10.1.2.3:80x", "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(px_conf_parse_address(bad[i], h, sizeof(h), &port) == -EINVAL, "%s",
                      bad[i]);
}
END_TEST

START_TEST(sample_file_matches_table)
{
    const char *src = getenv("CAIRN_SRC");
    char *path = xasprintf("%s/etc/proxy-server.conf.sample", src ? src : ".");
    char *want = conf_render_sample(px_conf_table, px_conf_intro);
    if (getenv("CAIRN_UPDATE_SAMPLES"))
        ck_assert_int_eq(file_write_atomic(path, want, strlen(want)), 0);
    char *have = read_all(path);
    ck_assert_msg(have != NULL, "cannot read %s", path);
    ck_assert_msg(strcmp(have, want) == 0,
                  "%s differs from px_conf_table; regenerate with "
                  "CAIRN_UPDATE_SAMPLES=1 build/test/check_px_misc", path);
    free(have);
    free(want);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("px_misc");
    TCase *tc = tcase_create("misc");
    tcase_add_test(tc, mime_guesses_like_python);
    tcase_add_test(tc, quorum_sizes);
    tcase_add_test(tc, best_status_like_swift);
    tcase_add_test(tc, update_targets_cover_every_replica);
    tcase_add_test(tc, error_limit_skips_then_forgets);
    tcase_add_test(tc, auth_issues_and_verifies_tokens);
    tcase_add_test(tc, conf_requires_secret);
    tcase_add_test(tc, storlet_proxy_address_parses);
    tcase_add_test(tc, sample_file_matches_table);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * check_common.c - unit tests for the small helpers of common/: util, err,
 * md5, hashpath, log, xalloc. (conf, timestamps and http have their own.)
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/hashpath.h"
#include "common/log.h"
#include "common/md5.h"
#include "common/util.h"
#include "common/xalloc.h"

START_TEST(parse_u64_accepts_only_whole_numbers)
{
    uint64_t v;
    ck_assert_int_eq(parse_u64("0", &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(parse_u64("18446744073709551615", &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_int_eq(parse_u64("18446744073709551616", &v), -ERANGE);
    ck_assert_int_eq(parse_u64("", &v), -EINVAL);
    ck_assert_int_eq(parse_u64("12a", &v), -EINVAL);
    ck_assert_int_eq(parse_u64(" 1", &v), -EINVAL);
    ck_assert_int_eq(parse_u64("-1", &v), -EINVAL);
    ck_assert_int_eq(parse_u64n("123xyz", 3, &v), 0);
    ck_assert_uint_eq(v, 123);
}
END_TEST

START_TEST(parse_i64_handles_sign_and_limits)
{
    int64_t v;
    ck_assert_int_eq(parse_i64("-9223372036854775808", &v), 0);
    ck_assert(v == INT64_MIN);
    ck_assert_int_eq(parse_i64("9223372036854775807", &v), 0);
    ck_assert(v == INT64_MAX);
    ck_assert_int_eq(parse_i64("9223372036854775808", &v), -ERANGE);
    ck_assert_int_eq(parse_i64("-", &v), -EINVAL);
    double d;
    ck_assert_int_eq(parse_double("1.5", &d), 0);
    ck_assert(d == 1.5);
    ck_assert_int_eq(parse_double("1.5x", &d), -EINVAL);
    ck_assert_int_eq(parse_double("inf", &d), -ERANGE);
}
END_TEST

START_TEST(str_copy_truncates_and_terminates)
{
    char buf[4];
    ck_assert_uint_eq(str_copy(buf, "abcdef", sizeof(buf)), 6);
    ck_assert_str_eq(buf, "abc");
    ck_assert_uint_eq(str_copy(buf, "ab", sizeof(buf)), 2);
    ck_assert_str_eq(buf, "ab");
    ck_assert(str_has_prefix("X-Object-Meta-Color", "X-Object-Meta-"));
    ck_assert(!str_has_prefix("X-Obj", "X-Object-Meta-"));
    ck_assert(str_has_suffix("a.data", ".data"));
    ck_assert(!str_has_suffix("a", ".data"));
}
END_TEST

START_TEST(err_set_formats_and_returns_code)
{
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(e.code, 0);
    ck_assert_int_eq(err_set(&e, -EINVAL, "%s:%d: bad", "f.conf", 3), -EINVAL);
    ck_assert_str_eq(e.msg, "f.conf:3: bad");
    ck_assert_int_eq(err_set(NULL, -EIO, "x"), -EIO);
}
END_TEST

START_TEST(md5_matches_known_digests)
{
    char hex[MD5_HEX_LEN];
    struct md5 m;
    md5_init(&m);
    md5_final_hex(&m, hex);
    ck_assert_str_eq(hex, "d41d8cd98f00b204e9800998ecf8427e");
    md5_init(&m);
    md5_update(&m, "hello ", 6);
    md5_update(&m, "world", 5);
    md5_final_hex(&m, hex);
    ck_assert_str_eq(hex, "5eb63bbbe01eeed093cb22bb8f5acdc3");
}
END_TEST

START_TEST(hashpath_is_swifts_formula)
{
    /* Expected digests computed independently from Swift's formula
     * md5(prefix + "/" + "/".join(names) + suffix). */
    struct hashpath_secret s = {"pre", "suf"};
    char hex[MD5_HEX_LEN];
    unsigned char d[MD5_DIGEST_LEN];
    hashpath_hex(&s, "AUTH_test", "photos", "cat.jpg", hex);
    ck_assert_str_eq(hex, "7abccbb64ac39553294325bb4dc0ecf8");
    hashpath_digest(&s, "AUTH_test", "photos", "cat.jpg", d);
    ck_assert_uint_eq(hashpath_partition(d, 10), 490);
    ck_assert_uint_eq(hashpath_partition(d, 0), 0);
    ck_assert_uint_eq(hashpath_partition(d, 32), 0x7abccbb6u);

    struct hashpath_secret t = {"", "changeme"};
    hashpath_hex(&t, "AUTH_test", NULL, NULL, hex);
    ck_assert_str_eq(hex, "9d00c9d091fea9ea855f29c22714dc83");
    struct hashpath_secret u = {"", ""};
    hashpath_hex(&u, "AUTH_test", "c", NULL, hex);
    ck_assert_str_eq(hex, "01157aa5908b49b4fb4b1238265443d1");

    /* An empty object name is left out, as Swift's hash_path does. */
    struct hashpath_secret v = {"", "suf"};
    hashpath_hex(&v, "AUTH_test", "c", "", hex);
    ck_assert_str_eq(hex, "3afe64bf6a6b1f0a08ad32b19743e990");

    /* A path longer than the one-piece buffer takes the incremental path
     * and gives the same digest. */
    char longname[601];
    memset(longname, 'x', 600);
    longname[600] = '\0';
    hashpath_hex(&s, "AUTH_test", "photos", longname, hex);
    ck_assert_str_eq(hex, "1441606333e9385e3e191c3f5e3f977c");
}
END_TEST

struct captured {
    int calls;
    enum log_level level;
    char line[256];
};

static void capture_sink(enum log_level level, const char *component,
                         const char *txn, const char *msg, void *arg)
{
    struct captured *c = arg;
    c->calls++;
    c->level = level;
    snprintf(c->line, sizeof(c->line), "%s|%s|%s", component, txn, msg);
}

START_TEST(log_filters_by_level_and_carries_txn)
{
    struct captured c = {0};
    log_set_sink(capture_sink, &c);
    log_set_level(LOG_LVL_NOTICE);
    log_msg(LOG_LVL_INFO, "objectd", "dropped %d", 1);
    ck_assert_int_eq(c.calls, 0);
    log_set_txn("tx123");
    log_msg(LOG_LVL_WARNING, "objectd", "disk %s slow", "sdb1");
    ck_assert_int_eq(c.calls, 1);
    ck_assert_int_eq(c.level, LOG_LVL_WARNING);
    ck_assert_str_eq(c.line, "objectd|tx123|disk sdb1 slow");
    log_set_txn(NULL);
    log_msg(LOG_LVL_ERR, "ring", "x");
    ck_assert_str_eq(c.line, "ring||x");
    ck_assert_int_eq(log_level_parse("Warning"), LOG_LVL_WARNING);
    ck_assert_int_eq(log_level_parse("verbose"), -1);
    ck_assert_int_eq(log_use_syslog("LOG_NOPE"), -EINVAL);
    log_set_sink(NULL, NULL);
}
END_TEST

START_TEST(xalloc_injected_failure_aborts)
{
    char *a = xstrdup("fine");
    ck_assert_str_eq(a, "fine");
    free(a);
    char *f = xasprintf("%s-%d", "obj", 7);
    ck_assert_str_eq(f, "obj-7");
    free(f);
    xalloc_fail_after(2);
    free(xmalloc(1));
    (void)xmalloc(1); /* the second allocation fails: abort() */
}
END_TEST

struct racer {
    const char *path;
    const char *text;
    int failures;
};

static void *race_writes(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < 300; i++)
        if (file_write_atomic(r->path, r->text, strlen(r->text)) != 0)
            r->failures++;
    return NULL;
}

/* Two threads of one process rewriting the same file (an objectd's
 * workers and its updater sweep, say) each succeed every time: their
 * temp files must not collide. */
START_TEST(file_write_atomic_threads_do_not_collide)
{
    char dir[] = "/tmp/cairn-check-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = xasprintf("%s/pending", dir);
    struct racer a = { path, "from thread a", 0 }, b = { path, "thread b wrote this", 0 };
    pthread_t ta, tb;
    ck_assert_int_eq(pthread_create(&ta, NULL, race_writes, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, race_writes, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(a.failures, 0);
    ck_assert_int_eq(b.failures, 0);
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    char buf[64] = {0};
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    ck_assert(n > 0 && (strcmp(buf, a.text) == 0 || strcmp(buf, b.text) == 0));
    char *cmd = xasprintf("rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(path);
}
END_TEST

START_TEST(file_write_atomic_replaces_whole_file)
{
    char dir[] = "/tmp/cairn-check-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = xasprintf("%s/a/b/c.txt", dir);
    char *sub = xasprintf("%s/a/b", dir);
    ck_assert_int_eq(mkdir_p(sub), 0);
    ck_assert_int_eq(file_write_atomic(path, "one", 3), 0);
    ck_assert_int_eq(file_write_atomic(path, "second", 6), 0);
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    char buf[16] = {0};
    ck_assert_uint_eq(fread(buf, 1, sizeof(buf), fp), 6);
    fclose(fp);
    ck_assert_str_eq(buf, "second");
    char *bad = xasprintf("%s/missing/c.txt", dir);
    ck_assert_int_eq(file_write_atomic(bad, "x", 1), -ENOENT);
    char *cmd = xasprintf("rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(bad);
    free(sub);
    free(path);
}
END_TEST

static Suite *common_suite(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("util");
    tcase_add_test(tc, parse_u64_accepts_only_whole_numbers);
    tcase_add_test(tc, parse_i64_handles_sign_and_limits);
    tcase_add_test(tc, str_copy_truncates_and_terminates);
    tcase_add_test(tc, err_set_formats_and_returns_code);
    tcase_add_test(tc, file_write_atomic_replaces_whole_file);
    tcase_add_test(tc, file_write_atomic_threads_do_not_collide);
    suite_add_tcase(s, tc);
    tc = tcase_create("hash");
    tcase_add_test(tc, md5_matches_known_digests);
    tcase_add_test(tc, hashpath_is_swifts_formula);
    suite_add_tcase(s, tc);
    tc = tcase_create("log");
    tcase_add_test(tc, log_filters_by_level_and_carries_txn);
    suite_add_tcase(s, tc);
    tc = tcase_create("xalloc");
    tcase_add_test_raise_signal(tc, xalloc_injected_failure_aborts, SIGABRT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(common_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

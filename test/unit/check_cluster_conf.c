/*
 * check_cluster_conf.c - unit tests for common/cluster_conf: Swift's
 * constraint defaults, loading etc/cairn.conf, the secret check, and that
 * etc/cairn.conf.sample is exactly what the option table renders.
 *
 * After changing the table, regenerate the sample with
 *   CAIRN_UPDATE_SAMPLES=1 build/test/check_cluster_conf
 * (from the repository root, or with CAIRN_SRC set).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cluster_conf.h"
#include "common/util.h"
#include "common/xalloc.h"

START_TEST(defaults_are_swifts)
{
    struct cluster_conf cc = {0};
    cluster_conf_defaults(&cc);
    const struct cluster_constraints *k = &cc.constraints;
    /* Swift 2.30 swift/common/constraints.py */
    ck_assert_uint_eq(k->max_file_size, 5368709122ULL);
    ck_assert_int_eq(k->max_meta_name_length, 128);
    ck_assert_int_eq(k->max_meta_value_length, 256);
    ck_assert_int_eq(k->max_meta_count, 90);
    ck_assert_int_eq(k->max_meta_overall_size, 4096);
    ck_assert_int_eq(k->max_header_size, 8192);
    ck_assert_int_eq(k->max_object_name_length, 1024);
    ck_assert_int_eq(k->container_listing_limit, 10000);
    ck_assert_int_eq(k->account_listing_limit, 10000);
    ck_assert_int_eq(k->max_account_name_length, 256);
    ck_assert_int_eq(k->max_container_name_length, 256);
    ck_assert_int_eq(k->extra_header_count, 0);
    ck_assert_uint_eq(k->valid_api_versions.n, 2);
    ck_assert_str_eq(k->valid_api_versions.v[0], "v1");
    ck_assert_str_eq(k->valid_api_versions.v[1], "v1.0");
    ck_assert_int_eq(cluster_conf_max_header_count(k), 126);
    ck_assert_str_eq(cc.hash_path_prefix, "");
    cluster_conf_release(&cc);
    ck_assert_ptr_null(cc.hash_path_prefix);
}
END_TEST

START_TEST(loads_secrets_and_overrides)
{
    const char *text = "[swift-hash]\n"
                       "swift_hash_path_suffix = changeme\n"
                       "[swift-constraints]\n"
                       "max_file_size = 10Gi\n"
                       "max_meta_count = 10\n"
                       "extra_header_count = 4\n";
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = conf_parse_buf("cairn.conf", text, strlen(text), &e);
    struct cluster_conf cc = {0};
    ck_assert_int_eq(cluster_conf_apply(c, &cc, &e), 0);
    ck_assert_uint_eq(e.count, 0);
    ck_assert_str_eq(cc.hash_path_suffix, "changeme");
    ck_assert_uint_eq(cc.constraints.max_file_size, 10ULL << 30);
    ck_assert_int_eq(cluster_conf_max_header_count(&cc.constraints), 50);
    struct hashpath_secret s = cluster_conf_secret(&cc);
    ck_assert_str_eq(s.prefix, "");
    ck_assert_str_eq(s.suffix, "changeme");
    cluster_conf_release(&cc);
    conf_free(c);
    conf_errors_release(&e);
}
END_TEST

START_TEST(missing_secrets_and_typos_are_errors)
{
    const char *text = "[swift-hash]\n"
                       "[swift-constraints]\n"
                       "max_meta_cont = 10\n"
                       "max_header_size = 0\n"
                       "[storage-policy:0]\n"
                       "name = gold\n";
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = conf_parse_buf("cairn.conf", text, strlen(text), &e);
    struct cluster_conf cc = {0};
    ck_assert_int_eq(cluster_conf_apply(c, &cc, &e), -EINVAL);
    ck_assert_uint_eq(e.count, 4);
    ck_assert_str_eq(e.msgs[0], "cairn.conf:3: unknown key 'max_meta_cont' in "
                                "[swift-constraints], expected a key this "
                                "section knows; did you mean "
                                "'max_meta_count'?");
    ck_assert_str_eq(e.msgs[1], "cairn.conf:5: unknown section "
                                "[storage-policy:0], expected one of "
                                "[swift-hash], [swift-constraints]");
    ck_assert_str_eq(e.msgs[2], "cairn.conf:4: out of range '0' for "
                                "max_header_size in [swift-constraints], "
                                "expected integer from 1 to 2147483647");
    ck_assert_str_eq(e.msgs[3], "cairn.conf: [swift-hash] sets neither "
                                "swift_hash_path_suffix nor "
                                "swift_hash_path_prefix, expected at least "
                                "one secret");
    cluster_conf_release(&cc);
    conf_free(c);
    conf_errors_release(&e);

    conf_errors_init(&e);
    ck_assert_int_eq(cluster_conf_load("/nonexistent/cairn.conf", &cc, &e),
                     -EINVAL);
    ck_assert_uint_eq(e.count, 1);
    cluster_conf_release(&cc);
    conf_errors_release(&e);
}
END_TEST

static char *read_all(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = xmalloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

START_TEST(sample_file_matches_table)
{
    const char *src = getenv("CAIRN_SRC");
    char *path = xasprintf("%s/etc/cairn.conf.sample", src ? src : ".");
    char *want = conf_render_sample(cluster_conf_table, cluster_conf_intro);
    if (getenv("CAIRN_UPDATE_SAMPLES"))
        ck_assert_int_eq(file_write_atomic(path, want, strlen(want)), 0);
    char *have = read_all(path);
    ck_assert_msg(have != NULL, "cannot read %s", path);
    ck_assert_msg(strcmp(have, want) == 0,
                  "%s differs from cluster_conf_table; regenerate with "
                  "CAIRN_UPDATE_SAMPLES=1 build/test/check_cluster_conf",
                  path);
    /* The shipped sample is a valid file that yields the defaults. */
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = conf_parse_buf(path, have, strlen(have), &e);
    struct cluster_conf cc = {0};
    ck_assert_int_eq(conf_load(c, cluster_conf_table, &cc, &e), 0);
    ck_assert_int_eq(cc.constraints.max_meta_count, 90);
    cluster_conf_release(&cc);
    conf_free(c);
    conf_errors_release(&e);
    free(have);
    free(want);
    free(path);
}
END_TEST

static Suite *cluster_conf_suite(void)
{
    Suite *s = suite_create("cluster_conf");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, defaults_are_swifts);
    tcase_add_test(tc, loads_secrets_and_overrides);
    tcase_add_test(tc, missing_secrets_and_typos_are_errors);
    tcase_add_test(tc, sample_file_matches_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cluster_conf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * check_obj_server.c - unit tests for cairn-objectd's configuration:
 * etc/objectd.conf.sample is exactly what obj_conf_table renders, the
 * sample parses to the defaults, and bad values are refused with their
 * file and line.
 *
 * After changing the table, regenerate the sample with
 *   CAIRN_UPDATE_SAMPLES=1 build/test/check_obj_server
 * (from the repository root, or with CAIRN_SRC set).
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_server.h"

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

START_TEST(sample_matches_table)
{
    const char *src = getenv("CAIRN_SRC");
    char *path = xasprintf("%s/etc/objectd.conf.sample", src ? src : ".");
    char *want = conf_render_sample(obj_conf_table, obj_conf_intro);
    if (getenv("CAIRN_UPDATE_SAMPLES"))
        ck_assert_int_eq(file_write_atomic(path, want, strlen(want)), 0);
    char *have = read_all(path);
    ck_assert_msg(have != NULL, "cannot read %s", path);
    ck_assert_msg(strcmp(have, want) == 0,
                  "%s differs from obj_conf_table; regenerate with "
                  "CAIRN_UPDATE_SAMPLES=1 build/test/check_obj_server", path);
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = conf_parse_buf(path, have, strlen(have), &e);
    struct obj_conf oc = {0};
    ck_assert_int_eq(conf_load(c, obj_conf_table, &oc, &e), 0);
    ck_assert_int_eq(oc.bind_port, 6200);
    ck_assert_int_eq(oc.container_port, 6201);
    ck_assert_int_eq(oc.account_port, 6202);
    ck_assert_int_eq(oc.container_update_timeout, 1000);
    ck_assert(oc.mount_check);
    ck_assert_uint_eq(oc.allowed_headers.n, 9);
    obj_conf_release(&oc);
    conf_free(c);
    conf_errors_release(&e);
    free(have);
    free(want);
    free(path);
}
END_TEST

START_TEST(bad_values_have_context)
{
    const char *text = "[DEFAULT]\nworkers = 0\nwokers = 2\n";
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = conf_parse_buf("objectd.conf", text, strlen(text), &e);
    struct obj_conf oc = {0};
    ck_assert_int_eq(conf_load(c, obj_conf_table, &oc, &e), -EINVAL);
    ck_assert_uint_eq(e.count, 2);
    bool line2 = false, line3 = false;
    for (size_t i = 0; i < e.n; i++) {
        line2 |= strstr(e.msgs[i], "objectd.conf:2:") != NULL;
        line3 |= strstr(e.msgs[i], "objectd.conf:3:") != NULL;
    }
    ck_assert_msg(line2 && line3, "%s / %s", e.msgs[0], e.msgs[1]);
    obj_conf_release(&oc);
    conf_free(c);
    conf_errors_release(&e);
}
END_TEST

/* storlet_min_input_rate (docs/storlets.md 3.7): a size per second,
 * 16Mi by default, 0 allowed (no growth), nonsense refused with its line. */
START_TEST(min_input_rate_values)
{
    static const struct {
        const char *text;
        int rc;
        uint64_t want;
    } cases[] = {
        {"[DEFAULT]\n", 0, 16 * 1024 * 1024},
        {"[DEFAULT]\nstorlet_min_input_rate = 256Ki\n", 0, 256 * 1024},
        {"[DEFAULT]\nstorlet_min_input_rate = 100M\n", 0, 100000000},
        {"[DEFAULT]\nstorlet_min_input_rate = 0\n", 0, 0},
        {"[DEFAULT]\nstorlet_min_input_rate = fast\n", -EINVAL, 0},
        {"[DEFAULT]\nstorlet_min_input_rate = -1\n", -EINVAL, 0},
        {"[DEFAULT]\nstorlet_min_input_rate = 2000T\n", -EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct conf_errors e;
        conf_errors_init(&e);
        const char *t = cases[i].text;
        struct conf *c = conf_parse_buf("objectd.conf", t, strlen(t), &e);
        struct obj_conf oc = {0};
        ck_assert_int_eq(conf_load(c, obj_conf_table, &oc, &e), cases[i].rc);
        if (cases[i].rc == 0)
            ck_assert_uint_eq(oc.storlet_min_input_rate, cases[i].want);
        else
            ck_assert_msg(e.n == 1 && strstr(e.msgs[0], "objectd.conf:2:") &&
                              strstr(e.msgs[0], "storlet_min_input_rate"),
                          "%s", e.n ? e.msgs[0] : "no error");
        obj_conf_release(&oc);
        conf_free(c);
        conf_errors_release(&e);
    }
}
END_TEST

static Suite *obj_server_suite(void)
{
    Suite *s = suite_create("obj_server");
    TCase *tc = tcase_create("conf");
    tcase_add_test(tc, sample_matches_table);
    tcase_add_test(tc, bad_values_have_context);
    tcase_add_test(tc, min_input_rate_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(obj_server_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

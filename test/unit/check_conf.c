/*
 * check_conf.c - unit tests for common/conf: the INI syntax as Swift's
 * configparser reads it, every value type, the table rules (unknown keys and
 * sections, [DEFAULT] inheritance, prefix sections, free-form keys), error
 * accumulation with file:line, and the sample renderer.
 */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/xalloc.h"

struct tconf {
    char *log_level;
    bool debug;
    int64_t workers;
    uint64_t chunk;
    int64_t timeout_ms;
    char *banner;
    char *devices;
    int mode;
    struct conf_list groups;
    struct conf_kv_list users;
    int64_t token_life;
};

struct tfilter {
    char *use;
    int64_t weight;
};

static const char *const modes[] = {"fast", "safe", "paranoid", NULL};

#define O(f) offsetof(struct tconf, f)
#define F(f) offsetof(struct tfilter, f)
static const struct conf_option table[] = {
    {"DEFAULT", "log_level", CONF_STRING, O(log_level), "notice", 0, 0, NULL,
     0, "How much to log."},
    {"app", "debug", CONF_BOOL, O(debug), "false", 0, 0, NULL, 0,
     "Extra checks."},
    {"app", "workers", CONF_INT, O(workers), "4", 1, 64, NULL, 0,
     "Worker threads."},
    {"app", "chunk", CONF_SIZE, O(chunk), "64Ki", 0, 0, NULL, 0, NULL},
    {"app", "timeout", CONF_DURATION, O(timeout_ms), "0.5", 1, 60000, NULL, 0,
     "How long to wait."},
    {"app", "banner", CONF_STRING, O(banner), NULL, 0, 0, NULL, 0, NULL},
    {"app", "devices", CONF_PATH, O(devices), "/srv/node", 0, 0, NULL, 0,
     NULL},
    {"app", "mode", CONF_ENUM, O(mode), "safe", 0, 0, modes, 0, NULL},
    {"app", "groups", CONF_LIST, O(groups), "a, b", 0, 0, NULL, 0, NULL},
    {"auth", "token_life", CONF_INT, O(token_life), "86400", 0, 0, NULL, 0,
     NULL},
    {"auth", "user_*", CONF_KV, O(users), NULL, 0, 0, NULL, 0,
     "user_<account>_<user> = <key> [group ...]"},
    {"filter:*", "use", CONF_STRING, F(use), NULL, 0, 0, NULL, CONF_REQUIRED,
     NULL},
    {"filter:*", "weight", CONF_INT, F(weight), "1", 0, 10, NULL, 0, NULL},
    CONF_END,
};

static struct conf *parse(const char *text, struct conf_errors *errs)
{
    return conf_parse_buf("t.conf", text, strlen(text), errs);
}

/* True when some kept message equals want exactly. */
static bool has_msg(const struct conf_errors *e, const char *want)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->msgs[i], want) == 0)
            return true;
    return false;
}

/* Shows the messages when TEST_VERBOSE is set, to write new expectations. */
static void dump(const struct conf_errors *e)
{
    if (getenv("TEST_VERBOSE"))
        conf_errors_print(e, stderr);
}

START_TEST(syntax_follows_configparser)
{
    struct conf_errors e;
    conf_errors_init(&e);
    const char *text =
        "\xef\xbb\xbf# comment\r\n"
        "; also a comment\n"
        "[app]\n"
        "Workers: 8\r\n"
        "  # indented comment\n"
        "banner = first line\n"
        "   second line\n"
        "\tthird\n"
        "\n"
        "set debug = yes\n"
        "mode=paranoid # not a comment\n"
        "[ auth ]\n"
        "token_life =\n";
    struct conf *c = parse(text, &e);
    dump(&e);
    ck_assert_uint_eq(e.count, 0);
    ck_assert_uint_eq(conf_section_count(c), 2);
    ck_assert_str_eq(conf_section_name(c, 0), "app");
    ck_assert_str_eq(conf_section_name(c, 1), "auth");
    unsigned line = 0;
    ck_assert_str_eq(conf_get(c, "app", "workers", &line), "8");
    ck_assert_uint_eq(line, 4);
    ck_assert_str_eq(conf_get(c, "app", "banner", NULL),
                     "first line\nsecond line\nthird");
    ck_assert_str_eq(conf_get(c, "app", "debug", NULL), "yes");
    ck_assert_str_eq(conf_get(c, "app", "mode", NULL),
                     "paranoid # not a comment");
    ck_assert_str_eq(conf_get(c, "auth", "token_life", NULL), "");
    ck_assert_ptr_null(conf_get(c, "app", "nope", NULL));
    ck_assert_str_eq(conf_name(c), "t.conf");
    conf_free(c);
    conf_errors_release(&e);
}
END_TEST

START_TEST(syntax_errors_are_all_reported_with_lines)
{
    struct conf_errors e;
    conf_errors_init(&e);
    const char *text =
        "orphan = 1\n"         /* 1 */
        "[app\n"               /* 2 */
        "[]\n"                 /* 3 */
        "[app]\n"              /* 4 */
        "just words\n"         /* 5 */
        "= 3\n"                /* 6 */
        "two words = 3\n"      /* 7 */
        "workers = 1\n"        /* 8 */
        "WORKERS = 2\n"        /* 9 */
        "[app]\n"              /* 10 */
        "workers = 3\n";       /* 11: skipped with its duplicate section */
    struct conf *c = parse(text, &e);
    dump(&e);
    ck_assert_uint_eq(e.count, 8);
    ck_assert(has_msg(&e, "t.conf:10: section [app] already defined at line "
                          "4, expected each section once"));
    ck_assert(has_msg(&e, "t.conf:1: key 'orphan' before any section, "
                          "expected a [section] header first"));
    ck_assert(has_msg(&e, "t.conf:2: section header '[app' has no closing "
                          "']', expected [name]"));
    ck_assert(has_msg(&e, "t.conf:3: empty section name, expected [name]"));
    ck_assert(has_msg(&e, "t.conf:5: 'just words' is not an option line, "
                          "expected key = value, [section] or a # comment"));
    ck_assert(has_msg(&e, "t.conf:6: missing key before '=', expected "
                          "key = value"));
    ck_assert(has_msg(&e, "t.conf:7: key 'two words' contains a space, "
                          "expected a key of printable ASCII without "
                          "spaces"));
    ck_assert(has_msg(&e, "t.conf:9: key 'workers' already set in [app] at "
                          "line 8, expected each key once per section"));
    /* The first [app] survives; the second is skipped. */
    ck_assert_str_eq(conf_get(c, "app", "workers", NULL), "1");
    conf_free(c);
    conf_errors_release(&e);

    conf_errors_init(&e);
    c = parse("[a]\n[b]\n[a]\n", &e);
    ck_assert(has_msg(&e, "t.conf:3: section [a] already defined at line 1, "
                          "expected each section once"));
    conf_free(c);
    conf_errors_release(&e);

    conf_errors_init(&e);
    static const char nul[] = "[app]\nwor\0kers = 1\n";
    c = conf_parse_buf("n.conf", nul, sizeof(nul) - 1, &e);
    ck_assert(has_msg(&e, "n.conf:2: NUL byte in line, expected text"));
    conf_free(c);
    conf_errors_release(&e);
}
END_TEST

START_TEST(defaults_fill_an_empty_file)
{
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = parse("", &e);
    struct tconf t = {0};
    ck_assert_int_eq(conf_load(c, table, &t, &e), 0);
    dump(&e);
    ck_assert_str_eq(t.log_level, "notice");
    ck_assert(!t.debug);
    ck_assert_int_eq(t.workers, 4);
    ck_assert_uint_eq(t.chunk, 65536);
    ck_assert_int_eq(t.timeout_ms, 500);
    ck_assert_str_eq(t.banner, "");
    ck_assert_str_eq(t.devices, "/srv/node");
    ck_assert_int_eq(t.mode, 1);
    ck_assert_uint_eq(t.groups.n, 2);
    ck_assert_str_eq(t.groups.v[0], "a");
    ck_assert_str_eq(t.groups.v[1], "b");
    ck_assert_uint_eq(t.users.n, 0);
    ck_assert_int_eq(t.token_life, 86400);
    conf_release(table, &t);
    ck_assert_ptr_null(t.banner);
    conf_release(table, &t); /* twice is fine */
    conf_free(c);
    conf_errors_release(&e);
}
END_TEST

START_TEST(values_of_every_type)
{
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = parse("[DEFAULT]\n"
                           "log_level = debug\n"
                           "workers = 2\n"
                           "[app]\n"
                           "debug = On\n"
                           "chunk = 3Mi\n"
                           "timeout = 0.75m\n"
                           "devices = /data\n"
                           "mode = fast\n"
                           "groups = x,y  z,,\n"
                           "  w\n"
                           "[auth]\n"
                           "workers = 7\n", &e);
    struct tconf t = {0};
    int rc = conf_load(c, table, &t, &e);
    dump(&e);
    /* workers is not an [auth] key: an error, though [DEFAULT]'s is fine */
    ck_assert_int_eq(rc, -EINVAL);
    ck_assert_uint_eq(e.count, 1);
    ck_assert(has_msg(&e, "t.conf:13: unknown key 'workers' in [auth], "
                          "expected a key this section knows"));
    ck_assert_str_eq(t.log_level, "debug");
    ck_assert(t.debug);
    ck_assert_int_eq(t.workers, 2); /* inherited from [DEFAULT] */
    ck_assert_uint_eq(t.chunk, 3u << 20);
    ck_assert_int_eq(t.timeout_ms, 45000);
    ck_assert_str_eq(t.devices, "/data");
    ck_assert_int_eq(t.mode, 0);
    ck_assert_uint_eq(t.groups.n, 4);
    ck_assert_str_eq(t.groups.v[0], "x");
    ck_assert_str_eq(t.groups.v[2], "z");
    ck_assert_str_eq(t.groups.v[3], "w");
    conf_release(table, &t);
    conf_free(c);
    conf_errors_release(&e);
}
END_TEST

START_TEST(section_value_beats_default_section)
{
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = parse("[DEFAULT]\nworkers = 2\ntimeout = 250ms\n"
                           "[app]\nset workers = 9\n", &e);
    struct tconf t = {0};
    ck_assert_int_eq(conf_load(c, table, &t, &e), 0);
    ck_assert_int_eq(t.workers, 9);
    ck_assert_int_eq(t.timeout_ms, 250);
    conf_release(table, &t);
    conf_free(c);
    conf_errors_release(&e);
}
END_TEST

START_TEST(bad_values_name_what_was_expected)
{
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = parse("[app]\n"
                           "debug = maybe\n"
                           "workers = 65\n"
                           "chunk = 12q\n"
                           "timeout = 2h\n"
                           "devices = relative/dir\n"
                           "mode = quick\n"
                           "wokers = 3\n"
                           "[nope]\n"
                           "x = 1\n"
                           "[DEFAULT]\n"
                           "colour = red\n"
                           "[auth]\n"
                           "log_level = info\n", &e);
    struct tconf t = {0};
    ck_assert_int_eq(conf_load(c, table, &t, &e), -EINVAL);
    dump(&e);
    ck_assert_uint_eq(e.count, 10);
    ck_assert(has_msg(&e, "t.conf:2: bad value 'maybe' for debug in [app], "
                          "expected boolean (true/yes/on/1 or "
                          "false/no/off/0)"));
    ck_assert(has_msg(&e, "t.conf:3: out of range '65' for workers in [app], "
                          "expected integer from 1 to 64"));
    ck_assert(has_msg(&e, "t.conf:4: bad value '12q' for chunk in [app], "
                          "expected size in bytes (suffix k, M, G, T or Ki, "
                          "Mi, Gi, Ti allowed)"));
    ck_assert(has_msg(&e, "t.conf:5: out of range '2h' for timeout in [app], "
                          "expected duration in seconds (fraction or suffix "
                          "ms, s, m, h allowed) from 1ms to 60000ms"));
    ck_assert(has_msg(&e, "t.conf:6: not an absolute path 'relative/dir' for "
                          "devices in [app], expected absolute path"));
    ck_assert(has_msg(&e, "t.conf:7: bad value 'quick' for mode in [app], "
                          "expected one of fast, safe, paranoid"));
    ck_assert(has_msg(&e, "t.conf:8: unknown key 'wokers' in [app], expected "
                          "a key this section knows; did you mean "
                          "'workers'?"));
    ck_assert(has_msg(&e, "t.conf:9: unknown section [nope], expected one of "
                          "[app], [auth], [filter:*]"));
    ck_assert(has_msg(&e, "t.conf:12: unknown key 'colour' in [DEFAULT], "
                          "expected a key this program knows"));
    ck_assert(has_msg(&e, "t.conf:14: key 'log_level' is not valid in "
                          "[auth], expected it in [DEFAULT]"));
    /* bad values leave the defaults in place */
    ck_assert(!t.debug);
    ck_assert_int_eq(t.workers, 4);
    ck_assert_int_eq(t.mode, 1);
    conf_release(table, &t);
    conf_free(c);
    conf_errors_release(&e);
}
END_TEST

START_TEST(prefix_sections_and_free_form_keys)
{
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = parse("[auth]\n"
                           "user_admin_admin = admin .admin .reseller_admin\n"
                           "user_test_tester = testing .admin\n"
                           "token_life = 60\n"
                           "[filter:tempauth]\n"
                           "use = egg:swift#tempauth\n"
                           "[filter:cache]\n"
                           "use = egg:swift#memcache\n"
                           "weight = 3\n"
                           "[filter:bad]\n"
                           "weight = 11\n"
                           "other = 1\n", &e);
    struct tconf t = {0};
    ck_assert_int_eq(conf_load(c, table, &t, &e), -EINVAL);
    dump(&e);
    ck_assert_uint_eq(e.count, 3);
    ck_assert(has_msg(&e, "t.conf:12: unknown key 'other' in [filter:bad], "
                          "expected a key this section knows"));
    ck_assert(has_msg(&e, "t.conf:11: out of range '11' for weight in "
                          "[filter:bad], expected integer from 0 to 10"));
    ck_assert(has_msg(&e, "t.conf:10: [filter:bad] has no use, expected it "
                          "to be set"));
    ck_assert_uint_eq(t.users.n, 2);
    ck_assert_str_eq(t.users.v[0].key, "user_admin_admin");
    ck_assert_str_eq(t.users.v[0].value, "admin .admin .reseller_admin");
    ck_assert_uint_eq(t.users.v[0].line, 2);
    ck_assert_str_eq(t.users.v[1].key, "user_test_tester");
    ck_assert_int_eq(t.token_life, 60);

    struct tfilter f = {0};
    conf_errors_release(&e);
    conf_errors_init(&e);
    ck_assert_int_eq(conf_load_section(c, "filter:cache", table, &f, &e), 0);
    ck_assert_str_eq(f.use, "egg:swift#memcache");
    ck_assert_int_eq(f.weight, 3);
    conf_release_section(table, "filter:cache", &f);
    ck_assert_ptr_null(f.use);
    char *eff = conf_render_effective(table, &t);
    ck_assert_ptr_nonnull(strstr(eff, "[auth]\ntoken_life = 60\n"
                                      "user_admin_admin = admin .admin "
                                      ".reseller_admin\n"));
    ck_assert_ptr_nonnull(strstr(eff, "timeout = 500ms\n"));
    free(eff);
    conf_release(table, &t);
    ck_assert_uint_eq(t.users.n, 0);
    conf_free(c);
    conf_errors_release(&e);
}
END_TEST

START_TEST(free_form_section_takes_any_key)
{
    struct anyconf {
        struct conf_kv_list kv;
    };
    static const struct conf_option any[] = {
        {"users", "*", CONF_KV, offsetof(struct anyconf, kv), NULL, 0, 0,
         NULL, 0, "One line per user."},
        CONF_END,
    };
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = parse("[users]\nAlice = 1\nbob: two words\n"
                           "  continued\n", &e);
    struct anyconf a = {{0, NULL}};
    ck_assert_int_eq(conf_load(c, any, &a, &e), 0);
    ck_assert_uint_eq(a.kv.n, 2);
    ck_assert_str_eq(a.kv.v[0].key, "alice");
    ck_assert_str_eq(a.kv.v[0].value, "1");
    ck_assert_str_eq(a.kv.v[1].key, "bob");
    ck_assert_str_eq(a.kv.v[1].value, "two words\ncontinued");
    ck_assert_uint_eq(a.kv.v[1].line, 3);
    char *s = conf_render_sample(any, NULL);
    ck_assert_str_eq(s, "[users]\n# One line per user.\n"
                        "# any number of * = value lines; none by default\n"
                        "# * =\n");
    free(s);
    conf_release(any, &a);
    ck_assert_uint_eq(a.kv.n, 0);
    conf_free(c);
    conf_errors_release(&e);
}
END_TEST

START_TEST(single_value_parsers)
{
    bool b;
    const char *yes[] = {"true", "1", "yes", "on", "t", "y", "TRUE", "Yes"};
    const char *no[] = {"false", "0", "no", "off", "f", "n", "False"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        b = false;
        ck_assert_int_eq(conf_parse_bool(yes[i], &b), 0);
        ck_assert(b);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        b = true;
        ck_assert_int_eq(conf_parse_bool(no[i], &b), 0);
        ck_assert(!b);
    }
    ck_assert_int_eq(conf_parse_bool("", &b), -EINVAL);
    ck_assert_int_eq(conf_parse_bool("2", &b), -EINVAL);

    uint64_t u;
    ck_assert_int_eq(conf_parse_size("0", &u), 0);
    ck_assert_uint_eq(u, 0);
    ck_assert_int_eq(conf_parse_size("5k", &u), 0);
    ck_assert_uint_eq(u, 5000);
    ck_assert_int_eq(conf_parse_size("5K", &u), 0);
    ck_assert_uint_eq(u, 5000);
    ck_assert_int_eq(conf_parse_size("5Ki", &u), 0);
    ck_assert_uint_eq(u, 5120);
    ck_assert_int_eq(conf_parse_size("2M", &u), 0);
    ck_assert_uint_eq(u, 2000000);
    ck_assert_int_eq(conf_parse_size("5G", &u), 0);
    ck_assert_uint_eq(u, 5000000000ULL);
    ck_assert_int_eq(conf_parse_size("5Gi", &u), 0);
    ck_assert_uint_eq(u, 5ULL << 30);
    ck_assert_int_eq(conf_parse_size("1Ti", &u), 0);
    ck_assert_uint_eq(u, 1ULL << 40);
    ck_assert_int_eq(conf_parse_size("16777216Ti", &u), -ERANGE);
    ck_assert_int_eq(conf_parse_size("18446744073709551616", &u), -ERANGE);
    ck_assert_int_eq(conf_parse_size("1.5G", &u), -EINVAL);
    ck_assert_int_eq(conf_parse_size("-1", &u), -EINVAL);
    ck_assert_int_eq(conf_parse_size("k", &u), -EINVAL);
    ck_assert_int_eq(conf_parse_size("1 k", &u), -EINVAL);
    ck_assert_int_eq(conf_parse_size("1KB", &u), -EINVAL);

    int64_t ms;
    ck_assert_int_eq(conf_parse_duration_ms("10", &ms), 0);
    ck_assert_int_eq(ms, 10000);
    ck_assert_int_eq(conf_parse_duration_ms("0.5", &ms), 0);
    ck_assert_int_eq(ms, 500);
    ck_assert_int_eq(conf_parse_duration_ms(".25s", &ms), 0);
    ck_assert_int_eq(ms, 250);
    ck_assert_int_eq(conf_parse_duration_ms("250ms", &ms), 0);
    ck_assert_int_eq(ms, 250);
    ck_assert_int_eq(conf_parse_duration_ms("1.5m", &ms), 0);
    ck_assert_int_eq(ms, 90000);
    ck_assert_int_eq(conf_parse_duration_ms("2h", &ms), 0);
    ck_assert_int_eq(ms, 7200000);
    ck_assert_int_eq(conf_parse_duration_ms("0.0004", &ms), 0);
    ck_assert_int_eq(ms, 0);
    ck_assert_int_eq(conf_parse_duration_ms("-1", &ms), -EINVAL);
    ck_assert_int_eq(conf_parse_duration_ms("1d", &ms), -EINVAL);
    ck_assert_int_eq(conf_parse_duration_ms("1e3", &ms), -EINVAL);
    ck_assert_int_eq(conf_parse_duration_ms(".", &ms), -EINVAL);
    ck_assert_int_eq(conf_parse_duration_ms("1..2", &ms), -EINVAL);
    ck_assert_int_eq(conf_parse_duration_ms("", &ms), -EINVAL);
    ck_assert_int_eq(conf_parse_duration_ms("99999999999999999999h", &ms),
                     -ERANGE);
}
END_TEST

START_TEST(required_keys_and_bad_defaults)
{
    static const struct conf_option req[] = {
        {"s", "must", CONF_INT, 0, NULL, 0, 0, NULL, CONF_REQUIRED, NULL},
        CONF_END,
    };
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = parse("", &e);
    int64_t v = 7;
    ck_assert_int_eq(conf_load(c, req, &v, &e), -EINVAL);
    ck_assert(has_msg(&e, "t.conf: no section [s], expected it with must "
                          "set"));
    ck_assert_int_eq(v, 0);
    conf_free(c);
    conf_errors_release(&e);

    conf_errors_init(&e);
    c = parse("[DEFAULT]\nmust = 5\n", &e);
    ck_assert_int_eq(conf_load(c, req, &v, &e), 0);
    ck_assert_int_eq(v, 5);
    conf_free(c);
    conf_errors_release(&e);

    static const struct conf_option broken[] = {
        {"s", "n", CONF_INT, 0, "ten", 0, 0, NULL, 0, NULL},
        CONF_END,
    };
    conf_errors_init(&e);
    c = parse("", &e);
    ck_assert_int_eq(conf_load(c, broken, &v, &e), -EINVAL);
    ck_assert(has_msg(&e, "option table: default 'ten' of n in [s] is "
                          "invalid (bad value)"));
    conf_free(c);
    conf_errors_release(&e);
}
END_TEST

START_TEST(files_and_check_report)
{
    char path[] = "/tmp/cairn-conf-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char text[] = "[app]\nworkers = 0\nwokers = 1\n";
    ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
    close(fd);
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = conf_parse_file(path, &e);
    ck_assert_ptr_nonnull(c);
    struct tconf t = {0};
    conf_load(c, table, &t, &e);
    ck_assert_uint_eq(e.count, 2);
    char *want = xasprintf("%s:2: out of range '0' for workers", path);
    ck_assert(strncmp(e.msgs[0], want, strlen(want)) == 0 ||
              strncmp(e.msgs[1], want, strlen(want)) == 0);
    free(want);
    char *out = NULL;
    size_t outlen = 0;
    FILE *mem = open_memstream(&out, &outlen);
    ck_assert_int_eq(conf_check_report(path, &e, mem), 2);
    fclose(mem);
    ck_assert_ptr_nonnull(strstr(out, ":3: unknown key 'wokers'"));
    free(out);
    conf_release(table, &t);
    conf_free(c);
    conf_errors_release(&e);

    conf_errors_init(&e);
    mem = open_memstream(&out, &outlen);
    ck_assert_int_eq(conf_check_report("x.conf", &e, mem), 0);
    fclose(mem);
    ck_assert_str_eq(out, "x.conf: configuration OK\n");
    free(out);

    unlink(path);
    ck_assert_ptr_null(conf_parse_file(path, &e));
    ck_assert_uint_eq(e.count, 1);
    ck_assert_ptr_nonnull(strstr(e.msgs[0], ": cannot open: No such file"));
    conf_errors_release(&e);
}
END_TEST

START_TEST(error_list_is_bounded)
{
    struct conf_errors e;
    conf_errors_init(&e);
    char *text = xstrdup("");
    for (int i = 0; i < 150; i++) {
        char *next = xasprintf("%sbad line %d\n", text, i);
        free(text);
        text = next;
    }
    struct conf *c = parse(text, &e);
    ck_assert_uint_eq(e.count, 150);
    ck_assert_uint_eq(e.n, CONF_ERRORS_MAX);
    char *out = NULL;
    size_t outlen = 0;
    FILE *mem = open_memstream(&out, &outlen);
    conf_errors_print(&e, mem);
    fclose(mem);
    ck_assert_ptr_nonnull(strstr(out, "... and 50 more errors\n"));
    free(out);
    free(text);
    conf_free(c);
    conf_errors_release(&e);
}
END_TEST

START_TEST(sample_renders_every_option_and_parses_clean)
{
    char *s = conf_render_sample(table, "test.conf.sample - for tests.");
    ck_assert(strncmp(s, "# test.conf.sample - for tests.\n\n[DEFAULT]\n",
                      42) == 0);
    ck_assert_ptr_nonnull(strstr(s,
        "[app]\n"
        "# Extra checks.\n"
        "# boolean (true/yes/on/1 or false/no/off/0); default false\n"
        "# debug = false\n\n"
        "# Worker threads.\n"
        "# integer from 1 to 64; default 4\n"
        "# workers = 4\n\n"));
    ck_assert_ptr_nonnull(strstr(s, "# banner =\n"));
    ck_assert_ptr_nonnull(strstr(s, "# [filter:<name>]\n"));
    ck_assert_ptr_nonnull(strstr(s, "# use =\n"));
    ck_assert_ptr_nonnull(strstr(s, "; required\n"));
    /* Every option appears once as a commented assignment. */
    for (const struct conf_option *o = table; o->section; o++) {
        char *pat = xasprintf("\n# %s =", o->name);
        ck_assert_msg(strstr(s, pat), "%s missing from sample", o->name);
        free(pat);
    }
    /* The sample itself is a valid file that yields the defaults. */
    struct conf_errors e;
    conf_errors_init(&e);
    struct conf *c = parse(s, &e);
    struct tconf t = {0};
    ck_assert_int_eq(conf_load(c, table, &t, &e), 0);
    ck_assert_int_eq(t.workers, 4);
    /* Same table, same text. */
    char *again = conf_render_sample(table, "test.conf.sample - for tests.");
    ck_assert_str_eq(s, again);
    free(again);
    conf_release(table, &t);
    conf_free(c);
    conf_errors_release(&e);
    free(s);
}
END_TEST

static Suite *conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("syntax");
    tcase_add_test(tc, syntax_follows_configparser);
    tcase_add_test(tc, syntax_errors_are_all_reported_with_lines);
    tcase_add_test(tc, error_list_is_bounded);
    tcase_add_test(tc, files_and_check_report);
    suite_add_tcase(s, tc);
    tc = tcase_create("table");
    tcase_add_test(tc, defaults_fill_an_empty_file);
    tcase_add_test(tc, values_of_every_type);
    tcase_add_test(tc, section_value_beats_default_section);
    tcase_add_test(tc, bad_values_name_what_was_expected);
    tcase_add_test(tc, prefix_sections_and_free_form_keys);
    tcase_add_test(tc, required_keys_and_bad_defaults);
    tcase_add_test(tc, free_form_section_takes_any_key);
    suite_add_tcase(s, tc);
    tc = tcase_create("values");
    tcase_add_test(tc, single_value_parsers);
    suite_add_tcase(s, tc);
    tc = tcase_create("sample");
    tcase_add_test(tc, sample_renders_every_option_and_parses_clean);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * check_eng_cache.c - unit tests for the bound on the storlet code cache
 * (engine/eng_cache.c): least recently used entries go first, a code
 * directory held in use (by this process or another one) or pinned by warm
 * sandboxes never goes, a cache over its bound at start is trimmed, and a
 * file larger than the bound is refused.
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/md5.h"
#include "common/util.h"
#include "engine/eng.h"

static char cache_dir[64];

static int rm_one(const char *p, const struct stat *st, int f, struct FTW *w)
{
    (void)st;
    (void)f;
    (void)w;
    remove(p);
    return 0;
}

static struct eng *engine(uint64_t max, bool fresh)
{
    if (fresh) {
        str_copy(cache_dir, "/tmp/check_eng_cache.XXXXXX", sizeof(cache_dir));
        ck_assert_ptr_nonnull(mkdtemp(cache_dir));
        chmod(cache_dir, 0755);
    }
    struct eng_config cfg = { .cache_dir = cache_dir, .cache_max = max };
    struct err e;
    err_clear(&e);
    struct eng *g = eng_start(&cfg, &e);
    ck_assert_msg(g != NULL, "%s", e.msg);
    return g;
}

static void done(struct eng *g)
{
    eng_free(g);
    nftw(cache_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Caches `len` bytes of `c` as object `name`; etag gets its ETag. */
static void fill(struct eng *g, const char *name, char c, size_t len, char etag[MD5_HEX_LEN])
{
    char buf[4096];
    ck_assert_uint_le(len, sizeof(buf));
    memset(buf, c, len);
    struct md5 m;
    md5_init(&m);
    md5_update(&m, buf, len);
    md5_final_hex(&m, etag);
    struct err e;
    err_clear(&e);
    struct eng_fill *f = eng_cache_begin(g, "AUTH_t", name, etag, &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    ck_assert_int_eq(eng_cache_write(f, buf, len), 0);
    ck_assert_msg(eng_cache_commit(f, &e) == 0, "%s", e.msg);
}

static struct eng_code code_of(const char *name, const char *etag)
{
    return (struct eng_code){ .account = "AUTH_t", .name = name, .etag = etag,
                              .language = "native", .main = name };
}

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

START_TEST(least_recently_used_files_go_first)
{
    struct eng *g = engine(250, true);
    char a[MD5_HEX_LEN], b[MD5_HEX_LEN], c[MD5_HEX_LEN];
    fill(g, "a", 'a', 100, a);
    fill(g, "b", 'b', 100, b);
    ck_assert_uint_eq(eng_cache_bytes(g), 200);
    ck_assert(eng_cache_has(g, "AUTH_t", "a", a));   /* a is now newer than b */
    fill(g, "c", 'c', 100, c);                        /* 300 > 250: one goes */
    ck_assert(!eng_cache_has(g, "AUTH_t", "b", b));
    ck_assert(eng_cache_has(g, "AUTH_t", "a", a));
    ck_assert(eng_cache_has(g, "AUTH_t", "c", c));
    ck_assert_uint_eq(eng_cache_bytes(g), 200);
    done(g);
}
END_TEST

START_TEST(unbounded_keeps_everything)
{
    struct eng *g = engine(0, true);
    char et[MD5_HEX_LEN];
    fill(g, "a", 'a', 3000, et);
    fill(g, "b", 'b', 3000, et);
    fill(g, "c", 'c', 3000, et);
    ck_assert_uint_eq(eng_cache_bytes(g), 9000);
    done(g);
}
END_TEST

START_TEST(held_code_dir_stays_until_released)
{
    struct eng *g = engine(1000, true);
    char s1[MD5_HEX_LEN], x[MD5_HEX_LEN];
    fill(g, "s1", '1', 400, s1);
    struct eng_code c = code_of("s1", s1);
    char dir[4096];
    int hold;
    struct err e;
    err_clear(&e);
    ck_assert_msg(eng_code_dir_hold(g, &c, dir, sizeof(dir), &hold, &e) == 0, "%s", e.msg);
    ck_assert_int_ge(hold, 0);
    ck_assert(exists(dir));
    /* a run holds it as well, then the build's hold goes */
    int run = eng_cache_hold(g, dir);
    ck_assert_int_ge(run, 0);
    eng_cache_release(hold);
    /* over the bound with the directory the oldest entry: it stays */
    fill(g, "x", 'x', 900, x);
    ck_assert(exists(dir));
    ck_assert(!eng_cache_has(g, "AUTH_t", "s1", s1));   /* the file could go */
    ck_assert_uint_eq(eng_cache_bytes(g), 1300);
    /* the run ends: the next insertion may take it */
    eng_cache_release(run);
    fill(g, "y", 'y', 10, x);
    ck_assert(!exists(dir));
    ck_assert_int_eq(eng_cache_hold(g, dir), -ENOENT);
    ck_assert_uint_le(eng_cache_bytes(g), 1000);
    /* not a directory of this cache: never held */
    ck_assert_int_eq(eng_cache_hold(g, "/tmp"), -EINVAL);
    done(g);
}
END_TEST

START_TEST(pinned_code_dir_never_goes)
{
    struct eng *g = engine(500, true);
    char s1[MD5_HEX_LEN], x[MD5_HEX_LEN];
    fill(g, "s1", '1', 400, s1);
    struct eng_code c = code_of("s1", s1);
    char dir[4096];
    struct err e;
    err_clear(&e);
    ck_assert_msg(eng_code_dir(g, &c, dir, sizeof(dir), &e) == 0, "%s", e.msg);
    ck_assert_int_eq(eng_cache_pin(g, dir), 0);
    fill(g, "x", 'x', 450, x);
    fill(g, "y", 'y', 450, x);
    ck_assert(exists(dir));
    done(g);
}
END_TEST

/* Another process sharing the directory holds a code directory: the
 * evictor here must leave it alone until that process lets go. */
START_TEST(a_hold_in_another_process_counts)
{
    struct eng *g = engine(1000, true);
    char s1[MD5_HEX_LEN], x[MD5_HEX_LEN];
    fill(g, "s1", '1', 400, s1);
    struct eng_code c = code_of("s1", s1);
    char dir[4096];
    struct err e;
    err_clear(&e);
    ck_assert_msg(eng_code_dir(g, &c, dir, sizeof(dir), &e) == 0, "%s", e.msg);
    int up[2], down[2];
    ck_assert_int_eq(pipe(up), 0);
    ck_assert_int_eq(pipe(down), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int h = eng_cache_hold(g, dir);
        char ch = h >= 0 ? 'y' : 'n';
        if (write(up[1], &ch, 1) != 1 || read(down[0], &ch, 1) != 1)
            _exit(2);
        _exit(0);
    }
    char ch = 0;
    ck_assert_int_eq(read(up[0], &ch, 1), 1);
    ck_assert_int_eq(ch, 'y');
    fill(g, "x", 'x', 900, x);
    ck_assert(exists(dir));
    ck_assert_int_eq(write(down[1], "k", 1), 1);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    fill(g, "y", 'y', 10, x);
    ck_assert(!exists(dir));
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
    done(g);
}
END_TEST

/* A file larger than the whole bound could never fit: refused at the
 * first byte over it, so no storlet fills the cache's disk. */
START_TEST(a_file_over_the_bound_is_refused)
{
    struct eng *g = engine(1000, true);
    struct err e;
    err_clear(&e);
    struct eng_fill *f = eng_cache_begin(g, "AUTH_t", "big", "0123456789abcdef0123456789abcdef",
                                         &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    char buf[600];
    memset(buf, 'b', sizeof(buf));
    ck_assert_int_eq(eng_cache_write(f, buf, sizeof(buf)), 0);
    ck_assert_int_eq(eng_cache_write(f, buf, 400), 0);     /* exactly 1000 */
    ck_assert_int_eq(eng_cache_write(f, buf, 1), -EFBIG);
    eng_cache_abort(f);
    ck_assert_uint_eq(eng_cache_bytes(g), 0);
    done(g);
}
END_TEST

START_TEST(start_trims_what_is_there)
{
    struct eng *g = engine(0, true);
    char a[MD5_HEX_LEN], b[MD5_HEX_LEN], c[MD5_HEX_LEN];
    fill(g, "a", 'a', 1000, a);
    fill(g, "b", 'b', 1000, b);
    fill(g, "c", 'c', 1000, c);
    eng_free(g);
    g = engine(2500, false);
    ck_assert_uint_eq(eng_cache_bytes(g), 2000);
    ck_assert(!eng_cache_has(g, "AUTH_t", "a", a));
    ck_assert(eng_cache_has(g, "AUTH_t", "c", c));
    done(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eng_cache");
    TCase *tc = tcase_create("cache");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, least_recently_used_files_go_first);
    tcase_add_test(tc, unbounded_keeps_everything);
    tcase_add_test(tc, held_code_dir_stays_until_released);
    tcase_add_test(tc, pinned_code_dir_never_goes);
    tcase_add_test(tc, a_hold_in_another_process_counts);
    tcase_add_test(tc, start_trims_what_is_there);
    tcase_add_test(tc, a_file_over_the_bound_is_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

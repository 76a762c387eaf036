/*
 * check_sbx.c - unit tests for sandbox/: the policy (defaults, checks, JSON),
 * cgroup detection from mountinfo texts (v1, v2, hybrid, none), the seccomp
 * filter loaded into a forked child, and one round trip through a forked
 * launcher (needs root and user namespaces, as on the project's hosts).
 *
 * The seccomp tests include sandbox/sbx_int.h: the filter is private to the
 * launcher, and loading it directly is the only way to ask "what happens to
 * syscall X" without a whole sandbox around it (STYLE R14 exception).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/sbx.h"
#include "sandbox/sbx_int.h"

/* ------------------------------------------------------------ policy */

START_TEST(policy_defaults_differ_by_class)
{
    struct sbx_policy u, a;
    sbx_policy_init(&u, SBX_CLASS_USER, 7);
    sbx_policy_init(&a, SBX_CLASS_ADMIN, 7);
    ck_assert_int_eq(u.tenant, 7);
    ck_assert_uint_eq(sbx_policy_host_id(&u), SBX_UID_BASE_DEFAULT + 7);
    ck_assert(u.mem_bytes > 0 && u.mem_bytes < a.mem_bytes);
    ck_assert(u.pids_max > 0 && u.pids_max < a.pids_max);
    ck_assert(u.wall_ms > 0 && u.wall_ms < a.wall_ms);
    ck_assert_int_eq(u.weaken, 0);
    ck_assert_int_eq(sbx_policy_check(&u, NULL), 0);
    ck_assert_int_eq(sbx_policy_check(&a, NULL), 0);
}
END_TEST

START_TEST(tenants_never_share_an_identity)
{
    struct sbx_policy p, q;
    sbx_policy_init(&p, SBX_CLASS_USER, 1);
    sbx_policy_init(&q, SBX_CLASS_USER, 2);
    ck_assert_uint_ne(sbx_policy_host_id(&p), sbx_policy_host_id(&q));
    /* only the test-only weakening collapses them */
    p.weaken = q.weaken = SBX_WEAKEN_IDENTITY;
    ck_assert_uint_eq(sbx_policy_host_id(&p), sbx_policy_host_id(&q));
}
END_TEST

START_TEST(policy_check_rejects_bad_values)
{
    struct sbx_policy p;
    struct err e;
    sbx_policy_init(&p, SBX_CLASS_USER, SBX_TENANT_MAX);
    ck_assert_int_eq(sbx_policy_check(&p, &e), -EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "tenant"));
    sbx_policy_init(&p, SBX_CLASS_USER, 0);
    p.inside_id = 0;
    ck_assert_int_eq(sbx_policy_check(&p, &e), -EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "inside_id"));
    sbx_policy_init(&p, SBX_CLASS_USER, 0);
    p.uid_base = 1000;
    ck_assert_int_eq(sbx_policy_check(&p, &e), -EINVAL);
    sbx_policy_init(&p, SBX_CLASS_USER, 0);
    p.uid_base = UINT32_MAX - 10;
    ck_assert_int_eq(sbx_policy_check(&p, &e), -EINVAL);
    sbx_policy_init(&p, SBX_CLASS_USER, 0);
    p.weaken = 1u << 20;
    ck_assert_int_eq(sbx_policy_check(&p, &e), -EINVAL);
    sbx_policy_init(&p, SBX_CLASS_USER, 0);
    p.nofile = 3;
    ck_assert_int_eq(sbx_policy_check(&p, &e), -EINVAL);
}
END_TEST

START_TEST(policy_json_round_trips)
{
    struct sbx_policy p, q;
    struct err e;
    sbx_policy_init(&p, SBX_CLASS_ADMIN, 42);
    p.mem_bytes = 123456789;
    p.weaken = SBX_WEAKEN_SECCOMP | SBX_WEAKEN_NETNS;
    char *s = sbx_policy_to_json(&p);
    ck_assert_int_eq(sbx_policy_from_json(s, &q, &e), 0);
    ck_assert_mem_eq(&p, &q, sizeof(p));
    free(s);
}
END_TEST

START_TEST(policy_json_is_strict)
{
    struct sbx_policy p;
    struct err e;
    /* class defaults apply to the keys not given */
    ck_assert_int_eq(sbx_policy_from_json("{\"class\":\"user\",\"tenant\":3}", &p, &e), 0);
    ck_assert_int_eq(p.tenant, 3);
    ck_assert_uint_eq(p.pids_max, 64);
    ck_assert_int_eq(sbx_policy_from_json("{\"tenat\":3}", &p, &e), -EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "tenat"));
    ck_assert_int_eq(sbx_policy_from_json("{\"class\":\"root\"}", &p, &e), -EINVAL);
    ck_assert_int_eq(sbx_policy_from_json("{\"tenant\":-1}", &p, &e), -EINVAL);
    ck_assert_int_eq(sbx_policy_from_json("{\"tenant\":\"1\"}", &p, &e), -EINVAL);
    ck_assert_int_eq(sbx_policy_from_json("{\"tenant\":4294967296}", &p, &e), -EINVAL);
    ck_assert_int_eq(sbx_policy_from_json("{\"tenant\":1,\"tenant\":2}", &p, &e), -EINVAL);
    ck_assert_int_eq(sbx_policy_from_json("[1]", &p, &e), -EINVAL);
    ck_assert_int_eq(sbx_policy_from_json("{", &p, &e), -EINVAL);
}
END_TEST

START_TEST(end_names_round_trip)
{
    for (int i = SBX_END_EXIT; i <= SBX_END_ERROR; i++)
        ck_assert_int_eq(sbx_end_parse(sbx_end_name((enum sbx_end)i)), i);
    ck_assert_int_eq(sbx_end_parse("bogus"), -1);
}
END_TEST

/* ------------------------------------------------------------ cgroups */

static const char *v1_mountinfo =
    "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char *v1_self =
    "8:pids:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n";

static int no_controllers(const char *dir, char *buf, size_t sz)
{
    buf[0] = '\0';
    return 0;
}

static int all_controllers(const char *dir, char *buf, size_t sz)
{
    snprintf(buf, sz, "cpuset cpu io memory pids\n");
    return 0;
}

START_TEST(cgroup_detects_v1_when_unified_is_empty)
{
    struct sbx_cgroup_host h;
    ck_assert_int_eq(sbx_cgroup_detect(v1_mountinfo, v1_self, no_controllers, &h), 0);
    ck_assert_int_eq(h.mode, SBX_CGROUP_V1);
    ck_assert_str_eq(h.memory, "/sys/fs/cgroup/memory/process_api/abc");
    ck_assert_str_eq(h.pids, "/sys/fs/cgroup/pids");
    ck_assert_str_eq(h.cpu, "/sys/fs/cgroup/cpu");
    ck_assert_str_eq(sbx_cgroup_mode_name(h.mode), "v1");
}
END_TEST

START_TEST(cgroup_prefers_v2_with_controllers)
{
    static const char *mi =
        "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
        "30 22 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
    struct sbx_cgroup_host h;
    ck_assert_int_eq(sbx_cgroup_detect(mi, "0::/system.slice/cairn.service\n",
                                       all_controllers, &h), 0);
    ck_assert_int_eq(h.mode, SBX_CGROUP_V2);
    ck_assert_str_eq(h.unified, "/sys/fs/cgroup/system.slice/cairn.service");
    /* a v2 hierarchy without memory+pids delegated is not usable */
    ck_assert_int_eq(sbx_cgroup_detect(mi, "0::/x\n", no_controllers, &h), 0);
    ck_assert_int_eq(h.mode, SBX_CGROUP_NONE);
}
END_TEST

START_TEST(cgroup_none_without_hierarchies)
{
    struct sbx_cgroup_host h;
    ck_assert_int_eq(sbx_cgroup_detect("22 1 254:0 / / rw - ext4 /dev/vda rw\n", "",
                                       no_controllers, &h), 0);
    ck_assert_int_eq(h.mode, SBX_CGROUP_NONE);
    ck_assert_str_eq(sbx_cgroup_mode_name(h.mode), "none");
    /* memory alone (no pids) is not enough for a fork-bomb cap */
    static const char *mi =
        "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    ck_assert_int_eq(sbx_cgroup_detect(mi, "4:memory:/\n", no_controllers, &h), 0);
    ck_assert_int_eq(h.mode, SBX_CGROUP_NONE);
    ck_assert_int_eq(sbx_cgroup_detect("garbage without fields\n", "", no_controllers, &h),
                     -EINVAL);
}
END_TEST

/* ------------------------------------------------------------ seccomp */

/* Forks; the child loads the filter and runs fn; returns the wait status. */
static int under_filter(bool kill_hostile, int (*fn)(void))
{
    struct sock_fprog prog;
    ck_assert_int_eq(sbx_seccomp_build(kill_hostile, &prog), 0);
    ck_assert_int_gt(prog.len, 10);
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1)
            _exit(100);
        _exit(fn());
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    sbx_seccomp_free(&prog);
    return st;
}

/* Each returns the errno of a call that would fail harmlessly if allowed
 * (bad fd / bad pointer), as bubblewrap's try-syscall does. */
static int try_getpid(void) { return getpid() > 0 ? 0 : 1; }
static int try_ptrace(void) { return syscall(SYS_ptrace, 0x4206, -1, 0, 0) == -1 ? errno : 0; }
static int try_mount(void) { return syscall(SYS_mount, NULL, NULL, NULL, 0, NULL) == -1 ? errno : 0; }
static int try_unshare(void) { return syscall(SYS_unshare, 0) == -1 ? errno : 0; }
static int try_inet(void) { return socket(AF_INET, SOCK_STREAM, 0) == -1 ? errno : 0; }
static int try_unix(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    return fd >= 0 ? 0 : errno;
}
static int try_clone3(void) { return syscall(SYS_clone3, NULL, 0) == -1 ? errno : 0; }
static int try_clone_newuser(void)
{
    return syscall(SYS_clone, 0x10000000UL | SIGCHLD, NULL, NULL, NULL, NULL) == -1 ? errno : 0;
}
static int try_x32(void) { return syscall(0x40000000 | SYS_getpid) == -1 ? errno : 0; }
static int try_tiocsti(void)
{
    char c = 'x';
    /* high bits set: the kernel would still see TIOCSTI */
    return syscall(SYS_ioctl, -1, 0x100000000UL | 0x5412UL, &c) == -1 ? errno : 0;
}
static int try_tcgets(void)
{
    char buf[64];
    return syscall(SYS_ioctl, -1, 0x5401UL, buf) == -1 ? errno : 0;
}
static int try_unknown(void) { return syscall(SYS_acct, NULL) == -1 ? errno : 0; }

START_TEST(seccomp_user_kills_hostile_calls)
{
    int st = under_filter(true, try_getpid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int (*hostile[])(void) = { try_ptrace, try_mount, try_unshare, try_clone_newuser,
                               try_x32, try_unknown };
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        st = under_filter(true, hostile[i]);
        ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
                      "hostile case %zu: status 0x%x", i, st);
    }
}
END_TEST

START_TEST(seccomp_denies_with_errno_where_a_fallback_exists)
{
    int st = under_filter(true, try_inet);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == EAFNOSUPPORT);
    st = under_filter(true, try_unix);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    st = under_filter(true, try_clone3);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == ENOSYS);
    st = under_filter(true, try_tiocsti);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == EPERM);
    st = under_filter(true, try_tcgets);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == EBADF);   /* allowed, bad fd */
}
END_TEST

START_TEST(seccomp_admin_denies_with_eperm)
{
    int st = under_filter(false, try_ptrace);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == EPERM);
    st = under_filter(false, try_mount);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == EPERM);
    st = under_filter(false, try_clone_newuser);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == EPERM);
    /* the foreign ABI is killed in every class */
    st = under_filter(false, try_x32);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
}
END_TEST

/* ------------------------------------------------------------ launcher */

static struct sbx_result run_opts(const struct sbx_launcher_opts *o, const char *path,
                                  const char *const *argv, const struct sbx_policy *p,
                                  bool warm, const char *expect_out)
{
    int pid;
    int fd = sbx_launcher_fork(o, &pid);
    ck_assert_int_ge(fd, 0);
    struct sbx_client *c = sbx_client_adopt(fd);
    struct err e;
    err_clear(&e);
    if (warm)
        ck_assert_msg(sbx_client_prewarm(c, p, 1, &e) == 0, "%s", e.msg);
    int out[2];
    ck_assert_int_eq(pipe(out), 0);
    int fds[1] = { out[1] };
    int tg[1] = { SBX_FD_OUTPUT };
    struct sbx_request req = { .policy = p, .path = path, .argv = argv, .fds = fds,
                               .fd_target = tg, .nfds = 1, .warm = warm };
    struct sbx_result r;
    ck_assert_msg(sbx_client_run(c, &req, NULL, NULL, &r, &e) == 0, "%s", e.msg);
    close(out[1]);
    char buf[256];
    ssize_t n = read(out[0], buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(out[0]);
    if (expect_out)
        ck_assert_str_eq(buf, expect_out);
    sbx_client_free(c);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    return r;
}

static struct sbx_result run_one(const char *path, const char *const *argv,
                                 const struct sbx_policy *p, bool warm,
                                 const char *expect_out)
{
    struct sbx_launcher_opts o = { .allow_weaken = false };
    return run_opts(&o, path, argv, p, warm, expect_out);
}

START_TEST(launcher_runs_a_program_cold_and_warm)
{
    struct sbx_policy p;
    sbx_policy_init(&p, SBX_CLASS_USER, 5);
    static const char *const argv[] = { "/usr/bin/id", "-u", NULL };
    for (int warm = 0; warm < 2; warm++) {
        struct sbx_result r = run_one("/usr/bin/id", argv, &p, warm, "1000\n");
        ck_assert_int_eq(r.end, SBX_END_EXIT);
        ck_assert_int_eq(r.exit_code, 0);
        ck_assert_int_eq(r.warm, warm);
        ck_assert_int_gt(r.host_pid, 1);
        ck_assert_uint_eq(r.output_bytes, 5);
    }
}
END_TEST

/* The sandbox's mount table holds its own mounts only: the read-only
 * image, its proc and scratch; nothing of the host or of the prepared
 * namespace it was copied from (sbx_root.c) is left in it. */
START_TEST(launcher_sandbox_mounts_are_its_own)
{
    struct sbx_policy p;
    sbx_policy_init(&p, SBX_CLASS_USER, 5);
    static const char *const argv[] = {
        "/usr/bin/sh", "-c",
        "n=$(wc -l < /proc/self/mountinfo); "
        "bad=$(awk '{print $5, substr($6, 1, 3)}' /proc/self/mountinfo | "
        "grep -v -x -E '/ ro,|/usr ro,|/etc/[^ ]+ ro,|/dev/[^ ]+ (ro|rw),|"
        "/(bin|sbin|lib[^ ]*) ro,|/(proc|tmp) rw,'); "
        "[ \"$n\" -ge 4 ] && echo \"bad:$bad\"",
        NULL,
    };
    for (int warm = 0; warm < 2; warm++) {
        struct sbx_result r = run_one("/usr/bin/sh", argv, &p, warm, "bad:\n");
        ck_assert_int_eq(r.end, SBX_END_EXIT);
        ck_assert_int_eq(r.exit_code, 0);
    }
}
END_TEST

START_TEST(launcher_reports_exec_failure_and_exit_codes)
{
    struct sbx_policy p;
    sbx_policy_init(&p, SBX_CLASS_USER, 5);
    struct sbx_result r = run_one("/no/such/storlet", NULL, &p, false, "");
    ck_assert_int_eq(r.end, SBX_END_ERROR);
    ck_assert_ptr_nonnull(strstr(r.detail, "No such file"));
    static const char *const argv[] = { "/usr/bin/false", NULL };
    r = run_one("/usr/bin/false", argv, &p, false, "");
    ck_assert_int_eq(r.end, SBX_END_EXIT);
    ck_assert_int_eq(r.exit_code, 1);
}
END_TEST

START_TEST(launcher_without_cgroups_still_sandboxes)
{
    struct sbx_launcher_opts o = { .force_no_cgroup = true };
    struct sbx_policy p;
    sbx_policy_init(&p, SBX_CLASS_USER, 6);
    static const char *const argv[] = { "/usr/bin/id", "-u", NULL };
    struct sbx_result r = run_opts(&o, "/usr/bin/id", argv, &p, false, "1000\n");
    ck_assert_int_eq(r.end, SBX_END_EXIT);
    ck_assert_uint_eq(r.cpu_throttled, 0);
    /* the rlimit backstop still applies: a 1-second CPU limit ends a spin */
    p.cpu_seconds = 1;
    p.idle_ms = 0;
    static const char *const spin[] = { "/usr/bin/python3", "-S", "-c", "while 1: pass",
                                        NULL };
    r = run_opts(&o, "/usr/bin/python3", spin, &p, false, "");
    ck_assert_int_eq(r.end, SBX_END_CPU_LIMIT);
}
END_TEST

START_TEST(launcher_refuses_weakened_policies_by_default)
{
    struct sbx_policy p;
    sbx_policy_init(&p, SBX_CLASS_USER, 5);
    p.weaken = SBX_WEAKEN_SECCOMP;
    struct sbx_result r = run_one("/usr/bin/true", NULL, &p, false, "");
    ck_assert_int_eq(r.end, SBX_END_ERROR);
    ck_assert_ptr_nonnull(strstr(r.detail, "weaken"));
}
END_TEST

static Suite *sbx_suite(void)
{
    Suite *s = suite_create("sbx");
    TCase *tc = tcase_create("policy");
    tcase_add_test(tc, policy_defaults_differ_by_class);
    tcase_add_test(tc, tenants_never_share_an_identity);
    tcase_add_test(tc, policy_check_rejects_bad_values);
    tcase_add_test(tc, policy_json_round_trips);
    tcase_add_test(tc, policy_json_is_strict);
    tcase_add_test(tc, end_names_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("cgroup");
    tcase_add_test(tc, cgroup_detects_v1_when_unified_is_empty);
    tcase_add_test(tc, cgroup_prefers_v2_with_controllers);
    tcase_add_test(tc, cgroup_none_without_hierarchies);
    suite_add_tcase(s, tc);
    tc = tcase_create("seccomp");
    tcase_add_test(tc, seccomp_user_kills_hostile_calls);
    tcase_add_test(tc, seccomp_denies_with_errno_where_a_fallback_exists);
    tcase_add_test(tc, seccomp_admin_denies_with_eperm);
    suite_add_tcase(s, tc);
    tc = tcase_create("launcher");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, launcher_runs_a_program_cold_and_warm);
    tcase_add_test(tc, launcher_sandbox_mounts_are_its_own);
    tcase_add_test(tc, launcher_reports_exec_failure_and_exit_codes);
    tcase_add_test(tc, launcher_refuses_weakened_policies_by_default);
    tcase_add_test(tc, launcher_without_cgroups_still_sandboxes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sbx_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

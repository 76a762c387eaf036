/*
 * cairn-sbx-launch - the storlet sandbox launcher as a program.
 *
 *   cairn-sbx-launch --socket PATH [--allow-weaken] [--no-cgroup] [--max N]
 *       [--tenant-max N]
 *       serve clients on a UNIX seqpacket socket (the engine, tests)
 *   cairn-sbx-launch --listen-fd N ...
 *       serve clients on an inherited listening socket (how the daemons
 *       start it: sbx_launcher_exec())
 *   cairn-sbx-launch --fd N ...
 *       serve one already connected client; exit when it hangs up
 *   cairn-sbx-launch run [--policy JSON] [--code-dir DIR] -- PATH [ARG...]
 *       run one sandbox with our stdin/stdout/stderr, print the result as
 *       JSON on stderr, exit with the storlet's exit code (125 otherwise)
 *   cairn-sbx-launch bench [--count N] [--tenant T] [--no-cgroup] [--policy JSON]
 *       measure invocation overhead, cold and warm, of /usr/bin/true and
 *       python3 -c pass; prints one JSON line per case
 *
 * The launcher itself is library code (sandbox/sbx.h); this file only
 * parses arguments. Single-threaded, as the launcher must be.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "sandbox/sbx.h"

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
    fprintf(stderr,
            "usage: cairn-sbx-launch --socket PATH | --listen-fd N | --fd N [--allow-weaken]\n"
            "           [--no-cgroup] [--max N] [--tenant-max N] [--log-level L]\n"
            "           [--log-facility F]\n"
            "       cairn-sbx-launch run [--policy JSON] [--code-dir DIR] "
            "[--allow-weaken] -- PATH [ARG...]\n"
            "       cairn-sbx-launch bench [--count N] [--tenant T] [--no-cgroup] [--policy JSON]\n");
    exit(2);
}

/* Binds under a temporary name and renames once listening, so a client
 * that sees the path can connect at once. */
static int listen_on(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char tmp[sizeof(sa.sun_path)];
    int n = snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        fprintf(stderr, "cairn-sbx-launch: socket path too long: %s\n", path);
        return -1;
    }
    str_copy(sa.sun_path, tmp, sizeof(sa.sun_path));
    struct stat st;
    if (lstat(tmp, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(tmp);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
        chmod(tmp, 0600) == -1 || listen(fd, 64) == -1 || rename(tmp, path) == -1) {
        fprintf(stderr, "cairn-sbx-launch: %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return fd;
}

static int cmd_run(int argc, char **argv)
{
    struct sbx_policy p;
    struct err e;
    struct sbx_launcher_opts opts = { 0 };
    const char *code_dir = NULL;
    err_clear(&e);
    sbx_policy_init(&p, SBX_CLASS_USER, 0);
    int i;
    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
            if (sbx_policy_from_json(argv[++i], &p, &e) < 0) {
                fprintf(stderr, "cairn-sbx-launch: %s\n", e.msg);
                return 2;
            }
        } else if (strcmp(argv[i], "--code-dir") == 0 && i + 1 < argc) {
            code_dir = argv[++i];
        } else if (strcmp(argv[i], "--allow-weaken") == 0) {
            opts.allow_weaken = true;
        } else {
            usage();
        }
    }
    if (i >= argc)
        usage();
    int pid;
    int fd = sbx_launcher_fork(&opts, &pid);
    if (fd < 0) {
        fprintf(stderr, "cairn-sbx-launch: fork launcher: %s\n", strerror(-fd));
        return 125;
    }
    struct sbx_client *c = sbx_client_adopt(fd);
    int fds[3] = { 0, 1, 2 };
    int tg[3] = { SBX_FD_INPUT, SBX_FD_OUTPUT, SBX_FD_LOG };
    struct sbx_request req = {
        .policy = &p, .path = argv[i], .argv = (const char *const *)&argv[i],
        .code_dir = code_dir, .fds = fds, .fd_target = tg, .nfds = 3,
    };
    struct sbx_result r;
    int rc = sbx_client_run(c, &req, NULL, NULL, &r, &e);
    sbx_client_free(c);
    waitpid(pid, NULL, 0);
    if (rc < 0) {
        fprintf(stderr, "cairn-sbx-launch: %s\n", e.msg);
        return 125;
    }
    fprintf(stderr, "{\"end\":\"%s\",\"exit_code\":%d,\"signal\":%d,\"cpu_us\":%llu,"
            "\"max_rss_kb\":%llu,\"wall_us\":%llu,\"setup_us\":%llu,\"detail\":\"%s\"}\n",
            sbx_end_name(r.end), r.exit_code, r.signo, (unsigned long long)r.cpu_us,
            (unsigned long long)r.max_rss_kb, (unsigned long long)r.wall_us,
            (unsigned long long)r.setup_us, r.detail);
    return r.end == SBX_END_EXIT ? r.exit_code : 125;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name, uint64_t *rt, uint64_t *setup, unsigned n,
                   unsigned failures)
{
    qsort(rt, n, sizeof(*rt), cmp_u64);
    qsort(setup, n, sizeof(*setup), cmp_u64);
    printf("{\"case\":\"%s\",\"n\":%u,\"failures\":%u,"
           "\"roundtrip_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f},"
           "\"setup_ms\":{\"p50\":%.3f,\"p99\":%.3f}}\n",
           name, n, failures, rt[n / 2] / 1000.0, rt[n * 9 / 10] / 1000.0,
           rt[n * 99 / 100] / 1000.0, setup[n / 2] / 1000.0,
           setup[n * 99 / 100] / 1000.0);
    fflush(stdout);
}

static int bench_case(struct sbx_client *c, const char *name, struct sbx_policy *p,
                      const char *const *argv, bool warm, unsigned n)
{
    uint64_t *rt = calloc(n, sizeof(*rt)), *setup = calloc(n, sizeof(*setup));
    unsigned fails = 0;
    struct err e;
    err_clear(&e);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    int fds[3] = { devnull, devnull, devnull };
    int tg[3] = { SBX_FD_INPUT, SBX_FD_OUTPUT, SBX_FD_LOG };
    for (unsigned i = 0; i < n; i++) {
        if (warm && sbx_client_prewarm(c, p, 1, &e) < 0) {
            fprintf(stderr, "bench: %s\n", e.msg);
            return -1;
        }
        struct sbx_request req = {
            .policy = p, .path = argv[0], .argv = argv, .fds = fds, .fd_target = tg,
            .nfds = 3, .warm = warm,
        };
        struct sbx_result r;
        uint64_t t0 = now_mono_ns();
        int rc = sbx_client_run(c, &req, NULL, NULL, &r, &e);
        rt[i] = (now_mono_ns() - t0) / 1000;
        setup[i] = rc == 0 ? r.setup_us : 0;
        if (rc < 0 || r.end != SBX_END_EXIT || r.exit_code != 0 || r.warm != warm) {
            fails++;
            if (fails == 1)
                fprintf(stderr, "bench %s: %s %s\n", name,
                        rc < 0 ? e.msg : sbx_end_name(r.end), rc < 0 ? "" : r.detail);
        }
    }
    close(devnull);
    report(name, rt, setup, n, fails);
    free(rt);
    free(setup);
    return fails ? -1 : 0;
}

/* The same program without any sandbox: fork, exec, wait from here. */
static void bench_plain(const char *name, const char *const *argv, unsigned n)
{
    uint64_t *rt = calloc(n, sizeof(*rt)), *zero = calloc(n, sizeof(*zero));
    unsigned fails = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t t0 = now_mono_ns();
        pid_t p = fork();
        if (p == 0) {
            int fd = open("/dev/null", O_RDWR);
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
            execv(argv[0], (char *const *)argv);
            _exit(127);
        }
        int st = 0;
        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
            fails++;
        rt[i] = (now_mono_ns() - t0) / 1000;
    }
    report(name, rt, zero, n, fails);
    free(rt);
    free(zero);
}

static int cmd_bench(int argc, char **argv)
{
    unsigned n = 200;
    uint64_t v;
    struct sbx_launcher_opts opts = { 0 };
    struct sbx_policy p;
    sbx_policy_init(&p, SBX_CLASS_USER, 0);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc &&
            parse_u64(argv[i + 1], &v) == 0 && v > 0 && v < 100000)
            n = (unsigned)v, i++;
        else if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc &&
                 parse_u64(argv[i + 1], &v) == 0 && v < SBX_TENANT_MAX)
            p.tenant = (uint32_t)v, i++;
        else if (strcmp(argv[i], "--no-cgroup") == 0)
            opts.force_no_cgroup = true;
        else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
            struct err e;
            if (sbx_policy_from_json(argv[++i], &p, &e) < 0) {
                fprintf(stderr, "bench: %s\n", e.msg);
                return 2;
            }
        } else
            usage();
    }
    int pid;
    int fd = sbx_launcher_fork(&opts, &pid);
    if (fd < 0) {
        fprintf(stderr, "bench: fork launcher: %s\n", strerror(-fd));
        return 1;
    }
    struct sbx_client *c = sbx_client_adopt(fd);
    static const char *const true_argv[] = { "/usr/bin/true", NULL };
    static const char *const py_argv[] = { "/usr/bin/python3", "-S", "-c", "pass", NULL };
    int rc = 0;
    bench_plain("true-unsandboxed", true_argv, n);
    rc |= bench_case(c, "true-cold", &p, true_argv, false, n);
    rc |= bench_case(c, "true-warm", &p, true_argv, true, n);
    bench_plain("python3-unsandboxed", py_argv, n / 4 ? n / 4 : 1);
    rc |= bench_case(c, "python3-cold", &p, py_argv, false, n / 4 ? n / 4 : 1);
    rc |= bench_case(c, "python3-warm", &p, py_argv, true, n / 4 ? n / 4 : 1);
    sbx_client_free(c);
    waitpid(pid, NULL, 0);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    log_set_ident("cairn-sbx-launch");
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "bench") == 0)
        return cmd_bench(argc - 2, argv + 2);
    struct sbx_launcher_opts opts = { 0 };
    const char *sock = NULL;
    int conn = -1, lfd = -1;
    uint64_t v;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
            sock = argv[++i];
        else if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc &&
                 parse_u64(argv[i + 1], &v) == 0 && v < 1024)
            conn = (int)v, i++;
        else if (strcmp(argv[i], "--listen-fd") == 0 && i + 1 < argc &&
                 parse_u64(argv[i + 1], &v) == 0 && v < 1024)
            lfd = (int)v, i++;
        else if (strcmp(argv[i], "--log-facility") == 0 && i + 1 < argc) {
            if (log_use_syslog(argv[++i]) < 0) {
                fprintf(stderr, "cairn-sbx-launch: unknown log facility %s\n", argv[i]);
                return 2;
            }
        }
        else if (strcmp(argv[i], "--allow-weaken") == 0)
            opts.allow_weaken = true;
        else if (strcmp(argv[i], "--no-cgroup") == 0)
            opts.force_no_cgroup = true;
        else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc &&
                 parse_u64(argv[i + 1], &v) == 0 && v > 0 && v <= 4096)
            opts.max_sandboxes = (unsigned)v, i++;
        else if (strcmp(argv[i], "--tenant-max") == 0 && i + 1 < argc &&
                 parse_u64(argv[i + 1], &v) == 0 && v <= 4096)
            opts.tenant_max = (unsigned)v, i++;
        else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc &&
                 log_level_parse(argv[i + 1]) >= 0)
            log_set_level((enum log_level)log_level_parse(argv[++i]));
        else
            usage();
    }
    if ((!sock && conn == -1 && lfd == -1) || (sock && lfd != -1))
        usage();
    if (sock && (lfd = listen_on(sock)) < 0)
        return 1;
    if (lfd != -1 && !sock)
        fcntl(lfd, F_SETFD, FD_CLOEXEC);
    if (conn != -1)
        fcntl(conn, F_SETFD, FD_CLOEXEC);
    if (opts.allow_weaken)
        log_warn("test mode: policies may weaken the sandbox (--allow-weaken)");
    int rc = sbx_launcher_serve(lfd, conn, &opts);
    if (sock)
        unlink(sock);
    return rc < 0 ? 1 : 0;
}

/* The hostile storlets of test/integration/storlet_attacks_node.py: the
 * resource and cross-tenant attacks, deployed through the proxy and run by
 * a real object node, each held in its hostile state while the node serves
 * other requests.
 *
 * Run as a native storlet's dependency, from a main script that closes fd 3
 * (no output metadata) and execs it with the case's arguments. Every mode
 * that holds first reaches its hostile state, then opens the GATE: it puts
 * the read end of a pipe it made at start on fd 10 and blocks reading it.
 * The test sees fd 10 become a pipe in /proc/<pid>/fd (the attack is alive
 * and in that state), does its checks, then releases the attack by opening
 * /proc/<pid>/fd/10 for writing and writing a byte: the attack goes on to
 * the part the sandbox must stop. The pipe's write end stays open in the
 * attack (fd 61), so the read blocks until the test writes.
 *
 * Modes (argv[1]); HOLD is 1 (gate) or 0 (run straight through):
 *   cpu THREADS         THREADS threads spin; gate; then the main thread
 *                       writes a byte of output and spins 100 ms, forever
 *                       (never idle, so only the wall clock stops it), until
 *                       a second byte comes through the gate: exit 0
 *   fork N HOLD         fork up to N children that pause; [gate]; report
 *   mem MIB HOLD        touch MIB MiB; [gate]; when held, then touch 16 MiB
 *                       more at a time without end; report what it got
 *   disk MIB HOLD       write MIB MiB to /tmp in 1 MiB pieces; [gate]; report
 *   fds N HOLD          open /dev/null up to N times; [gate]; report
 *   flood KIB HOLD      write 512 KiB of output; [gate]; write up to KIB KiB
 *   silence             gate (no input read, no output) then print "done"
 *   victim SECRET NAME  writes SECRET to /tmp/secret.txt, becomes dumpable,
 *                       listens on the abstract unix socket @NAME; gate;
 *                       prints how many connections it got and whether its
 *                       secret file is intact
 *   probe VPID NAME UNIXPATH TCPPORTS PATH...
 *                       the cross-tenant and host probes, one output line
 *                       each "label ok|err <errno name or first bytes>":
 *                       signal and /proc of VPID (another tenant's storlet
 *                       by its host pid), connect to @NAME, to UNIXPATH (the
 *                       launcher's socket), TCP to 127.0.0.1 at each of
 *                       TCPPORTS (comma-separated), read each PATH; then
 *                       the same actions on its own things (controls:
 *                       "self-..." labels, which must work); ptrace of VPID
 *                       last, in a child (the filter kills the caller).
 * Reports are one line on stdout (the response body). */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include "attack.h"

enum { GATE_FD = 10, GATE_RD = 60, GATE_WR = 61 };

static void gate_make(void)
{
    int p[2];
    if (pipe(p) < 0 || dup2(p[0], GATE_RD) < 0 || dup2(p[1], GATE_WR) < 0)
        BROKEN("gate pipe: %s", strerror(errno));
    close(p[0]);
    close(p[1]);
}

/* Shows the test that the attack is in its hostile state, then blocks
 * until the test writes a byte. */
static void gate_wait(void)
{
    char c;
    if (dup2(GATE_RD, GATE_FD) < 0)
        BROKEN("gate dup2: %s", strerror(errno));
    while (read(GATE_FD, &c, 1) < 0)
        if (errno != EINTR)
            BROKEN("gate read: %s", strerror(errno));
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf))
        n = (int)sizeof(buf) - 1;
    for (int off = 0; off < n;) {
        ssize_t w = write(1, buf + off, (size_t)(n - off));
        if (w <= 0)
            _exit(3);
        off += (int)w;
    }
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *spin(void *arg)
{
    (void)arg;
    for (;;)
        ;
    return NULL;
}

static int mode_cpu(long threads)
{
    pthread_t t;
    for (long i = 0; i < threads; i++)
        if (pthread_create(&t, NULL, spin, NULL) != 0)
            BROKEN("pthread_create");
    gate_wait();
    int fl = fcntl(GATE_FD, F_GETFL);
    fcntl(GATE_FD, F_SETFL, fl | O_NONBLOCK);
    for (;;) {
        char c;
        if (read(GATE_FD, &c, 1) == 1) {
            out("\nreleased\n");
            return 0;
        }
        out("x");
        double t0 = mono();
        while (mono() - t0 < 0.1)
            ;
    }
}

static int mode_fork(long n, long hold)
{
    long got = 0;
    int err = 0;
    for (; got < n; got++) {
        pid_t p = fork();
        if (p == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (;;)
                pause();
        }
        if (p < 0) {
            err = errno;
            break;
        }
    }
    if (hold)
        gate_wait();
    out("forks %ld of %ld: %s\n", got, n, err ? strerror(err) : "all");
    return 0;
}

static int mode_mem(long mib, long hold)
{
    long got = 0;
    for (;;) {
        if (got >= mib && !hold)
            break;
        if (got == mib && hold)
            gate_wait();
        char *p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            out("mem %ld MiB, then mmap: %s\n", got, strerror(errno));
            return 0;
        }
        memset(p, 0xa5, 16 << 20);
        got += 16;
    }
    out("mem %ld MiB: all\n", got);
    return 0;
}

static int mode_disk(long mib, long hold)
{
    static char buf[1 << 20];
    memset(buf, 0x5a, sizeof(buf));
    signal(SIGXFSZ, SIG_IGN);   /* RLIMIT_FSIZE: EFBIG rather than a kill */
    int fd = open("/tmp/fill", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        BROKEN("open /tmp/fill: %s", strerror(errno));
    long got = 0;
    int err = 0;
    for (; got < mib; got++) {
        ssize_t w = write(fd, buf, sizeof(buf));
        if (w != (ssize_t)sizeof(buf)) {
            err = w < 0 ? errno : ENOSPC;
            break;
        }
    }
    if (hold)
        gate_wait();
    out("disk %ld of %ld MiB: %s\n", got, mib, err ? strerror(err) : "all");
    return 0;
}

static int mode_fds(long n, long hold)
{
    long got = 0;
    int err = 0;
    for (; got < n; got++)
        if (open("/dev/null", O_RDONLY) < 0) {
            err = errno;
            break;
        }
    if (hold)
        gate_wait();
    out("fds %ld of %ld: %s\n", got, n, err ? strerror(err) : "all");
    return 0;
}

static int mode_flood(long kib, long hold)
{
    static char buf[1 << 16];
    memset(buf, 0x5a, sizeof(buf));
    long wrote = 0;
    for (; wrote < kib; wrote += 64) {
        if (wrote == 512 && hold)
            gate_wait();
        for (size_t off = 0; off < sizeof(buf);) {
            ssize_t w = write(1, buf + off, sizeof(buf) - off);
            if (w <= 0) {
                dprintf(2, "flood: write after %ld KiB: %s\n", wrote,
                        w < 0 ? strerror(errno) : "0");
                return 1;
            }
            off += (size_t)w;
        }
    }
    return 0;
}

static int abstract_addr(struct sockaddr_un *sa, const char *name)
{
    size_t n = strlen(name);
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (n + 1 > sizeof(sa->sun_path))
        BROKEN("name too long");
    memcpy(sa->sun_path + 1, name, n);
    return (int)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static int mode_victim(const char *secret, const char *name)
{
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
        BROKEN("dumpable: %s", strerror(errno));
    int fd = open("/tmp/secret.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, secret, strlen(secret)) < 0)
        BROKEN("write secret: %s", strerror(errno));
    close(fd);
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa;
    int len = abstract_addr(&sa, name);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, (socklen_t)len) < 0 || listen(ls, 8) < 0)
        BROKEN("listen @%s: %s", name, strerror(errno));
    gate_wait();
    unsigned got = 0;
    while (accept(ls, NULL, NULL) >= 0)
        got++;
    char buf[256] = "";
    fd = open("/tmp/secret.txt", O_RDONLY);
    ssize_t r = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    buf[r > 0 ? r : 0] = '\0';
    out("victim alive, %u connection(s), secret %s\n", got,
        strcmp(buf, secret) == 0 ? "intact" : "changed");
    return 0;
}

static void report(const char *label, int rc, const char *what)
{
    if (rc == 0)
        out("%s ok %s\n", label, what ? what : "");
    else
        out("%s err %s\n", label, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
}

/* Reads the first bytes of path; the bytes go into the report as hex, so
 * the test can tell what was read. */
static void try_read(const char *label, const char *path)
{
    char buf[64], hex[2 * sizeof(buf) + 1] = "";
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        report(label, -1, NULL);
        return;
    }
    ssize_t n = read(fd, buf, sizeof(buf));
    int saved = errno;
    close(fd);
    if (n < 0) {
        errno = saved;
        report(label, -1, NULL);
        return;
    }
    for (ssize_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)buf[i]);
    report(label, 0, hex);
}

static void try_abstract(const char *label, const char *name)
{
    struct sockaddr_un sa;
    int len = abstract_addr(&sa, name);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    int rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sa, (socklen_t)len);
    report(label, rc, NULL);
    if (fd >= 0)
        close(fd);
}

static void try_unix_path(const char *label, const char *path, int type)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, type, 0);
    int rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    report(label, rc, NULL);
    if (fd >= 0)
        close(fd);
}

static void try_tcp(const char *label, int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    report(label, rc, NULL);
    if (fd >= 0)
        close(fd);
}

static int mode_probe(int argc, char **argv)
{
    if (argc < 6)
        BROKEN("usage: probe VPID NAME UNIXPATH TCPPORTS PATH...");
    pid_t vpid = (pid_t)arg_long(argc, argv, 2, 0);
    char p[256], label[64];

    /* the other tenant's storlet, by its host pid */
    report("signal-0", kill(vpid, 0), NULL);
    report("signal-kill", kill(vpid, SIGKILL), NULL);
    snprintf(p, sizeof(p), "/proc/%d/root/tmp/secret.txt", (int)vpid);
    try_read("proc-root-secret", p);
    snprintf(p, sizeof(p), "/proc/%d/environ", (int)vpid);
    try_read("proc-environ", p);
    try_abstract("abstract-victim", argv[3]);
    try_unix_path("launcher-socket", argv[4], SOCK_SEQPACKET);
    for (char *s = argv[5], *end; *s; s = *end ? end + 1 : end) {
        long port = strtol(s, &end, 10);
        if (end == s)
            BROKEN("bad port list %s", argv[5]);
        snprintf(label, sizeof(label), "tcp-%ld", port);
        try_tcp(label, (int)port);
    }
    for (int i = 6; i < argc; i++) {
        snprintf(label, sizeof(label), "read-%d", i - 6);
        try_read(label, argv[i]);
    }
    /* the host's /proc: not mounted, or only this pid namespace */
    try_read("proc-net-tcp", "/proc/net/tcp");
    try_read("proc-net-unix", "/proc/net/unix");
    try_read("proc-sys-hostname", "/proc/sys/kernel/hostname");
    try_read("proc-kcore", "/proc/kcore");
    try_read("proc-1-environ", "/proc/1/environ");
    try_read("proc-1-root-etc", "/proc/1/root/etc/hostname");
    snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)vpid);
    try_read("proc-vpid-cmdline", p);

    /* controls: the same actions on its own things work */
    int fd = open("/tmp/own.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "own-scratch", 11) != 11)
        BROKEN("own scratch: %s", strerror(errno));
    close(fd);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    char own[64];
    snprintf(own, sizeof(own), "%s-own", argv[3]);
    int len = abstract_addr(&sa, own);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, (socklen_t)len) < 0 || listen(ls, 8) < 0)
        BROKEN("own listen: %s", strerror(errno));
    try_abstract("self-abstract", own);
    int pp[2];
    if (pipe(pp) < 0)
        BROKEN("pipe");
    pid_t kid = fork();
    if (kid == 0) {
        char c;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        close(pp[1]);
        while (read(pp[0], &c, 1) < 0)
            ;
        _exit(0);
    }
    close(pp[0]);
    report("self-signal-0", kill(kid, 0), NULL);
    snprintf(p, sizeof(p), "/proc/%d/root/tmp/own.txt", (int)kid);
    try_read("self-proc-root", p);
    try_read("self-proc-status", "/proc/self/status");
    report("self-signal-kill", kill(kid, SIGKILL), NULL);
    waitpid(kid, NULL, 0);
    close(pp[1]);
    signal(SIGTERM, SIG_IGN);
    report("signal-all", kill(-1, SIGKILL), NULL);

    /* ptrace last, in a child: the filter kills whoever calls it */
    kid = fork();
    if (kid == 0) {
        long r = ptrace(PTRACE_ATTACH, vpid, NULL, NULL);
        _exit(r == 0 ? 0 : 1);
    }
    int ws = 0;
    waitpid(kid, &ws, 0);
    if (WIFSIGNALED(ws))
        out("ptrace killed-by-signal %d\n", WTERMSIG(ws));
    else
        out("ptrace %s exit %d\n", WEXITSTATUS(ws) == 0 ? "ok" : "err", WEXITSTATUS(ws));
    return 0;
}

int main(int argc, char **argv)
{
    attack_name = "node_attack";
    if (argc < 2)
        BROKEN("usage: node_attack MODE ARGS...");
    gate_make();
    const char *m = argv[1];
    if (strcmp(m, "cpu") == 0)
        return mode_cpu(arg_long(argc, argv, 2, 2));
    if (strcmp(m, "fork") == 0)
        return mode_fork(arg_long(argc, argv, 2, 10), arg_long(argc, argv, 3, 0));
    if (strcmp(m, "mem") == 0)
        return mode_mem(arg_long(argc, argv, 2, 64), arg_long(argc, argv, 3, 0));
    if (strcmp(m, "disk") == 0)
        return mode_disk(arg_long(argc, argv, 2, 1), arg_long(argc, argv, 3, 0));
    if (strcmp(m, "fds") == 0)
        return mode_fds(arg_long(argc, argv, 2, 10), arg_long(argc, argv, 3, 0));
    if (strcmp(m, "flood") == 0)
        return mode_flood(arg_long(argc, argv, 2, 1024), arg_long(argc, argv, 3, 0));
    if (strcmp(m, "silence") == 0) {
        gate_wait();
        out("done\n");
        return 0;
    }
    if (strcmp(m, "victim") == 0 && argc > 3)
        return mode_victim(argv[2], argv[3]);
    if (strcmp(m, "probe") == 0)
        return mode_probe(argc, argv);
    BROKEN("unknown mode %s", m);
}

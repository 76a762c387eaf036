/*
 * sbx_spawn.c - building one sandbox: clone into namespaces, set up the
 * root, drop everything, then wait for the order to exec the storlet.
 *
 * The process cloned here is the sandbox's *init* (pid 1 of its own pid
 * namespace). Order of steps, parent (launcher) | child (init):
 *
 *   open cgroup.procs, copy the code dir's
 *   mount (prepared root)
 *   setns(tenant's net namespace, prepared
 *   root's mount namespace)
 *   clone(NEWUSER|NEWNS|NEWPID|NEWIPC|NEWUTS)
 *   setns(back), write setgroups=deny,         | blocks on the ctl socket
 *   uid_map, gid_map, oom_score_adj=1000       |
 *   send "g" (and return: nothing here waits)  | close fds, join its cgroup,
 *                                              | setsid, new cgroup ns, no
 *                                              | nested userns, uid 1000,
 *                                              | the root (sbx_root.c's, or
 *                                              | built on a tmpfs), pivot_root,
 *                                              | hostname, rlimits, drop caps,
 *                                              | PDEATHSIG, no_new_privs,
 *                                              | seccomp (last), vfork the storlet's
 *                                              | process (it sends "R", waits on ctl)
 *   ... later: exec order + fds over ctl       | the child takes it and execs the
 *                                              | storlet; init reaps everything,
 *                                              | sends the storlet's status ("S"), exits
 *                                              | (the kernel then kills whatever
 *                                              |  is left in the pid namespace)
 *
 * Because neither process runs untrusted code before the exec order, a
 * sandbox can be built ahead of time (a warm sandbox) and ordered to exec
 * later; its storlet process is already forked then, so a warm run pays
 * no fork.
 * Everything between clone and exec in the child uses only syscalls and
 * async-signal-safe libc calls (the launcher is single-threaded, so fork
 * semantics are simple, but we keep to the rule anyway).
 */
#include "sandbox/sbx_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/bug.h"
#include "common/log.h"
#include "common/util.h"

/* Where the new root is assembled (a tmpfs mounted over it, in the child's
 * own mount namespace only; the host's directory is untouched). */
#define NEWROOT "/tmp"

/* ------------------------------------------------------------ child side */

struct child_err {
    const char *where;
    int err;
};

static void child_fail(int ctl, const char *where, int err) __attribute__((noreturn));
static void child_fail(int ctl, const char *where, int err)
{
    char msg[200];
    int n = snprintf(msg, sizeof(msg), "E%s: %s", where, strerror(err));
    if (n > 0)
        send(ctl, msg, (size_t)n, MSG_NOSIGNAL);
    _exit(127);
}

#define TRY(ctl, expr, where)                                              \
    do {                                                                   \
        if ((expr) == -1)                                                  \
            child_fail(ctl, where, errno);                                 \
    } while (0)

/* What the launcher opened for init before the clone. */
struct init_fds {
    int cg[3];      /* cgroup.procs of each of the sandbox's groups, or -1 */
    int code;       /* prepared root: a detached copy of the code directory */
};

/* Fails the sandbox with the step sbx_root_* named. */
static void root_step(int ctl, int rc, const char *where)
{
    if (rc < 0)
        child_fail(ctl, where, -rc);
}

/* Makes the current directory the root: pivot_root, and detaches what was
 * the root before (the host's tree, or the prepared namespace's base). */
static void enter_root(int ctl)
{
    TRY(ctl, (int)syscall(SYS_pivot_root, ".", "."), "pivot_root");
    TRY(ctl, umount2(".", MNT_DETACH), "detach old root");
    TRY(ctl, chdir("/"), "chdir /");
}

/*
 * The root from the prepared namespace (sbx_root.c), which this init's
 * mount namespace is a copy of: "/root" holds the sandbox's tree, locked
 * read-only. A locked mount cannot become the root, so it is bound onto
 * itself first (a new mount, the copies below it still locked); the
 * sandbox's own proc, scratch and code go on that, and pivot_root leaves
 * the base and its proc behind, detached.
 */
static void prepared_root(int ctl, const struct sbx_spawn_args *a, int code, const char *opts)
{
    const struct sbx_policy *p = a->policy;
    TRY(ctl, mount("/root", "/root", NULL, MS_BIND | MS_REC, NULL), "bind the root");
    TRY(ctl, mount("proc", "/root/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "subset=pid"), "mount /proc");
    TRY(ctl, mount("scratch", "/root/tmp", "tmpfs", MS_NOSUID | MS_NODEV |
                   ((p->weaken & SBX_WEAKEN_SCRATCH) ? 0 : MS_NOEXEC), opts),
        "mount scratch");
    if (code != -1) {
        TRY(ctl, move_mount(code, "", AT_FDCWD, "/root/storlet", MOVE_MOUNT_F_EMPTY_PATH),
            "mount /storlet");
        close(code);
    }
    TRY(ctl, chdir("/root"), "chdir root");
    enter_root(ctl);
}

static void build_root(int ctl, const struct sbx_spawn_args *a, int code)
{
    const struct sbx_policy *p = a->policy;
    char path[SBX_PATH_MAX + 64], opts[128];
    const char *where = "";
    bool pidns = !(p->weaken & SBX_WEAKEN_PIDNS);

    if (p->weaken & SBX_WEAKEN_SCRATCH)
        snprintf(opts, sizeof(opts), "mode=1777");
    else
        snprintf(opts, sizeof(opts), "size=%llu,nr_inodes=%llu,mode=1777",
                 (unsigned long long)p->scratch_bytes,
                 (unsigned long long)p->scratch_inodes);
    if (a->root_ns >= 0) {
        prepared_root(ctl, a, code, opts);
        return;
    }

    TRY(ctl, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "make / private");
    if (p->weaken & SBX_WEAKEN_ROOTFS) {
        /* control runs only: the host's root as it is (even /tmp) */
        if (pidns)
            TRY(ctl, mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                           NULL), "mount /proc");
        return;
    }

    /* The code directory may live below NEWROOT on the host (a temp dir):
     * hold it by fd before the root tmpfs covers that path. */
    char code_src[64] = "";
    int cfd = -1;
    if (a->code_dir) {
        cfd = open(a->code_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        TRY(ctl, cfd, a->code_dir);
        snprintf(code_src, sizeof(code_src), "/proc/self/fd/%d", cfd);
    }
    TRY(ctl, mount("sbx-root", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV,
                   "size=1m,nr_inodes=512,mode=0755"), "mount root tmpfs");
    root_step(ctl, sbx_root_populate(NEWROOT, p->inside_id, &where), where);

    snprintf(path, sizeof(path), "%s/proc", NEWROOT);
    TRY(ctl, mkdir(path, 0555), path);
    if (pidns)
        TRY(ctl, mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                       "subset=pid"), "mount /proc");
    else
        root_step(ctl, sbx_root_bind_ro("/proc", path, false, &where), where);

    snprintf(path, sizeof(path), "%s/tmp", NEWROOT);
    TRY(ctl, mkdir(path, 01777), path);
    TRY(ctl, mount("scratch", path, "tmpfs", MS_NOSUID | MS_NODEV |
                   ((p->weaken & SBX_WEAKEN_SCRATCH) ? 0 : MS_NOEXEC), opts),
        "mount scratch");

    if (a->code_dir) {
        snprintf(path, sizeof(path), "%s/storlet", NEWROOT);
        TRY(ctl, mkdir(path, 0755), path);
        root_step(ctl, sbx_root_bind_ro(code_src, path, false, &where), where);
        close(cfd);
    }

    TRY(ctl, chdir(NEWROOT), "chdir newroot");
    enter_root(ctl);
    TRY(ctl, mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
                   MS_NODEV, NULL), "remount / read-only");
}

static void set_limits(int ctl, const struct sbx_policy *p)
{
    struct { int res; uint64_t v; } l[] = {
        { RLIMIT_CPU, p->cpu_seconds }, { RLIMIT_AS, p->as_bytes },
        { RLIMIT_FSIZE, p->fsize_bytes }, { RLIMIT_NOFILE, p->nofile },
        { RLIMIT_NPROC, p->nproc },
    };
    for (size_t i = 0; i < ARRAY_SIZE(l); i++) {
        if (!l[i].v)
            continue;
        struct rlimit rl = { .rlim_cur = l[i].v, .rlim_max = l[i].v };
        /* CPU: SIGXCPU at the soft limit, SIGKILL one second later */
        if (l[i].res == RLIMIT_CPU)
            rl.rlim_max = l[i].v + 1;
        TRY(ctl, setrlimit(l[i].res, &rl), "setrlimit");
    }
    struct rlimit zero = { 0, 0 };
    TRY(ctl, setrlimit(RLIMIT_CORE, &zero), "setrlimit core");
    TRY(ctl, setrlimit(RLIMIT_MSGQUEUE, &zero), "setrlimit msgqueue");
    struct rlimit memlock = { 65536, 65536 };
    TRY(ctl, setrlimit(RLIMIT_MEMLOCK, &memlock), "setrlimit memlock");
}

/*
 * Takes the sandbox identity first thing, so that files made while building
 * the root belong to a mapped id. Our host uid 0 is not mapped in the
 * namespace, so the kernel does not treat this as leaving root and the caps
 * (in the namespace) stay until drop_caps.
 */
static void take_identity(int ctl, const struct sbx_policy *p)
{
    uid_t id = (p->weaken & SBX_WEAKEN_ROOT) ? 0 : p->inside_id;
    TRY(ctl, setresgid(id, id, id), "setresgid");
    TRY(ctl, setresuid(id, id, id), "setresuid");
}

static void drop_caps(int ctl, const struct sbx_policy *p)
{
    if (p->weaken & SBX_WEAKEN_ROOT)
        return;  /* control runs only: root of the userns, caps kept */
    for (int cap = 0; cap <= 63; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 && errno != EINVAL)
            child_fail(ctl, "drop bounding set", errno);
    TRY(ctl, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient");
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    TRY(ctl, (int)syscall(SYS_capset, &hdr, data), "capset");
}

/*
 * Closes every fd but ctl and the n fds of keep[] (entries -1 are skipped),
 * which are moved to numbers >= 100 (keep[] is updated); returns ctl's new
 * number. The launcher may hold more than 100 fds: the moved ones need not
 * be consecutive, so the gaps between them are closed one range at a time.
 */
static int close_all_but(int ctl, int *keep, size_t n)
{
    int set[8];
    size_t ns = 0;
    int k = fcntl(ctl, F_DUPFD_CLOEXEC, 100);
    TRY(ctl, k, "dup ctl");
    set[ns++] = k;
    for (size_t i = 0; i < n && ns < ARRAY_SIZE(set); i++) {
        if (keep[i] == -1)
            continue;
        keep[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, 100);
        TRY(k, keep[i], "dup");
        set[ns++] = keep[i];
    }
    for (size_t i = 1; i < ns; i++)          /* sort: a handful of fds */
        for (size_t j = i; j > 0 && set[j - 1] > set[j]; j--) {
            int t = set[j];
            set[j] = set[j - 1];
            set[j - 1] = t;
        }
    unsigned from = 0;
    for (size_t i = 0; i < ns; i++) {
        if ((unsigned)set[i] > from)
            syscall(SYS_close_range, from, (unsigned)set[i] - 1, 0u);
        from = (unsigned)set[i] + 1;
    }
    syscall(SYS_close_range, from, ~0u, 0u);
    return k;
}

/* Exec order layout: u8 nfds, u8 target[SBX_FD_MAX], u16 argc, u16 envc,
 * then path, argv[], env[] as NUL-terminated strings. */
struct exec_hdr {
    uint8_t nfds;
    uint8_t target[SBX_FD_MAX];
    uint8_t pad;
    uint16_t argc;
    uint16_t envc;
};

static void run_storlet(int ctl, char *buf, size_t len, int *fds, size_t nfds,
                        int errpipe)
    __attribute__((noreturn));
static void run_storlet(int ctl, char *buf, size_t len, int *fds, size_t nfds,
                        int errpipe)
{
    struct exec_hdr h;
    memcpy(&h, buf, sizeof(h));
    char *s = buf + sizeof(h), *end = buf + len;
    char *argv[258], *envp[258];
    const char *path = s;
    s += strlen(s) + 1;
    for (unsigned i = 0; i < h.argc && i < 256 && s < end; i++) {
        argv[i] = s;
        s += strlen(s) + 1;
    }
    argv[h.argc < 256 ? h.argc : 256] = NULL;
    for (unsigned i = 0; i < h.envc && i < 256 && s < end; i++) {
        envp[i] = s;
        s += strlen(s) + 1;
    }
    envp[h.envc < 256 ? h.envc : 256] = NULL;

    /* errpipe is close-on-exec: it reports exec failure only */
    int ep = fcntl(errpipe, F_DUPFD_CLOEXEC, SBX_FD_MAX);
    if (ep == -1)
        goto fail;
    errpipe = ep;
    /* fd shuffle: everything up high first, then down to its target */
    int high[SBX_FD_MAX];
    bool given[SBX_FD_MAX] = { false };
    for (size_t i = 0; i < nfds; i++) {
        high[i] = fcntl(fds[i], F_DUPFD, SBX_FD_MAX);
        if (high[i] == -1)
            goto fail;
    }
    for (size_t i = 0; i < nfds; i++) {
        if (dup2(high[i], h.target[i]) == -1)
            goto fail;
        given[h.target[i]] = true;
    }
    for (int t = 0; t < SBX_FD_MAX; t++) {
        if (given[t])
            continue;
        close(t);
        if (t <= 2) {
            /* the standard streams always exist, as /dev/null */
            int fd = open("/dev/null", O_RDWR);
            if (fd != -1 && fd != t) {
                dup2(fd, t);
                close(fd);
            }
        }
    }
    syscall(SYS_close_range, (unsigned)SBX_FD_MAX, (unsigned)ep - 1, 0u);
    syscall(SYS_close_range, (unsigned)ep + 1, ~0u, 0u);
    (void)ctl;

    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(path, argv, envp);
fail:;
    int err = errno;
    if (write(errpipe, &err, sizeof(err)) < 0)
        _exit(127);
    _exit(127);
}

/*
 * The storlet's process: a vfork child of init, which is suspended until
 * this execs or exits (so only this touches the memory they share; the fd
 * table is its own). It says "ready" for the sandbox, waits for the exec
 * order and runs nothing else but its checks and execve.
 */
static void storlet_proc(int ctl, int ep_rd, int ep_wr) __attribute__((noreturn));
static void storlet_proc(int ctl, int ep_rd, int ep_wr)
{
    prctl(PR_SET_NAME, "sbx-exec", 0, 0, 0);
    close(ep_rd);
    if (send(ctl, "R", 1, MSG_NOSIGNAL) != 1)
        child_fail(ctl, "send ready", errno);
    static char buf[SBX_MSG_MAX];
    int fds[SBX_FD_MAX];
    size_t nfds = SBX_FD_MAX;
    ssize_t n = sbx_recv_msg(ctl, buf, sizeof(buf), fds, &nfds);
    if (n < (ssize_t)sizeof(struct exec_hdr))
        _exit(n == 0 ? 0 : 127);   /* 0: the launcher dropped the sandbox */
    struct exec_hdr h;
    memcpy(&h, buf, sizeof(h));
    if (h.nfds != nfds)
        child_fail(ctl, "exec order", EPROTO);
    for (size_t i = 0; i < nfds; i++)
        if (h.target[i] >= SBX_FD_MAX)
            child_fail(ctl, "exec order", EPROTO);
    run_storlet(ctl, buf, (size_t)n, fds, nfds, ep_wr);
}

/*
 * AddressSanitizer does not survive a vfork child that runs instrumented
 * code on the stack it shares with init (the child's frames change the
 * stack's shadow): init exited with the sanitizer's status 1 as soon as
 * the vfork returned, and every sandbox run timed out. Sanitized builds
 * fork; the vfork is only a saving.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SBX_VFORK fork
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SBX_VFORK fork
#endif
#endif
#ifndef SBX_VFORK
#define SBX_VFORK vfork
#endif

static void init_main(const struct sbx_spawn_args *a, const struct init_fds *f, int ctl)
    __attribute__((noreturn));
static void init_main(const struct sbx_spawn_args *a, const struct init_fds *f, int ctl)
{
    const struct sbx_policy *p = a->policy;
    char go;
    /* names that tell a sandbox's processes apart from the daemon's in ps
     * and profiles (they are forks of it until the exec) */
    prctl(PR_SET_NAME, "sbx-init", 0, 0, 0);
    if (read(ctl, &go, 1) != 1)
        _exit(127);    /* the launcher gave up on us */
    int keep[4] = { f->cg[0], f->cg[1], f->cg[2], f->code };
    ctl = close_all_but(ctl, keep, ARRAY_SIZE(keep));
    /* Whatever the launcher's scheduling (a real-time launcher, a negative
     * nice), a storlet gets the ordinary policy and never more than the
     * ordinary priority. A daemon run at a positive nice (systemd Nice=)
     * keeps it for its storlets: raising it back to 0 needs a privilege
     * the launcher need not have, and it would not be ours to give. */
    struct sched_param sparam = { .sched_priority = 0 };
    TRY(ctl, sched_setscheduler(0, SCHED_OTHER, &sparam), "sched_setscheduler");
    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, 0);
    if (errno == 0 && nice_now < 0)
        TRY(ctl, setpriority(PRIO_PROCESS, 0, 0), "setpriority");
    /* Join our cgroup ourselves (the launcher opened the files): a v1
     * migration waits for an RCU grace period (milliseconds), which must
     * not stall the launcher's loop. */
    for (int i = 0; i < 3; i++) {
        if (keep[i] == -1)
            continue;
        TRY(ctl, (int)write(keep[i], "0", 1), "join cgroup");
        close(keep[i]);
    }

    TRY(ctl, setsid(), "setsid");
    if (a->cg_procs)
        TRY(ctl, unshare(CLONE_NEWCGROUP), "new cgroup namespace");
    /* A storlet must not create nested user namespaces (seccomp blocks the
     * calls too; this is the second wall, as bubblewrap --disable-userns). */
    int fd = (p->weaken & SBX_WEAKEN_NESTED) ? -1 :
             open("/proc/sys/user/max_user_namespaces", O_WRONLY | O_CLOEXEC);
    if (fd != -1) {
        if (write(fd, "0", 1) != 1)
            child_fail(ctl, "limit nested user namespaces", errno);
        close(fd);
    }
    take_identity(ctl, p);
    build_root(ctl, a, keep[3]);
    if (!(p->weaken & SBX_WEAKEN_ROOTFS) || !(p->weaken & SBX_WEAKEN_PIDNS))
        TRY(ctl, sethostname("storlet", 7), "sethostname");
    if (!(p->weaken & SBX_WEAKEN_RLIMITS))
        set_limits(ctl, p);
    drop_caps(ctl, p);
    /* after the uid change, which clears it */
    if (!(p->weaken & SBX_WEAKEN_DEATHSIG))
        TRY(ctl, prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "pdeathsig");
    if (!(p->weaken & SBX_WEAKEN_NNP))
        TRY(ctl, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs");
    TRY(ctl, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "not dumpable");
    if (a->seccomp)
        TRY(ctl, prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, a->seccomp, 0, 0),
            "seccomp");
    /* The storlet's process is made now, before "ready", and waits for
     * the exec order itself: on a busy host a freshly forked task queues
     * behind every runnable one, a task woken from a wait does not, so
     * its creation and that wait are paid while the sandbox is warm, not
     * by the request. A vfork: init has nothing to do until the storlet
     * ends, so it may as well be suspended while its child borrows its
     * memory, and the child then costs no copy of init's address space
     * (a fork's page tables, and its own teardown after the exec). */
    int ep[2];
    TRY(ctl, pipe2(ep, O_CLOEXEC), "pipe");
    pid_t kid = SBX_VFORK();
    if (kid == 0)
        storlet_proc(ctl, ep[0], ep[1]);
    TRY(ctl, kid, "fork storlet");
    close(ep[1]);
    /* the exec order may already be queued (cold path sends it right
     * after "g"); seqpacket keeps the two messages apart, and only the
     * storlet's process reads it */
    struct sbx_init_report rep;
    memset(&rep, 0, sizeof(rep));
    int err;
    if (read(ep[0], &err, sizeof(err)) == (ssize_t)sizeof(err)) {
        rep.kind = 1;
        rep.err = err;
    }
    close(ep[0]);
    /* reap everything; the storlet's own status is the one we report */
    for (;;) {
        int st;
        pid_t w = waitpid(-1, &st, 0);
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1)
            break;
        if (w == kid) {
            rep.status = st;
            break;
        }
    }
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) == 0) {
        rep.cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
                     (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
        rep.max_rss_kb = (uint64_t)ru.ru_maxrss;
    }
    char msg[1 + sizeof(rep)];
    msg[0] = 'S';
    memcpy(msg + 1, &rep, sizeof(rep));
    send(ctl, msg, sizeof(msg), MSG_NOSIGNAL);
    /* What is left is tearing the sandbox down (our exit takes the mount,
     * IPC, UTS, pid and user namespaces with it): background work. The
     * launcher we just woke, and the daemon after it, end the request;
     * at nice 19 they take the CPU from us at once instead of waiting. */
    setpriority(PRIO_PROCESS, 0, 19);
    _exit(0);
}

/* ------------------------------------------------------------ parent side */

static int write_proc(pid_t pid, const char *file, const char *text)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int rc = n == (ssize_t)strlen(text) ? 0 : (n < 0 ? -errno : -EIO);
    close(fd);
    return rc;
}

/*
 * A detached copy of the code directory's mount, read-only, nosuid, nodev,
 * for a prepared root (its init cannot bind a directory of our mount
 * namespace: a bind's source must be in the binder's). The path is walked
 * with the sandbox's host id as file system id, as init's own open did:
 * every directory on it must be searchable by others. Returns the fd or
 * -errno.
 */
static int code_tree(const char *dir, uint32_t host_id)
{
    int old_gid = setfsgid(host_id);
    int old_uid = setfsuid(host_id);
    int fd = -1, err = EPERM;
    if (setfsuid((uid_t)-1) == (int)host_id && setfsgid((gid_t)-1) == (int)host_id) {
        fd = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        err = errno;
    }
    setfsuid((uid_t)old_uid);
    setfsgid((gid_t)old_gid);
    if (fd == -1)
        return -err;
    struct mount_attr ma = {
        .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
    };
    if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof(ma)) == -1) {
        err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

/* Closes what open_init_fds opened (the cgroup files are borrowed). */
static void close_init_fds(struct init_fds *f)
{
    if (f->code != -1)
        close(f->code);
    f->code = -1;
}

/* Gathers what init needs from our side of the namespaces. 0 or -errno. */
static int open_init_fds(const struct sbx_spawn_args *a, struct init_fds *f,
                         char *detail, size_t detailsz)
{
    for (int i = 0; i < 3; i++)
        f->cg[i] = a->cg_procs ? a->cg_procs[i] : -1;
    f->code = -1;
    if (a->root_ns >= 0 && a->code_dir) {
        f->code = code_tree(a->code_dir, sbx_policy_host_id(a->policy));
        if (f->code < 0) {
            int rc = f->code;
            f->code = -1;
            snprintf(detail, detailsz, "sandbox setup: %.140s: %s", a->code_dir,
                     strerror(-rc));
            return rc;
        }
    }
    return 0;
}

int sbx_spawn(const struct sbx_spawn_args *a, struct sbx_proc *sp,
              char *detail, size_t detailsz)
{
    const struct sbx_policy *p = a->policy;
    int sv[2] = { -1, -1 };
    int rc;
    sp->pid = -1;
    sp->pidfd = -1;
    sp->ctl = -1;
    sp->out_rd = -1;
    struct init_fds f;
    if ((rc = open_init_fds(a, &f, detail, detailsz)) < 0)
        return rc;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
        rc = -errno;
        snprintf(detail, detailsz, "socketpair: %s", strerror(-rc));
        close_init_fds(&f);
        return rc;
    }
    unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
    if (!(p->weaken & SBX_WEAKEN_PIDNS))
        flags |= CLONE_NEWPID;
    /* The tenant's empty network namespace (sbx_netns.c): the child is
     * cloned while we stand in it, and we step back out at once. */
    bool entered = false;
    if (!(p->weaken & SBX_WEAKEN_NETNS)) {
        if (a->netns < 0) {
            flags |= CLONE_NEWNET;
        } else if ((rc = sbx_netns_enter(a->netns)) < 0) {
            snprintf(detail, detailsz, "enter the tenant's net namespace: %s",
                     strerror(-rc));
            goto fail;
        } else {
            entered = true;
        }
    }
    /* The prepared root (sbx_root.c): the clone copies that namespace. */
    bool in_root = false;
    if (a->root_ns >= 0) {
        if ((rc = sbx_root_enter(a->root_ns)) < 0) {
            snprintf(detail, detailsz, "enter the prepared root: %s", strerror(-rc));
            if (entered)
                sbx_netns_leave();
            goto fail;
        }
        in_root = true;
    }
    pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == 0) {
        close(sv[0]);
        init_main(a, &f, sv[1]);
    }
    int clone_err = errno;
    if (in_root && (rc = sbx_root_leave()) < 0) {
        /* every path the launcher opens would be the prepared root's */
        log_err("cannot return to the launcher's mount namespace: %s", strerror(-rc));
        BUG_ON(rc < 0);
    }
    close_init_fds(&f);
    if (entered && (rc = sbx_netns_leave()) < 0)
        log_err("cannot return to the launcher's network namespace: %s", strerror(-rc));
    if (pid == -1) {
        rc = -clone_err;
        snprintf(detail, detailsz, "clone: %s", strerror(-rc));
        goto fail;
    }
    close(sv[1]);
    sv[1] = -1;
    sp->pid = pid;
    sp->ctl = sv[0];
    sv[0] = -1;
    sp->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (sp->pidfd == -1) {
        rc = -errno;
        snprintf(detail, detailsz, "pidfd_open: %s", strerror(-rc));
        goto fail;
    }
    char map[64];
    uint32_t host = sbx_policy_host_id(p);
    uint32_t inside = (p->weaken & SBX_WEAKEN_ROOT) ? 0 : p->inside_id;
    snprintf(map, sizeof(map), "%u %u 1\n", inside, host);
    if ((rc = write_proc(pid, "setgroups", "deny")) < 0 ||
        (rc = write_proc(pid, "uid_map", map)) < 0 ||
        (rc = write_proc(pid, "gid_map", map)) < 0) {
        snprintf(detail, detailsz, "id maps: %s", strerror(-rc));
        goto fail;
    }
    /* When the host runs out of memory (each sandbox's own limit does not
     * bound all of them together), the kernel's OOM killer takes storlets
     * first, never a daemon: init and everything it forks inherit this,
     * and lowering it needs CAP_SYS_RESOURCE on the host. */
    if ((rc = write_proc(pid, "oom_score_adj", "1000")) < 0) {
        snprintf(detail, detailsz, "oom_score_adj: %s", strerror(-rc));
        goto fail;
    }
    if (send(sp->ctl, "g", 1, MSG_NOSIGNAL) != 1) {
        rc = -errno;
        snprintf(detail, detailsz, "release init: %s", strerror(-rc));
        goto fail;
    }
    return 0;
fail:
    close_init_fds(&f);
    if (sv[0] != -1)
        close(sv[0]);
    if (sv[1] != -1)
        close(sv[1]);
    if (sp->pid > 0) {
        kill(sp->pid, SIGKILL);
        waitpid(sp->pid, NULL, 0);
    }
    if (sp->pidfd != -1)
        close(sp->pidfd);
    if (sp->ctl != -1)
        close(sp->ctl);
    sp->pid = -1;
    sp->pidfd = sp->ctl = -1;
    return rc;
}

int sbx_spawn_exec(struct sbx_proc *sp, const char *path,
                   const char *const *argv, const char *const *env,
                   const int *fds, const int *fd_target, size_t nfds)
{
    static char buf[SBX_MSG_MAX];
    struct exec_hdr h;
    memset(&h, 0, sizeof(h));
    if (nfds > SBX_FD_MAX)
        return -EINVAL;
    h.nfds = (uint8_t)nfds;
    for (size_t i = 0; i < nfds; i++) {
        if (fd_target[i] < 0 || fd_target[i] >= SBX_FD_MAX)
            return -EINVAL;
        h.target[i] = (uint8_t)fd_target[i];
    }
    size_t off = sizeof(h);
    size_t plen = strlen(path) + 1;
    if (plen > sizeof(buf) - off)
        return -E2BIG;
    memcpy(buf + off, path, plen);
    off += plen;
    const char *const *lists[2] = { argv, env };
    uint16_t counts[2] = { 0, 0 };
    for (int l = 0; l < 2; l++) {
        for (const char *const *s = lists[l]; s && *s; s++) {
            size_t len = strlen(*s) + 1;
            if (len > sizeof(buf) - off || counts[l] >= 256)
                return -E2BIG;
            memcpy(buf + off, *s, len);
            off += len;
            counts[l]++;
        }
    }
    h.argc = counts[0];
    h.envc = counts[1];
    memcpy(buf, &h, sizeof(h));
    buf[off] = '\0';
    return sbx_send_msg(sp->ctl, buf, off + 1, fds, nfds);
}

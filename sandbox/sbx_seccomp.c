/*
 * sbx_seccomp.c - the syscall allowlist of a sandbox (libseccomp).
 *
 * Built once per launcher and exported as raw BPF, so each sandbox loads it
 * with one prctl and no compile cost. Shape:
 *  - only the native ABI: another arch (int 0x80 i386 calls) or an x32
 *    number kills the process;
 *  - an allowlist of what glibc, python3 and ordinary storlets use;
 *  - the hostile list (ptrace, mount family, namespaces, keyrings, bpf,
 *    perf, io_uring, userfaultfd, modules, kexec, clock setting, ...) kills
 *    the process in the user class (reported as a policy violation) and
 *    fails with EPERM in the admin class;
 *  - clone with any namespace flag is hostile; clone3 fails with ENOSYS
 *    (its flags are behind a pointer the filter cannot read) so glibc falls
 *    back to clone;
 *  - socket/socketpair only for AF_UNIX (EAFNOSUPPORT otherwise);
 *  - ioctl only for a few harmless commands (so no TIOCSTI tty injection),
 *    compared on the low 32 bits as the kernel does;
 *  - everything else fails with EPERM.
 * Thread-safe (no globals).
 */
#include "sandbox/sbx_int.h"

#include <errno.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bug.h"
#include "common/log.h"
#include "common/xalloc.h"

static const char *const allowed[] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
    "pwritev", "preadv2", "pwritev2", "open", "openat", "close", "close_range",
    "creat", "stat", "fstat", "lstat", "newfstatat", "statx", "statfs",
    "fstatfs", "lseek", "poll", "ppoll", "select", "pselect6", "epoll_create",
    "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
    "eventfd", "eventfd2", "timerfd_create", "timerfd_settime",
    "timerfd_gettime", "signalfd", "signalfd4", "mmap", "mprotect", "munmap",
    "mremap", "msync", "mincore", "madvise", "brk", "rt_sigaction",
    "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
    "rt_sigsuspend", "rt_sigqueueinfo", "sigaltstack", "access", "faccessat",
    "faccessat2", "pipe", "pipe2", "dup", "dup2", "dup3", "fcntl", "flock",
    "fsync", "fdatasync", "sync_file_range", "truncate", "ftruncate",
    "fallocate", "fadvise64", "getdents", "getdents64", "getcwd", "chdir",
    "fchdir", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir",
    "link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat", "readlink",
    "readlinkat", "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown",
    "fchownat", "umask", "utime", "utimes", "utimensat", "futimesat",
    "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr",
    "flistxattr", "sched_yield", "nanosleep", "clock_nanosleep", "pause",
    "alarm", "getitimer", "setitimer", "gettimeofday", "clock_gettime",
    "clock_getres", "time", "times", "getpid", "getppid", "gettid", "getuid",
    "getgid", "geteuid", "getegid", "getresuid", "getresgid", "getgroups",
    "getpgid", "getpgrp", "setpgid", "getsid", "setsid", "capget",
    "getrlimit", "setrlimit", "prlimit64", "getrusage", "sysinfo", "uname",
    "getpriority", "setpriority", "sched_getaffinity", "sched_setaffinity",
    "sched_getparam", "sched_getscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getattr", "prctl", "arch_prctl",
    "set_tid_address", "set_robust_list", "get_robust_list", "futex",
    "futex_waitv", "rseq", "membarrier", "getrandom", "memfd_create",
    "copy_file_range", "sendfile", "splice", "tee", "exit", "exit_group",
    "wait4", "waitid", "kill", "tgkill", "tkill", "fork", "vfork", "execve",
    "execveat", "connect", "accept", "accept4", "bind", "listen", "sendto",
    "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
    "getsockname", "getpeername", "setsockopt", "getsockopt", "restart_syscall",
    "get_mempolicy", "mlock", "munlock", "getcpu", "inotify_init",
    "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
};

/* Kills (user class) or EPERM (admin): reaching for these is an attack. */
static const char *const hostile[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
    "pidfd_getfd", "kcmp", "bpf", "perf_event_open", "keyctl", "add_key",
    "request_key", "mount", "umount2", "pivot_root", "chroot", "unshare",
    "setns", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
    "open_tree", "mount_setattr", "userfaultfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "open_by_handle_at",
    "name_to_handle_at", "iopl", "ioperm", "modify_ldt", "swapon", "swapoff",
    "reboot", "acct", "settimeofday", "clock_settime", "clock_adjtime",
    "adjtimex", "quotactl", "quotactl_fd", "lookup_dcookie", "fanotify_init",
    "syslog", "sethostname", "setdomainname", "vhangup", "mknod", "mknodat",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
    "setgroups", "setfsuid", "setfsgid", "capset", "nfsservctl", "uselib",
    "ustat", "sysfs", "_sysctl", "vm86", "vm86old", "create_module",
    "get_kernel_syms", "query_module", "landlock_create_ruleset",
    "seccomp",
};

static const unsigned long ns_flags[] = {
    CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
    CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWTIME,
};

int sbx_seccomp_build(bool kill_hostile, struct sock_fprog *prog)
{
    uint32_t deny = SCMP_ACT_ERRNO(EPERM);
    uint32_t bad = kill_hostile ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(EPERM);
    int rc = 0;
    char *buf = NULL;
    size_t len = 0;
    int mfd = -1;
    scmp_filter_ctx ctx = seccomp_init(deny);
    if (!ctx)
        return -ENOMEM;
    /* Other arches (and, through libseccomp's x86_64 handling, x32
     * numbers) are never legitimate in a native storlet. */
    if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
                               SCMP_ACT_KILL_PROCESS)) < 0)
        goto out;
    /* A binary tree of syscall numbers instead of a list: the same
     * verdicts, in O(log n) instructions. Every sandbox's init pays for
     * the filter's length when it loads it (the kernel runs the filter
     * for every syscall number to fill its allow cache, with interrupts
     * off), and every syscall of the storlet runs it. */
    if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
        goto out;
    for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr == __NR_SCMP_ERROR)
            continue;  /* not on this arch */
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0) {
            log_err("seccomp: allow %s: %s", allowed[i], strerror(-rc));
            goto out;
        }
    }
    /* admin: the hostile list simply stays out of the allowlist (EPERM) */
    for (size_t i = 0; kill_hostile && i < ARRAY_SIZE(hostile); i++) {
        int nr = seccomp_syscall_resolve_name(hostile[i]);
        if (nr == __NR_SCMP_ERROR)
            continue;
        if ((rc = seccomp_rule_add(ctx, bad, nr, 0)) < 0) {
            log_err("seccomp: hostile %s: %s", hostile[i], strerror(-rc));
            goto out;
        }
    }
    /* ioctl: an allowlist of harmless commands (isatty, window size, bytes
     * ready, non-blocking, close-on-exec); tty injection (TIOCSTI,
     * TIOCLINUX) and everything else fail with EPERM. The kernel reads cmd
     * as an unsigned int, so compare only the low 32 bits. */
    {
        static const unsigned long ok_cmds[] = {
            TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, TIOCGPGRP,
        };
        for (size_t i = 0; i < ARRAY_SIZE(ok_cmds); i++)
            if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu,
                                               ok_cmds[i]))) < 0)
                goto out;
    }
    /* personality: only querying or PER_LINUX */
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
                               SCMP_A0(SCMP_CMP_EQ, PER_LINUX, 0))) < 0 ||
        (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
                               SCMP_A0(SCMP_CMP_EQ, 0xffffffffu, 0))) < 0)
        goto out;
    /* clone: fine without namespace flags; any one of them is hostile */
    unsigned long mask = 0;
    for (size_t i = 0; i < ARRAY_SIZE(ns_flags); i++) {
        mask |= ns_flags[i];
        if (kill_hostile && (rc = seccomp_rule_add(ctx, bad, SCMP_SYS(clone), 1,
                                   SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i],
                                           ns_flags[i]))) < 0)
            goto out;
    }
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                               SCMP_A0(SCMP_CMP_MASKED_EQ, mask, 0))) < 0)
        goto out;
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0)
        goto out;
    /* sockets: AF_UNIX only (the net namespace is the second wall) */
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                               SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0))) < 0 ||
        (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
                               SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0))) < 0 ||
        (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                               SCMP_A0(SCMP_CMP_NE, AF_UNIX, 0))) < 0 ||
        (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socketpair), 1,
                               SCMP_A0(SCMP_CMP_NE, AF_UNIX, 0))) < 0)
        goto out;

    mfd = memfd_create("sbx-bpf", MFD_CLOEXEC);
    if (mfd == -1) {
        rc = -errno;
        goto out;
    }
    if ((rc = seccomp_export_bpf(ctx, mfd)) < 0)
        goto out;
    off_t end = lseek(mfd, 0, SEEK_END);
    if (end <= 0 || end % (off_t)sizeof(struct sock_filter) != 0 ||
        end / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
        rc = -EINVAL;
        goto out;
    }
    len = (size_t)end;
    buf = xmalloc(len);
    if (pread(mfd, buf, len, 0) != (ssize_t)len) {
        rc = -EIO;
        goto out;
    }
    prog->len = (unsigned short)(len / sizeof(struct sock_filter));
    prog->filter = (struct sock_filter *)(void *)buf;
    buf = NULL;
    rc = 0;
out:
    if (mfd != -1)
        close(mfd);
    free(buf);
    seccomp_release(ctx);
    return rc;
}

void sbx_seccomp_free(struct sock_fprog *prog)
{
    free(prog->filter);
    prog->filter = NULL;
    prog->len = 0;
}

/* A16/A18/A19/A20/A30: call one hostile syscall by name, with arguments
 * that make it fail harmlessly if it does reach the kernel (bad fd, NULL
 * pointer), as bubblewrap's try-syscall does. The exit code is the errno
 * (0 = success). Inside the user sandbox these calls must never return:
 * the seccomp filter kills the process (SIGSYS). In the control run
 * without the filter the call returns, proving it reached the kernel. */
#include <signal.h>
#include <sys/syscall.h>
#include "attack.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

static long int80_getpid(void)
{
    long ret;
    /* the i386 ABI: getpid is 20 there */
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
    return ret;
}

int main(int argc, char **argv)
{
    attack_name = "try_syscall";
    if (argc < 2)
        BROKEN("usage: try_syscall NAME");
    const char *n = argv[1];
    long r;
#define IS(x) (strcmp(n, x) == 0)
    if (IS("keyctl")) r = syscall(SYS_keyctl, 1 /* JOIN_SESSION */, NULL);
    else if (IS("add_key")) r = syscall(SYS_add_key, NULL, NULL, NULL, 0, 0);
    else if (IS("request_key")) r = syscall(SYS_request_key, NULL, NULL, NULL, 0);
    else if (IS("bpf")) r = syscall(SYS_bpf, 5 /* PROG_LOAD */, NULL, 0);
    else if (IS("perf_event_open")) r = syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
    else if (IS("io_uring_setup")) r = syscall(SYS_io_uring_setup, 1, NULL);
    else if (IS("userfaultfd")) r = syscall(SYS_userfaultfd, 0);
    else if (IS("ptrace")) r = syscall(SYS_ptrace, 2 /* PEEKDATA */, 1, NULL, NULL);
    else if (IS("process_vm_writev")) r = syscall(SYS_process_vm_writev, 1, NULL, 0, NULL, 0, 0);
    else if (IS("kexec_load")) r = syscall(SYS_kexec_load, 0, 0, NULL, 0);
    else if (IS("init_module")) r = syscall(SYS_init_module, NULL, 0, NULL);
    else if (IS("finit_module")) r = syscall(SYS_finit_module, -1, "", 0);
    else if (IS("delete_module")) r = syscall(SYS_delete_module, NULL, 0);
    else if (IS("open_by_handle_at")) r = syscall(SYS_open_by_handle_at, -1, NULL, 0);
    else if (IS("name_to_handle_at")) r = syscall(SYS_name_to_handle_at, -1, NULL, NULL, NULL, 0);
    else if (IS("iopl")) r = syscall(SYS_iopl, 3);
    else if (IS("ioperm")) r = syscall(SYS_ioperm, 0, 1, 1);
    else if (IS("modify_ldt")) r = syscall(SYS_modify_ldt, 0, NULL, 0);
    else if (IS("swapon")) r = syscall(SYS_swapon, NULL, 0);
    else if (IS("reboot")) r = syscall(SYS_reboot, 0, 0, 0, NULL);
    else if (IS("acct")) r = syscall(SYS_acct, NULL);
    else if (IS("clock_settime")) r = syscall(SYS_clock_settime, 0, NULL);
    else if (IS("adjtimex")) r = syscall(SYS_adjtimex, NULL);
    else if (IS("syslog")) r = syscall(SYS_syslog, 3 /* READ_ALL */, NULL, 0);
    else if (IS("fanotify_init")) r = syscall(SYS_fanotify_init, 0, 0);
    else if (IS("sethostname")) r = syscall(SYS_sethostname, NULL, 0);
    else if (IS("setns")) r = syscall(SYS_setns, -1, 0);
    else if (IS("unshare")) r = syscall(SYS_unshare, 0);
    else if (IS("mount")) r = syscall(SYS_mount, NULL, NULL, NULL, 0, NULL);
    else if (IS("umount2")) r = syscall(SYS_umount2, NULL, 0);
    else if (IS("pivot_root")) r = syscall(SYS_pivot_root, NULL, NULL);
    else if (IS("chroot")) r = syscall(SYS_chroot, NULL);
    else if (IS("fsopen")) r = syscall(SYS_fsopen, NULL, 0);
    else if (IS("open_tree")) r = syscall(SYS_open_tree, -1, NULL, 0);
    else if (IS("mknod")) r = syscall(SYS_mknod, NULL, 0, 0);
    else if (IS("pidfd_getfd")) r = syscall(SYS_pidfd_getfd, -1, -1, 0);
    else if (IS("kcmp")) r = syscall(SYS_kcmp, 0, 0, 99, 0, 0);
    else if (IS("personality")) r = syscall(SYS_personality, 0x0400000 /* READ_IMPLIES_EXEC */);
    else if (IS("clone_newns")) r = syscall(SYS_clone, 0x00020000UL | SIGCHLD, NULL, NULL, NULL, NULL);
    else if (IS("int80")) r = int80_getpid() < 0 ? (errno = EINVAL, -1) : 0;
    else if (IS("x32")) r = syscall(0x40000000 | SYS_getpid);
    else if (IS("clone3")) r = syscall(SYS_clone3, NULL, 0);
    else BROKEN("unknown syscall %s", n);
    if (r == 0 && IS("clone_newns"))
        _exit(0);    /* the child, if the call worked */
    int err = r < 0 ? errno : 0;
    dprintf(2, "{\"attack\":\"try_syscall\",\"syscall\":\"%s\",\"errno\":%d}\n", n, err);
    _exit(err);
}

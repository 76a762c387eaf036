/* A16: namespace games, the door to kernel attack surface that a nested
 * user namespace opens. Modes: "unshare" (unshare CLONE_NEWUSER),
 * "clone" (clone with CLONE_NEWUSER). Escaped if we got a new user ns. */
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "userns";
    if (argc > 1 && strcmp(argv[1], "clone") == 0) {
        long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid == 0)
            _exit(0);
        if (pid < 0)
            verdict(0, "clone(CLONE_NEWUSER): %s", strerror(errno));
        waitpid((pid_t)pid, NULL, 0);
        verdict(1, "child created in a new user namespace");
    }
    if (unshare(CLONE_NEWUSER) == 0)
        verdict(1, "unshare(CLONE_NEWUSER) worked");
    verdict(0, "unshare(CLONE_NEWUSER): %s", strerror(errno));
}

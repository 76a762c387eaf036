/* A01: fork bomb. Forks up to N children (each waits for its parent to go
 * away), holds them for HOLD seconds (argv[2], default 0) and reports how
 * many it got. Escaped if all N were created. */
#include <signal.h>
#include <sys/prctl.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "fork_bomb";
    long n = arg_long(argc, argv, 1, 1000), got = 0;
    int err = 0;
    for (; got < n; got++) {
        pid_t p = fork();
        if (p == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            pause();
            _exit(0);
        }
        if (p < 0) {
            err = errno;
            break;
        }
    }
    sleep((unsigned)arg_long(argc, argv, 2, 0));
    /* the children die with us (and with the sandbox's pid namespace) */
    verdict(got >= n, "%ld of %ld forks succeeded, then %s", got, n,
            err ? strerror(err) : "stopped");
}

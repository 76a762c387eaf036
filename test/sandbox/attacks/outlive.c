/* A25: escape by outliving the invocation: double fork + setsid, the
 * grandchild sleeps SECS while its parents exit at once. The runner looks
 * for survivors after the invocation ended. */
#include <signal.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "outlive";
    long secs = arg_long(argc, argv, 1, 20);
    pid_t p = fork();
    if (p == 0) {
        setsid();
        if (fork() == 0) {
            signal(SIGHUP, SIG_IGN);
            close(0);
            close(1);
            close(2);
            sleep((unsigned)secs);
            _exit(0);
        }
        _exit(0);
    }
    verdict(0, "left a daemonized grandchild behind (the runner checks it)");
}

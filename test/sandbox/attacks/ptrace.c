/* A14: debug another process. Forks a child and attaches to it with
 * ptrace (mode "attach") or reads its memory with process_vm_readv (mode
 * "vmread"). Escaped if that works. */
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "attack.h"

static char secret[16] = "child-secret";

int main(int argc, char **argv)
{
    attack_name = "ptrace";
    pid_t kid = fork();
    if (kid == 0) {
        for (;;)
            pause();
    }
    bool vm = argc > 1 && strcmp(argv[1], "vmread") == 0;
    if (vm) {
        char buf[16] = "";
        struct iovec l = { buf, sizeof(buf) }, r = { secret, sizeof(secret) };
        ssize_t n = process_vm_readv(kid, &l, 1, &r, 1, 0);
        int err = errno;
        kill(kid, SIGKILL);
        if (n > 0)
            verdict(1, "read %zd bytes of another process: %s", n, buf);
        verdict(0, "process_vm_readv: %s", strerror(err));
    }
    long rc = ptrace(PTRACE_ATTACH, kid, 0, 0);
    int err = errno;
    kill(kid, SIGKILL);
    if (rc == 0)
        verdict(1, "attached to pid %d", (int)kid);
    verdict(0, "PTRACE_ATTACH: %s", strerror(err));
}

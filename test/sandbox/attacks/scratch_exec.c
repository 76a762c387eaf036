/* A12: drop a binary into scratch and run it (a downloaded payload).
 * Copies /usr/bin/true to /tmp and execs it; escaped if exec works. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "attack.h"

int main(void)
{
    attack_name = "scratch_exec";
    int in = open("/usr/bin/true", O_RDONLY);
    int out = open("/tmp/payload", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (in < 0 || out < 0)
        BROKEN("copy: %s", strerror(errno));
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n)
            BROKEN("write: %s", strerror(errno));
    close(out);
    chmod("/tmp/payload", 04755);   /* and try a setuid bit while at it */
    pid_t p = fork();
    if (p == 0) {
        static char payload[] = "/tmp/payload";
        char *const av[] = { payload, NULL };
        execv(av[0], av);
        _exit(100 + (errno & 0x3f));
    }
    int st;
    waitpid(p, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        verdict(1, "executed a binary written to scratch");
    verdict(0, "exec from scratch failed: %s",
            WIFEXITED(st) && WEXITSTATUS(st) >= 100 ? strerror(WEXITSTATUS(st) - 100) : "?");
}

/* A17: what /proc tells about the host: other processes, kernel symbols,
 * scheduler and network tables. Escaped if any host-wide information is
 * readable or more than our own few pids are visible. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include "attack.h"

int main(void)
{
    attack_name = "proc_leaks";
    int pids = 0;
    DIR *d = opendir("/proc");
    if (!d)
        verdict(0, "no /proc: %s", strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (isdigit((unsigned char)de->d_name[0]))
            pids++;
    closedir(d);
    static const char *const files[] = {
        "/proc/kallsyms", "/proc/sched_debug", "/proc/net/tcp", "/proc/modules",
        "/proc/sys/kernel/hostname", "/proc/interrupts", NULL,
    };
    char seen[300] = "";
    bool leak = pids > 8;
    for (int i = 0; files[i]; i++) {
        int fd = open(files[i], O_RDONLY);
        if (fd >= 0) {
            leak = true;
            size_t len = strlen(seen);
            snprintf(seen + len, sizeof(seen) - len, "%s ", files[i]);
            close(fd);
        }
    }
    verdict(leak, "%d pids visible; readable: %s", pids, seen[0] ? seen : "none");
}

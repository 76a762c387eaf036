/* A31: reach the cgroup filesystem to raise our own limits or move out of
 * our group. Escaped if any cgroup control file is visible. */
#include <fcntl.h>
#include <sys/stat.h>
#include "attack.h"

int main(void)
{
    attack_name = "cgroupfs";
    static const char *const paths[] = {
        "/sys/fs/cgroup", "/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/pids", "/sys", NULL,
    };
    for (int i = 0; paths[i]; i++) {
        struct stat st;
        if (stat(paths[i], &st) == 0)
            verdict(1, "%s is visible", paths[i]);
    }
    verdict(0, "no /sys, no cgroupfs");
}

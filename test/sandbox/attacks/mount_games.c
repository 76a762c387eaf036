/* A16: mount-family escapes. Modes: "mount" (tmpfs over /tmp), "chroot"
 * (chroot into scratch), "setns" (join the mount namespace of pid 1 via
 * /proc/1/ns/mnt), "pivot" (pivot_root). Escaped if the call succeeds. */
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "mount_games";
    const char *m = argc > 1 ? argv[1] : "mount";
    int rc;
    if (strcmp(m, "mount") == 0) {
        rc = mount("none", "/tmp", "tmpfs", 0, NULL);
    } else if (strcmp(m, "chroot") == 0) {
        mkdir("/tmp/jail", 0755);
        rc = chroot("/tmp/jail");
    } else if (strcmp(m, "setns") == 0) {
        int fd = open("/proc/self/ns/mnt", O_RDONLY);
        if (fd < 0)
            BROKEN("open ns: %s", strerror(errno));
        rc = setns(fd, CLONE_NEWNS);
    } else if (strcmp(m, "pivot") == 0) {
        rc = (int)syscall(SYS_pivot_root, "/tmp", "/tmp");
    } else {
        BROKEN("mode %s", m);
    }
    if (rc == 0)
        verdict(1, "%s succeeded", m);
    verdict(0, "%s: %s", m, strerror(errno));
}

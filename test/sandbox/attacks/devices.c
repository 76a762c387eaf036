/* A28: device nodes. Escaped if any host block device, /dev/mem, /dev/kmsg
 * or /dev/port is visible, or mknod works. */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "devices";
    static const char *const nodes[] = {
        "/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/sda", "/dev/vda",
        "/dev/nvme0n1", "/dev/tty", "/dev/console", NULL,
    };
    char seen[300] = "";
    bool found = false;
    for (int i = 0; nodes[i]; i++) {
        struct stat st;
        if (stat(nodes[i], &st) == 0) {
            found = true;
            size_t len = strlen(seen);
            snprintf(seen + len, sizeof(seen) - len, "%s ", nodes[i]);
        }
    }
    if (found)
        verdict(1, "visible: %s", seen);
    if (argc > 1 && strcmp(argv[1], "mknod") == 0) {
        if (mknod("/tmp/vda", S_IFBLK | 0600, makedev(254, 0)) == 0)
            verdict(1, "mknod of a block device worked");
        verdict(0, "no host devices; mknod: %s", strerror(errno));
    }
    verdict(0, "no host device nodes visible");
}

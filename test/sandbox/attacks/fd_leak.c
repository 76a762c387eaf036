/* A21: inherited descriptors. Lists every open fd beyond 0-2; for a
 * directory fd, tries to read FILE relative to it (an escape through a
 * leaked directory). Escaped if any unexpected fd exists. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "fd_leak";
    const char *file = argc > 1 ? argv[1] : "x";
    char found[400] = "";
    int extra = 0;
    for (int fd = 3; fd < 1024; fd++) {
        struct stat st;
        if (fstat(fd, &st) < 0)
            continue;
        extra++;
        char link[64], target[200] = "?";
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        size_t len = strlen(found);
        snprintf(found + len, sizeof(found) - len, "fd %d -> %s; ", fd, target);
        if (S_ISDIR(st.st_mode)) {
            int f = openat(fd, file, O_RDONLY);
            char buf[128];
            ssize_t r = f >= 0 ? read(f, buf, sizeof(buf)) : -1;
            if (r > 0 && write(1, buf, (size_t)r) < 0)
                BROKEN("stdout");
        }
    }
    verdict(extra > 0, "%d unexpected fds: %s", extra, found);
}

/* A09: read host files. Tries each path given; escaped if any opens for
 * reading (its first bytes are printed on stdout for the runner). */
#include <fcntl.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "read_path";
    char why[400] = "";
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        if (fd >= 0) {
            char buf[256];
            ssize_t n = read(fd, buf, sizeof(buf));
            if (n > 0 && write(1, buf, (size_t)n) < 0)
                BROKEN("stdout");
            verdict(1, "read %s", argv[i]);
        }
        size_t len = strlen(why);
        snprintf(why + len, sizeof(why) - len, "%s: %s; ", argv[i], strerror(errno));
    }
    verdict(0, "%s", why);
}

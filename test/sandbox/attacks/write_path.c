/* A11: write outside the scratch directory. Tries to create a file in each
 * directory given; escaped if any succeeds. */
#include <fcntl.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "write_path";
    char why[400] = "";
    for (int i = 1; i < argc; i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/pwned-by-storlet", argv[i]);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0 && write(fd, "pwned\n", 6) == 6)
            verdict(1, "wrote %s", path);
        size_t len = strlen(why);
        snprintf(why + len, sizeof(why) - len, "%s: %s; ", argv[i], strerror(errno));
    }
    verdict(0, "%s", why);
}

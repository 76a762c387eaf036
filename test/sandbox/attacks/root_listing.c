/* A10: walk / for anything that is not part of the sandbox image (host
 * home directories, object devices, /var, /srv, /root ...). */
#include <dirent.h>
#include "attack.h"

static const char *const expected[] = {
    ".", "..", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc",
    "dev", "proc", "tmp", "storlet", NULL,
};

int main(void)
{
    attack_name = "root_listing";
    DIR *d = opendir("/");
    if (!d)
        BROKEN("opendir /: %s", strerror(errno));
    char extra[400] = "";
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        bool ok = false;
        for (int i = 0; expected[i]; i++)
            if (strcmp(de->d_name, expected[i]) == 0)
                ok = true;
        if (!ok) {
            n++;
            size_t len = strlen(extra);
            snprintf(extra + len, sizeof(extra) - len, "/%s ", de->d_name);
        }
    }
    verdict(n > 0, "%d unexpected entries in /: %s", n, extra);
}

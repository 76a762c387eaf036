/* A05: write MiB mebibytes to stdout. Escaped if all were accepted. */
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "huge_output";
    long mib = arg_long(argc, argv, 1, 16);
    static char buf[1 << 16];
    memset(buf, 'x', sizeof(buf));
    long long total = 0, want = (long long)mib << 20;
    while (total < want) {
        ssize_t w = write(1, buf, sizeof(buf));
        if (w <= 0)
            verdict(0, "write failed after %lld bytes: %s", total, strerror(errno));
        total += w;
    }
    verdict(1, "wrote %lld bytes", total);
}

/* A02: memory hog. Allocates and touches 16 MiB chunks up to N MiB.
 * Escaped if it holds all N MiB; blocked if an allocation fails (the
 * sandbox may also kill it: OOM). */
#include <sys/mman.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "memory_hog";
    long want = arg_long(argc, argv, 1, 512), got = 0;
    for (; got < want; got += 16) {
        char *p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            verdict(0, "mmap failed after %ld MiB: %s", got, strerror(errno));
        memset(p, 0xa5, 16 << 20);
    }
    verdict(1, "holding %ld MiB", got);
}

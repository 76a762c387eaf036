/*
 * identity - the smallest storlet: copies its input to its output unchanged.
 *
 * Used to measure what the storlet machinery costs over a plain GET, and as
 * the template for new C storlets. Parameters: none. Output metadata: none.
 * Memory: one 64 KiB buffer.
 */
#include "cairn_storlet.h"

int main(void)
{
    static char buf[64 << 10];
    struct storlet *s = storlet_start();
    ssize_t n;
    while ((n = storlet_read(s, buf, sizeof(buf))) > 0)
        if (storlet_write(s, buf, (size_t)n) < 0)
            storlet_fail(s, STORLET_EXIT_FAILED, "writing the output failed");
    if (n < 0)
        storlet_fail(s, STORLET_EXIT_FAILED, "reading the input failed");
    return storlet_finish(s);
}

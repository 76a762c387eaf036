/*
 * identity - the smallest storlet: copies its input to its output unchanged.
 *
 * Used to measure what the storlet machinery costs over a plain GET, and as
 * the template for new C storlets. Parameters: none. Output metadata: none.
 * Memory: none of the body: storlet_copy splices the input pipe into the
 * output pipe (or, where it cannot, copies through the SDK's 64 KiB buffer).
 */
#include "cairn_storlet.h"

#include <string.h>

int main(void)
{
    struct storlet *s = storlet_start();
    int64_t n = storlet_copy(s);
    if (n < 0)
        storlet_fail(s, STORLET_EXIT_FAILED, "copying the input to the output failed: %s",
                     strerror((int)-n));
    return storlet_finish(s);
}

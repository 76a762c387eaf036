/*
 * eng_tail.c - the bounded tail of a log stream (eng_tail.h).
 *
 * Invariant: *len <= cap on entry and on return; memory is the caller's
 * fixed buffer, so a storlet that logs without end costs nothing extra.
 *
 * Threading: no state; callable from any thread.
 */
#include "engine/eng_tail.h"

#include <string.h>

void eng_tail_keep(char *tail, size_t cap, size_t *len, const char *buf, size_t k)
{
    if (k >= cap) {
        memcpy(tail, buf + k - cap, cap);
        *len = cap;
        return;
    }
    if (*len + k > cap) {
        size_t drop = *len + k - cap;
        memmove(tail, tail + drop, *len - drop);
        *len -= drop;
    }
    memcpy(tail + *len, buf, k);
    *len += k;
}

/*
 * eng_tail.h - keeping the last bytes of a storlet's log stream, the text
 * the engine and tools/storlet-run quote as the reason a storlet failed
 * when it sent no error frame.
 *
 * Invariant: after every call, tail[0..*len) holds the last *len <= cap
 * bytes of everything appended so far, oldest first.
 *
 * Threading: no state; the caller owns the buffer.
 */
#ifndef CAIRN_ENG_TAIL_H
#define CAIRN_ENG_TAIL_H

#include <stddef.h>

/* Appends buf[0..k) to the tail buffer tail (cap bytes, *len in use),
 * dropping the oldest bytes so that at most cap remain. Never fails. */
void eng_tail_keep(char *tail, size_t cap, size_t *len, const char *buf, size_t k);

#endif

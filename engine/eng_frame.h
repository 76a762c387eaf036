/*
 * eng_frame.h - the frame layer of the storlet ABI (docs/storlets.md): a
 * frame is a 4-byte big-endian length then that many bytes of compact
 * JSON, optionally sent with one file descriptor as SCM_RIGHTS.
 *
 * Shared by the engine (eng_exec.c, eng_svc.c) and the developer runner
 * (tools/storlet-run) so that both speak the ABI byte for byte alike.
 *
 * Threading: no state; every function is safe from any thread.
 */
#ifndef CAIRN_ENG_FRAME_H
#define CAIRN_ENG_FRAME_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

/* Encodes obj (not consumed) as one frame. Returns a malloc'd buffer the
 * caller frees and stores its length in *len, or NULL (and *len untouched)
 * when jansson cannot encode obj. Aborts on out-of-memory. */
char *eng_frame_of(const json_t *obj, size_t *len);

/* One sendmsg(2) of the len bytes at f on sock with the given flags, with
 * fd attached as SCM_RIGHTS when fd >= 0, retried on EINTR. Returns what
 * sendmsg returned (bytes sent, possibly fewer than len, or -1 with errno
 * set); the caller decides what a short send means. fd stays the caller's. */
ssize_t eng_frame_sendmsg(int sock, const char *f, size_t len, int fd, int flags);

#endif

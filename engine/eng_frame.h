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
#include <stdbool.h>
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

/* Limits of a storlet's output metadata (docs/storlets.md 3.5): Swift's,
 * since the keys become response headers or stored metadata. */
#define ENG_META_KEYS_MAX 90
#define ENG_META_BYTES_MAX 4096
#define ENG_META_KEY_MAX 128
#define ENG_META_VALUE_MAX 256
#define ENG_META_CTYPE_MAX 256

/* Checks the "metadata" object and the optional "content_type" (NULL:
 * absent) of a metadata frame against the ABI: keys of 1-128 printable
 * ASCII bytes without ':', string values of at most 256 bytes without
 * control characters, at most 90 keys and 4096 bytes of keys and values,
 * a content type of at most 256 bytes without control characters. Returns
 * true, or false with why (a protocol error's text) filled in. */
bool eng_frame_meta_ok(const json_t *meta, const json_t *content_type, char *why,
                       size_t whysz);

#endif

/*
 * util.h - small helpers every module uses: checked number parsing, bounded
 * string copy, monotonic time, durable file helpers.
 *
 * Conventions: int functions return 0 or a negative errno; bool functions are
 * predicates. All functions are thread-safe.
 */
#ifndef CAIRN_UTIL_H
#define CAIRN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses a whole string as an unsigned/signed decimal integer (no sign for
 * u64, no surrounding space, no trailing junk, no overflow).
 * Returns 0, -EINVAL (not a number) or -ERANGE (overflow).
 */
int parse_u64(const char *s, uint64_t *out);
int parse_i64(const char *s, int64_t *out);
/* Like parse_u64 but for the first `len` bytes of s (not NUL-terminated). */
int parse_u64n(const char *s, size_t len, uint64_t *out);
/* Parses a finite decimal floating-point number, whole string. */
int parse_double(const char *s, double *out);

/*
 * Copies src into dst of size dstsz, always NUL-terminating when dstsz > 0.
 * Returns strlen(src); a result >= dstsz means the copy was truncated.
 */
size_t str_copy(char *dst, const char *src, size_t dstsz);

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);

/* Lower-case hex of `len` bytes into out (2*len+1 bytes). */
void hex_encode(const unsigned char *in, size_t len, char *out);

/* CLOCK_MONOTONIC in nanoseconds / CLOCK_REALTIME as seconds. */
uint64_t now_mono_ns(void);
double now_real(void);

/*
 * Writes `len` bytes to path durably and atomically: a temp file beside it,
 * fsync, rename over path, fsync of the directory. Mode 0644.
 * Returns 0 or -errno; on failure path is untouched and no temp file remains.
 */
int file_write_atomic(const char *path, const void *data, size_t len);

/* fsync(2) of the directory that contains path. Returns 0 or -errno. */
int fsync_parent_dir(const char *path);

/* mkdir -p with mode 0755. Returns 0 or -errno. */
int mkdir_p(const char *path);

#endif

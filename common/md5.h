/*
 * md5.h - MD5 for ETags and hash paths.
 *
 * A thin wrapper over OpenSSL's MD5 (assembly-optimised, no allocation), so
 * callers embed a `struct md5` on the stack or in a request and never touch
 * OpenSSL's deprecated API themselves.
 */
#ifndef CAIRN_MD5_H
#define CAIRN_MD5_H

#include <stddef.h>

#define MD5_DIGEST_LEN 16
#define MD5_HEX_LEN 33 /* 32 hex digits + NUL */

struct md5 {
    /* Large enough for OpenSSL's MD5_CTX (92 bytes); checked in md5.c. */
    unsigned long long opaque[16];
};

void md5_init(struct md5 *m);
void md5_update(struct md5 *m, const void *data, size_t len);
void md5_final(struct md5 *m, unsigned char digest[MD5_DIGEST_LEN]);
/* Finishes and writes the lower-case hex digest into hex[MD5_HEX_LEN]. */
void md5_final_hex(struct md5 *m, char hex[MD5_HEX_LEN]);
/* One-shot digest of a buffer. */
void md5_digest(const void *data, size_t len, unsigned char digest[MD5_DIGEST_LEN]);

#endif

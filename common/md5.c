/*
 * md5.c - see md5.h. OpenSSL 3 marks the low-level MD5 calls deprecated in
 * favour of EVP, whose per-context allocation costs more than hashing a
 * 60-byte ring path; they remain supported, so this one file opts in.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "common/md5.h"

#include <openssl/md5.h>

#include "common/util.h"

_Static_assert(sizeof(MD5_CTX) <= sizeof(struct md5), "struct md5 too small");

void md5_init(struct md5 *m)
{
    MD5_Init((MD5_CTX *)m);
}

void md5_update(struct md5 *m, const void *data, size_t len)
{
    MD5_Update((MD5_CTX *)m, data, len);
}

void md5_final(struct md5 *m, unsigned char digest[MD5_DIGEST_LEN])
{
    MD5_Final(digest, (MD5_CTX *)m);
}

void md5_final_hex(struct md5 *m, char hex[MD5_HEX_LEN])
{
    unsigned char d[MD5_DIGEST_LEN];
    md5_final(m, d);
    hex_encode(d, sizeof(d), hex);
}

void md5_digest(const void *data, size_t len, unsigned char digest[MD5_DIGEST_LEN])
{
    MD5((const unsigned char *)data, len, digest);
}
